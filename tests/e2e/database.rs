use crate::helpers::*;
use serde_json::json;
use zerodb_client::HttpMethod as M;

#[tokio::test]
async fn status_enable_is_idempotent_and_config_is_validated() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let p = ada.create_project("p", None).await.unwrap();
    let status = ada.get_database(p.project_id).await.unwrap();
    assert!(!status.enabled);
    let first = ada.enable_database(p.project_id).await.unwrap();
    let second = ada.enable_database(p.project_id).await.unwrap();
    assert!(first.enabled && second.enabled);
    assert_eq!(first.statistics, second.statistics);

    let updated = ada
        .update_database_config(p.project_id, &json!({"max_rows_per_table": 2, "max_tables": 5}))
        .await
        .unwrap();
    assert_eq!(updated.config, json!({"max_rows_per_table": 2, "max_tables": 5}));
    let path = format!("/api/v1/projects/{}/database", p.project_id);
    for bad in [
        json!({"max_rows": 1}),
        json!({"max_tables": 0}),
        json!({"max_rows_per_table": -1}),
        json!([1, 2]),
        json!("x"),
    ] {
        let r = call(&ada, M::PUT, &path, Some(bad.clone())).await;
        assert_error(&r, 422, "validation_failed");
    }
    assert_eq!(
        ada.get_database(p.project_id).await.unwrap().config,
        updated.config,
        "rejected configs change nothing"
    );

    // The configured limits hold.
    ada.create_table(p.project_id, "t", &json!({"columns": {"n": "integer"}})).await.unwrap();
    ada.insert_rows(p.project_id, "t", &[json!({"n": 1}), json!({"n": 2})]).await.unwrap();
    let over = ada.insert_rows(p.project_id, "t", &[json!({"n": 3})]).await.unwrap_err();
    assert_eq!((over.status(), over.code()), (Some(409), Some("row_limit_exceeded")));
    let stats = ada.get_database(p.project_id).await.unwrap().statistics;
    assert_eq!((stats.tables, stats.rows), (1, 2));
}

#[tokio::test]
async fn data_endpoints_need_an_enabled_database() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let p = ada.create_project("p", None).await.unwrap();
    let base = format!("/api/v1/projects/{}/database/tables", p.project_id);
    for (method, path, body) in [
        (M::GET, base.clone(), None),
        (
            M::POST,
            base.clone(),
            Some(json!({"table_name": "t", "schema_definition": {"columns": {"a": "string"}}})),
        ),
        (M::GET, format!("{base}/t"), None),
        (M::GET, format!("{base}/t/rows"), None),
    ] {
        let r = call(&ada, method, &path, body).await;
        assert_error(&r, 409, "database_not_enabled");
    }
}
