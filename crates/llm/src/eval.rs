//! Evaluation library for `opsflow eval`: labelled-set loading (JSONL, CSV) and classification
//! metrics (accuracy, per-class precision/recall/F1, macro-F1, confusion matrices, latency and
//! token totals).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use opsflow_domain::{Category, Priority};
use opsflow_ports::llm::TokenUsage;
use serde::{Deserialize, Serialize};

/// One labelled ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledTicket {
    /// Subject line.
    pub subject: String,
    /// Body text.
    pub body: String,
    /// The expected category.
    pub category: Category,
    /// The expected priority.
    pub priority: Priority,
}

/// A labelled set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be read.
    #[error("could not read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line or row is malformed.
    #[error("line {line}: {message}")]
    Malformed {
        /// 1-based line (JSONL) or record (CSV, header = 1) number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file's extension is neither `.jsonl`/`.json` nor `.csv`.
    #[error("unsupported labelled-set format `{0}` (use .jsonl or .csv)")]
    UnsupportedFormat(String),
}

/// Reads a labelled set, choosing the format by extension (`.jsonl`, `.ndjson`, `.csv`).
///
/// # Errors
/// [`DatasetError::Io`], [`DatasetError::UnsupportedFormat`] or [`DatasetError::Malformed`].
pub fn load_path(path: &Path) -> Result<Vec<LabelledTicket>, DatasetError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| DatasetError::Io { path: path.display().to_string(), source })?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    match ext.as_str() {
        "jsonl" | "ndjson" | "json" => parse_jsonl(&text),
        "csv" => parse_csv(&text),
        other => Err(DatasetError::UnsupportedFormat(other.to_owned())),
    }
}

/// Parses JSON Lines (one object per line with `subject`, `body`, `category`, `priority`; other
/// fields are ignored; blank lines and lines starting with `//` are skipped).
///
/// # Errors
/// [`DatasetError::Malformed`] with the line number.
pub fn parse_jsonl(text: &str) -> Result<Vec<LabelledTicket>, DatasetError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map_err(|e| DatasetError::Malformed { line: i + 1, message: e.to_string() })
        })
        .collect()
}

/// Parses CSV (RFC 4180: quoted fields, doubled quotes, newlines inside quotes) whose header
/// names `subject`, `body`, `category` and `priority` in any order, among other columns.
///
/// # Errors
/// [`DatasetError::Malformed`] for a missing column, a short row or an unknown label.
pub fn parse_csv(text: &str) -> Result<Vec<LabelledTicket>, DatasetError> {
    let mut records = csv_records(text.trim_start_matches('\u{feff}'))?;
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let header: Vec<String> = records.remove(0).iter().map(|h| h.trim().to_lowercase()).collect();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| DatasetError::Malformed {
            line: 1,
            message: format!("the header has no `{name}` column"),
        })
    };
    let (s, b, c, p) =
        (column("subject")?, column("body")?, column("category")?, column("priority")?);
    records
        .into_iter()
        .enumerate()
        .filter(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()))
        .map(|(i, row)| {
            let line = i + 2;
            let get = |idx: usize| {
                row.get(idx).map(|v| v.trim().to_owned()).ok_or_else(|| DatasetError::Malformed {
                    line,
                    message: format!("expected {} fields, found {}", header.len(), row.len()),
                })
            };
            let parse_err = |e: opsflow_domain::ParseEnumError| DatasetError::Malformed {
                line,
                message: e.to_string(),
            };
            Ok(LabelledTicket {
                subject: get(s)?,
                body: get(b)?,
                category: get(c)?.to_lowercase().parse().map_err(parse_err)?,
                priority: get(p)?.to_lowercase().parse().map_err(parse_err)?,
            })
        })
        .collect()
}

fn csv_records(text: &str) -> Result<Vec<Vec<String>>, DatasetError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(DatasetError::Malformed {
            line: records.len() + 1,
            message: "unterminated quoted field".to_owned(),
        });
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// The class.
    pub label: String,
    /// Of the items predicted as this class, the share that were.
    pub precision: f64,
    /// Of the items of this class, the share predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Items of this class.
    pub support: u64,
}

