//! End-to-end tests: the real server on port 0, a real PostgreSQL, the typed client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod helpers;

mod abuse;
mod admin;
mod agent_logs;
mod auth;
#[cfg(all(feature = "s3", feature = "kafka", feature = "redis", feature = "qdrant"))]
mod cluster;
mod console;
mod database;
mod deployment;
mod embedded;
#[cfg(feature = "local-embeddings")]
mod embeddings;
mod events;
mod files;
#[cfg(feature = "kafka")]
mod kafka;
mod malformed;
mod mcp;
mod memory;
#[cfg(feature = "local-embeddings")]
mod models;
mod operations;
mod poison;
mod projects;
#[cfg(feature = "qdrant")]
mod qdrant;
#[cfg(feature = "redis")]
mod redis;
mod rlhf;
mod strangers;
mod tables;
mod upgrade;
mod vectors;
