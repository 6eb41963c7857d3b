//! Text features, a multinomial Naive Bayes classifier over word presence and a softmax
//! (multinomial logistic) regression for features that are not independent words.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// Words that carry no signal about category or priority. Negations and quantities such as
/// "not", "no", "all" and "cant" are kept on purpose.
const STOPWORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "are", "as", "at", "be", "been", "but", "by", "did", "do",
    "for", "from", "had", "has", "have", "he", "hello", "her", "hi", "his", "how", "i", "if", "im",
    "in", "is", "it", "its", "ive", "just", "me", "my", "of", "on", "or", "our", "ours", "please",
    "she", "so", "team", "thanks", "that", "the", "their", "them", "there", "these", "they",
    "this", "to", "us", "was", "we", "were", "what", "when", "which", "who", "will", "with",
    "would", "you", "your", "weve", "were", "id", "theyre", "could", "can", "should",
];

/// Words that say nothing about why a ticket is what it is, though the classifier may lean on
/// them: never named in a reason. NLTK's English stop words (with apostrophes removed, as
/// [`words`] does: "we'd" → "wed") plus common fillers of support mail.
static FILLER: LazyLock<HashSet<String>> = LazyLock::new(|| {
    const SUPPORT_FILLER: &[&str] = &[
        "able", "also", "although", "anyway", "away", "best", "cant", "cheers", "could", "dear",
        "dont", "etc", "even", "every", "fine", "get", "gets", "give", "gives", "go", "got",
        "happens", "hard", "hello", "hey", "hi", "id", "ill", "im", "ive", "kind", "know", "last",
        "later", "let", "like", "little", "looking", "lot", "lots", "make", "many", "may", "meant",
        "might", "much", "must", "one", "per", "please", "really", "regards", "see", "seem",
        "seems", "since", "six", "sorry", "still", "thank", "thanks", "theyre", "thing", "things",
        "though", "try", "two", "use", "used", "way", "wed", "well", "would", "yet", "youre",
    ];
    stop_words::get("en")
        .iter()
        .map(|w| w.replace(['\'', '’'], ""))
        .chain(SUPPORT_FILLER.iter().map(|w| (*w).to_owned()))
        .collect()
});

/// Whether a word can be named as evidence in a reason: at least three letters, not only
/// digits, not filler.
pub fn is_meaningful(word: &str) -> bool {
    word.chars().count() >= 3 && !word.chars().all(|c| c.is_ascii_digit()) && !FILLER.contains(word)
}

/// Lowercased words with apostrophes removed (`can't` → `cant`); other punctuation splits.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\'', '’'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The text as space-separated normalised words with a space at each end, for phrase matching
/// on word boundaries (`" is down "`).
pub fn normalised(text: &str) -> String {
    format!(" {} ", words(text).join(" "))
}

/// The distinct informative words of a ticket (subject and body), each with weight 1.
///
/// Binary unigram presence was chosen by five-fold cross-validation on the training split over
/// term-frequency weighting, bigrams, subject up-weighting and suffix stemming: on a few hundred
/// short tickets, the extra features added more noise than signal (macro-F1 0.67 against
/// 0.61–0.65 for the other variants).
pub fn features(subject: &str, body: &str) -> HashMap<String, f64> {
    words(subject)
        .into_iter()
        .chain(words(body))
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| (w, 1.0))
        .collect()
}

/// A trained multinomial Naive Bayes model over `n` classes.
#[derive(Debug, Clone)]
pub struct NaiveBayes {
    log_prior: Vec<f64>,
    /// Per term, `log P(term | class)` for every class.
    log_likelihood: HashMap<String, Vec<f64>>,
}

impl NaiveBayes {
    /// Trains on `(features, class index)` pairs with additive smoothing `alpha`.
    pub fn train(examples: &[(HashMap<String, f64>, usize)], classes: usize, alpha: f64) -> Self {
        let mut class_docs = vec![0.0_f64; classes];
        let mut class_total = vec![0.0_f64; classes];
        let mut term_counts: HashMap<String, Vec<f64>> = HashMap::new();
        for (feats, class) in examples {
            class_docs[*class] += 1.0;
            for (term, w) in feats {
                term_counts.entry(term.clone()).or_insert_with(|| vec![0.0; classes])[*class] += w;
                class_total[*class] += w;
            }
        }
        #[allow(clippy::cast_precision_loss)] // vocabulary sizes are tiny
        let vocab = term_counts.len() as f64;
        let docs: f64 = class_docs.iter().sum();
        let log_prior =
            class_docs.iter().map(|d| ((d + 1.0) / (docs + classes as f64)).ln()).collect();
        let log_likelihood = term_counts
            .into_iter()
            .map(|(term, counts)| {
                let logs = counts
                    .iter()
                    .zip(&class_total)
                    .map(|(c, total)| ((c + alpha) / (total + alpha * vocab)).ln())
                    .collect();
                (term, logs)
            })
            .collect();
        Self { log_prior, log_likelihood }
    }

