//! Prometheus metrics: request counts and latencies per route and status, database pool
//! usage, per-area object counts, build info.

use async_trait::async_trait;
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

/// What the server knows only at scrape time.
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    pub pool_size: u64,
    pub pool_available: u64,
    pub pool_waiting: u64,
    /// Object counts per area (`tables`, `rows`, ...).
    pub objects: Vec<(&'static str, u64)>,
    /// With an external event log: events waiting in the outbox, and the age in seconds
    /// of the oldest.
    pub outbox: Option<(u64, f64)>,
    /// The in-process vector index: projects loaded, vectors held, bytes used.
    pub vector_index: Option<(u64, u64, u64)>,
    /// With an external vector engine: vector changes committed but not yet applied there.
    pub vector_relay_backlog: Option<u64>,
}

#[async_trait]
pub trait MetricsSource: Send + Sync + 'static {
    async fn snapshot(&self) -> MetricsSnapshot;
}

pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    objects: IntGaugeVec,
    outbox_events: IntGauge,
    outbox_age: Gauge,
    vector_backlog: IntGauge,
    uptime: IntGauge,
    stream_reads: IntCounter,
    streams_open: IntGauge,
    index: IntGaugeVec,
    started: std::time::Instant,
}

/// Counts an open event stream until dropped.
pub struct OpenStream(IntGauge);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl HttpMetrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("zerodb".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by method and route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let objects = IntGaugeVec::new(Opts::new("objects", "Stored objects by area"), &["area"])?;
        let outbox_events = IntGauge::new(
            "event_outbox_backlog_events",
            "Events committed but not yet delivered to the external event log",
        )?;
        let outbox_age = Gauge::new(
            "event_outbox_oldest_age_seconds",
            "Age of the oldest event waiting for the external event log",
        )?;
        let vector_backlog = IntGauge::new(
            "vector_relay_backlog_changes",
            "Vector changes committed but not yet applied to the external vector engine",
        )?;
        let uptime = IntGauge::new("uptime_seconds", "Seconds since the server started")?;
        let stream_reads = IntCounter::new(
            "event_stream_reads_total",
            "Event log reads made by live streams (each is one database query)",
        )?;
        let streams_open = IntGauge::new("event_streams_open", "Live event streams now open")?;
        let index = IntGaugeVec::new(
            Opts::new("vector_index", "What the in-process vector index holds"),
            &["measure"],
        )?;
        let build = IntGaugeVec::new(Opts::new("build_info", "Build information"), &["version"])?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(objects.clone()),
            Box::new(outbox_events.clone()),
            Box::new(outbox_age.clone()),
            Box::new(vector_backlog.clone()),
            Box::new(uptime.clone()),
            Box::new(stream_reads.clone()),
            Box::new(streams_open.clone()),
            Box::new(index.clone()),
            Box::new(build),
        ] {
            registry.register(collector)?;
        }
        Ok(Self {
            registry,
            requests,
            latency,
            pool,
            objects,
            outbox_events,
            outbox_age,
            vector_backlog,
            uptime,
            stream_reads,
            streams_open,
            index,
            started: std::time::Instant::now(),
        })
    }

    /// One database read by a live stream.
    pub fn stream_read(&self) {
        self.stream_reads.inc();
    }

    /// Counts a stream as open until the returned guard drops.
    pub fn stream_opened(&self) -> OpenStream {
        self.streams_open.inc();
        OpenStream(self.streams_open.clone())
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }

    /// The text exposition format, with scrape-time values filled in.
    pub fn render(&self, snapshot: &MetricsSnapshot) -> Result<String, prometheus::Error> {
        let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.pool.with_label_values(&["size"]).set(gauge(snapshot.pool_size));
        self.pool.with_label_values(&["available"]).set(gauge(snapshot.pool_available));
        self.pool.with_label_values(&["waiting"]).set(gauge(snapshot.pool_waiting));
        for (area, count) in &snapshot.objects {
            self.objects.with_label_values(&[area]).set(gauge(*count));
        }
        if let Some((projects, vectors, bytes)) = snapshot.vector_index {
            self.index.with_label_values(&["projects"]).set(gauge(projects));
            self.index.with_label_values(&["vectors"]).set(gauge(vectors));
            self.index.with_label_values(&["bytes"]).set(gauge(bytes));
        }
        let (waiting, age) = snapshot.outbox.unwrap_or((0, 0.0));
        self.outbox_events.set(gauge(waiting));
        self.outbox_age.set(age);
        self.vector_backlog.set(gauge(snapshot.vector_relay_backlog.unwrap_or(0)));
        self.uptime.set(i64::try_from(self.started.elapsed().as_secs()).unwrap_or(i64::MAX));
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
