//! Error types shared by the ports and the services.

use serde::Serialize;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The underlying failure behind an `Unavailable` or `Internal` error (a driver, I/O or
/// protocol error), kept whole so the HTTP edge can log the full chain once. Shared, so the
/// errors that carry it stay `Clone`.
#[derive(Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync + 'static>);

impl Cause {
    pub fn new(source: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(source))
    }

    /// A cause known only by a description (no underlying error value exists).
    pub fn msg(message: impl Into<String>) -> Self {
        Self(Arc::new(Message(message.into())))
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Transparent: the wrapped error's own sources follow it in the chain.
impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// Two causes are equal when they read the same (errors are compared in tests only).
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Message {}

/// Writes `err` and each of its sources, one per line (for logs).
pub fn error_chain(err: &(dyn Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str("\n  caused by: ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// How storage fails, whatever the port. Adapters translate driver errors into these
/// variants; a port whose operations can also fail for a domain reason (a name taken, a
/// limit reached) has its own enum that wraps this one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryError {
    /// The addressed record does not exist.
    #[error("record not found")]
    NotFound,
    /// The storage backend could not be reached or the connection broke.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// A statement ran past the database's statement timeout and was cancelled.
    #[error("storage statement timed out")]
    TimedOut,
    /// The storage refused a value it cannot hold or compare (a NUL in text, a timestamp or
    /// number out of its range). Validation should have caught it; this keeps a missed case a
    /// client error instead of a server error. The cause is for logs only.
    #[error("storage refused a value")]
    InvalidValue(#[source] Cause),
    /// Anything else; the cause is for logs only, never for clients.
    #[error("storage failure")]
    Internal(#[source] Cause),
}

/// One field that failed validation, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldViolation {
    pub field: String,
    pub reason: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// Which kind of conflict a request ran into. Each maps to a stable client error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    EmailTaken,
    ProjectNameTaken,
    TableExists,
    TableLimitExceeded,
    RowLimitExceeded,
    /// A vector namespace exists with other settings.
    NamespaceExists,
    /// A vector id is taken in another namespace.
    VectorIdTaken,
    /// A namespace holds vectors of another embedding model.
    EmbeddingModelMismatch,
    /// The project already has a file under this key.
    FileKeyTaken,
}

/// Why a caller could not be authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credentials were presented.
    Missing,
    /// A token or key was presented but is malformed, forged, expired or revoked.
    InvalidCredentials,
    /// Email and password do not match a user.
    WrongPassword,
}

/// What the use-case services return on failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    /// The entity does not exist or the caller may not know that it exists.
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    #[error("{message}")]
    Conflict { kind: ConflictKind, message: String },
    #[error("invalid input: {}", .0.iter().map(|v| format!("{}: {}", v.field, v.reason)).collect::<Vec<_>>().join("; "))]
    InvalidInput(Vec<FieldViolation>),
    #[error("authentication failed")]
    Unauthenticated(AuthFailure),
    /// Authenticated, but the credential lacks the permission (API key scope, admin role).
    #[error("forbidden: {reason}")]
    Forbidden { reason: String },
    /// An API key without the scope the operation needs.
    #[error("this API key lacks the {scope} scope")]
    MissingScope { scope: String },
    /// A value is larger than the configured limit.
    #[error("{field} is larger than the limit of {limit} bytes")]
    TooLarge { field: String, limit: usize },
    /// A vector's length differs from its namespace's dimension.
    #[error("namespace '{namespace}' holds {expected}-dimensional vectors, got {got}")]
    DimensionMismatch { namespace: String, expected: u32, got: u32 },
    /// Text sent to a namespace whose vectors came from the client, so no model is known
    /// to embed it with.
    #[error(
        "namespace '{namespace}' holds vectors embedded outside ZeroDB and records no model; \
         send vector_embedding (or query_vector) instead of text"
    )]
    NamespaceWithoutModel { namespace: String },
    /// Content whose SHA-256 differs from the one the client announced.
    #[error("checksum mismatch: announced sha256 {expected}, received {actual}")]
    ChecksumMismatch { expected: String, actual: String },
    /// A byte range outside the content.
    #[error("range not satisfiable for {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// A list cursor this server did not issue, or one of another list.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// A write would take the project (or user) past a quota.
    #[error("the {quota} quota of {limit} would be exceeded ({used} in use)")]
    QuotaExceeded { quota: &'static str, limit: u64, used: u64 },
    #[error("registration is disabled on this server")]
    RegistrationDisabled,
    #[error("the project's database is not enabled")]
    DatabaseNotEnabled,
    #[error("backend unavailable")]
    Unavailable(#[source] Cause),
    /// The database cancelled a statement that ran past its timeout.
    #[error("the database took too long to answer")]
    TimedOut,
    #[error("internal error")]
    Internal(#[source] Cause),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidInput(vec![FieldViolation::new(field, reason)])
    }

    pub fn not_found(entity: &'static str) -> Self {
        Self::NotFound { entity }
    }

    pub fn conflict(kind: ConflictKind, message: impl Into<String>) -> Self {
        Self::Conflict { kind, message: message.into() }
    }

    /// A failure with no underlying error value, described for the logs.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(Cause::msg(message))
    }

    /// Translates a repository failure where `NotFound` means `entity` is missing.
    pub fn from_repo(err: RepositoryError, entity: &'static str) -> Self {
        match err {
            RepositoryError::NotFound => Self::NotFound { entity },
            RepositoryError::Unavailable(cause) => Self::Unavailable(cause),
            RepositoryError::TimedOut => Self::TimedOut,
            RepositoryError::InvalidValue(_) => Self::invalid(
                "request",
                "holds a value the database cannot store or compare (a NUL character, or a \
                 timestamp or number out of range)",
            ),
            RepositoryError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<RepositoryError> for ServiceError {
    fn from(err: RepositoryError) -> Self {
        Self::from_repo(err, "record")
    }
}
