use crate::helpers::*;
use serde_json::{Value, json};
use zerodb_client::{HttpMethod as M, ListOptions, RowQuery};

fn schema() -> Value {
    json!({"columns": {
        "title": {"type": "string", "required": true},
        "views": {"type": "integer", "default": 0},
        "rating": "number",
        "published": "boolean",
        "at": "timestamp",
        "author": "uuid",
        "extra": "json"
    }})
}

#[tokio::test]
async fn tables_create_list_get_delete() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let t = ada.create_table(pid, "posts", &schema()).await.unwrap();
    assert_eq!((t.table_name.as_str(), t.row_count), ("posts", 0));
    let dup = ada.create_table(pid, "posts", &schema()).await.unwrap_err();
    assert_eq!((dup.status(), dup.code()), (Some(409), Some("table_exists")));
    ada.create_table(pid, "more", &json!({"columns": {"a": "string"}})).await.unwrap();
    let page = ada.list_tables(pid, &ListOptions { limit: Some(1), cursor: None }).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let rest = ada
        .list_tables(pid, &ListOptions { limit: Some(1), cursor: page.next_cursor })
        .await
        .unwrap();
    assert_eq!((rest.items[0].table_name.as_str(), rest.next_cursor), ("more", None));
    assert_eq!(ada.get_table(pid, "posts").await.unwrap().table_id, t.table_id);
    ada.delete_table(pid, "posts").await.unwrap();
    assert_eq!(ada.get_table(pid, "posts").await.unwrap_err().status(), Some(404));
    assert_eq!(ada.delete_table(pid, "posts").await.unwrap_err().status(), Some(404));
}

#[tokio::test]
async fn table_validation() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let path = format!("/api/v1/projects/{pid}/database/tables");
    for body in [
        json!({"table_name": "bad name", "schema_definition": schema()}),
        json!({"table_name": "t; DROP TABLE users", "schema_definition": schema()}),
        json!({"table_name": "1abc", "schema_definition": schema()}),
        json!({"table_name": "t", "schema_definition": {"columns": {}}}),
        json!({"table_name": "t", "schema_definition": {"columns": {"a": "varchar"}}}),
        json!({"table_name": "t", "schema_definition": {"columns": {"a": {"type": "integer", "default": "zero"}}}}),
        json!({"table_name": "t", "schema_definition": "not an object"}),
        json!({"table_name": "t"}),
    ] {
        let r = call(&ada, M::POST, &path, Some(body.clone())).await;
        assert_error(&r, 422, "validation_failed");
    }
    let r = call(&ada, M::GET, &format!("{path}/no_such_table"), None).await;
    assert_error(&r, 404, "not_found");
    assert_eq!(ada.list_tables(pid, &ListOptions::default()).await.unwrap().items.len(), 0);
}