    /// Log posteriors (up to a shared constant) of each class; terms never seen in training
    /// are ignored.
    pub fn scores(&self, feats: &HashMap<String, f64>) -> Vec<f64> {
        let mut scores = self.log_prior.clone();
        for (term, w) in feats {
            if let Some(logs) = self.log_likelihood.get(term) {
                for (s, l) in scores.iter_mut().zip(logs) {
                    *s += w * l;
                }
            }
        }
        scores
    }

    /// Normalised class probabilities.
    #[cfg(test)]
    pub fn probabilities(&self, feats: &HashMap<String, f64>) -> Vec<f64> {
        let scores = self.scores(feats);
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        exp.iter().map(|e| e / sum).collect()
    }

    /// The meaningful terms of `feats` (see [`is_meaningful`]) that most favour `class` over the
    /// strongest other class, best first.
    pub fn top_cues(&self, feats: &HashMap<String, f64>, class: usize, n: usize) -> Vec<String> {
        let mut cues: Vec<(f64, &String)> = feats
            .iter()
            .filter(|(term, _)| is_meaningful(term))
            .filter_map(|(term, w)| {
                let logs = self.log_likelihood.get(term)?;
                let other = logs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != class)
                    .map(|(_, l)| *l)
                    .fold(f64::NEG_INFINITY, f64::max);
                let margin = w * (logs[class] - other);
                (margin > 0.0).then_some((margin, term))
            })
            .collect();
        cues.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let mut picked: Vec<String> = Vec::new();
        for (_, term) in cues {
            picked.push(term.clone());
            if picked.len() == n {
                break;
            }
        }
        picked
    }
}

/// Settings of [`SoftmaxRegression::train`].
#[derive(Debug, Clone, Copy)]
pub struct RegressionSettings {
    /// Passes of full-batch gradient descent.
    pub epochs: usize,
    /// Step size.
    pub learning_rate: f64,
    /// L2 penalty on the weights.
    pub l2: f64,
    /// Weigh each class by `examples / (classes × class examples)`, so rare classes (urgent)
    /// count as much as common ones in the loss, as they do in macro-F1.
    pub balanced: bool,
}

/// A multinomial logistic regression over sparse named features, trained by full-batch
/// gradient descent with an L2 penalty. Unlike Naive Bayes it does not count correlated
/// features twice, so hand-made cues and the words that carry them can sit side by side.
#[derive(Debug, Clone)]
pub struct SoftmaxRegression {
    index: HashMap<String, usize>,
    /// Per feature, one weight per class.
    weights: Vec<Vec<f64>>,
    classes: usize,
}

impl SoftmaxRegression {
    /// Trains on `(features, class index)` pairs. Deterministic: the same examples give the same
    /// weights.
    #[allow(clippy::cast_precision_loss)] // example counts are tiny
    pub fn train(
        examples: &[(HashMap<String, f64>, usize)],
        classes: usize,
        settings: RegressionSettings,
    ) -> Self {
        let mut index: HashMap<String, usize> = HashMap::new();
        // Sparse rows by index, sorted so the floating-point sums do not depend on hash order.
        let rows: Vec<(Vec<(usize, f64)>, usize)> = examples
            .iter()
            .map(|(feats, class)| {
                let mut named: Vec<(&String, f64)> = feats.iter().map(|(k, v)| (k, *v)).collect();
                named.sort_by(|a, b| a.0.cmp(b.0));
                let row = named
                    .into_iter()
                    .map(|(k, v)| {
                        let next = index.len();
                        (*index.entry(k.clone()).or_insert(next), v)
                    })
                    .collect();
                (row, *class)
            })
            .collect();
        let n = rows.len().max(1) as f64;
        let mut counts = vec![0.0_f64; classes];
        for (_, y) in &rows {
            counts[*y] += 1.0;
        }
        let class_weight: Vec<f64> = counts
            .iter()
            .map(|c| if settings.balanced { n / (classes as f64 * c.max(1.0)) } else { 1.0 })
            .collect();
        // Flat, row-major buffers (feature × class) and reused scratch space: training runs at
        // every start-up (and several times more for calibration), in debug builds too.
        let mut weights = vec![0.0; index.len() * classes];
        let mut gradient = vec![0.0; index.len() * classes];
        let mut p = vec![0.0; classes];
        for _ in 0..settings.epochs {
            gradient.fill(0.0);
            for (row, y) in &rows {
                p.fill(0.0);
                for &(i, v) in row {
                    for (s, w) in p.iter_mut().zip(&weights[i * classes..(i + 1) * classes]) {
                        *s += w * v;
                    }
                }
                let max = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut sum = 0.0;
                for s in &mut p {
                    *s = (*s - max).exp();
                    sum += *s;
                }
                let cw = class_weight[*y];
                for &(i, v) in row {
                    for (j, g) in gradient[i * classes..(i + 1) * classes].iter_mut().enumerate() {
                        let target = if j == *y { 1.0 } else { 0.0 };
                        *g += cw * (p[j] / sum - target) * v;
                    }
                }
            }
            for (w, g) in weights.iter_mut().zip(&gradient) {
                *w -= settings.learning_rate * (g / n + settings.l2 * *w);
            }
        }
        let weights = weights.chunks(classes).map(<[f64]>::to_vec).collect();
        Self { index, weights, classes }
    }

