//! Wiring: the database (embedded or external), the services, and the HTTP server.

use crate::backends;
use crate::background::BackgroundTasks;
use crate::config::{EmbeddingProviderKind, ObjectBackend, Profile, Settings};
use crate::vector_engine::VectorEngine;
use actix_web::{App, HttpServer, middleware::from_fn, web};
use async_trait::async_trait;
use chrono::Utc;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use zerodb_domain::admin::AdminRepository;
use zerodb_domain::clock::{Clock, SystemClock};
use zerodb_domain::files::ObjectStore;
use zerodb_domain::memory::{Embedders, EmbeddingProvider};
use zerodb_domain::project_cache::CachedProjects;
use zerodb_domain::rate_limit::RateLimit;
use zerodb_domain::relay::EventOutbox;
use zerodb_domain::services::{
    EventRelay, FileOptions, Ports, ServiceOptions, Services, VectorOptions,
};
use zerodb_domain::usage::UsageMeter;
use zerodb_domain::vectors::NamespaceSpec;
use zerodb_embeddings::{BuiltinEmbedder, Cl100kTokenCounter, OpenAiEmbedder, OpenAiSettings};
use zerodb_http::mcp::McpEndpoint;
use zerodb_http::metrics::{HttpMetrics, MetricsSnapshot, MetricsSource};
use zerodb_http::routes::events::StreamSettings;
use zerodb_http::sign_in::SignInLimits;
use zerodb_http::{AppState, HttpLimits, ReadinessProbe};
use zerodb_postgres::embedded::{ClusterOptions, LocalCluster, write_private};
use zerodb_postgres::{
    PgAdminRepository, PgAgentLogRepository, PgApiKeyRepository, PgEventBus, PgFileRepository,
    PgMemoryStore, PgPool, PgProjectRepository, PgRlhfRepository, PgTableRepository,
    PgUsageRepository, PgUserRepository, PgVectorRecords, PoolOptions, build_pool, ensure_database,
    run_migrations,
};
use zerodb_security::{Argon2PasswordHasher, JwtTokenIssuer};