#[tokio::test]
async fn rows_insert_query_update_delete() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    ada.create_table(pid, "posts", &schema()).await.unwrap();
    let author = "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11";
    let inserted = ada
        .insert_rows(pid, "posts", &[
            json!({"title": "hello", "rating": 4.5, "published": true, "at": "2026-01-01T10:00:00Z", "author": author, "extra": {"tags": ["a"]}}),
            json!({"title": "world", "views": 10, "rating": 3, "published": false}),
            json!({"title": "x'; DROP TABLE zerodb_table_rows; --", "views": 5}),
        ])
        .await
        .unwrap();
    assert_eq!(inserted.inserted, 3);
    assert_eq!(inserted.rows[0].data["views"], 0, "default applied");
    assert_eq!(inserted.rows[0].data["author"], author.to_lowercase(), "uuid normalised");

    let q = |filter: Value, sort: Option<&str>| RowQuery {
        filter: Some(filter),
        sort: sort.map(str::to_owned),
        count: true,
        ..Default::default()
    };
    let titles = |page: &zerodb_client::RowsPage| {
        page.items.iter().map(|r| r.data["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };

    let page = ada
        .query_rows(pid, "posts", &q(json!({"views": {"$gte": 5}}), Some("-views")))
        .await
        .unwrap();
    assert_eq!(titles(&page), vec!["world", "x'; DROP TABLE zerodb_table_rows; --"]);
    assert_eq!(page.total, Some(2));
    let page = ada
        .query_rows(pid, "posts", &q(json!({"extra": {"$contains": {"tags": ["a"]}}}), None))
        .await
        .unwrap();
    assert_eq!(titles(&page), vec!["hello"]);
    let page = ada
        .query_rows(
            pid,
            "posts",
            &q(json!({"title": {"$in": ["hello", "world"]}, "published": false}), None),
        )
        .await
        .unwrap();
    assert_eq!(titles(&page), vec!["world"]);
    let page = ada
        .query_rows(pid, "posts", &q(json!({"title": {"$contains": "DROP"}}), None))
        .await
        .unwrap();
    assert_eq!(page.total, Some(1));

    // GET with the filter in the query string.
    let encoded = "filter=%7B%22rating%22%3A%7B%22%24lt%22%3A4%7D%7D&count=true";
    let r = call(
        &ada,
        M::GET,
        &format!("/api/v1/projects/{pid}/database/tables/posts/rows?{encoded}"),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["items"][0]["data"]["title"], "world");

    let changed = ada
        .update_rows(
            pid,
            "posts",
            &json!({"published": {"$ne": true}}),
            &json!({"published": true, "views": 99}),
        )
        .await
        .unwrap();
    assert_eq!(changed, 2);
    let page = ada.query_rows(pid, "posts", &q(json!({"views": 99}), Some("title"))).await.unwrap();
    assert_eq!(titles(&page), vec!["world", "x'; DROP TABLE zerodb_table_rows; --"]);

    let deleted = ada.delete_rows(pid, "posts", &json!({"views": 99})).await.unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(ada.get_table(pid, "posts").await.unwrap().row_count, 1);
    assert_eq!(ada.delete_rows(pid, "posts", &json!({})).await.unwrap(), 1);
    assert_eq!(ada.get_table(pid, "posts").await.unwrap().row_count, 0);
}

#[tokio::test]
async fn row_validation_is_all_or_nothing() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    ada.create_table(pid, "posts", &schema()).await.unwrap();
    let rows = format!("/api/v1/projects/{pid}/database/tables/posts/rows");
    let cases = [
        (json!({"rows": [{"title": "ok"}, {"views": "many"}]}), "rows[1].title"),
        (json!({"rows": [{"title": 1}]}), "rows[0].title"),
        (json!({"rows": [{"title": "t", "ghost": 1}]}), "rows[0].ghost"),
        (json!({"rows": [{"title": "t", "at": "yesterday"}]}), "rows[0].at"),
        (json!({"rows": [{"title": "t", "author": "not-a-uuid"}]}), "rows[0].author"),
        (json!({"rows": [{"title": "t", "views": 1.5}]}), "rows[0].views"),
        (json!({"rows": []}), "rows"),
        (json!({}), "rows"),
    ];
    for (body, field) in cases {
        let r = call(&ada, M::POST, &rows, Some(body.clone())).await;
        assert_error(&r, 422, "validation_failed");
        let fields = r.body["error"]["details"]["fields"].to_string();
        assert!(fields.contains(field), "{body} -> {fields}");
    }
    let too_many: Vec<Value> = (0..1001).map(|i| json!({"title": format!("t{i}")})).collect();
    let r = call(&ada, M::POST, &rows, Some(json!({"rows": too_many}))).await;
    assert_error(&r, 422, "validation_failed");
    assert_eq!(ada.get_table(pid, "posts").await.unwrap().row_count, 0, "nothing half-written");
    let r = call(&ada, M::POST, &rows, Some(json!({"row": {"title": "single"}}))).await;
    assert_eq!(r.status, 201);

    let query = format!("{rows}/query");
    for body in [
        json!({"filter": {"ghost": 1}}),
        json!({"filter": {"views": {"$regex": ".*"}}}),
        json!({"filter": {"views": "ten"}}),
        json!({"filter": {"title'; --": 1}}),
        json!({"sort": "extra"}),
        json!({"sort": "nope"}),
        json!({"limit": 0}),
        json!({"sort": "a".repeat(65)}),
    ] {
        let r = call(&ada, M::POST, &query, Some(body.clone())).await;
        assert_error(&r, 422, "validation_failed");
    }
    let r = call(&ada, M::POST, &query, Some(json!({"cursor": "garbage"}))).await;
    assert_error(&r, 400, "invalid_cursor");
    let r = call(&ada, M::GET, &format!("{rows}?filter=%7Bnot-json"), None).await;
    assert_error(&r, 400, "invalid_query");
    let r = call(&ada, M::PATCH, &rows, Some(json!({"filter": {}, "set": {"title": null}}))).await;
    assert_error(&r, 422, "validation_failed");
    let r = call(&ada, M::DELETE, &rows, Some(json!({}))).await;
    assert!(r.status == 422, "{}", r.body);
    assert_eq!(ada.get_table(pid, "posts").await.unwrap().row_count, 1);
}

#[tokio::test]
async fn row_pages_cover_everything_once() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    ada.create_table(pid, "n", &json!({"columns": {"i": {"type": "integer", "required": true}}}))
        .await
        .unwrap();
    let rows: Vec<Value> = (0..45).map(|i| json!({"i": (i * 7) % 45})).collect();
    ada.insert_rows(pid, "n", &rows).await.unwrap();
    for sort in [None, Some("i"), Some("-i")] {
        let mut seen = Vec::new();
        let mut query =
            RowQuery { sort: sort.map(str::to_owned), limit: Some(10), ..Default::default() };
        loop {
            let page = ada.query_rows(pid, "n", &query).await.unwrap();
            seen.extend(page.items.iter().map(|r| r.data["i"].as_i64().unwrap()));
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 45, "{sort:?}");
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 45, "no duplicates for {sort:?}");
        if sort == Some("-i") {
            assert!(seen.windows(2).all(|w| w[0] > w[1]));
        }
    }
}