    /// Unnormalised class scores (log-odds up to a shared constant); unseen features are ignored.
    pub fn scores(&self, feats: &HashMap<String, f64>) -> Vec<f64> {
        let mut scores = vec![0.0; self.classes];
        for (name, v) in feats {
            if let Some(w) = self.index.get(name).map(|i| &self.weights[*i]) {
                for (s, wj) in scores.iter_mut().zip(w) {
                    *s += wj * v;
                }
            }
        }
        scores
    }
}

/// The index of the largest value (the first on ties, so results are deterministic).
pub fn argmax(values: &[f64]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, v)| if *v > bv { (i, *v) } else { (bi, bv) })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_stems() {
        assert_eq!(words("Can't log-in!"), ["cant", "log", "in"]);
        assert_eq!(normalised("Site is DOWN."), " site is down ");
    }

    #[test]
    fn features_are_distinct_informative_words() {
        let f = features("Invoice wrong", "The invoice total is wrong");
        assert_eq!(f.len(), 3);
        assert_eq!(f["invoice"], 1.0);
        assert!(f.contains_key("total") && !f.contains_key("the"));
    }

    #[test]
    fn naive_bayes_learns_separable_classes() {
        let docs = [
            (features("invoice charged", "payment card"), 0),
            (features("refund invoice", "charged twice"), 0),
            (features("page error", "crash broken"), 1),
            (features("login broken", "error crash"), 1),
        ];
        let nb = NaiveBayes::train(&docs, 2, 0.5);
        let probe = features("card charged", "");
        assert_eq!(argmax(&nb.scores(&probe)), 0);
        let p = nb.probabilities(&features("crash", "error"));
        assert!(p[1] > 0.8 && (p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let mut cues = nb.top_cues(&probe, 0, 3);
        cues.sort();
        assert_eq!(cues, ["card", "charged"]);
    }

    #[test]
    fn filler_is_never_evidence() {
        for filler in ["every", "since", "wed", "the", "dont", "12", "ok"] {
            assert!(!is_meaningful(filler), "{filler}");
        }
        for word in ["invoice", "checkout", "outage", "404s", "ios"] {
            assert!(is_meaningful(word), "{word}");
        }
    }

    #[test]
    fn softmax_regression_learns_and_weighs_rare_classes() {
        let settings =
            RegressionSettings { epochs: 300, learning_rate: 0.5, l2: 0.001, balanced: true };
        let mut docs = vec![(features("site down", "outage now"), 1)];
        for _ in 0..6 {
            docs.push((features("colour question", "small idea"), 0));
        }
        let model = SoftmaxRegression::train(&docs, 2, settings);
        assert_eq!(argmax(&model.scores(&features("down", "outage"))), 1);
        assert_eq!(argmax(&model.scores(&features("idea", "colour"))), 0);
        // Unknown words carry no weight: the class scores are equal.
        let s = model.scores(&features("zebra", ""));
        assert!((s[0] - s[1]).abs() < 1e-12);
        // Deterministic.
        let again = SoftmaxRegression::train(&docs, 2, settings);
        assert_eq!(model.scores(&features("down", "")), again.scores(&features("down", "")));
    }
}
