//! Small validation helpers shared by the value types.

use regex_lite::Regex;
use std::sync::LazyLock;

/// Identifiers users choose for tables and columns: letters, digits and underscores, starting
/// with a letter or underscore, at most 63 bytes (PostgreSQL's identifier length).
static IDENTIFIER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$").ok());

pub(crate) fn is_identifier(s: &str) -> bool {
    IDENTIFIER.as_ref().is_some_and(|re| re.is_match(s))
}

/// Rejects control characters (NUL included) that have no place in names.
pub(crate) fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}
