#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `tovor plugin new` makes connector crates (shop and carrier) whose own `cargo test`
//! passes as generated.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The tovor checkout (`host/cli/../..`).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// What the `cargo test` running us set for itself, and must not leak into the nested
/// cargo (it would make the nested builds differ from run to run, or fight over jobs).
const LEAKY_ENV: &[&str] = &[
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_MAKEFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_DIR",
    "CARGO_TARGET_TMPDIR",
    "RUSTC_WRAPPER",
    "RUSTFLAGS",
];

fn tovor(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tovor"))
        .args(args)
        .output()
        .expect("run tovor")
}

/// Generates `demo-shop` and `demo-carrier` side by side outside the workspace's members
/// and runs `cargo test` in each, one after the other: the unit tests of the template's
/// mapping, then its harness tests, which build the component for wasm32-wasip2 and run
/// it in the host's runtime against wiremock.
///
/// SLOWER THAN THE REST: each generated crate is a workspace of its own, so its test
/// build compiles the host runtime and harness again (optimised, as dependencies). They
/// build into the workspace's own `target/` (the nested cargo's `CARGO_TARGET_DIR`, and
/// the harness's wasm build through `build.target-dir` in
/// `target/scaffold-test/.cargo/config.toml`) with the workspace's `Cargo.lock` copied in,
/// so the registry crates the workspace already compiled (wasmtime above all) are reused
/// and nothing new is downloaded; the second crate reuses everything the first built but
/// itself. (Cargo does not hold the build folder's lock while the outer `cargo test` runs
/// tests, so the nested builds do not wait for it.)
#[test]
fn generated_connectors_pass_their_own_tests() {
    let workspace = workspace();
    let shared_target = workspace.join("target");
    let parent = workspace.join("target/scaffold-test");
    std::fs::create_dir_all(parent.join(".cargo")).unwrap();
    // The harness asks `cargo metadata` (without CARGO_TARGET_DIR) where to build the
    // component; this makes it the shared folder too, for crates generated below here.
    std::fs::write(
        parent.join(".cargo/config.toml"),
        format!(
            "# Written by host/cli/tests/scaffold.rs: one build folder for every run.\n\
             [build]\ntarget-dir = {}\n",
            toml_string(&shared_target)
        ),
    )
    .unwrap();
    let run_dir = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&parent)
        .unwrap();
    let shop = generate(&workspace, run_dir.path(), "demo-shop", "shop");
    let carrier = generate(&workspace, run_dir.path(), "demo-carrier", "carrier");

    let runs: [(&Path, &[&str]); 2] = [
        (
            shop.as_path(),
            &[
                "loads_with_the_capabilities_it_exports",
                "fetches_and_maps_one_order",
                "maps_the_sample_order",
            ],
        ),
        (
            carrier.as_path(),
            &[
                "loads_with_the_capabilities_it_exports",
                "creates_a_shipment_and_gets_its_label",
                "tracks_several_parcels_in_one_call",
                "cancels_until_the_carrier_has_the_parcel",
                "finds_a_lost_shipment_by_its_reference",
                "searches_pickup_points",
                "checks_the_credentials",
                "maps_a_shipment_with_cash_on_delivery_to_a_pickup_point",
                "maps_tracking_events_oldest_first",
            ],
        ),
    ];
    for (crate_dir, tests) in runs {
        let started = std::time::Instant::now();
        let output = cargo_test(crate_dir, &shared_target);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprintln!(
            "cargo test in {} took {:.0?}",
            crate_dir.display(),
            started.elapsed()
        );
        if !output.status.success() {
            // Keep the crates to look at.
            let kept = run_dir.keep();
            panic!(
                "cargo test failed in the generated crate {} (kept in {}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
                crate_dir.display(),
                kept.display()
            );
        }
        for test in tests {
            assert!(
                stdout.contains(&format!("{test} ... ok")),
                "{test} did not run in {}:\n{stdout}",
                crate_dir.display()
            );
        }
    }
}

/// Runs `tovor plugin new NAME --kind KIND` into `dir` and checks the crate stands
/// alone on the checkout's SDK, with the workspace's dependency versions.
fn generate(workspace: &Path, dir: &Path, name: &str, kind: &str) -> PathBuf {
    let output = tovor(&[
        "plugin",
        "new",
        name,
        "--kind",
        kind,
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "tovor plugin new {name} --kind {kind} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("created the {kind} connector {name}")),
        "{stdout}"
    );
    let crate_dir = dir.join(name);
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("[workspace]"),
        "outside the workspace's members the crate stands alone:\n{manifest}"
    );
    assert!(
        manifest.contains(&toml_string(&workspace.join("sdk"))),
        "{manifest}"
    );
    // The same dependency versions as the workspace: nothing new to resolve or download.
    std::fs::copy(workspace.join("Cargo.lock"), crate_dir.join("Cargo.lock")).unwrap();
    crate_dir
}

/// `cargo test` in a generated crate, building into `target_dir`.
fn cargo_test(crate_dir: &Path, target_dir: &Path) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(crate_dir)
        .args(["test", "--color", "never"])
        .env("CARGO_TARGET_DIR", target_dir);
    for var in LEAKY_ENV {
        if *var != "CARGO_TARGET_DIR" {
            command.env_remove(var);
        }
    }
    command.output().expect("run cargo test")
}

#[test]
fn refuses_bad_names_and_taken_folders() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();

    let output = tovor(&["plugin", "new", "Demo_Shop", "--dir", dir_arg]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: \"Demo_Shop\" is not a valid plugin id"),
        "{stderr}"
    );

    std::fs::create_dir(dir.path().join("taken")).unwrap();
    std::fs::write(dir.path().join("taken/notes.txt"), "mine").unwrap();
    let output = tovor(&["plugin", "new", "taken", "--dir", dir_arg]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not empty"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("taken/notes.txt")).unwrap(),
        "mine"
    );
}

fn toml_string(path: &Path) -> String {
    let text = path.to_str().unwrap();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
