#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `tovor plugin new` makes connector crates (shop and carrier) whose own `cargo test`
//! passes as generated.

use std::collections::{BTreeMap, BTreeSet};
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
/// Each generated crate is a workspace of its own, so its test build would compile the
/// host runtime and wasmtime again (minutes). It builds into the workspace's own
/// `target/` instead (the nested cargo's `CARGO_TARGET_DIR`, and the harness's wasm build
/// through `build.target-dir` in `target/scaffold-test/.cargo/config.toml`), with the
/// workspace's `Cargo.lock` copied in, and with [`pin_to_workspace_features`]: then every
/// registry crate is the very build the workspace already made, and only the generated
/// crate and the host's own small crates compile. (Cargo does not hold the build folder's
/// lock while the outer `cargo test` runs tests, so the nested builds do not wait for it.)
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
    if let Some(features) = workspace_features(&workspace) {
        for crate_dir in [&shop, &carrier] {
            pin_to_workspace_features(crate_dir, &features);
        }
    }

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

/// A registry package (name, version), and whether a unit of it is built for a build
/// script or proc-macro (`host`) or for the test binaries (`target`).
type UnitKey = (bool, String, String);

/// The features the workspace's own test build (`cargo xtask test`) compiles each
/// registry package with, for build scripts and proc-macros apart from the rest, read
/// from cargo's unit graph. `None` when cargo cannot say (the unit graph is unstable
/// output, asked for with `RUSTC_BOOTSTRAP`): the generated crates then build slower, but
/// exactly as generated.
fn workspace_features(workspace: &Path) -> Option<BTreeMap<UnitKey, BTreeSet<String>>> {
    let units = unit_graph(workspace, &["--workspace", "--features", "tovor/demo"])?;
    Some(features_by_kind(&units))
}

