//! A private PostgreSQL cluster that ZeroDB runs itself, under its own data directory, with
//! the PostgreSQL server binaries installed on the machine.
//!
//! No crate starts a system PostgreSQL from its installed binaries the way we need (existing
//! "embedded postgres" crates download their own server builds at run time, which this
//! product must never do), so this module drives `initdb` and `pg_ctl` directly.
//!
//! PostgreSQL refuses to run as root. When ZeroDB runs as root, the cluster's files are owned
//! by, and its processes run as, the `postgres` system user (or `nobody`).

use sha2::Digest as _;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::Command;

pub const SUPERUSER: &str = "zerodb";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH, via pg_config, or \
         under /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `apt-get install \
         postgresql`; Fedora: `dnf install postgresql-server`; macOS: `brew install \
         postgresql`), set ZERODB_PG_BINDIR to their directory, or set DATABASE_URL to use an \
         existing server."
    )]
    BinariesNotFound,
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("{command} failed: {output}")]
    Command { command: String, output: String },
    #[error(
        "the PostgreSQL server runs as an unprivileged user, which cannot enter {dir} nor \
         /var/lib/zerodb/clusters. Give that user execute permission on every directory above \
         the data directory (e.g. `chmod o+x` on each), choose a data directory it can reach \
         (ZERODB__DATA_DIR), or set DATABASE_URL to use an existing server."
    )]
    Unreachable { dir: PathBuf },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

/// Where the PostgreSQL server programs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgBinaries {
    pub bindir: PathBuf,
}

impl PgBinaries {
    /// Looks in `ZERODB_PG_BINDIR`, on `PATH`, via `pg_config --bindir`, then under
    /// `/usr/lib/postgresql/<version>/bin` (newest first).
    pub fn locate() -> Result<Self, ClusterError> {
        let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
        if let Some(dir) = std::env::var_os("ZERODB_PG_BINDIR").map(PathBuf::from)
            && has_tools(&dir)
        {
            return Ok(Self { bindir: dir });
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                if has_tools(&dir) {
                    return Ok(Self { bindir: dir });
                }
            }
        }
        if let Ok(out) = std::process::Command::new("pg_config").arg("--bindir").output()
            && out.status.success()
        {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if has_tools(&dir) {
                return Ok(Self { bindir: dir });
            }
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                let bin = e.path().join("bin");
                has_tools(&bin).then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bindir)| Self { bindir }).ok_or(ClusterError::BinariesNotFound)
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }
}

/// The unprivileged account the server runs as when we are root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RunAs {
    uid: u32,
    gid: u32,
}

fn run_as() -> Option<RunAs> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    ["postgres", "nobody"].iter().find_map(|name| {
        nix::unistd::User::from_name(name)
            .ok()
            .flatten()
            .map(|u| RunAs { uid: u.uid.as_raw(), gid: u.gid.as_raw() })
    })
}

/// Tuning for a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClusterOptions {
    /// Trade durability for speed (fsync off): only for throwaway test clusters.
    pub ephemeral: bool,
}

/// A running cluster this process started (or found running in its directory).
#[derive(Debug, Clone)]
pub struct LocalCluster {
    bins: PgBinaries,
    pgdata: PathBuf,
    port: u16,
    password: String,
    run_as: Option<RunAs>,
    /// Whether this process started the server. One it found running (another ZeroDB
    /// process's, such as a server's while `zerodb user create` runs) is left running.
    launched: bool,
    options: ClusterOptions,
}

impl LocalCluster {
    /// Initialises `root/postgres` on first use, then starts the server on a free loopback
    /// port (or adopts one already running there) and waits until it accepts connections.
    pub async fn start(root: &Path, options: ClusterOptions) -> Result<Self, ClusterError> {
        let bins = PgBinaries::locate()?;
        let run_as = run_as();
        std::fs::create_dir_all(root).map_err(io(format!("creating {}", root.display())))?;
        let root = root.canonicalize().map_err(io("resolving the data directory"))?;
        if run_as.is_some() {
            // The server's user must be able to reach its directory.
            let perms = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(&root, perms).map_err(io("opening the data directory"))?;
        }
        let pgdata = cluster_dir(&root, run_as)?;
        let password_file = root.join("postgres.password");
        let password = if pgdata.join("PG_VERSION").is_file() {
            std::fs::read_to_string(&password_file)
                .map_err(io(format!("reading {}", password_file.display())))?
                .trim()
                .to_owned()
        } else {
            let password = random_hex(24)?;
            write_private(&password_file, &password)?;
            init(&bins, &pgdata, &password, run_as, options).await?;
            password
        };
        let mut cluster =
            Self { bins, pgdata, port: 0, password, run_as, launched: false, options };
        cluster.port = match cluster.running_port() {
            Some(port) => port,
            None => {
                cluster.launched = true;
                let port = free_port()?;
                cluster.launch(port).await?;
                port
            }
        };
        Ok(cluster)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for `database` as the cluster's superuser.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}", self.password, self.port)
    }

