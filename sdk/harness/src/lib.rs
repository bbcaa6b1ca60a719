//! Test a tovor connector from an ordinary `cargo test`.
//!
//! The harness builds your connector crate for `wasm32-wasip2`, loads it with its
//! `plugin.toml` into the real sandboxed runtime the host uses (same limits, same egress
//! checks), and lets you call it while a local mock server (re-exported [`wiremock`])
//! plays the platform's API with request expectations.
//!
//! ```no_run
//! use tovor_harness::wiremock::matchers::{header, method, path};
//! use tovor_harness::wiremock::{Mock, MockServer, ResponseTemplate};
//! use tovor_harness::TestHost;
//!
//! #[tokio::test]
//! async fn fetches_one_order() -> anyhow::Result<()> {
//!     let platform = MockServer::start().await;
//!     Mock::given(method("GET"))
//!         .and(path("/api/v1/orders/1042"))
//!         .and(header("authorization", "Bearer t0ken"))
//!         .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({ /* ... */ })))
//!         .expect(1)
//!         .mount(&platform)
//!         .await;
//!
//!     let host = TestHost::new()?;
//!     let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
//!     let shop = host.shop(plugin.id(), [
//!         ("shop_url", platform.uri().as_str()),
//!         ("api_token", "t0ken"),
//!     ])?;
//!     let order = shop.get_order("1042").await?;
//!     assert_eq!(order.number, "1042");
//!     Ok(())
//! }
//! ```
//!
//! Mock servers listen on 127.0.0.1, which the host refuses by default; the test host
//! runs with private egress allowed, exactly like `tovor serve --allow-private-egress`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, bail};
use tovor_runtime::{COMPONENT_FILE, CallContext, LoadedPlugin, MANIFEST_FILE, Runtime};

pub use rust_decimal::Decimal;
pub use time::macros::datetime;
pub use tovor_runtime::{
    CallError, CarrierClient, ConnectorError, ErrorKind, LoadError, RuntimeOptions, ShopClient,
    model,
};
pub use wiremock;

const WASM_TARGET: &str = "wasm32-wasip2";

/// The release profile connectors are built with, whatever the crate's workspace says:
/// optimised for size, one codegen unit, link-time optimisation, no symbols. A component
/// is loaded, compiled and cached by every host that installs it, so bytes count more
/// than the last percent of speed. Set through the environment so it applies to crates
/// outside this repository too, and only to their wasm build (its own target folder).
pub const SMALL_COMPONENT_PROFILE: [(&str, &str); 4] = [
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "s"),
    ("CARGO_PROFILE_RELEASE_LTO", "true"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
    ("CARGO_PROFILE_RELEASE_STRIP", "true"),
];

/// A plugin folder produced by [`build_plugin`]: `plugin.toml` and `plugin.wasm`.
#[derive(Debug, Clone)]
pub struct BuiltPlugin {
    pub dir: PathBuf,
    pub wasm: PathBuf,
}

/// The connector's own error inside a failed call. Any other failure (a trap, a sandbox
/// limit, a plugin that did not load) fails the test, naming it.
pub fn connector_error(error: CallError) -> ConnectorError {
    match error {
        CallError::Connector { error, .. } => error,
        other => panic!("expected a connector error, got {other:?}"),
    }
}

