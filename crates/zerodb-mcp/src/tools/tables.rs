//! Tables: list and describe the project's tables, and query, insert, update and delete
//! their rows.

use super::{Call, HttpMethod, segment};
use crate::outcome::ToolError;
use crate::spec::{Effect, parse, tool};
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// No arguments beyond the project.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableList {}

/// The table to describe.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableDescribe {
    /// The table's name, as table_list shows it.
    pub table_name: String,
}

/// A query over one table's rows.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowsQuery {
    /// The table to read.
    #[serde(skip_serializing)]
    pub table_name: String,
    /// Which rows: {"column": value} for equality, or operators {"age": {"$gte": 30}}
    /// ($eq, $ne, $gt, $gte, $lt, $lte, $in, $contains); all rows when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    /// The order: `column` ascending or `-column` descending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page, to read the next one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Also count all matching rows (default false).
    #[serde(default)]
    pub count: bool,
}

/// Rows to add to one table.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowsInsert {
    /// The table to write.
    #[serde(skip_serializing)]
    pub table_name: String,
    /// The rows: objects of column → value, matching the table's schema (table_describe).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<Map<String, Value>>>,
    /// Instead of `rows`: one row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<Map<String, Value>>,
}

/// Rows to change.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowsUpdate {
    /// The table to write.
    #[serde(skip_serializing)]
    pub table_name: String,
    /// Which rows, as in rows_query; {} means every row.
    pub filter: Value,
    /// The columns to set and their new values.
    pub set: Map<String, Value>,
}

/// Rows to delete.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowsDelete {
    /// The table to delete from.
    #[serde(skip_serializing)]
    pub table_name: String,
    /// Which rows, as in rows_query; {} deletes every row.
    pub filter: Value,
}

pub fn tools() -> Vec<Tool> {
    vec![
        tool::<TableList>(
            "table_list",
            "List tables",
            "List the project's tables with their schemas and row counts. Start here to learn \
             which tables exist before reading or writing rows.",
            Effect::Reads,
        ),
        tool::<TableDescribe>(
            "table_describe",
            "Describe a table",
            "Show one table's schema: its columns, their types, which are required or unique, \
             and its indexes. Read it before rows_insert or rows_update so the values fit.",
            Effect::Reads,
        ),
        tool::<RowsQuery>(
            "rows_query",
            "Query rows",
            "Read rows of a table matching a filter, sorted, a page at a time (pass \
             `next_cursor` back as `cursor`). Returns `items` (each with its `row_id` and its \
             column values under `data`) and, when `count` is asked for, the `total`.",
            Effect::Reads,
        ),
        tool::<RowsInsert>(
            "rows_insert",
            "Insert rows",
            "Add one row (`row`) or several (`rows`, up to 1000) to a table. Values are \
             checked against the table's schema; nothing is written if one row is refused. \
             Returns how many were `inserted` and the `rows` with their ids.",
            Effect::Adds,
        ),
        tool::<RowsUpdate>(
            "rows_update",
            "Update rows",
            "Set columns to new values on every row matching `filter`. Returns how many rows \
             changed. Overwrites the old values.",
            Effect::Destroys,
        ),
        tool::<RowsDelete>(
            "rows_delete",
            "Delete rows",
            "Delete every row matching `filter` ({} deletes all rows). Returns how many were \
             deleted. This cannot be undone.",
            Effect::Destroys,
        ),
    ]
}

pub async fn run(
    call: &Call<'_>,
    name: &str,
    args: JsonObject,
) -> Option<Result<Value, ToolError>> {
    Some(match name {
        "table_list" => list(call, args).await,
        "table_describe" => describe(call, args).await,
        "rows_query" => query(call, args).await,
        "rows_insert" => insert(call, args).await,
        "rows_update" => update(call, args).await,
        "rows_delete" => delete(call, args).await,
        _ => return None,
    })
}

/// `tables/{table}/{tail}`, the table name kept inside its segment.
fn rows(table: &str, tail: &str) -> String {
    format!("tables/{}/{tail}", segment(table))
}

async fn list(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let _: TableList = parse(args)?;
    call.get("tables", &[("limit", "1000".into())]).await
}

async fn describe(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: TableDescribe = parse(args)?;
    call.get(&format!("tables/{}", segment(&args.table_name)), &[]).await
}

async fn query(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: RowsQuery = parse(args)?;
    call.post(&rows(&args.table_name, "rows/query"), &args).await
}

async fn insert(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: RowsInsert = parse(args)?;
    call.post(&rows(&args.table_name, "rows"), &args).await
}

async fn update(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: RowsUpdate = parse(args)?;
    call.write(HttpMethod::PATCH, &rows(&args.table_name, "rows"), &args).await
}

async fn delete(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: RowsDelete = parse(args)?;
    call.write(HttpMethod::DELETE, &rows(&args.table_name, "rows"), &args).await
}
