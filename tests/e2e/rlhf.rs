use crate::helpers::*;
use serde_json::json;
use uuid::Uuid;
use zerodb_client::{HttpMethod as M, NewRlhfRecord, RlhfQuery};

fn record(session: Uuid, prompt: &str, reward: Option<f64>, tags: &[&str]) -> NewRlhfRecord {
    NewRlhfRecord {
        session_id: session,
        input_prompt: prompt.into(),
        model_output: Some(format!("answer to {prompt}")),
        reward_score: reward,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn log_list_filter_page_and_summarise() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let (s1, s2) = (Uuid::new_v4(), Uuid::new_v4());
    let one = ada.log_rlhf(pid, &record(s1, "q0", Some(0.0), &["math"])).await.unwrap();
    assert_eq!((one.input_prompt.as_str(), one.reward_score), ("q0", Some(0.0)));
    let batch: Vec<_> = (1..=10)
        .map(|i| {
            record(
                if i % 2 == 0 { s1 } else { s2 },
                &format!("q{i}"),
                Some(f64::from(i)),
                if i > 5 { &["math", "hard"] } else { &["math"] },
            )
        })
        .collect();
    let logged = ada.log_rlhf_batch(pid, &batch).await.unwrap();
    assert_eq!(logged.logged, 10);

    // Newest first, paged.
    let mut prompts = Vec::new();
    let mut query = RlhfQuery { limit: Some(4), ..Default::default() };
    loop {
        let page = ada.list_rlhf(pid, &query).await.unwrap();
        prompts.extend(page.items.into_iter().map(|r| r.input_prompt));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..=10).rev().map(|i| format!("q{i}")).collect();
    assert_eq!(prompts, expected);

    let by = |q: RlhfQuery| {
        let ada = ada.clone();
        async move {
            ada.list_rlhf(pid, &q)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|r| r.input_prompt)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        by(RlhfQuery { session_id: Some(s2), ..Default::default() }).await,
        vec!["q9", "q7", "q5", "q3", "q1"]
    );
    assert_eq!(
        by(RlhfQuery { min_reward: Some(3.0), max_reward: Some(5.0), ..Default::default() }).await,
        vec!["q5", "q4", "q3"]
    );
    assert_eq!(
        by(RlhfQuery { tags: Some("hard,math".into()), ..Default::default() }).await.len(),
        5
    );
    assert_eq!(by(RlhfQuery { until: Some(one.created_at), ..Default::default() }).await.len(), 0);
    assert_eq!(by(RlhfQuery { since: Some(one.created_at), ..Default::default() }).await.len(), 11);

    let status = ada.get_database(pid).await.unwrap();
    assert_eq!((status.rlhf.count, status.rlhf.rewarded), (11, 11));
    assert!((status.rlhf.mean_reward.unwrap() - 5.0).abs() < 1e-9);
    assert_eq!((status.rlhf.min_reward, status.rlhf.max_reward), (Some(0.0), Some(10.0)));
    assert_eq!(status.rlhf.histogram.len(), 10);
    assert_eq!(status.rlhf.histogram.iter().map(|b| b.count).sum::<u64>(), 11);
    assert_eq!(status.rlhf.histogram[9].count, 2, "the last bar holds 9 and the maximum 10");
    assert_eq!(status.statistics.rlhf_records, 11);
}

#[tokio::test]
async fn export_is_jsonl_ready_for_fine_tuning() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let s = Uuid::new_v4();
    ada.log_rlhf(pid, &record(s, "plain", Some(1.0), &["a"])).await.unwrap();
    let pair = NewRlhfRecord {
        session_id: s,
        input_prompt: "pair".into(),
        chosen_output: Some("good".into()),
        rejected_output: Some("bad".into()),
        tags: vec!["a".into()],
        ..Default::default()
    };
    ada.log_rlhf(pid, &pair).await.unwrap();
    // Enough rows for the export to span several internal pages.
    let many: Vec<_> = (0..1000).map(|i| record(s, &format!("bulk{i}"), None, &["bulk"])).collect();
    ada.log_rlhf_batch(pid, &many).await.unwrap();
    ada.log_rlhf_batch(pid, &many[..500]).await.unwrap();

    let lines = ada
        .export_rlhf(pid, &RlhfQuery { tags: Some("a".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(
        lines,
        vec![
            json!({"prompt": "pair", "chosen": "good", "rejected": "bad"}),
            json!({"prompt": "plain", "completion": "answer to plain"})
        ]
    );
    let all = ada.export_rlhf(pid, &RlhfQuery::default()).await.unwrap();
    assert_eq!(all.len(), 1502);
    assert!(all.iter().all(
        |l| l["prompt"].is_string() && (l["completion"].is_string() || l["chosen"].is_string())
    ));

    let r = call(
        &ada,
        M::GET,
        &format!("/api/v1/projects/{pid}/database/rlhf/export?format=csv"),
        None,
    )
    .await;
    assert_error(&r, 400, "invalid_query");
}

#[tokio::test]
async fn rlhf_validation_is_all_or_nothing() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let s = Uuid::nil();
    let log = format!("/api/v1/projects/{pid}/database/rlhf/log");
    for (body, field) in [
        (json!({"session_id": s, "input_prompt": "p"}), "model_output"),
        (json!({"session_id": s, "input_prompt": "", "model_output": "o"}), "input_prompt"),
        (json!({"session_id": s, "input_prompt": "p", "chosen_output": "c"}), "rejected_output"),
        (json!({"session_id": s, "input_prompt": "p", "model_output": "o", "rating": 9}), "rating"),
        (json!({"session_id": s, "input_prompt": "p", "model_output": "o", "tags": [""]}), "tags"),
    ] {
        let r = call(&ada, M::POST, &log, Some(body.clone())).await;
        assert_error(&r, 422, "validation_failed");
        assert!(r.body["error"]["details"]["fields"].to_string().contains(field), "{body}");
    }
    for body in [
        json!({"session_id": "not-a-uuid", "input_prompt": "p", "model_output": "o"}),
        json!({"session_id": s, "input_prompt": "p", "model_output": "o", "reward_score": "high"}),
    ] {
        let r = call(&ada, M::POST, &log, Some(body)).await;
        assert_error(&r, 422, "validation_failed");
    }
    let batch = format!("/api/v1/projects/{pid}/database/rlhf/log-batch");
    let r = call(&ada, M::POST, &batch, Some(json!({"records": [{"session_id": s, "input_prompt": "ok", "model_output": "o"}, {"session_id": s, "input_prompt": "bad"}]}))).await;
    assert_error(&r, 422, "validation_failed");
    assert!(r.body["error"]["details"]["fields"].to_string().contains("records[1].model_output"));
    let r = call(&ada, M::POST, &batch, Some(json!({"records": []}))).await;
    assert_error(&r, 422, "validation_failed");
    let list = format!("/api/v1/projects/{pid}/database/rlhf");
    for q in [
        "min_reward=5&max_reward=1",
        "min_reward=abc",
        "since=yesterday",
        "cursor=junk",
        "limit=0",
        "session_id=nope",
    ] {
        let r = call(&ada, M::GET, &format!("{list}?{q}"), None).await;
        assert!(r.status == 400 || r.status == 422, "{q}: {}", r.body);
    }
    assert_eq!(ada.get_database(pid).await.unwrap().rlhf.count, 0, "nothing stored");
}
