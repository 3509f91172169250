//! Abuse and faults: idle streams stay idle, sign-in is throttled, quotas hold, reserved
//! namespaces stay hidden, limits apply everywhere.

use crate::helpers::*;
use futures_util::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};
use zerodb_client::{EventQuery, NewEvent};

/// The value of an unlabelled counter or gauge in a Prometheus text exposition.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from metrics"))
}

/// A stream whose topic gets nothing sleeps while other topics are busy: its reads stay
/// bounded by the wake-ups, not by time, and its first matching event still arrives fast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_stream_waits_instead_of_spinning() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    // The project's newest event is on topic a; the stream follows b.
    ada.publish_event(pid, &NewEvent::new("a", json!({"n": 0}))).await.unwrap();
    let query = EventQuery { topic: Some("b".into()), ..Default::default() };
    let mut stream = ada.stream_events(pid, &query, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reads_before =
        metric(&app.client.metrics().await.unwrap(), "zerodb_event_stream_reads_total");

    // Five seconds of other topics' traffic: 25 events.
    let started = Instant::now();
    for n in 1..=25 {
        ada.publish_event(pid, &NewEvent::new("a", json!({"n": n}))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let reads = metric(&app.client.metrics().await.unwrap(), "zerodb_event_stream_reads_total")
        - reads_before;
    println!("idle stream: {reads} reads over {:?} with 25 foreign events", started.elapsed());
    // At most one read per wake-up (each foreign event may wake it once), never a loop.
    assert!(reads <= 30.0, "{reads} reads for 25 foreign events in 5 s");

    // A matching event still arrives within 100 ms of being published.
    ada.publish_event(pid, &NewEvent::new("b", json!({"hello": true}))).await.unwrap();
    // From the acknowledgement on: the event is committed, the stream must deliver it.
    let published = Instant::now();
    let got = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the matching event arrived")
        .expect("stream open")
        .expect("an event");
    let latency = published.elapsed();
    assert_eq!(got.topic, "b");
    assert!(latency < Duration::from_millis(100), "first matching event took {latency:?}");
}

/// ZeroDB's own vector namespaces (memory embeddings under `__memory`) are invisible and
/// untouchable through the vectors API, even to a key with every vectors scope.
#[tokio::test]
async fn reserved_namespaces_stay_hidden_from_the_vectors_api() {
    use zerodb_client::HttpMethod as M;
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let db = format!("/api/v1/projects/{pid}/database");
    let stored = call(
        &ada,
        M::POST,
        &format!("{db}/memory/store"),
        Some(json!({"agent_id": uuid::Uuid::now_v7(), "session_id": uuid::Uuid::now_v7(),
                    "role": "user", "content": "a secret only memory:read may see"})),
    )
    .await;
    assert_eq!(stored.status, 201, "{}", stored.body);
    let memory_id = stored.body["memory_id"].as_str().unwrap().to_owned();
    let key = ada.create_api_key(pid, "vectors", &["vectors:read", "vectors:write"]).await.unwrap();
    let vectors = ada.with_api_key(&key.api_key);

    let list = call(&vectors, M::GET, &format!("{db}/vectors"), None).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["items"], json!([]), "{}", list.body);
    let list = call(&vectors, M::GET, &format!("{db}/vectors?namespace=__memory"), None).await;
    assert_error(&list, 422, "validation_failed");
    assert_error(
        &call(&vectors, M::GET, &format!("{db}/vectors/{memory_id}"), None).await,
        404,
        "not_found",
    );
    let namespaces = call(&vectors, M::GET, &format!("{db}/vector-namespaces"), None).await;
    assert!(!namespaces.body.to_string().contains("__memory"), "{}", namespaces.body);
    let search = json!({"query_vector": vec![0.1; 384], "namespace": "__memory"});
    assert_error(
        &call(&vectors, M::POST, &format!("{db}/vectors/search"), Some(search)).await,
        422,
        "validation_failed",
    );
    let by_filter = json!({"namespace": "__memory", "filter": {}});
    assert_error(
        &call(&vectors, M::POST, &format!("{db}/vectors/delete"), Some(by_filter)).await,
        422,
        "validation_failed",
    );
    let by_id = json!({"vector_ids": [memory_id]});
    let deleted = call(&vectors, M::POST, &format!("{db}/vectors/delete"), Some(by_id)).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.body["deleted"], json!(0), "{}", deleted.body);
    assert_error(
        &call(&vectors, M::DELETE, &format!("{db}/vectors/{memory_id}"), None).await,
        404,
        "not_found",
    );

    // The memory and its embedding are intact: it is still found by meaning.
    let found = call(
        &ada,
        M::POST,
        &format!("{db}/memory/search"),
        Some(json!({"query": "a secret only memory:read may see", "mode": "semantic"})),
    )
    .await;
    assert_eq!(found.body["results"][0]["memory_id"], json!(memory_id), "{}", found.body);
}

