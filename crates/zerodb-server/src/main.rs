//! The `zerodb` command: `serve`, `migrate`, `user create`, `config check`, `vectors reindex`,
//! `mcp`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use zerodb_domain::principal::Role;
use zerodb_server::config::Settings;
use zerodb_server::startup::{Database, build_services, jwt_secret, serve};
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
    /// Check the configuration (defaults, zerodb.toml, environment) and print the backends
    /// it selects; unknown keys and bad values are errors.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage the vector backend.
    Vectors {
        #[command(subcommand)]
        command: VectorsCommand,
    },
    /// Manage local embedding models.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Serve the Model Context Protocol on stdin/stdout for a desktop or IDE agent; every
    /// tool call goes to the ZeroDB server at --url with --api-key.
    Mcp {
        /// The ZeroDB server, e.g. https://zerodb.example.com.
        #[arg(long, env = "ZERODB_URL")]
        url: String,
        /// A project API key (or a user's token, then every call names its project_id).
        #[arg(long, env = "ZERODB_API_KEY", hide_env_values = true)]
        api_key: String,
        /// The project tools use when a call names none.
        #[arg(long)]
        project: Option<uuid::Uuid>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Load the configuration and report what it selects, without starting anything.
    Check,
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download a sentence-transformers model (e.g. sentence-transformers/all-MiniLM-L6-v2)
    /// from the Hugging Face hub (HF_ENDPOINT) into a folder for embeddings.local.model_dir,
    /// checking every file's digest.
    Pull {
        name: String,
        /// Where to put it (default: data_dir/models/<name>).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// A branch, tag or commit of the model's repository.
        #[arg(long, default_value = "main")]
        revision: String,
    },
}

#[derive(Subcommand)]
enum VectorsCommand {
    /// Rebuild Qdrant's points from PostgreSQL (vectors.backend = "qdrant"): one project's,
    /// or, without --project, every project's from empty collections.
    Reindex {
        #[arg(long)]
        project: Option<zerodb_domain::ProjectId>,
    },
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

#[cfg(feature = "qdrant")]
async fn reindex(
    settings: &Settings,
    project: Option<zerodb_domain::ProjectId>,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let db = Database::connect(settings).await?;
    let result =
        zerodb_server::reindex::reindex(settings, &db, project, std::io::stderr().is_terminal())
            .await;
    db.shutdown().await;
    let done = result.context("could not rebuild the Qdrant points")?;
    println!("reindexed {} vectors of {} projects into Qdrant", done.vectors, done.projects);
    Ok(())
}

#[cfg(not(feature = "qdrant"))]
async fn reindex(_: &Settings, _: Option<zerodb_domain::ProjectId>) -> anyhow::Result<()> {
    anyhow::bail!(
        "vectors reindex rebuilds Qdrant; this zerodb was built without the `qdrant` feature"
    )
}

#[cfg(feature = "local-embeddings")]
async fn pull_model(name: &str, dir: &std::path::Path, revision: String) -> anyhow::Result<()> {
    use zerodb_embeddings::local::pull::{Hub, PullProgress, pull};
    struct Bar(indicatif::ProgressBar);
    impl PullProgress for Bar {
        fn file(&self, name: &str, size: u64) {
            self.0.set_position(0);
            self.0.set_length(size);
            self.0.set_message(name.to_owned());
        }
        fn advanced(&self, bytes: u64) {
            self.0.inc(bytes);
        }
    }
    let endpoint =
        std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".to_owned());
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:28} {bar:30} {bytes}/{total_bytes}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = Bar(bar);
    let result = pull(&Hub { endpoint, revision }, name, dir, &progress).await;
    progress.0.finish_and_clear();
    let pulled = result.with_context(|| format!("could not pull {name}"))?;
    println!(
        "pulled {name}: {} files, {} bytes, every digest checked, into {}",
        pulled.files.len(),
        pulled.bytes,
        pulled.dir.display()
    );
    Ok(())
}

#[cfg(not(feature = "local-embeddings"))]
async fn pull_model(_: &str, _: &std::path::Path, _: String) -> anyhow::Result<()> {
    anyhow::bail!(
        "models pull is for local embeddings; this zerodb was built without the `local-embeddings` feature"
    )
}

async fn mcp_stdio(
    settings: &Settings,
    url: &str,
    api_key: String,
    project: Option<uuid::Uuid>,
) -> anyhow::Result<()> {
    let api_key = api_key.trim().to_owned();
    anyhow::ensure!(!api_key.is_empty(), "--api-key (or ZERODB_API_KEY) is empty");
    // A key is sent as X-API-Key; anything else is taken for a user's token.
    let credential = if api_key.starts_with(zerodb_domain::api_keys::PREFIX) {
        zerodb_mcp::Credential::ApiKey(api_key)
    } else {
        zerodb_mcp::Credential::Bearer(api_key)
    };
    let limits = zerodb_mcp::McpLimits {
        max_result_bytes: settings.mcp.max_result_bytes,
        max_file_bytes: settings.mcp.max_file_bytes,
    };
    zerodb_mcp::transport::serve_stdio(url, credential, project, limits)
        .await
        .context("MCP over stdio failed")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    if let Some(Command::Mcp { url, api_key, project }) = cli.command {
        // stdout carries the protocol; logs go to stderr.
        telemetry::init_stderr(&settings.log);
        return mcp_stdio(&settings, &url, api_key, project).await;
    }
    telemetry::init(&settings.log);
    tracing::debug!(?settings, "settings loaded");
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await.context("server failed"),
        Command::Migrate => {
            let db = Database::connect(&settings).await?;
            tracing::info!("database is up to date");
            db.shutdown().await;
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
        Command::Config { command: ConfigCommand::Check } => {
            println!(
                "configuration is valid: database {}, vectors {}, events {}, objects {}, cache {}",
                if settings.database.url.is_some() { "external" } else { "embedded" },
                settings.vectors.backend.as_str(),
                settings.events.backend.as_str(),
                settings.objects.backend.as_str(),
                settings.cache.backend.as_str(),
            );
            Ok(())
        }
        Command::Vectors { command: VectorsCommand::Reindex { project } } => {
            reindex(&settings, project).await
        }
        Command::Mcp { .. } => unreachable!("served above"),
        Command::Models { command: ModelsCommand::Pull { name, dir, revision } } => {
            let dir = dir.unwrap_or_else(|| settings.data_dir.join("models").join(&name));
            pull_model(&name, &dir, revision).await
        }
    }
}
