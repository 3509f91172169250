//! Reproducible test data, and real servers for tests, started on 127.0.0.1 from binaries `.ci/run` installs:
//! a Kafka-protocol broker (tansu), Redis and Qdrant. Each dies with the test process.

// Contracts fail by panicking, as assertions do.
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub mod contracts;
mod data;
mod process;

pub use data::pattern;

pub use process::{WatchedProcess, free_port, wait_for_port};

mod kafka;
mod qdrant;
mod redis;

pub use kafka::KafkaBroker;
pub use qdrant::QdrantServer;
pub use redis::RedisServer;
