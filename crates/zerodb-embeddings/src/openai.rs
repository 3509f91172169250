//! An `EmbeddingProvider` for any OpenAI-compatible `/v1/embeddings` server (OpenAI, Ollama,
//! vLLM, text-embeddings-inference): batching, timeouts, and retries with exponential
//! backoff on 429, 5xx and transport errors; a clear `Unavailable` when it stays down.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use zerodb_domain::Cause;
use zerodb_domain::memory::{EmbeddingError, EmbeddingProvider};

#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    /// The vectors' size; answers of another size are refused.
    pub dimension: usize,
    /// Texts per request.
    pub batch_size: usize,
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubled on every retry.
    pub backoff: Duration,
}

pub struct OpenAiEmbedder {
    http: reqwest::Client,
    settings: OpenAiSettings,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [String],
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    embedding: Vec<f32>,
    index: usize,
}

impl OpenAiEmbedder {
    pub fn new(settings: OpenAiSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { http, settings })
    }

    async fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        let url = format!("{}/embeddings", self.settings.base_url.trim_end_matches('/'));
        let mut delay = self.settings.backoff;
        let mut last = String::new();
        for attempt in 0..=self.settings.max_retries {
            if attempt > 0 {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            let mut request =
                self.http.post(&url).json(&Request { model: &self.settings.model, input: texts });
            if let Some(key) = &self.settings.api_key {
                request = request.bearer_auth(key);
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = format!("transport: {e}");
                    continue;
                }
            };
            let status = response.status();
            if status.as_u16() == 429 || status.is_server_error() {
                last = format!("status {status}");
                continue;
            }
            if !status.is_success() {
                // A client error will not get better by retrying.
                return Err(EmbeddingError::Unavailable(Cause::msg(format!(
                    "embedding server answered {status}"
                ))));
            }
            let body: Response = response.json().await.map_err(|e| {
                EmbeddingError::Unavailable(Cause::msg(format!("unreadable answer: {e}")))
            })?;
            return self.arrange(body, texts.len());
        }
        Err(EmbeddingError::Unavailable(Cause::msg(format!(
            "embedding server failed {} times: {last}",
            self.settings.max_retries + 1
        ))))
    }

    fn arrange(&self, body: Response, expected: usize) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        let mut out = vec![Vec::new(); expected];
        for item in body.data {
            if item.index >= expected || item.embedding.len() != self.settings.dimension {
                return Err(EmbeddingError::Unavailable(Cause::msg(format!(
                    "embedding server answered an item {} of {} dimensions (expected {})",
                    item.index,
                    item.embedding.len(),
                    self.settings.dimension
                ))));
            }
            out[item.index] = item.embedding;
        }
        if out.iter().any(Vec::is_empty) {
            return Err(EmbeddingError::Unavailable(Cause::msg("embedding server skipped inputs")));
        }
        Ok(out)
    }
}

#[async_trait]
impl EmbeddingProvider for OpenAiEmbedder {
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.settings.batch_size.max(1)) {
            out.extend(self.embed_batch(chunk).await?);
        }
        Ok(out)
    }

    fn model(&self) -> String {
        self.settings.model.clone()
    }

    fn dimension(&self) -> usize {
        self.settings.dimension
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fake embeddings server that fails `failures` times with `status` first.
    async fn fake(failures: usize, status: u16) -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let server = HttpServer::new(move || {
            let seen = seen.clone();
            App::new().route(
                "/v1/embeddings",
                web::post().to(move |body: web::Json<serde_json::Value>| {
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n < failures {
                            return HttpResponse::build(
                                actix_web::http::StatusCode::from_u16(status)
                                    .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
                            )
                            .finish();
                        }
                        let inputs = body["input"].as_array().map_or(0, Vec::len);
                        // Answer in reverse order: the client must sort by index.
                        let data: Vec<serde_json::Value> = (0..inputs)
                            .rev()
                            .map(|i| serde_json::json!({"index": i, "embedding": [i as f32, 1.0, 0.0]}))
                            .collect();
                        HttpResponse::Ok().json(serde_json::json!({"data": data}))
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("{e}"));
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        (format!("http://127.0.0.1:{port}/v1"), calls)
    }

    fn settings(base_url: String) -> OpenAiSettings {
        OpenAiSettings {
            base_url,
            model: "test-model".into(),
            api_key: Some("sk-test".into()),
            dimension: 3,
            batch_size: 2,
            timeout: Duration::from_secs(5),
            max_retries: 2,
            backoff: Duration::from_millis(10),
        }
    }

    #[actix_web::test]
    async fn batches_retries_and_orders() {
        let (url, calls) = fake(2, 429).await;
        let embedder = OpenAiEmbedder::new(settings(url)).unwrap_or_else(|e| panic!("{e}"));
        let texts: Vec<String> = (0..3).map(|i| format!("t{i}")).collect();
        let out = embedder.embed(texts).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, vec![vec![0.0, 1.0, 0.0], vec![1.0, 1.0, 0.0], vec![0.0, 1.0, 0.0]]);
        // Two 429s, then one request per batch of two.
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[actix_web::test]
    async fn a_server_that_stays_down_is_unavailable() {
        let (url, calls) = fake(100, 503).await;
        let embedder = OpenAiEmbedder::new(settings(url)).unwrap_or_else(|e| panic!("{e}"));
        let err = embedder.embed(vec!["x".into()]).await.err();
        assert!(matches!(err, Some(EmbeddingError::Unavailable(_))), "{err:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let closed = OpenAiEmbedder::new(settings("http://127.0.0.1:9/v1".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            closed.embed(vec!["x".into()]).await,
            Err(EmbeddingError::Unavailable(_))
        ));
    }
}
