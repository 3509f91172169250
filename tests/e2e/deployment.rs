//! The deployment files: deploy/compose.yaml against the Compose specification's schema,
//! and every ZeroDB setting it passes against the keys the server reads.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs scripts/check_compose.py on a compose file; answers (success, stdout, stderr).
fn check(compose: &std::path::Path) -> (bool, String, String) {
    let python = root().join("target/schemathesis-venv/bin/python");
    assert!(python.exists(), "run scripts/test first: it installs {}", python.display());
    let output = Command::new(python)
        .arg(root().join("scripts/check_compose.py"))
        .arg(compose)
        .arg(root().join("deploy/compose-spec.json"))
        .output()
        .expect("run check_compose.py");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `zerodb config check` with these ZERODB__ settings.
fn config_check(settings: &[(String, String)]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zerodb"));
    command.args(["config", "check"]).env("ZERODB__LOG__LEVEL", "warn");
    // Only what the file sets (and the log level) reaches the check.
    for (key, _) in
        std::env::vars().filter(|(k, _)| k.starts_with("ZERODB__") || k == "DATABASE_URL")
    {
        command.env_remove(key);
    }
    command.envs(settings.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let output = command.output().expect("run zerodb config check");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn the_compose_file_follows_the_compose_specification() {
    let (valid, _, errors) = check(&root().join("deploy/compose.yaml"));
    assert!(valid, "deploy/compose.yaml: {errors}");
    // The check itself catches mistakes.
    let broken = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        broken.path(),
        "services:\n  zerodb:\n    image: 3\n    restart_policy: always\n",
    )
    .unwrap();
    let (valid, _, errors) = check(broken.path());
    assert!(!valid);
    assert!(errors.contains("restart_policy"), "{errors}");
}

#[test]
fn the_compose_file_sets_only_settings_the_server_reads() {
    let (valid, stdout, errors) = check(&root().join("deploy/compose.yaml"));
    assert!(valid, "{errors}");
    let settings: Vec<(String, String)> = stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let keys: Vec<&str> = settings.iter().map(|(k, _)| k.as_str()).collect();
    for expected in
        ["ZERODB__VECTORS__BACKEND", "ZERODB__EVENTS__KAFKA__BROKERS", "ZERODB__CACHE__REDIS__URL"]
    {
        assert!(keys.contains(&expected), "{expected} missing from {keys:?}");
    }
    let (ok, text) = config_check(&settings);
    assert!(ok, "the server refuses the compose file's settings: {text}");
    assert!(text.contains("vectors qdrant, events kafka, objects s3, cache redis"), "{text}");
    // A key the server does not know is refused, so a typo in the file would fail here.
    let mut typo = settings.clone();
    typo.push(("ZERODB__VECTORS__QDRANT__URLS".into(), "http://qdrant:6333".into()));
    let (ok, text) = config_check(&typo);
    assert!(!ok, "an unknown key was accepted: {text}");
}
