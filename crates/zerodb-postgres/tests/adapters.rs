//! The PostgreSQL adapters of the memory, event, vector-record and file ports, each against
//! its port's documented contract on a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use uuid::Uuid;
use zerodb_domain::events::{EventBus, EventFilter, NewEvent, TopicName};
use zerodb_domain::files::{FileRecord, FileRepository, FileRepositoryError, FileStatus};
use zerodb_domain::memory::{MemoryFilter, MemoryRecord, MemoryRole, MemoryStore};
use zerodb_domain::principal::Role;
use zerodb_domain::projects::{NewProject, ProjectName, ProjectRepository};
use zerodb_domain::users::{Email, NewUser, UserRepository};
use zerodb_domain::vectors::{
    NamespaceName, NamespaceSpec, NewVector, VectorChange, VectorRecords, VectorSelector,
};
use zerodb_domain::{ProjectId, RepositoryError, UserId};
use zerodb_postgres::testing::TestDatabase;
use zerodb_postgres::{
    PgEventBus, PgFileRepository, PgMemoryStore, PgProjectRepository, PgUserRepository,
    PgVectorRecords,
};

async fn project(db: &TestDatabase) -> ProjectId {
    let pool = db.pool();
    let owner = PgUserRepository::new(pool.clone())
        .create(NewUser {
            id: UserId::new(),
            email: Email::new(&format!("{}@example.com", Uuid::new_v4().simple())).unwrap(),
            password_hash: "hash".into(),
            role: Role::User,
        })
        .await
        .unwrap()
        .id;
    let new = NewProject {
        id: ProjectId::new(),
        owner_id: owner,
        name: ProjectName::new("p").unwrap(),
        description: None,
    };
    PgProjectRepository::new(pool).create(new).await.unwrap().id
}

/// A whole second: PostgreSQL keeps microseconds, so times compare exactly.
fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_900_000_000 + seconds, 0).single().unwrap()
}