/// Counts of (expected, predicted) label pairs over a fixed label list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    labels: Vec<String>,
    /// `counts[expected][predicted]`.
    counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// An empty matrix over `labels`.
    #[must_use]
    pub fn new<S: Into<String>>(labels: impl IntoIterator<Item = S>) -> Self {
        let labels: Vec<String> = labels.into_iter().map(Into::into).collect();
        let n = labels.len();
        Self { labels, counts: vec![vec![0; n]; n] }
    }

    /// A matrix over the five categories.
    #[must_use]
    pub fn for_categories() -> Self {
        Self::new(Category::ALL.iter().map(Category::as_str))
    }

    /// A matrix over the four priorities.
    #[must_use]
    pub fn for_priorities() -> Self {
        Self::new(Priority::ALL.iter().map(Priority::as_str))
    }

    /// The labels, in row/column order.
    #[must_use]
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    fn index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }

    /// Records one prediction. Returns false (and records nothing) for a label not in the list.
    pub fn add(&mut self, expected: &str, predicted: &str) -> bool {
        match (self.index(expected), self.index(predicted)) {
            (Some(e), Some(p)) => {
                self.counts[e][p] += 1;
                true
            }
            _ => false,
        }
    }

    /// How often `expected` was predicted as `predicted`.
    #[must_use]
    pub fn count(&self, expected: &str, predicted: &str) -> u64 {
        match (self.index(expected), self.index(predicted)) {
            (Some(e), Some(p)) => self.counts[e][p],
            _ => 0,
        }
    }

    /// All recorded predictions.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Share of predictions that were right (0 when empty).
    #[must_use]
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.labels.len()).map(|i| self.counts[i][i]).sum();
        ratio(correct, self.total())
    }

    /// Per-class metrics, in label order.
    #[must_use]
    pub fn per_class(&self) -> Vec<ClassMetrics> {
        (0..self.labels.len())
            .map(|i| {
                let tp = self.counts[i][i];
                let support: u64 = self.counts[i].iter().sum();
                let predicted: u64 = self.counts.iter().map(|row| row[i]).sum();
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassMetrics { label: self.labels[i].clone(), precision, recall, f1, support }
            })
            .collect()
    }

    /// Unweighted mean F1 over the classes that occur as expected or predicted labels (classes
    /// absent from both say nothing about the classifier, as in scikit-learn's default).
    #[must_use]
    pub fn macro_f1(&self) -> f64 {
        let present: Vec<f64> = self
            .per_class()
            .into_iter()
            .enumerate()
            .filter(|(i, m)| m.support > 0 || self.counts.iter().any(|row| row[*i] > 0))
            .map(|(_, m)| m.f1)
            .collect();
        if present.is_empty() { 0.0 } else { present.iter().sum::<f64>() / present.len() as f64 }
    }

    /// A plain-text table: rows are expected labels, columns predicted labels.
    #[must_use]
    pub fn render(&self) -> String {
        let width = self.labels.iter().map(String::len).max().unwrap_or(0).max(8) + 2;
        let mut out = String::from("expected \\ predicted\n");
        let _ = write!(out, "{:<width$}", "");
        for label in &self.labels {
            let _ = write!(out, "{label:>width$}");
        }
        out.push('\n');
        for (label, row) in self.labels.iter().zip(&self.counts) {
            let _ = write!(out, "{label:<width$}");
            for n in row {
                let _ = write!(out, "{n:>width$}");
            }
            out.push('\n');
        }
        out
    }

    /// Per-class precision/recall/F1, then accuracy and macro-F1, as plain text.
    #[must_use]
    pub fn render_metrics(&self) -> String {
        let mut out = format!(
            "{:<18}{:>10}{:>10}{:>10}{:>9}\n",
            "class", "precision", "recall", "f1", "support"
        );
        for m in self.per_class() {
            let _ = writeln!(
                out,
                "{:<18}{:>10.3}{:>10.3}{:>10.3}{:>9}",
                m.label, m.precision, m.recall, m.f1, m.support
            );
        }
        let _ = writeln!(out, "accuracy {:.3}   macro-F1 {:.3}", self.accuracy(), self.macro_f1());
        out
    }
}

#[allow(clippy::cast_precision_loss)] // counts are far below 2^52
fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

/// The result of evaluating a provider over a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Category predictions.
    pub category: ConfusionMatrix,
    /// Priority predictions.
    pub priority: ConfusionMatrix,
    /// Wall time of each evaluated item (one triage or one set of calls).
    pub latencies: Vec<Duration>,
    /// Tokens used in total.
    pub usage: TokenUsage,
    /// Items that failed (no prediction), with the reason.
    pub failures: Vec<String>,
    /// The category's stated confidence and whether the prediction was right.
    pub category_confidence: Vec<(f64, bool)>,
    /// The priority's stated confidence and whether the prediction was right.
    pub priority_confidence: Vec<(f64, bool)>,
}

