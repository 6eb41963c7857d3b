//! Urgency and impact cues for the priority decision.

use opsflow_domain::{Category, Priority};

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

/// How the cue evidence is weighed against the text classifier.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    /// Multiplies the classifier's log-probabilities.
    pub classifier: f64,
    /// Added per urgent cue to urgent (half of it to high).
    pub urgent: f64,
    /// Added per high cue to high.
    pub high: f64,
    /// Added per low cue to low.
    pub low: f64,
    /// Most cues of one level that count (a long list of symptoms is still one ticket).
    pub cap: usize,
}

/// The weights chosen by cross-validation on the training split.
pub const WEIGHTS: Weights = Weights { classifier: 0.2, urgent: 3.5, high: 1.4, low: 2.4, cap: 2 };

/// Combines classifier log-probabilities (indexed like [`Priority::ALL`]) with the cues and
/// the category into per-level scores.
#[allow(clippy::cast_precision_loss)]
pub fn combine(log_probs: &[f64], cues: &CueMatches, category: Category, w: Weights) -> Vec<f64> {
    let count = |v: &[&str]| v.len().min(w.cap) as f64;
    let mut scores: Vec<f64> = log_probs.iter().map(|l| l * w.classifier).collect();
    scores[3] += w.urgent * count(&cues.urgent);
    scores[2] += w.urgent * 0.5 * count(&cues.urgent) + w.high * count(&cues.high);
    scores[0] += w.low * count(&cues.low);
    // Only something broken or money stopped is urgent; for a request, question or message,
    // urgency cues mean "soon" at most.
    if !matches!(category, Category::Bug | Category::Billing) {
        scores[3] = f64::NEG_INFINITY;
    }
    scores
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
    fn requests_are_never_urgent() {
        let cues = CueMatches { urgent: vec!["immediately"], ..CueMatches::default() };
        let flat = [0.0; 4];
        let s = combine(&flat, &cues, Category::FeatureRequest, WEIGHTS);
        assert_eq!(crate::offline::classifier::argmax(&s), 2);
        let s = combine(&flat, &cues, Category::Bug, WEIGHTS);
        assert_eq!(crate::offline::classifier::argmax(&s), 3);
    }
}