    /// Stops the server, letting open transactions roll back ("fast" shutdown).
    pub async fn stop(&self) -> Result<(), ClusterError> {
        if !self.launched {
            return Ok(());
        }
        let mut cmd = self.command("pg_ctl");
        cmd.arg("stop").arg("-D").arg(&self.pgdata).args(["-m", "fast", "-w"]);
        run(cmd, "pg_ctl stop").await
    }

    /// A blocking, best-effort immediate stop for process-exit hooks.
    pub fn stop_now(&self) {
        if !self.launched {
            return;
        }
        let mut cmd = std::process::Command::new(self.bins.tool("pg_ctl"));
        cmd.arg("stop").arg("-D").arg(&self.pgdata).args(["-m", "immediate", "-w"]);
        cmd.stdout(Stdio::null()).stderr(Stdio::null()).current_dir("/");
        if let Some(RunAs { uid, gid }) = self.run_as {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        let _ = cmd.status();
    }

    fn command(&self, tool: &str) -> Command {
        command(&self.bins, tool, self.run_as)
    }

    /// The port of a server already running on this data directory, from `postmaster.pid`.
    fn running_port(&self) -> Option<u16> {
        let pid_file = std::fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        let mut lines = pid_file.lines();
        let pid: i32 = lines.next()?.trim().parse().ok()?;
        // EPERM still means "alive": only ESRCH says the process is gone.
        let alive = !matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        );
        let port = lines.nth(2)?.trim().parse().ok()?;
        alive.then_some(port)
    }

    /// Whether the cluster's postmaster is alive.
    pub fn is_running(&self) -> bool {
        self.running_port().is_some()
    }

    /// Starts the cluster again on its port (so every connection URL stays valid), after
    /// its postmaster died.
    pub async fn restart(&self) -> Result<(), ClusterError> {
        self.launch(self.port).await
    }

    async fn launch(&self, port: u16) -> Result<(), ClusterError> {
        let options = self.options;
        let mut server_options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' \
             -c max_connections=400"
        );
        if options.ephemeral {
            server_options
                .push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let log = self.pgdata.join("server.log");
        let mut cmd = self.command("pg_ctl");
        cmd.arg("start")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o"])
            .arg(server_options);
        run(cmd, "pg_ctl start").await.map_err(|e| match e {
            ClusterError::Command { command, output } => {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = tail.lines().rev().take(10).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                ClusterError::Command { command, output: format!("{output}\n{}", tail.join("\n")) }
            }
            other => other,
        })?;
        Ok(())
    }
}

async fn init(
    bins: &PgBinaries,
    pgdata: &Path,
    password: &str,
    run_as: Option<RunAs>,
    options: ClusterOptions,
) -> Result<(), ClusterError> {
    if pgdata.exists() {
        // A half-initialised directory from an interrupted first start.
        std::fs::remove_dir_all(pgdata).map_err(io("clearing an incomplete cluster"))?;
    }
    std::fs::create_dir(pgdata).map_err(io(format!("creating {}", pgdata.display())))?;
    std::fs::set_permissions(pgdata, std::fs::Permissions::from_mode(0o700))
        .map_err(io("restricting the cluster directory"))?;
    // Beside the cluster, where its user can read it (the data directory may not be).
    let pwfile = pgdata.with_file_name(".initdb-password");
    write_private(&pwfile, password)?;
    if let Some(RunAs { uid, gid }) = run_as {
        for path in [pgdata, pwfile.as_path()] {
            chown(path, Some(uid), Some(gid)).map_err(io(format!("chown {}", path.display())))?;
        }
    }
    let mut cmd = command(bins, "initdb", run_as);
    cmd.arg("-D")
        .arg(pgdata)
        .args(["-U", SUPERUSER, "-A", "scram-sha-256", "-E", "UTF8", "--no-locale"])
        .arg(format!("--pwfile={}", pwfile.display()));
    if options.ephemeral {
        cmd.arg("--no-sync");
    }
    let result = run(cmd, "initdb").await;
    let _ = std::fs::remove_file(&pwfile);
    result
}