/// The database name ZeroDB uses inside its embedded cluster.
const EMBEDDED_DATABASE: &str = "zerodb";
/// How long a project read for an access check is reused; changes made through another
/// process (deletion, a disabled database, quotas) take effect here within this time.
const PROJECT_CACHE_TTL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Cluster(#[from] zerodb_postgres::embedded::ClusterError),
    #[error(transparent)]
    Database(#[from] zerodb_postgres::SetupError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error(transparent)]
    Objects(#[from] zerodb_objects::ObjectSetupError),
    #[cfg(feature = "redis")]
    #[error("cache.redis.url is not usable")]
    Redis(#[source] zerodb_redis::RedisSetupError),
    #[error("{0}")]
    Invalid(String),
}

/// The connected database, and the cluster behind it when ZeroDB runs its own.
pub struct Database {
    pub pool: PgPool,
    pub url: String,
    pub cluster: Option<LocalCluster>,
    /// Restarts the embedded cluster when it dies (see [`Database::supervise`]).
    supervisor: Option<tokio::task::JoinHandle<()>>,
}

impl Database {
    /// Connects to the configured server, or starts the embedded cluster, then migrates.
    pub async fn connect(settings: &Settings) -> Result<Self, StartupError> {
        let (url, cluster) = match &settings.database.url {
            Some(url) => {
                tracing::info!("using the PostgreSQL server from the configuration");
                (url.expose().to_owned(), None)
            }
            None => {
                let dir = settings.data_dir.join("pg");
                tracing::info!(dir = %dir.display(), "starting the embedded PostgreSQL cluster");
                let cluster = LocalCluster::start(&dir, ClusterOptions::default()).await?;
                tracing::info!(
                    port = cluster.port(),
                    "embedded PostgreSQL is running on 127.0.0.1"
                );
                ensure_database(&cluster.url("postgres"), EMBEDDED_DATABASE).await?;
                (cluster.url(EMBEDDED_DATABASE), Some(cluster))
            }
        };
        let applied = run_migrations(&url).await?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied migrations");
        }
        let options = PoolOptions {
            max_size: settings.database.max_connections,
            acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_secs),
            connect_timeout: Duration::from_secs(settings.database.connect_timeout_secs),
            statement_timeout: (settings.database.statement_timeout_ms > 0)
                .then(|| Duration::from_millis(settings.database.statement_timeout_ms)),
        };
        let pool = build_pool(&url, options)?;
        Ok(Self { pool, url, cluster, supervisor: None })
    }

    /// Keeps the embedded cluster running for as long as this process serves: when its
    /// postmaster dies it is started again, and the pool's connections to the dead server
    /// are dropped. No-op with an external server.
    pub fn supervise(&mut self) {
        if let (Some(cluster), None) = (&self.cluster, &self.supervisor) {
            let pool = self.pool.clone();
            self.supervisor =
                Some(zerodb_postgres::embedded::supervise(cluster.clone(), move || {
                    pool.retain(|_, _| false);
                }));
        }
    }

    /// Stops the embedded cluster, if this process runs one.
    pub async fn shutdown(&self) {
        if let Some(supervisor) = &self.supervisor {
            supervisor.abort();
        }
        if let Some(cluster) = &self.cluster {
            tracing::info!("stopping the embedded PostgreSQL cluster");
            if let Err(e) = cluster.stop().await {
                tracing::error!(error = %e, "could not stop the embedded PostgreSQL cluster");
            }
        }
    }
}

/// The configured JWT secret, or (outside production) one generated once and kept in the
/// data directory so that tokens survive restarts.
pub fn jwt_secret(settings: &Settings) -> Result<Vec<u8>, StartupError> {
    if let Some(secret) = &settings.auth.jwt_secret {
        if secret.expose().len() < 32 {
            tracing::warn!("auth.jwt_secret is shorter than 32 bytes; use a longer one");
        }
        return Ok(secret.expose().as_bytes().to_vec());
    }
    if settings.profile == Profile::Production {
        return Err(StartupError::Invalid("production needs auth.jwt_secret".into()));
    }
    let io = |context: &str| {
        let context = context.to_owned();
        move |source| StartupError::Io { context, source }
    };
    std::fs::create_dir_all(&settings.data_dir).map_err(io("creating the data directory"))?;
    let path = settings.data_dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => Ok(s.trim().as_bytes().to_vec()),
        _ => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)
                .map_err(|e| StartupError::Invalid(format!("no randomness: {e}")))?;
            let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            write_private(&path, &secret)?;
            tracing::info!(path = %path.display(), "generated a JWT signing secret");
            Ok(secret.into_bytes())
        }
    }
}

/// Builds every service on the PostgreSQL adapters. Starts the event writers, so it must be
/// called inside a Tokio runtime.
pub fn build_services(
    db: &Database,
    settings: &Settings,
    secret: &[u8],
) -> Result<Services, StartupError> {
    Ok(build_backends(db, settings, secret, Arc::new(SystemClock))?.services)
}

/// The services and the handles the server needs to run and stop them.
pub struct Backends {
    pub services: Services,
    pub vector_engine: VectorEngine,
    /// The outbox relay, when events are handed to an external log.
    pub relay: Option<Arc<EventRelay>>,
    /// The adapters' own loops (event writers and listeners); stop them before the database.
    pub background: BackgroundTasks,
}

/// The vector store per `settings.vectors`, over the PostgreSQL records; the records'
/// change listener joins `background`.
fn vector_engine(
    db: &Database,
    settings: &Settings,
    background: &mut BackgroundTasks,
) -> Result<VectorEngine, StartupError> {
    let records = Arc::new(PgVectorRecords::start(db.pool.clone(), db.url.clone()));
    if let Some(listener) = records.take_task() {
        background.add("vector change listener", listener);
    }
    VectorEngine::build(settings, records, db)
}

