//! `zerodb-bench`: performance measured through the real HTTP API, on a server started
//! in-process (or as a child process) with the same configuration `zerodb serve` reads.

mod compare;
mod documents;
#[cfg(feature = "local-embeddings")]
mod embed;
mod events;
mod files;
mod kafka;
mod kit;
mod mcp;
mod memory;
mod vectors;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use zerodb_server::config::Settings;
use zerodb_server::telemetry;

/// The server's allocator, so that the servers measured here allocate as `zerodb` does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "zerodb-bench", version, about = "Measure ZeroDB through its HTTP API")]
struct Cli {
    /// Configuration file (default: ./zerodb.toml when present).
    #[arg(long, global = true, env = "ZERODB_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Event publish throughput, delivery latency and concurrent streams.
    Events(events::EventBenchOptions),
    /// Vector ingest, search latency and QPS, recall@10, memory per vector, start-up time.
    Vectors(vectors::VectorBenchOptions),
    /// The vectors API as a document store: search latency per mode, text upserts against
    /// embeddings/generate, and retrieval quality on LoCoMo next to BM25.
    Documents(documents::DocumentBenchOptions),
    /// Memory store rate and search latency/QPS per mode.
    Memory(memory::MemoryBenchOptions),
    /// memory_search as an MCP tool call over `/mcp` against the same REST call.
    Mcp(mcp::McpBenchOptions),
    /// The local embedding model: parity with its reference, throughput, and the lexical
    /// embedder's recall against it (build feature `local-embeddings`).
    #[cfg(feature = "local-embeddings")]
    Embed(embed::EmbedBenchOptions),
    /// Publish throughput with the Kafka relay off and on, and the outbox backlog meanwhile.
    Kafka(kafka::KafkaBenchOptions),
    /// Upload and download MB/s of one large file, and the process's memory meanwhile.
    Files(files::FileBenchOptions),
    /// ZeroDB, Qdrant and Chroma side by side on one data set, through their REST APIs.
    Compare(compare::CompareOptions),
    /// `zerodb serve`, for the benchmarks that measure a server in its own process.
    #[command(hide = true)]
    Serve,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    telemetry::init(&settings.log);
    match cli.command {
        Command::Events(options) => events::run_events(settings, options).await?,
        Command::Vectors(options) => vectors::run_vectors(settings, options).await?,
        Command::Memory(options) => memory::run_memory(settings, options).await?,
        Command::Documents(options) => documents::run_documents(settings, options).await?,
        Command::Mcp(options) => mcp::run_mcp(settings, options).await?,
        #[cfg(feature = "local-embeddings")]
        Command::Embed(options) => embed::run_embed(options)?,
        Command::Kafka(options) => kafka::run_kafka(settings, options).await?,
        Command::Files(options) => files::run_files(settings, options).await?,
        Command::Compare(options) => compare::run_compare(options).await?,
        Command::Serve => zerodb_server::startup::serve(settings).await?,
    }
    Ok(())
}
