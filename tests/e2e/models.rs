//! `zerodb models pull` against a local server that answers the Hugging Face hub's API
//! from a model folder (never the real hub): every file lands with its digest checked, the
//! folder then serves as `embeddings.local.model_dir`, and a file whose bytes do not match
//! its digest is refused and not kept.

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const NAME: &str = "sentence-transformers/all-MiniLM-L6-v2";

fn model_source() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/models/all-MiniLM-L6-v2");
    assert!(dir.is_dir(), "{} is missing: scripts/test unpacks it", dir.display());
    dir
}

struct FakeHub {
    dir: PathBuf,
    /// A file served with one byte changed.
    tampered: Option<&'static str>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn files(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            files(&entry.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

async fn info(hub: web::Data<FakeHub>) -> HttpResponse {
    let mut names = Vec::new();
    files(&hub.dir, "", &mut names);
    let mut siblings: Vec<Value> = names
        .iter()
        .map(|name| {
            let bytes = std::fs::read(hub.dir.join(name)).unwrap();
            if name.ends_with(".safetensors") {
                json!({"rfilename": name, "size": bytes.len(),
                       "lfs": {"sha256": hex(&Sha256::digest(&bytes)), "size": bytes.len()}})
            } else {
                let mut sha1 = Sha1::new();
                sha1.update(format!("blob {}\0", bytes.len()).as_bytes());
                sha1.update(&bytes);
                json!({"rfilename": name, "size": bytes.len(), "blobId": hex(&sha1.finalize())})
            }
        })
        .collect();
    // Files of other formats are listed too; a pull must not fetch them.
    siblings.push(json!({"rfilename": "onnx/model.onnx", "size": 1, "blobId": "00"}));
    HttpResponse::Ok().json(json!({"id": NAME, "siblings": siblings}))
}

async fn resolve(
    hub: web::Data<FakeHub>,
    path: web::Path<(String, String, String, String)>,
) -> HttpResponse {
    let (_, _, _, file) = path.into_inner();
    let Ok(mut bytes) = std::fs::read(hub.dir.join(&file)) else {
        return HttpResponse::NotFound().finish();
    };
    if hub.tampered == Some(file.as_str()) {
        bytes[0] ^= 1;
    }
    HttpResponse::Ok().body(bytes)
}

async fn start_hub(tampered: Option<&'static str>) -> (String, actix_web::dev::ServerHandle) {
    let hub = web::Data::new(FakeHub { dir: model_source(), tampered });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(hub.clone())
            .route("/api/models/{owner}/{name}/revision/{revision}", web::get().to(info))
            .route("/{owner}/{name}/resolve/{revision}/{file:.*}", web::get().to(resolve))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (address, handle)
}

async fn pull(endpoint: &str, dir: &Path) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_zerodb"))
        .args(["models", "pull", NAME, "--dir"])
        .arg(dir)
        .env("HF_ENDPOINT", endpoint)
        .env("ZERODB__LOG__LEVEL", "warn")
        .output()
        .await
        .expect("run zerodb models pull")
}

#[tokio::test]
async fn a_pulled_model_is_the_hubs_byte_for_byte_and_serves_embeddings() {
    let (endpoint, hub) = start_hub(None).await;
    let target = tempfile::tempdir().unwrap();
    let dir = target.path().join("minilm");
    let output = pull(&endpoint, &dir).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("every digest checked"), "{stdout}");
    for file in [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "modules.json",
        "1_Pooling/config.json",
    ] {
        let pulled = std::fs::read(dir.join(file)).unwrap();
        assert_eq!(pulled, std::fs::read(model_source().join(file)).unwrap(), "{file}");
    }
    assert!(!dir.join("README.md").exists(), "only the files a model needs");
    assert!(!dir.join("onnx").exists());
    hub.stop(true).await;

    let app = crate::helpers::spawn_app_with(|s| {
        s.embeddings.provider = zerodb_server::config::EmbeddingProviderKind::Local;
        s.embeddings.local.model_dir = Some(dir.clone());
    })
    .await;
    let owner = app.user("pulled@example.com").await;
    let project = app.enabled_project(&owner, "pulled").await;
    let embedded = owner.generate_embeddings(project, &["hello world"]).await.expect("embed");
    assert_eq!(embedded.dimensions, 384);
}

#[tokio::test]
async fn a_file_that_does_not_match_its_digest_is_refused_and_not_kept() {
    let (endpoint, hub) = start_hub(Some("tokenizer.json")).await;
    let target = tempfile::tempdir().unwrap();
    let dir = target.path().join("minilm");
    let output = pull(&endpoint, &dir).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("tokenizer.json does not match the hub's digest"), "{stderr}");
    assert!(!dir.join("tokenizer.json").exists());
    assert!(!dir.join("tokenizer.part").exists(), "no partial file is left");
    hub.stop(true).await;
}
