//! Files through the HTTP API: byte-exact round trips on the local and S3 stores, ranges,
//! checksums, size limits, key safety, signed links, access, and what failures leave.

use crate::helpers::{TestApp, assert_guarded, call, spawn_app, spawn_app_with};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::time::Duration;
use uuid::Uuid;
use zerodb_client::{Client, FileQuery, HttpMethod, RegisterFile, UploadOptions};
use zerodb_testkit::pattern;

const MB: usize = 1024 * 1024;

fn sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Every regular file under the object directory (staging files included).
fn stored_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { walk(&path, out) } else { out.push(path) }
        }
    }
    let mut out = Vec::new();
    walk(&app.data_dir.path().join("objects"), &mut out);
    out
}

async fn round_trips(app: &TestApp, ada: &Client, pid: Uuid) {
    for (i, len) in [0, 1, 5 * MB, 100 * MB].into_iter().enumerate() {
        let data = pattern(len, i as u64 + 1);
        let name = format!("blob-{len}.bin");
        // Streamed from memory in 1 MiB chunks, as large uploads are sent.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            data.chunks(MB).map(|c| Ok(c.to_vec())).collect();
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        let info = ada
            .upload_file(pid, &name, "application/x-test", body, &UploadOptions::default())
            .await
            .unwrap();
        assert_eq!(info.size_bytes, Some(len as u64));
        assert_eq!(info.sha256.as_deref(), Some(sha256(&data).as_str()), "{len} bytes");
        assert_eq!((info.status.as_str(), info.file_key.as_str()), ("stored", name.as_str()));
        let response = ada.file_content_response(pid, info.file_id, None).await.unwrap();
        assert_eq!(response.status(), 200);
        let header =
            |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("content-type").as_deref(), Some("application/x-test"));
        assert_eq!(header("content-length"), Some(len.to_string()));
        assert_eq!(header("etag"), Some(format!("\"{}\"", sha256(&data))));
        let mut back = Vec::with_capacity(len);
        let mut stream = response.bytes_stream();
        while let Some(part) = futures_util::StreamExt::next(&mut stream).await {
            back.extend_from_slice(&part.unwrap());
        }
        assert!(back == data, "{len} bytes came back different");
    }
    // Multipart, with key and metadata parts.
    let data = pattern(3 * MB + 5, 9);
    let info = ada
        .upload_file_multipart(
            pid,
            "photo.jpg",
            data.clone(),
            Some("albums/2026/photo.jpg"),
            Some(&json!({"album": "x"})),
        )
        .await
        .unwrap();
    assert_eq!(info.file_key, "albums/2026/photo.jpg");
    assert_eq!(info.file_metadata, json!({"album": "x"}));
    assert_eq!(ada.download_file(pid, info.file_id, None).await.unwrap().bytes[..], data[..]);
    let listed = ada.list_files(pid, &FileQuery::default()).await.unwrap();
    assert_eq!(listed.items.len(), 5);
    let _ = app;
}

