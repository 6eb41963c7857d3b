//! Auto-triage on arrival: the workspace's mode and confidence thresholds, what started a run,
//! and the per-field decision (apply or only suggest) a finished run takes.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ParseEnumError;

str_enum!(
    /// Whether new tickets are triaged by themselves.
    #[derive(Default)]
    AutoTriageMode {
        /// Only people start triage runs (the default).
        #[default]
        Off => "off",
        /// Every new ticket is triaged; the results are shown as suggestions and no ticket
        /// field changes.
        Suggest => "suggest",
        /// Every new ticket is triaged; each field whose confidence reaches its threshold is
        /// set, the others stay suggestions.
        Apply => "apply",
    }
);

str_enum!(
    /// What started a triage run, which decides what its results may change.
    RunTrigger {
        /// A person asked for it: every result is applied (the behaviour of manual runs).
        Manual => "manual",
        /// Queued on arrival in [`AutoTriageMode::Suggest`]: nothing is applied.
        AutoSuggest => "auto_suggest",
        /// Queued on arrival in [`AutoTriageMode::Apply`]: confident results are applied.
        AutoApply => "auto_apply",
    }
);

impl RunTrigger {
    /// The trigger of a run queued on arrival in `mode`; `None` when the mode is off.
    #[must_use]
    pub const fn on_arrival(mode: AutoTriageMode) -> Option<Self> {
        match mode {
            AutoTriageMode::Off => None,
            AutoTriageMode::Suggest => Some(Self::AutoSuggest),
            AutoTriageMode::Apply => Some(Self::AutoApply),
        }
    }

    /// Whether the run was queued by itself rather than asked for by a person.
    #[must_use]
    pub const fn is_auto(self) -> bool {
        !matches!(self, Self::Manual)
    }
}

/// A threshold was not a number from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a number from 0 to 1")]
pub struct ThresholdError;

/// The confidence a result needs to be applied: a finite number from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Threshold(f64);

// A threshold is never NaN (see `new`), so equality is total.
impl Eq for Threshold {}

impl Threshold {
    /// Checks the range.
    ///
    /// # Errors
    /// [`ThresholdError`] for NaN, infinities and values outside 0..=1.
    pub fn new(value: f64) -> Result<Self, ThresholdError> {
        if value.is_finite() && (0.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ThresholdError)
        }
    }

    /// The number.
    #[must_use]
    pub const fn value(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

/// The per-field thresholds of [`AutoTriageMode::Apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoTriageThresholds {
    /// For the category.
    pub category: Threshold,
    /// For the priority.
    pub priority: Threshold,
    /// For the assignee (higher by default: a wrong assignee costs a hand-off).
    pub assignee: Threshold,
}

impl AutoTriageThresholds {
    /// The threshold of one field.
    #[must_use]
    pub const fn of(&self, field: TriageField) -> Threshold {
        match field {
            TriageField::Category => self.category,
            TriageField::Priority => self.priority,
            TriageField::Assignee => self.assignee,
        }
    }
}

impl Default for AutoTriageThresholds {
    fn default() -> Self {
        Self { category: Threshold(0.8), priority: Threshold(0.8), assignee: Threshold(0.9) }
    }
}

/// A workspace's auto-triage settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AutoTriageSettings {
    /// Off, suggest or apply.
    pub mode: AutoTriageMode,
    /// What `apply` needs per field.
    pub thresholds: AutoTriageThresholds,
}

str_enum!(
    /// A ticket field a triage run may set.
    TriageField {
        /// The category.
        Category => "category",
        /// The priority.
        Priority => "priority",
        /// The assignee.
        Assignee => "assignee",
    }
);

str_enum!(
    /// What a finished run did with one field's result.
    FieldOutcome {
        /// The ticket field was set to the result.
        Applied => "applied",
        /// The result is only shown; the ticket field did not change.
        Suggested => "suggested",
        /// A person set the field before the run finished; their value stays.
        KeptHuman => "kept_human",
    }
);

/// The decision on one field, with the reason people read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDecision {
    /// Which field.
    pub field: TriageField,
    /// Applied, suggested or kept.
    pub outcome: FieldOutcome,
    /// The result's confidence, when the step gave one.
    pub confidence: Option<f64>,
    /// The workspace threshold compared against (`apply` runs only).
    pub threshold: Option<Threshold>,
    /// Why, e.g. `confidence 0.62 < 0.80`.
    pub reason: String,
}

