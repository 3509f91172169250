//! Small validation helpers shared by the value types.

/// Identifiers users choose for tables and columns: letters, digits and underscores, starting
/// with a letter or underscore, at most 63 bytes (PostgreSQL's identifier length).
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    let starts_well = bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    starts_well && s.len() <= 63 && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Rejects control characters (NUL included) that have no place in names.
pub(crate) fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::is_identifier;

    #[test]
    fn identifiers() {
        for ok in ["a", "_x1", "Table_9", &"a".repeat(63)] {
            assert!(is_identifier(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "a b", "é", &"a".repeat(64), "a;drop"] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }
}
