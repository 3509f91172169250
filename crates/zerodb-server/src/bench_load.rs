//! A lean HTTP/1.1 load generator for throughput runs: one keep-alive hyper connection per
//! simulated client, requests built without URL parsing or a client-side pool.
//!
//! The benchmark's clients share the machine's two cores with the server it measures, so a
//! heavier client (the full `reqwest`-based `zerodb-client`) would measure the client as
//! much as the server; this is what `wrk` does, with response checks. Every answer must
//! answer `201 Created` with the published events (a positive offset, or the published
//! count), or it counts as an error.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// One open connection that POSTs JSON to one path.
pub(crate) struct LoadConnection {
    sender: http1::SendRequest<Full<Bytes>>,
    host: String,
    path: String,
    authorization: String,
}

impl LoadConnection {
    pub(crate) async fn open(
        addr: SocketAddr,
        path: String,
        authorization: String,
    ) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) =
            http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(Self { sender, host: addr.to_string(), path, authorization })
    }

    /// POSTs `body`; the events the server acknowledged (0 on any failure).
    pub(crate) async fn publish(&mut self, body: Vec<u8>) -> u64 {
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.path.as_str())
            .header(HOST, self.host.as_str())
            .header(AUTHORIZATION, self.authorization.as_str())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)));
        let Ok(request) = request else { return 0 };
        if self.sender.ready().await.is_err() {
            return 0;
        }
        let Ok(response) = self.sender.send_request(request).await else { return 0 };
        let status = response.status();
        let Ok(body) = response.into_body().collect().await else { return 0 };
        if status != StatusCode::CREATED {
            return 0;
        }
        match serde_json::from_slice::<Acknowledged>(&body.to_bytes()) {
            Ok(Acknowledged { published: Some(n), .. }) => n,
            Ok(Acknowledged { offset: Some(offset), .. }) if offset > 0 => 1,
            _ => 0,
        }
    }
}

/// The fields of a publish answer that say what was stored.
#[derive(serde::Deserialize)]
struct Acknowledged {
    offset: Option<i64>,
    published: Option<u64>,
}
