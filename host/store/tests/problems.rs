//! Sync problems: a refused order is recorded once per shop and counts its attempts; a
//! dismissed one stays dismissed while its version is the one dismissed and opens again
//! when the order changes; an import resolves it; other companies never see it. Each
//! test runs on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{NOW, TestDb, tenant};
use time::Duration;
use tovor_store::StoreError;
use tovor_store::problems::{Recorded, Refusal};

on_both!(
    refusals_count_attempts_until_resolved,
    dismissed_problems_come_back_only_when_the_order_changes,
    problems_belong_to_their_company,
);

fn refusal<'a>(order_id: &'a str, version: &'a str) -> Refusal<'a> {
    Refusal {
        order_id,
        source: "sync",
        reason: "the order is not valid: currency: \"EURO\" is not an ISO 4217 code",
        version,
    }
}

async fn refusals_count_attempts_until_resolved(db: TestDb) {
    let t = tenant(&db.store, "A", |_| {}).await;
    let scope = t.scope(&db.store);
    for minute in 0..3 {
        let recorded = scope
            .record_sync_problem(
                t.shop,
                refusal("11", "2026-03-01T10:00:00Z"),
                NOW + Duration::minutes(minute),
            )
            .await
            .unwrap();
        assert_eq!(recorded, Recorded::Open);
    }
    let problems = scope.sync_problems(t.shop, false).await.unwrap();
    assert_eq!(problems.len(), 1);
    let problem = &problems[0];
    assert_eq!(problem.order_id, "11");
    assert_eq!(problem.attempts, 3);
    assert_eq!(problem.first_seen_at, NOW);
    assert_eq!(problem.last_seen_at, NOW + Duration::minutes(2));
    assert!(problem.reason.contains("currency"));
    assert_eq!(
        scope.sync_problem_ids(t.shop).await.unwrap(),
        ["11".to_owned()].into_iter().collect()
    );

    assert!(scope.resolve_sync_problem(t.shop, "11").await.unwrap());
    assert!(!scope.resolve_sync_problem(t.shop, "11").await.unwrap());
    assert!(scope.sync_problems(t.shop, true).await.unwrap().is_empty());
}

async fn dismissed_problems_come_back_only_when_the_order_changes(db: TestDb) {
    let t = tenant(&db.store, "A", |_| {}).await;
    let scope = t.scope(&db.store);
    let v1 = "2026-03-01T10:00:00Z";
    scope
        .record_sync_problem(t.shop, refusal("12", v1), NOW)
        .await
        .unwrap();
    scope
        .dismiss_sync_problem(t.shop, "12", NOW + Duration::minutes(1))
        .await
        .unwrap();
    assert!(scope.sync_problems(t.shop, false).await.unwrap().is_empty());

    // The same version again: nothing changes.
    let again = scope
        .record_sync_problem(t.shop, refusal("12", v1), NOW + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(again, Recorded::StillDismissed);
    let kept = scope.sync_problems(t.shop, true).await.unwrap();
    assert_eq!(kept[0].attempts, 1);
    assert_eq!(kept[0].last_seen_at, NOW);
    assert_eq!(kept[0].dismissed_at, Some(NOW + Duration::minutes(1)));

    // A changed order: open again.
    let changed = scope
        .record_sync_problem(
            t.shop,
            refusal("12", "2026-03-02T10:00:00Z"),
            NOW + Duration::minutes(3),
        )
        .await
        .unwrap();
    assert_eq!(changed, Recorded::Open);
    let open = scope.sync_problems(t.shop, false).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].attempts, 2);
    assert_eq!(open[0].dismissed_at, None);

    // Dismissed again, then taken back by the user.
    scope
        .dismiss_sync_problem(t.shop, "12", NOW + Duration::minutes(4))
        .await
        .unwrap();
    scope.reopen_sync_problem(t.shop, "12").await.unwrap();
    assert_eq!(scope.sync_problems(t.shop, false).await.unwrap().len(), 1);

    assert!(matches!(
        scope.dismiss_sync_problem(t.shop, "nope", NOW).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        scope.reopen_sync_problem(t.shop, "nope").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn problems_belong_to_their_company(db: TestDb) {
    let a = tenant(&db.store, "A", |_| {}).await;
    let b = tenant(&db.store, "B", |_| {}).await;
    a.scope(&db.store)
        .record_sync_problem(a.shop, refusal("11", "v1"), NOW)
        .await
        .unwrap();
    let other = b.scope(&db.store);
    assert!(other.sync_problems(a.shop, true).await.unwrap().is_empty());
    assert!(other.sync_problem_ids(a.shop).await.unwrap().is_empty());
    assert!(matches!(
        other.dismiss_sync_problem(a.shop, "11", NOW).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(!other.resolve_sync_problem(a.shop, "11").await.unwrap());
    // Recording through another company's scope cannot touch or take the row.
    assert!(
        other
            .record_sync_problem(a.shop, refusal("11", "v2"), NOW)
            .await
            .is_err()
    );
    let kept = a
        .scope(&db.store)
        .sync_problems(a.shop, false)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].version, "v1");
}
