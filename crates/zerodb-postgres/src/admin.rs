//! One-off administrative statements.

use crate::pool::SetupError;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// Creates database `name` on the server at `admin_url` unless it exists.
pub async fn ensure_database(admin_url: &str, name: &str) -> Result<(), SetupError> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    let fail = |e: String| SetupError::Connect(format!("creating database {name}: {e}").into());
    let mut conn =
        AsyncPgConnection::establish(admin_url).await.map_err(|e| fail(e.to_string()))?;
    let found: Found =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS found")
            .bind::<diesel::sql_types::Text, _>(name)
            .get_result(&mut conn)
            .await
            .map_err(|e| fail(e.to_string()))?;
    if !found.found {
        let quoted = name.replace('"', "\"\"");
        diesel::sql_query(format!("CREATE DATABASE \"{quoted}\""))
            .execute(&mut conn)
            .await
            .map_err(|e| fail(e.to_string()))?;
    }
    Ok(())
}