fn unit_graph(dir: &Path, args: &[&str]) -> Option<serde_json::Value> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(dir)
        .args(["test", "--no-run", "--unit-graph", "-Z", "unstable-options"])
        .args(args)
        .env("RUSTC_BOOTSTRAP", "1");
    for var in LEAKY_ENV {
        command.env_remove(var);
    }
    let output = command.output().ok()?;
    if !output.status.success() {
        eprintln!(
            "no unit graph in {}, the generated crates build unpinned:\n{}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    serde_json::from_slice(&output.stdout).ok()
}

/// Registry packages by kind with the union of their units' features. A unit reached
/// from a build script or a proc-macro is built for the host, one reached from the
/// graph's roots without passing one is built for the target; cargo shares one unit
/// between both when their features agree, so a unit can be both.
fn features_by_kind(graph: &serde_json::Value) -> BTreeMap<UnitKey, BTreeSet<String>> {
    let units = graph["units"].as_array().cloned().unwrap_or_default();
    let kinds = |unit: &serde_json::Value| -> Vec<String> {
        unit["target"]["kind"]
            .as_array()
            .map(|kinds| {
                kinds
                    .iter()
                    .filter_map(|k| k.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let deps = |unit: &serde_json::Value| -> Vec<usize> {
        unit["dependencies"]
            .as_array()
            .map(|deps| {
                deps.iter()
                    .filter_map(|d| d["index"].as_u64().map(|i| i as usize))
                    .collect()
            })
            .unwrap_or_default()
    };
    let is_proc_macro = |unit: &serde_json::Value| kinds(unit).iter().any(|k| k == "proc-macro");
    let is_host_root = |unit: &serde_json::Value| {
        is_proc_macro(unit)
            || (kinds(unit).iter().any(|k| k == "custom-build") && unit["mode"] == "build")
    };
    let reach = |mut stack: Vec<usize>, stop_at_host_roots: bool| -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        while let Some(index) = stack.pop() {
            let unit = &units[index];
            if (stop_at_host_roots && is_host_root(unit)) || !seen.insert(index) {
                continue;
            }
            stack.extend(deps(unit));
        }
        seen
    };
    let roots = graph["roots"]
        .as_array()
        .map(|roots| {
            roots
                .iter()
                .filter_map(|r| r.as_u64().map(|i| i as usize))
                .collect()
        })
        .unwrap_or_default();
    let target = reach(roots, true);
    let mut host_roots = Vec::new();
    for (index, unit) in units.iter().enumerate() {
        if is_proc_macro(unit) {
            host_roots.push(index);
        } else if is_host_root(unit) {
            host_roots.extend(deps(unit));
        }
    }
    let host = reach(host_roots, false);

    let mut features: BTreeMap<UnitKey, BTreeSet<String>> = BTreeMap::new();
    for (index, unit) in units.iter().enumerate() {
        let Some((name, version)) = registry_package(unit) else {
            continue;
        };
        let is_library = kinds(unit)
            .iter()
            .any(|k| k == "lib" || k == "rlib" || k == "proc-macro");
        if unit["mode"] != "build" || !is_library {
            continue;
        }
        let unit_features: BTreeSet<String> = unit["features"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(|f| f.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for (for_host, set) in [(true, &host), (false, &target)] {
            if set.contains(&index) {
                features
                    .entry((for_host, name.clone(), version.clone()))
                    .or_default()
                    .extend(unit_features.iter().cloned());
            }
        }
    }
    features
}

/// `registry+https://…#serde@1.0.229` → (`serde`, `1.0.229`).
fn registry_package(unit: &serde_json::Value) -> Option<(String, String)> {
    let id = unit["pkg_id"].as_str()?;
    let (source, package) = id.split_once('#')?;
    if !source.starts_with("registry+") {
        return None;
    }
    let (name, version) = package.rsplit_once('@')?;
    Some((name.to_owned(), version.to_owned()))
}

/// Adds dependencies to the generated crate that ask for exactly the features the
/// workspace built each of its registry packages with (dev-dependencies for the target,
/// build-dependencies, with an empty build script, for the host): cargo unifies them
/// with the crate's own, so every unit's hash matches the workspace's build. Pinning a
/// package can bring in another (an optional dependency turned on), so it repeats until
/// the crate's set of packages stays the same. The crate's code and tests are untouched.
fn pin_to_workspace_features(crate_dir: &Path, workspace: &BTreeMap<UnitKey, BTreeSet<String>>) {
    let generated = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let mut packages = BTreeSet::new();
    for _ in 0..4 {
        let Some(graph) = unit_graph(crate_dir, &[]) else {
            std::fs::write(crate_dir.join("Cargo.toml"), &generated).unwrap();
            return;
        };
        let now: BTreeSet<(String, String)> = graph["units"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(registry_package)
            .collect();
        if now == packages {
            return;
        }
        packages.extend(now);
        let pinned = with_pins(&generated, workspace, &packages);
        std::fs::write(crate_dir.join("Cargo.toml"), pinned).unwrap();
        std::fs::write(crate_dir.join("build.rs"), "fn main() {}\n").unwrap();
    }
}

fn with_pins(
    manifest: &str,
    workspace: &BTreeMap<UnitKey, BTreeSet<String>>,
    packages: &BTreeSet<(String, String)>,
) -> String {
    let mut manifest: toml::Table = toml::from_str(manifest).unwrap();
    let direct: BTreeSet<String> = ["dependencies", "dev-dependencies"]
        .iter()
        .filter_map(|section| manifest.get(*section)?.as_table())
        .flat_map(|table| table.keys().cloned())
        .collect();
    manifest
        .get_mut("package")
        .and_then(toml::Value::as_table_mut)
        .unwrap()
        .insert("build".into(), "build.rs".into());
    for ((for_host, name, version), features) in workspace {
        if !packages.contains(&(name.clone(), version.clone())) {
            continue;
        }
        let mut spec = toml::Table::new();
        spec.insert("version".into(), format!("={version}").into());
        spec.insert(
            "default-features".into(),
            features.contains("default").into(),
        );
        spec.insert(
            "features".into(),
            features
                .iter()
                .filter(|f| *f != "default")
                .map(|f| toml::Value::from(f.as_str()))
                .collect::<Vec<_>>()
                .into(),
        );
        // A package the crate names itself keeps its name (cargo refuses one package
        // under two names); any other gets a name of its own, per version.
        let key = if direct.contains(name) {
            name.clone()
        } else {
            spec.insert("package".into(), name.as_str().into());
            format!("pin-{name}-{}", version.replace(['.', '+'], "-"))
        };
        let section = if *for_host {
            "build-dependencies"
        } else {
            "dev-dependencies"
        };
        let table = manifest
            .entry(section)
            .or_insert_with(|| toml::Table::new().into())
            .as_table_mut()
            .unwrap();
        table.insert(key, spec.into());
    }
    toml::to_string(&manifest).unwrap()
}

fn toml_string(path: &Path) -> String {
    let text = path.to_str().unwrap();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
