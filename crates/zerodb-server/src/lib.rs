//! The `zerodb` server: configuration, wiring and start-up, usable as a library so that tests
//! and integrators can start a server in-process.

pub mod bench;
pub mod bench_files;
pub mod bench_kafka;
mod bench_load;
pub mod bench_memory;
mod bench_server;
pub mod bench_vectors;
pub mod config;
pub mod external;
pub mod startup;
pub mod telemetry;
