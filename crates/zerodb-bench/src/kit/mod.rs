//! What every benchmark shares: a keep-alive load generator, percentiles, in-process and
//! child-process servers, and data sets.

pub mod dataset;
pub mod http;
pub mod load;
pub mod server;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Startup(#[from] zerodb_server::startup::StartupError),
    #[error(transparent)]
    Client(#[from] zerodb_client::ClientError),
    #[error("{0}")]
    Setup(String),
}

/// The `p`th percentile of an ascending slice (NaN when empty); shared by every benchmark.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
