//! The event outbox against a real PostgreSQL: pending tails in offset order, cursors that
//! only move forward, one leader across processes, and the backlog.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, json};
use std::sync::Arc;
use uuid::Uuid;
use zerodb_domain::events::{EventBus, NewEvent, TopicName};
use zerodb_domain::projects::{NewProject, ProjectName, ProjectRepository};
use zerodb_domain::relay::EventOutbox;
use zerodb_domain::users::{Email, NewUser, UserRepository};
use zerodb_domain::{ProjectId, UserId};
use zerodb_postgres::testing::TestDatabase;
use zerodb_postgres::{PgEventBus, PgProjectRepository, PgUserRepository};

fn events(topic: &str, n: usize) -> Vec<NewEvent> {
    (0..n)
        .map(|i| NewEvent {
            id: Uuid::now_v7(),
            topic: TopicName::new(topic, "topic").unwrap(),
            key: None,
            headers: Map::new(),
            payload: json!({ "i": i }),
        })
        .collect()
}

async fn project(db: &TestDatabase) -> ProjectId {
    let users = PgUserRepository::new(db.pool());
    let user = users
        .create(NewUser {
            id: UserId::new(),
            email: Email::new(&format!("{}@example.com", Uuid::new_v4().simple())).unwrap(),
            password_hash: "hash".into(),
            role: zerodb_domain::principal::Role::User,
        })
        .await
        .unwrap();
    let new = NewProject {
        id: ProjectId::new(),
        owner_id: user.id,
        name: ProjectName::new("outbox").unwrap(),
        description: None,
    };
    PgProjectRepository::new(db.pool()).create(new).await.unwrap().id
}

#[tokio::test]
async fn pending_tails_follow_the_cursor_and_one_process_leads() {
    let db = TestDatabase::new().await;
    let bus = PgEventBus::start(db.pool(), db.url.clone()).unwrap();
    let (a, b) = (project(&db).await, project(&db).await);
    bus.publish(a, events("x", 5)).await.unwrap();
    bus.publish(b, events("y", 2)).await.unwrap();

    let outbox: Arc<dyn EventOutbox> = Arc::new(bus.outbox());
    let backlog = outbox.backlog().await.unwrap();
    assert_eq!(backlog.events, 7);
    assert!(backlog.oldest.is_some());

    // At most 3 events per project, each project's in offset order.
    let pending = outbox.pending(10, 3).await.unwrap();
    let mut seen: Vec<(ProjectId, Vec<i64>)> = pending
        .iter()
        .map(|p| (p.project_id, p.events.iter().map(|e| e.offset).collect()))
        .collect();
    seen.sort_by_key(|(p, _)| *p == b);
    assert_eq!(seen, vec![(a, vec![1, 2, 3]), (b, vec![1, 2])]);

    outbox.delivered(a, 3).await.unwrap();
    outbox.delivered(b, 2).await.unwrap();
    // A stale acknowledgement never moves a cursor back.
    outbox.delivered(a, 1).await.unwrap();
    let pending = outbox.pending(10, 100).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].project_id, a);
    assert_eq!(pending[0].events.iter().map(|e| e.offset).collect::<Vec<_>>(), vec![4, 5]);
    assert_eq!(pending[0].events[0].payload, json!({"i": 3}));
    assert_eq!(outbox.backlog().await.unwrap().events, 2);

    // Only one of two processes' outboxes leads; the second takes over when the first goes.
    let other = PgEventBus::start(db.pool(), db.url.clone()).unwrap();
    let first = bus.outbox();
    let second = other.outbox();
    assert!(first.lead().await.unwrap());
    assert!(first.lead().await.unwrap(), "the leader keeps leading");
    assert!(!second.lead().await.unwrap());
    // Resigning hands over at once.
    first.resign().await;
    assert!(second.lead().await.unwrap());
    assert!(!first.lead().await.unwrap());
    // A leader that just goes away (its connection closes) hands over too.
    drop(second);
    let mut took_over = false;
    for _ in 0..50 {
        if first.lead().await.unwrap() {
            took_over = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(took_over, "the lock was not released with its connection");

    outbox.delivered(a, 5).await.unwrap();
    assert_eq!(outbox.backlog().await.unwrap().events, 0);
    assert!(outbox.pending(10, 100).await.unwrap().is_empty());
}
