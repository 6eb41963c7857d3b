//! Field-level validation errors collected from a whole request.

use std::collections::BTreeMap;
use std::fmt;

/// Every invalid field of an input, by field name, with a message for each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    /// No errors yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A single error.
    #[must_use]
    pub fn single(field: &str, message: impl fmt::Display) -> Self {
        let mut e = Self::new();
        e.add(field, message);
        e
    }

    /// Records `message` for `field` (the first message for a field wins).
    pub fn add(&mut self, field: &str, message: impl fmt::Display) {
        self.0.entry(field.to_owned()).or_insert_with(|| message.to_string());
    }

    /// Returns the value, or records the error under `field` and returns `None`.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }

    /// Whether no error was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors by field.
    #[must_use]
    pub const fn fields(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// `Ok(())` if empty, else `Err(self)`.
    ///
    /// # Errors
    /// `self` when any field is invalid.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k} {v}")).collect();
        write!(f, "invalid input: {}", parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}
