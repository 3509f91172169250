use crate::helpers::*;
use serde_json::json;
use uuid::Uuid;
use zerodb_client::{AgentLogQuery, HttpMethod as M, NewAgentLog};

fn log(agent: Uuid, session: Option<Uuid>, level: &str, message: &str) -> NewAgentLog {
    NewAgentLog {
        agent_id: agent,
        session_id: session,
        log_level: level.into(),
        log_message: message.into(),
        raw_payload: Some(json!({"n": message.len()})),
    }
}

#[tokio::test]
async fn log_and_list_with_filters_newest_first() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let (planner, coder, session) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let first = ada
        .log_agent(pid, &log(planner, Some(session), "info", "Planning the Task"))
        .await
        .unwrap();
    assert_eq!(first.log_level, "INFO");
    ada.log_agent_batch(
        pid,
        &[
            log(planner, Some(session), "DEBUG", "considering options"),
            log(coder, None, "WARN", "retrying the build"),
            log(coder, Some(session), "ERROR", "build failed: task aborted"),
        ],
    )
    .await
    .unwrap();

    let messages = |q: AgentLogQuery| {
        let ada = ada.clone();
        async move {
            ada.list_agent_logs(pid, &q)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|l| l.log_message)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        messages(AgentLogQuery::default()).await,
        vec![
            "build failed: task aborted",
            "retrying the build",
            "considering options",
            "Planning the Task"
        ]
    );
    assert_eq!(
        messages(AgentLogQuery { agent_id: Some(planner), ..Default::default() }).await.len(),
        2
    );
    assert_eq!(
        messages(AgentLogQuery { session_id: Some(session), ..Default::default() }).await.len(),
        3
    );
    assert_eq!(
        messages(AgentLogQuery { min_level: Some("WARN".into()), ..Default::default() }).await,
        vec!["build failed: task aborted", "retrying the build"]
    );
    assert_eq!(
        messages(AgentLogQuery { contains: Some("TASK".into()), ..Default::default() }).await,
        vec!["build failed: task aborted", "Planning the Task"]
    );
    assert_eq!(
        messages(AgentLogQuery { contains: Some("%".into()), ..Default::default() }).await.len(),
        0,
        "no pattern syntax"
    );
    assert_eq!(
        messages(AgentLogQuery {
            since: Some(first.created_at),
            until: Some(first.created_at),
            ..Default::default()
        })
        .await
        .len(),
        0
    );

    let page = ada
        .list_agent_logs(pid, &AgentLogQuery { limit: Some(3), ..Default::default() })
        .await
        .unwrap();
    let rest = ada
        .list_agent_logs(
            pid,
            &AgentLogQuery { limit: Some(3), cursor: page.next_cursor, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((page.items.len(), rest.items.len(), rest.next_cursor), (3, 1, None));
    assert_eq!(ada.get_database(pid).await.unwrap().statistics.agent_logs, 4);
}

#[tokio::test]
async fn agent_log_validation() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let path = format!("/api/v1/projects/{pid}/database/agent/log");
    let a = Uuid::nil();
    for body in [
        json!({"agent_id": a, "log_level": "LOUD", "log_message": "m"}),
        json!({"agent_id": a, "log_level": "INFO", "log_message": ""}),
        json!({"agent_id": "planner", "log_level": "INFO", "log_message": "m"}),
        json!({"agent_id": a, "log_level": "INFO"}),
        json!({"agent_id": a, "log_level": "INFO", "log_message": "x".repeat(70_000)}),
    ] {
        let r = call(&ada, M::POST, &path, Some(body)).await;
        assert_error(&r, 422, "validation_failed");
    }
    let batch = format!("/api/v1/projects/{pid}/database/agent/log-batch");
    let r = call(&ada, M::POST, &batch, Some(json!({"logs": [{"agent_id": a, "log_level": "INFO", "log_message": "ok"}, {"agent_id": a, "log_level": "NOPE", "log_message": "m"}]}))).await;
    assert_error(&r, 422, "validation_failed");
    assert!(r.body["error"]["details"]["fields"].to_string().contains("logs[1].log_level"));
    let r = call(
        &ada,
        M::GET,
        &format!("/api/v1/projects/{pid}/database/agent/logs?min_level=TRACE"),
        None,
    )
    .await;
    assert_error(&r, 422, "validation_failed");
    assert_eq!(ada.get_database(pid).await.unwrap().statistics.agent_logs, 0);
}
