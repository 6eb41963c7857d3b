//! Clock, password hashing and access-token ports.

use async_trait::async_trait;
use opsflow_domain::{Password, Role, SessionId, TenantId, UserId};
use time::OffsetDateTime;

/// The current time (a port so tests can fix it).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Password hashing failed for a reason other than a wrong password.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// Hashes and verifies passwords (argon2id in production). Implementations do the CPU work off
/// the async executor.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    /// A PHC string for `password` with a fresh salt.
    ///
    /// # Errors
    /// [`HashError`].
    async fn hash(&self, password: &Password) -> Result<String, HashError>;

    /// Whether `password` matches `phc`. A malformed hash is `Ok(false)`.
    ///
    /// # Errors
    /// [`HashError`].
    async fn verify(&self, password: &Password, phc: &str) -> Result<bool, HashError>;

    /// Spends the same time as a real verification without a stored hash, so an unknown email
    /// takes as long as a wrong password.
    async fn verify_dummy(&self, password: &Password);
}

/// What an access token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenClaims {
    /// The user.
    pub user_id: UserId,
    /// The user's tenant.
    pub tenant_id: TenantId,
    /// The role at issue time (the auth layer re-reads the stored role).
    pub role: Role,
    /// The server-side session this token belongs to (`jti`).
    pub session_id: SessionId,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Past its `exp`.
    #[error("the access token has expired")]
    Expired,
    /// Malformed, wrongly signed, wrong algorithm or tampered.
    #[error("the access token is invalid")]
    Invalid,
}

/// Issues and verifies access tokens (HS256 JWT in production).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait TokenService: Send + Sync + 'static {
    /// A signed token for the user and session `session_id` (its `jti`), valid from `now` for
    /// [`Self::ttl`].
    ///
    /// # Errors
    /// [`TokenError::Invalid`] if signing fails.
    fn issue(
        &self,
        user_id: UserId,
        tenant_id: TenantId,
        role: Role,
        session_id: SessionId,
        now: OffsetDateTime,
    ) -> Result<String, TokenError>;

    /// How long issued tokens (and so their sessions) are valid.
    fn ttl(&self) -> time::Duration;

    /// Verifies signature, algorithm and expiry and returns the claims.
    ///
    /// # Errors
    /// [`TokenError`].
    fn verify(&self, token: &str) -> Result<TokenClaims, TokenError>;
}