fn memory(
    content: &str,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> MemoryRecord {
    MemoryRecord {
        id: Uuid::now_v7(),
        agent_id: Uuid::nil(),
        session_id: Uuid::nil(),
        role: MemoryRole::User,
        content: content.into(),
        metadata: Map::new(),
        importance: 0.5,
        created_at,
        expires_at,
    }
}

#[tokio::test]
async fn memory_store_hides_expired_records_and_purges_them() {
    let db = TestDatabase::new().await;
    let pid = project(&db).await;
    let store = PgMemoryStore::new(db.pool());
    let old = memory("the deployment key rotates on mondays", at(0), None);
    let new = memory("backups run at midnight", at(10), None);
    let brief = memory("a short lived secret", at(5), Some(at(20)));
    store.insert(pid, vec![old.clone(), new.clone(), brief.clone()]).await.unwrap();

    assert_eq!(store.get(pid, old.id, at(30)).await.unwrap(), old, "read back as written");
    assert_eq!(store.get(pid, brief.id, at(30)).await.err(), Some(RepositoryError::NotFound));
    assert_eq!(store.get(pid, brief.id, at(15)).await.unwrap().id, brief.id, "not yet expired");
    let newest_first = store.list(pid, &MemoryFilter::default(), None, 10, at(30)).await.unwrap();
    assert_eq!(newest_first.iter().map(|r| r.id).collect::<Vec<_>>(), vec![new.id, old.id]);
    let page = store
        .list(pid, &MemoryFilter::default(), Some((new.created_at, new.id)), 10, at(30))
        .await
        .unwrap();
    assert_eq!(page.iter().map(|r| r.id).collect::<Vec<_>>(), vec![old.id], "strictly before");
    let fetched = store.fetch(pid, &[old.id, brief.id, Uuid::now_v7()], at(30)).await.unwrap();
    assert_eq!(fetched.iter().map(|r| r.id).collect::<Vec<_>>(), vec![old.id]);
    let hits = store.lexical(pid, "deployment keys", &MemoryFilter::default(), 5, at(30)).await;
    assert_eq!(hits.unwrap().first().map(|h| h.record.id), Some(old.id), "stemmed full text");

    // Another project sees none of it; a missing project cannot receive records.
    let other = project(&db).await;
    assert_eq!(store.get(other, old.id, at(30)).await.err(), Some(RepositoryError::NotFound));
    assert_eq!(
        store.insert(ProjectId::new(), vec![memory("x", at(0), None)]).await.err(),
        Some(RepositoryError::NotFound)
    );

    assert_eq!(store.purge_expired(at(30), 10).await.unwrap(), vec![(pid, brief.id)]);
    assert!(store.purge_expired(at(30), 10).await.unwrap().is_empty(), "purged once");
    store.delete(pid, old.id).await.unwrap();
    assert_eq!(store.delete(pid, old.id).await.err(), Some(RepositoryError::NotFound));
}

fn event(topic: &str, n: i64) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        topic: TopicName::new(topic, "topic").unwrap(),
        key: None,
        headers: Map::new(),
        payload: json!({"n": n}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_bus_orders_filters_and_wakes_readers() {
    let db = TestDatabase::new().await;
    let pid = project(&db).await;
    let bus = PgEventBus::start(db.pool(), db.url.clone()).unwrap();
    assert_eq!(bus.last_offset(pid).await.unwrap(), 0, "an empty log");

    let first = bus.publish(pid, vec![event("a", 1), event("b", 2), event("a", 3)]).await.unwrap();
    let offsets: Vec<i64> = first.iter().map(|e| e.offset).collect();
    assert!(offsets.windows(2).all(|w| w[1] == w[0] + 1), "consecutive: {offsets:?}");
    let second = bus.publish(pid, vec![event("a", 4)]).await.unwrap();
    assert!(second[0].offset > offsets[2], "later publishes get later offsets");
    assert_eq!(bus.last_offset(pid).await.unwrap(), second[0].offset);
    assert!(bus.known_last_offset(pid) <= second[0].offset);

    let only_a = EventFilter {
        topic: Some(TopicName::new("a", "topic").unwrap()),
        after_offset: offsets[0],
        since: None,
        until: None,
    };
    let read = bus.read(pid, &only_a, 10).await.unwrap();
    assert_eq!(
        read.iter().map(|e| e.payload["n"].as_i64()).collect::<Vec<_>>(),
        vec![Some(3), Some(4)]
    );
    assert_eq!(bus.read(pid, &EventFilter::default(), 2).await.unwrap().len(), 2, "the limit");

    // A reader waiting past the last offset wakes when an event commits, well before its
    // timeout.
    let waiting = {
        let bus = bus.clone();
        let after = second[0].offset;
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            bus.wait_for_events(pid, after, Duration::from_secs(30)).await;
            started.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    bus.publish(pid, vec![event("b", 5)]).await.unwrap();
    assert!(waiting.await.unwrap() < Duration::from_secs(10), "woken by the publish");

    let group = TopicName::new("g", "group").unwrap();
    let topic = TopicName::new("a", "topic").unwrap();
    bus.commit_offset(pid, &group, &topic, offsets[2]).await.unwrap();
    bus.commit_offset(pid, &group, &topic, second[0].offset).await.unwrap();
    let positions = bus.consumer_offsets(pid, &group).await.unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].committed_offset, second[0].offset, "the latest commit holds");
    assert_eq!(
        bus.publish(ProjectId::new(), vec![event("a", 0)]).await.err(),
        Some(RepositoryError::NotFound)
    );
}

fn vector(id: Uuid, meta: Value) -> NewVector {
    NewVector {
        id: id.into(),
        namespace: NamespaceName::new("docs", "namespace").unwrap(),
        embedding: vec![1.0, 0.0, 0.0],
        metadata: meta.as_object().cloned().unwrap_or_default(),
        document: None,
        source: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vector_records_sequence_every_change_and_notify() {
    let db = TestDatabase::new().await;
    let pid = project(&db).await;
    let records = PgVectorRecords::start(db.pool(), db.url.clone());
    let notified = Arc::new(AtomicUsize::new(0));
    let seen = notified.clone();
    records.subscribe(Arc::new(move |project| {
        if project == pid {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    }));
    tokio::time::sleep(Duration::from_millis(300)).await; // the listener connects
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let spec = NamespaceSpec::default();
    let (_, changes) = records
        .upsert(pid, vec![vector(a, json!({"v": 1})), vector(b, json!({}))], spec)
        .await
        .unwrap();
    let seqs: Vec<i64> = changes.iter().map(VectorChange::seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "increasing: {seqs:?}");
    records.upsert(pid, vec![vector(a, json!({"v": 2}))], spec).await.unwrap();
    let deleted = records.delete(pid, &VectorSelector::Ids(vec![b.into()])).await.unwrap();
    assert!(
        matches!(deleted.as_slice(), [VectorChange::Deleted { id, .. }] if id.as_uuid() == Some(b))
    );

    // Since the start, each vector appears once, in its latest state.
    let since = records.changes_since(pid, 0, 100).await.unwrap();
    assert_eq!(since.len(), 2, "{since:?}");
    assert!(since.iter().any(|c| matches!(c, VectorChange::Upserted { id, metadata, .. } if id.as_uuid() == Some(a) && metadata["v"] == 2)));
    assert!(
        since
            .iter()
            .any(|c| matches!(c, VectorChange::Deleted { id, .. } if id.as_uuid() == Some(b)))
    );
    assert_eq!(
        records.current_seq(pid).await.unwrap(),
        since.iter().map(VectorChange::seq).max().unwrap()
    );
    assert!(records.all_seqs().await.unwrap().iter().any(|(p, _)| *p == pid));

    let started = std::time::Instant::now();
    while notified.load(Ordering::SeqCst) == 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(notified.load(Ordering::SeqCst) > 0, "listeners hear of committed changes");
}

fn file(key: &str) -> FileRecord {
    FileRecord {
        id: Uuid::now_v7(),
        file_key: key.into(),
        file_name: "f.txt".into(),
        content_type: "text/plain".into(),
        size_bytes: Some(3),
        metadata: Map::new(),
        sha256: None,
        status: FileStatus::Registered,
        created_at: at(0),
    }
}

#[tokio::test]
async fn file_records_are_unique_per_key_and_list_by_key() {
    let db = TestDatabase::new().await;
    let pid = project(&db).await;
    let files = PgFileRepository::new(db.pool());
    let (a, b, c) = (file("docs/a"), file("docs/b"), file("img/c"));
    for f in [&a, &b, &c] {
        files.insert(pid, f.clone()).await.unwrap();
    }
    assert_eq!(files.insert(pid, file("docs/a")).await.err(), Some(FileRepositoryError::KeyTaken));
    assert!(files.key_taken(pid, "docs/a").await.unwrap());
    assert_eq!(files.get(pid, a.id).await.unwrap(), a, "read back as written");
    let other = project(&db).await;
    assert!(!files.key_taken(other, "docs/a").await.unwrap(), "keys are per project");
    assert_eq!(files.get(other, a.id).await.err(), Some(RepositoryError::NotFound));

    let docs = files.list(pid, Some("docs/".into()), None, 10).await.unwrap();
    assert_eq!(
        docs.iter().map(|f| f.file_key.as_str()).collect::<Vec<_>>(),
        vec!["docs/a", "docs/b"]
    );
    let after = files.list(pid, None, Some("docs/a".into()), 10).await.unwrap();
    assert_eq!(
        after.iter().map(|f| f.file_key.as_str()).collect::<Vec<_>>(),
        vec!["docs/b", "img/c"]
    );

    assert_eq!(files.delete(pid, a.id).await.unwrap().id, a.id);
    assert_eq!(files.delete(pid, a.id).await.err(), Some(RepositoryError::NotFound));
    let existing = files.existing(vec![a.id, b.id]).await.unwrap();
    assert!(existing.contains(&b.id) && !existing.contains(&a.id));
    assert_eq!(
        files.insert(ProjectId::new(), file("x")).await.err(),
        Some(FileRepositoryError::Storage(RepositoryError::NotFound))
    );
}
