//! Repository adapters against a real PostgreSQL (a throwaway cluster per test process).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value, json};
use std::sync::Arc;
use zerodb_domain::api_keys::{ApiKeyRepository, GeneratedKey, NewApiKey, hash_key};
use zerodb_domain::pagination::{Limit, PageRequest, Position};
use zerodb_domain::principal::{Role, Scope};
use zerodb_domain::projects::{NewProject, ProjectName, ProjectRepository, ProjectRepositoryError};
use zerodb_domain::tables::{
    NewRow, NewTable, RowFilter, RowQuery, RowSort, TableName, TableRepository,
    TableRepositoryError, TableSchema,
};
use zerodb_domain::users::{Email, NewUser, UserRepository, UserRepositoryError};
use zerodb_domain::{ProjectId, RepositoryError, RowId, TableId, UserId};
use zerodb_postgres::testing::TestDatabase;
use zerodb_postgres::{
    PgApiKeyRepository, PgProjectRepository, PgTableRepository, PgUserRepository,
};

struct Repos {
    _db: TestDatabase,
    users: Arc<dyn UserRepository>,
    projects: Arc<dyn ProjectRepository>,
    keys: Arc<dyn ApiKeyRepository>,
    tables: Arc<dyn TableRepository>,
}

async fn repos() -> Repos {
    let db = TestDatabase::new().await;
    let pool = db.pool();
    Repos {
        users: Arc::new(PgUserRepository::new(pool.clone())),
        projects: Arc::new(PgProjectRepository::new(pool.clone())),
        keys: Arc::new(PgApiKeyRepository::new(pool.clone())),
        tables: Arc::new(PgTableRepository::new(pool)),
        _db: db,
    }
}

async fn user(r: &Repos, email: &str) -> UserId {
    let new = NewUser {
        id: UserId::new(),
        email: Email::new(email).unwrap(),
        password_hash: "hash".into(),
        role: Role::User,
    };
    r.users.create(new).await.unwrap().id
}

