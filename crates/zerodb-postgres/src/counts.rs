//! Per-area object counts, shared by project statistics and the admin views.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use zerodb_domain::database::DatabaseStatistics;

/// Counts for the projects matching `{scope}` (a condition on `project_id`, e.g.
/// `project_id = $1` or `true` for the whole system).
pub(crate) fn counts_sql(scope: &str) -> String {
    format!(
        "SELECT (SELECT count(*) FROM zerodb_tables WHERE {scope}) AS tables, \
                (SELECT coalesce(sum(row_count), 0)::bigint FROM zerodb_tables WHERE {scope}) AS rows, \
                (SELECT count(*) FROM zerodb_api_keys WHERE {scope} AND is_active) AS api_keys, \
                (SELECT count(*) FROM zerodb_rlhf_datasets WHERE {scope}) AS rlhf_records, \
                (SELECT count(*) FROM zerodb_agent_logs WHERE {scope}) AS agent_logs"
    )
}

#[derive(QueryableByName)]
pub(crate) struct Counts {
    #[diesel(sql_type = BigInt)]
    tables: i64,
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = BigInt)]
    api_keys: i64,
    #[diesel(sql_type = BigInt)]
    rlhf_records: i64,
    #[diesel(sql_type = BigInt)]
    agent_logs: i64,
}

impl From<Counts> for DatabaseStatistics {
    fn from(c: Counts) -> Self {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        DatabaseStatistics {
            tables: n(c.tables),
            rows: n(c.rows),
            api_keys: n(c.api_keys),
            rlhf_records: n(c.rlhf_records),
            agent_logs: n(c.agent_logs),
        }
    }
}
