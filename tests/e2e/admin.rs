use crate::helpers::*;
use serde_json::json;
use zerodb_client::{AdminProjectQuery, HttpMethod as M, NewAgentLog, UsageQuery};

#[tokio::test]
async fn admins_see_everything_others_get_403() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let ada_project = app.enabled_project(&ada, "a1").await;
    app.enabled_project(&ada, "a2").await;
    let bob_project = app.enabled_project(&bob, "b1").await;
    ada.create_table(ada_project, "t", &json!({"columns": {"a": "string"}})).await.unwrap();
    ada.insert_rows(ada_project, "t", &[json!({"a": "x".repeat(100)}), json!({"a": "y"})])
        .await
        .unwrap();
    let agent = uuid::Uuid::new_v4();
    ada.log_agent(
        ada_project,
        &NewAgentLog {
            agent_id: agent,
            session_id: None,
            log_level: "INFO".into(),
            log_message: "hi".into(),
            raw_payload: None,
        },
    )
    .await
    .unwrap();
    let key = ada.create_api_key(ada_project, "k", &["*"]).await.unwrap();
    let admin = app.admin().await;

    let all = admin.admin_list_projects(&AdminProjectQuery::default()).await.unwrap();
    assert_eq!(all.items.len(), 3);
    let page = admin
        .admin_list_projects(&AdminProjectQuery { limit: Some(2), ..Default::default() })
        .await
        .unwrap();
    let rest = admin
        .admin_list_projects(&AdminProjectQuery {
            limit: Some(2),
            cursor: page.next_cursor,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((page.items.len(), rest.items.len()), (2, 1));
    let bobs = admin
        .admin_list_projects(&AdminProjectQuery {
            owner: Some(bob.me().await.unwrap().user.unwrap().user_id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(bobs.items.iter().map(|p| p.project_id).collect::<Vec<_>>(), vec![bob_project]);
    assert_eq!(
        admin
            .admin_list_projects(&AdminProjectQuery { active: Some(false), ..Default::default() })
            .await
            .unwrap()
            .items
            .len(),
        0
    );

    let details = admin.admin_get_project(ada_project).await.unwrap();
    assert_eq!(
        (
            details.counts.tables,
            details.counts.rows,
            details.counts.agent_logs,
            details.counts.api_keys
        ),
        (1, 2, 1, 1)
    );
    assert!(details.storage_bytes > 100, "{}", details.storage_bytes);
    assert!(details.last_activity.is_some());
    let missing = admin.admin_get_project(uuid::Uuid::new_v4()).await.unwrap_err();
    assert_eq!(missing.status(), Some(404));

    let stats = admin.admin_stats().await.unwrap();
    assert_eq!((stats.users, stats.projects, stats.totals.rows, stats.totals.tables), (3, 3, 2, 1));
    assert!(stats.database_bytes > 0);
    assert!(stats.uptime_seconds >= 0);
    assert_eq!(stats.version, env!("CARGO_PKG_VERSION"));

    // Everyone else: a user 403, an API key 403, nobody 401.
    let by_key = app.client.with_api_key(&key.api_key);
    let paths = [
        "/api/v1/admin/zerodb/projects".to_owned(),
        format!("/api/v1/admin/zerodb/projects/{ada_project}"),
        "/api/v1/admin/zerodb/stats".to_owned(),
        "/api/v1/admin/zerodb/usage/analytics".to_owned(),
    ];
    for path in &paths {
        assert_error(&call(&ada, M::GET, path, None).await, 403, "forbidden");
        assert_error(&call(&by_key, M::GET, path, None).await, 403, "forbidden");
        assert_error(&call(&app.client, M::GET, path, None).await, 401, "unauthenticated");
    }
    for q in [
        "from=2026-13-01",
        "from=2026-02-01&to=2026-01-01",
        "from=2020-01-01&to=2026-01-01",
        "project_id=x",
    ] {
        let r =
            call(&admin, M::GET, &format!("/api/v1/admin/zerodb/usage/analytics?{q}"), None).await;
        assert!(r.status == 400 || r.status == 422, "{q}: {}", r.body);
    }
    let _ = admin.admin_usage(&UsageQuery::default()).await.unwrap();
}
