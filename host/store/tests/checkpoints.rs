//! SQLite's WAL is checkpointed by the store's own task, not by the commits (which
//! would make one commit in a few hundred wait for a sync): what is written still
//! reaches the database file, within seconds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use support::{NOW, line, order, tenant};
use tovor_store::orders::Source;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_reach_the_database_file_without_commits_checkpointing() {
    let db = support::sqlite().await;
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    // The migrations' pages may still be on their way; start from a settled file.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before = std::fs::metadata(&path).unwrap().len();

    for n in 0..200 {
        let lines = vec![line(&format!("SKU-{n}"), &format!("{n}"), "1", "12.20")];
        scope
            .import_order(
                t.shop,
                &order(&format!("{n}"), lines, 0),
                Source("test"),
                NOW,
            )
            .await
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = std::fs::metadata(&path).unwrap().len();
        if now > before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "200 orders are still only in the WAL after 10 s: {path} is {now} bytes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