impl Default for EvalReport {
    fn default() -> Self {
        Self::new()
    }
}

impl EvalReport {
    /// An empty report.
    #[must_use]
    pub fn new() -> Self {
        Self {
            category: ConfusionMatrix::for_categories(),
            priority: ConfusionMatrix::for_priorities(),
            latencies: Vec::new(),
            usage: TokenUsage::default(),
            failures: Vec::new(),
            category_confidence: Vec::new(),
            priority_confidence: Vec::new(),
        }
    }

    /// Records the confidences the provider gave with an item's predictions (`None`: not
    /// given), next to whether each prediction was right.
    pub fn record_confidence(
        &mut self,
        expected: &LabelledTicket,
        predicted: (Category, Priority),
        confidence: (Option<f64>, Option<f64>),
    ) {
        if let Some(c) = confidence.0 {
            self.category_confidence.push((c, predicted.0 == expected.category));
        }
        if let Some(c) = confidence.1 {
            self.priority_confidence.push((c, predicted.1 == expected.priority));
        }
    }

    /// Records one evaluated item.
    pub fn record(
        &mut self,
        expected: &LabelledTicket,
        predicted_category: Category,
        predicted_priority: Priority,
        latency: Duration,
        usage: TokenUsage,
    ) {
        self.category.add(expected.category.as_str(), predicted_category.as_str());
        self.priority.add(expected.priority.as_str(), predicted_priority.as_str());
        self.latencies.push(latency);
        self.usage = self.usage.plus(usage);
    }

    /// Records an item that produced no prediction.
    pub fn record_failure(&mut self, why: impl Into<String>, latency: Duration, usage: TokenUsage) {
        self.failures.push(why.into());
        self.latencies.push(latency);
        self.usage = self.usage.plus(usage);
    }

    /// The `q`-quantile (0..=1) of the latencies, nearest-rank; zero when empty.
    #[must_use]
    pub fn latency_quantile(&self, q: f64) -> Duration {
        percentile(&self.latencies, q)
    }

    /// The whole report as plain text.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let evaluated = self.category.total();
        let _ = writeln!(out, "items evaluated: {evaluated}, failed: {}", self.failures.len());
        let _ = writeln!(out, "\n== category ==\n{}", self.category.render_metrics());
        let _ = writeln!(out, "{}", self.category.render());
        let _ = writeln!(out, "== priority ==\n{}", self.priority.render_metrics());
        let _ = writeln!(out, "{}", self.priority.render());
        for (name, samples) in
            [("category", &self.category_confidence), ("priority", &self.priority_confidence)]
        {
            if samples.is_empty() {
                let _ = writeln!(out, "== {name} confidence ==\nnot given by this provider\n");
            } else {
                let _ =
                    writeln!(out, "== {name} confidence ==\n{}", calibration(samples, 5).render());
            }
        }
        let _ = writeln!(
            out,
            "latency p50 {:.1} ms, p99 {:.1} ms",
            self.latency_quantile(0.5).as_secs_f64() * 1000.0,
            self.latency_quantile(0.99).as_secs_f64() * 1000.0
        );
        let _ = writeln!(
            out,
            "tokens: prompt {}, completion {}",
            self.usage.prompt_tokens, self.usage.completion_tokens
        );
        out
    }
}

/// One bin of a reliability table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationBin {
    /// Confidences from (exclusive, except for the first bin)…
    pub lower: f64,
    /// …to (inclusive).
    pub upper: f64,
    /// Predictions in the bin.
    pub count: usize,
    /// Their mean confidence.
    pub mean_confidence: f64,
    /// The share of them that was right.
    pub accuracy: f64,
}

/// How well stated confidences match how often predictions are right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Equal-width bins over 0..=1 (empty bins included).
    pub bins: Vec<CalibrationBin>,
    /// Expected calibration error: the mean over predictions of |accuracy − confidence| of
    /// their bin (0 is perfect).
    pub ece: f64,
    /// Mean confidence over all predictions.
    pub mean_confidence: f64,
    /// Share of predictions that were right.
    pub accuracy: f64,
}