/// Limits everywhere: `$in`/`$nin` lists, event headers within the payload limit, the
/// statement timeout.
#[tokio::test]
async fn filters_headers_and_slow_statements_are_bounded() {
    use zerodb_client::HttpMethod as M;
    let app = spawn_app_with(|s| {
        s.events.max_payload_bytes = 1024;
        s.database.statement_timeout_ms = 500;
    })
    .await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let db = format!("/api/v1/projects/{pid}/database");

    let search = |op: &str, n: usize| json!({"query_vector": [0.1, 0.2], "filter": {"tag": {op: vec!["x"; n]}}});
    let upsert = json!({"vector_embedding": [0.1, 0.2], "vector_metadata": {"tag": "x"}});
    assert_eq!(
        call(&ada, M::POST, &format!("{db}/vectors/upsert"), Some(upsert)).await.status,
        200
    );
    for op in ["$in", "$nin"] {
        let r = call(&ada, M::POST, &format!("{db}/vectors/search"), Some(search(op, 1001))).await;
        assert_error(&r, 422, "validation_failed");
        let r = call(&ada, M::POST, &format!("{db}/vectors/search"), Some(search(op, 1000))).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    // Headers travel with the payload and count toward its limit.
    let publish = format!("{db}/events/publish");
    let small = json!({"topic": "t", "event_payload": {"a": 1}, "headers": {"h": "x".repeat(100)}});
    assert_eq!(call(&ada, M::POST, &publish, Some(small)).await.status, 201);
    let big = json!({"topic": "t", "event_payload": {"a": 1}, "headers": {"h": "x".repeat(2000)}});
    assert_error(&call(&ada, M::POST, &publish, Some(big)).await, 413, "payload_too_large");

    // A statement stuck behind a lock is cancelled at the timeout: 503 with its own code.
    let lock = app.db.hold_lock("zerodb_tables").await;
    let started = Instant::now();
    let r = ada.raw(M::GET, &format!("{db}/tables"), None).await.expect("transport");
    assert_error(&r, 503, "query_timeout");
    assert_eq!(r.retry_after, Some(1));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    drop(lock);
    let r = call(&ada, M::GET, &format!("{db}/tables"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Streams per project are capped, and an open stream ends when its key is revoked or its
/// token expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_capped_and_end_with_their_credentials() {
    let app = spawn_app_with(|s| {
        s.events.max_streams_per_project = 2;
        s.events.stream_recheck_secs = 1;
    })
    .await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let query = EventQuery::default();

    let first = ada.stream_events(pid, &query, None).await.unwrap();
    let _second = ada.stream_events(pid, &query, None).await.unwrap();
    match ada.stream_events(pid, &query, None).await {
        Err(zerodb_client::ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (429, "rate_limited"));
        }
        other => panic!("a third stream was not refused: {:?}", other.map(|_| ())),
    }
    // Closing one frees its slot.
    drop(first);
    let started = Instant::now();
    let third = loop {
        match ada.stream_events(pid, &query, None).await {
            Ok(stream) => break stream,
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the slot was never freed: {e}"),
        }
    };
    drop(third);
    drop(_second);

    // A stream on a key ends soon after the key is revoked.
    let key = ada.create_api_key(pid, "reader", &["events:read"]).await.unwrap();
    let reader = ada.with_api_key(&key.api_key);
    let started = Instant::now();
    let mut stream = loop {
        match reader.stream_events(pid, &query, None).await {
            Ok(s) => break s,
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the closed streams' slots were never freed: {e}"),
        }
    };
    ada.revoke_api_key(pid, key.key.key_id).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the revoked key's stream stayed open");
}

/// A stream on a token ends once the token expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_token_expires() {
    let app = spawn_app_with(|s| {
        s.events.stream_recheck_secs = 1;
        s.auth.token_ttl_secs = 3;
    })
    .await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let query = EventQuery::default();
    let started = Instant::now();
    let mut stream = loop {
        match ada.stream_events(pid, &query, None).await {
            Ok(s) => break s,
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    // 3 s of validity, plus the 5 s of clock leeway every token gets, plus one re-check.
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the expired token's stream stayed open");
    println!("the token's stream ended {:?} after sign-in", started.elapsed());
}

/// /metrics: an optional bearer token, bounded labels, and counts that scrapes reuse.
#[tokio::test]
async fn metrics_are_guarded_bounded_and_cheap() {
    let app = spawn_app_with(|s| {
        s.metrics.token = Some(zerodb_server::config::Secret::new("scrape-secret-0123".to_owned()));
        s.metrics.counts_cache_secs = 3600;
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/metrics", app.address);
    let scrape = || async {
        let r = http.get(&url).bearer_auth("scrape-secret-0123").send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    };
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"]["code"], "unauthenticated");
    let r = http.get(&url).bearer_auth("scrape-secret-0124").send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Invented methods and unknown paths do not become label values.
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
    for n in 0..3 {
        let path = format!("{}/api/v1/projects", app.address);
        http.request(brew.clone(), &path).send().await.unwrap();
        http.get(format!("{}/no/such/path/{n}", app.address)).send().await.unwrap();
    }
    let text = scrape().await;
    assert!(!text.contains("BREW"), "an invented method became a label");
    assert!(text.contains("method=\"OTHER\""), "{text}");
    assert!(!text.contains("/no/such/path"), "a raw path became a label");
    assert!(text.contains("route=\"unmatched\""));

    // The per-area counts are taken once and reused: a new project shows up only after
    // the cache's lifetime (an hour here), so scrapes cost no table scans.
    let projects = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("zerodb_objects{area=\"projects\"}"))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let before = projects(&text);
    let ada = app.user("ada@example.com").await;
    ada.create_project("p", None).await.unwrap();
    assert_eq!(projects(&scrape().await), before);
}

/// Sign-in is throttled per address and per email; guessing credentials is throttled per
/// address; a flood of sign-ins waits for a bounded number of hashing slots, then gets 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_abuse_is_throttled() {
    use zerodb_client::HttpMethod as M;
    let app = spawn_app_with(|s| {
        s.auth.sign_in_per_email = zerodb_server::config::LimitSettings { per_second: 1, burst: 3 };
        s.auth.sign_in_per_ip = zerodb_server::config::LimitSettings { per_second: 1, burst: 8 };
        s.auth.failed_auth_per_ip =
            zerodb_server::config::LimitSettings { per_second: 1, burst: 4 };
    })
    .await;
    let login = |email: &str| json!({"email": email, "password": "wrong password!"});

    // Per email: the fourth quick attempt on one account is refused before any hashing.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r =
            call(&app.client, M::POST, "/api/v1/auth/login", Some(login("ada@example.com"))).await;
        statuses.push(r.status);
        if r.status == 429 {
            assert_error(&r, 429, "rate_limited");
            assert!(r.retry_after.is_some_and(|s| s >= 1), "no Retry-After");
        }
    }
    assert_eq!(statuses, vec![401, 401, 401, 429]);

    // Per address: other emails, same client, until the address's burst is spent (the
    // per-email refusal above counted against it too).
    let mut limited = false;
    for n in 0..10 {
        let r = call(
            &app.client,
            M::POST,
            "/api/v1/auth/register",
            Some(
                json!({"email": format!("u{n}@example.com"), "password": "correct horse battery"}),
            ),
        )
        .await;
        if r.status == 429 {
            assert_error(&r, 429, "rate_limited");
            limited = true;
            break;
        }
        assert_eq!(r.status, 201, "{}", r.body);
    }
    assert!(limited, "registration was never limited per address");

    // Failed authentication: unknown keys and forged tokens, per address.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut codes = Vec::new();
    for n in 0..8 {
        let guess = app.client.with_api_key(&format!("zdb_guess_{n}"));
        let r = call(&guess, M::GET, "/api/v1/auth/me", None).await;
        codes.push(r.status);
    }
    assert!(codes.starts_with(&[401, 401, 401, 401]), "{codes:?}");
    assert!(codes.contains(&429), "guessing was never limited: {codes:?}");
    let forged = app.client.with_token("not.a.token");
    assert_eq!(call(&forged, M::GET, "/api/v1/auth/me", None).await.status, 429);
}

/// With one hashing slot and no patience, concurrent sign-ins beyond it get 503 (never a
/// 500, never an unbounded queue), and sign-in works again once the burst is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_hashing_is_bounded() {
    use zerodb_client::HttpMethod as M;
    let app = spawn_app_with(|s| {
        s.auth.max_concurrent_hashes = 1;
        s.auth.hash_wait_ms = 1;
        s.auth.sign_in_per_ip = zerodb_server::config::LimitSettings { per_second: 0, burst: 0 };
    })
    .await;
    let mut tasks = Vec::new();
    for n in 0..12 {
        let client = app.client.clone();
        tasks.push(tokio::spawn(async move {
            let body =
                json!({"email": format!("u{n}@example.com"), "password": "correct horse battery"});
            client.raw(M::POST, "/api/v1/auth/register", Some(&body)).await.expect("transport")
        }));
    }
    let mut busy = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            201 => {}
            503 => {
                assert_error(&r, 503, "service_unavailable");
                busy += 1;
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert!(busy > 0, "twelve concurrent hashes on one slot never had to wait");
    let r = call(
        &app.client,
        M::POST,
        "/api/v1/auth/register",
        Some(json!({"email": "late@example.com", "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// Deleting a project removes what lives outside the database too: its in-memory vector
/// index, its index snapshot files and its stored objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_project_leaves_nothing_behind() {
    use zerodb_client::HttpMethod as M;
    let app = spawn_app_with(|s| s.vectors.snapshot_interval_secs = 1).await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "doomed").await;
    let db = format!("/api/v1/projects/{pid}/database");
    let vectors: Vec<_> = (0..50)
        .map(|i| json!({"vector_embedding": [i as f32, 1.0, 2.0], "vector_metadata": {"i": i}}))
        .collect();
    let r = call(
        &ada,
        M::POST,
        &format!("{db}/vectors/upsert-batch"),
        Some(json!({"vectors": vectors})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    ada.upload_file(pid, "a.txt", "text/plain", b"hello".to_vec(), &Default::default())
        .await
        .unwrap();

    let index_dir = app.data_dir.path().join("vectors").join(pid.to_string());
    let objects = app.data_dir.path().join("objects").join("projects").join(pid.to_string());
    let started = Instant::now();
    while !index_dir.exists() {
        assert!(started.elapsed() < Duration::from_secs(15), "no snapshot was written");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(files_under(&objects), 1, "{} holds no object", objects.display());
    let projects_indexed = |text: &str| metric(text, "zerodb_vector_index{measure=\"projects\"}");
    let vectors_indexed = |text: &str| metric(text, "zerodb_vector_index{measure=\"vectors\"}");
    let text = app.client.metrics().await.unwrap();
    assert_eq!((projects_indexed(&text), vectors_indexed(&text)), (1.0, 50.0));

    let r = call(&ada, M::DELETE, &format!("/api/v1/projects/{pid}"), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let text = app.client.metrics().await.unwrap();
    assert_eq!((projects_indexed(&text), vectors_indexed(&text)), (0.0, 0.0));
    assert!(!index_dir.exists(), "the index snapshot is still on disk");
    assert_eq!(files_under(&objects), 0, "the project's objects are still stored");
    let cursor = app
        .db
        .count(&format!("SELECT count(*) AS n FROM zerodb_event_outbox WHERE project_id = '{pid}'"))
        .await;
    assert_eq!(cursor, 0);
    // A later snapshot round does not bring the index back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!index_dir.exists());
}

/// Regular files anywhere under `dir` (0 when it does not exist).
fn files_under(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum()
}

/// Signed links point at the configured public URL, never at a host the requester chose;
/// downloads are never sniffed, and non-ASCII names travel as RFC 6266 `filename*`.
#[tokio::test]
async fn signed_links_and_downloads_are_safe() {
    let http = reqwest::Client::new();
    let link = |app: &TestApp, token: String, pid: uuid::Uuid, file_id: uuid::Uuid| {
        let url = format!("{}/api/v1/projects/{pid}/database/files/{file_id}/url", app.address);
        let http = http.clone();
        async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .header("host", "evil.example")
                .header("x-forwarded-host", "evil.example")
                .header("x-forwarded-proto", "https")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()["url"].as_str().unwrap().to_owned()
        }
    };
    let setup = |app: TestApp| async move {
        app.client.register("ada@example.com", "correct horse battery").await.unwrap();
        let token = app.client.login("ada@example.com", "correct horse battery").await.unwrap();
        let ada = app.client.with_token(&token.access_token);
        let pid = app.enabled_project(&ada, "p").await;
        let file = ada
            .upload_file(
                pid,
                "résumé.txt",
                "text/html",
                b"<script>1</script>".to_vec(),
                &Default::default(),
            )
            .await
            .unwrap();
        (app, token.access_token, pid, file.file_id)
    };

    // Configured: links use server.public_url.
    let app =
        spawn_app_with(|s| s.server.public_url = Some("https://db.example.com/".into())).await;
    let (app, token, pid, file_id) = setup(app).await;
    let url = link(&app, token.clone(), pid, file_id).await;
    assert!(url.starts_with("https://db.example.com/api/v1/files/"), "{url}");

    // Not configured, proxies not trusted: the listening address, whatever the headers say.
    let app = spawn_app().await;
    let (app, token, pid, file_id) = setup(app).await;
    let url = link(&app, token.clone(), pid, file_id).await;
    assert!(!url.contains("evil"), "{url}");
    assert!(url.starts_with(&app.address), "{url} is not on {}", app.address);
    // The link works, and the download is safe to open.
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("filename*=UTF-8''r%C3%A9sum%C3%A9.txt"), "{disposition}");
    assert!(disposition.contains("filename=\"r_sum_.txt\""), "{disposition}");

    // Behind a trusted proxy, its forwarded host is used.
    let app = spawn_app_with(|s| s.server.trust_forwarded_headers = true).await;
    let (app, token, pid, file_id) = setup(app).await;
    let url = link(&app, token, pid, file_id).await;
    assert!(url.starts_with("https://evil.example/"), "{url}");
}

fn assert_quota(r: &zerodb_client::RawResponse, quota: &str, limit: u64) {
    assert_error(r, 403, "quota_exceeded");
    assert_eq!(r.body["error"]["details"]["quota"], json!(quota), "{}", r.body);
    assert_eq!(r.body["error"]["details"]["limit"], json!(limit), "{}", r.body);
}

/// Quotas: server-wide defaults, overridden per project by an administrator; going over is
/// 403 `quota_exceeded` with the limit, and nothing of the refused write is kept.
#[tokio::test]
async fn quotas_hold_and_admins_override_them() {
    use zerodb_client::HttpMethod as M;
    let app = spawn_app_with(|s| {
        s.quotas.max_projects_per_user = Some(2);
        s.quotas.max_vectors = Some(5);
        s.quotas.max_memories = Some(2);
        s.quotas.max_events = Some(3);
        s.quotas.max_file_bytes = Some(10);
        s.quotas.max_tables = Some(1);
        s.quotas.max_rows_per_table = Some(2);
    })
    .await;
    let ada = app.user("ada@example.com").await;
    let root = app.admin().await;
    let pid = app.enabled_project(&ada, "one").await;
    app.enabled_project(&ada, "two").await;
    let r = call(&ada, M::POST, "/api/v1/projects", Some(json!({"project_name": "three"}))).await;
    assert_quota(&r, "max_projects_per_user", 2);
    let db = format!("/api/v1/projects/{pid}/database");

    // Vectors: a batch that would pass the limit writes nothing; replacements are free.
    let v = |id: uuid::Uuid| json!({"vector_id": id, "vector_embedding": [1.0, 2.0]});
    let ids: Vec<uuid::Uuid> = (0..7).map(|_| uuid::Uuid::now_v7()).collect();
    let batch =
        |ids: &[uuid::Uuid]| json!({"vectors": ids.iter().map(|i| v(*i)).collect::<Vec<_>>()});
    let upsert = format!("{db}/vectors/upsert-batch");
    assert_eq!(call(&ada, M::POST, &upsert, Some(batch(&ids[..4]))).await.status, 200);
    assert_quota(&call(&ada, M::POST, &upsert, Some(batch(&ids[4..6]))).await, "max_vectors", 5);
    let listed = call(&ada, M::GET, &format!("{db}/vectors"), None).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(4));
    assert_eq!(call(&ada, M::POST, &upsert, Some(batch(&ids[4..5]))).await.status, 200);
    assert_eq!(call(&ada, M::POST, &upsert, Some(batch(&ids[..5]))).await.status, 200, "replacing");
    // An administrator raises this project's limit.
    let quotas = format!("/api/v1/admin/zerodb/projects/{pid}/quotas");
    let r = call(&root, M::PUT, &quotas, Some(json!({"max_vectors": 10}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["effective"]["max_vectors"], json!(10));
    assert_eq!(r.body["effective"]["max_memories"], json!(2));
    assert_eq!(call(&ada, M::POST, &upsert, Some(batch(&ids[5..7]))).await.status, 200);
    // Only administrators see or set quotas.
    assert_error(
        &call(&ada, M::PUT, &quotas, Some(json!({"max_vectors": 1000}))).await,
        403,
        "forbidden",
    );

    // Memories.
    let memory = json!({"agent_id": uuid::Uuid::now_v7(), "session_id": uuid::Uuid::now_v7(),
                        "role": "user", "content": "remember"});
    for _ in 0..2 {
        assert_eq!(
            call(&ada, M::POST, &format!("{db}/memory/store"), Some(memory.clone())).await.status,
            201
        );
    }
    assert_quota(
        &call(&ada, M::POST, &format!("{db}/memory/store"), Some(memory)).await,
        "max_memories",
        2,
    );

    // Events kept in the log.
    let events = |n: usize| json!({"events": (0..n).map(|i| json!({"topic": "t", "event_payload": i})).collect::<Vec<_>>()});
    let publish = format!("{db}/events/publish-batch");
    assert_quota(&call(&ada, M::POST, &publish, Some(events(4))).await, "max_events", 3);
    assert_eq!(call(&ada, M::POST, &publish, Some(events(3))).await.status, 201);
    assert_quota(&call(&ada, M::POST, &publish, Some(events(1))).await, "max_events", 3);

    // File bytes: the upload that would pass the quota keeps nothing.
    ada.upload_file(pid, "a.txt", "text/plain", b"12345678".to_vec(), &Default::default())
        .await
        .unwrap();
    let over =
        ada.upload_file(pid, "b.txt", "text/plain", b"12345".to_vec(), &Default::default()).await;
    match over {
        Err(zerodb_client::ClientError::Api { status: 403, code, .. }) => {
            assert_eq!(code, "quota_exceeded")
        }
        other => panic!("an upload past the quota was not refused: {:?}", other.map(|f| f.file_id)),
    }
    let files = call(&ada, M::GET, &format!("{db}/files"), None).await;
    assert_eq!(files.body["items"].as_array().map(Vec::len), Some(1), "{}", files.body);
    let objects = app.data_dir.path().join("objects").join("projects").join(pid.to_string());
    assert_eq!(files_under(&objects), 1);

    // Tables, and rows per table.
    let tables = format!("{db}/tables");
    let table = |name: &str| json!({"table_name": name, "schema_definition": {"columns": {"a": "integer"}}});
    assert_eq!(call(&ada, M::POST, &tables, Some(table("t"))).await.status, 201);
    assert_quota(&call(&ada, M::POST, &tables, Some(table("u"))).await, "max_tables", 1);
    let rows = format!("{tables}/t/rows");
    assert_quota(
        &call(&ada, M::POST, &rows, Some(json!({"rows": [{"a": 1}, {"a": 2}, {"a": 3}]}))).await,
        "max_rows_per_table",
        2,
    );
    assert_eq!(
        call(&ada, M::POST, &rows, Some(json!({"rows": [{"a": 1}, {"a": 2}]}))).await.status,
        201
    );

    // A project's own rate limit stays under the server's ceiling; an administrator's may not.
    let fast = json!({"rate_limit_per_second": 1_000_000});
    assert_error(&call(&ada, M::PUT, &db, Some(fast.clone())).await, 422, "validation_failed");
    assert_eq!(call(&root, M::PUT, &db, Some(fast)).await.status, 200);
}
