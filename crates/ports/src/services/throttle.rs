//! Attempt throttles for sign-in, sign-up and password checks, kept in the store
//! ([`ThrottleRepository`]) so that every server process on one database shares them.
//!
//! Each attempt is **counted before** the password is verified: a bucket slot is reserved
//! atomically, so N parallel wrong passwords can never get more than the limit of answers, on
//! one process or many. The buckets:
//!
//! - `login:email:<email>`: login attempts per email ([`LoginLimits::max_failures`] per
//!   [`LoginLimits::window`]). An unknown email counts like a known one. A successful login
//!   **resets** the bucket, so someone who signs in often is never slowed down, while an attacker
//!   who does not know the password can never empty it.
//! - `login:addr:<address>`: login attempts per client address
//!   ([`LoginLimits::max_per_address`] per window), against guessing across many emails. A
//!   successful login **gives its attempt back** (rather than resetting), so a shared office
//!   address is only slowed by failures, and an attacker cannot clear the bucket by signing in
//!   to an account of their own.
//! - `signup:addr:<address>`: sign-ups per client address ([`LoginLimits::signups_per_address`]
//!   per [`LoginLimits::signup_window`]); never given back.
//! - `password:user:<user id>`: current-password checks of one user (same limits as the email
//!   bucket), reset on success; see [`Throttle::password_attempt`].
//!
//! A limit of `0` turns that bucket off.

use std::sync::Arc;
use std::time::Duration;

use opsflow_domain::{Email, UserId};

use crate::auth::Clock;
use crate::error::{AppError, AppResult, Entity};
use crate::repos::{Attempt, ThrottleRepository};

/// Throttle settings (the `OPSFLOW_LOGIN_*` and `OPSFLOW_SIGNUP_*` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Login attempts allowed per email within `window` (a success resets); `0`: no limit.
    pub max_failures: u32,
    /// The window of the login and password buckets, counted from its first attempt; a refused
    /// caller may try again when it has passed.
    pub window: Duration,
    /// Login attempts allowed per client address within `window` (a success gives its attempt
    /// back); `0`: no limit.
    pub max_per_address: u32,
    /// Sign-ups allowed per client address within `signup_window`; `0`: no limit.
    pub signups_per_address: u32,
    /// The window of the sign-up bucket.
    pub signup_window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window: Duration::from_secs(15 * 60),
            max_per_address: 100,
            signups_per_address: 20,
            signup_window: Duration::from_secs(60 * 60),
        }
    }
}

/// A reserved login attempt: hand it back to [`Throttle::login_succeeded`] when the password
/// was right.
#[derive(Debug, Clone)]
#[must_use]
pub struct LoginAttempt {
    email_key: String,
    address_key: Option<String>,
}

/// The store-backed throttles.
pub struct Throttle {
    repo: Arc<dyn ThrottleRepository>,
    clock: Arc<dyn Clock>,
    limits: LoginLimits,
}

fn email_key(email: &Email) -> String {
    format!("login:email:{}", email.as_str())
}

impl Throttle {
    /// Throttles on `repo` with these limits.
    pub fn new(
        repo: Arc<dyn ThrottleRepository>,
        clock: Arc<dyn Clock>,
        limits: LoginLimits,
    ) -> Self {
        Self { repo, clock, limits }
    }

    /// The limits in force.
    #[must_use]
    pub const fn limits(&self) -> LoginLimits {
        self.limits
    }

    /// Takes one attempt from `key`; `Ok(false)` when the bucket is off.
    async fn take(&self, key: &str, limit: u32, window: Duration) -> AppResult<bool> {
        if limit == 0 {
            return Ok(false);
        }
        let longest = window;
        let window = time::Duration::try_from(window).map_err(AppError::unexpected)?;
        let now = self.clock.now();
        match self
            .repo
            .take(key, limit, window, now)
            .await
            .map_err(AppError::from_repo(Entity::Resource))?
        {
            Attempt::Allowed { .. } => Ok(true),
            Attempt::Refused { until } => {
                // Another process may have opened the bucket a moment after this one read its
                // clock: the wait is never longer than one window.
                let wait = Duration::try_from(until - now).unwrap_or_default().min(longest);
                tracing::warn!(
                    bucket = key.split(':').next().unwrap_or(""),
                    retry_after_s = wait.as_secs(),
                    "attempt refused: too many"
                );
                Err(AppError::TooManyAttempts(wait))
            }
        }
    }