/// The reliability table and expected calibration error of `(confidence, right)` pairs in
/// `bins` equal-width bins (at least 1).
#[must_use]
#[allow(clippy::cast_precision_loss)] // counts are tiny
pub fn calibration(samples: &[(f64, bool)], bins: usize) -> Calibration {
    let bins = bins.max(1);
    let mut table: Vec<CalibrationBin> = (0..bins)
        .map(|i| CalibrationBin {
            lower: i as f64 / bins as f64,
            upper: (i + 1) as f64 / bins as f64,
            count: 0,
            mean_confidence: 0.0,
            accuracy: 0.0,
        })
        .collect();
    for &(c, right) in samples {
        let c = c.clamp(0.0, 1.0);
        // (lower, upper]; 0 goes to the first bin.
        let i = ((c * bins as f64).ceil() as usize).saturating_sub(1).min(bins - 1);
        let bin = &mut table[i];
        bin.count += 1;
        bin.mean_confidence += c;
        bin.accuracy += f64::from(u8::from(right));
    }
    let n = samples.len() as f64;
    let mut ece = 0.0;
    for bin in &mut table {
        if bin.count > 0 {
            bin.mean_confidence /= bin.count as f64;
            bin.accuracy /= bin.count as f64;
            ece += bin.count as f64 / n * (bin.accuracy - bin.mean_confidence).abs();
        }
    }
    let mean = |f: &dyn Fn(&(f64, bool)) -> f64| {
        if samples.is_empty() { 0.0 } else { samples.iter().map(f).sum::<f64>() / n }
    };
    Calibration {
        bins: table,
        ece,
        mean_confidence: mean(&|s| s.0),
        accuracy: mean(&|s| f64::from(u8::from(s.1))),
    }
}

impl Calibration {
    /// The table as plain text.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::from("confidence      n   mean conf   accuracy\n");
        for b in &self.bins {
            let _ = writeln!(
                out,
                "{:.1}–{:.1}    {:>5}   {:>9}   {:>8}",
                b.lower,
                b.upper,
                b.count,
                if b.count > 0 { format!("{:.3}", b.mean_confidence) } else { "—".to_owned() },
                if b.count > 0 { format!("{:.3}", b.accuracy) } else { "—".to_owned() },
            );
        }
        let _ = writeln!(
            out,
            "expected calibration error {:.3} (mean confidence {:.3}, accuracy {:.3})",
            self.ece, self.mean_confidence, self.accuracy
        );
        out
    }
}

