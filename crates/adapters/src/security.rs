//! Argon2id password hashing and HS256 JWT access tokens.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use opsflow_domain::{Password, Role, TenantId, UserId};
use opsflow_ports::auth::{HashError, PasswordHasher, TokenClaims, TokenError, TokenService};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Argon2id hasher. The CPU-heavy work runs on tokio's blocking pool so request handlers keep
/// their executor threads.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    params: Params,
    /// A hash of a random password with the same parameters, for `verify_dummy`.
    dummy: Arc<OnceLock<String>>,
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
        Self { params: Params::DEFAULT, dummy: Arc::default() }
    }

    /// Custom parameters: memory in KiB, passes, lanes. Cheap ones make tests fast.
    ///
    /// # Errors
    /// [`HashError`] if argon2 rejects the parameters (for example memory below 8 KiB per lane).
    pub fn with_params(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self, HashError> {
        let params =
            Params::new(m_cost_kib, t_cost, p_cost, None).map_err(|e| HashError(e.to_string()))?;
        Ok(Self { params, dummy: Arc::default() })
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
        tokio::task::spawn_blocking(move || Self::hash_blocking(params, password.as_bytes()))
            .await
            .map_err(|e| HashError(e.to_string()))?
    }

    async fn verify(&self, password: &Password, phc: &str) -> Result<bool, HashError> {
        let params = self.params.clone();
        let password = password.expose().to_owned();
        let phc = phc.to_owned();
        tokio::task::spawn_blocking(move || {
            Self::verify_blocking(params, password.as_bytes(), &phc)
        })
        .await
        .map_err(|e| HashError(e.to_string()))
    }

    async fn verify_dummy(&self, password: &Password) {
        let params = self.params.clone();
        let dummy = self.dummy.clone();
        let password = password.expose().to_owned();
        let ran = tokio::task::spawn_blocking(move || {
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

    /// How long issued tokens are valid.
    #[must_use]
    pub const fn ttl(&self) -> time::Duration {
        self.ttl
    }
}

impl TokenService for JwtTokens {
    fn issue(
        &self,
        user_id: UserId,
        tenant_id: TenantId,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<String, TokenError> {
        let iat = now.unix_timestamp();
        let exp = (now + self.ttl).unix_timestamp();
        let claims = Claims { sub: Some(user_id.to_string()), user_id, tenant_id, role, iat, exp };
        encode(&Header::new(jsonwebtoken::Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| TokenError::Invalid)
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
