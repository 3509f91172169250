//! Typed settings: defaults, then an optional `zerodb.toml`, then `ZERODB__SECTION__KEY`
//! environment variables (plus the conventional `DATABASE_URL`).

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::path::{Path, PathBuf};

/// A secret string: usable, never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Development,
    /// Refuses to start without an explicit JWT secret of at least 32 bytes.
    Production,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub profile: Profile,
    /// Where the embedded PostgreSQL cluster and generated secrets live.
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    pub metering: MeteringSettings,
    pub events: EventSettings,
    pub vectors: VectorSettings,
    pub embeddings: EmbeddingSettings,
    pub memory: MemorySettings,
    pub objects: ObjectSettings,
    pub cache: CacheSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
    pub quotas: QuotaSettings,
    pub mcp: McpSettings,
}

/// The Model Context Protocol endpoint, `/mcp`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpSettings {
    /// Serve `/mcp` at all.
    pub enabled: bool,
    /// Browser origins allowed to call `/mcp` (e.g. `https://app.example.com`); a request
    /// with any other `Origin` is refused (DNS-rebinding protection). Clients that are not
    /// browsers send no `Origin` and are unaffected.
    pub allowed_origins: Vec<String>,
    /// Largest MCP message accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest tool result, in bytes of JSON; larger results are cut and say so.
    pub max_result_bytes: usize,
    /// Largest file `file_read` returns at once and `file_upload` accepts, in bytes.
    pub max_file_bytes: usize,
    /// Idle MCP sessions close after this many seconds.
    pub session_idle_secs: u64,
}

/// The server's default per-project quotas (an administrator overrides them per project
/// with `PUT /api/v1/admin/zerodb/projects/{id}/quotas`); absent means unlimited.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSettings {
    pub max_projects_per_user: Option<u64>,
    pub max_vectors: Option<u64>,
    pub max_memories: Option<u64>,
    pub max_events: Option<u64>,
    pub max_file_bytes: Option<u64>,
    pub max_tables: Option<u64>,
    pub max_rows_per_table: Option<u64>,
}