/// Decides one field: manual runs apply every result (as before auto-triage); a field a person
/// set before the run finished is kept; `suggest` runs apply nothing; `apply` runs apply a result
/// only when its confidence is given and at least the threshold.
#[must_use]
pub fn decide_field(
    trigger: RunTrigger,
    field: TriageField,
    confidence: Option<f64>,
    thresholds: &AutoTriageThresholds,
    set_by_person: bool,
) -> FieldDecision {
    let decision = |outcome, threshold, reason: String| FieldDecision {
        field,
        outcome,
        confidence,
        threshold,
        reason,
    };
    match trigger {
        RunTrigger::Manual => {
            decision(FieldOutcome::Applied, None, "a person started this run".to_owned())
        }
        _ if set_by_person => decision(
            FieldOutcome::KeptHuman,
            None,
            "a person set this field before the run finished".to_owned(),
        ),
        RunTrigger::AutoSuggest => {
            decision(FieldOutcome::Suggested, None, "the workspace is in suggest mode".to_owned())
        }
        RunTrigger::AutoApply => {
            let threshold = thresholds.of(field);
            match confidence {
                None => decision(
                    FieldOutcome::Suggested,
                    Some(threshold),
                    format!("no confidence given (threshold {threshold})"),
                ),
                Some(c) if c >= threshold.value() => decision(
                    FieldOutcome::Applied,
                    Some(threshold),
                    format!("confidence {c:.2} \u{2265} {threshold}"),
                ),
                Some(c) => decision(
                    FieldOutcome::Suggested,
                    Some(threshold),
                    format!("confidence {c:.2} < {threshold}"),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: f64) -> Threshold {
        Threshold::new(v).expect("valid")
    }

    #[test]
    fn thresholds_accept_only_numbers_from_zero_to_one() {
        assert_eq!(Threshold::new(0.0).map(Threshold::value), Ok(0.0));
        assert_eq!(Threshold::new(1.0).map(Threshold::value), Ok(1.0));
        for bad in [1.5, -0.1, f64::NAN, f64::INFINITY] {
            assert_eq!(Threshold::new(bad), Err(ThresholdError), "{bad}");
        }
    }

    #[test]
    fn defaults_are_off_with_stricter_assignee() {
        let s = AutoTriageSettings::default();
        assert_eq!(s.mode, AutoTriageMode::Off);
        assert_eq!(s.thresholds.of(TriageField::Priority), t(0.8));
        assert_eq!(s.thresholds.of(TriageField::Assignee), t(0.9));
        assert_eq!(RunTrigger::on_arrival(AutoTriageMode::Off), None);
        assert_eq!(RunTrigger::on_arrival(AutoTriageMode::Apply), Some(RunTrigger::AutoApply));
    }

    #[test]
    fn apply_needs_a_confidence_at_or_above_the_threshold() {
        let th = AutoTriageThresholds::default();
        let d = decide_field(RunTrigger::AutoApply, TriageField::Priority, Some(0.62), &th, false);
        assert_eq!(d.outcome, FieldOutcome::Suggested);
        assert_eq!(d.reason, "confidence 0.62 < 0.80");
        let d = decide_field(RunTrigger::AutoApply, TriageField::Priority, Some(0.8), &th, false);
        assert_eq!(d.outcome, FieldOutcome::Applied);
        let d = decide_field(RunTrigger::AutoApply, TriageField::Category, None, &th, false);
        assert_eq!(d.outcome, FieldOutcome::Suggested);
        let d = decide_field(RunTrigger::AutoApply, TriageField::Assignee, Some(0.85), &th, false);
        assert_eq!(d.outcome, FieldOutcome::Suggested, "assignee needs 0.9");
    }

    #[test]
    fn suggest_applies_nothing_people_win_and_manual_runs_apply_everything() {
        let th = AutoTriageThresholds::default();
        let d = decide_field(RunTrigger::AutoSuggest, TriageField::Category, Some(1.0), &th, false);
        assert_eq!(d.outcome, FieldOutcome::Suggested);
        let d = decide_field(RunTrigger::AutoApply, TriageField::Category, Some(1.0), &th, true);
        assert_eq!(d.outcome, FieldOutcome::KeptHuman);
        let d = decide_field(RunTrigger::Manual, TriageField::Category, None, &th, true);
        assert_eq!(d.outcome, FieldOutcome::Applied);
    }
}