/// Every order `client` lists as changed since `since`, page after page, and the number
/// of pages. Fails the test when a call or an order fails, or the paging does not end
/// within 100 pages (a cursor that never moves on).
pub async fn list_all_orders(
    client: &ShopClient,
    since: time::OffsetDateTime,
) -> (Vec<model::NormalizedOrder>, usize) {
    let mut orders = Vec::new();
    let mut cursor: Option<String> = None;
    for pages in 1..=100 {
        let page = match client.list_orders(since, cursor.as_deref()).await {
            Ok(page) => page,
            Err(error) => panic!("list-orders failed on page {pages}: {error}"),
        };
        for listed in page.orders {
            match listed.order {
                Ok(order) => orders.push(order),
                Err(error) => panic!("order {} did not convert: {error}", listed.id),
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return (orders, pages),
        }
    }
    panic!("the listing did not end within 100 pages");
}

/// Fails the test, naming every problem, unless `order` passes the checks the host runs
/// before it imports an order: complete, and adding up line by line and in total (with a
/// cent of rounding per part, as platforms round each part on their own). An order a
/// connector returns that fails here is refused by the host.
pub fn assert_importable(order: &tovor_runtime::model::NormalizedOrder) {
    if let Err(problems) = tovor_domain::order::validate(order) {
        let problems: Vec<String> = problems
            .iter()
            .map(|problem| format!("  {problem}"))
            .collect();
        panic!(
            "the host would refuse order {} ({}):\n{}",
            order.number,
            order.id,
            problems.join("\n")
        );
    }
}

/// Builds the connector crate in `crate_dir` for `wasm32-wasip2` (release) and lays it
/// out as a plugin folder. Each crate is built once per test process; cargo's own
/// up-to-date check makes repeated runs cheap.
pub fn build_plugin(crate_dir: impl AsRef<Path>) -> anyhow::Result<BuiltPlugin> {
    static BUILT: OnceLock<Mutex<HashMap<PathBuf, BuiltPlugin>>> = OnceLock::new();
    let crate_dir = crate_dir
        .as_ref()
        .canonicalize()
        .with_context(|| format!("connector crate {}", crate_dir.as_ref().display()))?;
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(plugin) = built.get(&crate_dir) {
        return Ok(plugin.clone());
    }
    let plugin = build_uncached(&crate_dir)?;
    built.insert(crate_dir, plugin.clone());
    Ok(plugin)
}

fn build_uncached(crate_dir: &Path) -> anyhow::Result<BuiltPlugin> {
    let manifest = crate_dir.join(MANIFEST_FILE);
    anyhow::ensure!(
        manifest.is_file(),
        "{} has no {MANIFEST_FILE}: a connector crate keeps its manifest next to Cargo.toml",
        crate_dir.display()
    );
    // A separate target folder: the `cargo test` that runs us may still hold the lock of
    // the main one, and wasm artefacts never mix with native ones anyway.
    let target_dir = workspace_target_dir(crate_dir)?.join("wasm-build");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(crate_dir)
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .envs(SMALL_COMPONENT_PROFILE);
    // What the outer `cargo test` set for itself must not leak into the wasm build.
    for var in [
        "RUSTC_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "RUSTFLAGS",
    ] {
        command.env_remove(var);
    }
    let output = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot run cargo to build the connector")?;
    if !output.status.success() {
        bail!(
            "building {} for {WASM_TARGET} failed (is the target installed? `rustup target add {WASM_TARGET}`)",
            crate_dir.display()
        );
    }
    let wasm = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact")
        .filter(|msg| {
            msg["manifest_path"]
                .as_str()
                .is_some_and(|p| Path::new(p) == crate_dir.join("Cargo.toml"))
        })
        .flat_map(|msg| {
            msg["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
        })
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        .with_context(|| {
            format!(
                "cargo built {} but produced no .wasm: is `crate-type = [\"cdylib\"]` set?",
                crate_dir.display()
            )
        })?;
    let name = crate_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("plugin");
    let dir = target_dir.join("plugins").join(name);
    std::fs::create_dir_all(&dir)?;
    std::fs::copy(&manifest, dir.join(MANIFEST_FILE))?;
    let installed = dir.join(COMPONENT_FILE);
    std::fs::copy(&wasm, &installed)?;
    Ok(BuiltPlugin {
        dir,
        wasm: installed,
    })
}

fn workspace_target_dir(crate_dir: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(crate_dir)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .context("cannot run cargo metadata")?;
    anyhow::ensure!(
        output.status.success(),
        "cargo metadata failed in {}",
        crate_dir.display()
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata gave no target_directory")
}

/// A sandboxed runtime for tests, set up like `tovor serve --allow-private-egress`.
pub struct TestHost {
    runtime: Runtime,
}

impl TestHost {
    /// A runtime with default limits and private egress allowed (mock servers listen on
    /// 127.0.0.1). Also turns on log output for the test (`RUST_LOG` to filter).
    pub fn new() -> anyhow::Result<Self> {
        Self::with_options(RuntimeOptions {
            allow_private_egress: true,
            ..RuntimeOptions::default()
        })
    }

    /// A runtime with the given options.
    pub fn with_options(options: RuntimeOptions) -> anyhow::Result<Self> {
        init_test_logging();
        Ok(Self {
            runtime: Runtime::new(options)?,
        })
    }

    /// The runtime underneath, for anything the helpers here do not cover.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Builds the connector crate in `crate_dir` and loads it.
    pub async fn load_crate(
        &self,
        crate_dir: impl AsRef<Path>,
    ) -> anyhow::Result<Arc<LoadedPlugin>> {
        let built = build_plugin(crate_dir)?;
        self.load_dir(&built.dir).await
    }

    /// A new test host with the shop connector crate in `crate_dir` built and loaded, and
    /// a client for it with `config` (and connector state, as the service keeps per shop).
    pub async fn with_shop_crate<K, V>(
        crate_dir: impl AsRef<Path>,
        config: impl IntoIterator<Item = (K, V)>,
    ) -> anyhow::Result<(Self, ShopClient)>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let host = Self::new()?;
        let plugin = host.load_crate(crate_dir).await?;
        let client = host.shop(plugin.id(), config)?;
        Ok((host, client))
    }

    /// Loads an already built plugin folder (`plugin.toml` + `plugin.wasm`).
    pub async fn load_dir(&self, dir: &Path) -> anyhow::Result<Arc<LoadedPlugin>> {
        Ok(self.runtime.load_plugin_dir(dir).await?)
    }

    /// A client for a shop plugin with the given configuration.
    pub fn shop<K, V>(
        &self,
        plugin_id: &str,
        config: impl IntoIterator<Item = (K, V)>,
    ) -> Result<ShopClient, CallError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.runtime.shop(plugin_id, test_context(config))
    }

    /// A client for a carrier plugin with the given configuration.
    pub fn carrier<K, V>(
        &self,
        plugin_id: &str,
        config: impl IntoIterator<Item = (K, V)>,
    ) -> Result<CarrierClient, CallError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.runtime.carrier(plugin_id, test_context(config))
    }
}

fn to_config<K: Into<String>, V: Into<String>>(
    config: impl IntoIterator<Item = (K, V)>,
) -> BTreeMap<String, String> {
    config
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

fn init_test_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

/// The context of every client the test host gives: one test account whose connector
/// state lives in memory as long as the test host, so a connector's cached ids and
/// tokens carry from one call to the next as they do in the service.
fn test_context<K: Into<String>, V: Into<String>>(
    config: impl IntoIterator<Item = (K, V)>,
) -> CallContext {
    CallContext::new("test", to_config(config)).with_state("test-owner", "test")
}
