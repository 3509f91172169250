//! `zerodb-bench files`: one large file uploaded and downloaded through the HTTP API, with
//! MB/s each way and the resident memory of the process while it happens.

use crate::kit::BenchError;
use crate::kit::server::{BenchServer, rss_bytes};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use zerodb_client::UploadOptions;
use zerodb_server::config::Settings;
use zerodb_testkit::pattern;

#[derive(Debug, Clone, clap::Args)]
pub struct FileBenchOptions {
    /// Size of the file in MiB.
    #[arg(long, default_value_t = 100)]
    pub size_mb: u64,
    /// Upload/download rounds; the figures are medians.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

const CHUNK: usize = 256 * 1024;

/// Samples the RSS every 20 ms until stopped; returns the peak.
fn watch_rss() -> (Arc<AtomicBool>, std::thread::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut peak = rss_bytes("self");
        while !flag.load(Ordering::Relaxed) {
            peak = peak.max(rss_bytes("self"));
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    (stop, handle)
}

/// A reproducible chunk for position `i`.
fn chunk(i: u64) -> Vec<u8> {
    pattern(CHUNK, i)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or_default()
}

pub async fn run_files(settings: Settings, options: FileBenchOptions) -> Result<(), BenchError> {
    let size_mb = options.size_mb;
    let backend = settings.objects.backend.as_str();
    let bench = BenchServer::start(settings, |s| {
        s.objects.max_file_bytes = s.objects.max_file_bytes.max(size_mb << 21);
    })
    .await?;
    let (url, client, project) = (bench.url.clone(), bench.client.clone(), bench.project);
    let size = options.size_mb * 1024 * 1024;
    let chunks = size.div_ceil(CHUNK as u64);
    let mb = size as f64 / (1024.0 * 1024.0);
    let baseline = rss_bytes("self");
    println!(
        "zerodb-bench files against {url}: {} MiB file, {} backend, {} rounds (process RSS before: {:.1} MiB)",
        options.size_mb,
        backend,
        options.rounds,
        baseline as f64 / 1048576.0
    );
    let (mut ups, mut downs, mut up_peaks, mut down_peaks) = (vec![], vec![], vec![], vec![]);
    for round in 0..options.rounds.max(1) {
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let body = futures_util::stream::iter(0..chunks).map(move |i| {
            let mut c = chunk(i);
            c.truncate((size - i * CHUNK as u64).min(CHUNK as u64) as usize);
            counter.fetch_add(c.len() as u64, Ordering::Relaxed);
            Ok::<_, std::io::Error>(c)
        });
        let (stop, watcher) = watch_rss();
        let started = Instant::now();
        let info = client
            .upload_file(
                project,
                &format!("bench-{round}.bin"),
                "application/octet-stream",
                reqwest::Body::wrap_stream(body),
                &UploadOptions::default(),
            )
            .await?;
        let up = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let up_peak = watcher.join().unwrap_or_default();
        if info.size_bytes != Some(size) || sent.load(Ordering::Relaxed) != size {
            return Err(BenchError::Setup("the upload's size does not match".into()));
        }

        let (stop, watcher) = watch_rss();
        let started = Instant::now();
        let response = client.file_content_response(project, info.file_id, None).await?;
        let mut stream = response.bytes_stream();
        let mut hasher = Sha256::new();
        let mut received = 0u64;
        while let Some(part) = stream.next().await {
            let part = part.map_err(zerodb_client::ClientError::from)?;
            received += part.len() as u64;
            hasher.update(&part);
        }
        let down = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let down_peak = watcher.join().unwrap_or_default();
        let digest: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        if received != size || info.sha256.as_deref() != Some(digest.as_str()) {
            return Err(BenchError::Setup("the download differs from the upload".into()));
        }
        println!(
            "round {round}: upload {:.0} MB/s ({up:.2} s), download {:.0} MB/s ({down:.2} s), peak RSS {:.1} / {:.1} MiB",
            mb / up,
            mb / down,
            up_peak as f64 / 1048576.0,
            down_peak as f64 / 1048576.0
        );
        ups.push(mb / up);
        downs.push(mb / down);
        up_peaks.push(up_peak.saturating_sub(baseline) as f64 / 1048576.0);
        down_peaks.push(down_peak.saturating_sub(baseline) as f64 / 1048576.0);
        client.delete_file(project, info.file_id).await?;
    }
    println!(
        "median: upload {:.0} MB/s, download {:.0} MB/s; peak RSS above the start: {:.1} MiB uploading, {:.1} MiB downloading (server and client in one process; the file is {:.0} MiB)",
        median(ups),
        median(downs),
        median(up_peaks),
        median(down_peaks),
        mb
    );
    bench.stop().await;
    Ok(())
}
