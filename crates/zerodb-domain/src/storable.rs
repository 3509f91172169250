//! The storability rule: whatever the service accepts, it can store, read back, sort, filter,
//! aggregate and export.
//!
//! PostgreSQL refuses some values that JSON and Rust happily carry: U+0000 in `text` and
//! `jsonb`, timestamps outside what `timestamptz` parses, offsets beyond ±15:59. Accepting
//! such a value would either fail the write with an opaque database error or, worse, store
//! text that a later cast cannot read, making a whole table unreadable. Every value that
//! reaches storage passes through these checks first; a refused value names its field path
//! (`rows[0].s`, `vector_metadata.k`, `headers.h`).

use crate::error::{FieldViolation, ServiceError};
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use serde_json::{Map, Value};

/// Why a string is refused.
pub const NUL_REASON: &str = "must not contain U+0000 (NUL)";

/// Largest UTC offset PostgreSQL's `timestamptz` input accepts, in seconds (15:59:59).
const MAX_OFFSET_SECONDS: i32 = 16 * 3600 - 1;

/// Years every part of the product handles: RFC 3339 has four-digit years, and PostgreSQL
/// rejects year 0 on input.
const MIN_YEAR: i32 = 1;
const MAX_YEAR: i32 = 9999;

/// Appends a violation for every string value or object key under `value` that cannot be
/// stored. `path` names `value` itself; children extend it as `path.key` and `path[i]`.
pub fn json_violations(path: &str, value: &Value, out: &mut Vec<FieldViolation>) {
    match value {
        Value::String(s) if s.contains('\0') => out.push(FieldViolation::new(path, NUL_REASON)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_violations(&format!("{path}[{i}]"), item, out);
            }
        }
        Value::Object(map) => map_violations(path, map, out),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

/// [`json_violations`] for a JSON object held as a map (metadata, headers), without
/// wrapping it in a `Value`.
pub fn map_violations(path: &str, map: &Map<String, Value>, out: &mut Vec<FieldViolation>) {
    for (key, item) in map {
        let child = child_path(path, key);
        if key.contains('\0') {
            out.push(FieldViolation::new(&child, format!("key {NUL_REASON}")));
        }
        json_violations(&child, item, out);
    }
}

/// Like [`json_violations`], for a single value: `Err` carries every violation.
pub fn check_json(path: &str, value: &Value) -> Result<(), ServiceError> {
    let mut out = Vec::new();
    json_violations(path, value, &mut out);
    if out.is_empty() { Ok(()) } else { Err(ServiceError::InvalidInput(out)) }
}

/// Appends a violation when a string cannot be stored as text.
pub fn text_violation(path: &str, value: &str, out: &mut Vec<FieldViolation>) {
    if value.contains('\0') {
        out.push(FieldViolation::new(path, NUL_REASON));
    }
}

/// Checks a single string.
pub fn check_text(path: &str, value: &str) -> Result<(), ServiceError> {
    if value.contains('\0') { Err(ServiceError::invalid(path, NUL_REASON)) } else { Ok(()) }
}

/// Parses an RFC 3339 timestamp that PostgreSQL's `timestamptz` reads back: years 0001 to
/// 9999 as written, and a UTC offset of at most ±15:59.
pub fn parse_timestamp(s: &str) -> Result<DateTime<FixedOffset>, String> {
    let t =
        DateTime::parse_from_rfc3339(s).map_err(|_| "expected an RFC 3339 timestamp".to_owned())?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&t.year()) {
        return Err(format!("the year must be between {MIN_YEAR:04} and {MAX_YEAR}"));
    }
    if t.offset().local_minus_utc().abs() > MAX_OFFSET_SECONDS {
        return Err("the UTC offset must be at most ±15:59".to_owned());
    }
    Ok(t)
}

/// Checks an instant that will be stored or compared as `timestamptz`.
pub fn check_instant(path: &str, t: &DateTime<Utc>) -> Result<(), ServiceError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&t.year()) {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            path,
            format!("the year must be between {MIN_YEAR:04} and {MAX_YEAR}"),
        ))
    }
}

/// `path.key`, or `key` at the top level.
fn child_path(path: &str, key: &str) -> String {
    // Keys are shown escaped: a NUL or control character in a path would be unreadable.
    let shown: String = key.escape_debug().collect();
    if path.is_empty() { shown } else { format!("{path}.{shown}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(path: &str, v: &Value) -> Vec<String> {
        let mut out = Vec::new();
        json_violations(path, v, &mut out);
        out.into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn nul_in_values_and_keys_is_named_by_path() {
        let v = json!({"a": "x\u{0}", "b": [1, {"c": "\u{0}"}], "k\u{0}": 1, "ok": "fine"});
        let found = fields("vector_metadata", &v);
        assert!(found.contains(&"vector_metadata.a".to_owned()), "{found:?}");
        assert!(found.contains(&"vector_metadata.b[1].c".to_owned()), "{found:?}");
        assert!(found.contains(&"vector_metadata.k\\0".to_owned()), "{found:?}");
        assert_eq!(found.len(), 3);
        assert!(fields("p", &json!({"s": "plain", "n": 1e308, "z": null})).is_empty());
        assert_eq!(fields("", &json!({"h": "\u{0}"})), vec!["h".to_owned()]);
    }

    #[test]
    fn timestamps_postgres_can_read() {
        for ok in ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-02-29T12:00:00+15:59"] {
            assert!(parse_timestamp(ok).is_ok(), "{ok}");
        }
        for bad in ["0000-01-01T00:00:00Z", "2024-01-01T00:00:00+16:00", "2024-01-01", "soon"] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn instants_within_four_digit_years() {
        let ok = DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z").map(|t| t.to_utc());
        assert!(ok.is_ok_and(|t| check_instant("since", &t).is_ok()));
        let far = DateTime::<Utc>::MIN_UTC;
        assert!(check_instant("since", &far).is_err());
    }

    #[test]
    fn text() {
        assert!(check_text("content", "a\u{0}b").is_err());
        assert!(check_text("content", "ab").is_ok());
    }
}