impl QuotaSettings {
    pub fn defaults(&self) -> zerodb_domain::quotas::Quotas {
        zerodb_domain::quotas::Quotas {
            max_vectors: self.max_vectors,
            max_memories: self.max_memories,
            max_events: self.max_events,
            max_file_bytes: self.max_file_bytes,
            max_tables: self.max_tables,
            max_rows_per_table: self.max_rows_per_table,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
    /// Per-area object counts are counted at most this often; scrapes in between reuse
    /// them, so scraping costs no table scans.
    pub counts_cache_secs: u64,
}

/// Where file bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectBackend {
    /// Files under `objects.dir` (default `data_dir/objects`).
    Local,
    /// In this process only (tests).
    Memory,
    /// S3 or an S3-compatible server (MinIO, ...); needs the `s3` build feature.
    S3,
}

impl ObjectBackend {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Memory => "memory",
            Self::S3 => "s3",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSettings {
    pub backend: ObjectBackend,
    /// `local`: the directory; default `data_dir/objects`.
    pub dir: Option<PathBuf>,
    /// Largest accepted file.
    pub max_file_bytes: u64,
    /// How often stored objects without a file record are looked for.
    pub sweep_interval_secs: u64,
    /// Objects younger than this are never swept (uploads in progress).
    pub orphan_grace_secs: u64,
    pub s3: S3ObjectSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3ObjectSettings {
    pub bucket: Option<String>,
    pub region: String,
    /// For S3-compatible servers, e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    pub access_key_id: Option<Secret>,
    pub secret_access_key: Option<Secret>,
    /// Bucket in the path rather than the host name (MinIO and most S3-compatible servers).
    pub path_style: bool,
    pub allow_http: bool,
}

/// Which embedding provider serves memory and `embeddings/generate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbeddingProviderKind {
    /// Offline feature hashing of words and character n-grams (lexical, not neural).
    Builtin,
    /// Any OpenAI-compatible `/v1/embeddings` server.
    Openai,
    /// A sentence-transformers model run in process on the CPU (needs the
    /// `local-embeddings` build feature and `embeddings.local.model_dir`).
    Local,
}

/// The `local` provider's model and how it runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalEmbeddingSettings {
    /// A sentence-transformers model directory (config.json, tokenizer.json,
    /// model.safetensors, 1_Pooling/config.json, modules.json).
    pub model_dir: Option<PathBuf>,
    /// Caps the model's own limit of tokens per text; longer texts are cut.
    pub max_seq_length: Option<usize>,
    /// Most texts per inference batch.
    pub batch_size: usize,
    /// Compute threads; 0 means one per core.
    pub threads: usize,
    /// How long concurrent requests are collected into one batch.
    pub batch_window_ms: u64,
    /// Requests that may wait for the model; more get 503.
    pub queue: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSettings {
    pub provider: EmbeddingProviderKind,
    /// Size of the vectors (the built-in embedder's, or the remote model's).
    pub dimension: usize,
    /// `openai`: the API base, e.g. `https://api.openai.com/v1`.
    pub base_url: Option<String>,
    /// `openai`: the model name.
    pub model: Option<String>,
    /// `openai`: sent as a bearer token.
    pub api_key: Option<Secret>,
    /// `openai`: texts per request.
    pub batch_size: usize,
    pub timeout_secs: u64,
    /// `openai`: retries on 429, 5xx and transport errors, with exponential backoff.
    pub max_retries: u32,
    pub local: LocalEmbeddingSettings,
    /// Further models a project may choose (its database config's `embedding_model`),
    /// besides the default above and the built-in lexical embedder, which is always offered.
    #[serde(default)]
    pub models: Vec<OfferedModelSettings>,
}

/// One more model a project may choose: `[[embeddings.models]]`. Unset fields take the
/// default model's settings (`embeddings.*`, `embeddings.local.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferedModelSettings {
    pub provider: EmbeddingProviderKind,
    pub dimension: Option<usize>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<Secret>,
    pub model_dir: Option<PathBuf>,
    pub max_seq_length: Option<usize>,
}

impl EmbeddingSettings {
    /// The settings of an offered model: these, with its own fields in place.
    pub fn with_model(&self, offered: &OfferedModelSettings) -> EmbeddingSettings {
        let mut e = self.clone();
        e.models.clear();
        e.provider = offered.provider;
        e.dimension = offered.dimension.unwrap_or(self.dimension);
        e.base_url = offered.base_url.clone().or(e.base_url);
        e.model = offered.model.clone().or(e.model);
        e.api_key = offered.api_key.clone().or(e.api_key);
        e.local.model_dir = offered.model_dir.clone().or(e.local.model_dir);
        e.local.max_seq_length = offered.max_seq_length.or(e.local.max_seq_length);
        e
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySettings {
    /// How often expired memories are purged.
    pub purge_interval_secs: u64,
}

/// Which implementation serves vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VectorBackend {
    /// PostgreSQL records plus the in-process HNSW index.
    Builtin,
    /// PostgreSQL records relayed to a Qdrant cluster, which answers searches; needs the
    /// `qdrant` build feature.
    Qdrant,
}

impl VectorBackend {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::Qdrant => "qdrant",
        }
    }
}

