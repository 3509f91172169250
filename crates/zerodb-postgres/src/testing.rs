//! Test support: a throwaway PostgreSQL cluster per test process (or the server named by
//! `ZERODB_TEST_DATABASE_URL`), a template database migrated once, and a fresh database per
//! test copied from it and dropped when the test ends (`ZERODB_KEEP_TEST_DB=1` keeps it).

use crate::embedded::{ClusterOptions, LocalCluster};
use crate::pool::{MIGRATIONS, PgPool, PoolOptions, build_pool, run_migrations};
use diesel::migration::MigrationSource;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::sync::OnceLock;
use tokio::sync::OnceCell;

struct Server {
    /// Connection URL with `{db}` where the database name goes.
    url_template: String,
    template_db: String,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();
static OWN_CLUSTER: OnceLock<(LocalCluster, tempfile::TempDir)> = OnceLock::new();

impl Server {
    fn url(&self, db: &str) -> String {
        self.url_template.replace("{db}", db)
    }
}

/// Replaces the database name of a PostgreSQL URL with the `{db}` placeholder.
fn url_template(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{{db}}?{q}"),
        None => format!("{host_part}/{{db}}"),
    }
}

/// Stops the process's own cluster when the test binary exits; the harness has no teardown hook.
extern "C" fn stop_own_cluster() {
    if let Some((cluster, dir)) = OWN_CLUSTER.get() {
        cluster.stop_now();
        let _ = std::fs::remove_dir_all(dir.path());
    }
}

#[allow(unsafe_code)]
fn register_exit_hook() {
    // SAFETY: `atexit` only records a plain `extern "C"` function pointer.
    unsafe {
        libc::atexit(stop_own_cluster);
    }
}

async fn admin_exec(url: &str, sql: &str) -> Result<(), String> {
    let mut conn = AsyncPgConnection::establish(url).await.map_err(|e| e.to_string())?;
    diesel::sql_query(sql).execute(&mut conn).await.map(|_| ()).map_err(|e| e.to_string())
}

async fn start_server() -> Result<Server, String> {
    let latest = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|m| m.name().version().to_string())
        .max()
        .unwrap_or_default();
    let template_db = format!(
        "zerodb_tpl_{}",
        latest.chars().filter(char::is_ascii_alphanumeric).collect::<String>()
    );
    let url_template = match std::env::var("ZERODB_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url_template(&url),
        _ => {
            let dir = tempfile::Builder::new()
                .prefix("zerodb-test-pg-")
                .tempdir()
                .map_err(|e| e.to_string())?;
            let cluster = LocalCluster::start(dir.path(), ClusterOptions { ephemeral: true })
                .await
                .map_err(|e| e.to_string())?;
            let template = url_template(&cluster.url("postgres"));
            if OWN_CLUSTER.set((cluster, dir)).is_ok() {
                register_exit_hook();
            }
            template
        }
    };
    let server = Server { url_template, template_db };
    prepare_template(&server).await?;
    Ok(server)
}

/// Creates and migrates the template once per migration set; serialised across processes by
/// an advisory lock held on the admin database.
async fn prepare_template(server: &Server) -> Result<(), String> {
    let admin_url = server.url("postgres");
    let mut admin = AsyncPgConnection::establish(&admin_url).await.map_err(|e| e.to_string())?;
    let lock_key: i64 = 0x7a64_6274_706c;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(lock_key)
        .execute(&mut admin)
        .await
        .map_err(|e| e.to_string())?;
    let result = async {
        #[derive(diesel::QueryableByName)]
        struct Exists {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            exists: bool,
        }
        let found: Exists = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists",
        )
        .bind::<diesel::sql_types::Text, _>(&server.template_db)
        .get_result(&mut admin)
        .await
        .map_err(|e| e.to_string())?;
        if !found.exists {
            admin_exec(&admin_url, &format!("CREATE DATABASE \"{}\"", server.template_db)).await?;
            run_migrations(&server.url(&server.template_db)).await.map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    }
    .await;
    let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(lock_key)
        .execute(&mut admin)
        .await;
    result
}

