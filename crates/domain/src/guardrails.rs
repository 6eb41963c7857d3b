//! Deterministic guardrails for drafted replies: no pricing promises, hard deadlines, or refund
//! and credit commitments go out without a person seeing a flag.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::policy::ForbiddenCommitments;

/// A kind of commitment a drafted reply must not make on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardrailFlag {
    /// A price, discount or "free" promise.
    PricingPromise,
    /// A specific deadline or guaranteed time ("by Friday", "within 24 hours").
    HardDeadline,
    /// A promise of a refund, credit or reimbursement.
    RefundCommitment,
    /// One of the workspace's forbidden commitments (its structured policies).
    ForbiddenCommitment,
}

impl GuardrailFlag {
    /// The wire text of the flag.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::PricingPromise => "pricing_promise",
            Self::HardDeadline => "hard_deadline",
            Self::RefundCommitment => "refund_commitment",
            Self::ForbiddenCommitment => "forbidden_commitment",
        }
    }
}

struct Rule {
    flag: GuardrailFlag,
    phrases: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        flag: GuardrailFlag::RefundCommitment,
        phrases: &[
            "we will refund",
            "we'll refund",
            "will be refunded",
            "you will receive a refund",
            "you'll receive a refund",
            "we will issue a refund",
            "we'll issue a refund",
            "full refund",
            "refund you",
            "we will credit",
            "we'll credit",
            "will be credited",
            "issue a credit",
            "apply a credit",
            "reimburse you",
            "will be reimbursed",
            "money back",
        ],
    },
    Rule {
        flag: GuardrailFlag::PricingPromise,
        phrases: &[
            "% off",
            "percent off",
            "discount",
            "free of charge",
            "at no cost",
            "at no extra cost",
            "at no charge",
            "for free",
            "price will",
            "we will waive",
            "we'll waive",
            "waive the fee",
            "price match",
            "lock in the price",
            "guaranteed price",
        ],
    },
    Rule {
        flag: GuardrailFlag::HardDeadline,
        phrases: &[
            "by tomorrow",
            "by monday",
            "by tuesday",
            "by wednesday",
            "by thursday",
            "by friday",
            "by saturday",
            "by sunday",
            "by end of day",
            "by the end of the day",
            "by eod",
            "by end of week",
            "by the end of the week",
            "by next week",
            "within 24 hours",
            "within 48 hours",
            "within the hour",
            "within an hour",
            "guarantee it will be",
            "guaranteed to be fixed",
            "will be fixed today",
            "will be fixed tomorrow",
            "will be live on",
            "will ship on",
        ],
    },
];

static MONEY: LazyLock<Vec<char>> = LazyLock::new(|| vec!['$', '€', '£']);

/// Scans a drafted reply and returns the commitments it makes, sorted and without duplicates.
#[must_use]
pub fn check_reply(text: &str) -> Vec<GuardrailFlag> {
    let lower = text.to_lowercase();
    let mut flags: Vec<GuardrailFlag> = RULES
        .iter()
        .filter(|r| r.phrases.iter().any(|p| lower.contains(p)))
        .map(|r| r.flag)
        .collect();
    // A currency amount ("$20", "€ 15") is a price statement.
    let has_amount = lower.char_indices().any(|(i, c)| {
        MONEY.contains(&c)
            && lower[i + c.len_utf8()..].trim_start().starts_with(|d: char| d.is_ascii_digit())
    });
    if has_amount {
        flags.push(GuardrailFlag::PricingPromise);
    }
    flags.sort();
    flags.dedup();
    flags
}

/// [`check_reply`] plus the workspace's forbidden commitments: a reply containing one of the
/// phrases (whole words, any case) is flagged [`GuardrailFlag::ForbiddenCommitment`].
#[must_use]
pub fn check_reply_with(text: &str, forbidden: &ForbiddenCommitments) -> Vec<GuardrailFlag> {
    let mut flags = check_reply(text);
    if !forbidden.found_in(text).is_empty() {
        flags.push(GuardrailFlag::ForbiddenCommitment);
        flags.sort();
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("Thanks, we are looking into this and will update you.", &[])]
    #[case("We'll refund the duplicate charge.", &[GuardrailFlag::RefundCommitment])]
    #[case("You get 20% off next month.", &[GuardrailFlag::PricingPromise])]
    #[case("The plan is only $19 per seat.", &[GuardrailFlag::PricingPromise])]
    #[case("It will be fixed by Friday.", &[GuardrailFlag::HardDeadline])]
    #[case(
        "We will credit your account within 24 hours.",
        &[GuardrailFlag::HardDeadline, GuardrailFlag::RefundCommitment]
    )]
    #[case("Our billing team will review the refund request.", &[])]
    fn flags(#[case] text: &str, #[case] want: &[GuardrailFlag]) {
        assert_eq!(check_reply(text), want);
    }

    #[test]
    fn workspace_phrases_are_flagged_as_whole_words() {
        let forbidden =
            ForbiddenCommitments::parse(&["delivery date", "compensation"]).expect("ok");
        assert_eq!(
            check_reply_with("We will confirm the Delivery Date soon.", &forbidden),
            [GuardrailFlag::ForbiddenCommitment]
        );
        assert_eq!(check_reply_with("No compensations here.", &forbidden), []);
        assert_eq!(
            check_reply_with("We'll refund you, as compensation.", &forbidden),
            [GuardrailFlag::RefundCommitment, GuardrailFlag::ForbiddenCommitment]
        );
        assert_eq!(check_reply_with("Thanks!", &ForbiddenCommitments::default()), []);
    }
}
