//! Test support: a real server on port 0 over a fresh database, driven through the client.

use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;
use zerodb_client::{Client, HttpMethod, RawResponse};
use zerodb_domain::clock::{Clock, SystemClock};
use zerodb_domain::relay::EventOutbox;
use zerodb_domain::usage::UsageMeter;
use zerodb_postgres::testing::TestDatabase;
use zerodb_server::config::{Secret, Settings};
use zerodb_server::startup::{Application, Database};

pub const JWT_SECRET: &str = "e2e-test-secret-e2e-test-secret-0123456789";

pub struct TestApp {
    pub address: String,
    /// A client without credentials.
    pub client: Client,
    pub db: TestDatabase,
    /// The server's request meter, to flush usage counts on demand.
    pub meter: Arc<UsageMeter>,
    /// Stops the server gracefully.
    pub handle: actix_web::dev::ServerHandle,
    /// The server's data directory (vector index snapshots).
    pub data_dir: Arc<tempfile::TempDir>,
    /// Finishes when the server has stopped.
    pub stopped: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The event outbox, when events are relayed to Kafka.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub outbox: Option<Arc<dyn EventOutbox>>,
}

/// Whether the suite runs on Qdrant: `ZERODB_TEST_VECTOR_BACKEND=qdrant` (scripts/test runs
/// the vectors and memory tests a second time that way).
pub fn on_qdrant() -> bool {
    std::env::var("ZERODB_TEST_VECTOR_BACKEND").is_ok_and(|v| v == "qdrant")
}

/// One Qdrant for the whole run; tests keep apart by project (every point carries its
/// project, and vector ids are unique).
fn shared_qdrant() -> &'static zerodb_testkit::QdrantServer {
    static SERVER: std::sync::OnceLock<zerodb_testkit::QdrantServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(zerodb_testkit::QdrantServer::start)
}

/// The environment that puts a `zerodb serve` child process on the suite's vector backend.
pub fn vector_backend_env() -> Vec<(&'static str, String)> {
    if on_qdrant() {
        vec![
            ("ZERODB__VECTORS__BACKEND", "qdrant".to_owned()),
            ("ZERODB__VECTORS__QDRANT__URL", shared_qdrant().url()),
        ]
    } else {
        Vec::new()
    }
}

/// A server as the tests start it: port 0, one worker, the test database and secret, and
/// the suite's vector backend.
pub fn test_settings(db_url: &str, data_dir: &std::path::Path) -> Settings {
    let mut settings = Settings::defaults().expect("defaults");
    settings.server.port = 0;
    settings.server.workers = Some(1);
    settings.database.url = Some(Secret::new(db_url.to_owned()));
    settings.database.max_connections = 4;
    settings.auth.jwt_secret = Some(Secret::new(JWT_SECRET));
    settings.data_dir = data_dir.to_path_buf();
    // Tests drive one user hard; the limits have tests of their own that set them.
    settings.rate_limit.requests_per_second = 1000;
    settings.rate_limit.burst = 2000;
    if on_qdrant() {
        settings.vectors.backend = zerodb_server::config::VectorBackend::Qdrant;
        settings.vectors.qdrant.url = Some(shared_qdrant().url());
    }
    settings
}

/// A running server: its address, stop handle and completion.
pub struct Server {
    pub address: String,
    pub meter: Arc<UsageMeter>,
    pub handle: actix_web::dev::ServerHandle,
    pub stopped: tokio::task::JoinHandle<std::io::Result<()>>,
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub outbox: Option<Arc<dyn EventOutbox>>,
}

/// Starts a server with these settings inside this test's runtime.
pub async fn start_server(settings: &Settings) -> Server {
    start_server_with_clock(settings, Arc::new(SystemClock)).await
}

/// Starts a server whose services read time from `clock`.
pub async fn start_server_with_clock(settings: &Settings, clock: Arc<dyn Clock>) -> Server {
    let database = Database::connect(settings).await.expect("database");
    let secret = settings.auth.jwt_secret.clone().expect("secret");
    let app = Application::build_with_clock(
        settings,
        &database,
        secret.expose().as_bytes(),
        false,
        clock,
    )
    .expect("build");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (meter, handle, outbox) = (app.meter(), app.handle(), app.event_outbox());
    let stopped = tokio::spawn(app.run_until_stopped());
    Server { address, meter, handle, stopped, outbox }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with_clock(adjust, Arc::new(SystemClock)).await
}

