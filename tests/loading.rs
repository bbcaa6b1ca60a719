//! Loading, refusing and hot-swapping plugins.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tovor_harness::TestHost;
use tovor_runtime::{LoadError, Runtime};
use tovor_tests::{plugin_folder, probe, replace, set_version};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn load_error(
    edit_manifest: impl FnOnce(String) -> String,
    wasm: Option<&[u8]>,
) -> LoadError {
    let host = TestHost::new().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let dir = plugin_folder(plugins.path(), "probe", &probe().unwrap(), edit_manifest).unwrap();
    if let Some(bytes) = wasm {
        std::fs::write(dir.join("plugin.wasm"), bytes).unwrap();
    }
    let error = host.load_dir(&dir).await.unwrap_err();
    assert!(host.runtime().plugin("probe").is_none());
    let failures = host.runtime().load_failures();
    assert_eq!(failures.len(), 1, "the failure is remembered for operators");
    error.downcast::<LoadError>().unwrap()
}

#[tokio::test]
async fn corrupt_wasm_is_refused() {
    let error = load_error(|m| m, Some(b"\0asm this is not a component at all")).await;
    assert!(matches!(error, LoadError::InvalidWasm { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("not a valid WebAssembly component"),
        "{message}"
    );
}

#[tokio::test]
async fn core_module_instead_of_component_is_refused() {
    // The smallest valid core module: magic and version 1.
    let error = load_error(|m| m, Some(b"\0asm\x01\0\0\0")).await;
    assert!(matches!(error, LoadError::InvalidWasm { .. }), "{error:?}");
}

#[tokio::test]
async fn component_of_the_wrong_world_is_refused() {
    let error = load_error(
        |m| replace(m, r#"kind = "shop""#, r#"kind = "carrier""#),
        None,
    )
    .await;
    match &error {
        LoadError::WorldMismatch { plugin, .. } => assert_eq!(plugin, "probe"),
        other => panic!("expected WorldMismatch, got {other:?}"),
    }
    assert!(
        error
            .to_string()
            .contains("does not export the carrier world"),
        "{error}"
    );
}

#[tokio::test]
async fn bad_manifest_is_refused_with_the_offending_key() {
    let error = load_error(
        |m| replace(m, "[limits]", "[limits]\nmemroy_mib = 10"),
        None,
    )
    .await;
    assert!(matches!(error, LoadError::Manifest { .. }), "{error:?}");
    assert!(error.to_string().contains("memroy_mib"), "{error}");
}

#[tokio::test]
async fn a_manifest_stating_another_contract_than_its_component_is_refused() {
    let error = load_error(
        |m| replace(m, r#"contract = "0.1.0""#, r#"contract = "0.7.0""#),
        None,
    )
    .await;
    assert!(
        matches!(error, LoadError::ContractMismatch { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("0.7.0") && message.contains("0.1.0"),
        "names both: {message}"
    );
}

#[tokio::test]
async fn one_broken_plugin_does_not_stop_the_others_loading() {
    let runtime = Runtime::new(Default::default()).unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let built = probe().unwrap();
    plugin_folder(plugins.path(), "good", &built, |m| m).unwrap();
    let broken = plugin_folder(plugins.path(), "broken", &built, |m| {
        replace(m, r#"id = "probe""#, r#"id = "broken""#)
    })
    .unwrap();
    std::fs::write(broken.join("plugin.wasm"), b"garbage").unwrap();
    let report = runtime.load_dir(plugins.path()).await.unwrap();
    assert_eq!(report.loaded, vec!["probe".to_string()]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, broken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_a_plugin_lets_calls_in_flight_finish_on_the_old_version() {
    let slow = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("old version answered")
                .set_delay(Duration::from_millis(600)),
        )
        .mount(&slow)
        .await;
    let host = TestHost::new().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let dir = plugin_folder(plugins.path(), "probe", &probe().unwrap(), |m| m).unwrap();
    host.load_dir(&dir).await.unwrap();

    let config = [("target", slow.uri())];
    let in_flight_client = host.shop("probe", config.clone()).unwrap();
    let in_flight = tokio::spawn(async move { in_flight_client.get_order("fetch").await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!in_flight.is_finished());

    // Swap in a different component under the same id: the example connector (its
    // contract 0.1 build, which the probe's manifest describes).
    let before = host.runtime().plugin("probe").unwrap().wasm_sha256.clone();
    let example = tovor_tests::example_shop_v01().unwrap();
    std::fs::copy(&example.wasm, dir.join("plugin.wasm")).unwrap();
    set_version(&dir, "0.2.0").unwrap();
    let swapped = host.runtime().reload("probe").await.unwrap();
    assert_eq!(swapped.manifest.plugin.version.to_string(), "0.2.0");

    let old = in_flight.await.unwrap().unwrap();
    assert_eq!(old.customer_note.as_deref(), Some("old version answered"));

    let new = host.shop("probe", config).unwrap();
    assert_eq!(new.plugin().manifest.plugin.version.to_string(), "0.2.0");
    assert_eq!(new.plugin().wasm_sha256, swapped.wasm_sha256);
    assert_ne!(swapped.wasm_sha256, before);
}

#[tokio::test]
async fn a_broken_new_version_leaves_the_old_one_serving() {
    let host = TestHost::new().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let dir = plugin_folder(plugins.path(), "probe", &probe().unwrap(), |m| m).unwrap();
    let original = host.load_dir(&dir).await.unwrap();

    std::fs::write(dir.join("plugin.wasm"), b"\0asm broken upload").unwrap();
    let error = host.runtime().reload("probe").await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("not a valid WebAssembly component"),
        "{error}"
    );

    let serving = host.runtime().plugin("probe").unwrap();
    assert_eq!(serving.wasm_sha256, original.wasm_sha256);
    let order = host
        .shop("probe", [("target", "http://127.0.0.1:9/")])
        .unwrap()
        .get_order("ok")
        .await
        .unwrap();
    assert_eq!(order.number, "1");
    assert_eq!(host.runtime().load_failures().len(), 1);
}

#[tokio::test]
async fn the_watcher_picks_up_new_changed_and_removed_plugins() {
    let host = TestHost::new().unwrap();
    let runtime = host.runtime().clone();
    let plugins = tempfile::tempdir().unwrap();
    let _watch = runtime.watch(plugins.path()).unwrap();
    let built = probe().unwrap();

    let dir = plugin_folder(plugins.path(), "probe", &built, |m| m).unwrap();
    wait_until(|| runtime.plugin("probe").is_some()).await;

    // Loading reads the files; reads are not changes, so nothing is reloaded.
    let first = runtime.plugin("probe").unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        std::sync::Arc::ptr_eq(&first, &runtime.plugin("probe").unwrap()),
        "an unchanged plugin was reloaded"
    );

    set_version(&dir, "0.3.0").unwrap();
    wait_until(|| {
        runtime
            .plugin("probe")
            .is_some_and(|p| p.manifest.plugin.version.to_string() == "0.3.0")
    })
    .await;

    std::fs::remove_dir_all(&dir).unwrap();
    wait_until(|| runtime.plugin("probe").is_none()).await;
}

#[tokio::test]
async fn install_validates_before_replacing() {
    let host = TestHost::new().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let built = probe().unwrap();
    let manifest = std::fs::read_to_string(built.dir.join("plugin.toml")).unwrap();
    let wasm = std::fs::read(&built.wasm).unwrap();

    let installed = host
        .runtime()
        .install(plugins.path(), &manifest, &wasm)
        .await
        .unwrap();
    assert_eq!(installed.dir, plugins.path().join("probe"));

    let refused = host
        .runtime()
        .install(plugins.path(), &manifest, b"not wasm")
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("not a valid WebAssembly component"),
        "{refused}"
    );
    // The installed files and the serving plugin are untouched.
    assert_eq!(
        std::fs::read(plugins.path().join("probe/plugin.wasm")).unwrap(),
        wasm
    );
    assert_eq!(
        host.runtime().plugin("probe").unwrap().wasm_sha256,
        installed.wasm_sha256
    );
}

async fn wait_until(mut condition: impl FnMut() -> bool) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not met within 10 s");
}

#[tokio::test]
async fn compiled_components_are_cached_by_content_hash() {
    let cache = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let dir = plugin_folder(plugins.path(), "probe", &probe().unwrap(), |m| m).unwrap();
    let options = || tovor_runtime::RuntimeOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    };

    let first = Runtime::new(options()).unwrap();
    let loaded = first.load_plugin_dir(&dir).await.unwrap();
    let entries: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].starts_with(&loaded.wasm_sha256), "{entries:?}");

    // A damaged entry is not trusted blindly: it is recompiled and rewritten.
    let entry = cache.path().join(&entries[0]);
    std::fs::write(&entry, b"damaged").unwrap();
    let second = Runtime::new(options()).unwrap();
    second.load_plugin_dir(&dir).await.unwrap();
    assert!(std::fs::metadata(&entry).unwrap().len() > 1000);
    let order = second
        .shop("probe", Default::default())
        .unwrap()
        .get_order("ok")
        .await
        .unwrap();
    assert_eq!(order.number, "1");
}
