//! Validated values: a value that exists is valid.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a piece of text was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty or only whitespace.
    #[error("must not be empty")]
    Empty,
    /// Longer than allowed (counted in characters).
    #[error("must be at most {max} characters")]
    TooLong {
        /// The maximum number of characters.
        max: usize,
    },
    /// Shorter than allowed (counted in characters).
    #[error("must be at least {min} characters")]
    TooShort {
        /// The minimum number of characters.
        min: usize,
    },
}

fn check_len(raw: &str, min: usize, max: usize) -> Result<(), TextError> {
    let n = raw.chars().count();
    if n > max {
        return Err(TextError::TooLong { max });
    }
    if n < min {
        return Err(TextError::TooShort { min });
    }
    Ok(())
}

macro_rules! trimmed_text {
    ($(#[$meta:meta])* $name:ident, max = $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Maximum length in characters.
            pub const MAX_CHARS: usize = $max;

            /// Trims `raw` and checks it is non-empty and at most
            #[doc = concat!(stringify!($max), " characters.")]
            ///
            /// # Errors
            /// [`TextError::Empty`] or [`TextError::TooLong`].
            pub fn new(raw: &str) -> Result<Self, TextError> {
                let t = raw.trim();
                if t.is_empty() {
                    return Err(TextError::Empty);
                }
                check_len(t, 1, $max)?;
                Ok(Self(t.to_owned()))
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = TextError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(&value)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

trimmed_text!(
    /// A workspace's display name (1..=100 characters).
    TenantName, max = 100
);
trimmed_text!(
    /// A person's name (1..=100 characters).
    PersonName, max = 100
);
trimmed_text!(
    /// A ticket subject (1..=200 characters).
    TicketSubject, max = 200
);
trimmed_text!(
    /// A ticket body (1..=20,000 characters).
    TicketBody, max = 20_000
);
trimmed_text!(
    /// The text of a reply (1..=20,000 characters).
    ReplyBody, max = 20_000
);

/// A tenant's reply policies: free text used in reply prompts; may be empty (≤ 10,000 chars).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Policies(String);

impl Policies {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 10_000;

    /// Trims `raw`; empty is allowed.
    ///
    /// # Errors
    /// [`TextError::TooLong`].
    pub fn new(raw: &str) -> Result<Self, TextError> {
        let t = raw.trim();
        check_len(t, 0, Self::MAX_CHARS)?;
        Ok(Self(t.to_owned()))
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Policies {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<Policies> for String {
    fn from(v: Policies) -> String {
        v.0
    }
}

/// Why an email address was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Empty or only whitespace.
    #[error("must not be empty")]
    Empty,
    /// Longer than 254 characters.
    #[error("must be at most 254 characters")]
    TooLong,
    /// Not of the form `local@domain.tld`.
    #[error("is not a valid email address")]
    Invalid,
}

/// An email address: trimmed, lower-cased, `local@domain` with a dot in the domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Maximum length in characters (RFC 5321 path limit).
    pub const MAX_CHARS: usize = 254;

    /// Parses and normalises an email address.
    ///
    /// # Errors
    /// [`EmailError::Empty`], [`EmailError::TooLong`] or [`EmailError::Invalid`].
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let t = raw.trim().to_lowercase();
        if t.is_empty() {
            return Err(EmailError::Empty);
        }
        if t.chars().count() > Self::MAX_CHARS {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = t.split_once('@').ok_or(EmailError::Invalid)?;
        let ok_local = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let ok_domain = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
        if !ok_local || !ok_domain {
            return Err(EmailError::Invalid);
        }
        Ok(Self(t))
    }

    /// The normalised address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(v: Email) -> String {
        v.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A plaintext password as typed by a person (8..=128 characters). Never stored or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Minimum length in characters.
    pub const MIN_CHARS: usize = 8;
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 128;

    /// Checks the length; the password is not trimmed, but all-whitespace is rejected.
    ///
    /// # Errors
    /// [`TextError::Empty`], [`TextError::TooShort`] or [`TextError::TooLong`].
    pub fn new(raw: &str) -> Result<Self, TextError> {
        if raw.trim().is_empty() {
            return Err(TextError::Empty);
        }
        check_len(raw, Self::MIN_CHARS, Self::MAX_CHARS)?;
        Ok(Self(raw.to_owned()))
    }

    /// A password typed at sign-in, to be verified (and counted) rather than judged: any
    /// non-empty text up to [`Self::MAX_CHARS`] characters, so a short wrong password is an
    /// ordinary failed attempt instead of an input error.
    ///
    /// # Errors
    /// [`TextError::Empty`] or [`TextError::TooLong`].
    pub fn candidate(raw: &str) -> Result<Self, TextError> {
        if raw.is_empty() {
            return Err(TextError::Empty);
        }
        check_len(raw, 1, Self::MAX_CHARS)?;
        Ok(Self(raw.to_owned()))
    }

    /// The plaintext, for hashing or verifying only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A workspace slug: lower-case ASCII letters, digits and single dashes (1..=60 chars).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why a slug was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// Not lower-case ASCII letters, digits and single inner dashes, 1..=60 long.
    #[error("must be 1-60 lower-case letters, digits or single dashes")]
    Invalid,
}

impl Slug {
    /// Maximum length.
    pub const MAX_LEN: usize = 60;

    /// Accepts an already-formed slug.
    ///
    /// # Errors
    /// [`SlugError::Invalid`].
    pub fn parse(raw: &str) -> Result<Self, SlugError> {
        let s = raw.trim();
        let valid = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--")
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid { Ok(Self(s.to_owned())) } else { Err(SlugError::Invalid) }
    }

    /// Derives a slug from a workspace name: ASCII-folds common accents, keeps letters and digits,
    /// joins words with single dashes. A name with no usable characters becomes `workspace`.
    #[must_use]
    pub fn from_name(name: &TenantName) -> Self {
        let mut out = String::new();
        let mut dash = false;
        for c in name.as_str().chars().flat_map(fold_char) {
            if c.is_ascii_alphanumeric() {
                if dash && !out.is_empty() {
                    out.push('-');
                }
                dash = false;
                out.push(c.to_ascii_lowercase());
            } else {
                dash = true;
            }
            if out.len() >= 50 {
                break;
            }
        }
        let out = out.trim_end_matches('-').to_owned();
        if out.is_empty() { Self("workspace".to_owned()) } else { Self(out) }
    }

    /// This slug with a numeric suffix, used when the base slug is taken (`acme` → `acme-2`).
    #[must_use]
    pub fn with_suffix(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let keep = Self::MAX_LEN.saturating_sub(suffix.len());
        let base: String = self.0.chars().take(keep).collect();
        Self(format!("{}{suffix}", base.trim_end_matches('-')))
    }

    /// The slug text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn fold_char(c: char) -> Vec<char> {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        '&' => "and",
        _ => return vec![c],
    };
    folded.chars().collect()
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(v: Slug) -> String {
        v.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("  Ann@Example.COM ", Ok("ann@example.com"))]
    #[case("a.b+tag@sub.example.co", Ok("a.b+tag@sub.example.co"))]
    #[case("", Err(EmailError::Empty))]
    #[case("   ", Err(EmailError::Empty))]
    #[case("no-at-sign", Err(EmailError::Invalid))]
    #[case("a@b", Err(EmailError::Invalid))]
    #[case("a@@b.com", Err(EmailError::Invalid))]
    #[case("a b@c.com", Err(EmailError::Invalid))]
    #[case(".a@c.com", Err(EmailError::Invalid))]
    #[case("a@-c.com", Err(EmailError::Invalid))]
    #[case("a@c.x", Err(EmailError::Invalid))]
    fn email_rules(#[case] raw: &str, #[case] want: Result<&str, EmailError>) {
        assert_eq!(Email::parse(raw).as_ref().map(Email::as_str), want.as_ref().map(|s| *s));
    }

    #[test]
    fn email_too_long() {
        let raw = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&raw), Err(EmailError::TooLong));
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(TicketSubject::new("  Hello ").map(|s| s.to_string()), Ok("Hello".into()));
        assert_eq!(TicketSubject::new(" \n\t "), Err(TextError::Empty));
        assert_eq!(TicketSubject::new(&"x".repeat(200)).map(|s| s.as_str().len()), Ok(200));
        assert_eq!(TicketSubject::new(&"x".repeat(201)), Err(TextError::TooLong { max: 200 }));
        // Characters, not bytes.
        assert!(PersonName::new(&"é".repeat(100)).is_ok());
        assert_eq!(PersonName::new(&"é".repeat(101)), Err(TextError::TooLong { max: 100 }));
        assert!(TicketBody::new(&"b".repeat(20_000)).is_ok());
        assert!(TicketBody::new(&"b".repeat(20_001)).is_err());
    }

    #[test]
    fn policies_may_be_empty() {
        assert_eq!(Policies::new("  ").map(|p| p.as_str().to_owned()), Ok(String::new()));
        assert!(Policies::new(&"p".repeat(10_001)).is_err());
    }

    #[rstest]
    #[case("", Err(TextError::Empty))]
    #[case("        ", Err(TextError::Empty))]
    #[case("short", Err(TextError::TooShort { min: 8 }))]
    #[case("longenough", Ok(()))]
    fn password_rules(#[case] raw: &str, #[case] want: Result<(), TextError>) {
        assert_eq!(Password::new(raw).map(|_| ()), want);
    }

    #[test]
    fn password_upper_bound_and_debug_hides() {
        assert!(Password::new(&"p".repeat(128)).is_ok());
        // At sign-in any non-empty password is a candidate to verify.
        assert!(Password::candidate("x").is_ok());
        assert!(Password::candidate("   ").is_ok());
        assert_eq!(Password::candidate("").map(|_| ()), Err(TextError::Empty));
        assert!(Password::candidate(&"p".repeat(129)).is_err());
        assert_eq!(
            Password::new(&"p".repeat(129)).map(|_| ()),
            Err(TextError::TooLong { max: 128 })
        );
        let p = Password::new("secret-password").expect("valid");
        assert!(!format!("{p:?}").contains("secret"));
    }

    #[rstest]
    #[case("Acme Agency", "acme-agency")]
    #[case("  Ünïcode Café & Co. ", "unicode-cafe-and-co")]
    #[case("!!!", "workspace")]
    #[case("日本", "workspace")]
    #[case("a--b__c", "a-b-c")]
    fn slug_from_name(#[case] name: &str, #[case] want: &str) {
        let n = TenantName::new(name).expect("valid name");
        let s = Slug::from_name(&n);
        assert_eq!(s.as_str(), want);
        assert!(Slug::parse(s.as_str()).is_ok());
    }

    #[test]
    fn slug_suffix_stays_valid() {
        let long = TenantName::new(&"x".repeat(100)).expect("valid");
        let s = Slug::from_name(&long).with_suffix(12);
        assert!(s.as_str().ends_with("-12"));
        assert!(Slug::parse(s.as_str()).is_ok());
        assert_eq!(Slug::parse("Bad Slug"), Err(SlugError::Invalid));
    }
}