/// A test server whose services read time from `clock` (a `ManualClock` to move it).
pub async fn spawn_app_with_clock(
    adjust: impl FnOnce(&mut Settings),
    clock: Arc<dyn Clock>,
) -> TestApp {
    let db = TestDatabase::new().await;
    if std::env::var_os("TEST_LOG").is_some() {
        zerodb_server::telemetry::init(&Settings::defaults().expect("defaults").log);
    }
    let data_dir = Arc::new(tempfile::tempdir().expect("data dir"));
    let mut settings = test_settings(&db.url, data_dir.path());
    adjust(&mut settings);
    let server = start_server_with_clock(&settings, clock).await;
    TestApp {
        client: Client::new(&server.address),
        address: server.address,
        db,
        meter: server.meter,
        handle: server.handle,
        data_dir,
        stopped: server.stopped,
        outbox: server.outbox,
    }
}

impl TestApp {
    /// Registers a user and returns a client signed in as it.
    pub async fn user(&self, email: &str) -> Client {
        self.client.register(email, "correct horse battery").await.expect("register");
        let login = self.client.login(email, "correct horse battery").await.expect("login");
        self.client.with_token(&login.access_token)
    }

    /// An administrator, made by operators with the CLI exactly as documented.
    pub async fn admin(&self) -> Client {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_zerodb"))
            .args(["user", "create", "--email", "root@example.com", "--admin"])
            .env("ZERODB_USER_PASSWORD", "correct horse battery")
            .env("DATABASE_URL", &self.db.url)
            .env("ZERODB__AUTH__JWT_SECRET", JWT_SECRET)
            .env("ZERODB__LOG__LEVEL", "warn")
            .output()
            .expect("run zerodb user create");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("created admin user root@example.com")
        );
        let login =
            self.client.login("root@example.com", "correct horse battery").await.expect("login");
        assert_eq!(login.user.role, "admin");
        self.client.with_token(&login.access_token)
    }

    /// A signed-in user's project with its database enabled.
    pub async fn enabled_project(&self, owner: &Client, name: &str) -> Uuid {
        let project = owner.create_project(name, None).await.expect("project");
        owner.enable_database(project.project_id).await.expect("enable");
        project.project_id
    }
}

/// A raw call that must never answer 5xx; returns the response for further checks.
pub async fn call(
    client: &Client,
    method: HttpMethod,
    path: &str,
    body: Option<Value>,
) -> RawResponse {
    let response = client.raw(method.clone(), path, body.as_ref()).await.expect("transport");
    assert!(
        response.status < 500,
        "{method} {path} answered {}: {}",
        response.status,
        response.body
    );
    response
}

/// Asserts an error envelope with this status and code.
pub fn assert_error(response: &RawResponse, status: u16, code: &str) {
    assert_eq!(response.status, status, "body: {}", response.body);
    assert_eq!(response.body["error"]["code"], json!(code), "body: {}", response.body);
    assert!(response.body["error"]["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(response.request_id.as_deref(), response.body["error"]["request_id"].as_str());
}

/// Waits (at most 30 s) until a server started in another process answers `/health`.
/// Every endpoint answers 401 without credentials, 404 to another user, and 403 to a key
/// without the area's scope; the first `writes` of them also 403 to a read-only key.
pub async fn assert_guarded(
    endpoints: &[(HttpMethod, String, Option<Value>)],
    writes: usize,
    anonymous: &Client,
    stranger: &Client,
    unscoped: &Client,
    reader: &Client,
) {
    for (method, path, body) in endpoints {
        let r = call(anonymous, method.clone(), path, body.clone()).await;
        assert_error(&r, 401, "unauthenticated");
        assert_error(&call(stranger, method.clone(), path, body.clone()).await, 404, "not_found");
        let r = call(unscoped, method.clone(), path, body.clone()).await;
        assert_error(&r, 403, "insufficient_scope");
    }
    for (method, path, body) in &endpoints[..writes] {
        let r = call(reader, method.clone(), path, body.clone()).await;
        assert_error(&r, 403, "insufficient_scope");
    }
}

pub async fn wait_healthy(client: &Client) {
    let started = std::time::Instant::now();
    while client.health().await.is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "second server did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Waits (at most 60 s) until a server process answers `/ready`; fails with its stderr if it
/// exits first.
pub async fn wait_ready(client: &Client, server: &mut std::process::Child) {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = server.try_wait().expect("poll server") {
            let mut err = String::new();
            if let Some(mut stderr) = server.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
            }
            panic!("zerodb serve exited with {status}: {err}");
        }
        if client.ready().await.is_ok() {
            return;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "server not ready");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
