//! The Qdrant backend against a real Qdrant (../shared/tools/qdrant) and a real PostgreSQL:
//! the vector-store contract, tenant isolation, an outage, and a rebuild.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_domain::ProjectId;
use zerodb_domain::vectors::{
    NamespaceName, NamespaceSpec, NewVector, SearchPath, SearchRequest, SearchResults,
    VectorSelector, VectorStore,
};
use zerodb_postgres::testing::TestDatabase;
use zerodb_postgres::{PgReplicaCursors, PgVectorRecords};
use zerodb_qdrant::{QdrantClient, QdrantSettings, QdrantVectorStore, StoreOptions};
use zerodb_testkit::QdrantServer;
use zerodb_testkit::contracts::vector_store_contract;

struct Setup {
    db: TestDatabase,
    store: Arc<QdrantVectorStore>,
    relay: tokio::task::JoinHandle<()>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.relay.abort();
    }
}

async fn setup(qdrant: &QdrantServer) -> Setup {
    let db = TestDatabase::new().await;
    let records = Arc::new(PgVectorRecords::start(db.pool(), db.url.clone()));
    let cursors = Arc::new(PgReplicaCursors::new(db.pool(), db.url.clone()));
    let client = QdrantClient::new(QdrantSettings {
        url: qdrant.url(),
        timeout: Duration::from_secs(2),
        ..QdrantSettings::default()
    })
    .unwrap();
    let store = Arc::new(QdrantVectorStore::new(records, cursors, client, StoreOptions::default()));
    let relay = store.spawn_relay();
    Setup { db, store, relay }
}

fn vector(id: Uuid, embedding: Vec<f32>, meta: serde_json::Value) -> NewVector {
    NewVector {
        id: id.into(),
        namespace: NamespaceName::new("docs", "namespace").unwrap(),
        embedding,
        metadata: meta.as_object().cloned().unwrap_or_default(),
        document: Some(format!("doc {id}")),
        source: None,
    }
}

/// A unit-ish vector pointing mostly along axis `i` of 8.
fn axis(i: usize) -> Vec<f32> {
    let mut v = vec![0.05; 8];
    v[i % 8] = 1.0;
    v
}

async fn search(store: &QdrantVectorStore, project: ProjectId, query: Vec<f32>) -> SearchResults {
    let request = SearchRequest {
        namespace: NamespaceName::new("docs", "namespace").unwrap(),
        query,
        limit: 100,
        filter: None,
        min_score: None,
        include_vectors: false,
    };
    store.search(project, &request).await.unwrap()
}

