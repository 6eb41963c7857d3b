//! A closed-loop HTTP load generator: N connections, each sending its next request as soon as the
//! previous answer has been read, for a fixed time; latencies go into an HDR histogram.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Latencies are recorded in microseconds, from 1 µs to 5 minutes, with 3 significant digits.
const MAX_MICROS: u64 = 300_000_000;

/// What one scenario measured. Latencies and outcomes cover every request sent inside the
/// window, however late its answer came (dropping slow answers would flatter the percentiles);
/// the throughput counts the answers that arrived inside the window.
pub struct Stats {
    /// Latency of every request sent inside the window, in microseconds.
    pub latency: Histogram<u64>,
    /// Answers that arrived inside the window.
    pub completed_in_window: u64,
    /// Requests sent inside the window whose answer came after it ended.
    pub late: u64,
    /// Answers with a 2xx status.
    pub ok: u64,
    /// Answers with another status.
    pub non_2xx: u64,
    /// Requests that got no answer (connection or timeout errors).
    pub failed: u64,
    /// The first unexpected answer or error, to say what went wrong.
    pub first_error: Option<String>,
    /// The measurement window.
    pub window: Duration,
}

fn histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts; a failure is a programming error.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds")
}

impl Stats {
    fn empty(window: Duration) -> Self {
        Self {
            latency: histogram(),
            completed_in_window: 0,
            late: 0,
            ok: 0,
            non_2xx: 0,
            failed: 0,
            first_error: None,
            window,
        }
    }

    fn merge(&mut self, other: Self) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.completed_in_window += other.completed_in_window;
        self.late += other.late;
        self.ok += other.ok;
        self.non_2xx += other.non_2xx;
        self.failed += other.failed;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Answers (any status) that arrived inside the window, per second.
    #[allow(clippy::cast_precision_loss)]
    pub fn requests_per_sec(&self) -> f64 {
        self.completed_in_window as f64 / self.window.as_secs_f64()
    }

    /// Whether any request was measured at all.
    pub fn measured(&self) -> bool {
        !self.latency.is_empty()
    }

    /// The `q`-quantile (0..=1) latency in milliseconds.
    #[allow(clippy::cast_precision_loss)]
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }

    /// The slowest request in milliseconds.
    #[allow(clippy::cast_precision_loss)]
    pub fn max_ms(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }

    /// Non-2xx answers plus requests without an answer.
    pub const fn errors(&self) -> u64 {
        self.non_2xx + self.failed
    }
}

/// Builds the `seq`-th request of a scenario (`seq` is unique across connections).
pub type MakeRequest = dyn Fn(u64) -> reqwest::RequestBuilder + Send + Sync;

/// Runs `connections` closed loops for `warmup` (not recorded) and then `duration` (recorded).
/// A request is measured when it is sent after the warm-up and before the end.
pub async fn closed_loop(
    connections: usize,
    warmup: Duration,
    duration: Duration,
    make: Arc<MakeRequest>,
) -> Stats {
    let start = Instant::now();
    let measure_from = start + warmup;
    let deadline = measure_from + duration;
    let connections = connections.max(1);
    let step = connections as u64;
    let tasks: Vec<_> = (0..step)
        .map(|conn| {
            let make = Arc::clone(&make);
            tokio::spawn(async move {
                let mut stats = Stats::empty(duration);
                let mut seq = conn;
                loop {
                    let request = make(seq);
                    seq += step;
                    let sent = Instant::now();
                    if sent >= deadline {
                        break;
                    }
                    let outcome = match request.send().await {
                        Ok(response) => {
                            let status = response.status();
                            // Read the whole body: the connection is reused only after that.
                            match response.bytes().await {
                                Ok(_) if status.is_success() => Ok(None),
                                Ok(body) => Ok(Some(format!(
                                    "HTTP {status}: {}",
                                    String::from_utf8_lossy(&body[..body.len().min(300)])
                                ))),
                                Err(e) => Err(format!("reading the body failed: {e}")),
                            }
                        }
                        Err(e) => Err(format!("request failed: {e}")),
                    };
                    let done = Instant::now();
                    if sent < measure_from {
                        continue;
                    }
                    if outcome.is_ok() {
                        if done <= deadline {
                            stats.completed_in_window += 1;
                        } else {
                            stats.late += 1;
                        }
                    }
                    let micros = u64::try_from(done.duration_since(sent).as_micros())
                        .unwrap_or(MAX_MICROS)
                        .clamp(1, MAX_MICROS);
                    match outcome {
                        Ok(None) => {
                            stats.ok += 1;
                            let _ = stats.latency.record(micros);
                        }
                        Ok(Some(error)) => {
                            stats.non_2xx += 1;
                            let _ = stats.latency.record(micros);
                            stats.first_error.get_or_insert(error);
                        }
                        Err(error) => {
                            stats.failed += 1;
                            stats.first_error.get_or_insert(error);
                            // A refused connection fails at once; do not spin on it.
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
                stats
            })
        })
        .collect();
    let mut total = Stats::empty(duration);
    for task in tasks {
        match task.await {
            Ok(stats) => total.merge(stats),
            Err(e) => {
                total.failed += 1;
                total.first_error.get_or_insert(format!("a load task panicked: {e}"));
            }
        }
    }
    total
}

/// A cheap, well-mixed hash of `x` (splitmix64), for picking tenants and ids per request
/// without a shared random generator.
pub const fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// `mix(seed) mod n` as an index (`n` > 0).
#[allow(clippy::cast_possible_truncation)]
pub const fn pick(seed: u64, n: usize) -> usize {
    (mix(seed) % n as u64) as usize
}
