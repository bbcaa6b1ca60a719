//! The sandbox holds: egress only where the allow-list says, runaway plugins stopped at
//! their limits with typed errors, and the host serving on after each.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use tovor_harness::{CallError, TestHost};
use tovor_runtime::model::NormalizedOrder as Order;
use tovor_runtime::{HttpFailure, RuntimeOptions};
use tovor_tests::{plugin_folder, probe, replace};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn host_with_probe() -> (TestHost, tempfile::TempDir) {
    host_with_probe_options(RuntimeOptions {
        allow_private_egress: true,
        ..RuntimeOptions::default()
    })
    .await
}

async fn host_with_probe_options(options: RuntimeOptions) -> (TestHost, tempfile::TempDir) {
    let host = TestHost::with_options(options).unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let dir = plugin_folder(plugins.path(), "probe", &probe().unwrap(), |m| m).unwrap();
    host.load_dir(&dir).await.unwrap();
    (host, plugins)
}

/// No request should leave in tests that use this target: port 9 is the discard port.
const NOWHERE: &str = "http://127.0.0.1:9/";

/// Asks the probe (with `target` configured) to do `action`.
async fn probe_does(host: &TestHost, target: &str, action: &str) -> Result<Order, CallError> {
    host.shop("probe", [("target", target)])
        .unwrap()
        .get_order(action)
        .await
}

/// A server the sandbox must keep the plugin away from: any request fails the test
/// when the server is dropped.
async fn must_not_be_contacted() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// After any failure, the same plugin still answers.
async fn still_serving(host: &TestHost) {
    let order = probe_does(host, NOWHERE, "ok")
        .await
        .expect("the host keeps serving after a failed call");
    assert_eq!(order.number, "1");
}

#[tokio::test]
async fn allowed_host_is_reached() {
    let platform = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/hello"))
        .respond_with(ResponseTemplate::new(200).set_body_string("hi from the platform"))
        .expect(1)
        .mount(&platform)
        .await;
    let (host, _plugins) = host_with_probe().await;
    let target = format!("{}/hello", platform.uri());
    let order = probe_does(&host, &target, "fetch").await.unwrap();
    assert_eq!(order.number, "200");
    assert_eq!(order.customer_note.as_deref(), Some("hi from the platform"));
}

#[tokio::test]
async fn host_not_on_the_list_is_refused_and_never_contacted() {
    let allowed = MockServer::start().await;
    let other = must_not_be_contacted().await;
    let (host, _plugins) = host_with_probe().await;
    let error = probe_does(
        &host,
        &allowed.uri(),
        &format!("fetch:{}/secret", other.uri()),
    )
    .await
    .unwrap_err();
    match &error {
        CallError::EgressDenied {
            plugin,
            url,
            reason,
        } => {
            assert_eq!(plugin, "probe");
            assert!(url.contains(&other.address().port().to_string()), "{url}");
            assert!(reason.contains("allow-list"), "{reason}");
        }
        other => panic!("expected EgressDenied, got {other:?}"),
    }
    assert!(other.received_requests().await.unwrap().is_empty());
    still_serving(&host).await;
}

