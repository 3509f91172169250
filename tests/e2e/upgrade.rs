//! Data written by an earlier release reads back after the current migrations: a plain
//! dump of a database that release seeded through its API (scripts/make_upgrade_fixture.sh)
//! is loaded into an empty database, and a current server starts on it.

use crate::helpers::{start_server, test_settings};
use serde_json::json;
use zerodb_client::{Client, GetVectors, MemorySearch, NewVector, VectorQuery, VectorSearch};
use zerodb_postgres::testing::TestDatabase;

/// Release 0211d1b, whose vector ids were UUIDs: five vectors in two namespaces (one of
/// them deleted, leaving a tombstone) and two memories.
const RELEASE_0211D1B: &str = include_str!("../fixtures/release-0211d1b.sql");

#[tokio::test]
async fn vectors_of_release_0211d1b_keep_their_ids_after_the_migrations() {
    let db = TestDatabase::empty().await;
    db.batch(RELEASE_0211D1B).await;
    assert_eq!(db.count("SELECT count(*) AS n FROM zerodb_vectors").await, 6, "4 + 2 memories");
    let data_dir = tempfile::tempdir().expect("data dir");
    let server = start_server(&test_settings(&db.url, data_dir.path())).await;
    let anonymous = Client::new(&server.address);
    let token = anonymous
        .login("ada@example.com", "correct horse battery")
        .await
        .expect("the fixture's user signs in")
        .access_token;
    let ada = anonymous.with_token(&token);
    let project =
        ada.list_projects(&Default::default()).await.expect("projects").items[0].project_id;

    let id = |n: u32| format!("0193e4a0-0000-7000-8000-00000000000{n}");
    let listed = ada.list_vectors(project, &VectorQuery::default()).await.expect("list");
    let ids: Vec<&str> = listed.items.iter().map(|v| v.vector_id.as_str()).collect();
    assert_eq!(ids, [id(1), id(2), id(3), id(4)], "every vector, in its UUID text form");
    let first = ada.get_vector(project, id(1)).await.expect("get");
    assert_eq!(first.document.as_deref(), Some("the quick brown fox"));
    assert_eq!(first.vector_metadata, json!({"n": 1}));
    assert_eq!(first.vector_embedding, Some(vec![1.0, 0.0, 0.0]));
    assert_eq!(ada.get_vector(project, id(3)).await.expect("get").source.as_deref(), Some("s3"));
    assert_eq!(ada.get_vector(project, id(5)).await.unwrap_err().status(), Some(404), "deleted");

    // The index is rebuilt from the migrated rows; the documents are searchable by words.
    let near = ada.search_vectors(project, &VectorSearch::new(vec![0.0, 0.9, 0.1], 1)).await;
    assert_eq!(near.expect("search").results[0].vector_id, id(2));
    let words = VectorSearch::text("rocket", 5).in_namespace("docs").with_mode("lexical");
    let found = ada.search_vectors(project, &words).await.expect("lexical");
    assert_eq!(found.results.iter().map(|h| h.vector_id.as_str()).collect::<Vec<_>>(), [id(4)]);
    let got = ada
        .get_vectors(project, &GetVectors { ids: Some(vec![id(4), id(1)]), ..Default::default() })
        .await
        .expect("get by ids");
    assert_eq!(got.items.iter().map(|v| v.vector_id.clone()).collect::<Vec<_>>(), [id(4), id(1)]);

    // Memories written by the earlier release are still found.
    let memories = ada
        .search_memory(
            project,
            &MemorySearch { query: Some("invoices by email".into()), ..Default::default() },
        )
        .await
        .expect("memory search");
    assert_eq!(memories.results[0].memory.content, "The customer prefers invoices by email");

    // New ids of any shape live beside the migrated ones.
    ada.upsert_vector(project, &NewVector::new(vec![1.0, 1.0, 0.0]).with_id("1"))
        .await
        .expect("upsert");
    assert_eq!(ada.get_vector(project, "1").await.expect("get").vector_id, "1");
    server.handle.stop(true).await;
}
