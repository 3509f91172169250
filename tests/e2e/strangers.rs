//! Every project endpoint against callers who must not reach it: no credentials (401),
//! another user (404), another project's key (404), a key of this project without the
//! scope (403). None of them may change anything.

use crate::helpers::*;
use serde_json::{Value, json};
use zerodb_client::{HttpMethod as M, ListOptions, RowQuery};

fn endpoints(pid: &str, key_id: &str) -> Vec<(M, String, Option<Value>)> {
    let p = format!("/api/v1/projects/{pid}");
    let t = format!("{p}/database/tables/t");
    vec![
        (M::GET, p.clone(), None),
        (M::DELETE, p.clone(), None),
        (M::POST, format!("{p}/api-keys"), Some(json!({"name": "x", "scopes": ["*"]}))),
        (M::GET, format!("{p}/api-keys"), None),
        (M::DELETE, format!("{p}/api-keys/{key_id}"), None),
        (M::GET, format!("{p}/database"), None),
        (M::POST, format!("{p}/database"), None),
        (M::PUT, format!("{p}/database"), Some(json!({"max_tables": 1}))),
        (M::GET, format!("{p}/database/tables"), None),
        (
            M::POST,
            format!("{p}/database/tables"),
            Some(json!({"table_name": "u", "schema_definition": {"columns": {"a": "string"}}})),
        ),
        (M::GET, t.clone(), None),
        (M::DELETE, t.clone(), None),
        (M::POST, format!("{t}/rows"), Some(json!({"rows": [{"a": "intruder"}]}))),
        (M::GET, format!("{t}/rows"), None),
        (M::PATCH, format!("{t}/rows"), Some(json!({"filter": {}, "set": {"a": "pwned"}}))),
        (M::DELETE, format!("{t}/rows"), Some(json!({"filter": {}}))),
        (M::POST, format!("{t}/rows/query"), Some(json!({}))),
        (
            M::POST,
            format!("{p}/database/rlhf/log"),
            Some(
                json!({"session_id": uuid::Uuid::nil(), "input_prompt": "p", "model_output": "o"}),
            ),
        ),
        (
            M::POST,
            format!("{p}/database/rlhf/log-batch"),
            Some(
                json!({"records": [{"session_id": uuid::Uuid::nil(), "input_prompt": "p", "model_output": "o"}]}),
            ),
        ),
        (M::GET, format!("{p}/database/rlhf"), None),
        (M::GET, format!("{p}/database/rlhf/export?format=jsonl"), None),
        (
            M::POST,
            format!("{p}/database/agent/log"),
            Some(json!({"agent_id": uuid::Uuid::nil(), "log_level": "INFO", "log_message": "m"})),
        ),
        (
            M::POST,
            format!("{p}/database/agent/log-batch"),
            Some(
                json!({"logs": [{"agent_id": uuid::Uuid::nil(), "log_level": "INFO", "log_message": "m"}]}),
            ),
        ),
        (M::GET, format!("{p}/database/agent/logs"), None),
        (
            M::POST,
            format!("{p}/database/events/publish"),
            Some(json!({"topic": "t", "event_payload": 1})),
        ),
        (
            M::POST,
            format!("{p}/database/events/publish-batch"),
            Some(json!({"events": [{"topic": "t", "event_payload": 1}]})),
        ),
        (M::GET, format!("{p}/database/events"), None),
        (M::GET, format!("{p}/database/events/stream"), None),
        (
            M::POST,
            format!("{p}/database/events/consumers/g/commit"),
            Some(json!({"topic": "t", "offset": 0})),
        ),
        (M::GET, format!("{p}/database/events/consumers/g"), None),
    ]
}

#[tokio::test]
async fn strangers_reach_nothing_and_change_nothing() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let pid = app.enabled_project(&ada, "ada-project").await;
    ada.create_table(pid, "t", &json!({"columns": {"a": "string"}})).await.unwrap();
    ada.insert_rows(pid, "t", &[json!({"a": "mine"})]).await.unwrap();
    let ada_key = ada.create_api_key(pid, "full", &["*"]).await.unwrap();
    let unscoped = ada.create_api_key(pid, "vectors-only", &["vectors:read"]).await.unwrap();
    let bob_pid = app.enabled_project(&bob, "bob-project").await;
    let bob_key = bob.create_api_key(bob_pid, "bob", &["*"]).await.unwrap();

    let anonymous = app.client.anonymous();
    let foreign_key = app.client.with_api_key(&bob_key.api_key);
    let no_scope = app.client.with_api_key(&unscoped.api_key);
    let key_id = ada_key.key.key_id.to_string();
    let pid_s = pid.to_string();

    for (method, path, body) in endpoints(&pid_s, &key_id) {
        let r = call(&anonymous, method.clone(), &path, body.clone()).await;
        assert_error(&r, 401, "unauthenticated");
        let r = call(&bob, method.clone(), &path, body.clone()).await;
        assert_error(&r, 404, "not_found");
        let r = call(&foreign_key, method.clone(), &path, body.clone()).await;
        assert_error(&r, 404, "not_found");
        let r = call(&no_scope, method.clone(), &path, body.clone()).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
        let code = r.body["error"]["code"].as_str().unwrap();
        assert!(code == "insufficient_scope" || code == "forbidden", "{method} {path}: {code}");
    }

    // A random project id is as unknown to Ada as Bob's project is.
    let r = call(&ada, M::GET, &format!("/api/v1/projects/{}", uuid::Uuid::new_v4()), None).await;
    assert_error(&r, 404, "not_found");

    // Nothing changed.
    let status = ada.get_database(pid).await.unwrap();
    assert_eq!(
        (status.statistics.tables, status.statistics.rows, status.statistics.api_keys),
        (1, 1, 2)
    );
    assert_eq!(status.config, json!({}));
    let rows = ada.query_rows(pid, "t", &RowQuery::default()).await.unwrap();
    assert_eq!(rows.items[0].data["a"], "mine");
    assert_eq!(ada.list_api_keys(pid, &ListOptions::default()).await.unwrap().items.len(), 2);
    // Bob's own listing never shows Ada's project.
    let bobs = bob.list_projects(&ListOptions::default()).await.unwrap();
    assert_eq!(bobs.items.iter().map(|p| p.project_id).collect::<Vec<_>>(), vec![bob_pid]);
}

#[tokio::test]
async fn admins_reach_every_project_and_keys_stay_in_theirs() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    // An admin created the way operators do it: through the service, as `zerodb user create --admin`.
    let admin = app.admin().await;
    assert_eq!(admin.get_project(pid).await.unwrap().project_id, pid);
    assert!(admin.list_tables(pid, &ListOptions::default()).await.is_ok());
    // Scoped keys: read works, write is refused, and another project is invisible.
    let reader = ada.create_api_key(pid, "r", &["tables:read"]).await.unwrap();
    let reader = app.client.with_api_key(&reader.api_key);
    assert!(reader.list_tables(pid, &ListOptions::default()).await.is_ok());
    let err = reader.get_database(pid).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some("insufficient_scope")));
    let other = app.enabled_project(&ada, "q").await;
    assert_eq!(
        reader.list_tables(other, &ListOptions::default()).await.unwrap_err().status(),
        Some(404)
    );
}
