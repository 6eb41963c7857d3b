//! Argon2id password hashing and HS256 JWT access tokens.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use opsflow_domain::{Password, Role, SessionId, TenantId, UserId};
use opsflow_ports::auth::{HashError, PasswordHasher, TokenClaims, TokenError, TokenService};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

/// Argon2id hasher. The CPU-heavy work runs on tokio's blocking pool so request handlers keep
/// their executor threads. At most a few hashes run at once (one per core by default): each
/// takes the configured memory (19 MiB by default), and tokio's blocking pool would otherwise
/// run hundreds side by side under a burst of logins, holding gigabytes and gaining nothing on
/// a machine with few cores. Further requests wait their turn.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    params: Params,
    /// A hash of a random password with the same parameters, for `verify_dummy`.
    dummy: Arc<OnceLock<String>>,
    /// One permit per hash allowed to run at a time.
    permits: Arc<Semaphore>,
    /// Hashes running now and the most seen at once (for the concurrency test).
    #[cfg(test)]
    gauge: Arc<(std::sync::atomic::AtomicUsize, std::sync::atomic::AtomicUsize)>,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Argon2Hasher {
    /// OWASP's recommended argon2id parameters: 19 MiB of memory, 2 passes, 1 lane.
    #[must_use]
    pub fn new() -> Self {
        Self::from_params(Params::DEFAULT)
    }

    fn from_params(params: Params) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            params,
            dummy: Arc::default(),
            permits: Arc::new(Semaphore::new(cores)),
            #[cfg(test)]
            gauge: Arc::default(),
        }
    }

    /// Allows at most `n` hashes (or verifications) to run at once (at least 1).
    #[must_use]
    pub fn with_max_concurrent(mut self, n: usize) -> Self {
        self.permits = Arc::new(Semaphore::new(n.max(1)));
        self
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit moves into the task,
    /// so it is held until the work ends even if the caller stops waiting.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        #[cfg(test)]
        let gauge = Arc::clone(&self.gauge);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            #[cfg(test)]
            {
                use std::sync::atomic::Ordering::SeqCst;
                let now = gauge.0.fetch_add(1, SeqCst) + 1;
                gauge.1.fetch_max(now, SeqCst);
                let out = work();
                gauge.0.fetch_sub(1, SeqCst);
                out
            }
            #[cfg(not(test))]
            work()
        })
        .await
        .map_err(|e| HashError(e.to_string()))
    }

    /// Custom parameters: memory in KiB, passes, lanes. Cheap ones make tests fast.
    ///
    /// # Errors
    /// [`HashError`] if argon2 rejects the parameters (for example memory below 8 KiB per lane).
    pub fn with_params(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self, HashError> {
        let params =
            Params::new(m_cost_kib, t_cost, p_cost, None).map_err(|e| HashError(e.to_string()))?;
        Ok(Self::from_params(params))
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    fn hash_blocking(params: Params, password: &[u8]) -> Result<String, HashError> {
        Self::argon2(params)
            .hash_password(password)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    }

    /// Verification uses the parameters recorded in `phc`, so hashes made with older settings
    /// keep working. Anything that is not a valid argon2 PHC string simply does not match.
    fn verify_blocking(params: Params, password: &[u8], phc: &str) -> bool {
        Self::argon2(params).verify_password(password, phc).is_ok()
    }
}

fn random_string(len: usize) -> String {
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(len).map(char::from).collect()
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let params = self.params.clone();
        let password = password.expose().to_owned();
        self.run(move || Self::hash_blocking(params, password.as_bytes())).await?
    }

    async fn verify(&self, password: &Password, phc: &str) -> Result<bool, HashError> {
        let params = self.params.clone();
        let password = password.expose().to_owned();
        let phc = phc.to_owned();
        self.run(move || Self::verify_blocking(params, password.as_bytes(), &phc)).await
    }

    async fn verify_dummy(&self, password: &Password) {
        let params = self.params.clone();
        let dummy = self.dummy.clone();
        let password = password.expose().to_owned();
        let ran = self
            .run(move || {
                let phc = dummy.get_or_init(|| {
                    // A failure here would leave an empty string, which verifies instantly; the
                    // parameters were validated at construction, so hashing cannot fail in practice.
                    Self::hash_blocking(params.clone(), random_string(32).as_bytes())
                        .unwrap_or_default()
                });
                Self::verify_blocking(params, password.as_bytes(), phc)
            })
            .await;
        if let Err(e) = ran {
            tracing::warn!(error = %e, "dummy password verification did not complete");
        }
    }
}

