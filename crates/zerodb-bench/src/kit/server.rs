//! Servers to measure: in-process on port 0 (embedded PostgreSQL unless a database URL is
//! configured) with a signed-in client and an enabled project, or a `zerodb serve` child
//! process whose resident memory is its own; and the resident memory of a process.

use super::BenchError;
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::Client;
use zerodb_server::config::{Secret, Settings};
use zerodb_server::startup::{Application, Database, jwt_secret};

pub struct BenchServer {
    pub url: String,
    /// Signed in as the project's owner.
    pub client: Client,
    pub project: Uuid,
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    db: Database,
    _dir: tempfile::TempDir,
}

impl BenchServer {
    /// `adjust` changes the settings before the server starts.
    pub async fn start(
        settings: Settings,
        adjust: impl FnOnce(&mut Settings),
    ) -> Result<Self, BenchError> {
        let dir = tempfile::tempdir().map_err(|e| BenchError::Setup(e.to_string()))?;
        let mut settings = settings;
        if settings.database.url.is_none() {
            settings.data_dir = dir.path().to_path_buf();
        }
        settings.server.port = 0;
        settings.rate_limit.enabled = false;
        if settings.auth.jwt_secret.is_none() {
            settings.auth.jwt_secret =
                Some(Secret::new(Uuid::new_v4().simple().to_string().repeat(2)));
        }
        adjust(&mut settings);
        let db = Database::connect(&settings).await?;
        let secret = jwt_secret(&settings)?;
        let app = Application::build(&settings, &db, &secret, false)?;
        let url = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let server = tokio::spawn(app.run_until_stopped());

        let anonymous = Client::new(&url);
        let email = format!("bench-{}@example.com", Uuid::new_v4().simple());
        anonymous.register(&email, "bench password").await?;
        let token = anonymous.login(&email, "bench password").await?.access_token;
        let client = anonymous.with_token(&token);
        let name = format!("bench-{}", Uuid::new_v4().simple());
        let project = client.create_project(&name, None).await?.project_id;
        client.enable_database(project).await?;
        Ok(Self { url, client, project, handle, server, db, _dir: dir })
    }

    /// Stops the server (its index snapshot and usage flush included), then the database.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.server.await;
        self.db.pool.close();
        self.db.shutdown().await;
    }
}

/// Resident set size of process `pid` ("self" for this one), in bytes (Linux).
pub fn rss_bytes(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Settings for a server the benchmark runs in-process: a private data directory (and so an
/// embedded cluster) unless a database URL is configured, port 0, no rate limits.
pub fn in_process_settings(
    mut settings: Settings,
) -> Result<(Settings, Option<tempfile::TempDir>), BenchError> {
    let mut dir = None;
    if settings.database.url.is_none() {
        let temp = tempfile::tempdir().map_err(|e| BenchError::Setup(e.to_string()))?;
        settings.data_dir = temp.path().to_path_buf();
        dir = Some(temp);
    }
    settings.server.port = 0;
    settings.rate_limit.enabled = false;
    settings.database.max_connections = settings.database.max_connections.max(32);
    if settings.auth.jwt_secret.is_none() {
        settings.auth.jwt_secret = Some(Secret::new(Uuid::new_v4().simple().to_string().repeat(2)));
    }
    Ok((settings, dir))
}

/// A fresh user with an enabled project: its client, token and project id.
pub async fn bench_project(base_url: &str) -> Result<(Client, String, Uuid), BenchError> {
    let anonymous = Client::new(base_url);
    let email = format!("bench-{}@example.com", Uuid::new_v4().simple());
    anonymous.register(&email, "bench password").await?;
    let token = anonymous.login(&email, "bench password").await?.access_token;
    let client = anonymous.with_token(&token);
    let project = client
        .create_project(&format!("bench-{}", Uuid::new_v4().simple()), None)
        .await?
        .project_id;
    client.enable_database(project).await?;
    Ok((client, token, project))
}

/// A `zerodb serve` child process.
pub struct ServerProcess {
    child: tokio::process::Child,
    pub url: String,
}

impl ServerProcess {
    pub async fn start(
        database_url: &str,
        data_dir: &Path,
        secret: &str,
    ) -> Result<Self, BenchError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| BenchError::Setup(e.to_string()))?
            .port();
        let exe = std::env::current_exe().map_err(|e| BenchError::Setup(e.to_string()))?;
        let child = tokio::process::Command::new(exe)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("ZERODB__SERVER__PORT", port.to_string())
            .env("ZERODB__DATA_DIR", data_dir)
            .env("ZERODB__AUTH__JWT_SECRET", secret)
            .env("ZERODB__RATE_LIMIT__ENABLED", "false")
            .env("ZERODB__DATABASE__MAX_CONNECTIONS", "32")
            .env("ZERODB__LOG__LEVEL", "warn")
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| BenchError::Setup(format!("starting zerodb serve: {e}")))?;
        let server = Self { child, url: format!("http://127.0.0.1:{port}") };
        let client = Client::new(&server.url);
        let started = Instant::now();
        while client.health().await.is_err() {
            if started.elapsed() > Duration::from_secs(60) {
                return Err(BenchError::Setup("server did not start".into()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(server)
    }

    pub fn rss(&self) -> u64 {
        self.child.id().map_or(0, |pid| rss_bytes(&pid.to_string()))
    }

    /// SIGTERM, as an orchestrator stops it; the index snapshot is written on the way out.
    pub async fn stop(mut self) -> Result<Duration, BenchError> {
        let started = Instant::now();
        if let Some(pid) = self.child.id() {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
                .map_err(|e| BenchError::Setup(e.to_string()))?;
        }
        self.child.wait().await.map_err(|e| BenchError::Setup(e.to_string()))?;
        Ok(started.elapsed())
    }
}

pub async fn signed_in(url: &str, email: &str) -> Result<Client, BenchError> {
    let anonymous = Client::new(url);
    let token = anonymous.login(email, "bench password").await?.access_token;
    Ok(anonymous.with_token(&token))
}
