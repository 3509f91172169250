//! One contract for every object store adapter: local filesystem, memory, and S3 against
//! a real S3-compatible server (moto) when built with `s3` and `test-support`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use futures_util::TryStreamExt;
use std::time::Duration;
use zerodb_domain::files::{ObjectLocation, ObjectStore, ObjectStoreError};
use zerodb_objects::ObjectStoreAdapter;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 11) as u8).collect()
}

async fn put(store: &dyn ObjectStore, location: &ObjectLocation, data: &[u8], chunk: usize) {
    let mut upload = store.begin_upload(location).await.unwrap();
    for part in data.chunks(chunk.max(1)) {
        upload.write(Bytes::copy_from_slice(part)).await.unwrap();
    }
    upload.finish().await.unwrap();
}

async fn read(
    store: &dyn ObjectStore,
    location: &ObjectLocation,
    range: Option<std::ops::Range<u64>>,
) -> Result<Vec<u8>, ObjectStoreError> {
    let stream = store.read(location, range).await?;
    let chunks: Vec<Bytes> = stream.try_collect().await?;
    Ok(chunks.concat())
}

async fn contract(store: &dyn ObjectStore) {
    let root = format!("projects/{}/files", uuid::Uuid::now_v7());
    let at = |name: &str| ObjectLocation::raw(format!("{root}/{name}"));

    // Round trips: empty, one byte, and a multi-part object sent in uneven chunks.
    for (name, len, chunk) in
        [("empty", 0, 1), ("one", 1, 1), ("big", 12 * 1024 * 1024 + 7, 700_001)]
    {
        let data = pattern(len, len as u8);
        put(store, &at(name), &data, chunk).await;
        assert_eq!(read(store, &at(name), None).await.unwrap(), data, "{name}");
    }
    let big = pattern(12 * 1024 * 1024 + 7, 7);
    let boundary = 5 * 1024 * 1024;
    let part = read(store, &at("big"), Some(boundary - 10..boundary + 10)).await.unwrap();
    assert_eq!(part, big[boundary as usize - 10..boundary as usize + 10]);
    let tail = read(store, &at("big"), Some(big.len() as u64 - 3..big.len() as u64)).await.unwrap();
    assert_eq!(tail, big[big.len() - 3..]);

    // Nothing is visible before an upload finishes, nor after it is aborted.
    let mut pending = store.begin_upload(&at("pending")).await.unwrap();
    pending.write(Bytes::from(pattern(6 * 1024 * 1024, 1))).await.unwrap();
    assert_eq!(read(store, &at("pending"), None).await.unwrap_err(), ObjectStoreError::NotFound);
    pending.abort().await.unwrap();
    assert_eq!(read(store, &at("pending"), None).await.unwrap_err(), ObjectStoreError::NotFound);

    // Listing shows finished objects with their sizes.
    let mut listed = store.list(&root).await.unwrap();
    listed.sort_by(|a, b| a.location.cmp(&b.location));
    let names: Vec<(String, u64)> = listed
        .iter()
        .map(|o| (o.location.rsplit('/').next().unwrap_or_default().to_owned(), o.size))
        .collect();
    assert_eq!(
        names,
        [("big".to_owned(), big.len() as u64), ("empty".to_owned(), 0), ("one".to_owned(), 1)]
    );
    assert!(
        listed.iter().all(|o| o.last_modified <= chrono::Utc::now() + chrono::Duration::seconds(5))
    );

    // Replacing an object, deleting it twice, reading what is not there.
    put(store, &at("one"), b"new", 2).await;
    assert_eq!(read(store, &at("one"), None).await.unwrap(), b"new");
    store.delete(&at("one")).await.unwrap();
    store.delete(&at("one")).await.unwrap();
    assert_eq!(read(store, &at("one"), None).await.unwrap_err(), ObjectStoreError::NotFound);
    assert_eq!(read(store, &at("never"), None).await.unwrap_err(), ObjectStoreError::NotFound);
    assert_eq!(store.list(&format!("{root}/nothing-here")).await.unwrap(), []);
}

#[tokio::test]
async fn local_filesystem_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = ObjectStoreAdapter::local(dir.path()).unwrap();
    contract(&store).await;
    assert_eq!(
        store.presigned_url(&ObjectLocation::raw("x"), Duration::from_secs(9)).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn memory_keeps_the_contract() {
    contract(&ObjectStoreAdapter::memory()).await;
}

#[cfg(all(feature = "s3", feature = "test-support"))]
#[tokio::test]
async fn s3_keeps_the_contract_against_a_real_server() {
    use zerodb_objects::testing::MotoServer;
    let moto = MotoServer::shared();
    let store = ObjectStoreAdapter::s3(&moto.settings("contract")).unwrap();
    contract(&store).await;

    // A presigned URL fetches the object with no other credentials.
    let location = ObjectLocation::raw("projects/signed/files/object");
    put(&store, &location, b"signed bytes", 4).await;
    let url = store.presigned_url(&location, Duration::from_secs(60)).await.unwrap().unwrap();
    assert!(url.contains("X-Amz-Signature"), "{url}");
    let body = plain_get(&url);
    assert!(body.ends_with("signed bytes"), "{body}");
}

/// A bare HTTP GET, so the check uses nothing but the URL.
#[cfg(all(feature = "s3", feature = "test-support"))]
fn plain_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}
