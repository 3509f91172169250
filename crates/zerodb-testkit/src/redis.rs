//! A Redis server: Debian's `redis-server` (which `.ci/run` installs), without persistence.

use crate::process::{WatchedProcess, free_port, wait_for_port};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

pub struct RedisServer {
    port: u16,
    _process: WatchedProcess,
}

impl RedisServer {
    /// The process-wide server, started on first use. Tests keep apart by key prefix.
    pub fn shared() -> &'static RedisServer {
        static SERVER: OnceLock<RedisServer> = OnceLock::new();
        SERVER.get_or_init(Self::start)
    }

    fn start() -> Self {
        let program = std::env::var_os("ZERODB_TEST_REDIS_SERVER")
            .map_or_else(|| PathBuf::from("redis-server"), PathBuf::from);
        let port = free_port();
        let args = [
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        .map(str::to_owned);
        let process = WatchedProcess::spawn(&program, &args);
        wait_for_port(
            port,
            "redis-server (apt-get install redis-server, as .ci/run does)",
            Duration::from_secs(20),
        );
        Self { port, _process: process }
    }

    /// `redis://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}
