//! The policy for passwords people choose (OWASP ASVS L2 §2.1): length and a strength check
//! against the common and breached-like passwords bundled with `zxcvbn`.
//!
//! It applies to NEW passwords only (sign-up, password change). Logging in takes any
//! [`Password`], so people whose older password predates the policy can still sign in and
//! change it. The check lives here rather than in the domain because the domain crate takes no
//! dependency beyond its short allow-list.

use std::fmt;

use opsflow_domain::Password;

/// Why a new password was refused. The messages are shown next to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Empty or only whitespace.
    #[error("must not be empty")]
    Empty,
    /// Fewer than [`NewPassword::MIN_CHARS`] characters.
    #[error("must be at least {min} characters")]
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// More than [`NewPassword::MAX_CHARS`] characters.
    #[error("must be at most {max} characters")]
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// Found among common passwords, or guessable from dictionary words, patterns, dates or the
    /// person's own name, email or workspace.
    #[error(
        "is too common or too easy to guess; use a longer phrase of unrelated words or a \
         password manager"
    )]
    TooWeak,
}

/// A password that satisfies the policy for new passwords. A value that exists is valid.
#[derive(Clone)]
pub struct NewPassword(Password);

impl NewPassword {
    /// Minimum length in characters (ASVS 2.1.1).
    pub const MIN_CHARS: usize = 12;
    /// Maximum length in characters (ASVS 2.1.2 asks for at least 64 to be allowed).
    pub const MAX_CHARS: usize = 128;
    /// The lowest zxcvbn score accepted (3: "safely unguessable", about 10^8 guesses or more).
    const MIN_SCORE: u8 = 3;

    /// Checks `raw` against the policy. `context` holds the person's own words (name, email,
    /// workspace name) that must not make the password guessable.
    ///
    /// # Errors
    /// [`PasswordPolicyError`].
    pub fn new(raw: &str, context: &[&str]) -> Result<Self, PasswordPolicyError> {
        if raw.trim().is_empty() {
            return Err(PasswordPolicyError::Empty);
        }
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(PasswordPolicyError::TooShort { min: Self::MIN_CHARS });
        }
        if n > Self::MAX_CHARS {
            return Err(PasswordPolicyError::TooLong { max: Self::MAX_CHARS });
        }
        // Whole inputs and their words: "Acme Agency" should also catch "acme2026".
        let lowered: Vec<String> = context.iter().map(|c| c.to_lowercase()).collect();
        let mut words: Vec<&str> = lowered.iter().map(String::as_str).collect();
        words.extend(
            lowered
                .iter()
                .flat_map(|c| c.split(|ch: char| !ch.is_alphanumeric()))
                .filter(|w| w.chars().count() >= 3),
        );
        let score: u8 = zxcvbn::zxcvbn(raw, &words).score().into();
        if score < Self::MIN_SCORE {
            return Err(PasswordPolicyError::TooWeak);
        }
        let password = Password::new(raw).map_err(|_| PasswordPolicyError::TooLong {
            max: Self::MAX_CHARS.min(Password::MAX_CHARS),
        })?;
        Ok(Self(password))
    }

    /// The password, for hashing.
    #[must_use]
    pub fn as_password(&self) -> &Password {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_passwords_of_twelve_to_128_characters_pass() {
        assert!(NewPassword::new("Sturdy-Otter-4821", &[]).is_ok());
        assert!(NewPassword::new("violet kettle drums upward", &[]).is_ok());
        let long: String = "Qx7!mZ2@vL9#".repeat(10) + "Qx7!mZ2@";
        assert_eq!(long.chars().count(), 128);
        assert!(NewPassword::new(&long, &[]).is_ok());
    }

    #[test]
    fn length_limits_are_enforced() {
        assert_eq!(
            NewPassword::new("Qx7!mZ2@vL9", &[]).unwrap_err(),
            PasswordPolicyError::TooShort { min: 12 }
        );
        let too_long: String = "Qx7!mZ2@vL9#".repeat(11);
        assert_eq!(
            NewPassword::new(&too_long, &[]).unwrap_err(),
            PasswordPolicyError::TooLong { max: 128 }
        );
        assert_eq!(
            NewPassword::new("              ", &[]).unwrap_err(),
            PasswordPolicyError::Empty
        );
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for weak in ["password", "password1234", "qwertyuiop123", "123456789012", "aaaaaaaaaaaaaa"]
        {
            let e = NewPassword::new(weak, &[]);
            assert!(
                matches!(
                    e,
                    Err(PasswordPolicyError::TooWeak | PasswordPolicyError::TooShort { .. })
                ),
                "{weak} was accepted"
            );
        }
        assert_eq!(
            NewPassword::new("password1234", &[]).unwrap_err(),
            PasswordPolicyError::TooWeak
        );
    }

    #[test]
    fn the_persons_own_words_count_against_the_password() {
        let own = "Zyntharo Quellbrook";
        assert!(NewPassword::new("zyntharoquellbrook", &[]).is_ok());
        assert_eq!(
            NewPassword::new("zyntharoquellbrook", &[own, "ada@zyntharo.example"]).unwrap_err(),
            PasswordPolicyError::TooWeak
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let p = NewPassword::new("Sturdy-Otter-4821", &[]).unwrap();
        assert_eq!(format!("{p:?}"), "NewPassword(***)");
    }
}
