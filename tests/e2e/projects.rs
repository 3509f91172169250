use crate::helpers::*;
use serde_json::json;
use zerodb_client::{HttpMethod as M, ListOptions};

#[tokio::test]
async fn create_list_get_delete() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let p = ada.create_project("demo", Some("first")).await.unwrap();
    assert_eq!(
        (p.project_name.as_str(), p.description.as_deref(), p.database_enabled),
        ("demo", Some("first"), false)
    );
    assert_eq!(ada.get_project(p.project_id).await.unwrap(), p);
    let dup = ada.create_project("demo", None).await.unwrap_err();
    assert_eq!((dup.status(), dup.code()), (Some(409), Some("project_name_taken")));
    // Another user may use the same name.
    app.user("bob@example.com").await.create_project("demo", None).await.unwrap();

    for i in 0..4 {
        ada.create_project(&format!("p{i}"), None).await.unwrap();
    }
    let mut names = Vec::new();
    let mut options = ListOptions { limit: Some(2), cursor: None };
    loop {
        let page = ada.list_projects(&options).await.unwrap();
        assert!(page.items.len() <= 2);
        names.extend(page.items.into_iter().map(|p| p.project_name));
        match page.next_cursor {
            Some(c) => options.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(names, vec!["demo", "p0", "p1", "p2", "p3"]);

    ada.delete_project(p.project_id).await.unwrap();
    let gone = ada.get_project(p.project_id).await.unwrap_err();
    assert_eq!((gone.status(), gone.code()), (Some(404), Some("not_found")));
    let again = ada.delete_project(p.project_id).await.unwrap_err();
    assert_eq!(again.status(), Some(404));
}

#[tokio::test]
async fn project_validation() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    for body in [
        json!({"project_name": ""}),
        json!({"project_name": "x".repeat(101)}),
        json!({"project_name": "a\u{0}b"}),
        json!({"project_name": 7}),
        json!({}),
        json!({"project_name": "ok", "owner": "me"}),
    ] {
        let r = call(&ada, M::POST, "/api/v1/projects", Some(body.clone())).await;
        assert_error(&r, 422, "validation_failed");
    }
    for query in ["limit=0", "limit=1001", "limit=abc", "cursor=%%%", "cursor=Zm9v", "bogus=1"] {
        let r = call(&ada, M::GET, &format!("/api/v1/projects?{query}"), None).await;
        assert!(r.status == 400 || r.status == 422, "{query}: {}", r.body);
    }
    // SQL metacharacters are just characters.
    let p = ada.create_project("x'); DROP TABLE users; --", None).await.unwrap();
    assert_eq!(p.project_name, "x'); DROP TABLE users; --");
    assert!(ada.me().await.is_ok());
}

#[tokio::test]
async fn deleting_a_project_removes_its_data_and_keys() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "doomed").await;
    ada.create_table(pid, "t", &json!({"columns": {"a": "string"}})).await.unwrap();
    ada.insert_rows(pid, "t", &[json!({"a": "x"})]).await.unwrap();
    let key = ada.create_api_key(pid, "k", &["*"]).await.unwrap();
    ada.publish_event(pid, &zerodb_client::NewEvent::new("t", json!(1))).await.unwrap();
    let by_key = app.client.with_api_key(&key.api_key);
    assert!(by_key.get_table(pid, "t").await.is_ok());
    ada.delete_project(pid).await.unwrap();
    for table in [
        "zerodb_events",
        "zerodb_event_offsets",
        "zerodb_table_rows",
        "zerodb_tables",
        "zerodb_api_keys",
    ] {
        let left = app
            .db
            .count(&format!("SELECT count(*) AS n FROM {table} WHERE project_id = '{pid}'"))
            .await;
        assert_eq!(left, 0, "{table} still holds the deleted project's data");
    }
    let err = by_key.get_table(pid, "t").await.unwrap_err();
    assert_eq!(err.status(), Some(401), "the key died with its project");
    // Re-creating a project of the same name starts empty.
    let fresh = app.enabled_project(&ada, "doomed").await;
    assert_eq!(ada.get_database(fresh).await.unwrap().statistics.tables, 0);
}

#[tokio::test]
async fn api_keys_lifecycle_and_scopes() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let created =
        ada.create_api_key(pid, "reader", &["tables:read", "database:read"]).await.unwrap();
    assert!(created.api_key.starts_with("zdb_"));
    assert!(created.api_key.starts_with(&created.key.key_prefix));
    let listed = ada.list_api_keys(pid, &ListOptions::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    let listed_json = format!("{listed:?}");
    assert!(!listed_json.contains(&created.api_key), "secrets never listed");

    let key = app.client.with_api_key(&created.api_key);
    let me = key.me().await.unwrap();
    assert_eq!((me.kind.as_str(), me.project_id), ("api_key", Some(pid)));
    assert!(key.list_tables(pid, &ListOptions::default()).await.is_ok());
    let denied =
        key.create_table(pid, "t", &json!({"columns": {"a": "string"}})).await.unwrap_err();
    assert_eq!((denied.status(), denied.code()), (Some(403), Some("insufficient_scope")));
    let denied = key.create_project("mine", None).await.unwrap_err();
    assert_eq!(denied.status(), Some(403));

    for bad in [
        json!({"scopes": []}),
        json!({"scopes": ["tables:admin"]}),
        json!({"scopes": ["*"], "name": ""}),
        json!({"name": "x"}),
    ] {
        let r = call(&ada, M::POST, &format!("/api/v1/projects/{pid}/api-keys"), Some(bad)).await;
        assert_error(&r, 422, "validation_failed");
    }

    ada.revoke_api_key(pid, created.key.key_id).await.unwrap();
    let err = key.list_tables(pid, &ListOptions::default()).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(401), Some("invalid_credentials")));
    let again = ada.revoke_api_key(pid, created.key.key_id).await.unwrap_err();
    assert_eq!(again.status(), Some(404));
    // A tampered key fails like an unknown one.
    let mut tampered = created.api_key.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    let r = call(&app.client.with_api_key(&tampered), M::GET, "/api/v1/auth/me", None).await;
    assert_error(&r, 401, "invalid_credentials");
}
