//! Translation of driver and pool errors into the domain's `RepositoryError`.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use zerodb_domain::RepositoryError;

/// Maps a diesel error: unique violations become `Conflict` (named after the constraint),
/// a missing row `NotFound`, a broken connection `Unavailable`.
pub(crate) fn map_diesel(err: DieselError) -> RepositoryError {
    match err {
        DieselError::NotFound => RepositoryError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            RepositoryError::Conflict(info.constraint_name().unwrap_or("unique").to_owned())
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            RepositoryError::NotFound
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            info,
        ) => RepositoryError::Unavailable(info.message().to_owned()),
        // The server going away under a connection (SQLSTATE classes 57 and 08): a crash,
        // a restart or an administrator's shutdown. Temporary, so 503, never 500.
        DieselError::DatabaseError(_, info) if is_server_gone(info.message()) => {
            RepositoryError::Unavailable(info.message().to_owned())
        }
        DieselError::DatabaseError(_, info)
            if info.message().contains("canceling statement due to statement timeout") =>
        {
            RepositoryError::TimedOut
        }
        DieselError::DatabaseError(_, info) if info.message().contains("canceling statement") => {
            RepositoryError::Unavailable("query cancelled".into())
        }
        // Data exceptions (SQLSTATE class 22) that reach here are values validation let
        // through; diesel-async exposes no SQLSTATE, so they are recognised by message.
        DieselError::DatabaseError(_, info) if is_data_exception(info.message()) => {
            tracing::warn!(error = info.message(), "the database refused a value");
            RepositoryError::InvalidValue(info.message().to_owned())
        }
        DieselError::RollbackTransaction => {
            RepositoryError::Internal("transaction rolled back".into())
        }
        other => RepositoryError::Internal(other.to_string()),
    }
}

pub(crate) fn map_pool(
    err: diesel_async::pooled_connection::deadpool::PoolError,
) -> RepositoryError {
    RepositoryError::Unavailable(format!("database pool: {err}"))
}

/// Lets `?` convert diesel errors inside transactions whose error type is `RepositoryError`.
pub(crate) struct TxError(pub RepositoryError);

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError(map_diesel(e))
    }
}

impl From<RepositoryError> for TxError {
    fn from(e: RepositoryError) -> Self {
        TxError(e)
    }
}

/// PostgreSQL's messages for values it cannot hold, parse or compare.
fn is_data_exception(message: &str) -> bool {
    const MARKERS: [&str; 7] = [
        "invalid byte sequence for encoding",
        "unsupported Unicode escape sequence",
        "out of range",
        "invalid input syntax",
        "time zone displacement",
        "cannot be converted to",
        "division by zero",
    ];
    MARKERS.iter().any(|m| message.contains(m))
}

/// PostgreSQL's messages for a server that is shutting down, restarting or gone.
fn is_server_gone(message: &str) -> bool {
    const MARKERS: [&str; 6] = [
        "terminating connection",
        "the database system is",
        "connection closed",
        "server closed the connection",
        "connection reset",
        "broken pipe",
    ];
    MARKERS.iter().any(|m| message.contains(m))
}
