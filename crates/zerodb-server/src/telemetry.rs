//! Logging set-up: human-readable text or JSON lines, filtered by `log.level` or `RUST_LOG`.

use crate::config::{LogFormat, LogSettings};
use tracing_subscriber::EnvFilter;

pub fn init(settings: &LogSettings) {
    init_with(settings, false);
}

/// As [`init`], writing to stderr: for `zerodb mcp`, whose stdout carries the protocol.
pub fn init_stderr(settings: &LogSettings) {
    init_with(settings, true);
}

fn init_with(settings: &LogSettings, stderr: bool) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    // A second initialisation (tests) is not an error worth reporting.
    let _ = match (settings.format, stderr) {
        (LogFormat::Json, false) => builder.json().try_init(),
        (LogFormat::Text, false) => builder.try_init(),
        (LogFormat::Json, true) => builder.json().with_writer(std::io::stderr).try_init(),
        (LogFormat::Text, true) => builder.with_writer(std::io::stderr).try_init(),
    };
}