#[tokio::test]
async fn name_resolving_to_a_private_address_is_refused() {
    let server = must_not_be_contacted().await;
    // The manifest allows the name `localhost`; names are never trusted with private
    // addresses, even when the operator allows private egress for configured hosts.
    let host = TestHost::new().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let dir = plugin_folder(plugins.path(), "probe", &probe().unwrap(), |m| {
        replace(
            m,
            r#"allow = ["{target}"]"#,
            r#"allow = ["http://localhost:*"]"#,
        )
    })
    .unwrap();
    host.load_dir(&dir).await.unwrap();
    let url = format!("http://localhost:{}/", server.address().port());
    let error = probe_does(&host, &url, "fetch").await.unwrap_err();
    match &error {
        CallError::EgressDenied { reason, .. } => {
            assert!(reason.contains("localhost"), "{reason}")
        }
        other => panic!("expected EgressDenied, got {other:?}"),
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn configured_private_address_needs_the_operator_switch() {
    let server = must_not_be_contacted().await;
    let (host, _plugins) = host_with_probe_options(RuntimeOptions::default()).await;
    let error = probe_does(&host, &server.uri(), "fetch").await.unwrap_err();
    assert!(matches!(error, CallError::EgressDenied { .. }), "{error:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn cloud_metadata_is_refused_even_with_private_egress() {
    let (host, _plugins) = host_with_probe().await;
    let error = host
        .shop(
            "probe",
            [("target", "http://169.254.169.254/latest/meta-data/")],
        )
        .unwrap()
        .get_order("fetch")
        .await
        .unwrap_err();
    match &error {
        CallError::EgressDenied { reason, .. } => assert!(reason.contains("metadata"), "{reason}"),
        other => panic!("expected EgressDenied, got {other:?}"),
    }
}

#[tokio::test]
async fn endless_loop_is_stopped_near_its_deadline() {
    let (host, _plugins) = host_with_probe().await;
    let started = Instant::now();
    let error = probe_does(&host, NOWHERE, "spin").await.unwrap_err();
    let took = started.elapsed();
    match &error {
        CallError::Timeout { plugin, limit } => {
            assert_eq!(plugin, "probe");
            assert_eq!(*limit, Duration::from_millis(1000));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    // Not a speed test: a generous bound that only fails if the loop was not stopped
    // by its deadline but by something else much later.
    assert!(
        took < Duration::from_secs(10),
        "stopped only after {took:?}"
    );
    still_serving(&host).await;
}

#[tokio::test]
async fn memory_bomb_is_stopped_at_its_cap() {
    let (host, _plugins) = host_with_probe().await;
    let error = probe_does(&host, NOWHERE, "hog").await.unwrap_err();
    match &error {
        CallError::OutOfMemory {
            plugin,
            limit_bytes,
        } => {
            assert_eq!(plugin, "probe");
            assert_eq!(*limit_bytes, 32 * 1024 * 1024);
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
    still_serving(&host).await;
}

#[tokio::test]
async fn trap_is_reported_with_the_panic_message() {
    let (host, _plugins) = host_with_probe().await;
    let error = probe_does(&host, NOWHERE, "panic").await.unwrap_err();
    match &error {
        CallError::Trap { plugin, message } => {
            assert_eq!(plugin, "probe");
            assert!(message.contains("the probe panics on purpose"), "{message}");
        }
        other => panic!("expected Trap, got {other:?}"),
    }
    still_serving(&host).await;
}

#[tokio::test]
async fn requests_per_call_are_capped() {
    let platform = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(5)
        .mount(&platform)
        .await;
    let (host, _plugins) = host_with_probe().await;
    let error = probe_does(&host, &platform.uri(), "fetch-many")
        .await
        .unwrap_err();
    match &error {
        CallError::Http { failure, .. } => assert_eq!(*failure, HttpFailure::RequestLimit(5)),
        other => panic!("expected Http(RequestLimit), got {other:?}"),
    }
}

#[tokio::test]
async fn oversized_response_is_cut_off() {
    let platform = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 64 * 1024]))
        .mount(&platform)
        .await;
    let host = TestHost::new().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let dir = plugin_folder(plugins.path(), "probe", &probe().unwrap(), |m| {
        replace(
            m,
            "max_requests = 5",
            "max_requests = 5\nmax_response_bytes = 4096",
        )
    })
    .unwrap();
    host.load_dir(&dir).await.unwrap();
    let error = probe_does(&host, &platform.uri(), "fetch")
        .await
        .unwrap_err();
    match &error {
        CallError::Http { failure, .. } => {
            assert_eq!(*failure, HttpFailure::ResponseTooLarge(4096))
        }
        other => panic!("expected Http(ResponseTooLarge), got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_plugin_does_not_stall_the_others() {
    let host = TestHost::new().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let built = probe().unwrap();
    for id in ["probe", "probe-b"] {
        let dir = plugin_folder(plugins.path(), id, &built, |m| {
            replace(m, r#"id = "probe""#, &format!("id = \"{id}\""))
        })
        .unwrap();
        host.load_dir(&dir).await.unwrap();
    }
    let runaway = host
        .shop("probe", [("target", "http://127.0.0.1:9/")])
        .unwrap();
    let spinning = tokio::spawn(async move { runaway.get_order("spin").await });
    let other = host
        .shop("probe-b", [("target", "http://127.0.0.1:9/")])
        .unwrap();
    for _ in 0..20 {
        other.get_order("ok").await.unwrap();
    }
    assert!(
        !spinning.is_finished(),
        "twenty calls of another plugin completed while the runaway one was still spinning"
    );
    let error = spinning.await.unwrap().unwrap_err();
    assert!(matches!(error, CallError::Timeout { .. }), "{error:?}");
}
