//! Error types shared by the ports and the services.

use serde::Serialize;

/// What every repository port returns on failure. Adapters translate driver errors into
/// these variants (a unique violation becomes `Conflict`, a lost connection `Unavailable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryError {
    /// The addressed record does not exist.
    #[error("record not found")]
    NotFound,
    /// A uniqueness or state constraint was violated; the string names the constraint.
    #[error("conflict on {0}")]
    Conflict(String),
    /// The storage backend could not be reached or timed out.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A statement ran past the database's statement timeout and was cancelled.
    #[error("storage statement timed out")]
    TimedOut,
    /// The storage refused a value it cannot hold or compare (a NUL in text, a timestamp or
    /// number out of its range). Validation should have caught it; this keeps a missed case a
    /// client error instead of a server error. The text is for logs only.
    #[error("storage refused a value: {0}")]
    InvalidValue(String),
    /// Anything else; the text is for logs only, never for clients.
    #[error("storage failure: {0}")]
    Internal(String),
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
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// The database cancelled a statement that ran past its timeout.
    #[error("the database took too long to answer")]
    TimedOut,
    #[error("internal error: {0}")]
    Internal(String),
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

    /// Translates a repository failure where `NotFound` means `entity` is missing and a
    /// `Conflict` means `conflict`.
    pub fn from_repo(
        err: RepositoryError,
        entity: &'static str,
        conflict: Option<(ConflictKind, &str)>,
    ) -> Self {
        match err {
            RepositoryError::NotFound => Self::NotFound { entity },
            RepositoryError::Conflict(constraint) => match conflict {
                Some((kind, message)) => Self::conflict(kind, message),
                None => Self::Internal(format!("unexpected conflict on {constraint}")),
            },
            RepositoryError::Unavailable(msg) => Self::Unavailable(msg),
            RepositoryError::TimedOut => Self::TimedOut,
            RepositoryError::InvalidValue(_) => Self::invalid(
                "request",
                "holds a value the database cannot store or compare (a NUL character, or a \
                 timestamp or number out of range)",
            ),
            RepositoryError::Internal(msg) => Self::Internal(msg),
        }
    }
}

impl From<RepositoryError> for ServiceError {
    fn from(err: RepositoryError) -> Self {
        Self::from_repo(err, "record", None)
    }
}
