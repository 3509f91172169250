//! The `zerodb` command: `serve`, `migrate`, `user create`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use zerodb_domain::principal::Role;
use zerodb_server::config::Settings;
use zerodb_server::startup::{Application, Database, build_services, jwt_secret};
use zerodb_server::telemetry;

/// mimalloc instead of the system allocator: a request allocates and frees many small
/// buffers across threads, where glibc's malloc measured about 6 % of the server's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "zerodb", version, about = "ZeroDB: an AI-native database platform")]
struct Cli {
    /// Configuration file (default: ./zerodb.toml when present).
    #[arg(long, global = true, env = "ZERODB_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Measure performance through the HTTP API.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Event publish throughput, delivery latency and concurrent streams.
    Events(zerodb_server::bench::EventBenchOptions),
    /// Vector ingest, search latency and QPS, recall@10, memory per vector, start-up time.
    Vectors(zerodb_server::bench_vectors::VectorBenchOptions),
    /// Memory store rate and search latency/QPS per mode.
    Memory(zerodb_server::bench_memory::MemoryBenchOptions),
    /// Publish throughput with the Kafka relay off and on, and the outbox backlog meanwhile.
    Kafka(zerodb_server::bench_kafka::KafkaBenchOptions),
    /// Upload and download MB/s of one large file, and the process's memory meanwhile.
    Files(zerodb_server::bench_files::FileBenchOptions),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (optionally an admin).
    Create {
        #[arg(long)]
        email: String,
        /// The password; prefer ZERODB_USER_PASSWORD so it stays out of shell history.
        #[arg(long, env = "ZERODB_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        admin: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    telemetry::init(&settings.log);
    tracing::debug!(?settings, "settings loaded");
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let db = Database::connect(&settings).await?;
            tracing::info!("database is up to date");
            db.shutdown().await;
            Ok(())
        }
        Command::Bench { command: BenchCommand::Events(options) } => {
            zerodb_server::bench::run_events(settings, options).await?;
            Ok(())
        }
        Command::Bench { command: BenchCommand::Kafka(options) } => {
            zerodb_server::bench_kafka::run_kafka(settings, options).await?;
            Ok(())
        }
        Command::Bench { command: BenchCommand::Files(options) } => {
            zerodb_server::bench_files::run_files(settings, options).await?;
            Ok(())
        }
        Command::Bench { command: BenchCommand::Memory(options) } => {
            zerodb_server::bench_memory::run_memory(settings, options).await?;
            Ok(())
        }
        Command::Bench { command: BenchCommand::Vectors(options) } => {
            zerodb_server::bench_vectors::run_vectors(settings, options).await?;
            Ok(())
        }
        Command::User { command: UserCommand::Create { email, password, admin } } => {
            let db = Database::connect(&settings).await?;
            let secret = jwt_secret(&settings)?;
            let services = build_services(&db, &settings, &secret)?;
            let role = if admin { Role::Admin } else { Role::User };
            let result = services.auth.create_user(&email, password, role).await;
            db.shutdown().await;
            let user = result.context("could not create the user")?;
            println!("created {} user {} ({})", role.as_str(), user.email, user.id);
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let mut db = Database::connect(&settings).await?;
    db.supervise();
    let result = async {
        let secret = jwt_secret(&settings)?;
        let app = Application::build(&settings, &db, &secret, true)?;
        tracing::info!(
            host = %settings.server.host,
            port = app.port(),
            registration = settings.registration_open(),
            "ZeroDB is listening"
        );
        app.run_until_stopped().await.context("server failed")
    }
    .await;
    db.shutdown().await;
    result
}
