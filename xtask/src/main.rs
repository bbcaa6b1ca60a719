//! `cargo xtask`: the project's own tasks, with nothing but the Rust toolchain.
//!
//! - `cargo xtask setup`: installs the wasm32-wasip2 target and builds every connector in
//!   `plugins/` (and the test connectors in `tests/plugins/`) into ready-to-load plugin
//!   folders under `target/plugins/` and `target/test-plugins/`.
//! - `cargo xtask run [ARGS]`: setup, then `tovor serve --plugins target/plugins ARGS`.
//! - `cargo xtask test [ARGS]`: setup, then the whole test suite (`cargo test --workspace`).
//! - `cargo xtask bench [ARGS]`: setup, then every benchmark and one table of their figures
//!   against the goals (`target/bench/report.json`, `report.md`).
//!
//! `run` and `test` build the `tovor` binary with its `demo` feature (`--demo`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;

const WASM_TARGET: &str = "wasm32-wasip2";

/// Connectors are built small (size-optimised, LTO, one codegen unit, stripped), in their
/// own target folder so the native release profile (benchmarks) keeps opt-level 3. The
/// same settings as `tovor_harness::SMALL_COMPONENT_PROFILE`, which xtask cannot depend
/// on without compiling the whole runtime.
const SMALL_COMPONENT_PROFILE: [(&str, &str); 4] = [
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "s"),
    ("CARGO_PROFILE_RELEASE_LTO", "true"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
    ("CARGO_PROFILE_RELEASE_STRIP", "true"),
];

/// `tovor serve --demo` needs the fake platforms, which a production build leaves out;
/// `run` and `test` both build with them, so they still share one build.
const DEMO_FEATURE: [&str; 2] = ["--features", "tovor/demo"];

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    // `cargo xtask run -- --listen ...` and `cargo xtask run --listen ...` both work.
    let rest: Vec<String> = args.skip_while(|a| a == "--").collect();
    let result = match task.as_str() {
        "setup" => setup().map(drop),
        "run" => setup().and_then(|root| run(&root, &rest)),
        "test" => setup().and_then(|root| test(&root, &rest)),
        "bench" => setup().and_then(|root| bench::bench(&root, &rest)),
        _ => {
            eprintln!("usage: cargo xtask <setup|run|test|bench> [args]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(Path::to_path_buf).unwrap_or(here)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // sccache and friends are known to hang on WASI builds.
    command.env_remove("RUSTC_WRAPPER");
    command
}

fn status(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == WASM_TARGET)
        })
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    status(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// A connector crate: its folder and package name.
struct ConnectorCrate {
    dir: PathBuf,
    package: String,
}

fn connector_crates(parent: &Path) -> Result<Vec<ConnectorCrate>, String> {
    let mut crates = Vec::new();
    let entries = std::fs::read_dir(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    for entry in entries.flatten() {
        let dir = entry.path();
        let cargo_toml = dir.join("Cargo.toml");
        if !cargo_toml.is_file() || !dir.join("plugin.toml").is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&cargo_toml).map_err(|e| e.to_string())?;
        let package = text
            .lines()
            .skip_while(|l| l.trim() != "[package]")
            .find_map(|l| {
                let (key, value) = l.split_once('=')?;
                (key.trim() == "name").then(|| value.trim().trim_matches('"').to_owned())
            })
            .ok_or_else(|| format!("{}: no package name", cargo_toml.display()))?;
        crates.push(ConnectorCrate { dir, package });
    }
    crates.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(crates)
}

/// Builds all connectors for wasm32-wasip2 in one cargo invocation and lays each out as
/// a plugin folder (`plugin.toml` + `plugin.wasm`).
fn setup() -> Result<PathBuf, String> {
    let root = workspace_root();
    ensure_wasm_target()?;
    let groups = [
        (root.join("plugins"), root.join("target/plugins")),
        (root.join("tests/plugins"), root.join("target/test-plugins")),
    ];
    let mut all = Vec::new();
    for (source, out) in &groups {
        for krate in connector_crates(source)? {
            all.push((krate, out.clone()));
        }
    }
    let wasm_target_dir = root.join("target/wasm-build");
    let mut build = cargo();
    build
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &wasm_target_dir)
        .envs(SMALL_COMPONENT_PROFILE)
        .args(["build", "--release", "--target", WASM_TARGET]);
    for (krate, _) in &all {
        build.args(["-p", &krate.package]);
    }
    status(&mut build)?;
    for (krate, out) in &all {
        let wasm = wasm_target_dir
            .join(WASM_TARGET)
            .join("release")
            .join(format!("{}.wasm", krate.package.replace('-', "_")));
        let folder = out.join(
            krate
                .dir
                .file_name()
                .ok_or_else(|| format!("{}: no folder name", krate.dir.display()))?,
        );
        std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        copy(&krate.dir.join("plugin.toml"), &folder.join("plugin.toml"))?;
        copy(&wasm, &folder.join("plugin.wasm"))?;
    }
    eprintln!(
        "xtask: {} connectors built into target/plugins and target/test-plugins",
        all.len()
    );
    Ok(root)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    // Skip identical files so a running `tovor serve` watching the folder is not poked
    // for nothing.
    if let (Ok(a), Ok(b)) = (std::fs::read(from), std::fs::read(to))
        && a == b
    {
        return Ok(());
    }
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

fn run(root: &Path, args: &[String]) -> Result<(), String> {
    // Build exactly what `cargo xtask test` builds: cargo unifies features over what one
    // command compiles, so `cargo run -p tovor` would compile wasmtime a second time with
    // a slightly different feature set. This way `run` and `test` share every artefact.
    status(
        cargo()
            .current_dir(root)
            .args(["test", "--workspace", "--no-run", "--quiet"])
            .args(DEMO_FEATURE),
    )?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let binary = target_dir
        .join("debug")
        .join(format!("tovor{}", std::env::consts::EXE_SUFFIX));
    status(
        Command::new(binary)
            .current_dir(root)
            .args(["serve", "--plugins"])
            .arg(root.join("target/plugins"))
            .args(args),
    )
}

fn test(root: &Path, args: &[String]) -> Result<(), String> {
    status(
        cargo()
            .current_dir(root)
            .args(["test", "--workspace"])
            .args(DEMO_FEATURE)
            .args(args),
    )
}
