//! Structured reply policies of a workspace: sign-off, support hours, status page, languages and
//! forbidden commitments, which every draft honours (the offline engine as well as language
//! models) and which the guardrails check.
//!
//! Time zones are checked against a fixed list of common IANA names (see [`TIME_ZONES`]) rather
//! than a time-zone database: the engine only names the zone in a sentence, it never converts
//! times, so the domain crate stays free of a database crate. Adding a zone is one line.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a policy value was rejected. The message is what the API puts under the field's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Empty or only whitespace where text is required.
    #[error("must not be empty")]
    Empty,
    /// Longer than allowed (characters).
    #[error("must be at most {max} characters")]
    TooLong {
        /// The maximum number of characters.
        max: usize,
    },
    /// More list items than allowed.
    #[error("must have at most {max} items")]
    TooMany {
        /// The maximum number of items.
        max: usize,
    },
    /// The same item twice in a list.
    #[error("lists {0:?} twice")]
    Duplicate(String),
    /// Not an `http://` or `https://` URL with a host.
    #[error("must be an http:// or https:// URL")]
    InvalidUrl,
    /// Not a two-letter ISO 639-1 language code.
    #[error("{0:?} is not an ISO 639-1 language code (two letters, such as en or de)")]
    UnknownLanguage(String),
    /// Not a time zone of the supported list.
    #[error("{0:?} is not a known IANA time zone (such as Europe/Berlin)")]
    UnknownTimeZone(String),
    /// Not a time of day `HH:MM`.
    #[error("{0:?} is not a time of day HH:MM (00:00 to 24:00)")]
    InvalidTime(String),
    /// A support-hours window without days.
    #[error("must name at least one day")]
    NoDays,
    /// A support-hours window that ends before it starts.
    #[error("must end after it starts")]
    EndNotAfterStart,
}

/// The sign-off that closes every draft ("Maria, Acme Support"); 1..=200 characters, may span
/// lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SignOff(String);

impl SignOff {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 200;

    /// Trims `raw` and checks its length.
    ///
    /// # Errors
    /// [`PolicyError::Empty`] or [`PolicyError::TooLong`].
    pub fn new(raw: &str) -> Result<Self, PolicyError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(PolicyError::Empty);
        }
        if t.chars().count() > Self::MAX_CHARS {
            return Err(PolicyError::TooLong { max: Self::MAX_CHARS });
        }
        Ok(Self(t.replace("\r\n", "\n")))
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SignOff {
    type Error = PolicyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<SignOff> for String {
    fn from(v: SignOff) -> Self {
        v.0
    }
}

/// The public status page (`http://` or `https://`, ≤ 500 characters, no spaces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StatusPageUrl(String);

impl StatusPageUrl {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 500;

    /// Checks scheme, host and length.
    ///
    /// # Errors
    /// [`PolicyError::Empty`], [`PolicyError::TooLong`] or [`PolicyError::InvalidUrl`].
    pub fn parse(raw: &str) -> Result<Self, PolicyError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(PolicyError::Empty);
        }
        if t.chars().count() > Self::MAX_CHARS {
            return Err(PolicyError::TooLong { max: Self::MAX_CHARS });
        }
        let lower = t.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or(PolicyError::InvalidUrl)?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit('@').next().unwrap_or_default();
        let name = host.split(':').next().unwrap_or_default();
        let valid_host = !name.is_empty()
            && !name.starts_with(['.', '-'])
            && !name.ends_with(['.', '-'])
            && name.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let no_bad_chars =
            !t.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(c));
        if valid_host && no_bad_chars {
            Ok(Self(t.to_owned()))
        } else {
            Err(PolicyError::InvalidUrl)
        }
    }

    /// The URL.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StatusPageUrl {
    type Error = PolicyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<StatusPageUrl> for String {
    fn from(v: StatusPageUrl) -> Self {
        v.0
    }
}

