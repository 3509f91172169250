use crate::helpers::*;
use futures_util::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};
use zerodb_client::{Client, EventQuery, HttpMethod as M, NewEvent};

fn ev(topic: &str, n: i64) -> NewEvent {
    NewEvent::new(topic, json!({"n": n}))
}

#[tokio::test]
async fn offsets_are_consecutive_and_listing_follows_them() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let first = ada
        .publish_event(
            pid,
            &NewEvent {
                key: Some("k1".into()),
                headers: Some(json!({"trace": "abc"})),
                ..ev("orders", 0)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (first.offset, first.key.as_deref(), first.headers["trace"].as_str()),
        (1, Some("k1"), Some("abc"))
    );
    let batch = ada
        .publish_events(
            pid,
            &(1..=5)
                .map(|n| ev(if n % 2 == 0 { "audit" } else { "orders" }, n))
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    assert_eq!(batch.events.iter().map(|e| e.offset).collect::<Vec<_>>(), vec![2, 3, 4, 5, 6]);

    // Concurrent publishers still get distinct, gap-free offsets.
    let handles: Vec<_> = (0..40)
        .map(|n| {
            let ada = ada.clone();
            tokio::spawn(
                async move { ada.publish_event(pid, &ev("load", n)).await.unwrap().offset },
            )
        })
        .collect();
    let mut offsets = Vec::new();
    for h in handles {
        offsets.push(h.await.unwrap());
    }
    offsets.sort();
    assert_eq!(offsets, (7..=46).collect::<Vec<_>>());

    let all = ada
        .list_events(pid, &EventQuery { limit: Some(1000), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(
        all.items.iter().map(|e| e.offset).collect::<Vec<_>>(),
        (1..=46).collect::<Vec<_>>()
    );
    let orders = ada
        .list_events(pid, &EventQuery { topic: Some("orders".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(orders.items.iter().map(|e| e.offset).collect::<Vec<_>>(), vec![1, 2, 4, 6]);
    let from = ada
        .list_events(
            pid,
            &EventQuery {
                topic: Some("orders".into()),
                from_offset: Some(4),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(from.items.iter().map(|e| e.offset).collect::<Vec<_>>(), vec![4, 6]);
    // Cursor paging over a topic.
    let mut seen = Vec::new();
    let mut query =
        EventQuery { topic: Some("load".into()), limit: Some(15), ..Default::default() };
    loop {
        let page = ada.list_events(pid, &query).await.unwrap();
        seen.extend(page.items.iter().map(|e| e.offset));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, (7..=46).collect::<Vec<_>>());
    let none = ada
        .list_events(pid, &EventQuery { until: Some(first.published_at), ..Default::default() })
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

#[tokio::test]
async fn event_validation_changes_nothing() {
    let app = spawn_app_with(|s| s.events.max_payload_bytes = 1024).await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let publish = format!("/api/v1/projects/{pid}/database/events/publish");
    for body in [
        json!({"topic": "has space", "event_payload": 1}),
        json!({"topic": "", "event_payload": 1}),
        json!({"topic": "x".repeat(250), "event_payload": 1}),
        json!({"topic": "t"}),
        json!({"topic": "t", "event_payload": 1, "key": ""}),
        json!({"topic": "t", "event_payload": 1, "headers": {"n": 1}}),
    ] {
        let r = call(&ada, M::POST, &publish, Some(body.clone())).await;
        assert_error(&r, 422, "validation_failed");
    }
    let r = call(
        &ada,
        M::POST,
        &publish,
        Some(json!({"topic": "t", "event_payload": {"blob": "x".repeat(2000)}})),
    )
    .await;
    assert_error(&r, 413, "payload_too_large");
    let batch = format!("/api/v1/projects/{pid}/database/events/publish-batch");
    let r = call(&ada, M::POST, &batch, Some(json!({"events": [{"topic": "ok", "event_payload": 1}, {"topic": "bad topic", "event_payload": 2}]}))).await;
    assert_error(&r, 422, "validation_failed");
    assert!(r.body["error"]["details"]["fields"].to_string().contains("events[1].topic"));
    let many: Vec<_> = (0..1001).map(|n| json!({"topic": "t", "event_payload": n})).collect();
    assert_error(
        &call(&ada, M::POST, &batch, Some(json!({"events": many}))).await,
        422,
        "validation_failed",
    );
    assert!(
        ada.list_events(pid, &EventQuery::default()).await.unwrap().items.is_empty(),
        "nothing partial"
    );
    let list = format!("/api/v1/projects/{pid}/database/events");
    for q in ["from_offset=-1", "topic=bad%20topic", "consumer=g", "cursor=zzz", "from_offset=x"] {
        let r = call(&ada, M::GET, &format!("{list}?{q}"), None).await;
        assert!(r.status == 400 || r.status == 422, "{q}: {}", r.body);
    }
    let r = reqwest::Client::new()
        .get(format!("{}{list}/stream", app.address))
        .bearer_auth(
            app.client
                .login("ada@example.com", "correct horse battery")
                .await
                .unwrap()
                .access_token,
        )
        .header("last-event-id", "not-a-number")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

async fn take(stream: &mut zerodb_client::EventStream, n: usize) -> Vec<i64> {
    let mut offsets = Vec::new();
    while offsets.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("stream stalled");
        offsets.push(next.expect("stream ended").expect("bad event").offset);
    }
    offsets
}

#[tokio::test]
async fn stream_replays_history_then_follows_live() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    ada.publish_events(
        pid,
        &(1..=5).map(|n| ev(if n == 3 { "other" } else { "t" }, n)).collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    let mut stream = ada
        .stream_events(
            pid,
            &EventQuery { topic: Some("t".into()), from_offset: Some(2), ..Default::default() },
            None,
        )
        .await
        .unwrap();
    assert_eq!(take(&mut stream, 3).await, vec![2, 4, 5]);
    let publisher = ada.clone();
    tokio::spawn(async move {
        for n in 6..=8 {
            publisher.publish_event(pid, &ev("t", n)).await.unwrap();
        }
    });
    assert_eq!(take(&mut stream, 3).await, vec![6, 7, 8]);
}

#[tokio::test]
async fn last_event_id_resumes_with_no_gap_and_no_duplicate() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    const TOTAL: i64 = 300;
    let publisher = ada.clone();
    let producing = tokio::spawn(async move {
        for n in 1..=TOTAL {
            publisher.publish_event(pid, &ev("t", n)).await.unwrap();
            if n % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    let mut received: Vec<i64> = Vec::new();
    let mut last = None;
    // Read a little, drop the connection, resume from the last id seen; repeat while the
    // publisher keeps going.
    while received.len() < TOTAL as usize {
        let mut stream = ada
            .stream_events(pid, &EventQuery { from_offset: Some(1), ..Default::default() }, last)
            .await
            .unwrap();
        let want = (TOTAL as usize - received.len()).min(37);
        let got = take(&mut stream, want).await;
        last = got.last().copied();
        received.extend(got);
    }
    producing.await.unwrap();
    assert_eq!(received, (1..=TOTAL).collect::<Vec<_>>());
}

#[tokio::test]
async fn consumer_groups_commit_and_resume() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    ada.publish_events(pid, &(1..=6).map(|n| ev("jobs", n)).collect::<Vec<_>>()).await.unwrap();
    let group = ada.commit_consumer(pid, "workers", "jobs", 4).await.unwrap();
    assert_eq!((group.offsets[0].topic.as_str(), group.offsets[0].committed_offset), ("jobs", 4));
    let listed = ada
        .list_events(
            pid,
            &EventQuery {
                topic: Some("jobs".into()),
                consumer: Some("workers".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.items.iter().map(|e| e.offset).collect::<Vec<_>>(), vec![5, 6]);
    let mut stream = ada
        .stream_events(
            pid,
            &EventQuery {
                topic: Some("jobs".into()),
                consumer: Some("workers".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(take(&mut stream, 2).await, vec![5, 6]);
    // A new group starts at the beginning.
    let fresh = ada
        .list_events(
            pid,
            &EventQuery {
                topic: Some("jobs".into()),
                consumer: Some("new".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(fresh.items.len(), 6);
    assert_eq!(ada.get_consumer(pid, "workers").await.unwrap().offsets.len(), 1);
    for (group, topic, offset) in [
        ("workers", "jobs", 7),
        ("workers", "jobs", -1),
        ("bad group", "jobs", 1),
        ("workers", "bad topic", 1),
    ] {
        let err = ada.commit_consumer(pid, group, topic, offset).await.unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (Some(422), Some("validation_failed")),
            "{group} {topic} {offset}"
        );
    }
    assert_eq!(ada.get_consumer(pid, "workers").await.unwrap().offsets[0].committed_offset, 4);
}

#[tokio::test]
async fn events_reach_subscribers_of_another_process_within_a_second() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut second = tokio::process::Command::new(env!("CARGO_BIN_EXE_zerodb"))
        .arg("serve")
        .env("DATABASE_URL", &app.db.url)
        .env("ZERODB__AUTH__JWT_SECRET", JWT_SECRET)
        .env("ZERODB__SERVER__PORT", port.to_string())
        .env("ZERODB__LOG__LEVEL", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let token =
        app.client.login("ada@example.com", "correct horse battery").await.unwrap().access_token;
    let other = Client::new(&format!("http://127.0.0.1:{port}")).with_token(&token);
    wait_healthy(&other).await;
    let mut stream = other.stream_events(pid, &EventQuery::default(), None).await.unwrap();
    for n in 1..=5 {
        let sent = Instant::now();
        let published = ada.publish_event(pid, &ev("t", n)).await.unwrap();
        let got = tokio::time::timeout(Duration::from_secs(1), stream.next())
            .await
            .expect("not delivered within 1 s");
        assert_eq!(got.unwrap().unwrap().offset, published.offset);
        assert!(sent.elapsed() < Duration::from_secs(1));
    }
    second.kill().await.unwrap();
}
