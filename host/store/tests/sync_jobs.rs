//! Sync jobs: a "sync now" asked for during a run is not lost when the run ends; a
//! history page that met trouble waits for its retry time and is then claimed again
//! from the same page; a long run keeps its lease by renewing it. Each test runs on
//! SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{NOW, TestDb, tenant};
use time::Duration;
use tovor_store::sync::{HistoryState, SyncRunEnd};

on_both!(
    a_sync_requested_during_a_run_is_kept,
    a_failed_history_page_waits_for_its_retry,
    a_renewed_lease_keeps_the_job,
);

fn success(next_run_at: time::OffsetDateTime) -> SyncRunEnd {
    SyncRunEnd {
        cursor: Some(NOW),
        next_run_at,
        orders_seen: 0,
        error: None,
    }
}

async fn a_sync_requested_during_a_run_is_kept(db: TestDb) {
    let t = tenant(&db.store, "A", |_| {}).await;
    let lease = Duration::minutes(1);
    let job = db.store.claim_sync_job("a", lease, NOW).await.unwrap();
    assert!(job.is_some());
    let asked_at = NOW + Duration::seconds(1);
    let since = NOW - Duration::days(30);
    t.scope(&db.store)
        .request_sync(t.shop, Some(since), asked_at)
        .await
        .unwrap();
    db.store
        .finish_sync_run(t.shop, "a", &success(NOW + Duration::days(1)), asked_at)
        .await
        .unwrap();
    let status = t.scope(&db.store).sync_status(t.shop).await.unwrap();
    assert_eq!(status.next_run_at, asked_at, "the request runs next");
    assert_eq!(status.requested_since, Some(since));

    // The requested run itself ends normally.
    let later = NOW + Duration::seconds(2);
    assert!(
        db.store
            .claim_sync_job("a", lease, later)
            .await
            .unwrap()
            .is_some()
    );
    db.store
        .finish_sync_run(t.shop, "a", &success(NOW + Duration::days(1)), later)
        .await
        .unwrap();
    let status = t.scope(&db.store).sync_status(t.shop).await.unwrap();
    assert_eq!(status.next_run_at, NOW + Duration::days(1));
    assert_eq!(status.requested_since, None);
}

async fn a_failed_history_page_waits_for_its_retry(db: TestDb) {
    let t = tenant(&db.store, "A", |_| {}).await;
    let lease = Duration::minutes(1);
    db.store.claim_sync_job("a", lease, NOW).await.unwrap();
    db.store
        .finish_sync_run(t.shop, "a", &success(NOW + Duration::days(1)), NOW)
        .await
        .unwrap();
    t.scope(&db.store)
        .request_history_import(t.shop, NOW - Duration::days(365))
        .await
        .unwrap();

    let at = NOW + Duration::seconds(1);
    let job = db
        .store
        .claim_sync_job("a", lease, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.history.state, HistoryState::Requested);
    db.store
        .save_history_page(t.shop, "a", Some("page-2"), 50, at + lease)
        .await
        .unwrap();
    db.store
        .retry_history_page(t.shop, "a", "database busy", at + Duration::minutes(2))
        .await
        .unwrap();
    db.store.release_sync_job(t.shop, "a").await.unwrap();

    let early = at + Duration::minutes(1);
    assert!(
        db.store
            .claim_sync_job("b", lease, early)
            .await
            .unwrap()
            .is_none()
    );
    let due = at + Duration::minutes(3);
    let job = db
        .store
        .claim_sync_job("b", lease, due)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.history.state, HistoryState::Running);
    assert_eq!(job.history.next_page.as_deref(), Some("page-2"));
    assert_eq!(job.history.failures, 1);
    assert_eq!(job.history.error.as_deref(), Some("database busy"));
    assert_eq!(job.history.pages, 1);

    db.store
        .save_history_page(t.shop, "b", None, 10, due + lease)
        .await
        .unwrap();
    let status = t.scope(&db.store).sync_status(t.shop).await.unwrap();
    assert_eq!(status.history.state, HistoryState::Done);
    assert_eq!(status.history.failures, 0);
    assert_eq!(status.history.error, None);
    assert_eq!(status.history.retry_at, None);
    assert_eq!(status.history.orders, 60);
}

async fn a_renewed_lease_keeps_the_job(db: TestDb) {
    let t = tenant(&db.store, "A", |_| {}).await;
    let lease = Duration::minutes(1);
    assert!(
        db.store
            .claim_sync_job("a", lease, NOW)
            .await
            .unwrap()
            .is_some()
    );
    let renewed = db
        .store
        .renew_sync_lease(t.shop, "a", NOW + Duration::minutes(10))
        .await
        .unwrap();
    assert!(renewed);
    // Past the first lease, within the renewed one: nobody else takes it.
    let meanwhile = NOW + Duration::minutes(5);
    assert!(
        db.store
            .claim_sync_job("b", lease, meanwhile)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !db.store
            .renew_sync_lease(t.shop, "b", meanwhile + lease)
            .await
            .unwrap()
    );
    // Once it runs out, another process takes the job and the first one's renewal fails.
    let expired = NOW + Duration::minutes(11);
    assert!(
        db.store
            .claim_sync_job("b", lease, expired)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        !db.store
            .renew_sync_lease(t.shop, "a", expired + lease)
            .await
            .unwrap()
    );
}