#[tokio::test]
async fn one_row_is_updated_and_deleted_by_its_id() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    ada.create_table(pid, "posts", &schema()).await.unwrap();
    let rows = [json!({"title": "a"}), json!({"title": "a"})];
    let inserted = ada.insert_rows(pid, "posts", &rows).await.unwrap();
    let (first, second) = (inserted.rows[0].row_id, inserted.rows[1].row_id);
    ada.update_row(pid, "posts", first, &json!({"views": 7})).await.unwrap();
    let bad = ada.update_row(pid, "posts", first, &json!({"views": "many"})).await.unwrap_err();
    assert_eq!(bad.status(), Some(422));
    let page = ada.query_rows(pid, "posts", &RowQuery::default()).await.unwrap();
    let views: Vec<(uuid::Uuid, Value)> =
        page.items.iter().map(|r| (r.row_id, r.data["views"].clone())).collect();
    assert_eq!(views, vec![(first, json!(7)), (second, json!(0))], "only that row changed");
    ada.delete_row(pid, "posts", first).await.unwrap();
    let gone = ada.delete_row(pid, "posts", first).await.unwrap_err();
    assert_eq!((gone.status(), gone.code()), (Some(404), Some("not_found")));
    let missing = ada.update_row(pid, "posts", uuid::Uuid::new_v4(), &json!({"views": 1})).await;
    assert_eq!(missing.unwrap_err().status(), Some(404));
    let left = ada.query_rows(pid, "posts", &RowQuery::default()).await.unwrap();
    assert_eq!(left.items.iter().map(|r| r.row_id).collect::<Vec<_>>(), vec![second]);
    // Another user's request for the row is a 404, and changes nothing.
    let eve = app.user("eve@example.com").await;
    assert_eq!(eve.delete_row(pid, "posts", second).await.unwrap_err().status(), Some(404));
    assert_eq!(ada.get_table(pid, "posts").await.unwrap().row_count, 1);
}
