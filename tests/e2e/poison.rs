//! Hostile but well-formed values: whatever the service accepts it can store, read back,
//! sort, filter, aggregate and export. Each refused value answers 422 with its field path,
//! writes nothing, and the area's reads still answer 200 afterwards.

use crate::helpers::*;
use serde_json::{Value, json};
use uuid::Uuid;
use zerodb_client::{Client, HttpMethod as M};

/// Asserts a 422 `validation_failed` whose details name `field`.
fn assert_refused(r: &zerodb_client::RawResponse, field: &str) {
    assert_error(r, 422, "validation_failed");
    let fields: Vec<&str> = r.body["error"]["details"]["fields"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(fields.contains(&field), "{field} not in {fields:?}: {}", r.body);
}

async fn ok(client: &Client, method: M, path: &str, body: Option<Value>) -> Value {
    let r = call(client, method.clone(), path, body).await;
    assert!(r.status < 300, "{method} {path} answered {}: {}", r.status, r.body);
    r.body
}

fn count(body: &Value) -> usize {
    body["items"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn table_rows_refuse_nul_and_unreadable_timestamps() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let base = format!("/api/v1/projects/{pid}/database/tables");
    ok(
        &ada,
        M::POST,
        &base,
        Some(json!({"table_name": "t", "schema_definition": {"columns": {
            "s": "string", "j": "json", "at": "timestamp", "n": "number", "i": "integer"}}})),
    )
    .await;
    let rows = format!("{base}/t/rows");
    ok(
        &ada,
        M::POST,
        &rows,
        Some(json!({"rows": [{"s": "a", "at": "2024-01-01T00:00:00Z", "n": 1e308, "i": 1}]})),
    )
    .await;

    let cases = [
        (json!({"s": "a\u{0}b"}), "rows[1].s"),
        (json!({"j": {"k": "v\u{0}"}}), "rows[1].j.k"),
        (json!({"j": {"k\u{0}": 1}}), "rows[1].j.k\\0"),
        (json!({"j": ["x", "\u{0}"]}), "rows[1].j[1]"),
        (json!({"at": "0000-01-01T00:00:00Z"}), "rows[1].at"),
        (json!({"at": "2024-01-01T00:00:00+16:00"}), "rows[1].at"),
        (json!({"i": 1e300}), "rows[1].i"),
    ];
    for (bad, field) in cases {
        // A good row first: a refused batch writes nothing, not even the good one.
        let r = call(&ada, M::POST, &rows, Some(json!({"rows": [{"s": "fine"}, bad]}))).await;
        assert_refused(&r, field);
    }
    let r = call(&ada, M::PATCH, &rows, Some(json!({"filter": {}, "set": {"s": "\u{0}"}}))).await;
    assert_refused(&r, "set.s");
    let r = call(
        &ada,
        M::PATCH,
        &rows,
        Some(json!({"filter": {}, "set": {"at": "0000-01-01T00:00:00Z"}})),
    )
    .await;
    assert_refused(&r, "set.at");

    // Filters holding such values are refused too, and never reach the database.
    let query = format!("{rows}/query");
    for (filter, field) in [
        (json!({"s": "\u{0}"}), "filter.s"),
        (json!({"s": {"$contains": "\u{0}"}}), "filter.s"),
        (json!({"j": {"$contains": {"k": "\u{0}"}}}), "filter.j"),
        (json!({"at": {"$gt": "0000-01-01T00:00:00Z"}}), "filter.at"),
        (json!({"at": "0000-01-01T00:00:00Z"}), "filter.at"),
        (json!({"at": {"$in": ["0000-01-01T00:00:00Z"]}}), "filter.at"),
    ] {
        let r = call(&ada, M::POST, &query, Some(json!({ "filter": filter }))).await;
        assert_refused(&r, field);
    }

    // Nothing was written, and every read answers.
    let all = ok(&ada, M::GET, &rows, None).await;
    assert_eq!(count(&all), 1, "{all}");
    for sort in ["at", "-at", "n", "-n", "s", "i"] {
        ok(&ada, M::GET, &format!("{rows}?sort={sort}"), None).await;
    }
    let body = json!({"filter": {"at": {"$gte": "0001-01-01T00:00:00Z"}, "n": {"$gt": 0}},
                      "sort": "-at", "count": true});
    let found = ok(&ada, M::POST, &query, Some(body)).await;
    assert_eq!(count(&found), 1, "{found}");
    ok(&ada, M::GET, &format!("/api/v1/projects/{pid}/database"), None).await;

    // Extreme values that are valid stay readable and sortable.
    ok(
        &ada,
        M::POST,
        &rows,
        Some(json!({"rows": [
            {"at": "0001-01-01T00:00:00Z", "n": -1e308, "i": i64::MIN},
            {"at": "9999-12-31T23:59:59+15:59", "n": 5e-324, "i": i64::MAX}]})),
    )
    .await;
    let sorted = ok(&ada, M::GET, &format!("{rows}?sort=at"), None).await;
    assert_eq!(sorted["items"][0]["data"]["at"], json!("0001-01-01T00:00:00Z"), "{sorted}");
    ok(&ada, M::GET, &format!("{rows}?sort=-n"), None).await;

    // A forged cursor is a clear 400.
    let r =
        call(&ada, M::GET, &format!("{rows}?cursor=eyJrIjoibyIsIm8iOi0xfQ&sort=at"), None).await;
    assert_error(&r, 400, "invalid_cursor");
    let r = call(&ada, M::GET, &format!("{rows}?cursor=%00"), None).await;
    assert_error(&r, 400, "invalid_cursor");
}

#[tokio::test]
async fn values_stored_by_earlier_versions_are_quarantined_not_fatal() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let rows = format!("/api/v1/projects/{pid}/database/tables/t/rows");
    ok(
        &ada,
        M::POST,
        &format!("/api/v1/projects/{pid}/database/tables"),
        Some(json!({"table_name": "t", "schema_definition": {"columns": {
            "at": "timestamp", "name": "string"}}})),
    )
    .await;
    ok(&ada, M::POST, &rows, Some(json!({"rows": [{"at": "2024-01-01T00:00:00Z", "name": "a"}]})))
        .await;

    // What an earlier version let through, written behind the service's back.
    let poisoned = app
        .db
        .execute(
            "UPDATE zerodb_table_rows SET data = jsonb_set(data, '{at}', '\"0000-01-01T00:00:00Z\"')",
        )
        .await;
    assert_eq!(poisoned, 1);
    let r = call(&ada, M::GET, &format!("{rows}?sort=at"), None).await;
    assert_eq!(r.status, 422, "an unreadable value is a client-visible error, never a 500");

    // The migration's repair, run again, moves it aside and the table reads again.
    let moved = app.db.count("SELECT zerodb_quarantine_unreadable_values() AS n").await;
    assert_eq!(moved, 1);
    let sorted = ok(&ada, M::GET, &format!("{rows}?sort=at"), None).await;
    assert_eq!(sorted["items"][0]["data"]["name"], json!("a"));
    assert!(sorted["items"][0]["data"].get("at").is_none(), "{sorted}");
    let kept = app
        .db
        .count(
            "SELECT count(*) AS n FROM zerodb_quarantined_values \
             WHERE original_value = '\"0000-01-01T00:00:00Z\"' AND column_name = 'at'",
        )
        .await;
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn vectors_memory_events_files_logs_refuse_nul() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let db = format!("/api/v1/projects/{pid}/database");

    let upsert = format!("{db}/vectors/upsert");
    let v = |meta: Value| json!({"vector_embedding": [0.1, 0.2, 0.3], "vector_metadata": meta});
    ok(&ada, M::POST, &upsert, Some(v(json!({"k": "fine"})))).await;
    assert_refused(
        &call(&ada, M::POST, &upsert, Some(v(json!({"k": "a\u{0}"})))).await,
        "vector_metadata.k",
    );
    assert_refused(
        &call(&ada, M::POST, &upsert, Some(v(json!({"k\u{0}": 1})))).await,
        "vector_metadata.k\\0",
    );
    let batch = json!({"vectors": [v(json!({})), v(json!({"deep": [{"x": "\u{0}"}]}))]});
    let r = call(&ada, M::POST, &format!("{db}/vectors/upsert-batch"), Some(batch)).await;
    assert_refused(&r, "vectors[1].vector_metadata.deep[0].x");
    assert_eq!(count(&ok(&ada, M::GET, &format!("{db}/vectors"), None).await), 1);
    let search = json!({"query_vector": [0.1, 0.2, 0.3], "filter": {"k": "\u{0}"}});
    ok(&ada, M::POST, &format!("{db}/vectors/search"), Some(search)).await;

    let memory = |meta: Value| {
        json!({"agent_id": Uuid::now_v7(), "session_id": Uuid::now_v7(), "role": "user",
               "content": "remember the milk", "memory_metadata": meta})
    };
    let store = format!("{db}/memory/store");
    ok(&ada, M::POST, &store, Some(memory(json!({"a": 1})))).await;
    assert_refused(
        &call(&ada, M::POST, &store, Some(memory(json!({"a": "\u{0}"})))).await,
        "memory_metadata.a",
    );
    // A query is never stored: it may hold any text (`call` asserts it is no 5xx).
    call(&ada, M::POST, &format!("{db}/memory/search"), Some(json!({"query": "mi\u{0}lk"}))).await;
    assert_eq!(count(&ok(&ada, M::GET, &format!("{db}/memory"), None).await), 1);
    ok(&ada, M::POST, &format!("{db}/memory/search"), Some(json!({"query": "milk"}))).await;

    let publish = format!("{db}/events/publish");
    ok(&ada, M::POST, &publish, Some(json!({"topic": "t", "event_payload": {"a": 1}}))).await;
    assert_refused(
        &call(
            &ada,
            M::POST,
            &publish,
            Some(json!({"topic": "t", "event_payload": {"a": "\u{0}"}})),
        )
        .await,
        "event_payload.a",
    );
    assert_refused(
        &call(&ada, M::POST, &publish, Some(json!({"topic": "t", "event_payload": "\u{0}"}))).await,
        "event_payload",
    );
    let with_header = json!({"topic": "t", "event_payload": 1, "headers": {"h": "x\u{0}"}});
    assert_refused(&call(&ada, M::POST, &publish, Some(with_header)).await, "headers.h");
    assert_eq!(count(&ok(&ada, M::GET, &format!("{db}/events?topic=t"), None).await), 1);

    let upload = format!("{db}/files/upload");
    let file = |meta: Value| json!({"file_name": "a.txt", "file_metadata": meta});
    assert_refused(
        &call(&ada, M::POST, &upload, Some(file(json!({"k": "\u{0}"})))).await,
        "file_metadata.k",
    );
    assert_refused(
        &call(&ada, M::POST, &upload, Some(file(json!({"\u{0}": 1})))).await,
        "file_metadata.\\0",
    );
    ok(&ada, M::POST, &upload, Some(file(json!({"k": "v"})))).await;
    assert_eq!(count(&ok(&ada, M::GET, &format!("{db}/files"), None).await), 1);

    let log = format!("{db}/agent/log");
    let entry = |payload: Value| {
        json!({"agent_id": Uuid::now_v7(), "log_level": "INFO", "log_message": "m",
               "raw_payload": payload})
    };
    assert_refused(
        &call(&ada, M::POST, &log, Some(entry(json!({"x": ["\u{0}"]})))).await,
        "raw_payload.x[0]",
    );
    ok(&ada, M::POST, &log, Some(entry(json!({"x": 1})))).await;
    assert_eq!(count(&ok(&ada, M::GET, &format!("{db}/agent/logs"), None).await), 1);

    let rlhf = json!({"session_id": Uuid::now_v7(), "input_prompt": "p", "model_output": "o",
                      "metadata": {"m": "\u{0}"}});
    let r = call(&ada, M::POST, &format!("{db}/rlhf/log"), Some(rlhf)).await;
    assert_refused(&r, "metadata.m");
}

#[tokio::test]
async fn extreme_rewards_keep_status_and_exports_readable() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let db = format!("/api/v1/projects/{pid}/database");
    let log = |reward: f64| {
        json!({"session_id": Uuid::now_v7(), "input_prompt": "p", "model_output": "o",
               "reward_score": reward})
    };
    let status = |body: &Value| body.to_string();

    // One reward of 1e308: every reward equal, at the top of the range.
    ok(&ada, M::POST, &format!("{db}/rlhf/log"), Some(log(1e308))).await;
    let s = ok(&ada, M::GET, &db, None).await;
    assert!(status(&s).contains("1e+308"), "{s}");
    ok(&ada, M::POST, &format!("{db}/rlhf/log"), Some(log(1e308))).await;
    ok(&ada, M::GET, &db, None).await;
    // Then the far other end, so max - min overflows a double.
    ok(&ada, M::POST, &format!("{db}/rlhf/log"), Some(log(-1e308))).await;
    ok(&ada, M::POST, &format!("{db}/rlhf/log"), Some(log(0.5))).await;
    let s = ok(&ada, M::GET, &db, None).await;
    let text = status(&s);
    assert!(!text.contains("null,\"count\""), "finite histogram bounds: {s}");
    ok(&ada, M::GET, &format!("{db}/rlhf"), None).await;
    ok(&ada, M::GET, &format!("{db}/rlhf?min_reward=-1e308&max_reward=1e308"), None).await;
    let export = ada.raw(M::GET, &format!("{db}/rlhf/export"), None).await.expect("export");
    assert_eq!(export.status, 200);
    ok(&ada, M::GET, &format!("/api/v1/projects/{pid}"), None).await;
}

