//! Urgency and impact cues for the priority decision.

use std::collections::HashMap;

use opsflow_domain::{Category, Priority};

use super::classifier::RegressionSettings;

/// A phrase (normalised words, matched on word boundaries) that signals a priority level.
struct Cue {
    phrase: &'static str,
    level: Priority,
}

const fn cue(phrase: &'static str, level: Priority) -> Cue {
    Cue { phrase, level }
}

use Priority::{High, Low, Urgent};

/// Outages, money stopping, security and data loss: act now.
/// Deadlines, blocked work, many people affected: act soon.
/// Cosmetic issues, questions, ideas, "no rush": can wait.
const CUES: &[Cue] = &[
    // urgent: the service or the money has stopped, or data or security is at risk
    cue("is down", Urgent),
    cue("are down", Urgent),
    cue("went down", Urgent),
    cue("site down", Urgent),
    cue("website down", Urgent),
    cue("server down", Urgent),
    cue("down again", Urgent),
    cue("outage", Urgent),
    cue("site offline", Urgent),
    cue("website is offline", Urgent),
    cue("completely offline", Urgent),
    cue("store unavailable", Urgent),
    cue("service unavailable", Urgent),
    cue("502", Urgent),
    cue("503", Urgent),
    cue("white screen", Urgent),
    cue("nobody can", Urgent),
    cue("no one can", Urgent),
    cue("none of our", Urgent),
    cue("all users", Urgent),
    cue("all our users", Urgent),
    cue("every user", Urgent),
    cue("all visitors", Urgent),
    cue("all our customers", Urgent),
    cue("for everyone", Urgent),
    cue("every member", Urgent),
    cue("all affected", Urgent),
    cue("users are affected", Urgent),
    cue("cannot take payments", Urgent),
    cue("cant take payments", Urgent),
    cue("take payments at all", Urgent),
    cue("nobody can finish", Urgent),
    cue("losing sales", Urgent),
    cue("revenue is at zero", Urgent),
    cue("hacked", Urgent),
    cue("malware", Urgent),
    cue("breach", Urgent),
    cue("compromised", Urgent),
    cue("privacy problem", Urgent),
    cue("another customers", Urgent),
    cue("confidential", Urgent),
    cue("data loss", Urgent),
    cue("are gone", Urgent),
    cue("lost data", Urgent),
    cue("emergency", Urgent),
    cue("work has stopped", Urgent),
    cue("suspended", Urgent),
    cue("reactivate", Urgent),
    cue("turn it back on", Urgent),
    cue("restore it", Urgent),
    cue("is unusable", Urgent),
    cue("stuck in pending", Urgent),
    cue("certificate expired", Urgent),
    cue("not private", Urgent),
    cue("immediately", Urgent),
    cue("right now", Urgent),
    cue("right away", Urgent),
    // high: blocked work, deadlines, many people or money affected
    cue("asap", High),
    cue("urgent", High),
    cue("urgently", High),
    cue("as soon as possible", High),
    cue("quickly", High),
    cue("blocked", High),
    cue("blocking", High),
    cue("deadline", High),
    cue("launch", High),
    cue("launches", High),
    cue("go live", High),
    cue("tomorrow", High),
    cue("today", High),
    cue("this afternoon", High),
    cue("this week", High),
    cue("next week", High),
    cue("before monday", High),
    cue("before friday", High),
    cue("before then", High),
    cue("before this weekend", High),
    cue("by then", High),
    cue("top priority", High),
    cue("board meeting", High),
    cue("investor", High),
    cue("scheduled for", High),
    cue("campaign", High),
    cue("promo", High),
    cue("sale", High),
    cue("many customers", High),
    cue("most of our", High),
    cue("lot of our", High),
    cue("several", High),
    cue("complaining", High),
    cue("complaints", High),
    cue("angry", High),
    cue("losing", High),
    cue("leads", High),
    cue("enquiries", High),
    cue("rankings", High),
    cue("giving away", High),
    cue("overcharged", High),
    cue("charged twice", High),
    cue("double charge", High),
    cue("two identical charges", High),
    cue("charged again", High),
    cue("still being charged", High),
    cue("stop the charges", High),
    cue("stop billing", High),
    cue("chargeback", High),
    cue("not match", High),
    cue("more than", High),
    cue("did not approve", High),
    cue("without our approval", High),
    cue("gdpr", High),
    cue("spam", High),
    cue("security", High),
    // low: cosmetic, questions, ideas, explicitly not urgent
    cue("no rush", Low),
    cue("not urgent", Low),
    cue("no hurry", Low),
    cue("low priority", Low),
    cue("not a priority", Low),
    cue("not important", Low),
    cue("whenever", Low),
    cue("when you have time", Low),
    cue("when you get a chance", Low),
    cue("when they have a moment", Low),
    cue("when you have a moment", Low),
    cue("at some point", Low),
    cue("someday", Low),
    cue("in the future", Low),
    cue("for the future", Low),
    cue("for later", Low),
    cue("roadmap", Low),
    cue("cosmetic", Low),
    cue("minor", Low),
    cue("small thing", Low),
    cue("small tweak", Low),
    cue("just a small", Low),
    cue("typo", Low),
    cue("slightly", Low),
    cue("a few pixels", Low),
    cue("not a big deal", Low),
    cue("nice to have", Low),
    cue("would be nice", Low),
    cue("would be cool", Low),
    cue("would be lovely", Low),
    cue("just an idea", Low),
    cue("an idea", Low),
    cue("suggestion", Low),
    cue("a wish", Low),
    cue("just wondering", Low),
    cue("quick question", Low),
    cue("just flagging", Low),
    cue("just noticed", Low),
    cue("just a thought", Low),
];

