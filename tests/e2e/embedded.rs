//! The zero-configuration default: ZeroDB runs its own PostgreSQL under its data directory,
//! and data survives a restart.

use serde_json::json;
use zerodb_client::{Client, ListOptions, RowQuery};
use zerodb_server::config::Settings;
use zerodb_server::startup::{Application, Database, jwt_secret};

async fn start(settings: &Settings) -> (Database, Client) {
    let db = Database::connect(settings).await.expect("embedded database");
    let secret = jwt_secret(settings).expect("secret");
    let app = Application::build(settings, &db, &secret, false).expect("app");
    let client = Client::new(&format!("http://127.0.0.1:{}", app.port()));
    tokio::spawn(app.run_until_stopped());
    (db, client)
}

/// The embedded default under `dir`, on port 0 with one worker.
fn embedded_settings(dir: &std::path::Path) -> Settings {
    let mut settings = Settings::defaults().unwrap();
    settings.data_dir = dir.join("data");
    settings.server.port = 0;
    settings.server.workers = Some(1);
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_cluster_keeps_data_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let settings = embedded_settings(dir.path());

    let (db, client) = start(&settings).await;
    client.register("ada@example.com", "correct horse battery").await.unwrap();
    let token =
        client.login("ada@example.com", "correct horse battery").await.unwrap().access_token;
    let ada = client.with_token(&token);
    let project = ada.create_project("kept", None).await.unwrap();
    ada.enable_database(project.project_id).await.unwrap();
    ada.create_table(project.project_id, "t", &json!({"columns": {"a": "string"}})).await.unwrap();
    ada.insert_rows(project.project_id, "t", &[json!({"a": "survives"})]).await.unwrap();
    db.pool.close();
    db.shutdown().await;

    let (db, client) = start(&settings).await;
    // The generated signing secret was kept: the old token still works.
    let ada = client.with_token(&token);
    let projects = ada.list_projects(&ListOptions::default()).await.unwrap();
    assert_eq!(projects.items[0].project_name, "kept");
    let rows = ada.query_rows(project.project_id, "t", &RowQuery::default()).await.unwrap();
    assert_eq!(rows.items[0].data["a"], "survives");
    db.pool.close();
    db.shutdown().await;
}

/// Root may start the embedded default from a directory the PostgreSQL user cannot enter
/// (a 0700 home or private temporary directory): the cluster's files go where that user can
/// reach them, and data still survives a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_runs_the_embedded_default_from_a_private_directory() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: only root hands the cluster to an unprivileged user");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let private = tempfile::tempdir().unwrap();
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let serve = |port: u16| {
        std::process::Command::new(env!("CARGO_BIN_EXE_zerodb"))
            .arg("serve")
            .current_dir(private.path())
            .env_remove("DATABASE_URL")
            .env("ZERODB__SERVER__PORT", port.to_string())
            .env("ZERODB__LOG__LEVEL", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn zerodb serve")
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = Client::new(&format!("http://127.0.0.1:{port}"));
    let mut server = serve(port);
    crate::helpers::wait_ready(&client, &mut server).await;
    client.register("ada@example.com", "correct horse battery").await.unwrap();
    let token =
        client.login("ada@example.com", "correct horse battery").await.unwrap().access_token;
    let project = client.with_token(&token).create_project("kept", None).await.unwrap();
    stop(&mut server);

    let mut server = serve(port);
    crate::helpers::wait_ready(&client, &mut server).await;
    let projects = client.with_token(&token).list_projects(&ListOptions::default()).await.unwrap();
    assert_eq!(projects.items[0].project_id, project.project_id);
    stop(&mut server);

    // The cluster was kept outside the private directory; remove it with the test.
    let link = private.path().join("zerodb-data").join("pg").join("postgres");
    let target = std::fs::read_link(&link).expect("the cluster is linked from the data dir");
    assert!(target.starts_with("/var/lib/zerodb/clusters"), "{}", target.display());
    if let Some(home) = target.parent() {
        std::fs::remove_dir_all(home).unwrap();
    }
}

/// SIGTERM, as an orchestrator stops it: a clean exit, and every background loop ended
/// before the cluster stopped (no listener warns that its connection was lost).
fn stop(server: &mut std::process::Child) {
    use std::io::Read;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(server.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = server.wait().unwrap();
    let mut log = String::new();
    if let Some(mut stderr) = server.stderr.take() {
        stderr.read_to_string(&mut log).unwrap();
    }
    assert!(status.success(), "zerodb serve exited with {status}: {log}");
    assert!(!log.contains("reconnecting") && !log.contains("cannot listen"), "{log}");
}

/// When the embedded cluster's postmaster is killed, the server restarts it by itself:
/// requests answer 503 (and /ready 503) meanwhile, then succeed again within 10 s, with every
/// write acknowledged before the kill still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_embedded_cluster_is_restarted() {
    use zerodb_client::HttpMethod as M;
    let dir = tempfile::tempdir().unwrap();
    let settings = embedded_settings(dir.path());
    if std::env::var_os("TEST_LOG").is_some() {
        zerodb_server::telemetry::init(&settings.log);
    }
    let mut db = Database::connect(&settings).await.expect("embedded database");
    db.supervise();
    let secret = jwt_secret(&settings).expect("secret");
    let app = Application::build(&settings, &db, &secret, false).expect("app");
    let client = Client::new(&format!("http://127.0.0.1:{}", app.port()));
    tokio::spawn(app.run_until_stopped());

    client.register("ada@example.com", "correct horse battery").await.unwrap();
    let token =
        client.login("ada@example.com", "correct horse battery").await.unwrap().access_token;
    let ada = client.with_token(&token);
    let project = ada.create_project("kept", None).await.unwrap();
    ada.enable_database(project.project_id).await.unwrap();
    ada.create_table(project.project_id, "t", &json!({"columns": {"a": "string"}})).await.unwrap();
    ada.insert_rows(project.project_id, "t", &[json!({"a": "acknowledged"})]).await.unwrap();

    let pid_file = settings.data_dir.join("pg").join("postgres").join("postmaster.pid");
    let pid: i32 =
        std::fs::read_to_string(&pid_file).unwrap().lines().next().unwrap().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    let killed = std::time::Instant::now();

    let path = format!("/api/v1/projects/{}/database/tables/t/rows", project.project_id);
    // Until the server notices, a pooled connection may still reach an orphaned backend;
    // from the first failure on, every answer is 503 until the restart.
    let mut down = false;
    let rows = loop {
        let r = ada.raw(M::GET, &path, None).await.expect("transport");
        let ready = client.ready().await.is_ok();
        match r.status {
            200 if down && ready => break r.body,
            200 => {}
            503 => down = true,
            other => panic!("answered {other} while the database was down: {}", r.body),
        }
        down |= !ready;
        assert!(killed.elapsed() < std::time::Duration::from_secs(10), "not back within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    println!("service back {:?} after the postmaster was killed", killed.elapsed());
    assert_eq!(rows["items"][0]["data"]["a"], "acknowledged");
    assert!(client.ready().await.is_ok());
    // And it takes writes again.
    ada.insert_rows(project.project_id, "t", &[json!({"a": "after"})]).await.unwrap();
    db.pool.close();
    db.shutdown().await;
}
