//! ZeroDB as a Model Context Protocol server.
//!
//! Every tool is a thin twin of one REST call: the
//! tool layer sends it through [`zerodb_client`] with the caller's own credential, so the
//! REST pipeline decides authentication, scopes, quotas, rate limits and usage metering,
//! and a refusal carries the REST API's stable code. `zerodb serve` mounts the
//! streamable-HTTP transport at `/mcp` and sends the calls to itself over loopback;
//! `zerodb mcp` serves stdio and sends them to a remote server.

mod credential;
mod outcome;
mod resources;
mod server;
mod spec;
mod tools;
pub mod transport;

pub use credential::{Credential, CredentialSource};
pub use server::{McpLimits, ZeroDbMcp};
