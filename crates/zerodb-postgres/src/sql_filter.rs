//! Compiles validated row filters and sorts into SQL over the JSONB `data` column.
//!
//! Every user-supplied value, column names included, travels as a bind parameter; the SQL
//! text holds only fixed fragments and parameter numbers, so nothing a client sends can
//! change the statement's shape.

use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Jsonb, Text, Uuid as SqlUuid};
use serde_json::{Map, Value};
use uuid::Uuid;
use zerodb_domain::tables::{ColumnType, Condition, FilterOp, RowFilter, RowSort};

/// A bind parameter of one of the types the row queries use.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Json(Value),
    TextArray(Vec<String>),
    Uuid(Uuid),
    BigInt(i64),
}

/// SQL text under construction plus its parameters, numbered in order.
#[derive(Debug, Default)]
pub(crate) struct SqlBuilder {
    pub sql: String,
    params: Vec<Param>,
}

impl SqlBuilder {
    pub fn new(sql: &str) -> Self {
        Self { sql: sql.to_owned(), params: Vec::new() }
    }

    /// Adds a parameter and returns its placeholder (`$n`).
    pub fn param(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }

    pub fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    pub fn into_query(self) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        let mut query = diesel::sql_query(self.sql).into_boxed::<Pg>();
        for p in self.params {
            query = match p {
                Param::Text(v) => query.bind::<Text, _>(v),
                Param::Json(v) => query.bind::<Jsonb, _>(v),
                Param::TextArray(v) => query.bind::<Array<Text>, _>(v),
                Param::Uuid(v) => query.bind::<SqlUuid, _>(v),
                Param::BigInt(v) => query.bind::<BigInt, _>(v),
            };
        }
        query
    }

    /// Appends ` AND <condition>` for every condition of the filter.
    pub fn push_filter(&mut self, filter: &RowFilter) {
        if let Some(id) = filter.row_id {
            let id = self.param(Param::Uuid(id));
            self.push(&format!(" AND row_id = {id}"));
        }
        for condition in &filter.conditions {
            self.push(" AND ");
            let sql = self.condition(condition);
            self.push(&sql);
        }
    }

    fn condition(&mut self, c: &Condition) -> String {
        let key = self.param(Param::Text(c.column.clone()));
        let text = format!("(data->>{key})");
        let json = format!("(data->{key})");
        let cast = cast_for(c.column_type);
        match (c.op, &c.value) {
            (FilterOp::Eq, Value::Null) => format!("{text} IS NULL"),
            (FilterOp::Ne, Value::Null) => format!("{text} IS NOT NULL"),
            (FilterOp::Eq, v) if c.column_type == ColumnType::Timestamp => {
                let p = self.param(Param::Text(as_text(v)));
                format!("{text}::timestamptz = {p}::timestamptz")
            }
            (FilterOp::Eq, v) if c.column_type == ColumnType::Json => {
                let p = self.param(Param::Json(v.clone()));
                format!("{json} = {p}")
            }
            (FilterOp::Eq, v) => {
                // Containment of {"column": value} can use the GIN index on `data`.
                let mut probe = Map::new();
                probe.insert(c.column.clone(), v.clone());
                let p = self.param(Param::Json(Value::Object(probe)));
                format!("data @> {p}")
            }
            (FilterOp::Ne, v) if c.column_type == ColumnType::Timestamp => {
                let p = self.param(Param::Text(as_text(v)));
                format!("{text}::timestamptz IS DISTINCT FROM {p}::timestamptz")
            }
            (FilterOp::Ne, v) => {
                let p = self.param(Param::Json(v.clone()));
                format!("{json} IS DISTINCT FROM {p}")
            }
            (FilterOp::Gt | FilterOp::Gte | FilterOp::Lt | FilterOp::Lte, v) => {
                let op = match c.op {
                    FilterOp::Gt => ">",
                    FilterOp::Gte => ">=",
                    FilterOp::Lt => "<",
                    _ => "<=",
                };
                let p = self.param(Param::Text(as_text(v)));
                format!("{text}{cast} {op} {p}{cast}")
            }
            (FilterOp::In, Value::Array(items)) => {
                let p = self.param(Param::TextArray(items.iter().map(as_text).collect()));
                let element = match cast {
                    "" => "::text",
                    other => other,
                };
                format!("{text}{cast} = ANY({p}{element}[])")
            }
            (FilterOp::Contains, v) if c.column_type == ColumnType::String => {
                let p = self.param(Param::Text(as_text(v)));
                format!("strpos({text}, {p}) > 0")
            }
            (FilterOp::Contains, v) => {
                let p = self.param(Param::Json(v.clone()));
                format!("{json} @> {p}")
            }
            // The domain only builds `In` with an array; anything else matches nothing.
            (FilterOp::In, _) => "false".to_owned(),
        }
    }

    /// Appends the ORDER BY clause: the sort column (nulls last), then insertion order.
    pub fn push_order(&mut self, sort: Option<&RowSort>) {
        match sort {
            None => self.push(" ORDER BY row_seq ASC"),
            Some(s) => {
                let key = self.param(Param::Text(s.column.clone()));
                let cast = cast_for(s.column_type);
                let dir = if s.descending { "DESC" } else { "ASC" };
                self.push(&format!(" ORDER BY (data->>{key}){cast} {dir} NULLS LAST, row_seq ASC"));
            }
        }
    }
}

/// The SQL cast that gives a column's text the right ordering and equality.
fn cast_for(t: ColumnType) -> &'static str {
    match t {
        ColumnType::Integer | ColumnType::Number => "::numeric",
        ColumnType::Boolean => "::boolean",
        ColumnType::Timestamp => "::timestamptz",
        ColumnType::String | ColumnType::Uuid | ColumnType::Json => "",
    }
}

/// The text form PostgreSQL's `->>` gives a scalar JSON value.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
