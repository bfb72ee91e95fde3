//! Counters in the Prometheus text format: requests by app, path and code, a
//! latency histogram, decisions by app and layer. Written by hand: a few
//! atomics and two small maps do not need a metrics framework. The app label
//! is a configured app key (or empty for a request of no known app), so the
//! series stay bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dnd_engine::Layer;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// A request's labels: app key, path, HTTP status, platform code.
type RequestLabels = (String, &'static str, u16, u16);

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RequestLabels, u64>>,
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_us: AtomicU64,
    decisions: Mutex<BTreeMap<String, Decisions>>,
}

/// One app's decision counters, by layer.
#[derive(Clone, Debug, Default)]
pub struct Decisions(Arc<[AtomicU64; Layer::ALL.len()]>);

impl Decisions {
    /// Counts `n` decisions made by `layer`.
    pub fn decisions(&self, layer: Layer, n: u64) {
        if let Some(i) = Layer::ALL.iter().position(|&l| l == layer) {
            self.0[i].fetch_add(n, Ordering::Relaxed);
        }
    }
}

impl Metrics {
    /// Counts a request of app `app` (a configured key, or empty) to `path`
    /// (a label from a fixed set, so the series stay bounded) answered with
    /// HTTP `status` and platform `code`.
    pub fn request(&self, app: &str, path: &'static str, status: u16, code: u16, took: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((app.to_owned(), path, status, code))
            .or_default() += 1;
        let secs = took.as_secs_f64();
        let bucket = BUCKETS.iter().position(|&b| secs <= b).unwrap_or(BUCKETS.len());
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The decision counters of app `app` (a configured key).
    pub fn decisions_of(&self, app: &str) -> Decisions {
        self.decisions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(app.to_owned())
            .or_default()
            .clone()
    }

    /// The counters in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP dnd_requests_total Requests answered, by app, path, HTTP status and platform code.\n");
        out.push_str("# TYPE dnd_requests_total counter\n");
        for ((app, path, status, code), n) in self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "dnd_requests_total{{app=\"{app}\",path=\"{path}\",status=\"{status}\",code=\"{code}\"}} {n}"
            );
        }
        out.push_str("# HELP dnd_request_seconds Time from the request head to the answer's head.\n");
        out.push_str("# TYPE dnd_request_seconds histogram\n");
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().map(|b| b.to_string()).chain(["+Inf".into()]).enumerate() {
            cumulative += self.latency[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "dnd_request_seconds_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let sum = self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "dnd_request_seconds_sum {sum}");
        let _ = writeln!(out, "dnd_request_seconds_count {cumulative}");
        out.push_str("# HELP dnd_decisions_total Push decisions made, by app and the layer that decided.\n");
        out.push_str("# TYPE dnd_decisions_total counter\n");
        for (app, counts) in self
            .decisions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            for (layer, n) in Layer::ALL.iter().zip(counts.0.iter()) {
                let _ = writeln!(
                    out,
                    "dnd_decisions_total{{app=\"{app}\",layer=\"{}\"}} {}",
                    layer.as_str(),
                    n.load(Ordering::Relaxed)
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_match() {
        let m = Metrics::default();
        m.request("k", "/a", 200, 200, Duration::from_micros(300));
        m.request("k", "/a", 200, 200, Duration::from_millis(30));
        m.request("", "/b", 400, 1002, Duration::from_secs(9));
        m.decisions_of("k").decisions(Layer::UserPeriod, 7);
        let text = m.render();
        assert!(text.contains("dnd_requests_total{app=\"k\",path=\"/a\",status=\"200\",code=\"200\"} 2"));
        assert!(text.contains("dnd_request_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("dnd_request_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("dnd_request_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("dnd_decisions_total{app=\"k\",layer=\"user_period\"} 7\n"));
    }
}
