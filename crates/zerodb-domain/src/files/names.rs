//! What a file key, file name and content type may be. Keys are never used as storage
//! paths, but they are shown to clients and matched by prefix, so the path tricks a client
//! might try are refused outright instead of being stored.

const MAX_KEY_BYTES: usize = 1024;
const MAX_NAME_BYTES: usize = 255;
const MAX_CONTENT_TYPE_BYTES: usize = 255;

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// `a/b/c.txt` style: 1..=1024 bytes, no NUL or control characters, no backslash, no
/// leading `/`, no empty, `.` or `..` segment.
pub fn validate_file_key(key: &str) -> Result<(), &'static str> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err("must be 1 to 1024 bytes");
    }
    if has_control(key) || key.contains('\\') {
        return Err("must not contain control characters or backslashes");
    }
    if key.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
        return Err("must be relative, with no empty, '.' or '..' segments");
    }
    Ok(())
}

/// A plain name: 1..=255 bytes, no path separators, control characters, `.` or `..`.
pub fn validate_file_name(name: &str) -> Result<(), &'static str> {
    if name.trim().is_empty() || name.len() > MAX_NAME_BYTES {
        return Err("must be 1 to 255 bytes");
    }
    if has_control(name) || name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err("must be a plain name without path separators or control characters");
    }
    Ok(())
}

/// `type/subtype` with optional parameters, printable ASCII.
pub fn validate_content_type(value: &str) -> Result<(), &'static str> {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let valid_token = |t: &str| {
        !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    let ok = value.len() <= MAX_CONTENT_TYPE_BYTES
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && essence.split_once('/').is_some_and(|(t, s)| valid_token(t) && valid_token(s));
    if ok { Ok(()) } else { Err("must be a media type such as text/plain") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_climb_or_hide_anything() {
        for good in ["a", "reports/2026/q1.pdf", "with space/ü.txt", "a..b/c"] {
            assert!(validate_file_key(good).is_ok(), "{good}");
        }
        let long = "x".repeat(1025);
        for bad in [
            "",
            "../etc/passwd",
            "a/../../b",
            "/abs",
            "a//b",
            "a/./b",
            "a/",
            "nul\0byte",
            "back\\slash",
            "new\nline",
            &long,
        ] {
            assert!(validate_file_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_plain() {
        assert!(validate_file_name("report final.pdf").is_ok());
        for bad in ["", " ", "a/b", "..", "c:\\x", "tab\there"] {
            assert!(validate_file_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_types_are_media_types() {
        for good in ["text/plain", "application/octet-stream", "text/html; charset=utf-8"] {
            assert!(validate_content_type(good).is_ok(), "{good}");
        }
        for bad in ["", "text", "/plain", "text/", "te xt/plain", "text/plain\r\nX: y"] {
            assert!(validate_content_type(bad).is_err(), "{bad:?}");
        }
    }
}