// The client and the server move 100 MB each way: give them a thread each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_are_byte_exact_on_the_local_store() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    round_trips(&app, &ada, pid).await;
    assert!(!stored_files(&app).is_empty(), "bytes live under data_dir/objects");

    // The seed's metadata-only registration still works and is marked as such.
    let registered = ada
        .register_file(
            pid,
            &RegisterFile {
                file_name: "legacy.pdf".into(),
                size_bytes: Some(10),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((registered.status.as_str(), registered.sha256), ("registered", None));
    let err = ada.download_file(pid, registered.file_id, None).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[cfg(feature = "s3")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_are_byte_exact_on_s3() {
    use zerodb_server::config::ObjectBackend;
    let moto = zerodb_objects::testing::MotoServer::shared();
    let bucket = moto.bucket(&format!("e2e-{}", Uuid::new_v4().simple()));
    let endpoint = moto.endpoint.clone();
    let app = spawn_app_with(move |s| {
        s.objects.backend = ObjectBackend::S3;
        s.objects.s3.bucket = Some(bucket);
        s.objects.s3.endpoint = Some(endpoint);
        s.objects.s3.access_key_id = Some(zerodb_server::config::Secret::new("testing"));
        s.objects.s3.secret_access_key = Some(zerodb_server::config::Secret::new("testing"));
        s.objects.s3.allow_http = true;
    })
    .await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    round_trips(&app, &ada, pid).await;
    assert!(stored_files(&app).is_empty(), "nothing on the local disk");

    let data = pattern(1000, 3);
    let info = ada
        .upload_file(pid, "r.bin", "text/plain", data.clone(), &UploadOptions::default())
        .await
        .unwrap();
    let part = ada.download_file(pid, info.file_id, Some("bytes=10-19")).await.unwrap();
    assert_eq!((part.status, part.bytes.to_vec()), (206, data[10..20].to_vec()));
    // S3 signs its own links; they work with no credentials at all.
    let link = ada.file_url(pid, info.file_id, Some(60)).await.unwrap();
    assert!(link.url.contains("X-Amz-Signature"), "{}", link.url);
    assert_eq!(app.client.fetch_url(&link.url).await.unwrap().bytes[..], data[..]);
    ada.delete_file(pid, info.file_id).await.unwrap();
    assert_eq!(app.client.fetch_url(&link.url).await.unwrap_err().status(), Some(404));
}

#[tokio::test]
async fn ranges_checksums_and_size_limits() {
    let app = spawn_app_with(|s| s.objects.max_file_bytes = 2 * MB as u64).await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let data = pattern(1000, 5);
    let info = ada
        .upload_file(pid, "r.bin", "text/plain", data.clone(), &UploadOptions::default())
        .await
        .unwrap();
    for (range, expected, content_range) in [
        ("bytes=0-9", &data[0..10], "bytes 0-9/1000"),
        ("bytes=990-", &data[990..], "bytes 990-999/1000"),
        ("bytes=-5", &data[995..], "bytes 995-999/1000"),
        ("bytes=500-5000", &data[500..], "bytes 500-999/1000"),
    ] {
        let part = ada.download_file(pid, info.file_id, Some(range)).await.unwrap();
        assert_eq!(part.status, 206, "{range}");
        assert_eq!(part.bytes[..], expected[..], "{range}");
        assert_eq!(part.content_range.as_deref(), Some(content_range), "{range}");
    }
    // Several ranges or a malformed header: the whole content, as HTTP allows.
    for range in ["bytes=0-1,5-6", "pages=1-2"] {
        let whole = ada.download_file(pid, info.file_id, Some(range)).await.unwrap();
        assert_eq!((whole.status, whole.bytes.len()), (200, 1000), "{range}");
    }
    let err = ada.download_file(pid, info.file_id, Some("bytes=1000-")).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(416), Some("range_not_satisfiable")));

    // A checksum that does not match keeps nothing; a matching one is accepted.
    let other = pattern(4096, 6);
    let wrong = UploadOptions { checksum: Some(sha256(b"something else")), ..Default::default() };
    let err = ada.upload_file(pid, "c.bin", "text/plain", other.clone(), &wrong).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(422), Some("checksum_mismatch")));
    let right =
        UploadOptions { checksum: Some(sha256(&other).to_uppercase()), ..Default::default() };
    ada.upload_file(pid, "c.bin", "text/plain", other, &right).await.unwrap();
    let bad = UploadOptions { checksum: Some("xyz".into()), ..Default::default() };
    let err = ada.upload_file(pid, "d.bin", "text/plain", vec![1], &bad).await.unwrap_err();
    assert_eq!(err.code(), Some("validation_failed"));

    // Too large: refused from Content-Length, and while streaming when none is sent.
    let big = pattern(2 * MB + 1, 7);
    let err = ada
        .upload_file(pid, "big.bin", "text/plain", big.clone(), &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(413), Some("payload_too_large")));
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let err = ada
        .upload_file(pid, "big.bin", "text/plain", streamed, &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(413), Some("payload_too_large")));

    let keys: Vec<String> = ada
        .list_files(pid, &FileQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|f| f.file_key)
        .collect();
    assert_eq!(keys, ["c.bin", "r.bin"], "nothing kept from refused uploads");
    assert_eq!(stored_files(&app).len(), 2, "{:?}", stored_files(&app));
}