/// The server's models: the default (`embeddings.provider`), each `[[embeddings.models]]`
/// and the built-in lexical embedder, each behind the embedding cache when it is on.
fn embedders(settings: &Settings) -> Result<Embedders, StartupError> {
    let e = &settings.embeddings;
    let default = backends::cached_embedder(settings, embedder(e)?)?;
    let mut others = Vec::with_capacity(e.models.len() + 1);
    for offered in &e.models {
        others.push(backends::cached_embedder(settings, embedder(&e.with_model(offered))?)?);
    }
    others.push(backends::cached_embedder(settings, Arc::new(BuiltinEmbedder::new(e.dimension)))?);
    let embedders = Embedders::new(default, others);
    let names: Vec<String> = embedders.offered().into_iter().map(|m| m.model).collect();
    tracing::info!(models = ?names, "embedding models offered");
    Ok(embedders)
}

/// The embedding provider `e` describes.
fn embedder(
    e: &crate::config::EmbeddingSettings,
) -> Result<Arc<dyn EmbeddingProvider>, StartupError> {
    tracing::info!(provider = ?e.provider, dimension = e.dimension, "embedding provider");
    Ok(match e.provider {
        EmbeddingProviderKind::Builtin => Arc::new(BuiltinEmbedder::new(e.dimension)),
        EmbeddingProviderKind::Openai => {
            let required = |v: &Option<String>, key: &str| {
                v.clone().ok_or_else(|| {
                    StartupError::Invalid(format!("embeddings.{key} is required for openai"))
                })
            };
            Arc::new(
                OpenAiEmbedder::new(OpenAiSettings {
                    base_url: required(&e.base_url, "base_url")?,
                    model: required(&e.model, "model")?,
                    api_key: e.api_key.as_ref().map(|k| k.expose().to_owned()),
                    dimension: e.dimension,
                    batch_size: e.batch_size,
                    timeout: Duration::from_secs(e.timeout_secs),
                    max_retries: e.max_retries,
                    backoff: Duration::from_millis(200),
                })
                .map_err(StartupError::Invalid)?,
            )
        }
        EmbeddingProviderKind::Local => local_embedder(&e.local)?,
    })
}

#[cfg(feature = "local-embeddings")]
fn local_embedder(
    local: &crate::config::LocalEmbeddingSettings,
) -> Result<Arc<dyn EmbeddingProvider>, StartupError> {
    use zerodb_embeddings::local::{LocalEmbedder, LocalSettings};
    let model_dir = local.model_dir.clone().ok_or_else(|| {
        StartupError::Invalid(
            "embeddings.local.model_dir is required for the local provider".into(),
        )
    })?;
    let embedder = LocalEmbedder::load(&LocalSettings {
        model_dir,
        max_seq_length: local.max_seq_length,
        batch_size: local.batch_size,
        threads: local.threads,
        batch_window: Duration::from_millis(local.batch_window_ms),
        queue: local.queue,
    })
    .map_err(|e| StartupError::Invalid(format!("embeddings.local: {e}")))?;
    tracing::info!(model = %embedder.model(), dimension = embedder.dimension(), "local embedding model loaded");
    Ok(Arc::new(embedder))
}

#[cfg(not(feature = "local-embeddings"))]
fn local_embedder(
    _: &crate::config::LocalEmbeddingSettings,
) -> Result<Arc<dyn EmbeddingProvider>, StartupError> {
    Err(StartupError::Invalid(
        "embeddings.provider = \"local\" needs a zerodb built with the `local-embeddings` feature"
            .into(),
    ))
}

