//! Event publishing for throughput runs, on the kit's keep-alive connection (`http.rs`):
//! one connection per simulated client, as `wrk` does, with response checks. An answer
//! counts only when it is `201 Created` with the published events (a positive offset, or
//! the published count).

use super::http::JsonConnection;
use hyper::header::{AUTHORIZATION, HeaderValue};
use hyper::{Method, StatusCode};
use std::net::SocketAddr;

/// One open connection that publishes to one path.
pub(crate) struct LoadConnection {
    connection: JsonConnection,
    path: String,
}

impl LoadConnection {
    pub(crate) async fn open(
        addr: SocketAddr,
        path: String,
        authorization: String,
    ) -> Result<Self, String> {
        let authorization = HeaderValue::from_str(&authorization).map_err(|e| e.to_string())?;
        let connection = JsonConnection::open(addr, vec![(AUTHORIZATION, authorization)]).await?;
        Ok(Self { connection, path })
    }

    /// POSTs `body`; the events the server acknowledged (0 on any failure).
    pub(crate) async fn publish(&mut self, body: Vec<u8>) -> u64 {
        let Ok((StatusCode::CREATED, body)) =
            self.connection.send(Method::POST, &self.path, body).await
        else {
            return 0;
        };
        match serde_json::from_slice::<Acknowledged>(&body) {
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
