//! Report helpers: machine facts, process memory, and replacing one marked section of a markdown
//! file so each benchmark updates its own table and leaves the rest of the document alone.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

/// Facts about the machine and the build a figure was measured on.
pub struct Machine {
    /// `std::thread::available_parallelism`.
    pub cores: usize,
    /// The CPU model, from `/proc/cpuinfo`.
    pub cpu: String,
    /// 1-, 5- and 15-minute load averages when the run started (other builds on the machine
    /// show up here).
    pub load_average: String,
    /// `release` or `debug`.
    pub profile: &'static str,
    /// When the run started, in UTC.
    pub date: String,
    /// The command as typed.
    pub command: String,
}

impl Machine {
    pub fn now() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let load_average = load_average();
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
        let date = time::OffsetDateTime::now_utc().format(format).unwrap_or_default();
        Self {
            cores,
            cpu,
            load_average,
            profile: if cfg!(debug_assertions) { "debug" } else { "release" },
            date,
            command: command_line(),
        }
    }

    /// A short markdown list of these facts.
    pub fn markdown(&self) -> String {
        format!(
            "- Command: `{}`\n- Date: {}; build profile: **{}**\n- Machine: {} cores \
             (`available_parallelism`), {}; load average (1, 5, 15 min) {} at the start and {} at \
             the end. Other builds may have been running on the same cores.\n",
            self.command,
            self.date,
            self.profile,
            self.cores,
            self.cpu,
            self.load_average,
            load_average()
        )
    }

    /// Warns on stderr when the numbers cannot mean much.
    pub fn warn_if_debug(&self) {
        if self.profile == "debug" {
            eprintln!(
                "warning: this is a debug build, which is several times slower than release; \
                 benchmark with `cargo run --release -p opsflow -- …`"
            );
        }
    }
}

/// The 1-, 5- and 15-minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The command line, arguments quoted where needed.
fn command_line() -> String {
    std::env::args()
        .enumerate()
        .map(|(i, a)| {
            let a = if i == 0 {
                Path::new(&a).file_name().map_or(a.clone(), |n| n.to_string_lossy().into_owned())
            } else {
                a
            };
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'') {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Resident memory of this process, from `/proc/self/status`.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// `VmRSS` in KiB.
    pub rss_kib: u64,
    /// `VmHWM` (peak resident set) in KiB.
    pub hwm_kib: u64,
}

impl Memory {
    /// Reads `VmRSS` and `VmHWM`; `None` where `/proc` is unavailable.
    pub fn read() -> Option<Self> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        };
        Some(Self { rss_kib: field("VmRSS:")?, hwm_kib: field("VmHWM:")? })
    }

    /// Resets the peak (`VmHWM`) to the current resident set, so a later peak covers only what
    /// happened after this call. Returns false where the kernel does not allow it.
    pub fn reset_peak() -> bool {
        std::fs::write("/proc/self/clear_refs", "5").is_ok()
    }

    #[allow(clippy::cast_precision_loss)]
    pub fn mib(kib: u64) -> f64 {
        kib as f64 / 1024.0
    }
}

/// CPU time (user + system) this process has used so far, from `/proc/self/stat` (in the
/// kernel's fixed 100 Hz `USER_HZ` ticks); `None` where `/proc` is unavailable.
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may contain spaces; the fields after it are plain numbers.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// The share of the machine's cores this process kept busy between two [`process_cpu`] readings
/// taken `wall` apart (1.0 = every core all the time).
pub fn cpu_share(
    before: Option<Duration>,
    after: Option<Duration>,
    wall: Duration,
    cores: usize,
) -> Option<f64> {
    let used = after?.checked_sub(before?)?;
    #[allow(clippy::cast_precision_loss)]
    let capacity = wall.as_secs_f64() * cores.max(1) as f64;
    (capacity > 0.0).then(|| used.as_secs_f64() / capacity)
}

/// Replaces the section marked `key` in the markdown file at `path` with `content` (appending it
/// when absent; creating the file with `title` when missing).
///
/// # Errors
/// The file cannot be read or written.
pub fn upsert_section(path: &Path, title: &str, key: &str, content: &str) -> anyhow::Result<()> {
    let begin = format!("<!-- opsflow:{key}:begin -->");
    let end = format!("<!-- opsflow:{key}:end -->");
    let block = format!("{begin}\n{}\n{end}", content.trim_end());
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => format!("# {title}\n"),
        Err(e) => return Err(e).with_context(|| format!("could not read {}", path.display())),
    };
    let updated = match (existing.find(&begin), existing.find(&end)) {
        (Some(b), Some(e)) if e > b => {
            format!("{}{block}{}", &existing[..b], &existing[e + end.len()..])
        }
        _ => format!("{}\n\n{block}\n", existing.trim_end()),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    std::fs::write(path, updated).with_context(|| format!("could not write {}", path.display()))
}

/// A number with thousands separators.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `met` or `**missed**`.
pub const fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_in_place_and_appended_when_new() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("docs/bench.md");
        upsert_section(&path, "Benchmarks", "a", "## A\nfirst").expect("create");
        upsert_section(&path, "Benchmarks", "b", "## B\nother").expect("append");
        upsert_section(&path, "Benchmarks", "a", "## A\nsecond").expect("replace");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("# Benchmarks\n"));
        assert!(text.contains("second") && !text.contains("first"), "{text}");
        assert!(text.find("## A").expect("a") < text.find("## B").expect("b"));
        assert_eq!(text.matches("opsflow:a:begin").count(), 1);
    }

    #[test]
    fn cpu_time_is_read_and_grows() {
        let before = process_cpu().expect("/proc/self/stat");
        let started = std::time::Instant::now();
        let mut x = 0u64;
        // Busy until the kernel has charged 20 ms more (a loaded machine may take a while).
        while process_cpu().expect("/proc/self/stat") < before + Duration::from_millis(20) {
            assert!(started.elapsed() < Duration::from_secs(30), "CPU time did not grow");
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
        }
    }

    #[test]
    fn cpu_share_is_used_time_over_capacity() {
        let ms = |n: u64| Some(Duration::from_millis(n));
        let share = cpu_share(ms(1_000), ms(2_000), Duration::from_secs(2), 2);
        assert!(share.is_some_and(|v| (v - 0.25).abs() < 1e-9), "{share:?}");
        assert_eq!(cpu_share(None, ms(1), Duration::from_secs(1), 2), None);
        assert_eq!(cpu_share(ms(5), ms(1), Duration::from_secs(1), 2), None);
        assert_eq!(cpu_share(ms(1), ms(5), Duration::ZERO, 2), None);
    }

    #[test]
    fn numbers_get_separators() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(0), "0");
    }
}