/// The cues found in a ticket, by level.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CueMatches {
    /// Cues for urgent.
    pub urgent: Vec<&'static str>,
    /// Cues for high.
    pub high: Vec<&'static str>,
    /// Cues for low.
    pub low: Vec<&'static str>,
}

impl CueMatches {
    /// Finds the cues in `normalised` text (see [`super::classifier::normalised`]).
    pub fn find(normalised: &str) -> Self {
        let mut found = Self::default();
        for c in CUES {
            let padded = format!(" {} ", c.phrase);
            if !normalised.contains(&padded) {
                continue;
            }
            match c.level {
                Urgent => found.urgent.push(c.phrase),
                High => found.high.push(c.phrase),
                _ => found.low.push(c.phrase),
            }
        }
        found
    }
}

/// Only something broken or money stopped is urgent; for a request, question or message,
/// urgency cues mean "soon" at most. A rule on top of the model, so it holds for every ticket
/// (and for a category a person set), not only for those the training data covers. Without it
/// the five-fold cross-validated macro-F1 is 0.706 instead of 0.698, by making some feature
/// requests urgent: the rule is kept for consistency.
pub fn enforce_rules(scores: &mut [f64], category: Category) {
    if !matches!(category, Category::Bug | Category::Billing)
        && let Some(urgent) = scores.get_mut(3)
    {
        *urgent = f64::NEG_INFINITY;
    }
}

/// Weight of the cue features beside the word features (each word weighs 1).
pub const CUE_WEIGHT: f64 = 5.0;

/// The priority model's training settings. Chosen by five-fold cross-validation on the
/// training split (priority macro-F1), never on the held-out split.
pub const SETTINGS: RegressionSettings =
    RegressionSettings { epochs: 400, learning_rate: 0.5, l2: 0.003, balanced: true };

/// The features of the priority model: the ticket's words, whether cues of each level were
/// found (and whether more than one), and the category. The model learns how much each counts
/// and how they combine (an outage cue on a bug is urgent; the same word on a feature request
/// is not), instead of hand-set weights. Feature names contain `:`, which no word does.
pub fn features(
    mut words: HashMap<String, f64>,
    cues: &CueMatches,
    category: Category,
) -> HashMap<String, f64> {
    for (level, found) in [("urgent", &cues.urgent), ("high", &cues.high), ("low", &cues.low)] {
        if !found.is_empty() {
            words.insert(format!("cue:{level}"), CUE_WEIGHT);
        }
        if found.len() > 1 {
            words.insert(format!("cue:{level}:several"), CUE_WEIGHT);
        }
    }
    words.insert(format!("category:{}", category.as_str()), 1.0);
    words.insert("bias:".to_owned(), 1.0);
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offline::classifier::normalised;

    #[test]
    fn cues_match_on_word_boundaries() {
        let found = CueMatches::find(&normalised("The site is DOWN for everyone! Fix ASAP."));
        assert_eq!(found.urgent, ["is down", "for everyone"]);
        assert_eq!(found.high, ["asap"]);
        let found = CueMatches::find(&normalised("A drop-down menu looks slightly off, no rush"));
        assert!(found.urgent.is_empty());
        assert_eq!(found.low, ["no rush", "slightly"]);
    }

    #[test]
    fn features_name_cue_levels_and_the_category() {
        let words = super::super::classifier::features("Site down", "all users affected");
        let cues = CueMatches::find(&normalised("Site down. all users affected"));
        let f = features(words, &cues, Category::Bug);
        assert_eq!(f.get("cue:urgent"), Some(&CUE_WEIGHT));
        assert_eq!(f.get("cue:urgent:several"), Some(&CUE_WEIGHT));
        assert_eq!(f.get("category:bug"), Some(&1.0));
        assert_eq!(f.get("site"), Some(&1.0));
        assert!(!f.contains_key("cue:low") && !f.contains_key("cue:high"));
    }

    #[test]
    fn requests_are_never_urgent() {
        let mut s = [0.0, 0.0, 1.0, 5.0];
        enforce_rules(&mut s, Category::Bug);
        assert_eq!(crate::offline::classifier::argmax(&s), 3);
        enforce_rules(&mut s, Category::FeatureRequest);
        assert_eq!(crate::offline::classifier::argmax(&s), 2);
    }
}