/// Watches a cluster this process runs and starts it again whenever its postmaster dies
/// (killed, crashed, out of memory), with backoff from 1 s to 30 s between attempts. While it
/// is down, requests fail with 503 and readiness fails; `on_restart` runs after each
/// successful restart (to drop pooled connections to the dead server). Ends when the returned
/// handle is aborted.
pub fn supervise(
    cluster: LocalCluster,
    on_restart: impl Fn() + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = std::time::Duration::from_secs(1);
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if cluster.is_running() {
                backoff = std::time::Duration::from_secs(1);
                continue;
            }
            tracing::warn!(
                port = cluster.port,
                "the embedded PostgreSQL cluster exited; restarting it"
            );
            let started = std::time::Instant::now();
            match cluster.restart().await {
                Ok(()) => {
                    on_restart();
                    tracing::info!(
                        seconds = started.elapsed().as_secs_f64(),
                        "the embedded PostgreSQL cluster is running again"
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, retry_in = ?backoff, "could not restart the embedded PostgreSQL cluster");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
                }
            }
        }
    })
}

/// Where the cluster's files live: `root/postgres`, unless the unprivileged user the server
/// runs as cannot reach `root` (a root-owned 0700 directory on the way, such as /root or a
/// private temporary directory). Then the files go under [`RELOCATED_CLUSTERS`], in a
/// directory named after `root`, and `root/postgres` becomes a symbolic link to it, so the
/// data still survives restarts and is found from the data directory.
fn cluster_dir(root: &Path, run_as: Option<RunAs>) -> Result<PathBuf, ClusterError> {
    let link = root.join("postgres");
    if link.exists() {
        return link.canonicalize().map_err(io(format!("resolving {}", link.display())));
    }
    let Some(user) = run_as else {
        return Ok(link);
    };
    if reachable(root, user) {
        return Ok(link);
    }
    let digest = sha2::Sha256::digest(root.as_os_str().as_encoded_bytes());
    let name: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let home = Path::new(RELOCATED_CLUSTERS).join(name);
    for dir in [Path::new(RELOCATED_CLUSTERS), home.as_path()] {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
            .map_err(io(format!("opening {}", dir.display())))?;
    }
    if !reachable(&home, user) {
        return Err(ClusterError::Unreachable { dir: root.to_path_buf() });
    }
    let pgdata = home.join("postgres");
    if link.symlink_metadata().is_ok() {
        // A dangling link from a cluster that was removed: point it anew.
        std::fs::remove_file(&link).map_err(io(format!("replacing {}", link.display())))?;
    }
    std::os::unix::fs::symlink(&pgdata, &link)
        .map_err(io(format!("linking {}", link.display())))?;
    tracing::info!(
        data_dir = %root.display(),
        cluster = %pgdata.display(),
        "the PostgreSQL user cannot enter the data directory; keeping the cluster where it can"
    );
    Ok(pgdata)
}

/// Parent of clusters whose data directory the unprivileged user cannot reach.
pub const RELOCATED_CLUSTERS: &str = "/var/lib/zerodb/clusters";

/// Whether `user` may traverse every directory down to `dir` (owner, group and other
/// execute bits; supplementary groups and ACLs are not consulted, so this errs on "no").
fn reachable(dir: &Path, user: RunAs) -> bool {
    use std::os::unix::fs::MetadataExt;
    dir.ancestors().all(|d| match std::fs::metadata(d) {
        Ok(m) if m.uid() == user.uid => m.mode() & 0o100 != 0,
        Ok(m) if m.gid() == user.gid => m.mode() & 0o010 != 0,
        Ok(m) => m.mode() & 0o001 != 0,
        Err(_) => false,
    })
}

fn command(bins: &PgBinaries, tool: &str, run_as: Option<RunAs>) -> Command {
    let mut cmd = Command::new(bins.tool(tool));
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // The unprivileged user may not be able to enter our working directory.
    cmd.current_dir("/");
    // Children must not die with a Ctrl-C meant for us: we stop the server ourselves.
    cmd.process_group(0);
    if let Some(RunAs { uid, gid }) = run_as {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

async fn run(mut cmd: Command, name: &str) -> Result<(), ClusterError> {
    let out = cmd.output().await.map_err(io(format!("running {name}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ClusterError::Command {
            command: name.to_owned(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        })
    }
}

fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    listener.local_addr().map(|a| a.port()).map_err(io("finding a free port"))
}

fn random_hex(bytes: usize) -> Result<String, ClusterError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ClusterError::Io {
        context: "generating a password".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes a secret readable only by its owner.
pub fn write_private(path: &Path, contents: &str) -> Result<(), ClusterError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io(format!("writing {}", path.display())))?;
    file.write_all(contents.as_bytes()).map_err(io(format!("writing {}", path.display())))
}