/// Builds every service and its adapters. Starts background tasks (event writers, the
/// vector change listener), so it must be called inside a Tokio runtime.
pub fn build_backends(
    db: &Database,
    settings: &Settings,
    secret: &[u8],
    clock: Arc<dyn Clock>,
) -> Result<Backends, StartupError> {
    let pool = &db.pool;
    let mut background = BackgroundTasks::default();
    let vector_engine = vector_engine(db, settings, &mut background)?;
    let events = PgEventBus::start(pool.clone(), db.url.clone())?;
    for task in events.take_tasks() {
        background.add("event writer or listener", task);
    }
    let relay = backends::event_sink(settings)?.map(|sink| {
        let outbox: Arc<dyn EventOutbox> = Arc::new(events.outbox());
        Arc::new(EventRelay::new(outbox, sink, settings.events.relay_batch_events))
    });
    let ports = Ports {
        users: Arc::new(PgUserRepository::new(pool.clone())),
        // Access checks read projects on every request; see `CachedProjects` for the bound.
        projects: Arc::new(CachedProjects::new(
            Arc::new(PgProjectRepository::new(pool.clone())),
            PROJECT_CACHE_TTL,
        )),
        api_keys: Arc::new(PgApiKeyRepository::new(pool.clone())),
        tables: Arc::new(PgTableRepository::new(pool.clone())),
        rlhf: Arc::new(PgRlhfRepository::new(pool.clone())),
        agent_logs: Arc::new(PgAgentLogRepository::new(pool.clone())),
        admin: Arc::new(PgAdminRepository::new(pool.clone())),
        usage: Arc::new(PgUsageRepository::new(pool.clone())),
        events,
        vectors: vector_engine.store(),
        memory: Arc::new(PgMemoryStore::new(pool.clone())),
        files: Arc::new(PgFileRepository::new(pool.clone())),
        objects: object_store(settings)?,
        embedders: embedders(settings)?,
        token_counter: Arc::new(
            Cl100kTokenCounter::new()
                .map_err(|e| StartupError::Invalid(format!("tokenizer: {e}")))?,
        ),
        password_hasher: Arc::new(match settings.auth.max_concurrent_hashes {
            0 => Argon2PasswordHasher::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
                Duration::from_millis(settings.auth.hash_wait_ms),
            ),
            n => Argon2PasswordHasher::new(n, Duration::from_millis(settings.auth.hash_wait_ms)),
        }),
        tokens: Arc::new(JwtTokenIssuer::new(
            secret,
            &settings.auth.jwt_issuer,
            Duration::from_secs(settings.auth.token_ttl_secs),
        )),
        quota_usage: Arc::new(zerodb_postgres::PgQuotaUsage::new(db.pool.clone())),
        clock,
    };
    let options = ServiceOptions {
        allow_registration: settings.registration_open(),
        started_at: Utc::now(),
        version: env!("CARGO_PKG_VERSION"),
        max_event_payload_bytes: settings.events.max_payload_bytes,
        vectors: VectorOptions {
            max_metadata_bytes: settings.vectors.max_metadata_bytes,
            default_spec: NamespaceSpec {
                metric: settings.vectors.default_metric,
                quantization: settings.vectors.default_quantization,
            },
        },
        files: FileOptions {
            max_file_bytes: settings.objects.max_file_bytes,
            link_key: link_key(secret),
        },
        quotas: settings.quotas.defaults(),
        max_projects_per_user: settings.quotas.max_projects_per_user,
        project_rate_limit_ceiling: settings.rate_limit.enabled.then_some(RateLimit {
            per_second: settings.rate_limit.requests_per_second,
            burst: settings.rate_limit.burst,
        }),
    };
    Ok(Backends { services: Services::new(ports, options), vector_engine, relay, background })
}

/// The key that signs download links, derived from the token secret so that every replica
/// sharing that secret accepts the others' links, and a leaked link key reveals nothing of it.
fn link_key(secret: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::new().chain_update(b"zerodb file links\0").chain_update(secret).finalize().to_vec()
}

fn object_store(settings: &Settings) -> Result<Arc<dyn ObjectStore>, StartupError> {
    use zerodb_objects::ObjectStoreAdapter;
    let store = match settings.objects.backend {
        ObjectBackend::Local => {
            let dir =
                settings.objects.dir.clone().unwrap_or_else(|| settings.data_dir.join("objects"));
            tracing::info!(backend = "local", dir = %dir.display(), "object store");
            ObjectStoreAdapter::local(&dir)?
        }
        ObjectBackend::Memory => {
            tracing::info!(backend = "memory", "object store (nothing survives a restart)");
            ObjectStoreAdapter::memory()
        }
        #[cfg(feature = "s3")]
        ObjectBackend::S3 => {
            let s3 = &settings.objects.s3;
            let config = zerodb_objects::S3Settings {
                bucket: s3.bucket.clone().unwrap_or_default(),
                region: s3.region.clone(),
                endpoint: s3.endpoint.clone(),
                access_key_id: s3.access_key_id.as_ref().map(|k| k.expose().to_owned()),
                secret_access_key: s3.secret_access_key.as_ref().map(|k| k.expose().to_owned()),
                path_style: s3.path_style,
                allow_http: s3.allow_http,
            };
            tracing::info!(backend = "s3", bucket = %config.bucket, endpoint = ?config.endpoint, "object store");
            ObjectStoreAdapter::s3(&config)?
        }
        #[cfg(not(feature = "s3"))]
        ObjectBackend::S3 => {
            return Err(StartupError::Invalid(
                "objects.backend = \"s3\" needs a zerodb built with the `s3` feature".into(),
            ));
        }
    };
    Ok(Arc::new(store))
}

