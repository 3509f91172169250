//! Malformed input of every kind gets a JSON error with the right status, never a 500.

use crate::helpers::*;
use serde_json::json;
use zerodb_client::HttpMethod as M;

/// An `Authorization` header value for a user made with `app.user`, for raw requests.
async fn bearer(app: &TestApp, email: &str) -> String {
    let login = app.client.login(email, "correct horse battery").await.unwrap();
    format!("Bearer {}", login.access_token)
}

#[tokio::test]
async fn bad_bodies_paths_and_queries() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let http = reqwest::Client::new();
    let auth = bearer(&app, "ada@example.com").await;

    // Invalid JSON, wrong content type, wrong types.
    let url = format!("{}/api/v1/projects", app.address);
    let r = http
        .post(&url)
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body("{\"project_name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"]["code"], "invalid_json");
    let r = http
        .post(&url)
        .header("authorization", &auth)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = http
        .post(&url)
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body("[1,2]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // Bad UUIDs and odd characters in paths.
    for path in
        ["/api/v1/projects/not-a-uuid", "/api/v1/projects/1'%20OR%20'1'='1", "/api/v1/projects/%00"]
    {
        let r = call(&ada, M::GET, path, None).await;
        assert_error(&r, 400, "invalid_path");
    }
    let r =
        call(&ada, M::GET, &format!("/api/v1/projects/{pid}/database/tables/..%2F..%2Fetc"), None)
            .await;
    assert_eq!(r.status, 404);
    let r = call(&ada, M::DELETE, &format!("/api/v1/projects/{pid}/api-keys/zzz"), None).await;
    assert_error(&r, 400, "invalid_path");

    // Unknown routes and methods.
    let r = call(&ada, M::GET, "/api/v1/nothing-here", None).await;
    assert_error(&r, 404, "not_found");
    let r = call(&ada, M::PUT, "/api/v1/projects", Some(json!({}))).await;
    assert_error(&r, 405, "method_not_allowed");

    // Credentials in odd shapes.
    for header in ["Bearer", "Bearer ", "Basic abc", "token", "Bearer a.b.c"] {
        let r = http
            .get(format!("{}/api/v1/auth/me", app.address))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{header}");
    }
    let r = http
        .get(format!("{}/api/v1/auth/me", app.address))
        .header("authorization", &auth)
        .header("x-api-key", "zdb_x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .get(format!("{}/api/v1/auth/me", app.address))
        .header("x-api-key", "zdb_' OR 1=1 --")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn oversized_bodies_are_413_and_change_nothing() {
    let app = spawn_app_with(|s| s.server.max_body_bytes = 64 * 1024).await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    ada.create_table(pid, "t", &json!({"columns": {"a": "string"}})).await.unwrap();
    let huge = "x".repeat(128 * 1024);
    let r = call(
        &ada,
        M::POST,
        &format!("/api/v1/projects/{pid}/database/tables/t/rows"),
        Some(json!({"rows": [{"a": huge}]})),
    )
    .await;
    assert_error(&r, 413, "payload_too_large");
    assert_eq!(ada.get_table(pid, "t").await.unwrap().row_count, 0);
}

#[tokio::test]
async fn health_ready_docs_and_request_ids() {
    let app = spawn_app().await;
    assert_eq!(app.client.health().await.unwrap().status, "ok");
    assert_eq!(app.client.ready().await.unwrap().status, "ready");
    let http = reqwest::Client::new();
    let spec: serde_json::Value = http
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(
        spec["paths"]["/api/v1/projects/{project_id}/database/tables/{table_name}/rows"]
            .is_object()
    );
    let docs = http.get(format!("{}/docs/", app.address)).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    // Request ids: generated, or echoed when sane.
    let r = http
        .get(format!("{}/health", app.address))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = http
        .get(format!("{}/health", app.address))
        .header("x-request-id", "bad id\twith tab")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], "bad id\twith tab");
}

/// The vector and memory batch routes read their bodies with a pre-sized buffer; the JSON
/// rules are those of every other route.
#[tokio::test]
async fn batch_bodies_keep_the_json_rules() {
    let app = spawn_app_with(|s| s.vectors.max_batch_body_bytes = 64 * 1024).await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let http = reqwest::Client::new();
    let auth = bearer(&app, "ada@example.com").await;
    let batch = format!("{}/api/v1/projects/{pid}/database/vectors/upsert-batch", app.address);
    let memories = format!("{}/api/v1/projects/{pid}/database/memory/store-batch", app.address);
    for url in [&batch, &memories] {
        let send = |content_type: &'static str, body: String| {
            http.post(url.as_str())
                .header("authorization", &auth)
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        let r = send("text/plain", "{}".into()).await.unwrap();
        assert_eq!(r.status(), 415, "{url}");
        let r = send("application/json", "{\"vect".into()).await.unwrap();
        assert_eq!(r.status(), 400, "{url}");
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"]["code"], "invalid_json");
        let r = send("application/json", "[1, 2]".into()).await.unwrap();
        assert_eq!(r.status(), 422, "{url}");
        let huge =
            format!("{{\"vectors\": [{{\"vector_embedding\": [{}1]}}]}}", "1,".repeat(40_000));
        let r = send("application/json", huge).await.unwrap();
        assert_eq!(r.status(), 413, "{url}");
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["error"]["code"],
            "payload_too_large"
        );
    }
    // Within the limit, with a `+json` media type, a batch is stored.
    let r = http
        .post(&batch)
        .header("authorization", &auth)
        .header("content-type", "application/vnd.api+json")
        .body(json!({"vectors": [{"vector_embedding": [1.0, 0.0]}]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(ada.list_namespaces(pid).await.unwrap()[0].vector_count, 1);
}
