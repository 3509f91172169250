//! Metering, rate limiting and Prometheus metrics.

use crate::helpers::*;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use zerodb_client::{HttpMethod as M, ListOptions, RowQuery, UsageQuery};

#[tokio::test]
async fn metering_counts_exactly_what_was_requested() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    ada.create_table(pid, "t", &json!({"columns": {"a": "string"}})).await.unwrap();
    let key = ada.create_api_key(pid, "k", &["*"]).await.unwrap();
    let by_key = app.client.with_api_key(&key.api_key);
    app.meter.flush().await.unwrap();
    let admin = app.admin().await;
    let usage = |admin: zerodb_client::Client| async move {
        let rows = admin
            .admin_usage(&UsageQuery { project_id: Some(pid), ..Default::default() })
            .await
            .unwrap();
        let mut by_area: HashMap<String, u64> = HashMap::new();
        for r in rows.items {
            *by_area.entry(r.area).or_default() += r.requests;
        }
        by_area
    };
    let before = usage(admin.clone()).await;

    for _ in 0..7 {
        ada.query_rows(pid, "t", &RowQuery::default()).await.unwrap();
    }
    for _ in 0..3 {
        by_key.list_tables(pid, &ListOptions::default()).await.unwrap();
    }
    for _ in 0..4 {
        ada.get_database(pid).await.unwrap();
    }
    ada.list_api_keys(pid, &ListOptions::default()).await.unwrap();
    // Denied requests are not usage of the project.
    let stranger = app.user("eve@example.com").await;
    assert!(stranger.get_database(pid).await.is_err());
    app.meter.flush().await.unwrap();

    let after = usage(admin).await;
    let delta =
        |area: &str| after.get(area).copied().unwrap_or(0) - before.get(area).copied().unwrap_or(0);
    assert_eq!(delta("tables"), 10);
    assert_eq!(delta("database"), 4);
    assert_eq!(delta("projects"), 1);
    assert_eq!(delta("vectors"), 0);
}

#[tokio::test]
async fn bursts_beyond_the_limit_get_429_then_recover() {
    let app = spawn_app_with(|s| {
        s.rate_limit.requests_per_second = 1;
        s.rate_limit.burst = 3;
    })
    .await;
    let ada = app.user("ada@example.com").await;
    // Health endpoints are never limited.
    for _ in 0..20 {
        assert_eq!(call(&app.client, M::GET, "/health", None).await.status, 200);
    }
    let mut statuses = Vec::new();
    let mut retry_after = None;
    let token =
        app.client.login("ada@example.com", "correct horse battery").await.unwrap().access_token;
    for _ in 0..6 {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/auth/me", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        }
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let wait = retry_after.expect("Retry-After");
    assert!((1..=2).contains(&wait));
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert!(ada.me().await.is_ok(), "allowed again after Retry-After");
}

#[tokio::test]
async fn projects_can_set_their_own_key_limit() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    ada.update_database_config(pid, &json!({"rate_limit_per_second": 1, "rate_limit_burst": 2}))
        .await
        .unwrap();
    let key = ada.create_api_key(pid, "k", &["*"]).await.unwrap();
    let by_key = app.client.with_api_key(&key.api_key);
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(
            call(&by_key, M::GET, &format!("/api/v1/projects/{pid}/database"), None).await.status,
        );
    }
    assert_eq!(&codes[..2], &[200, 200]);
    assert_eq!(codes[3], 429, "{codes:?}");
    // The owner's own requests use the server's (higher) default.
    for _ in 0..5 {
        assert!(ada.get_database(pid).await.is_ok());
    }
}

fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        (metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse().ok())?
    })
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_move() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let text = app.client.metrics().await.unwrap();
    // Every line is a comment or `name{labels} value` with a numeric value.
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(comment.starts_with("HELP ") || comment.starts_with("TYPE "), "{line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let name = series.split('{').next().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "{line}");
    }
    let route = "/api/v1/projects/{project_id}/database";
    let before = sample(
        &text,
        "zerodb_http_requests_total",
        &[("route", route), ("status", "200"), ("method", "GET")],
    )
    .unwrap_or(0.0);
    for _ in 0..3 {
        ada.get_database(pid).await.unwrap();
    }
    let text = app.client.metrics().await.unwrap();
    let after = sample(
        &text,
        "zerodb_http_requests_total",
        &[("route", route), ("status", "200"), ("method", "GET")],
    )
    .unwrap();
    assert_eq!(after - before, 3.0);
    assert!(
        sample(&text, "zerodb_http_request_duration_seconds_count", &[("route", route)]).unwrap()
            >= 3.0
    );
    assert_eq!(sample(&text, "zerodb_objects", &[("area", "projects")]), Some(1.0));
    assert!(sample(&text, "zerodb_db_pool_connections", &[("state", "size")]).unwrap() >= 1.0);
    assert_eq!(
        sample(&text, "zerodb_build_info", &[("version", env!("CARGO_PKG_VERSION"))]),
        Some(1.0)
    );
}

#[tokio::test]
async fn counts_of_the_last_requests_are_written_at_shutdown() {
    // No interval flush during the test: only the one at shutdown can write these counts.
    let app = spawn_app_with(|s| s.metering.flush_interval_secs = 3600).await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let admin = app.admin().await;
    for _ in 0..5 {
        ada.get_database(pid).await.unwrap();
    }
    app.handle.stop(true).await;
    let _ = app.stopped.await;

    let server = start_server(&test_settings(&app.db.url, app.data_dir.path())).await;
    let token = zerodb_client::Client::new(&server.address)
        .login("root@example.com", "correct horse battery")
        .await
        .unwrap()
        .access_token;
    let admin_again = zerodb_client::Client::new(&server.address).with_token(&token);
    let rows = admin_again
        .admin_usage(&UsageQuery { project_id: Some(pid), ..Default::default() })
        .await
        .unwrap();
    let database: u64 =
        rows.items.iter().filter(|r| r.area == "database").map(|r| r.requests).sum();
    // enable_database counts once, the five status reads five times.
    assert_eq!(database, 6, "{:?}", rows.items);
    drop(admin);
}