#[tokio::test]
async fn keys_stay_inside_the_project_and_list_by_prefix() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let upload = |key: &str| {
        let options = UploadOptions { file_key: Some(key.to_owned()), ..Default::default() };
        let ada = ada.clone();
        async move { ada.upload_file(pid, "f.txt", "text/plain", b"x".to_vec(), &options).await }
    };
    for key in
        ["../../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "nul\0x", "back\\slash", "a/./b"]
    {
        let err = upload(key).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (Some(422), Some("validation_failed")), "{key:?}");
    }
    for name in ["../evil", "a/b", "..", "tab\tname"] {
        let err = ada
            .upload_file(pid, name, "text/plain", b"x".to_vec(), &UploadOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(422), "{name:?}");
    }
    let err = ada
        .upload_file(pid, "f.txt", "not a media type", b"x".to_vec(), &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert!(stored_files(&app).is_empty());

    for key in ["docs/a.txt", "docs/b.txt", "docs/sub/c.txt", "docsx.txt", "img/d.png"] {
        upload(key).await.unwrap();
    }
    let err = upload("docs/a.txt").await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(409), Some("file_key_taken")));
    let prefix = |p: &str, limit: u32, cursor: Option<String>| FileQuery {
        prefix: Some(p.to_owned()),
        limit: Some(limit),
        cursor,
    };
    let first = ada.list_files(pid, &prefix("docs/", 2, None)).await.unwrap();
    let second = ada.list_files(pid, &prefix("docs/", 2, first.next_cursor.clone())).await.unwrap();
    let keys: Vec<String> =
        first.items.iter().chain(&second.items).map(|f| f.file_key.clone()).collect();
    assert_eq!(keys, ["docs/a.txt", "docs/b.txt", "docs/sub/c.txt"]);
    assert!(second.next_cursor.is_none());
    // Stored object names come from ids, never from keys.
    for path in stored_files(&app) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(Uuid::parse_str(&name).is_ok(), "{}", path.display());
        assert!(path.starts_with(
            app.data_dir.path().join("objects").join("projects").join(pid.to_string())
        ));
    }
}

#[tokio::test]
async fn signed_links_need_no_credentials_and_expire() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let data = pattern(70_000, 11);
    let info = ada
        .upload_file(pid, "s.bin", "image/png", data.clone(), &UploadOptions::default())
        .await
        .unwrap();
    let link = ada.file_url(pid, info.file_id, None).await.unwrap();
    assert!(link.expires_at > chrono::Utc::now() + chrono::Duration::minutes(59));
    let anonymous = app.client.clone();
    let fetched = anonymous.fetch_url(&link.url).await.unwrap();
    assert_eq!((fetched.status, fetched.content_type.as_deref()), (200, Some("image/png")));
    assert_eq!(fetched.bytes[..], data[..]);

    let tampered = link.url.replace(&pid.to_string(), &Uuid::new_v4().to_string());
    assert_ne!(tampered, link.url, "the link names its project");
    let err = anonymous.fetch_url(&tampered).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some("forbidden")));
    // The signature's last digit changed (to one it is not: a fixed "0" would leave one
    // link in sixteen unchanged).
    let last = if link.url.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &link.url[..link.url.len() - 1]);
    assert_eq!(anonymous.fetch_url(&forged).await.unwrap_err().status(), Some(403));
    let later = link.url.replace("expires=", "expires=9");
    assert_eq!(anonymous.fetch_url(&later).await.unwrap_err().status(), Some(403));

    let short = ada.file_url(pid, info.file_id, Some(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let err = anonymous.fetch_url(&short.url).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some("forbidden")));
    for body in
        [json!({"expires_in": 0}), json!({"expires_in": 604_801}), json!({"expires_in": "soon"})]
    {
        let r = call(
            &ada,
            HttpMethod::POST,
            &format!("/api/v1/projects/{pid}/database/files/{}/url", info.file_id),
            Some(body),
        )
        .await;
        assert_eq!(r.status, 422, "{}", r.body);
    }
    ada.delete_file(pid, info.file_id).await.unwrap();
    assert_eq!(anonymous.fetch_url(&link.url).await.unwrap_err().status(), Some(404));
    assert!(stored_files(&app).is_empty(), "delete removes the bytes");
}

