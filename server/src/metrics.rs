//! The service's metrics, kept with `prometheus-client` and served on
//! `GET /metrics` in the OpenMetrics text format (which Prometheus reads).
//!
//! - `dnd_requests_total{app,path,status,code}`: requests answered;
//! - `dnd_request_duration_seconds{path}`: from the request's head to the
//!   end of its answer, a streamed decide answer's last byte included;
//! - `dnd_decisions_total{app,layer}`: push decisions by the layer that decided;
//! - `dnd_users{app}`, `dnd_log_bytes{app}`, `dnd_snapshot_age_seconds{app}`:
//!   each app's store, read when scraped;
//! - `dnd_nonces_held`, `dnd_nonces_max`: the nonce cache's fill;
//! - `dnd_build_info{version}`, and the process: `process_cpu_seconds_total`,
//!   `process_resident_memory_bytes`, `process_open_fds`, `process_threads`,
//!   `process_start_time_seconds` (from `/proc`, where there is one).
//!
//! The `app` label is a configured app key (empty for a request of no known
//! app) and `path` one of the routes or `other`, so the series stay bounded.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use dnd_engine::Layer;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    app: String,
    path: &'static str,
    status: u16,
    code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PathLabel {
    path: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    app: String,
    layer: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AppLabel {
    app: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// What one app's store looks like when the metrics are scraped.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct StoreGauges {
    /// Users the settings know.
    pub users: Option<u64>,
    /// Bytes of log written since the last snapshot.
    pub log_bytes: Option<u64>,
    /// Seconds since the last snapshot was written.
    pub snapshot_age_secs: Option<f64>,
    /// Figures of the held pushes (`dnd_hold{app,figure}`): `held_items`,
    /// `released_cursor`, `webhook_delivered`, `webhook_retries`,
    /// `webhook_dead_letters`.
    pub hold: Vec<(&'static str, u64)>,
}

/// An app and one figure of its held pushes.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HoldLabels {
    app: String,
    figure: &'static str,
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<PathLabel, Histogram, fn() -> Histogram>,
    decisions: Family<DecisionLabels, Counter>,
    users: Family<AppLabel, Gauge>,
    log_bytes: Family<AppLabel, Gauge>,
    snapshot_age: Family<AppLabel, FloatGauge>,
    hold: Family<HoldLabels, Gauge>,
    nonces_held: Gauge,
    nonces_max: Gauge,
    process: Process,
}

#[derive(Debug, Default)]
struct Process {
    cpu_seconds: Counter<f64, AtomicU64>,
    resident_bytes: Gauge,
    open_fds: Gauge,
    threads: Gauge,
    start_time: FloatGauge,
}

/// One app's decision counters, by layer.
#[derive(Clone, Debug)]
pub struct Decisions {
    counters: Vec<Counter>,
}

impl Decisions {
    /// Counts `n` decisions made by `layer`.
    pub fn decisions(&self, layer: Layer, n: u64) {
        if let Some(i) = Layer::ALL.iter().position(|&l| l == layer) {
            self.counters[i].inc_by(n);
        }
    }
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency =
            Family::<PathLabel, Histogram, fn() -> Histogram>::new_with_constructor(histogram as fn() -> Histogram);
        let decisions = Family::<DecisionLabels, Counter>::default();
        let users = Family::<AppLabel, Gauge>::default();
        let log_bytes = Family::<AppLabel, Gauge>::default();
        let snapshot_age = Family::<AppLabel, FloatGauge>::default();
        let hold = Family::<HoldLabels, Gauge>::default();
        let nonces_held = Gauge::default();
        let nonces_max = Gauge::default();
        let process = Process::default();
        {
            let dnd = registry.sub_registry_with_prefix("dnd");
            dnd.register(
                "requests",
                "Requests answered, by app, path, HTTP status and platform code",
                requests.clone(),
            );
            dnd.register(
                "request_duration_seconds",
                "Time from a request's head to the end of its answer (a streamed answer's last byte), by path",
                latency.clone(),
            );
            dnd.register(
                "decisions",
                "Push decisions made, by app and the layer that decided",
                decisions.clone(),
            );
            dnd.register("users", "Users each app's settings know", users.clone());
            dnd.register(
                "log_bytes",
                "Bytes of each app's log written since its last snapshot",
                log_bytes.clone(),
            );
            dnd.register(
                "snapshot_age_seconds",
                "Seconds since each app's last snapshot was written",
                snapshot_age.clone(),
            );
            dnd.register(
                "hold",
                "Held pushes of each app: held_items, released_cursor (digests released), and the release webhook's \
                 webhook_delivered, webhook_retries and webhook_dead_letters (counts since the start)",
                hold.clone(),
            );
            dnd.register("nonces_held", "Nonces remembered now", nonces_held.clone());
            dnd.register(
                "nonces_max",
                "The most nonces remembered at once (max_nonces); past it requests are refused with 1008",
                nonces_max.clone(),
            );
            dnd.register(
                "build",
                "The running build",
                Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
            );
        }
        let p = registry.sub_registry_with_prefix("process");
        p.register(
            "cpu_seconds",
            "Total user and system CPU time spent, in seconds",
            process.cpu_seconds.clone(),
        );
        p.register(
            "resident_memory_bytes",
            "Resident memory size, in bytes",
            process.resident_bytes.clone(),
        );
        p.register("open_fds", "Open file descriptors", process.open_fds.clone());
        p.register("threads", "Threads of the process", process.threads.clone());
        p.register(
            "start_time_seconds",
            "Start time of the process since the Unix epoch, in seconds",
            process.start_time.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            decisions,
            users,
            log_bytes,
            snapshot_age,
            hold,
            nonces_held,
            nonces_max,
            process,
        }
    }
}

