//! Argon2id hashing and HS256 token behaviour, including the attacks a token layer must refuse.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use opsflow_adapters::security::{Argon2Hasher, JwtTokens, generate_secret};
use opsflow_domain::{Password, Role, SessionId, TenantId, UserId};
use opsflow_ports::auth::{PasswordHasher, TokenError, TokenService};
use secrecy::SecretString;
use time::{Duration, OffsetDateTime};

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256-0123456789";

fn pw(s: &str) -> Password {
    Password::new(s).unwrap()
}

fn cheap() -> Argon2Hasher {
    Argon2Hasher::with_params(1024, 1, 1).unwrap()
}

// --- base64url without padding, enough to craft tokens by hand ------------------------------

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64_decode(text: &str) -> Vec<u8> {
    let vals: Vec<u32> =
        text.bytes().map(|c| B64.iter().position(|&b| b == c).unwrap() as u32).collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let mut n = 0u32;
        for (i, v) in chunk.iter().enumerate() {
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push(((n >> (16 - 8 * i)) & 0xff) as u8);
        }
    }
    out
}

fn payload(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64_decode(part)).unwrap()
}

fn tokens() -> JwtTokens {
    JwtTokens::new(&SecretString::from(SECRET), Duration::hours(12))
}

fn issue_now(t: &JwtTokens) -> (String, UserId, TenantId) {
    let (u, tn) = (UserId::new(), TenantId::new());
    (t.issue(u, tn, Role::Agent, SessionId::new(), OffsetDateTime::now_utc()).unwrap(), u, tn)
}

// --- passwords ------------------------------------------------------------------------------

#[tokio::test]
async fn hash_and_verify() {
    let h = cheap();
    let phc = h.hash(&pw("correct horse battery")).await.unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{phc}");
    assert!(h.verify(&pw("correct horse battery"), &phc).await.unwrap());
    assert!(!h.verify(&pw("correct horse batterY"), &phc).await.unwrap());
    assert!(!h.verify(&pw("wrong password"), &phc).await.unwrap());
    // A fresh salt every time.
    let again = h.hash(&pw("correct horse battery")).await.unwrap();
    assert_ne!(phc, again);
    assert!(h.verify(&pw("correct horse battery"), &again).await.unwrap());
}

#[tokio::test]
async fn verification_uses_the_parameters_stored_in_the_hash() {
    let old = Argon2Hasher::with_params(2048, 2, 1).unwrap().hash(&pw("password-1")).await.unwrap();
    assert!(cheap().verify(&pw("password-1"), &old).await.unwrap());
    assert!(!cheap().verify(&pw("password-2"), &old).await.unwrap());
}

#[tokio::test]
async fn default_parameters_are_owasp_argon2id() {
    let phc = Argon2Hasher::new().hash(&pw("owasp-defaults")).await.unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(Argon2Hasher::default().verify(&pw("owasp-defaults"), &phc).await.unwrap());
}

#[tokio::test]
async fn malformed_hashes_do_not_match() {
    let h = cheap();
    for bad in [
        "",
        "not-a-hash",
        "$argon2id$",
        "$argon2id$v=19$m=1024,t=1,p=1$",
        "$argon2id$v=19$m=1024,t=1,p=1$!!!$???",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    ] {
        assert!(!h.verify(&pw("whatever-password"), bad).await.unwrap(), "{bad:?}");
    }
}