struct PgReadiness(PgPool);

/// Per-area object counts and when they were taken.
type CountsTaken = (std::time::Instant, Vec<(&'static str, u64)>);

/// Scrape-time metrics: pool usage and per-area object counts. The counts are exact but
/// cost index scans, so they are taken at most once per `counts_ttl` and reused by the
/// scrapes in between.
struct PgMetricsSource {
    pool: PgPool,
    admin: PgAdminRepository,
    outbox: Option<Arc<dyn EventOutbox>>,
    vector_engine: VectorEngine,
    counts_ttl: Duration,
    counts: tokio::sync::Mutex<Option<CountsTaken>>,
}

#[async_trait]
impl MetricsSource for PgMetricsSource {
    async fn snapshot(&self) -> MetricsSnapshot {
        let status = self.pool.status();
        let mut snapshot = MetricsSnapshot {
            pool_size: status.size as u64,
            pool_available: status.available as u64,
            pool_waiting: status.waiting as u64,
            objects: Vec::new(),
            outbox: None,
            vector_index: None,
            vector_relay_backlog: None,
        };
        self.vector_engine.observe(&mut snapshot).await;
        if let Some(outbox) = &self.outbox {
            match outbox.backlog().await {
                Ok(b) => {
                    snapshot.outbox = Some((b.events, b.oldest_age(Utc::now()).as_secs_f64()));
                }
                Err(e) => tracing::warn!(error = %e, "could not read the event outbox backlog"),
            }
        }
        // One counter at a time; the others wait and reuse its fresh counts.
        let mut cached = self.counts.lock().await;
        if let Some((taken, counts)) = cached.as_ref()
            && taken.elapsed() < self.counts_ttl
        {
            snapshot.objects = counts.clone();
            return snapshot;
        }
        match self.admin.system_totals().await {
            Ok(t) => {
                snapshot.objects = vec![
                    ("users", t.users),
                    ("projects", t.projects),
                    ("tables", t.counts.tables),
                    ("rows", t.counts.rows),
                    ("api_keys", t.counts.api_keys),
                    ("rlhf_records", t.counts.rlhf_records),
                    ("agent_logs", t.counts.agent_logs),
                ];
                *cached = Some((std::time::Instant::now(), snapshot.objects.clone()));
            }
            Err(e) => tracing::warn!(error = %e, "could not count objects for metrics"),
        }
        snapshot
    }
}

#[async_trait]
impl ReadinessProbe for PgReadiness {
    async fn check(&self) -> Result<(), String> {
        zerodb_postgres::ping(&self.0).await.map_err(|e| e.to_string())
    }
}

/// A bound, not yet running HTTP server.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    meter: Arc<UsageMeter>,
    final_flush_attempts: usize,
    vector_engine: VectorEngine,
    relay: Option<Arc<EventRelay>>,
    background: BackgroundTasks,
}

/// `/mcp`, whose tool calls go to this process's own REST API over loopback, so that they
/// pass through exactly the checks, limits and metering a REST call does.
fn mcp_endpoint(settings: &Settings, listener: &TcpListener) -> web::Data<McpEndpoint> {
    let mut own = listener
        .local_addr()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], settings.server.port)));
    if own.ip().is_unspecified() {
        own.set_ip(match own.ip() {
            std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let mcp = &settings.mcp;
    let service = zerodb_mcp::transport::http_service(&zerodb_mcp::transport::HttpSettings {
        rest_url: format!("http://{own}"),
        limits: zerodb_mcp::McpLimits {
            max_result_bytes: mcp.max_result_bytes,
            max_file_bytes: mcp.max_file_bytes,
        },
        max_body_bytes: mcp.max_body_bytes,
        session_idle: Duration::from_secs(mcp.session_idle_secs),
    });
    web::Data::new(McpEndpoint::new(
        service,
        &mcp.allowed_origins,
        mcp.max_body_bytes,
        Duration::from_secs(mcp.session_idle_secs),
    ))
}

impl Application {
    /// Binds `server.host:server.port` (port 0 picks a free one) and prepares the server.
    pub fn build(
        settings: &Settings,
        db: &Database,
        secret: &[u8],
        handle_signals: bool,
    ) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, db, secret, handle_signals, Arc::new(SystemClock))
    }

    /// As [`Application::build`], with the services reading time from `clock` (tests move
    /// it instead of rewriting stored timestamps).
    pub fn build_with_clock(
        settings: &Settings,
        db: &Database,
        secret: &[u8],
        handle_signals: bool,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let pool = db.pool.clone();
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address)
            .map_err(|source| StartupError::Io { context: format!("binding {address}"), source })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(settings.server.port);
        let mcp = settings.mcp.enabled.then(|| mcp_endpoint(settings, &listener));
        let Backends { services, vector_engine, relay, mut background } =
            build_backends(db, settings, secret, clock)?;
        if let Some(relay) = &relay {
            // Whatever it has not delivered when stopped stays in the outbox for the next start.
            background.add("event relay", backends::spawn_relay(relay.clone()));
        }
        vector_engine.start(settings, &mut background);
        let meter = services.meter.clone();
        let flusher = meter.clone();
        let flush_every = Duration::from_secs(settings.metering.flush_interval_secs);
        background.spawn("usage flush", async move {
            let mut ticks = tokio::time::interval(flush_every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(e) = flusher.flush().await {
                    tracing::warn!(error = %e, "usage flush failed; counts kept for the next one");
                }
            }
        });
        let default_rate_limit = settings.rate_limit.enabled.then_some(RateLimit {
            per_second: settings.rate_limit.requests_per_second,
            burst: settings.rate_limit.burst,
        });
        let metrics =
            HttpMetrics::new().map_err(|e| StartupError::Invalid(format!("metrics: {e}")))?;
        let state = web::Data::new(AppState {
            services,
            readiness: Arc::new(PgReadiness(pool.clone())),
            rate_limiter: backends::rate_limiter(settings)?,
            default_rate_limit,
            metrics,
            metrics_source: Arc::new(PgMetricsSource {
                pool: pool.clone(),
                admin: PgAdminRepository::new(pool),
                outbox: relay.as_ref().map(|r| r.outbox().clone()),
                vector_engine: vector_engine.clone(),
                counts_ttl: Duration::from_secs(settings.metrics.counts_cache_secs),
                counts: Default::default(),
            }),
            metrics_token: settings.metrics.token.as_ref().map(|t| t.expose().to_owned()),
            stream: StreamSettings {
                heartbeat: Duration::from_secs(settings.events.heartbeat_secs),
                slow_consumer_timeout: Duration::from_secs(
                    settings.events.slow_consumer_timeout_secs,
                ),
                max_per_project: settings.events.max_streams_per_project,
                recheck: Duration::from_secs(settings.events.stream_recheck_secs.max(1)),
            },
            open_streams: Default::default(),
            public_url: settings.server.public_url.clone(),
            sign_in: SignInLimits {
                per_ip: settings.auth.sign_in_per_ip.limit(),
                per_email: settings.auth.sign_in_per_email.limit(),
                failed_auth_per_ip: settings.auth.failed_auth_per_ip.limit(),
                trust_forwarded_headers: settings.server.trust_forwarded_headers,
            },
        });
        let purge_every = Duration::from_secs(settings.memory.purge_interval_secs.max(1));
        let purger = state.clone();
        background.spawn("memory purge", async move {
            loop {
                tokio::time::sleep(purge_every).await;
                match purger.services.memory.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(purged = n, "expired memories purged"),
                    Err(e) => tracing::warn!(error = %e, "memory purge failed"),
                }
            }
        });
        let sweep_every = Duration::from_secs(settings.objects.sweep_interval_secs.max(1));
        let grace = Duration::from_secs(settings.objects.orphan_grace_secs);
        let sweeper = state.clone();
        background.spawn("file object sweep", async move {
            loop {
                tokio::time::sleep(sweep_every).await;
                match sweeper.services.files.sweep_orphans(grace).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "orphaned file objects swept"),
                    Err(e) => tracing::warn!(error = %e, "file object sweep failed"),
                }
            }
        });
        let limits = HttpLimits {
            max_body_bytes: settings.server.max_body_bytes,
            max_vector_batch_bytes: settings.vectors.max_batch_body_bytes,
        };
        let mut server = HttpServer::new(move || {
            let mut app = App::new().wrap(from_fn(zerodb_http::request_id::observe_requests));
            if let Some(endpoint) = &mcp {
                app = app.configure(zerodb_http::mcp::config(endpoint.clone()));
            }
            app.configure(zerodb_http::configure(state.clone(), limits))
        })
        .listen(listener)
        .map_err(|source| StartupError::Io { context: "listening".into(), source })?
        .shutdown_timeout(10)
        .client_request_timeout(Duration::from_secs(
            settings.server.request_head_timeout_secs.max(1),
        ));
        if let Some(workers) = settings.server.workers {
            server = server.workers(workers);
        }
        if !handle_signals {
            server = server.disable_signals();
        }
        Ok(Self {
            port,
            server: server.run(),
            meter,
            final_flush_attempts: settings.database.max_connections + 1,
            vector_engine,
            relay,
            background,
        })
    }

    /// The request meter, e.g. to flush it on demand.
    pub fn meter(&self) -> Arc<UsageMeter> {
        self.meter.clone()
    }

    /// The vector engine, e.g. to wait until it has caught up with the database.
    pub fn vector_engine(&self) -> VectorEngine {
        self.vector_engine.clone()
    }

    /// A handle that stops the server gracefully (the index snapshot is written on the way).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The event outbox, when events are relayed to an external log (its backlog shows how
    /// far the relay is behind).
    pub fn event_outbox(&self) -> Option<Arc<dyn EventOutbox>> {
        self.relay.as_ref().map(|r| r.outbox().clone())
    }

    /// Serves until the server is stopped (Ctrl-C or SIGTERM when signals are handled),
    /// writing usage counts on an interval and once more after the last request.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // Every loop ends before the database may go: no reconnect attempts, no warnings.
        self.background.stop().await;
        if let Some(relay) = &self.relay {
            relay.outbox().resign().await;
        }
        // Pooled connections opened on the HTTP workers died with the workers' runtimes; a
        // flush that meets one fails and discards it, and keeps its counts, so try again
        // until a live (or new) connection takes them.
        for attempt in 1..=self.final_flush_attempts {
            match self.meter.flush().await {
                Ok(_) => break,
                Err(e) if attempt == self.final_flush_attempts => {
                    tracing::error!(error = %e, "final usage flush failed; these counts are lost");
                }
                Err(e) => tracing::debug!(error = %e, attempt, "final usage flush retried"),
            }
        }
        self.vector_engine.stop().await;
        result
    }
}

/// `zerodb serve`: connects (starting and supervising the embedded cluster when configured),
/// serves until Ctrl-C or SIGTERM, then stops the database it started.
pub async fn serve(settings: Settings) -> Result<(), StartupError> {
    let mut db = Database::connect(&settings).await?;
    db.supervise();
    let result = async {
        let secret = jwt_secret(&settings)?;
        let app = Application::build(&settings, &db, &secret, true)?;
        tracing::info!(
            host = %settings.server.host,
            port = app.port(),
            registration = settings.registration_open(),
            "ZeroDB is listening"
        );
        app.run_until_stopped()
            .await
            .map_err(|source| StartupError::Io { context: "serving HTTP".into(), source })
    }
    .await;
    db.shutdown().await;
    result
}
