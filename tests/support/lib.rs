//! Shared helpers of the end-to-end tests: the test connectors and plugin folders made
//! from them.

/// Runs each named `async fn(Db)` as two tests, `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::service::Db::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if !$crate::service::postgres_ready() {
                        return;
                    }
                    super::$name($crate::service::Db::Postgres).await;
                }
            }
        )*
    };
}

pub mod minishop;
pub mod service;

use std::path::{Path, PathBuf};

use tovor_harness::{BuiltPlugin, build_plugin};

/// The workspace root.
pub fn workspace() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// The sandbox probe (`tests/plugins/probe`), built.
pub fn probe() -> anyhow::Result<BuiltPlugin> {
    build_plugin(workspace().join("tests/plugins/probe"))
}

/// The example connector of the guide (`plugins/example-shop`), built.
pub fn example_shop() -> anyhow::Result<BuiltPlugin> {
    build_plugin(workspace().join("plugins/example-shop"))
}

/// A bundled connector (`plugins/<name>`), built.
pub fn connector(name: &str) -> anyhow::Result<BuiltPlugin> {
    build_plugin(workspace().join("plugins").join(name))
}

/// Writes a plugin folder `parent/name` holding `wasm` and the built plugin's manifest
/// passed through `edit`, so one component can be loaded under many manifests.
pub fn plugin_folder(
    parent: &Path,
    name: &str,
    built: &BuiltPlugin,
    edit: impl FnOnce(String) -> String,
) -> anyhow::Result<PathBuf> {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir)?;
    let manifest = std::fs::read_to_string(built.dir.join("plugin.toml"))?;
    std::fs::write(dir.join("plugin.toml"), edit(manifest))?;
    std::fs::copy(&built.wasm, dir.join("plugin.wasm"))?;
    Ok(dir)
}

/// Replaces the first `from` in a manifest with `to`, failing loudly if it is not there
/// (so a changed fixture cannot silently make a test meaningless).
pub fn replace(manifest: String, from: &str, to: &str) -> String {
    assert!(
        manifest.contains(from),
        "manifest has no {from:?}:\n{manifest}"
    );
    manifest.replacen(from, to, 1)
}

/// Rewrites the `version` of the plugin in `dir` from 0.1.0 to `to`, in place.
pub fn set_version(dir: &Path, to: &str) -> anyhow::Result<()> {
    let path = dir.join("plugin.toml");
    let manifest = std::fs::read_to_string(&path)?;
    let bumped = replace(
        manifest,
        r#"version = "0.1.0""#,
        &format!("version = \"{to}\""),
    );
    std::fs::write(path, bumped)?;
    Ok(())
}

/// The example connector as it was on contract 0.1 (`tests/plugins/example-shop-v01`),
/// built: loaded beside its 0.2 twin, it proves older components keep working.
pub fn example_shop_v01() -> anyhow::Result<BuiltPlugin> {
    build_plugin(workspace().join("tests/plugins/example-shop-v01"))
}

/// The example connector as SDK 0.2.0 built it (`tests/fixtures/example-shop-0.2.0`,
/// id `example-shop-020`): a component importing and exporting `@0.2.0` interfaces, kept
/// as built so the host's 0.2.1 bindings are shown to load and run it.
pub fn example_shop_v020() -> BuiltPlugin {
    let dir = workspace().join("tests/fixtures/example-shop-0.2.0");
    BuiltPlugin {
        wasm: dir.join("plugin.wasm"),
        dir,
    }
}

/// The connector-state test connector (`tests/plugins/oauth-probe`), built.
pub fn oauth_probe() -> anyhow::Result<BuiltPlugin> {
    build_plugin(workspace().join("tests/plugins/oauth-probe"))
}

/// Whether the command-line tool `name` (`pdftoppm`, `zbarimg`) can be run. A missing one
/// skips the check that needs it, saying so once per call, so `cargo xtask test` passes
/// on a machine with only the Rust toolchain; `TOVOR_REQUIRE_TOOLS=1` (set by CI, which
/// installs them with `.ci/tools`) makes a missing tool fail instead.
pub fn tool_available(name: &str) -> bool {
    let found = std::process::Command::new(name)
        .arg("--help")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    let required =
        std::env::var("TOVOR_REQUIRE_TOOLS").is_ok_and(|value| !value.is_empty() && value != "0");
    assert!(
        found || !required,
        "{name} is not installed and TOVOR_REQUIRE_TOOLS is set (run .ci/tools)"
    );
    if !found {
        eprintln!(
            "skipped: {name} is not installed (poppler-utils / zbar-tools); \
             TOVOR_REQUIRE_TOOLS=1 makes this fail"
        );
    }
    found
}
