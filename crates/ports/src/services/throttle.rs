//! Failed-login throttling: after too many wrong passwords for one email, that email's logins
//! are refused for a while, so a password cannot be guessed at the speed of the server.
//!
//! Only failures count, so people who sign in often are never slowed down, and an unknown email
//! counts like a known one (the answer does not reveal which emails exist). The log lives in the
//! process: each server of a scaled-out deployment keeps its own, so the effective limit is
//! `max_failures` times the number of servers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

/// Login throttling settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Wrong passwords allowed per email within `window`; `0` turns throttling off.
    pub max_failures: u32,
    /// How long failures are remembered, counted from the first one; the email is refused until
    /// `window` after its first failure has passed.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self { max_failures: 10, window: Duration::from_secs(15 * 60) }
    }
}

/// Emails with failures are pruned of expired entries once the log holds this many.
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: OffsetDateTime,
}

/// The failed logins of recent minutes, by email.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    limits: LoginLimits,
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// A throttle with these limits.
    #[must_use]
    pub fn new(limits: LoginLimits) -> Self {
        Self { limits, failures: Mutex::default() }
    }

    /// How long `email` must wait before trying again, or `None` if it may try now.
    #[must_use]
    pub fn wait(&self, email: &str, now: OffsetDateTime) -> Option<Duration> {
        if self.limits.max_failures == 0 {
            return None;
        }
        let failures = self.lock();
        let f = failures.get(email)?;
        let until = f.since + self.limits.window;
        (f.count >= self.limits.max_failures && now < until)
            .then(|| Duration::try_from(until - now).unwrap_or_default())
    }

    /// Records a wrong password (or unknown email) for `email`.
    pub fn record_failure(&self, email: &str, now: OffsetDateTime) {
        if self.limits.max_failures == 0 {
            return;
        }
        let window = self.limits.window;
        let mut failures = self.lock();
        if failures.len() >= PRUNE_AT {
            failures.retain(|_, f| now < f.since + window);
        }
        let entry = failures.entry(email.to_owned()).or_insert(Failures { count: 0, since: now });
        if now >= entry.since + window {
            *entry = Failures { count: 0, since: now };
        }
        entry.count = entry.count.saturating_add(1);
    }

    /// Forgets `email`'s failures (after a successful login).
    pub fn clear(&self, email: &str) {
        self.lock().remove(email);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        // The map stays consistent even if a holder panicked: every update is a single insert.
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-11-25 10:00 UTC);

    fn throttle(max_failures: u32) -> LoginThrottle {
        LoginThrottle::new(LoginLimits { max_failures, window: Duration::from_secs(600) })
    }

    #[test]
    fn refuses_after_max_failures_until_the_window_ends() {
        let t = throttle(3);
        for i in 0..3 {
            assert_eq!(t.wait("a@x.io", T0), None, "attempt {i} is allowed");
            t.record_failure("a@x.io", T0 + time::Duration::seconds(i));
        }
        assert_eq!(
            t.wait("a@x.io", T0 + time::Duration::seconds(60)),
            Some(Duration::from_secs(540))
        );
        // Another email is not affected.
        assert_eq!(t.wait("b@x.io", T0), None);
        // The window counts from the first failure.
        assert_eq!(t.wait("a@x.io", T0 + time::Duration::seconds(600)), None);
        // A failure after the window starts a new count.
        t.record_failure("a@x.io", T0 + time::Duration::seconds(601));
        assert_eq!(t.wait("a@x.io", T0 + time::Duration::seconds(602)), None);
    }

    #[test]
    fn a_success_clears_the_count() {
        let t = throttle(2);
        t.record_failure("a@x.io", T0);
        t.clear("a@x.io");
        t.record_failure("a@x.io", T0);
        assert_eq!(t.wait("a@x.io", T0), None);
        t.record_failure("a@x.io", T0);
        assert!(t.wait("a@x.io", T0).is_some());
    }

    #[test]
    fn zero_turns_throttling_off() {
        let t = throttle(0);
        for _ in 0..100 {
            t.record_failure("a@x.io", T0);
        }
        assert_eq!(t.wait("a@x.io", T0), None);
    }

    #[test]
    fn expired_entries_are_pruned_when_the_log_is_large() {
        let t = throttle(5);
        for i in 0..PRUNE_AT {
            t.record_failure(&format!("u{i}@x.io"), T0);
        }
        assert_eq!(t.lock().len(), PRUNE_AT);
        t.record_failure("late@x.io", T0 + time::Duration::seconds(601));
        assert_eq!(t.lock().len(), 1, "only the fresh entry is kept");
    }
}
