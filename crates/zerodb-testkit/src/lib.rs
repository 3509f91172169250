//! Real servers for tests, started on 127.0.0.1 from binaries `.ci/run` installs:
//! a Kafka-protocol broker (tansu) and Redis. Each dies with the test process.

mod process;

pub use process::{WatchedProcess, free_port, wait_for_port};

mod kafka;
mod redis;

pub use kafka::KafkaBroker;
pub use redis::RedisServer;
