//! The vector-store contract, run unchanged against the built-in index over PostgreSQL
//! records (a real PostgreSQL); every other vector store adapter runs the same one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use zerodb_domain::vectors::VectorStore;
use zerodb_index::{IndexSettings, IndexedVectorStore};
use zerodb_postgres::PgVectorRecords;
use zerodb_postgres::testing::TestDatabase;
use zerodb_testkit::contracts::vector_store_contract;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_index_keeps_the_contract() {
    let db = TestDatabase::new().await;
    let ids = db.projects(&["one", "two"]).await;
    let (project, other) = (ids[0], ids[1]);
    let records = Arc::new(PgVectorRecords::start(db.pool(), db.url.clone()));
    let store = IndexedVectorStore::new(records, IndexSettings::default(), None);
    vector_store_contract(&store as &dyn VectorStore, project, other).await;
}