/// Every ISO 639-1 code.
const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi",
    "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de",
    "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy",
    "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia",
    "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk",
    "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo",
    "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd",
    "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl",
    "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl",
    "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk",
    "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa",
    "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// A two-letter ISO 639-1 language code, lower case (`en`, `de`, `es`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageCode(String);

impl LanguageCode {
    /// Accepts a code in any case (`EN` → `en`).
    ///
    /// # Errors
    /// [`PolicyError::UnknownLanguage`].
    pub fn parse(raw: &str) -> Result<Self, PolicyError> {
        let t = raw.trim().to_ascii_lowercase();
        if ISO_639_1.binary_search(&t.as_str()).is_ok() {
            Ok(Self(t))
        } else {
            Err(PolicyError::UnknownLanguage(raw.trim().to_owned()))
        }
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LanguageCode {
    type Error = PolicyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<LanguageCode> for String {
    fn from(v: LanguageCode) -> Self {
        v.0
    }
}

impl fmt::Display for LanguageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The workspace's reply languages: the first is the default (at most 10, no duplicates; empty
/// means English only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<LanguageCode>", into = "Vec<LanguageCode>")]
pub struct Languages(Vec<LanguageCode>);

impl Languages {
    /// Maximum number of languages.
    pub const MAX_ITEMS: usize = 10;

    /// Checks count and duplicates.
    ///
    /// # Errors
    /// [`PolicyError::TooMany`] or [`PolicyError::Duplicate`].
    pub fn new(codes: Vec<LanguageCode>) -> Result<Self, PolicyError> {
        if codes.len() > Self::MAX_ITEMS {
            return Err(PolicyError::TooMany { max: Self::MAX_ITEMS });
        }
        for (i, c) in codes.iter().enumerate() {
            if codes[..i].contains(c) {
                return Err(PolicyError::Duplicate(c.0.clone()));
            }
        }
        Ok(Self(codes))
    }

    /// Parses every code, then checks the list.
    ///
    /// # Errors
    /// As [`LanguageCode::parse`] and [`Self::new`].
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, PolicyError> {
        let codes =
            raw.iter().map(|s| LanguageCode::parse(s.as_ref())).collect::<Result<_, _>>()?;
        Self::new(codes)
    }

    /// The codes, default first.
    #[must_use]
    pub fn codes(&self) -> &[LanguageCode] {
        &self.0
    }

    /// The default language: the first listed, English when none is.
    #[must_use]
    pub fn default_code(&self) -> &str {
        self.0.first().map_or("en", LanguageCode::as_str)
    }

    /// Whether `code` is one of the workspace's languages (English when none is listed).
    #[must_use]
    pub fn contains(&self, code: &str) -> bool {
        if self.0.is_empty() { code == "en" } else { self.0.iter().any(|c| c.0 == code) }
    }
}

impl TryFrom<Vec<LanguageCode>> for Languages {
    type Error = PolicyError;
    fn try_from(value: Vec<LanguageCode>) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Languages> for Vec<LanguageCode> {
    fn from(v: Languages) -> Self {
        v.0
    }
}

/// A short phrase no draft may contain ("refund", "delivery date"): 1..=60 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ForbiddenPhrase(String);

impl ForbiddenPhrase {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 60;

    /// Trims `raw` and collapses inner whitespace.
    ///
    /// # Errors
    /// [`PolicyError::Empty`] or [`PolicyError::TooLong`].
    pub fn new(raw: &str) -> Result<Self, PolicyError> {
        let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if t.is_empty() {
            return Err(PolicyError::Empty);
        }
        if t.chars().count() > Self::MAX_CHARS {
            return Err(PolicyError::TooLong { max: Self::MAX_CHARS });
        }
        Ok(Self(t))
    }

    /// The phrase.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `text` contains the phrase as whole words, ignoring case ("refund" matches
    /// "Refund." but not "refunded" or "nonrefundable").
    #[must_use]
    pub fn occurs_in(&self, text: &str) -> bool {
        let needle: Vec<String> = words(&self.0);
        if needle.is_empty() {
            return false;
        }
        let hay = words(text);
        hay.windows(needle.len()).any(|w| w == needle.as_slice())
    }
}

/// The lower-cased words of `text` (letters, digits and inner apostrophes).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| w.trim_matches(['\'', '’']).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

impl TryFrom<String> for ForbiddenPhrase {
    type Error = PolicyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<ForbiddenPhrase> for String {
    fn from(v: ForbiddenPhrase) -> Self {
        v.0
    }
}

/// The phrases no draft may contain: at most 20, no duplicates (ignoring case).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<ForbiddenPhrase>", into = "Vec<ForbiddenPhrase>")]
pub struct ForbiddenCommitments(Vec<ForbiddenPhrase>);

impl ForbiddenCommitments {
    /// Maximum number of phrases.
    pub const MAX_ITEMS: usize = 20;

    /// Checks count and duplicates.
    ///
    /// # Errors
    /// [`PolicyError::TooMany`] or [`PolicyError::Duplicate`].
    pub fn new(phrases: Vec<ForbiddenPhrase>) -> Result<Self, PolicyError> {
        if phrases.len() > Self::MAX_ITEMS {
            return Err(PolicyError::TooMany { max: Self::MAX_ITEMS });
        }
        for (i, p) in phrases.iter().enumerate() {
            if phrases[..i].iter().any(|q| q.0.to_lowercase() == p.0.to_lowercase()) {
                return Err(PolicyError::Duplicate(p.0.clone()));
            }
        }
        Ok(Self(phrases))
    }

    /// Parses every phrase, then checks the list.
    ///
    /// # Errors
    /// As [`ForbiddenPhrase::new`] and [`Self::new`].
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, PolicyError> {
        let phrases =
            raw.iter().map(|s| ForbiddenPhrase::new(s.as_ref())).collect::<Result<_, _>>()?;
        Self::new(phrases)
    }

    /// The phrases.
    #[must_use]
    pub fn phrases(&self) -> &[ForbiddenPhrase] {
        &self.0
    }

    /// The phrases that occur in `text` (see [`ForbiddenPhrase::occurs_in`]).
    #[must_use]
    pub fn found_in(&self, text: &str) -> Vec<&ForbiddenPhrase> {
        self.0.iter().filter(|p| p.occurs_in(text)).collect()
    }
}

impl TryFrom<Vec<ForbiddenPhrase>> for ForbiddenCommitments {
    type Error = PolicyError;
    fn try_from(value: Vec<ForbiddenPhrase>) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ForbiddenCommitments> for Vec<ForbiddenPhrase> {
    fn from(v: ForbiddenCommitments) -> Self {
        v.0
    }
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// Monday to Sunday.
    pub const ALL: [Self; 7] = [
        Self::Monday,
        Self::Tuesday,
        Self::Wednesday,
        Self::Thursday,
        Self::Friday,
        Self::Saturday,
        Self::Sunday,
    ];

    /// The wire name (`monday`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Monday => "monday",
            Self::Tuesday => "tuesday",
            Self::Wednesday => "wednesday",
            Self::Thursday => "thursday",
            Self::Friday => "friday",
            Self::Saturday => "saturday",
            Self::Sunday => "sunday",
        }
    }

    /// Parses a wire name, in any case.
    ///
    /// # Errors
    /// A [`crate::ParseEnumError`] listing the accepted names.
    pub fn parse(raw: &str) -> Result<Self, crate::ParseEnumError> {
        let t = raw.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|d| d.as_str() == t).ok_or(crate::ParseEnumError {
            expected: "monday, tuesday, wednesday, thursday, friday, saturday, sunday",
        })
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// A time of day, `00:00` to `24:00`, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime(u16);

impl ClockTime {
    /// Parses `HH:MM` (`9:00` is accepted; `24:00` is the end of the day).
    ///
    /// # Errors
    /// [`PolicyError::InvalidTime`].
    pub fn parse(raw: &str) -> Result<Self, PolicyError> {
        let bad = || PolicyError::InvalidTime(raw.trim().to_owned());
        let (h, m) = raw.trim().split_once(':').ok_or_else(bad)?;
        let digits = |s: &str, n: std::ops::RangeInclusive<usize>| {
            n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(h, 1..=2) || !digits(m, 2..=2) {
            return Err(bad());
        }
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        if m >= 60 || h > 24 || (h == 24 && m != 0) {
            return Err(bad());
        }
        Ok(Self(h * 60 + m))
    }

    /// Minutes since midnight.
    #[must_use]
    pub const fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl TryFrom<String> for ClockTime {
    type Error = PolicyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ClockTime> for String {
    fn from(v: ClockTime) -> Self {
        v.to_string()
    }
}

/// The IANA time zones a workspace can pick (sorted). A fixed list: the engine names the zone
/// in a sentence and never converts times, so no time-zone database is needed.
pub const TIME_ZONES: &[&str] = &[
    "Africa/Cairo",
    "Africa/Casablanca",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Africa/Nairobi",
    "America/Anchorage",
    "America/Argentina/Buenos_Aires",
    "America/Bogota",
    "America/Chicago",
    "America/Denver",
    "America/Halifax",
    "America/Lima",
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/New_York",
    "America/Phoenix",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/St_Johns",
    "America/Toronto",
    "America/Vancouver",
    "Asia/Bangkok",
    "Asia/Dhaka",
    "Asia/Dubai",
    "Asia/Hong_Kong",
    "Asia/Jakarta",
    "Asia/Jerusalem",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Manila",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Taipei",
    "Asia/Tehran",
    "Asia/Tokyo",
    "Atlantic/Reykjavik",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Melbourne",
    "Australia/Perth",
    "Australia/Sydney",
    "Europe/Amsterdam",
    "Europe/Athens",
    "Europe/Berlin",
    "Europe/Brussels",
    "Europe/Bucharest",
    "Europe/Budapest",
    "Europe/Copenhagen",
    "Europe/Dublin",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Europe/Kyiv",
    "Europe/Lisbon",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Moscow",
    "Europe/Oslo",
    "Europe/Paris",
    "Europe/Prague",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Vienna",
    "Europe/Warsaw",
    "Europe/Zurich",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "UTC",
];

/// An IANA time zone name from [`TIME_ZONES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Accepts a listed name in any case (`europe/berlin` → `Europe/Berlin`).
    ///
    /// # Errors
    /// [`PolicyError::UnknownTimeZone`].
    pub fn parse(raw: &str) -> Result<Self, PolicyError> {
        let t = raw.trim();
        TIME_ZONES
            .iter()
            .find(|z| z.eq_ignore_ascii_case(t))
            .map(|z| Self((*z).to_owned()))
            .ok_or_else(|| PolicyError::UnknownTimeZone(t.to_owned()))
    }

    /// The canonical name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = PolicyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TimeZoneName> for String {
    fn from(v: TimeZoneName) -> Self {
        v.0
    }
}

/// The raw shape of [`SupportHours`] on the wire, checked on the way in.
#[derive(Deserialize)]
struct RawSupportHours {
    days: Vec<Weekday>,
    start: ClockTime,
    end: ClockTime,
    time_zone: TimeZoneName,
}

/// When the team answers: the same hours on each listed day, in one time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSupportHours")]
pub struct SupportHours {
    days: Vec<Weekday>,
    start: ClockTime,
    end: ClockTime,
    time_zone: TimeZoneName,
}

impl TryFrom<RawSupportHours> for SupportHours {
    type Error = PolicyError;
    fn try_from(r: RawSupportHours) -> Result<Self, Self::Error> {
        Self::new(r.days, r.start, r.end, r.time_zone)
    }
}

impl SupportHours {
    /// Sorts and de-duplicates the days and checks the window.
    ///
    /// # Errors
    /// [`PolicyError::NoDays`] or [`PolicyError::EndNotAfterStart`].
    pub fn new(
        mut days: Vec<Weekday>,
        start: ClockTime,
        end: ClockTime,
        time_zone: TimeZoneName,
    ) -> Result<Self, PolicyError> {
        days.sort();
        days.dedup();
        if days.is_empty() {
            return Err(PolicyError::NoDays);
        }
        if end <= start {
            return Err(PolicyError::EndNotAfterStart);
        }
        Ok(Self { days, start, end, time_zone })
    }

    /// The days, Monday first.
    #[must_use]
    pub fn days(&self) -> &[Weekday] {
        &self.days
    }

    /// Opening time.
    #[must_use]
    pub const fn start(&self) -> ClockTime {
        self.start
    }

    /// Closing time.
    #[must_use]
    pub const fn end(&self) -> ClockTime {
        self.end
    }

    /// The time zone.
    #[must_use]
    pub const fn time_zone(&self) -> &TimeZoneName {
        &self.time_zone
    }

    /// The days as runs of consecutive days, each `(first, last)`.
    #[must_use]
    pub fn day_runs(&self) -> Vec<(Weekday, Weekday)> {
        let mut runs: Vec<(Weekday, Weekday)> = Vec::new();
        for &d in &self.days {
            match runs.last_mut() {
                Some((_, last)) if last.index() + 1 == d.index() => *last = d,
                _ => runs.push((d, d)),
            }
        }
        runs
    }

    /// The hours in English: "Monday to Friday, 09:00–17:00 (Europe/Berlin)".
    #[must_use]
    pub fn render(&self) -> String {
        self.render_with(&english_day, " to ", " and ")
    }

    /// The hours with day names from `day_name` and the words joining a run of days (" to ")
    /// and the last two parts (" and ") of the language the text is in.
    #[must_use]
    pub fn render_with(
        &self,
        day_name: &dyn Fn(Weekday) -> &'static str,
        through: &str,
        and: &str,
    ) -> String {
        let parts: Vec<String> = self
            .day_runs()
            .into_iter()
            .flat_map(|(a, b)| {
                if a == b {
                    vec![day_name(a).to_owned()]
                } else if b.index() == a.index() + 1 {
                    vec![day_name(a).to_owned(), day_name(b).to_owned()]
                } else {
                    vec![format!("{}{through}{}", day_name(a), day_name(b))]
                }
            })
            .collect();
        let days = match parts.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{}{and}{last}", rest.join(", ")),
            Some((last, _)) => last.clone(),
            None => String::new(),
        };
        format!("{days}, {}–{} ({})", self.start, self.end, self.time_zone.as_str())
    }
}

/// A weekday's English name.
#[must_use]
pub const fn english_day(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// A workspace's structured reply policies. Every field is optional: an empty policy is the
/// default of a new or existing workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplyPolicy {
    /// Closes every draft; `None` signs as "The {workspace} team".
    pub sign_off: Option<SignOff>,
    /// When the team answers; mentioned where a draft promises follow-up.
    pub support_hours: Option<SupportHours>,
    /// Linked in drafts about bugs and outages of high or urgent priority.
    pub status_page_url: Option<StatusPageUrl>,
    /// The languages drafts may be written in; the first is the default.
    pub languages: Languages,
    /// Phrases no draft may contain; a human reply with one needs confirming.
    pub forbidden_commitments: ForbiddenCommitments,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn hours(days: &[Weekday], start: &str, end: &str) -> Result<SupportHours, PolicyError> {
        SupportHours::new(
            days.to_vec(),
            ClockTime::parse(start)?,
            ClockTime::parse(end)?,
            TimeZoneName::parse("europe/berlin")?,
        )
    }

    use Weekday::{Friday, Monday, Saturday, Sunday, Thursday, Tuesday, Wednesday};

    #[rstest]
    #[case(&[Monday, Tuesday, Wednesday, Thursday, Friday], "Monday to Friday, 09:00–17:00 (Europe/Berlin)")]
    #[case(&[Friday, Monday, Wednesday], "Monday, Wednesday and Friday, 09:00–17:00 (Europe/Berlin)")]
    #[case(&[Saturday, Sunday], "Saturday and Sunday, 09:00–17:00 (Europe/Berlin)")]
    #[case(&[Tuesday, Tuesday], "Tuesday, 09:00–17:00 (Europe/Berlin)")]
    #[case(&[Monday, Tuesday, Wednesday, Saturday], "Monday to Wednesday and Saturday, 09:00–17:00 (Europe/Berlin)")]
    fn support_hours_render(#[case] days: &[Weekday], #[case] want: &str) {
        assert_eq!(hours(days, "9:00", "17:00").expect("valid").render(), want);
    }

    #[test]
    fn support_hours_are_checked() {
        assert_eq!(hours(&[], "09:00", "17:00"), Err(PolicyError::NoDays));
        assert_eq!(hours(&[Monday], "17:00", "09:00"), Err(PolicyError::EndNotAfterStart));
        assert_eq!(hours(&[Monday], "09:00", "09:00"), Err(PolicyError::EndNotAfterStart));
        assert!(hours(&[Monday], "00:00", "24:00").is_ok());
        for bad in ["24:30", "9", "09:60", "9:5", "ab:cd", "-1:00", "123:00", ""] {
            assert!(matches!(ClockTime::parse(bad), Err(PolicyError::InvalidTime(_))), "{bad}");
        }
        assert_eq!(
            TimeZoneName::parse("Mars/Olympus"),
            Err(PolicyError::UnknownTimeZone("Mars/Olympus".into()))
        );
        assert!(TIME_ZONES.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    }

    #[test]
    fn support_hours_round_trip_and_reject_bad_json() {
        let h = hours(&[Monday, Friday], "08:30", "16:00").expect("valid");
        let json = serde_json::to_value(&h).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"days": ["monday", "friday"], "start": "08:30", "end": "16:00",
                "time_zone": "Europe/Berlin"})
        );
        assert_eq!(serde_json::from_value::<SupportHours>(json).expect("back"), h);
        let bad = serde_json::json!({"days": [], "start": "08:30", "end": "16:00",
            "time_zone": "Europe/Berlin"});
        assert!(serde_json::from_value::<SupportHours>(bad).is_err());
    }

    #[rstest]
    #[case("https://status.acme.example", true)]
    #[case("http://status.acme.example:8080/page?x=1#top", true)]
    #[case("HTTPS://Status.Example", true)]
    #[case("ftp://status.acme.example", false)]
    #[case("javascript:alert(1)", false)]
    #[case("https://", false)]
    #[case("https:///path", false)]
    #[case("https://exa mple.com", false)]
    #[case("status.acme.example", false)]
    #[case("https://-bad.example", false)]
    fn status_page_urls(#[case] raw: &str, #[case] ok: bool) {
        assert_eq!(StatusPageUrl::parse(raw).is_ok(), ok, "{raw}");
    }

    #[test]
    fn status_page_url_length() {
        let long = format!("https://a.example/{}", "p".repeat(500));
        assert_eq!(StatusPageUrl::parse(&long), Err(PolicyError::TooLong { max: 500 }));
    }

    #[test]
    fn languages_are_iso_codes_without_duplicates() {
        assert!(ISO_639_1.windows(2).all(|w| w[0] < w[1]), "sorted for binary search");
        let l = Languages::parse(&["DE", "en"]).expect("valid");
        assert_eq!(l.default_code(), "de");
        assert!(l.contains("en") && !l.contains("es"));
        assert_eq!(Languages::default().default_code(), "en");
        assert!(Languages::default().contains("en"));
        assert_eq!(Languages::parse(&["en", "xx"]), Err(PolicyError::UnknownLanguage("xx".into())));
        assert_eq!(Languages::parse(&["eng"]), Err(PolicyError::UnknownLanguage("eng".into())));
        assert_eq!(Languages::parse(&["en", "EN"]), Err(PolicyError::Duplicate("en".into())));
        let eleven = ["en", "de", "es", "fr", "it", "nl", "pt", "pl", "sv", "da", "fi"];
        assert_eq!(Languages::parse(&eleven), Err(PolicyError::TooMany { max: 10 }));
    }

    #[test]
    fn forbidden_phrases_match_whole_words_ignoring_case() {
        let refund = ForbiddenPhrase::new(" refund ").expect("valid");
        assert!(refund.occurs_in("We will REFUND you."));
        assert!(refund.occurs_in("a refund, today"));
        assert!(!refund.occurs_in("It was refunded."));
        assert!(!refund.occurs_in("nonrefundable"));
        let date = ForbiddenPhrase::new("delivery   date").expect("valid");
        assert_eq!(date.as_str(), "delivery date");
        assert!(date.occurs_in("The Delivery\ndate is set."));
        assert!(!date.occurs_in("delivery dates"));
        assert_eq!(ForbiddenPhrase::new("  "), Err(PolicyError::Empty));
        assert_eq!(ForbiddenPhrase::new(&"x".repeat(61)), Err(PolicyError::TooLong { max: 60 }));
    }

    #[test]
    fn forbidden_lists_are_bounded_and_unique() {
        let list = ForbiddenCommitments::parse(&["refund", "discount"]).expect("valid");
        let found: Vec<&str> =
            list.found_in("No discount, sorry.").iter().map(|p| p.as_str()).collect();
        assert_eq!(found, ["discount"]);
        assert_eq!(
            ForbiddenCommitments::parse(&["Refund", "refund"]),
            Err(PolicyError::Duplicate("refund".into()))
        );
        let many: Vec<String> = (0..21).map(|i| format!("p{i}")).collect();
        assert_eq!(ForbiddenCommitments::parse(&many), Err(PolicyError::TooMany { max: 20 }));
    }

    #[test]
    fn sign_off_is_bounded() {
        assert_eq!(
            SignOff::new(" Maria, Acme Support ").expect("ok").as_str(),
            "Maria, Acme Support"
        );
        assert_eq!(SignOff::new(""), Err(PolicyError::Empty));
        assert!(SignOff::new(&"s".repeat(200)).is_ok());
        assert_eq!(SignOff::new(&"s".repeat(201)), Err(PolicyError::TooLong { max: 200 }));
    }

    #[test]
    fn a_policy_round_trips_and_old_rows_read_as_empty() {
        let policy = ReplyPolicy {
            sign_off: Some(SignOff::new("Maria").expect("ok")),
            support_hours: Some(hours(&[Monday], "09:00", "12:00").expect("ok")),
            status_page_url: Some(StatusPageUrl::parse("https://s.example").expect("ok")),
            languages: Languages::parse(&["es", "en"]).expect("ok"),
            forbidden_commitments: ForbiddenCommitments::parse(&["refund"]).expect("ok"),
        };
        let json = serde_json::to_string(&policy).expect("json");
        assert_eq!(serde_json::from_str::<ReplyPolicy>(&json).expect("back"), policy);
        assert_eq!(
            serde_json::from_str::<ReplyPolicy>("{}").expect("empty"),
            ReplyPolicy::default()
        );
        assert!(serde_json::from_str::<ReplyPolicy>(r#"{"languages": ["zz"]}"#).is_err());
    }
}
