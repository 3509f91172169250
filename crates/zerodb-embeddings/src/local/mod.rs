//! The `local` embedding provider: a sentence-transformers model (all-MiniLM-L6-v2 and its
//! BERT-family kin) run on the CPU inside the server, offline.
//!
//! Inference runs on one worker thread that owns the model and a compute pool of
//! `threads` threads; requests never block the HTTP workers, they queue (bounded) and
//! await their answer. The worker takes whatever requests arrived within a short window,
//! up to `batch_size` texts, and runs them as one batch.

mod model;
pub mod pull;

pub use model::{Embedded, ModelError, Pooling, SentenceModel};

use async_trait::async_trait;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use zerodb_domain::error::Cause;
use zerodb_domain::memory::{EmbeddingError, EmbeddingProvider};

/// How the local model is loaded and run.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    /// A sentence-transformers model directory.
    pub model_dir: PathBuf,
    /// Caps the model's own token limit per text.
    pub max_seq_length: Option<usize>,
    /// Most texts per inference batch.
    pub batch_size: usize,
    /// Compute threads; 0 means one per core.
    pub threads: usize,
    /// How long the worker waits for more requests to join a batch.
    pub batch_window: Duration,
    /// Requests that may wait for the worker; more are refused as unavailable.
    pub queue: usize,
}

type Reply = Result<Vec<Embedded>, String>;

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Reply>,
}

/// The `local` provider.
pub struct LocalEmbedder {
    jobs: SyncSender<Job>,
    /// A copy of the model's tokenizer, to tell which texts are cut without the worker.
    tokenizer: tokenizers::Tokenizer,
    name: String,
    dimension: usize,
    max_tokens: usize,
}

impl LocalEmbedder {
    /// Loads the model (seconds for a small one) and starts its worker thread.
    pub fn load(settings: &LocalSettings) -> Result<Self, ModelError> {
        let model = SentenceModel::load(&settings.model_dir, settings.max_seq_length)?;
        let (dimension, max_tokens) = (model.dimension(), model.max_tokens());
        let tokenizer = model.tokenizer().clone();
        let threads = match settings.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("zerodb-embed-{i}"))
            .build()
            .map_err(|e| ModelError::Inference(format!("compute pool: {e}")))?;
        let (jobs, queue) = sync_channel(settings.queue.max(1));
        let (batch_size, window) = (settings.batch_size.max(1), settings.batch_window);
        std::thread::Builder::new()
            .name("zerodb-embedder".into())
            .spawn(move || serve(&model, &pool, &queue, batch_size, window))
            .map_err(|e| ModelError::Inference(format!("worker thread: {e}")))?;
        let name = settings
            .model_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "local".into());
        Ok(Self { jobs, tokenizer, name, dimension, max_tokens })
    }

    /// The most tokens of one text the model reads.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Embeds `texts`, saying for each whether it was cut to the model's token limit.
    pub async fn embed_detailed(
        &self,
        texts: Vec<String>,
    ) -> Result<Vec<Embedded>, EmbeddingError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        match self.jobs.try_send(Job { texts, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(EmbeddingError::Unavailable(Cause::msg(
                    "the local embedding model is busy",
                )));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(EmbeddingError::Unavailable(Cause::msg(
                    "the local embedding model stopped",
                )));
            }
        }
        match answer.await {
            Ok(Ok(embedded)) => Ok(embedded),
            Ok(Err(reason)) => Err(EmbeddingError::Unavailable(Cause::msg(reason))),
            Err(_) => {
                Err(EmbeddingError::Unavailable(Cause::msg("the local embedding model stopped")))
            }
        }
    }
}

#[async_trait]
impl EmbeddingProvider for LocalEmbedder {
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        Ok(self.embed_detailed(texts).await?.into_iter().map(|e| e.vector).collect())
    }

    fn model(&self) -> String {
        self.name.clone()
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn truncates(&self, text: &str) -> bool {
        self.tokenizer.encode(text, true).is_ok_and(|e| !e.get_overflowing().is_empty())
    }
}

/// The worker: gathers requests into batches and answers each with its own texts' vectors.
fn serve(
    model: &SentenceModel,
    pool: &rayon::ThreadPool,
    queue: &Receiver<Job>,
    batch_size: usize,
    window: Duration,
) {
    while let Ok(first) = queue.recv() {
        let mut count = first.texts.len();
        let mut jobs = vec![first];
        let deadline = Instant::now() + window;
        while count < batch_size {
            match queue.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(job) => {
                    count += job.texts.len();
                    jobs.push(job);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        let texts: Vec<String> = jobs.iter().flat_map(|j| j.texts.iter().cloned()).collect();
        let mut results: Result<Vec<Embedded>, String> = Ok(Vec::with_capacity(texts.len()));
        for chunk in texts.chunks(batch_size) {
            results = results.and_then(|mut done| {
                // The arithmetic runs on the compute pool, at most `threads` cores.
                done.extend(pool.install(|| model.embed(chunk)).map_err(|e| e.to_string())?);
                Ok(done)
            });
        }
        let mut results = results.map(|v| v.into_iter());
        for job in jobs {
            let answer = match &mut results {
                Ok(all) => Ok(all.by_ref().take(job.texts.len()).collect()),
                Err(reason) => Err(reason.clone()),
            };
            // A request that gave up waiting has dropped its receiver; nothing to do.
            let _ = job.reply.send(answer);
        }
    }
}