#[test]
fn invalid_parameters_are_an_error() {
    assert!(Argon2Hasher::with_params(1, 1, 1).is_err());
    assert!(Argon2Hasher::with_params(1024, 0, 1).is_err());
    assert!(Argon2Hasher::with_params(1024, 1, 0).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dummy_verification_costs_as_much_as_a_real_one() {
    let h = Argon2Hasher::with_params(8192, 2, 1).unwrap();
    let phc = h.hash(&pw("real-password")).await.unwrap();
    h.verify_dummy(&pw("warm-up-call")).await; // builds the dummy hash once

    let mut real = std::time::Duration::ZERO;
    let mut dummy = std::time::Duration::ZERO;
    for _ in 0..3 {
        let start = Instant::now();
        assert!(!h.verify(&pw("guess-password"), &phc).await.unwrap());
        real += start.elapsed();
        let start = Instant::now();
        h.verify_dummy(&pw("guess-password")).await;
        dummy += start.elapsed();
    }
    assert!(dummy * 2 >= real, "dummy {dummy:?} vs real {real:?}");
    assert!(dummy <= real * 3, "dummy {dummy:?} vs real {real:?}");
    assert!(dummy >= std::time::Duration::from_millis(3), "dummy did no work: {dummy:?}");
}

// --- tokens ---------------------------------------------------------------------------------

#[test]
fn token_round_trip_with_claims() {
    let t = tokens();
    let (u, tn) = (UserId::new(), TenantId::new());
    let now = OffsetDateTime::now_utc();
    let token = t.issue(u, tn, Role::Admin, SessionId::new(), now).unwrap();
    let claims = t.verify(&token).unwrap();
    assert_eq!(claims.user_id, u);
    assert_eq!(claims.tenant_id, tn);
    assert_eq!(claims.role, Role::Admin);
    assert_eq!(claims.iat, now.unix_timestamp());
    assert_eq!(claims.exp, now.unix_timestamp() + 12 * 3600);

    let body = payload(&token);
    assert_eq!(body["user_id"], u.to_string());
    assert_eq!(body["sub"], u.to_string());
    assert_eq!(body["tenant_id"], tn.to_string());
    assert_eq!(body["role"], "admin");
    let header: serde_json::Value =
        serde_json::from_slice(&b64_decode(token.split('.').next().unwrap())).unwrap();
    assert_eq!(header["alg"], "HS256");
}

#[test]
fn expired_tokens_are_refused_after_a_small_leeway() {
    let t = JwtTokens::new(&SecretString::from(SECRET), Duration::hours(1));
    let (u, tn) = (UserId::new(), TenantId::new());
    let now = OffsetDateTime::now_utc();
    let old = t.issue(u, tn, Role::Agent, SessionId::new(), now - Duration::hours(2)).unwrap();
    assert_eq!(t.verify(&old), Err(TokenError::Expired));
    let just_past = t
        .issue(
            u,
            tn,
            Role::Agent,
            SessionId::new(),
            now - Duration::hours(1) - Duration::seconds(60),
        )
        .unwrap();
    assert_eq!(t.verify(&just_past), Err(TokenError::Expired));
    // Two seconds of clock skew are tolerated.
    let skewed = t
        .issue(
            u,
            tn,
            Role::Agent,
            SessionId::new(),
            now - Duration::hours(1) + Duration::seconds(-2),
        )
        .unwrap();
    assert!(t.verify(&skewed).is_ok());
}

#[test]
fn wrong_secret_is_invalid() {
    let (token, ..) = issue_now(&tokens());
    let other = JwtTokens::new(
        &SecretString::from("another-secret-of-sufficient-length-0123456789"),
        Duration::hours(1),
    );
    assert_eq!(other.verify(&token), Err(TokenError::Invalid));
}

#[test]
fn alg_none_is_invalid() {
    let t = tokens();
    let (token, ..) = issue_now(&t);
    let body = token.split('.').nth(1).unwrap();
    for header in
        [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"None","typ":"JWT"}"#, r#"{"alg":"NONE"}"#]
    {
        let forged = format!("{}.{body}.", b64_encode(header.as_bytes()));
        assert_eq!(t.verify(&forged), Err(TokenError::Invalid), "{header}");
        // Even carrying the original signature.
        let sig = token.split('.').nth(2).unwrap();
        let forged = format!("{}.{body}.{sig}", b64_encode(header.as_bytes()));
        assert_eq!(t.verify(&forged), Err(TokenError::Invalid), "{header}");
    }
}

#[test]
fn tampered_payload_is_invalid() {
    let t = tokens();
    let (token, u, tn) = issue_now(&t);
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = payload(&token);
    let other_tenant = TenantId::new();
    claims["tenant_id"] = serde_json::Value::String(other_tenant.to_string());
    let forged = format!("{}.{}.{}", parts[0], b64_encode(claims.to_string().as_bytes()), parts[2]);
    assert_eq!(t.verify(&forged), Err(TokenError::Invalid));

    let mut claims = payload(&token);
    claims["role"] = serde_json::Value::String("admin".into());
    let forged = format!("{}.{}.{}", parts[0], b64_encode(claims.to_string().as_bytes()), parts[2]);
    assert_eq!(t.verify(&forged), Err(TokenError::Invalid));

    // The untouched token still verifies, so the refusals above come from the tampering.
    let ok = t.verify(&token).unwrap();
    assert_eq!((ok.user_id, ok.tenant_id), (u, tn));
}

#[test]
fn other_algorithms_are_invalid_even_with_the_right_secret() {
    let t = tokens();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = serde_json::json!({
        "sub": UserId::new().to_string(),
        "user_id": UserId::new().to_string(),
        "tenant_id": TenantId::new().to_string(),
        "role": "admin",
        "iat": now,
        "exp": now + 3600,
    });
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = jsonwebtoken::encode(&Header::new(alg), &claims, &key).unwrap();
        assert_eq!(t.verify(&token), Err(TokenError::Invalid), "{alg:?}");
    }
    // The same claims with HS256 are fine: the algorithm alone made the difference.
    let mut claims = claims;
    claims["user_id"] = claims["sub"].clone();
    claims["jti"] = serde_json::Value::String(opsflow_domain::SessionId::new().to_string());
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
    assert!(t.verify(&token).is_ok());
}

#[test]
fn missing_required_claims_are_invalid() {
    let t = tokens();
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let base = serde_json::json!({
        "user_id": UserId::new().to_string(),
        "tenant_id": TenantId::new().to_string(),
        "role": "agent",
        "iat": now,
        "exp": now + 3600,
    });
    for missing in ["exp", "iat", "tenant_id", "user_id", "role"] {
        let mut claims = base.clone();
        claims.as_object_mut().unwrap().remove(missing);
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
        assert_eq!(t.verify(&token), Err(TokenError::Invalid), "without {missing}");
    }
    let mut claims = base;
    claims["role"] = "root".into();
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
    assert_eq!(t.verify(&token), Err(TokenError::Invalid), "unknown role");
}

#[test]
fn garbage_is_invalid() {
    let t = tokens();
    let (token, ..) = issue_now(&t);
    for bad in [
        String::new(),
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        "..".to_owned(),
        format!("{token}.extra"),
        format!("Bearer {token}"),
        token[..token.len() - 3].to_owned(),
    ] {
        assert_eq!(t.verify(&bad), Err(TokenError::Invalid), "{bad:?}");
    }
}

#[test]
fn generated_secrets_are_long_random_and_url_safe() {
    let a = generate_secret();
    let b = generate_secret();
    assert!(a.len() >= 48);
    assert_ne!(a, b);
    assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
    // A generated secret works as a key and is never printed by Debug.
    let t = JwtTokens::new(&SecretString::from(a.clone()), Duration::minutes(5));
    assert!(!format!("{t:?}").contains(&a));
    let (token, ..) = issue_now(&t);
    assert!(t.verify(&token).is_ok());
}
