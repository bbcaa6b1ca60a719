//! People who sign in, their roles and their sessions, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{NOW, TestDb};
use time::Duration;
use tovor_domain::access::Role;
use tovor_domain::company::DocumentLanguage;
use tovor_store::StoreError;
use tovor_store::users::NewUser;

on_both!(people_roles_and_sessions);

fn person<'a>(email: &'a str) -> NewUser<'a> {
    NewUser {
        email,
        name: "Ana Novak",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        language: DocumentLanguage::En,
        operator: false,
    }
}

async fn people_roles_and_sessions(db: TestDb) {
    let store = &db.store;
    assert!(!store.has_users().await.unwrap());
    let acme = store.create_company("Acme", NOW).await.unwrap();
    let beta = store.create_company("Beta", NOW).await.unwrap();
    let ana = store
        .create_user(person("ana@acme.example"), NOW)
        .await
        .unwrap();
    assert!(store.has_users().await.unwrap());
    let taken = store.create_user(person("ana@acme.example"), NOW).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");

    // Roles per company; a second call changes the role, not adds one.
    store
        .set_membership(ana, acme, Role::Staff, NOW)
        .await
        .unwrap();
    store
        .set_membership(ana, beta, Role::ReadOnly, NOW)
        .await
        .unwrap();
    store
        .set_membership(ana, acme, Role::Owner, NOW)
        .await
        .unwrap();
    let memberships = store.memberships(ana).await.unwrap();
    let roles: Vec<_> = memberships.iter().map(|m| (m.company, m.role)).collect();
    assert_eq!(roles, [(acme, Role::Owner), (beta, Role::ReadOnly)]);
    assert_eq!(
        store.role_in(ana, beta).await.unwrap(),
        Some(Role::ReadOnly)
    );
    store.remove_membership(ana, beta).await.unwrap();
    assert_eq!(store.role_in(ana, beta).await.unwrap(), None);
    assert_eq!(store.members(acme).await.unwrap()[0].role, Role::Owner);
    let missing = store
        .set_membership(ana, tovor_domain::CompanyId(999), Role::Staff, NOW)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })));

    // A session is found by its hash until it ends; extending it moves the end.
    store
        .create_web_session(ana, "hash-1", "csrf-1", NOW, NOW + Duration::hours(12))
        .await
        .unwrap();
    let found = store.web_session("hash-1", NOW).await.unwrap().unwrap();
    assert_eq!((found.user.id, found.csrf_token.as_str()), (ana, "csrf-1"));
    assert!(
        store
            .web_session("hash-1", NOW + Duration::hours(13))
            .await
            .unwrap()
            .is_none()
    );
    store
        .extend_web_session("hash-1", NOW + Duration::hours(20))
        .await
        .unwrap();
    assert!(
        store
            .web_session("hash-1", NOW + Duration::hours(13))
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.web_session("unknown", NOW).await.unwrap().is_none());

    // A new password or disabling signs the person out everywhere.
    store
        .create_web_session(ana, "hash-2", "csrf-2", NOW, NOW + Duration::hours(12))
        .await
        .unwrap();
    store.set_password_hash(ana, "$argon2id$new").await.unwrap();
    assert!(store.web_session("hash-1", NOW).await.unwrap().is_none());
    assert!(store.web_session("hash-2", NOW).await.unwrap().is_none());
    let credentials = store
        .user_credentials("ana@acme.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credentials.password_hash, "$argon2id$new");
    store
        .create_web_session(ana, "hash-3", "csrf-3", NOW, NOW + Duration::hours(12))
        .await
        .unwrap();
    store.set_user_disabled(ana, true, NOW).await.unwrap();
    assert!(store.web_session("hash-3", NOW).await.unwrap().is_none());
    let disabled = store.user(ana).await.unwrap().unwrap();
    assert!(disabled.disabled_at.is_some());
    store.set_user_disabled(ana, false, NOW).await.unwrap();
    store
        .set_user_language(ana, DocumentLanguage::Sl)
        .await
        .unwrap();
    assert_eq!(
        store.user(ana).await.unwrap().unwrap().language,
        DocumentLanguage::Sl
    );

    // Signing in again clears the sessions that have ended.
    store
        .create_web_session(ana, "old", "c", NOW, NOW + Duration::hours(1))
        .await
        .unwrap();
    store
        .create_web_session(
            ana,
            "new",
            "c",
            NOW + Duration::hours(2),
            NOW + Duration::hours(14),
        )
        .await
        .unwrap();
    assert!(
        store.web_session("old", NOW).await.unwrap().is_none(),
        "deleted, not only expired"
    );
}