/// Nearest-rank percentile of `values` (`q` in 0..=1); zero when empty.
#[must_use]
pub fn percentile(values: &[Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let rank = ((q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_bins_confidences_and_measures_the_gap() {
        // 0.9 confident and right 9 times in 10; 0.3 confident and right 1 time in 2.
        let mut samples: Vec<(f64, bool)> = (0..10).map(|i| (0.9, i < 9)).collect();
        samples.extend([(0.3, true), (0.3, false)]);
        let c = calibration(&samples, 5);
        assert_eq!(c.bins.len(), 5);
        let top = &c.bins[4];
        assert_eq!(top.count, 10);
        assert!((top.accuracy - 0.9).abs() < 1e-9 && (top.mean_confidence - 0.9).abs() < 1e-9);
        assert_eq!(c.bins[1].count, 2);
        // Only the low bin is off, by 0.2, for 2 of 12 predictions.
        assert!((c.ece - 0.2 * 2.0 / 12.0).abs() < 1e-9, "{}", c.ece);
        assert!((c.accuracy - 10.0 / 12.0).abs() < 1e-9);
        assert!(c.render().contains("expected calibration error 0.033"));
        // Edges: 0 lands in the first bin, 1 in the last; nothing gives zeros.
        let edges = calibration(&[(0.0, false), (1.0, true)], 5);
        assert_eq!((edges.bins[0].count, edges.bins[4].count), (1, 1));
        assert!(edges.ece.abs() < 1e-9);
        assert_eq!(calibration(&[], 5).ece, 0.0);
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// A hand-computed 3-class case:
    /// expected a: 3×a, 1×b; expected b: 2×b, 2×c; expected c: 1×a, 1×c.
    fn sample() -> ConfusionMatrix {
        let mut m = ConfusionMatrix::new(["a", "b", "c"]);
        for (e, p, n) in [
            ("a", "a", 3),
            ("a", "b", 1),
            ("b", "b", 2),
            ("b", "c", 2),
            ("c", "a", 1),
            ("c", "c", 1),
        ] {
            for _ in 0..n {
                assert!(m.add(e, p));
            }
        }
        m
    }

    #[test]
    fn metrics_of_a_hand_computed_matrix() {
        let m = sample();
        assert_eq!(m.total(), 10);
        assert!(close(m.accuracy(), 0.6));
        let per = m.per_class();
        // a: P = 3/4, R = 3/4, F1 = 0.75
        assert!(
            close(per[0].precision, 0.75) && close(per[0].recall, 0.75) && close(per[0].f1, 0.75)
        );
        // b: P = 2/3, R = 2/4, F1 = 2·(2/3)(1/2)/(7/6) = 4/7
        assert!(close(per[1].precision, 2.0 / 3.0) && close(per[1].recall, 0.5));
        assert!(close(per[1].f1, 4.0 / 7.0));
        // c: P = 1/3, R = 1/2, F1 = 2·(1/3)(1/2)/(5/6) = 0.4
        assert!(close(per[2].f1, 0.4));
        assert!(close(m.macro_f1(), (0.75 + 4.0 / 7.0 + 0.4) / 3.0));
        assert_eq!(per[1].support, 4);
    }

    #[test]
    fn absent_classes_do_not_drag_macro_f1_down() {
        let mut m = ConfusionMatrix::new(["a", "b", "unused"]);
        m.add("a", "a");
        m.add("b", "b");
        assert!(close(m.macro_f1(), 1.0));
        assert!(!m.add("a", "nope"));
        assert_eq!(m.total(), 2);
        assert!(close(ConfusionMatrix::new(["a"]).macro_f1(), 0.0));
    }

    #[test]
    fn render_shows_counts_in_rows_and_columns() {
        let table = sample().render();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[1].split_whitespace().eq(["a", "b", "c"]));
        assert!(lines[3].split_whitespace().eq(["b", "0", "2", "2"]));
        assert!(sample().render_metrics().contains("macro-F1 0.574"));
    }

    #[test]
    fn jsonl_and_csv_load_the_same_tickets() {
        let jsonl = r#"{"subject":"Site down","body":"500 everywhere","category":"bug","priority":"urgent","id":7}

{"subject":"Invoice","body":"Need a copy","category":"billing","priority":"low"}"#;
        let csv = "id,priority,subject,body,category\r\n7,urgent,Site down,500 everywhere,bug\r\n\
                   8,low,Invoice,\"Need a copy\",billing\r\n";
        let a = parse_jsonl(jsonl).expect("jsonl");
        let b = parse_csv(csv).expect("csv");
        assert_eq!(a, b);
        assert_eq!(a[0].category, Category::Bug);
        assert_eq!(a[1].priority, Priority::Low);
    }

    #[test]
    fn csv_quotes_commas_and_newlines() {
        let csv = "subject,body,category,priority\n\"Hello, team\",\"Line one\nsaid \"\"hi\"\"\",general,Medium\n";
        let rows = parse_csv(csv).expect("csv");
        assert_eq!(rows[0].subject, "Hello, team");
        assert_eq!(rows[0].body, "Line one\nsaid \"hi\"");
        assert_eq!(rows[0].priority, Priority::Medium);
    }

    #[test]
    fn malformed_input_names_the_line() {
        let err = parse_jsonl(
            "{\"subject\":\"a\",\"body\":\"b\",\"category\":\"bug\",\"priority\":\"low\"}\n{oops",
        )
        .expect_err("bad line");
        assert!(matches!(err, DatasetError::Malformed { line: 2, .. }), "{err}");
        let err = parse_csv("subject,body,category\nx,y,bug\n").expect_err("no priority column");
        assert!(err.to_string().contains("priority"));
        let err = parse_csv("subject,body,category,priority\nx,y,bugs,low\n").expect_err("label");
        assert!(matches!(err, DatasetError::Malformed { line: 2, .. }), "{err}");
        assert!(parse_csv("subject,body\n\"open").is_err());
    }

    #[test]
    fn report_latency_and_tokens() {
        let mut r = EvalReport::new();
        let t = LabelledTicket {
            subject: "s".into(),
            body: "b".into(),
            category: Category::Bug,
            priority: Priority::High,
        };
        for ms in 1..=100 {
            r.record(
                &t,
                Category::Bug,
                Priority::Low,
                Duration::from_millis(ms),
                TokenUsage { prompt_tokens: 10, completion_tokens: 1 },
            );
        }
        assert_eq!(r.latency_quantile(0.5), Duration::from_millis(50));
        assert_eq!(r.latency_quantile(0.99), Duration::from_millis(99));
        assert_eq!(r.usage.prompt_tokens, 1000);
        assert!(close(r.category.accuracy(), 1.0));
        assert!(close(r.priority.accuracy(), 0.0));
        let text = r.render();
        assert!(text.contains("p50 50.0 ms") && text.contains("prompt 1000"), "{text}");
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