/// `vectors.backend = "qdrant"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QdrantVectorSettings {
    /// The REST endpoint, e.g. `http://127.0.0.1:6333`.
    pub url: Option<String>,
    pub api_key: Option<Secret>,
    /// Per request to Qdrant.
    pub timeout_ms: u64,
    /// Collection names start with this (`<prefix><metric>_<dimension>_<f32|int8>`).
    pub collection_prefix: String,
    pub shard_number: u32,
    pub replication_factor: u32,
    /// Full-precision vectors memory-mapped from disk instead of held in RAM.
    pub on_disk: bool,
    /// Degree of each project's HNSW graph.
    pub m: u32,
    pub ef_construct: u32,
    /// Candidate list size while searching.
    pub ef: u32,
    /// int8 namespaces rescore `limit * oversampling` candidates with full precision.
    pub oversampling: f32,
    /// How long a write waits for Qdrant to acknowledge it before answering anyway.
    pub write_wait_ms: u64,
    /// Changes per project per relay round.
    pub relay_batch: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorSettings {
    pub backend: VectorBackend,
    /// Keep index snapshots under `data_dir/vectors` so restarts load instead of rebuilding.
    pub snapshots: bool,
    /// How often changed namespaces are snapshotted (and always at shutdown).
    pub snapshot_interval_secs: u64,
    /// How often the index compares its position with the database, in case a
    /// notification was missed.
    pub reconcile_interval_ms: u64,
    pub max_metadata_bytes: usize,
    /// Body limit of `upsert-batch` (1000 embeddings as JSON).
    pub max_batch_body_bytes: usize,
    /// Settings of namespaces created by their first upsert.
    pub default_metric: zerodb_domain::vectors::Metric,
    pub default_quantization: zerodb_domain::vectors::Quantization,
    /// HNSW graph degree.
    pub connectivity: usize,
    /// HNSW candidate list while inserting.
    pub expansion_add: usize,
    /// HNSW candidate list while searching.
    pub expansion_search: usize,
    /// Namespaces up to this size are searched exactly, and filters with at most
    /// √(exact_threshold × namespace size) matches.
    pub exact_threshold: usize,
    /// int8 namespaces rescore `limit * oversample` candidates from full precision.
    pub oversample: usize,
    pub qdrant: QdrantVectorSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSettings {
    /// Largest event payload (serialised JSON); larger ones get 413.
    pub max_payload_bytes: usize,
    /// Keep-alive comment interval of idle streams.
    pub heartbeat_secs: u64,
    /// A stream whose client stops reading for this long is closed.
    pub slow_consumer_timeout_secs: u64,
    /// Most live streams one project may hold open; more answer 429.
    pub max_streams_per_project: usize,
    /// How often an open stream checks again that its credential is valid (a revoked key
    /// or an expired token ends it).
    pub stream_recheck_secs: u64,
    /// Where events go besides PostgreSQL (always the source of truth).
    pub backend: EventBackend,
    /// `kafka`: most events per project the relay sends in one round.
    pub relay_batch_events: u32,
    pub kafka: KafkaEventSettings,
}

/// Where published events are handed on to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventBackend {
    /// PostgreSQL only.
    Postgres,
    /// PostgreSQL, then relayed from its outbox to a Kafka-protocol log (Kafka, Redpanda);
    /// needs the `kafka` build feature.
    Kafka,
}

