//! The zero-configuration default: ZeroDB runs its own PostgreSQL under its data directory,
//! and data survives a restart.

use serde_json::json;
use zerodb_client::{Client, ListOptions, RowQuery};
use zerodb_server::config::Settings;
use zerodb_server::startup::{Application, Database, jwt_secret};

async fn start(settings: &Settings) -> (Database, Client) {
    let db = Database::connect(settings).await.expect("embedded database");
    let secret = jwt_secret(settings).expect("secret");
    let app = Application::build(settings, &db, &secret, false).expect("app");
    let client = Client::new(&format!("http://127.0.0.1:{}", app.port()));
    tokio::spawn(app.run_until_stopped());
    (db, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_cluster_keeps_data_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::defaults().unwrap();
    settings.data_dir = dir.path().join("data");
    settings.server.port = 0;
    settings.server.workers = Some(1);

    let (db, client) = start(&settings).await;
    client.register("ada@example.com", "correct horse battery").await.unwrap();
    let token =
        client.login("ada@example.com", "correct horse battery").await.unwrap().access_token;
    let ada = client.with_token(&token);
    let project = ada.create_project("kept", None).await.unwrap();
    ada.enable_database(project.project_id).await.unwrap();
    ada.create_table(project.project_id, "t", &json!({"columns": {"a": "string"}})).await.unwrap();
    ada.insert_rows(project.project_id, "t", &[json!({"a": "survives"})]).await.unwrap();
    db.pool.close();
    db.shutdown().await;

    let (db, client) = start(&settings).await;
    // The generated signing secret was kept: the old token still works.
    let ada = client.with_token(&token);
    let projects = ada.list_projects(&ListOptions::default()).await.unwrap();
    assert_eq!(projects.items[0].project_name, "kept");
    let rows = ada.query_rows(project.project_id, "t", &RowQuery::default()).await.unwrap();
    assert_eq!(rows.items[0].data["a"], "survives");
    db.pool.close();
    db.shutdown().await;
}
