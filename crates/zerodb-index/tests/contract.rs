//! The vector-store contract, run unchanged against the built-in index over PostgreSQL
//! records (a real PostgreSQL); every other vector store adapter runs the same one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use zerodb_domain::ProjectId;
use zerodb_domain::principal::Role;
use zerodb_domain::projects::{NewProject, ProjectName, ProjectRepository};
use zerodb_domain::users::{Email, NewUser, UserRepository};
use zerodb_domain::{UserId, vectors::VectorStore};
use zerodb_index::{IndexSettings, IndexedVectorStore};
use zerodb_postgres::testing::TestDatabase;
use zerodb_postgres::{PgProjectRepository, PgUserRepository, PgVectorRecords};
use zerodb_testkit::contracts::vector_store_contract;

async fn projects(db: &TestDatabase) -> (ProjectId, ProjectId) {
    let pool = db.pool();
    let owner = PgUserRepository::new(pool.clone())
        .create(NewUser {
            id: UserId::new(),
            email: Email::new("owner@example.com").unwrap(),
            password_hash: "hash".into(),
            role: Role::User,
        })
        .await
        .unwrap()
        .id;
    let repository = PgProjectRepository::new(pool);
    let mut ids = Vec::new();
    for name in ["one", "two"] {
        let new = NewProject {
            id: ProjectId::new(),
            owner_id: owner,
            name: ProjectName::new(name).unwrap(),
            description: None,
        };
        ids.push(repository.create(new).await.unwrap().id);
    }
    (ids[0], ids[1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_index_keeps_the_contract() {
    let db = TestDatabase::new().await;
    let (project, other) = projects(&db).await;
    let records = Arc::new(PgVectorRecords::start(db.pool(), db.url.clone()));
    let store = IndexedVectorStore::new(records, IndexSettings::default(), None);
    vector_store_contract(&store as &dyn VectorStore, project, other).await;
}
