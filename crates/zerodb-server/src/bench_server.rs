//! What the in-process benchmarks share: a server on port 0 (embedded PostgreSQL unless a
//! database URL is configured), a signed-in client with an enabled project, and the
//! resident memory of a process.

use crate::bench::BenchError;
use crate::config::{Secret, Settings};
use crate::startup::{Application, Database, jwt_secret};
use uuid::Uuid;
use zerodb_client::Client;

pub(crate) struct BenchServer {
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
pub(crate) fn rss_bytes(pid: &str) -> u64 {
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
