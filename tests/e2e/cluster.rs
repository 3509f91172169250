//! Distributed mode end to end: two `zerodb serve` processes on one PostgreSQL, with
//! Qdrant, a Kafka-protocol broker (tansu), an S3-compatible store (moto) and Redis, all on
//! 127.0.0.1. Writes through one replica are read through the other in every area, rate
//! limits are shared, a replica killed mid-traffic loses no acknowledged event and rejoins
//! when restarted, and a backup restores into a working deployment.

use crate::helpers::{JWT_SECRET, wait_healthy};
use crate::kafka::read_all;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::{
    Client, ClientError, EventQuery, MemorySearch, NewEvent, NewMemory, NewVector, RowQuery,
    UploadOptions, VectorSearch,
};
use zerodb_objects::testing::MotoServer;
use zerodb_postgres::testing::TestDatabase;
use zerodb_testkit::{KafkaBroker, QdrantServer, RedisServer, free_port};

/// The shared backends of one cluster.
struct Backends {
    db: TestDatabase,
    qdrant: QdrantServer,
    broker: KafkaBroker,
    bucket: String,
    redis_prefix: String,
}

impl Backends {
    async fn start() -> Self {
        Self {
            db: TestDatabase::new().await,
            qdrant: QdrantServer::start(),
            broker: KafkaBroker::start(),
            bucket: MotoServer::shared().bucket(&format!("cluster-{}", Uuid::new_v4().simple())),
            redis_prefix: format!("cluster-{}:", Uuid::new_v4().simple()),
        }
    }

