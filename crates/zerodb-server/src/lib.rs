//! The `zerodb` server: configuration, wiring and start-up, usable as a library so that tests
//! and integrators can start a server in-process.

pub mod backends;
pub mod background;
pub mod config;
#[cfg(feature = "qdrant")]
pub mod reindex;
pub mod startup;
pub mod telemetry;
pub mod vector_engine;
