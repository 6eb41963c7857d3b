//! The secret-cipher port: encrypts credentials the server must read back (mailbox passwords,
//! webhook signing secrets) before they are stored.

/// Why a sealed value could not be opened (or a value sealed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// Not a value this cipher produced: wrong format or version.
    #[error("the stored secret is not in a recognised format")]
    Malformed,
    /// The value was sealed under another key or context, or was altered.
    #[error(
        "the stored secret cannot be decrypted with the configured key (OPSFLOW_SECRET_KEY changed?)"
    )]
    Undecryptable,
}

/// Authenticated encryption of small secrets at rest.
///
/// `context` is bound to the ciphertext (AEAD associated data): a value sealed for one context
/// (for example `b"mailbox:<tenant id>:imap"`) cannot be opened under another, so a row copied
/// between tenants or fields does not decrypt.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait SecretCipher: Send + Sync + 'static {
    /// Encrypts `plaintext` with a fresh random nonce; the result is printable ASCII.
    ///
    /// # Errors
    /// [`CipherError::Malformed`] only if the platform's random source fails.
    fn seal(&self, plaintext: &str, context: &[u8]) -> Result<String, CipherError>;

    /// Decrypts a value produced by [`SecretCipher::seal`] with the same context.
    ///
    /// # Errors
    /// [`CipherError::Malformed`] for anything not produced by `seal`;
    /// [`CipherError::Undecryptable`] for another key or context, or altered bytes.
    fn open(&self, sealed: &str, context: &[u8]) -> Result<String, CipherError>;
}