#[tokio::test]
async fn strangers_and_scopes_are_refused_everywhere() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let info = ada
        .upload_file(pid, "a.txt", "text/plain", b"secret".to_vec(), &UploadOptions::default())
        .await
        .unwrap();
    let vectors_key = ada.create_api_key(pid, "v", &["vectors:read"]).await.unwrap();
    let reader_key = ada.create_api_key(pid, "r", &["files:read"]).await.unwrap();
    let no_scope = app.client.with_api_key(&vectors_key.api_key);
    let reader = app.client.with_api_key(&reader_key.api_key);
    let base = format!("/api/v1/projects/{pid}/database/files");
    let id = info.file_id;
    let endpoints = [
        (HttpMethod::POST, format!("{base}/upload"), Some(json!({"file_name": "x.txt"}))),
        (HttpMethod::DELETE, format!("{base}/{id}"), None),
        (HttpMethod::GET, base.clone(), None),
        (HttpMethod::GET, format!("{base}/{id}"), None),
        (HttpMethod::GET, format!("{base}/{id}/content"), None),
        (HttpMethod::POST, format!("{base}/{id}/url"), Some(json!({}))),
    ];
    assert_guarded(&endpoints, 2, &app.client, &bob, &no_scope, &reader).await;
    assert_eq!(reader.download_file(pid, id, None).await.unwrap().bytes.as_ref(), b"secret");
    assert!(reader.file_url(pid, id, None).await.is_ok());
    let err = bob
        .upload_file(pid, "b.txt", "text/plain", b"x".to_vec(), &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let left = ada.list_files(pid, &FileQuery::default()).await.unwrap();
    assert_eq!(left.items.iter().map(|f| f.file_id).collect::<Vec<_>>(), [id]);
    assert_eq!(stored_files(&app).len(), 1);
}

/// Sends part of a declared body, then hangs up. Blocking I/O: run it off the runtime.
fn interrupted_upload(address: String, token_header: String, path: String) {
    let address = address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\n{token_header}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        8 * MB
    )
    .unwrap();
    // The server may stop reading at any point; a refused write is a hang-up too.
    let _ = stream.write_all(&pattern(3 * MB, 1)).and_then(|()| stream.flush());
    drop(stream);
}

#[tokio::test]
async fn interrupted_uploads_leave_nothing_and_orphans_are_swept() {
    let app = spawn_app_with(|s| {
        s.objects.sweep_interval_secs = 1;
        s.objects.orphan_grace_secs = 5;
    })
    .await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let kept = ada
        .upload_file(pid, "kept.txt", "text/plain", b"kept".to_vec(), &UploadOptions::default())
        .await
        .unwrap();
    let key = ada.create_api_key(pid, "w", &["files:write"]).await.unwrap();
    let (address, header) = (app.address.clone(), format!("X-API-Key: {}", key.api_key));
    let path = format!("/api/v1/projects/{pid}/database/files/upload?file_name=cut.bin");
    tokio::task::spawn_blocking(move || interrupted_upload(address, header, path)).await.unwrap();

    // Bytes without a record, as a crash between storing and recording leaves them.
    let orphan = app
        .data_dir
        .path()
        .join("objects/projects")
        .join(pid.to_string())
        .join("files")
        .join(Uuid::now_v7().to_string());
    std::fs::write(&orphan, b"orphan").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(60);
    std::fs::File::options().write(true).open(&orphan).unwrap().set_modified(old).unwrap();

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while orphan.exists() {
        assert!(std::time::Instant::now() < deadline, "the orphan was not swept");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The interrupted upload left neither a record nor bytes (staging files included).
    let listed = ada.list_files(pid, &FileQuery::default()).await.unwrap();
    assert_eq!(listed.items.iter().map(|f| f.file_key.as_str()).collect::<Vec<_>>(), ["kept.txt"]);
    let files = stored_files(&app);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(ada.download_file(pid, kept.file_id, None).await.unwrap().bytes.as_ref(), b"kept");
    let mut buf = Vec::new();
    std::fs::File::open(&files[0]).unwrap().read_to_end(&mut buf).unwrap();
    assert_eq!(buf, b"kept");
}