/// Numbers at the edge of a double survive jsonb both ways: PostgreSQL prints them as long
/// decimals, and reading those back must neither fail nor round.
#[tokio::test]
async fn extreme_numbers_round_trip_through_every_json_area() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let db = format!("/api/v1/projects/{pid}/database");
    let extremes = json!({"max": f64::MAX, "min": -f64::MAX, "tiny": 5e-324, "odd": 1.2345e254,
                          "big": 7289964550052438016_i64, "neg": i64::MIN});

    let log = json!({"agent_id": Uuid::now_v7(), "log_level": "INFO", "log_message": "m",
                     "raw_payload": extremes});
    ok(&ada, M::POST, &format!("{db}/agent/log"), Some(log)).await;
    let logs = ok(&ada, M::GET, &format!("{db}/agent/logs"), None).await;
    assert_eq!(logs["items"][0]["raw_payload"], extremes);

    let upsert = json!({"vector_embedding": [1.0, 2.0], "vector_metadata": extremes});
    ok(&ada, M::POST, &format!("{db}/vectors/upsert"), Some(upsert)).await;
    let vectors = ok(&ada, M::GET, &format!("{db}/vectors"), None).await;
    assert_eq!(vectors["items"][0]["vector_metadata"], extremes);

    let event = json!({"topic": "t", "event_payload": extremes});
    ok(&ada, M::POST, &format!("{db}/events/publish"), Some(event)).await;
    let events = ok(&ada, M::GET, &format!("{db}/events"), None).await;
    assert_eq!(events["items"][0]["event_payload"], extremes);

    ok(
        &ada,
        M::POST,
        &format!("{db}/tables"),
        Some(json!({"table_name": "t", "schema_definition": {"columns": {"n": "number", "j": "json"}}})),
    )
    .await;
    let rows = format!("{db}/tables/t/rows");
    ok(
        &ada,
        M::POST,
        &rows,
        Some(json!({"rows": [{"n": f64::MAX, "j": extremes}, {"n": -f64::MAX}]})),
    )
    .await;
    let sorted = ok(&ada, M::GET, &format!("{rows}?sort=-n"), None).await;
    assert_eq!(sorted["items"][0]["data"]["n"], json!(f64::MAX));
    assert_eq!(sorted["items"][0]["data"]["j"], extremes);
    let memory = json!({"agent_id": Uuid::now_v7(), "session_id": Uuid::now_v7(), "role": "user",
                        "content": "c", "memory_metadata": extremes});
    ok(&ada, M::POST, &format!("{db}/memory/store"), Some(memory)).await;
    let memories = ok(&ada, M::GET, &format!("{db}/memory"), None).await;
    assert_eq!(memories["items"][0]["memory_metadata"], extremes);
}
