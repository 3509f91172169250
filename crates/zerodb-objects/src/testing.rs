//! A throwaway S3-compatible server for tests: moto's server (PyPI `moto[server]`) on
//! 127.0.0.1, one per test process, a fresh bucket per caller.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;
use zerodb_testkit::{free_port, wait_for_port};

/// Where to find moto: `ZERODB_MOTO_PYTHON` (a Python with moto installed), else the
/// virtualenv `.ci/run` creates under `target/moto-venv`.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ZERODB_MOTO_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/moto-venv/bin/python")
}

/// Runs moto until our stdin closes, so the server dies with the test process.
const LAUNCHER: &str = "import os, sys, threading\n\
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()\n\
from moto.server import main\n\
main(['-H', '127.0.0.1', '-p', sys.argv[1]])\n";

pub struct MotoServer {
    pub endpoint: String,
    port: u16,
    _child: Child,
}

impl MotoServer {
    /// The process-wide server, started on first use.
    pub fn shared() -> &'static MotoServer {
        static SERVER: OnceLock<MotoServer> = OnceLock::new();
        SERVER.get_or_init(Self::start)
    }

    fn start() -> Self {
        let python = python();
        assert!(
            python.exists(),
            "moto is needed for the S3 tests: run `python3 -m venv target/moto-venv && \
             target/moto-venv/bin/pip install 'moto[server]'` (as .ci/run does) or set \
             ZERODB_MOTO_PYTHON; looked for {}",
            python.display()
        );
        let port = free_port();
        let child = Command::new(&python)
            .args(["-c", LAUNCHER, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto with {}: {e}", python.display()));
        wait_for_port(port, "moto", Duration::from_secs(60));
        Self { endpoint: format!("http://127.0.0.1:{port}"), port, _child: child }
    }

    /// Creates a bucket (moto accepts unsigned requests) and returns its name.
    pub fn bucket(&self, name: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("cannot reach moto: {e}"));
        let request = format!(
            "PUT /{name} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).unwrap_or_else(|e| panic!("moto: {e}"));
        let mut status = String::new();
        BufReader::new(&stream).read_line(&mut status).unwrap_or_else(|e| panic!("moto: {e}"));
        assert!(status.contains(" 200"), "creating bucket {name} answered {status}");
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        name.to_owned()
    }

    /// Settings for an adapter on a fresh bucket.
    #[cfg(feature = "s3")]
    pub fn settings(&self, bucket: &str) -> crate::S3Settings {
        crate::S3Settings {
            bucket: self.bucket(bucket),
            region: "us-east-1".into(),
            endpoint: Some(self.endpoint.clone()),
            access_key_id: Some("testing".into()),
            secret_access_key: Some("testing".into()),
            path_style: true,
            allow_http: true,
        }
    }
}
