//! Request counters and latency histograms, read by `/stats` and `/metrics` (Prometheus
//! text format). Recorded once per request by a middleware, keyed by the matched route.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bounds of the latency histograms, in seconds.
pub(crate) const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Query latencies kept for the `/stats` median.
const RECENT: usize = 1024;

/// A Prometheus histogram: cumulative counts under fixed upper bounds, the count and sum.
pub(crate) struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            count: 0,
            sum: 0.0,
        }
    }

    pub(crate) fn observe(&mut self, value: f64) {
        self.count += 1;
        self.sum += value;
        for (bound, n) in self.bounds.iter().zip(&mut self.counts) {
            if value <= *bound {
                *n += 1;
            }
        }
    }

    /// Writes the metric family `name`: its HELP and TYPE lines, then this histogram.
    pub(crate) fn write_family(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        self.write(out, name, "");
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines of metric `name`; `labels` is empty
    /// or `key="value"` pairs without braces.
    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, n) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let labels = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{labels} {}", self.sum);
        let _ = writeln!(out, "{name}_count{labels} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    recent_queries: VecDeque<f64>,
}

pub(crate) struct Metrics {
    started: Instant,
    inner: Mutex<Inner>,
}

/// The route names `/stats` reads.
pub(crate) const INGEST: &str = "/IngestSynapse";
pub(crate) const QUERY: &str = "/QuerySynapse";
pub(crate) const CHALLENGE: &str = "/ChallengeSynapse";

/// A value the node reads from elsewhere (store, embedder, cache) at scrape time.
pub(crate) struct Sample<'a> {
    pub(crate) name: &'a str,
    pub(crate) help: &'a str,
    pub(crate) kind: Kind,
    pub(crate) value: f64,
}

/// Prometheus metric types the node exports.
pub(crate) enum Kind {
    Gauge,
    Counter,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        Self {
            started: Instant::now(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn record(&self, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut inner = self.inner();
        *inner
            .requests
            .entry((route.to_string(), status))
            .or_default() += 1;
        inner
            .latency
            .entry(route.to_string())
            .or_insert_with(|| Histogram::new(SECONDS))
            .observe(secs);
        if route == QUERY && (200..300).contains(&status) {
            if inner.recent_queries.len() == RECENT {
                inner.recent_queries.pop_front();
            }
            inner.recent_queries.push_back(secs * 1000.0);
        }
    }

    pub(crate) fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// (successes, all) for a route.
    pub(crate) fn outcomes(&self, route: &str) -> (u64, u64) {
        let inner = self.inner();
        inner.requests.iter().filter(|((r, _), _)| r == route).fold(
            (0, 0),
            |(ok, all), ((_, status), n)| {
                (
                    ok + if (200..300).contains(status) { *n } else { 0 },
                    all + n,
                )
            },
        )
    }

    pub(crate) fn query_p50_ms(&self) -> f64 {
        self.query_quantile_ms(0.5)
    }

    /// The `q` quantile (0..=1; the element at `⌊q·n⌋` of the sorted sample, so the p50
    /// is the upper median) of the last successful queries' latency, ms; 0 before any.
    pub(crate) fn query_quantile_ms(&self, q: f64) -> f64 {
        let inner = self.inner();
        let mut v: Vec<f64> = inner.recent_queries.iter().copied().collect();
        if v.is_empty() {
            return 0.0;
        }
        v.sort_by(f64::total_cmp);
        let at = (q.clamp(0.0, 1.0) * v.len() as f64) as usize;
        v[at.min(v.len() - 1)]
    }

    /// Requests answered since start, and those answered with a 5xx status.
    pub(crate) fn totals(&self) -> (u64, u64) {
        self.inner()
            .requests
            .iter()
            .fold((0, 0), |(all, server), ((_, status), n)| {
                (all + n, server + if *status >= 500 { *n } else { 0 })
            })
    }

    /// The Prometheus exposition, with the gauges the caller supplies.
    pub(crate) fn prometheus(&self, samples: &[Sample<'_>]) -> String {
        let mut out = String::new();
        for Sample {
            name,
            help,
            kind,
            value,
        } in samples
        {
            let kind = match kind {
                Kind::Gauge => "gauge",
                Kind::Counter => "counter",
            };
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP engram_uptime_seconds Seconds since the node started.\n# TYPE engram_uptime_seconds gauge\nengram_uptime_seconds {}",
            self.uptime().as_secs_f64()
        );
        let inner = self.inner();
        out.push_str("# HELP engram_requests_total Requests answered, by route and status.\n# TYPE engram_requests_total counter\n");
        for ((route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "engram_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP engram_request_duration_seconds Request latency by route.\n# TYPE engram_request_duration_seconds histogram\n");
        for (route, h) in &inner.latency {
            h.write(
                &mut out,
                "engram_request_duration_seconds",
                &format!("route=\"{route}\""),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_with_sum_and_count() {
        let mut h = Histogram::new(&[1.0, 2.0, 4.0]);
        for v in [0.5, 1.0, 3.0, 9.0] {
            h.observe(v);
        }
        let mut out = String::new();
        h.write_family(&mut out, "x", "Help text.");
        assert_eq!(
            out,
            "# HELP x Help text.\n# TYPE x histogram\n\
             x_bucket{le=\"1\"} 2\nx_bucket{le=\"2\"} 2\nx_bucket{le=\"4\"} 3\n\
             x_bucket{le=\"+Inf\"} 4\nx_sum 13.5\nx_count 4\n"
        );
        let mut labelled = String::new();
        h.write(&mut labelled, "y", "route=\"/q\"");
        assert!(
            labelled.starts_with("y_bucket{route=\"/q\",le=\"1\"} 2\n"),
            "{labelled}"
        );
        assert!(
            labelled.ends_with("y_sum{route=\"/q\"} 13.5\ny_count{route=\"/q\"} 4\n"),
            "{labelled}"
        );
    }
}
