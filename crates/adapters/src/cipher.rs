//! AES-256-GCM secret cipher under the server key `OPSFLOW_SECRET_KEY`.
//!
//! The 256-bit key is derived from the configured secret with HKDF-SHA256, so any secret of 32 or
//! more bytes works. A sealed value is `v1:` followed by base64 of the 12-byte random nonce and
//! the ciphertext with its 16-byte tag; the caller's context is the associated data.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use opsflow_ports::cipher::{CipherError, SecretCipher};
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretString};

const VERSION: &str = "v1:";
const NONCE_LEN: usize = 12;
/// Shortest accepted server secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// A server secret shorter than [`MIN_SECRET_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be at least {MIN_SECRET_LEN} bytes long")]
pub struct WeakSecret;

/// [`SecretCipher`] with AES-256-GCM.
#[derive(Clone)]
pub struct AesGcmCipher {
    aead: Aes256Gcm,
}

impl std::fmt::Debug for AesGcmCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesGcmCipher(..)")
    }
}

impl AesGcmCipher {
    /// A cipher whose key is derived from `secret`.
    ///
    /// # Errors
    /// [`WeakSecret`] when the secret is shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &SecretString) -> Result<Self, WeakSecret> {
        let raw = secret.expose_secret().as_bytes();
        if raw.len() < MIN_SECRET_LEN {
            return Err(WeakSecret);
        }
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"opsflow-secret-cipher"), raw);
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
        hk.expand(b"aes-256-gcm v1", &mut key).map_err(|_| WeakSecret)?;
        let aead = Aes256Gcm::new(&key.into());
        Ok(Self { aead })
    }
}

impl SecretCipher for AesGcmCipher {
    fn seal(&self, plaintext: &str, context: &[u8]) -> Result<String, CipherError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: context })
            .map_err(|_| CipherError::Malformed)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{VERSION}{}", STANDARD_NO_PAD.encode(out)))
    }

    fn open(&self, sealed: &str, context: &[u8]) -> Result<String, CipherError> {
        let body = sealed.strip_prefix(VERSION).ok_or(CipherError::Malformed)?;
        let bytes = STANDARD_NO_PAD.decode(body).map_err(|_| CipherError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(CipherError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CipherError::Malformed)?;
        let plain = self
            .aead
            .decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad: context })
            .map_err(|_| CipherError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| CipherError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(secret: &str) -> AesGcmCipher {
        AesGcmCipher::new(&SecretString::from(secret.to_owned())).unwrap()
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef-test";

    #[test]
    fn round_trips_and_never_repeats_a_ciphertext() {
        let c = cipher(KEY);
        let a = c.seal("app password ünïcödé", b"mailbox:t1:imap").unwrap();
        let b = c.seal("app password ünïcödé", b"mailbox:t1:imap").unwrap();
        assert_ne!(a, b, "a fresh nonce per seal");
        assert!(a.starts_with("v1:") && a.is_ascii());
        assert!(!a.contains("password"));
        assert_eq!(c.open(&a, b"mailbox:t1:imap").unwrap(), "app password ünïcödé");
        assert_eq!(c.open(&b, b"mailbox:t1:imap").unwrap(), "app password ünïcödé");
        assert_eq!(c.open(&c.seal("", b"").unwrap(), b"").unwrap(), "");
    }

    #[test]
    fn another_context_key_or_altered_bytes_do_not_open() {
        let c = cipher(KEY);
        let sealed = c.seal("s3cret", b"mailbox:t1:imap").unwrap();
        assert_eq!(c.open(&sealed, b"mailbox:t2:imap"), Err(CipherError::Undecryptable));
        let other = cipher("another-key-of-at-least-32-bytes!!");
        assert_eq!(other.open(&sealed, b"mailbox:t1:imap"), Err(CipherError::Undecryptable));
        let mut bytes = STANDARD_NO_PAD.decode(&sealed[3..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = format!("v1:{}", STANDARD_NO_PAD.encode(bytes));
        assert_eq!(c.open(&altered, b"mailbox:t1:imap"), Err(CipherError::Undecryptable));
    }

    #[test]
    fn malformed_values_and_short_secrets_are_refused() {
        let c = cipher(KEY);
        for bad in ["", "s3cret", "v2:AAAA", "v1:***", "v1:AAAA"] {
            assert_eq!(c.open(bad, b""), Err(CipherError::Malformed), "{bad}");
        }
        assert_eq!(
            AesGcmCipher::new(&SecretString::from("short".to_owned())).err(),
            Some(WeakSecret)
        );
    }
}