impl Metrics {
    /// Counts a request of app `app` (a configured key, or empty) to `path`
    /// (a route or `other`) answered with HTTP `status` and platform `code`.
    pub fn request(&self, app: &str, path: &'static str, status: u16, code: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                app: app.to_owned(),
                path,
                status,
                code,
            })
            .inc();
    }

    /// Records how long a request to `path` took, to the end of its answer.
    pub fn latency(&self, path: &'static str, took: Duration) {
        self.latency
            .get_or_create(&PathLabel { path })
            .observe(took.as_secs_f64());
    }

    /// The decision counters of app `app` (a configured key).
    pub fn decisions_of(&self, app: &str) -> Decisions {
        let counters = Layer::ALL
            .iter()
            .map(|layer| {
                self.decisions
                    .get_or_create(&DecisionLabels {
                        app: app.to_owned(),
                        layer: layer.as_str(),
                    })
                    .clone()
            })
            .collect();
        Decisions { counters }
    }

    /// Sets app `app`'s store gauges (those it has).
    pub fn store(&self, app: &str, gauges: &StoreGauges) {
        let label = AppLabel { app: app.to_owned() };
        if let Some(n) = gauges.users {
            self.users.get_or_create(&label).set(saturate(n));
        }
        if let Some(n) = gauges.log_bytes {
            self.log_bytes.get_or_create(&label).set(saturate(n));
        }
        if let Some(age) = gauges.snapshot_age_secs {
            self.snapshot_age.get_or_create(&label).set(age);
        }
        for &(figure, n) in &gauges.hold {
            let labels = HoldLabels {
                app: app.to_owned(),
                figure,
            };
            self.hold.get_or_create(&labels).set(saturate(n));
        }
    }

    /// Sets the nonce cache's fill.
    pub fn nonces(&self, held: usize, max: usize) {
        self.nonces_held.set(saturate(held as u64));
        self.nonces_max.set(saturate(max as u64));
    }

    /// The metrics in the OpenMetrics text format, the process's read now.
    pub fn render(&self) -> String {
        self.process.read();
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn saturate(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Process {
    /// Reads the process's figures from `/proc/self` (nothing where there is none).
    fn read(&self) {
        let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
            return;
        };
        // After the command's closing parenthesis: field 3 (state) onwards.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            return;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let number = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<u64>().ok());
        // Clock ticks per second: 100 on every Linux this runs on (USER_HZ).
        const TICKS: f64 = 100.0;
        if let (Some(utime), Some(stime)) = (number(14), number(15)) {
            // A counter: it only grows, by what was spent since the last read.
            let spent = (utime + stime) as f64 / TICKS - self.cpu_seconds.get();
            if spent > 0.0 {
                self.cpu_seconds.inc_by(spent);
            }
        }
        if let Some(threads) = number(20) {
            self.threads.set(saturate(threads));
        }
        if let Some(rss_pages) = number(24) {
            self.resident_bytes.set(saturate(rss_pages * 4096));
        }
        if let (Some(start_ticks), Some(boot)) = (number(22), boot_time()) {
            self.start_time.set(boot + start_ticks as f64 / TICKS);
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds.set(saturate(fds.count() as u64));
        }
    }
}

/// The boot time, seconds since the epoch (`btime` in `/proc/stat`).
fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_families_render_with_conventional_names() {
        let m = Metrics::default();
        m.request("k", "/a", 200, 200);
        m.request("k", "/a", 200, 200);
        m.request("", "/b", 400, 1002);
        m.latency("/a", Duration::from_micros(300));
        m.latency("/a", Duration::from_millis(30));
        m.decisions_of("k").decisions(Layer::UserPeriod, 7);
        m.store(
            "k",
            &StoreGauges {
                users: Some(3),
                log_bytes: Some(100),
                snapshot_age_secs: Some(1.5),
                hold: vec![("webhook_retries", 4)],
            },
        );
        m.nonces(2, 10);
        let text = m.render();
        for line in [
            "dnd_requests_total{app=\"k\",path=\"/a\",status=\"200\",code=\"200\"} 2\n",
            "dnd_request_duration_seconds_bucket{le=\"0.0005\",path=\"/a\"} 1\n",
            "dnd_request_duration_seconds_bucket{le=\"0.05\",path=\"/a\"} 2\n",
            "dnd_request_duration_seconds_count{path=\"/a\"} 2\n",
            "dnd_decisions_total{app=\"k\",layer=\"user_period\"} 7\n",
            "dnd_users{app=\"k\"} 3\n",
            "dnd_log_bytes{app=\"k\"} 100\n",
            "dnd_hold{app=\"k\",figure=\"webhook_retries\"} 4\n",
            "dnd_snapshot_age_seconds{app=\"k\"} 1.5\n",
            "dnd_nonces_held 2\n",
            "dnd_nonces_max 10\n",
            "dnd_build_info{version=\"",
            "# EOF\n",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(text.contains("process_resident_memory_bytes "), "{text}");
            assert!(!text.contains("process_resident_memory_bytes 0\n"), "{text}");
            assert!(text.contains("process_cpu_seconds_total "), "{text}");
        }
    }
}