async fn project(r: &Repos, owner: UserId, name: &str) -> ProjectId {
    let new = NewProject {
        id: ProjectId::new(),
        owner_id: owner,
        name: ProjectName::new(name).unwrap(),
        description: None,
    };
    r.projects.create(new).await.unwrap().id
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

#[tokio::test]
async fn users_unique_by_email() {
    let r = repos().await;
    user(&r, "ada@example.com").await;
    let dup = NewUser {
        id: UserId::new(),
        email: Email::new("ADA@example.com").unwrap(),
        password_hash: "h".into(),
        role: Role::User,
    };
    assert_eq!(r.users.create(dup).await.err(), Some(UserRepositoryError::EmailTaken));
    let creds = r.users.find_credentials(&Email::new("ada@example.com").unwrap()).await.unwrap();
    assert_eq!(creds.password_hash, "hash");
    assert_eq!(r.users.get(UserId::new()).await.err(), Some(RepositoryError::NotFound));
}

#[tokio::test]
async fn projects_unique_per_owner_paged_and_deleted_with_everything() {
    let r = repos().await;
    let ada = user(&r, "ada@example.com").await;
    let bob = user(&r, "bob@example.com").await;
    for i in 0..5 {
        project(&r, ada, &format!("p{i}")).await;
    }
    project(&r, bob, "p0").await; // same name, other owner: fine
    let dup = NewProject {
        id: ProjectId::new(),
        owner_id: ada,
        name: ProjectName::new("p0").unwrap(),
        description: None,
    };
    assert_eq!(r.projects.create(dup).await.err(), Some(ProjectRepositoryError::NameTaken));

    let mut seen = Vec::new();
    let mut page = PageRequest { limit: Limit::new(Some(2)).unwrap(), after: None };
    loop {
        let items = r.projects.list_by_owner(ada, &page).await.unwrap();
        let more = items.len() > 2;
        let kept: Vec<_> = items.into_iter().take(2).collect();
        seen.extend(kept.iter().map(|p| p.name.clone()));
        if !more {
            break;
        }
        let last = kept.last().unwrap();
        page.after = Some(Position::Keyset { t: last.created_at, id: last.id.as_uuid() });
    }
    assert_eq!(seen, vec!["p0", "p1", "p2", "p3", "p4"]);

    // A project with a table, rows and a key disappears with all of them.
    let pid = project(&r, ada, "doomed").await;
    let table = r.tables.create(new_table(pid, "t"), 10).await.unwrap();
    r.tables.insert_rows(pid, table.id, vec![row(json!({"n": 1}))], None).await.unwrap();
    let key = GeneratedKey::generate().unwrap();
    r.keys
        .create(NewApiKey {
            id: key.id,
            project_id: pid,
            name: "k".into(),
            key_prefix: key.display_prefix(),
            key_hash: hash_key(&key.secret),
            scopes: vec![Scope::All],
        })
        .await
        .unwrap();
    r.projects.delete(pid).await.unwrap();
    assert_eq!(r.projects.get(pid).await.err(), Some(RepositoryError::NotFound));
    assert_eq!(r.keys.find_active(key.id).await.err(), Some(RepositoryError::NotFound));
    assert_eq!(r.tables.get(pid, "t").await.err(), Some(RepositoryError::NotFound));
    assert_eq!(r.projects.delete(pid).await.err(), Some(RepositoryError::NotFound));
}

#[tokio::test]
async fn api_keys_store_hashes_and_revoke() {
    let r = repos().await;
    let ada = user(&r, "ada@example.com").await;
    let pid = project(&r, ada, "p").await;
    let other = project(&r, ada, "q").await;
    let key = GeneratedKey::generate().unwrap();
    let created = r
        .keys
        .create(NewApiKey {
            id: key.id,
            project_id: pid,
            name: "ci".into(),
            key_prefix: key.display_prefix(),
            key_hash: hash_key(&key.secret),
            scopes: vec!["tables:read".parse().unwrap()],
        })
        .await
        .unwrap();
    assert_eq!(created.scopes, vec!["tables:read".parse::<Scope>().unwrap()]);
    let stored = r.keys.find_active(key.id).await.unwrap();
    assert_eq!(stored.key_hash, hash_key(&key.secret));
    r.keys.touch(key.id).await.unwrap();
    assert_eq!(r.keys.list(pid, &PageRequest::default()).await.unwrap().len(), 1);
    assert_eq!(r.keys.revoke(other, key.id).await.err(), Some(RepositoryError::NotFound));
    r.keys.revoke(pid, key.id).await.unwrap();
    assert_eq!(r.keys.find_active(key.id).await.err(), Some(RepositoryError::NotFound));
    assert!(r.keys.list(pid, &PageRequest::default()).await.unwrap().is_empty());
}

fn schema() -> TableSchema {
    TableSchema::from_json(json!({"columns": {
        "name": {"type": "string", "required": true},
        "age": "integer",
        "score": "number",
        "active": "boolean",
        "born": "timestamp",
        "ref": "uuid",
        "meta": "json"
    }}))
    .unwrap()
}

fn new_table(project_id: ProjectId, name: &str) -> NewTable {
    NewTable {
        id: TableId::new(),
        project_id,
        name: TableName::new(name).unwrap(),
        schema: schema(),
    }
}

fn row(v: Value) -> NewRow {
    NewRow { id: RowId::new(), data: obj(v) }
}

async fn names(
    r: &Repos,
    pid: ProjectId,
    tid: TableId,
    filter: Value,
    sort: Option<&str>,
) -> Vec<String> {
    let query = RowQuery {
        filter: RowFilter::parse(Some(&filter), &schema()).unwrap(),
        sort: RowSort::parse(sort, &schema()).unwrap(),
        page: PageRequest::default(),
        count: false,
    };
    let batch = r.tables.query_rows(pid, tid, &query).await.unwrap();
    batch.rows.iter().map(|row| row.data["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn rows_filter_sort_update_delete() {
    let r = repos().await;
    let ada = user(&r, "ada@example.com").await;
    let pid = project(&r, ada, "p").await;
    let t = r.tables.create(new_table(pid, "people"), 10).await.unwrap();
    assert_eq!(
        r.tables.create(new_table(pid, "people"), 10).await.err(),
        Some(TableRepositoryError::NameTaken)
    );
    let rows = vec![
        row(
            json!({"name": "ada", "age": 36, "score": 9.5, "active": true, "born": "1815-12-10T00:00:00Z", "meta": {"tags": ["math"]}}),
        ),
        row(
            json!({"name": "bob", "age": 25, "score": 7, "active": false, "born": "1990-01-01T00:00:00+02:00"}),
        ),
        row(json!({"name": "cy", "age": 40, "meta": {"tags": ["art", "math"]}})),
        row(json!({"name": "x'; DROP TABLE users; --", "age": 1})),
    ];
    let inserted = r.tables.insert_rows(pid, t.id, rows, Some(4)).await.unwrap();
    assert_eq!(inserted.len(), 4);
    assert!(inserted.windows(2).all(|w| w[0].seq < w[1].seq));

    assert_eq!(names(&r, pid, t.id, json!({"name": "ada"}), None).await, vec!["ada"]);
    assert_eq!(
        names(&r, pid, t.id, json!({"age": {"$gte": 36}}), Some("-age")).await,
        vec!["cy", "ada"]
    );
    assert_eq!(
        names(&r, pid, t.id, json!({"age": {"$in": [25, 40]}}), Some("name")).await,
        vec!["bob", "cy"]
    );
    assert_eq!(names(&r, pid, t.id, json!({"name": {"$contains": "DROP"}}), None).await.len(), 1);
    assert_eq!(
        names(&r, pid, t.id, json!({"meta": {"$contains": {"tags": ["math"]}}}), None).await,
        vec!["ada", "cy"]
    );
    assert_eq!(names(&r, pid, t.id, json!({"active": false}), None).await, vec!["bob"]);
    assert_eq!(names(&r, pid, t.id, json!({"score": null}), None).await.len(), 2);
    assert_eq!(
        names(&r, pid, t.id, json!({"born": {"$lt": "1989-12-31T23:00:00Z"}}), None).await,
        vec!["ada", "bob"]
    );
    assert_eq!(names(&r, pid, t.id, json!({"score": {"$gt": 7}}), None).await, vec!["ada"]);
    assert_eq!(
        names(&r, pid, t.id, json!({"name": {"$ne": "ada"}}), Some("-score")).await[0],
        "bob"
    );
    // The users table survived the metacharacters.
    assert!(r.users.get(ada).await.is_ok());

    // The limit holds: one more row would make five.
    let over = r.tables.insert_rows(pid, t.id, vec![row(json!({"name": "dee"}))], Some(4)).await;
    assert_eq!(over.err(), Some(TableRepositoryError::RowLimitReached));

    let filter = RowFilter::parse(Some(&json!({"age": {"$lt": 30}})), &schema()).unwrap();
    let changed =
        r.tables.update_rows(pid, t.id, &filter, obj(json!({"active": true}))).await.unwrap();
    assert_eq!(changed, 2);
    assert_eq!(
        names(&r, pid, t.id, json!({"active": true}), Some("name")).await,
        vec!["ada", "bob", "x'; DROP TABLE users; --"]
    );

    let other = project(&r, ada, "other").await;
    assert_eq!(r.tables.delete_rows(other, t.id, &RowFilter::default()).await.unwrap(), 0);
    assert_eq!(r.tables.delete_rows(pid, t.id, &filter).await.unwrap(), 2);
    assert_eq!(r.tables.get(pid, "people").await.unwrap().row_count, 2);
    let stats = r.projects.statistics(pid).await.unwrap();
    assert_eq!((stats.tables, stats.rows), (1, 2));
    r.tables.delete(pid, "people").await.unwrap();
    assert_eq!(r.tables.delete(pid, "people").await.err(), Some(RepositoryError::NotFound));
}

#[tokio::test]
async fn row_pages_follow_insertion_order_and_count() {
    let r = repos().await;
    let ada = user(&r, "ada@example.com").await;
    let pid = project(&r, ada, "p").await;
    let t = r.tables.create(new_table(pid, "t"), 10).await.unwrap();
    let rows = (0..25).map(|i| row(json!({"name": format!("n{i:02}"), "age": i}))).collect();
    r.tables.insert_rows(pid, t.id, rows, None).await.unwrap();
    let mut query = RowQuery {
        page: PageRequest { limit: Limit::new(Some(10)).unwrap(), after: None },
        count: true,
        ..Default::default()
    };
    let first = r.tables.query_rows(pid, t.id, &query).await.unwrap();
    assert_eq!((first.rows.len(), first.total), (11, Some(25)));
    query.page.after = Some(Position::Sequence { s: first.rows[9].seq });
    let second = r.tables.query_rows(pid, t.id, &query).await.unwrap();
    assert_eq!(second.rows[0].data["name"], "n10");
    assert_eq!(
        r.tables.create(new_table(pid, "u"), 1).await.err(),
        Some(TableRepositoryError::TableLimitReached)
    );
}