/// The JSON claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user id again, as registered-claim tooling expects; optional when verifying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    user_id: UserId,
    tenant_id: TenantId,
    role: Role,
    /// The server-side session id; tokens without one are refused.
    jti: SessionId,
    iat: i64,
    exp: i64,
}

/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY_SECS: u64 = 5;

/// HS256 JWT issuer and verifier. Only HS256 is accepted: `none`, other HMAC sizes and
/// asymmetric algorithms are refused before any signature check.
#[derive(Clone)]
pub struct JwtTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: time::Duration,
}

impl std::fmt::Debug for JwtTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtTokens").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl JwtTokens {
    /// Tokens signed with `secret` (its UTF-8 bytes) and valid for `ttl`.
    #[must_use]
    pub fn new(secret: &SecretString, ttl: time::Duration) -> Self {
        let key = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.algorithms = vec![jsonwebtoken::Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "iat"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = false;
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            ttl,
        }
    }
}

impl TokenService for JwtTokens {
    fn issue(
        &self,
        user_id: UserId,
        tenant_id: TenantId,
        role: Role,
        session_id: SessionId,
        now: OffsetDateTime,
    ) -> Result<String, TokenError> {
        let iat = now.unix_timestamp();
        let exp = (now + self.ttl).unix_timestamp();
        let claims = Claims {
            sub: Some(user_id.to_string()),
            user_id,
            tenant_id,
            role,
            jti: session_id,
            iat,
            exp,
        };
        encode(&Header::new(jsonwebtoken::Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| TokenError::Invalid)
    }

    fn ttl(&self) -> time::Duration {
        self.ttl
    }

    fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let data =
            decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        let c = data.claims;
        if c.sub.is_some_and(|sub| sub != c.user_id.to_string()) || c.exp < c.iat {
            return Err(TokenError::Invalid);
        }
        Ok(TokenClaims {
            user_id: c.user_id,
            tenant_id: c.tenant_id,
            role: c.role,
            session_id: c.jti,
            iat: c.iat,
            exp: c.exp,
        })
    }
}

/// A random signing secret for a first start without a configured one: 64 URL-safe
/// alphanumeric characters (about 380 bits).
#[must_use]
pub fn generate_secret() -> String {
    random_string(64)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::SeqCst;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_allowed() {
        let hasher = Argon2Hasher::with_params(4 * 1024, 1, 1).unwrap().with_max_concurrent(2);
        let password = Password::new("correct horse battery").unwrap();
        let phc = hasher.hash(&password).await.unwrap();
        let work: Vec<_> = (0..12)
            .map(|i| {
                let (hasher, password, phc) = (hasher.clone(), password.clone(), phc.clone());
                tokio::spawn(async move {
                    match i % 3 {
                        0 => assert!(hasher.verify(&password, &phc).await.unwrap()),
                        1 => hasher.verify_dummy(&password).await,
                        _ => drop(hasher.hash(&password).await.unwrap()),
                    }
                })
            })
            .collect();
        for w in work {
            w.await.unwrap();
        }
        let peak = hasher.gauge.1.load(SeqCst);
        assert!((1..=2).contains(&peak), "{peak} hashes ran at once");
        assert_eq!(hasher.gauge.0.load(SeqCst), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn by_default_as_many_run_at_once_as_there_are_cores() {
        let hasher = Argon2Hasher::with_params(1024, 1, 1).unwrap();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        assert_eq!(hasher.permits.available_permits(), cores);
        assert_eq!(hasher.with_max_concurrent(0).permits.available_permits(), 1);
    }
}