    /// Reserves a login attempt for `email` from `address` (when known), before the password is
    /// checked.
    ///
    /// # Errors
    /// [`AppError::TooManyAttempts`] when either bucket is full; `Unexpected` on store failure.
    pub async fn login_attempt(
        &self,
        email: &Email,
        address: Option<&str>,
    ) -> AppResult<LoginAttempt> {
        let address_key = address.map(|a| format!("login:addr:{a}"));
        let mut address_taken = false;
        if let Some(key) = &address_key {
            address_taken = self.take(key, self.limits.max_per_address, self.limits.window).await?;
        }
        let email_key = email_key(email);
        if let Err(e) = self.take(&email_key, self.limits.max_failures, self.limits.window).await {
            // The attempt is refused as a whole: it does not use up the address's budget.
            if let (true, Some(key)) = (address_taken, &address_key) {
                self.repo.give_back(key).await.map_err(AppError::from_repo(Entity::Resource))?;
            }
            return Err(e);
        }
        Ok(LoginAttempt { email_key, address_key: address_key.filter(|_| address_taken) })
    }

    /// The reserved attempt was a successful login: the email's bucket is reset and the
    /// address's attempt given back.
    ///
    /// # Errors
    /// `Unexpected` on store failure.
    pub async fn login_succeeded(&self, attempt: LoginAttempt) -> AppResult<()> {
        let map = AppError::from_repo(Entity::Resource);
        self.repo.reset(&attempt.email_key).await.map_err(&map)?;
        if let Some(key) = &attempt.address_key {
            self.repo.give_back(key).await.map_err(map)?;
        }
        Ok(())
    }

    /// Counts a sign-up from `address` (when known), before any work is done.
    ///
    /// # Errors
    /// [`AppError::TooManyAttempts`]; `Unexpected` on store failure.
    pub async fn signup_attempt(&self, address: Option<&str>) -> AppResult<()> {
        if let Some(address) = address {
            self.take(
                &format!("signup:addr:{address}"),
                self.limits.signups_per_address,
                self.limits.signup_window,
            )
            .await?;
        }
        Ok(())
    }

    /// Holds the sign-up of `email` for at most a minute, across every server process: a second
    /// sign-up for the same email while the first is running is refused (it would pass the
    /// duplicate-workspace check before the first one's workspace exists). Release it with
    /// [`Throttle::signup_done`] whatever the outcome.
    ///
    /// # Errors
    /// [`AppError::TooManyAttempts`] while another sign-up for `email` runs; `Unexpected` on
    /// store failure.
    pub async fn signup_lock(&self, email: &Email) -> AppResult<String> {
        let key = format!("signup:email:{}", email.as_str());
        self.take(&key, 1, Duration::from_secs(60)).await?;
        Ok(key)
    }

    /// Releases a lock taken by [`Throttle::signup_lock`].
    ///
    /// # Errors
    /// `Unexpected` on store failure.
    pub async fn signup_done(&self, key: &str) -> AppResult<()> {
        self.repo.reset(key).await.map_err(AppError::from_repo(Entity::Resource))
    }

    /// Reserves a check of `user`'s current password (password change): call it before
    /// verifying, and [`Throttle::password_succeeded`] when the password was right. Same limits
    /// as the login email bucket.
    ///
    /// # Errors
    /// [`AppError::TooManyAttempts`]; `Unexpected` on store failure.
    pub async fn password_attempt(&self, user: UserId) -> AppResult<()> {
        self.take(&format!("password:user:{user}"), self.limits.max_failures, self.limits.window)
            .await
            .map(drop)
    }

    /// `user` gave the right current password: their password bucket is reset.
    ///
    /// # Errors
    /// `Unexpected` on store failure.
    pub async fn password_succeeded(&self, user: UserId) -> AppResult<()> {
        self.repo
            .reset(&format!("password:user:{user}"))
            .await
            .map_err(AppError::from_repo(Entity::Resource))
    }
}