async fn wait_for_empty_backlog(store: &QdrantVectorStore) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.backlog().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the backlog did not drain within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qdrant_backend_keeps_the_contract() {
    let qdrant = QdrantServer::start();
    let s = setup(&qdrant).await;
    let ids = s.db.projects(&["one", "two"]).await;
    vector_store_contract(s.store.as_ref() as &dyn VectorStore, ids[0], ids[1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_share_a_collection_but_never_see_each_other() {
    let qdrant = QdrantServer::start();
    let s = setup(&qdrant).await;
    let ids = s.db.projects(&["mine", "theirs"]).await;
    let spec = NamespaceSpec::default();
    let mine: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let theirs: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    for (project, batch) in [(ids[0], &mine), (ids[1], &theirs)] {
        let vectors =
            batch.iter().enumerate().map(|(i, id)| vector(*id, axis(i), json!({}))).collect();
        s.store.upsert(project, vectors, spec).await.unwrap();
    }
    let collections = s.store.client().collections().await.unwrap();
    assert_eq!(collections, vec!["zerodb_cosine_8_f32".to_owned()], "one collection per shape");
    let found = search(&s.store, ids[0], axis(1)).await;
    assert_eq!(found.path, SearchPath::Index);
    let mut got: Vec<Uuid> = found.hits.iter().filter_map(|h| h.id.as_uuid()).collect();
    got.sort();
    assert_eq!(got, mine, "exactly this project's vectors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_loses_nothing_and_the_backlog_drains_in_order() {
    let mut qdrant = QdrantServer::start();
    let s = setup(&qdrant).await;
    let project = s.db.projects(&["outage"]).await[0];
    let spec = NamespaceSpec::default();
    let before: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
    let vectors =
        before.iter().enumerate().map(|(i, id)| vector(*id, axis(i), json!({"v": 1}))).collect();
    s.store.upsert(project, vectors, spec).await.unwrap();
    assert_eq!(search(&s.store, project, axis(0)).await.path, SearchPath::Index);

    qdrant.stop();
    // Writes still commit, and answer without waiting out the timeout each.
    let started = Instant::now();
    let added: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let vectors =
        added.iter().enumerate().map(|(i, id)| vector(*id, axis(i), json!({"v": 1}))).collect();
    s.store.upsert(project, vectors, spec).await.unwrap();
    // A vector replaced, deleted and written again; another written and deleted.
    let (phoenix, gone) = (before[1], added[3]);
    s.store.upsert(project, vec![vector(phoenix, axis(1), json!({"v": 2}))], spec).await.unwrap();
    s.store
        .delete(project, &VectorSelector::Ids(vec![phoenix.into(), gone.into(), before[2].into()]))
        .await
        .unwrap();
    s.store.upsert(project, vec![vector(phoenix, axis(1), json!({"v": 3}))], spec).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(8), "writes took {:?}", started.elapsed());

    let expected = |hits: &SearchResults| {
        let mut ids: Vec<Uuid> = hits.hits.iter().filter_map(|h| h.id.as_uuid()).collect();
        ids.sort();
        ids
    };
    let mut live: Vec<Uuid> =
        before.iter().chain(&added).copied().filter(|id| *id != gone && *id != before[2]).collect();
    live.sort();
    let during = search(&s.store, project, axis(1)).await;
    assert_eq!(during.path, SearchPath::ExactFallback, "answered from PostgreSQL");
    assert_eq!(expected(&during), live, "every acknowledged write, no deleted vector");
    assert_eq!(during.hits[0].id.as_uuid(), Some(phoenix));
    assert_eq!(during.hits[0].metadata["v"], 3);
    assert!(s.store.backlog().await.unwrap() > 0, "the changes wait in the outbox");

    qdrant.resume();
    wait_for_empty_backlog(&s.store).await;
    // Give the outage pause time to lapse, so the next search tries Qdrant again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = search(&s.store, project, axis(1)).await;
    assert_eq!(after.path, SearchPath::Index, "Qdrant answers again");
    assert_eq!(expected(&after), live, "Qdrant holds exactly the live vectors");
    assert_eq!(after.hits[0].id.as_uuid(), Some(phoenix));
    assert_eq!(after.hits[0].metadata["v"], 3, "the latest write won");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_rebuilds_a_wiped_qdrant() {
    let qdrant = QdrantServer::start();
    let s = setup(&qdrant).await;
    let project = s.db.projects(&["rebuilt"]).await[0];
    let ids: Vec<Uuid> = (0..600).map(|_| Uuid::now_v7()).collect();
    let vectors =
        ids.iter().enumerate().map(|(i, id)| vector(*id, axis(i), json!({"i": i}))).collect();
    s.store.upsert(project, vectors, NamespaceSpec::default()).await.unwrap();
    for collection in s.store.client().collections().await.unwrap() {
        s.store.client().drop_collection(&collection).await.unwrap();
    }
    let wiped = search(&s.store, project, axis(0)).await;
    assert_eq!(wiped.path, SearchPath::ExactFallback, "a lost collection is not an empty answer");
    assert_eq!(wiped.hits.len(), 100);
    // Starting over sets the cursor back and clears the project's points; the relay (the
    // test's, as a server's would) writes them again.
    let targets = s.store.start_over(Some(project)).await.unwrap();
    assert_eq!(targets, vec![(project, 600)]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (done, total) = s.store.rebuilt(&targets).await.unwrap();
        if done == total {
            break;
        }
        assert!(Instant::now() < deadline, "rebuilt {done} of {total} in 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_empty_backlog(&s.store).await;
    let rebuilt = search(&s.store, project, axis(0)).await;
    assert_eq!(rebuilt.path, SearchPath::Index);
    assert_eq!(rebuilt.hits.len(), 100);
    // The same answer up to float rounding (Qdrant compares normalised copies).
    for (a, b) in rebuilt.hits.iter().zip(&wiped.hits) {
        assert!((a.score - b.score).abs() < 1e-5, "{} vs {}", a.score, b.score);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_read_before_a_reset_never_moves_the_cursor() {
    use zerodb_domain::vectors::ReplicaCursors;
    let db = TestDatabase::new().await;
    let project = db.projects(&["cursor"]).await[0];
    let records = Arc::new(PgVectorRecords::start(db.pool(), db.url.clone()));
    let vectors = (0..10).map(|i| vector(Uuid::now_v7(), axis(i), json!({}))).collect();
    zerodb_domain::vectors::VectorRecords::upsert(
        records.as_ref(),
        project,
        vectors,
        NamespaceSpec::default(),
    )
    .await
    .unwrap();
    let cursors = PgReplicaCursors::new(db.pool(), db.url.clone());
    let first = cursors.behind(10).await.unwrap()[0];
    assert_eq!((first.applied_seq, first.last_seq, first.generation), (0, 10, 0));
    assert!(cursors.applied(&first, 4).await.unwrap());
    let second = cursors.behind(10).await.unwrap()[0];
    assert_eq!((second.applied_seq, second.generation), (4, 0));
    // A rebuild sets the cursor back while the relay holds `second`.
    cursors.reset(project, 0).await.unwrap();
    assert!(!cursors.applied(&second, 10).await.unwrap(), "a stale batch is refused");
    assert!(
        !cursors.applied(&first, 10).await.unwrap(),
        "so is one from position 0 of the old generation"
    );
    assert_eq!(cursors.applied_seq(project).await.unwrap(), 0);
    let third = cursors.behind(10).await.unwrap()[0];
    assert_eq!((third.applied_seq, third.generation), (0, 1));
    assert!(cursors.applied(&third, 10).await.unwrap());
    assert_eq!(cursors.backlog().await.unwrap(), 0);
}
