//! A Qdrant server: the binary in `../shared/tools/qdrant`, which `.ci/run` (scripts/test)
//! decompresses into `target/qdrant/qdrant`.

use crate::process::{WatchedProcess, free_port, wait_for_port};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `ZERODB_TEST_QDRANT`, else the decompressed binary under target/.
fn qdrant() -> PathBuf {
    if let Some(path) = std::env::var_os("ZERODB_TEST_QDRANT") {
        return PathBuf::from(path);
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/qdrant/qdrant");
    assert!(
        path.exists(),
        "the Qdrant tests need the Qdrant server: run scripts/test (it decompresses \
         ../shared/tools/qdrant/qdrant-*.xz into target/qdrant/qdrant) or set \
         ZERODB_TEST_QDRANT; looked for {}",
        path.display()
    );
    path
}

/// One server of its own per test, with storage in a temporary directory that outlives
/// a stop, so that `stop` and `resume` simulate an outage.
pub struct QdrantServer {
    http_port: u16,
    grpc_port: u16,
    storage: tempfile::TempDir,
    process: Option<WatchedProcess>,
}

impl QdrantServer {
    pub fn start() -> Self {
        let storage = tempfile::tempdir()
            .unwrap_or_else(|e| panic!("no temporary directory for Qdrant: {e}"));
        let mut server =
            Self { http_port: free_port(), grpc_port: free_port(), storage, process: None };
        server.resume();
        server
    }

    /// The REST endpoint, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Kills the server (an outage); its storage stays.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// Starts it again on the same ports and storage, and waits until it answers.
    pub fn resume(&mut self) {
        self.stop();
        let storage = self.storage.path().display().to_string();
        // `env` sets Qdrant's configuration for the child alone.
        let args = [
            "QDRANT__SERVICE__HOST=127.0.0.1".to_owned(),
            format!("QDRANT__SERVICE__HTTP_PORT={}", self.http_port),
            format!("QDRANT__SERVICE__GRPC_PORT={}", self.grpc_port),
            "QDRANT__TELEMETRY_DISABLED=true".to_owned(),
            format!("QDRANT__STORAGE__STORAGE_PATH={storage}/storage"),
            format!("QDRANT__STORAGE__SNAPSHOTS_PATH={storage}/snapshots"),
            "QDRANT__LOG_LEVEL=WARN".to_owned(),
            qdrant().display().to_string(),
        ];
        self.process = Some(WatchedProcess::spawn(std::path::Path::new("env"), &args));
        wait_for_port(self.http_port, "Qdrant", Duration::from_secs(60));
        // The port opens before the collections are loaded; wait for a real answer.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.ready() {
            assert!(Instant::now() < deadline, "Qdrant did not become ready within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn ready(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.http_port)) else {
            return false;
        };
        let request = "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        let mut answer = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.1 200")
    }
}