/// A migrated database of its own for one test.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl TestDatabase {
    /// Creates a fresh database from the migrated template. Panics with the cause when no
    /// PostgreSQL can be started: a test cannot run without one.
    pub async fn new() -> Self {
        match Self::try_new().await {
            Ok(db) => db,
            Err(e) => panic!("test database unavailable: {e}"),
        }
    }

    async fn try_new() -> Result<Self, String> {
        let server = SERVER.get_or_try_init(start_server).await?;
        let name = format!("zerodb_test_{}", uuid::Uuid::new_v4().simple());
        let admin_url = server.url("postgres");
        let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{}\"", server.template_db);
        // Another process may be migrating the template this instant; it is brief.
        let mut attempt = 0;
        loop {
            match admin_exec(&admin_url, &sql).await {
                Ok(()) => break,
                Err(e) if attempt < 50 && e.contains("being accessed by other users") => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Self { url: server.url(&name), name, admin_url })
    }

    /// An empty database, not migrated (for loading a dump of an earlier version).
    pub async fn empty() -> Self {
        let server = match SERVER.get_or_try_init(start_server).await {
            Ok(s) => s,
            Err(e) => panic!("test database unavailable: {e}"),
        };
        let name = format!("zerodb_test_{}", uuid::Uuid::new_v4().simple());
        let admin_url = server.url("postgres");
        if let Err(e) =
            admin_exec(&admin_url, &format!("CREATE DATABASE \"{name}\" TEMPLATE template0")).await
        {
            panic!("create {name}: {e}");
        }
        Self { url: server.url(&name), name, admin_url }
    }

    /// Runs SQL statements (a plain dump made with `--inserts`, say) in one round trip.
    pub async fn batch(&self, sql: &str) {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = match AsyncPgConnection::establish(&self.url).await {
            Ok(c) => c,
            Err(e) => panic!("connect: {e}"),
        };
        if let Err(e) = conn.batch_execute(sql).await {
            panic!("batch: {e}");
        }
    }

    /// Runs a query answering one `bigint` column named `n`, for assertions on raw storage.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = match AsyncPgConnection::establish(&self.url).await {
            Ok(c) => c,
            Err(e) => panic!("connect: {e}"),
        };
        match diesel::sql_query(sql).get_result::<N>(&mut conn).await {
            Ok(row) => row.n,
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    /// Runs a statement behind the service's back, for tests of what storage may hold.
    pub async fn execute(&self, sql: &str) -> usize {
        let mut conn = match AsyncPgConnection::establish(&self.url).await {
            Ok(c) => c,
            Err(e) => panic!("connect: {e}"),
        };
        match diesel::sql_query(sql).execute(&mut conn).await {
            Ok(n) => n,
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    /// Takes an ACCESS EXCLUSIVE lock on `table` in a transaction of its own and holds it
    /// until the guard drops: every statement touching the table waits meanwhile.
    pub async fn hold_lock(&self, table: &str) -> LockGuard {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = match AsyncPgConnection::establish(&self.url).await {
            Ok(c) => c,
            Err(e) => panic!("connect: {e}"),
        };
        let sql = format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;");
        if let Err(e) = conn.batch_execute(&sql).await {
            panic!("{sql}: {e}");
        }
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = released.await;
            let _ = conn.batch_execute("ROLLBACK").await;
        });
        LockGuard { _release: release }
    }

    /// Projects with these names, owned by one new user, for adapter tests.
    pub async fn projects(&self, names: &[&str]) -> Vec<zerodb_domain::ProjectId> {
        use crate::{PgProjectRepository, PgUserRepository};
        use zerodb_domain::principal::Role;
        use zerodb_domain::projects::{NewProject, ProjectName, ProjectRepository};
        use zerodb_domain::users::{Email, NewUser, UserRepository};
        let email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
        let user = NewUser {
            id: zerodb_domain::UserId::new(),
            email: Email::new(&email).unwrap_or_else(|e| panic!("email: {e:?}")),
            password_hash: "hash".into(),
            role: Role::User,
        };
        let owner = match PgUserRepository::new(self.pool()).create(user).await {
            Ok(user) => user.id,
            Err(e) => panic!("user: {e}"),
        };
        let repository = PgProjectRepository::new(self.pool());
        let mut ids = Vec::new();
        for name in names {
            let new = NewProject {
                id: zerodb_domain::ProjectId::new(),
                owner_id: owner,
                name: ProjectName::new(name).unwrap_or_else(|e| panic!("name: {e:?}")),
                description: None,
            };
            match repository.create(new).await {
                Ok(project) => ids.push(project.id),
                Err(e) => panic!("project: {e}"),
            }
        }
        ids
    }

    /// A small pool on this database.
    pub fn pool(&self) -> PgPool {
        let options = PoolOptions { max_size: 4, ..PoolOptions::default() };
        match build_pool(&self.url, options) {
            Ok(pool) => pool,
            Err(e) => panic!("pool: {e}"),
        }
    }
}

/// Releases a lock taken by [`TestDatabase::hold_lock`] when dropped.
pub struct LockGuard {
    _release: tokio::sync::oneshot::Sender<()>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::env::var_os("ZERODB_KEEP_TEST_DB").is_some() {
            eprintln!("keeping test database {}", self.name);
            return;
        }
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread of its own.
        let handle = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(admin_exec(&admin_url, &sql)).ok()
        });
        // Waiting here would stall a single-threaded test runtime while its server still has
        // connections half-way through authentication: PostgreSQL keeps those until its
        // authentication_timeout (60 s), DROP DATABASE waits for them, and every other test's
        // new connections queue behind that DROP. The own cluster goes with the process, so
        // its databases are dropped in the background; a shared server's are waited for.
        if OWN_CLUSTER.get().is_none() {
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::url_template;

    #[test]
    fn templates_urls() {
        assert_eq!(url_template("postgres://u:p@h:5/db"), "postgres://u:p@h:5/{db}");
        assert_eq!(
            url_template("postgres://u:p@h:5/db?sslmode=disable"),
            "postgres://u:p@h:5/{db}?sslmode=disable"
        );
        assert_eq!(url_template("postgres://h"), "postgres://h/{db}");
    }
}