    /// Every setting a replica needs, as the environment of `zerodb serve`.
    fn environment(&self, database_url: &str, collection_prefix: &str) -> Vec<(String, String)> {
        [
            ("DATABASE_URL", database_url.to_owned()),
            ("ZERODB__AUTH__JWT_SECRET", JWT_SECRET.to_owned()),
            ("ZERODB__LOG__LEVEL", "warn".to_owned()),
            ("ZERODB__RATE_LIMIT__REQUESTS_PER_SECOND", "1000".to_owned()),
            ("ZERODB__RATE_LIMIT__BURST", "2000".to_owned()),
            ("ZERODB__VECTORS__BACKEND", "qdrant".to_owned()),
            ("ZERODB__VECTORS__QDRANT__URL", self.qdrant.url()),
            ("ZERODB__VECTORS__QDRANT__COLLECTION_PREFIX", collection_prefix.to_owned()),
            ("ZERODB__EVENTS__BACKEND", "kafka".to_owned()),
            ("ZERODB__EVENTS__KAFKA__BROKERS", self.broker.address()),
            ("ZERODB__EVENTS__KAFKA__REQUEST_TIMEOUT_SECS", "2".to_owned()),
            ("ZERODB__OBJECTS__BACKEND", "s3".to_owned()),
            ("ZERODB__OBJECTS__S3__BUCKET", self.bucket.clone()),
            ("ZERODB__OBJECTS__S3__ENDPOINT", MotoServer::shared().endpoint.clone()),
            ("ZERODB__OBJECTS__S3__ACCESS_KEY_ID", "testing".to_owned()),
            ("ZERODB__OBJECTS__S3__SECRET_ACCESS_KEY", "testing".to_owned()),
            ("ZERODB__OBJECTS__S3__ALLOW_HTTP", "true".to_owned()),
            ("ZERODB__CACHE__BACKEND", "redis".to_owned()),
            ("ZERODB__CACHE__REDIS__URL", RedisServer::shared().url()),
            ("ZERODB__CACHE__REDIS__KEY_PREFIX", self.redis_prefix.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// One `zerodb serve` process.
struct Replica {
    port: u16,
    environment: Vec<(String, String)>,
    data_dir: tempfile::TempDir,
    child: Option<tokio::process::Child>,
}

impl Replica {
    async fn start(environment: Vec<(String, String)>) -> Self {
        let mut replica = Self {
            port: free_port(),
            environment,
            data_dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        replica.restart().await;
        replica
    }

    /// Starts the process (again, on the same port and data directory) and waits until it
    /// answers.
    async fn restart(&mut self) {
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_zerodb"))
            .arg("serve")
            .envs(self.environment.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("ZERODB__SERVER__PORT", self.port.to_string())
            .env("ZERODB__DATA_DIR", self.data_dir.path())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_healthy(&Client::new(&self.url())).await;
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no graceful shutdown, no flush, no resignation.
    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().unwrap();
            let _ = child.wait().await;
        }
    }
}

/// Every event of a topic in ZeroDB's log, in offset order.
async fn log(client: &Client, project: Uuid, topic: &str) -> Vec<(i64, Value)> {
    let mut all = Vec::new();
    let mut from = 1;
    loop {
        let query = EventQuery {
            topic: Some(topic.into()),
            from_offset: Some(from),
            limit: Some(1000),
            ..Default::default()
        };
        let page = client.list_events(project, &query).await.unwrap();
        let Some(last) = page.items.last().map(|e| e.offset) else { return all };
        all.extend(page.items.into_iter().map(|e| (e.offset, e.event_payload)));
        from = last + 1;
    }
}

fn axis(i: usize) -> Vec<f32> {
    let mut v = vec![0.05; 32];
    v[i % 32] = 1.0;
    v
}

/// Writes through replica 1, reads through replica 2, in every area.
async fn every_area_crosses_replicas(one: &Client, two: &Client, project: Uuid) {
    // Tables.
    one.create_table(project, "orders", &json!({"columns": {"item": "string", "n": "integer"}}))
        .await
        .unwrap();
    one.insert_rows(project, "orders", &[json!({"item": "tea", "n": 3})]).await.unwrap();
    let query = RowQuery { filter: Some(json!({"item": "tea"})), ..Default::default() };
    let rows = two.query_rows(project, "orders", &query).await.unwrap();
    assert_eq!(rows.items[0].data["n"], 3, "a row written on 1 is queried on 2");

    // Vectors, through Qdrant.
    let vectors: Vec<NewVector> =
        (0..40).map(|i| NewVector::new(axis(i)).with_id(Uuid::now_v7())).collect();
    one.upsert_vectors(project, &vectors).await.unwrap();
    let found = two.search_vectors(project, &VectorSearch::new(axis(7), 3)).await.unwrap();
    assert_eq!(found.results[0].vector_id, vectors[7].vector_id.clone().unwrap());
    assert_eq!(found.served_by, "index", "searched in Qdrant");

    // Memory, found by meaning.
    let (agent, session) = (Uuid::now_v7(), Uuid::now_v7());
    for text in ["the quokka lives on Rottnest island", "invoices are due every Friday"] {
        one.store_memory(project, &NewMemory::new(agent, session, "user", text)).await.unwrap();
    }
    let search = MemorySearch {
        query: Some("quokka island".into()),
        mode: Some("semantic".into()),
        ..Default::default()
    };
    let hits = two.search_memory(project, &search).await.unwrap();
    assert!(hits.results[0].memory.content.contains("quokka"));

    // Files: uploaded on 1, downloaded with a range on 2.
    let data = zerodb_testkit::pattern(300_000, 7);
    let info = one
        .upload_file(
            project,
            "blob.bin",
            "application/octet-stream",
            data.clone(),
            &UploadOptions::default(),
        )
        .await
        .unwrap();
    let part = two.download_file(project, info.file_id, Some("bytes=1000-1999")).await.unwrap();
    assert_eq!((part.status, part.bytes.to_vec()), (206, data[1000..2000].to_vec()));

    // Events: a stream open on 2 receives what 1 publishes.
    let query = EventQuery { topic: Some("live".into()), ..Default::default() };
    let mut stream = two.stream_events(project, &query, None).await.unwrap();
    let published =
        one.publish_event(project, &NewEvent::new("live", json!({"hello": 2}))).await.unwrap();
    let received = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the stream on 2 saw the event within 10 s")
        .unwrap()
        .unwrap();
    assert_eq!(
        (received.offset, &received.event_payload),
        (published.offset, &json!({"hello": 2}))
    );

    // A consumer group's commit on 1 is what 2 reports.
    one.commit_consumer(project, "billing", "live", published.offset).await.unwrap();
    let consumer = two.get_consumer(project, "billing").await.unwrap();
    assert_eq!(consumer.offsets[0].committed_offset, published.offset);
}

/// An API key limited to a burst of 10 gets 10 requests in all, alternating replicas.
async fn one_rate_limit_across_replicas(owner: &Client, urls: [&str; 2], project: Uuid) {
    owner
        .update_database_config(
            project,
            &json!({"rate_limit_per_second": 1, "rate_limit_burst": 10}),
        )
        .await
        .unwrap();
    let key = owner.create_api_key(project, "limited", &["vectors:read"]).await.unwrap().api_key;
    let (k1, k2) =
        (Client::new(urls[0]).with_api_key(&key), Client::new(urls[1]).with_api_key(&key));
    let mut allowed = 0;
    let started = Instant::now();
    for i in 0..20 {
        let client = if i % 2 == 0 { &k1 } else { &k2 };
        match client.list_namespaces(project).await {
            Ok(_) => allowed += 1,
            Err(e) => assert_eq!(e.status(), Some(429), "{e}"),
        }
    }
    // One token a second refills: allow for the time the loop took.
    let refill = started.elapsed().as_secs() as u32 + 1;
    assert!(
        (10..=10 + refill).contains(&allowed),
        "{allowed} requests allowed in {:?}",
        started.elapsed()
    );
}

/// What the publisher saw while replica 1 was killed under it.
struct KillReport {
    acknowledged: Vec<i64>,
    failed_requests: u64,
    /// From the kill to the first event acknowledged by replica 2.
    takeover: Duration,
}

/// Publishes single events as fast as one client can, to replica 1 until it fails, then to
/// replica 2 (as a load balancer's retry would); kills replica 1 after `before_kill`.
async fn publish_through_a_kill(
    urls: [String; 2],
    token: &str,
    project: Uuid,
    replica: &mut Replica,
) -> KillReport {
    let clients =
        [Client::new(&urls[0]).with_token(token), Client::new(&urls[1]).with_token(token)];
    let stop = Arc::new(AtomicBool::new(false));
    let killed_at = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let failed = Arc::new(AtomicU64::new(0));
    let publisher = {
        let (stop, killed_at, failed) = (stop.clone(), killed_at.clone(), failed.clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut takeover = None;
            let mut current = 0;
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let event = NewEvent::new("orders", json!({"n": n}));
                match clients[current].publish_event(project, &event).await {
                    Ok(e) => {
                        acknowledged.push(e.offset);
                        n += 1;
                        if current == 1 && takeover.is_none() {
                            let at = killed_at.lock().unwrap().unwrap_or_else(Instant::now);
                            takeover = Some(at.elapsed());
                        }
                    }
                    Err(ClientError::Transport(_)) if current == 0 => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        current = 1;
                    }
                    Err(e) => panic!("publishing failed: {e}"),
                }
            }
            (acknowledged, takeover.unwrap_or_default())
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    *killed_at.lock().unwrap() = Some(Instant::now());
    replica.kill().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    stop.store(true, Ordering::Relaxed);
    let (acknowledged, takeover) = publisher.await.unwrap();
    KillReport { acknowledged, failed_requests: failed.load(Ordering::Relaxed), takeover }
}

/// A PostgreSQL client program: beside the server binaries the suite runs, else under
/// Debian's versioned directories, else on PATH.
fn pg_tool(name: &str) -> std::path::PathBuf {
    let beside = zerodb_postgres::embedded::PgBinaries::locate().ok().map(|b| b.bindir.join(name));
    let versioned = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|dirs| {
        dirs.flatten().map(|d| d.path().join("bin").join(name)).find(|p| p.is_file())
    });
    beside.filter(|p| p.is_file()).or(versioned).unwrap_or_else(|| name.into())
}

fn run(program: &Path, args: &[&str]) {
    let output = std::process::Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_everything_survive_a_kill_and_restore_from_a_backup() {
    let started = Instant::now();
    let backends = Backends::start().await;
    let environment = backends.environment(&backends.db.url, "cluster_");
    let mut one = Replica::start(environment.clone()).await;
    let two = Replica::start(environment.clone()).await;
    println!("cluster up in {:?}", started.elapsed());

    let anonymous = Client::new(&one.url());
    anonymous.register("ada@example.com", "correct horse battery").await.unwrap();
    let token =
        anonymous.login("ada@example.com", "correct horse battery").await.unwrap().access_token;
    let (c1, c2) = (anonymous.with_token(&token), Client::new(&two.url()).with_token(&token));
    let project = c1.create_project("cluster", None).await.unwrap().project_id;
    c1.enable_database(project).await.unwrap();

    let phase = Instant::now();
    every_area_crosses_replicas(&c1, &c2, project).await;
    println!("every area across replicas: {:?}", phase.elapsed());
    let phase = Instant::now();
    let limited = c1.create_project("limited", None).await.unwrap().project_id;
    c1.enable_database(limited).await.unwrap();
    one_rate_limit_across_replicas(&c1, [&one.url(), &two.url()], limited).await;
    println!("shared rate limit: {:?}", phase.elapsed());

    // SIGKILL replica 1 under traffic.
    let phase = Instant::now();
    let report = publish_through_a_kill([one.url(), two.url()], &token, project, &mut one).await;
    println!(
        "kill: {} events acknowledged, {} failed requests, replica 2 carried the load {:?} after the kill",
        report.acknowledged.len(),
        report.failed_requests,
        report.takeover
    );
    assert!(report.failed_requests <= 1, "one request in flight at most fails");
    let logged = log(&c2, project, "orders").await;
    let offsets: Vec<i64> = logged.iter().map(|e| e.0).collect();
    assert!(
        report.acknowledged.iter().all(|o| offsets.binary_search(o).is_ok()),
        "every acknowledged event is in the log"
    );
    // Kafka ends up with exactly the log: each event once, in offset order.
    let topic = format!("zerodb.{project}.orders");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut in_kafka = Vec::new();
    while Instant::now() < deadline {
        in_kafka = read_all(&backends.broker, &topic).await;
        if in_kafka.len() >= logged.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Each event once, in offset order: the relay that took over skipped what Kafka held.
    assert_eq!(in_kafka, logged, "Kafka holds exactly the log");
    println!("kill phase {:?}; Kafka held all {} events once", phase.elapsed(), logged.len());

    // Replica 1 rejoins by being started again.
    let phase = Instant::now();
    one.restart().await;
    let again = Client::new(&one.url()).with_token(&token);
    let found = again.search_vectors(project, &VectorSearch::new(axis(7), 1)).await.unwrap();
    assert_eq!(found.served_by, "index");
    assert_eq!(log(&again, project, "orders").await.len(), logged.len());
    println!("replica 1 rejoined in {:?}", phase.elapsed());

    // Restore drill: pg_dump, restore into a new database, a replica on it with an empty
    // Qdrant collection prefix, `zerodb vectors reindex`.
    let phase = Instant::now();
    let dump = tempfile::NamedTempFile::new().unwrap();
    let dump_path = dump.path().to_str().unwrap();
    run(&pg_tool("pg_dump"), &["--format=custom", "--file", dump_path, &backends.db.url]);
    let restored = TestDatabase::new().await;
    run(
        &pg_tool("pg_restore"),
        &["--clean", "--if-exists", "--no-owner", "--dbname", &restored.url, dump_path],
    );
    let restored_environment = backends.environment(&restored.url, "restored_");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zerodb"))
        .args(["vectors", "reindex"])
        .envs(restored_environment.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut three = Replica::start(restored_environment).await;
    let c3 = Client::new(&three.url()).with_token(&token);
    let query = RowQuery { filter: Some(json!({"item": "tea"})), ..Default::default() };
    assert_eq!(c3.query_rows(project, "orders", &query).await.unwrap().items.len(), 1);
    let found = c3.search_vectors(project, &VectorSearch::new(axis(7), 3)).await.unwrap();
    assert_eq!(found.served_by, "index", "Qdrant rebuilt by the reindex");
    assert_eq!(found.count, 3);
    let search = MemorySearch { query: Some("quokka island".into()), ..Default::default() };
    assert!(
        c3.search_memory(project, &search).await.unwrap().results[0]
            .memory
            .content
            .contains("quokka")
    );
    let files = c3.list_files(project, &Default::default()).await.unwrap();
    let file = &files.items[0];
    let whole = c3.download_file(project, file.file_id, None).await.unwrap();
    assert_eq!(whole.bytes.to_vec(), zerodb_testkit::pattern(300_000, 7));
    println!("restore drill: {:?}; whole test {:?}", phase.elapsed(), started.elapsed());
    three.kill().await;
}
