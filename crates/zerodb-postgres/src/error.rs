//! Translation of driver and pool errors into the domain's `RepositoryError`. Each adapter
//! recognises the constraints that carry a domain meaning (a name taken) itself, with
//! [`violated_unique`], before anything reaches [`map_diesel`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use zerodb_domain::{Cause, RepositoryError};

/// The unique constraint `err` violated, if it is a unique violation.
pub(crate) fn violated_unique(err: &DieselError) -> Option<&str> {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            Some(info.constraint_name().unwrap_or(""))
        }
        _ => None,
    }
}

/// Maps a diesel error: a missing row is `NotFound`, a broken connection `Unavailable`, and
/// a unique violation that the adapter did not expect `Internal`. The driver's error is kept
/// as the cause.
pub(crate) fn map_diesel(err: DieselError) -> RepositoryError {
    match &err {
        DieselError::NotFound => RepositoryError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            RepositoryError::NotFound
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => RepositoryError::Unavailable(Cause::new(err)),
        // The server going away under a connection (SQLSTATE classes 57 and 08): a crash,
        // a restart or an administrator's shutdown. Temporary, so 503, never 500.
        DieselError::DatabaseError(_, info) if is_server_gone(info.message()) => {
            RepositoryError::Unavailable(Cause::new(err))
        }
        DieselError::DatabaseError(_, info)
            if info.message().contains("canceling statement due to statement timeout") =>
        {
            RepositoryError::TimedOut
        }
        DieselError::DatabaseError(_, info) if info.message().contains("canceling statement") => {
            RepositoryError::Unavailable(Cause::new(err))
        }
        // Data exceptions (SQLSTATE class 22) that reach here are values validation let
        // through; diesel-async exposes no SQLSTATE, so they are recognised by message.
        DieselError::DatabaseError(_, info) if is_data_exception(info.message()) => {
            tracing::warn!(error = info.message(), "the database refused a value");
            RepositoryError::InvalidValue(Cause::new(err))
        }
        _ => RepositoryError::Internal(Cause::new(err)),
    }
}

pub(crate) fn map_pool(
    err: diesel_async::pooled_connection::deadpool::PoolError,
) -> RepositoryError {
    RepositoryError::Unavailable(Cause::new(err))
}

/// Lets `?` convert diesel errors inside transactions whose error type is `RepositoryError`
/// or a port's own error enum that wraps it.
pub(crate) struct TxError<E = RepositoryError>(pub E);

impl<E: From<RepositoryError>> From<DieselError> for TxError<E> {
    fn from(e: DieselError) -> Self {
        TxError(map_diesel(e).into())
    }
}

impl<E: From<RepositoryError>> From<RepositoryError> for TxError<E> {
    fn from(e: RepositoryError) -> Self {
        TxError(e.into())
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