impl EventBackend {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Kafka => "kafka",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaEventSettings {
    /// Bootstrap brokers, comma-separated `host:port`.
    pub brokers: Option<String>,
    /// Kafka topics are `<topic_prefix>.<project_id>.<topic>`.
    pub topic_prefix: String,
    /// Partitions of each topic ZeroDB creates (keyed events spread by key; events without
    /// a key go to partition 0).
    pub partitions: i32,
    pub replication_factor: i16,
    /// `none` or `gzip`.
    pub compression: KafkaCompressionKind,
    pub client_id: String,
    /// Longest wait for one broker operation before the delivery is retried.
    pub request_timeout_secs: u64,
    /// Largest produce request in record bytes; keep it under the broker's message.max.bytes.
    pub max_request_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KafkaCompressionKind {
    None,
    Gzip,
}

/// Where rate-limit counters and cached embeddings live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheBackend {
    /// In this process.
    Memory,
    /// Shared by every replica through Redis; needs the `redis` build feature.
    Redis,
}

impl CacheBackend {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    pub backend: CacheBackend,
    /// Cache embeddings of texts seen before (per model and dimension).
    pub embeddings: bool,
    /// `memory`: most embeddings kept.
    pub embedding_capacity: usize,
    /// `redis`: how long a cached embedding lives.
    pub embedding_ttl_secs: u64,
    pub redis: RedisCacheSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisCacheSettings {
    /// `redis://[user:password@]host:port/db`
    pub url: Option<Secret>,
    /// Prefix of every key, so deployments can share a Redis.
    pub key_prefix: String,
    /// Longest wait for Redis before falling back (in-process limit, cache miss).
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub enabled: bool,
    /// Sustained requests per second per user and per API key.
    pub requests_per_second: u32,
    /// Requests allowed at once above the sustained rate.
    pub burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeteringSettings {
    /// How often request counts are written to the database.
    pub flush_interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Worker threads (default: one per core).
    pub workers: Option<usize>,
    pub max_body_bytes: usize,
    /// How long a connection may take to send a request's headers before it gets 408
    /// (actix's default of 5 s refuses requests on a busy machine).
    pub request_head_timeout_secs: u64,
    /// The server's external address (`https://db.example.com`), used for signed links.
    pub public_url: Option<String>,
    /// Take the client's address and host from `Forwarded`/`X-Forwarded-*` headers: only
    /// behind a proxy that sets them.
    pub trust_forwarded_headers: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// An external PostgreSQL server; without one, ZeroDB runs its own under `data_dir`.
    pub url: Option<Secret>,
    pub max_connections: usize,
    pub acquire_timeout_secs: u64,
    pub connect_timeout_secs: u64,
    /// PostgreSQL cancels a statement that runs longer (answered 503 `query_timeout`);
    /// 0 turns the limit off.
    pub statement_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 signing secret; generated and kept in `data_dir` when absent (not in production).
    pub jwt_secret: Option<Secret>,
    pub jwt_issuer: String,
    pub token_ttl_secs: u64,
    /// Self-registration; unset means on in development and off in production.
    pub allow_registration: Option<bool>,
    /// Sign-in attempts (login and register) per client IP: sustained rate and burst.
    pub sign_in_per_ip: LimitSettings,
    /// Sign-in attempts per email address.
    pub sign_in_per_email: LimitSettings,
    /// Failed authentications (bad token, unknown API key) per client IP; beyond it, 429.
    pub failed_auth_per_ip: LimitSettings,
    /// Password hashes computed at once (0: one per core); more wait.
    pub max_concurrent_hashes: usize,
    /// How long a sign-in waits for a hashing slot before 503.
    pub hash_wait_ms: u64,
}

/// A rate limit: `per_second` sustained, `burst` at once; `per_second = 0` turns it off.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    pub per_second: u32,
    pub burst: u32,
}

impl LimitSettings {
    pub fn limit(self) -> Option<zerodb_domain::rate_limit::RateLimit> {
        (self.per_second > 0).then_some(zerodb_domain::rate_limit::RateLimit {
            per_second: self.per_second,
            burst: self.burst.max(1),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `zerodb=debug,actix_web=info`.
    pub level: String,
}

const DEFAULTS: &str = r#"
profile = "development"
data_dir = "./zerodb-data"

[server]
host = "127.0.0.1"
port = 8080
max_body_bytes = 8388608
request_head_timeout_secs = 30
trust_forwarded_headers = false

[database]
max_connections = 16
acquire_timeout_secs = 5
connect_timeout_secs = 5
statement_timeout_ms = 30000

[auth]
jwt_issuer = "zerodb"
token_ttl_secs = 3600
max_concurrent_hashes = 0
hash_wait_ms = 2000
sign_in_per_ip = { per_second = 2, burst = 20 }
sign_in_per_email = { per_second = 1, burst = 5 }
failed_auth_per_ip = { per_second = 5, burst = 50 }

[rate_limit]
enabled = true
requests_per_second = 100
burst = 200

[metering]
flush_interval_secs = 10

[events]
max_payload_bytes = 262144
heartbeat_secs = 15
slow_consumer_timeout_secs = 30
max_streams_per_project = 64
stream_recheck_secs = 5
backend = "postgres"
relay_batch_events = 1000

[events.kafka]
topic_prefix = "zerodb"
partitions = 1
replication_factor = 1
compression = "none"
client_id = "zerodb"
request_timeout_secs = 10
max_request_bytes = 1000000

[vectors]
backend = "builtin"
snapshots = true
snapshot_interval_secs = 300
reconcile_interval_ms = 500
max_metadata_bytes = 16384
max_batch_body_bytes = 67108864
default_metric = "cosine"
default_quantization = "none"
connectivity = 16
expansion_add = 64
expansion_search = 128
exact_threshold = 2000
oversample = 4

[vectors.qdrant]
timeout_ms = 5000
collection_prefix = "zerodb_"
shard_number = 1
replication_factor = 1
on_disk = false
m = 16
ef_construct = 64
ef = 128
oversampling = 3.0
write_wait_ms = 2000
relay_batch = 512

[embeddings]
provider = "builtin"
dimension = 384
batch_size = 64
timeout_secs = 30
max_retries = 3

[embeddings.local]
batch_size = 32
threads = 0
batch_window_ms = 2
queue = 256

[memory]
purge_interval_secs = 60

[objects]
backend = "local"
max_file_bytes = 5368709120
sweep_interval_secs = 3600
orphan_grace_secs = 3600

[objects.s3]
region = "us-east-1"
path_style = true
allow_http = false

[cache]
backend = "memory"
embeddings = true
embedding_capacity = 10000
embedding_ttl_secs = 86400

[cache.redis]
key_prefix = "zerodb:"
timeout_ms = 500

[log]
format = "text"
level = "info"

[metrics]
counts_cache_secs = 30

[quotas]
max_projects_per_user = 100

[mcp]
enabled = true
allowed_origins = []
max_body_bytes = 4194304
max_result_bytes = 262144
max_file_bytes = 1048576
session_idle_secs = 300
"#;

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Whether anyone may register: as configured, else only outside production.
    pub fn registration_open(&self) -> bool {
        self.auth.allow_registration.unwrap_or(self.profile != Profile::Production)
    }

    /// Loads settings; `file` defaults to `./zerodb.toml` when it exists.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        use config::{Config, Environment, File, FileFormat};
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        builder = match file {
            Some(path) => builder.add_source(File::from(path).required(true)),
            None => builder.add_source(File::with_name("zerodb.toml").required(false)),
        };
        builder = builder.add_source(
            Environment::with_prefix("ZERODB")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("mcp.allowed_origins"),
        );
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.is_empty()
        {
            builder = builder
                .set_override("database.url", url)
                .map_err(|e| ConfigError(e.to_string()))?;
        }
        let settings: Settings = builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| ConfigError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.database.max_connections == 0 {
            return Err(ConfigError("database.max_connections must be at least 1".into()));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(ConfigError("server.max_body_bytes must be at least 1024".into()));
        }
        if self.rate_limit.enabled
            && (self.rate_limit.requests_per_second == 0 || self.rate_limit.burst == 0)
        {
            return Err(ConfigError(
                "rate_limit.requests_per_second and burst must be at least 1".into(),
            ));
        }
        if self.events.heartbeat_secs == 0 || self.events.slow_consumer_timeout_secs == 0 {
            return Err(ConfigError(
                "events.heartbeat_secs and slow_consumer_timeout_secs must be at least 1".into(),
            ));
        }
        let mcp = &self.mcp;
        if mcp.max_body_bytes < 1024 || mcp.max_result_bytes < 1024 || mcp.max_file_bytes < 1 {
            return Err(ConfigError(
                "mcp.max_body_bytes and max_result_bytes must be at least 1024, max_file_bytes at least 1".into(),
            ));
        }
        if mcp.session_idle_secs == 0 {
            return Err(ConfigError("mcp.session_idle_secs must be at least 1".into()));
        }
        if self.metering.flush_interval_secs == 0 {
            return Err(ConfigError("metering.flush_interval_secs must be at least 1".into()));
        }
        if self.objects.max_file_bytes == 0 || self.objects.sweep_interval_secs == 0 {
            return Err(ConfigError(
                "objects.max_file_bytes and sweep_interval_secs must be at least 1".into(),
            ));
        }
        if self.objects.backend == ObjectBackend::S3 && self.objects.s3.bucket.is_none() {
            return Err(ConfigError("objects.backend = \"s3\" needs objects.s3.bucket".into()));
        }
        if self.events.backend == EventBackend::Kafka {
            let k = &self.events.kafka;
            if k.brokers.as_deref().is_none_or(|b| b.trim().is_empty()) {
                return Err(ConfigError(
                    "events.backend = \"kafka\" needs events.kafka.brokers".into(),
                ));
            }
            if k.partitions < 1 || k.replication_factor < 1 || k.request_timeout_secs == 0 {
                return Err(ConfigError(
                    "events.kafka.partitions, replication_factor and request_timeout_secs must be at least 1".into(),
                ));
            }
            if self.events.relay_batch_events == 0 || k.max_request_bytes < 1024 {
                return Err(ConfigError(
                    "events.relay_batch_events must be at least 1 and events.kafka.max_request_bytes at least 1024".into(),
                ));
            }
        }
        if self.cache.backend == CacheBackend::Redis && self.cache.redis.url.is_none() {
            return Err(ConfigError("cache.backend = \"redis\" needs cache.redis.url".into()));
        }
        if self.cache.embedding_capacity == 0 || self.cache.embedding_ttl_secs == 0 {
            return Err(ConfigError(
                "cache.embedding_capacity and embedding_ttl_secs must be at least 1".into(),
            ));
        }
        if self.auth.token_ttl_secs == 0 {
            return Err(ConfigError("auth.token_ttl_secs must be at least 1".into()));
        }
        if self.profile == Profile::Production {
            match &self.auth.jwt_secret {
                Some(s) if s.expose().len() >= 32 => {}
                _ => {
                    return Err(ConfigError(
                        "the production profile needs auth.jwt_secret (ZERODB__AUTH__JWT_SECRET) \
                         of at least 32 bytes"
                            .into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Defaults only (no file, no environment): the base for tests and embedding.
    pub fn defaults() -> Result<Self, ConfigError> {
        use config::{Config, File, FileFormat};
        Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| ConfigError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_secrets_are_redacted() {
        let mut s = Settings::defaults().unwrap();
        assert_eq!(s.server.port, 8080);
        s.auth.jwt_secret = Some(Secret::new("super-secret-value"));
        s.database.url = Some(Secret::new("postgres://u:pw@h/db"));
        let debug = format!("{s:?}");
        assert!(!debug.contains("super-secret-value"));
        assert!(!debug.contains("pw@h"));
    }

    #[test]
    fn registration_is_off_in_production_unless_configured() {
        let mut s = Settings::defaults().unwrap();
        assert!(s.registration_open());
        s.profile = Profile::Production;
        assert!(!s.registration_open());
        s.auth.allow_registration = Some(true);
        assert!(s.registration_open());
        s.profile = Profile::Development;
        s.auth.allow_registration = Some(false);
        assert!(!s.registration_open());
    }

    #[test]
    fn production_needs_a_long_secret() {
        let mut s = Settings::defaults().unwrap();
        s.profile = Profile::Production;
        assert!(s.validate().is_err());
        s.auth.jwt_secret = Some(Secret::new("short"));
        assert!(s.validate().is_err());
        s.auth.jwt_secret = Some(Secret::new("x".repeat(32)));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn further_embedding_models_take_unset_fields_from_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("zerodb.toml");
        std::fs::write(
            &file,
            r#"
[embeddings]
provider = "local"
[embeddings.local]
model_dir = "/models/minilm"
max_seq_length = 128
[[embeddings.models]]
provider = "openai"
base_url = "http://embed.internal/v1"
model = "bge-m3"
dimension = 1024
[[embeddings.models]]
provider = "local"
model_dir = "/models/e5-small"
"#,
        )
        .unwrap();
        let s = Settings::load(Some(&file)).unwrap();
        let e = &s.embeddings;
        assert_eq!(e.models.len(), 2);
        let openai = e.with_model(&e.models[0]);
        assert_eq!(
            (openai.provider, openai.dimension, openai.model.as_deref()),
            (EmbeddingProviderKind::Openai, 1024, Some("bge-m3"))
        );
        let local = e.with_model(&e.models[1]);
        assert_eq!(local.local.model_dir, Some(PathBuf::from("/models/e5-small")));
        assert_eq!((local.local.max_seq_length, local.dimension), (Some(128), 384));
        assert!(local.models.is_empty());
    }
}
