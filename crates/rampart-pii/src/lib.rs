//! Personal data and secrets in text. One pass of candidate patterns
//! finds spans, each candidate is checked by its entity's validator
//! (check digits, number ranges, network prefixes, decodable tokens), and
//! context words near a match raise its score. A match inside a larger
//! match of another entity is dropped.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        unsafe_code
    )
)]

pub mod validate;

use regex::Regex;
use serde::Serialize;
use std::sync::OnceLock;

/// One entity found in text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub entity: &'static str,
    /// Byte offsets in the text.
    pub start: usize,
    pub end: usize,
    /// 0 to 1: validation gives the base, context words add to it.
    pub score: f32,
    /// A detail of the validation (the card network, SSN or ITIN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'static str>,
}

/// A validator's verdict on a candidate: its base score and a detail.
type Verdict = Option<(f32, Option<&'static str>)>;

struct Recognizer {
    entity: &'static str,
    pattern: Option<Regex>,
    /// Returns the score and detail for a candidate, or `None`.
    validate: fn(&str) -> Verdict,
    context: &'static [&'static str],
}

/// The patterns are constants; a test checks that every one compiles (a
/// recognizer whose pattern did not would be left out).
fn re(p: &str) -> Option<Regex> {
    Regex::new(p).ok()
}

fn recognizers() -> &'static [Recognizer] {
    static R: OnceLock<Vec<Recognizer>> = OnceLock::new();
    R.get_or_init(|| {
        vec![
            Recognizer {
                entity: "EMAIL_ADDRESS",
                pattern: re(r"(?i)\b[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)+\b"),
                validate: |s| validate::email(s).then_some((0.95, None)),
                context: &["email", "e-mail", "mail", "contact"],
            },
            Recognizer {
                entity: "CREDIT_CARD",
                pattern: re(r"\b\d(?:[ -]?\d){11,18}\b"),
                validate: |s| {
                    let d = validate::digits(s)?;
                    validate::card_network(&d).map(|n| (0.9, Some(n)))
                },
                context: &["card", "credit", "visa", "mastercard", "amex", "payment", "cc"],
            },
            Recognizer {
                entity: "IBAN_CODE",
                pattern: re(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"),
                validate: |s| validate::iban(s).then_some((0.95, None)),
                context: &["iban", "account", "bank"],
            },
            Recognizer {
                entity: "US_SSN",
                pattern: re(r"\b\d{3}-\d{2}-\d{4}\b"),
                validate: |s| validate::ssn_or_itin(s).map(|k| (0.85, Some(k))),
                context: &["ssn", "social security", "itin", "tax"],
            },
            Recognizer {
                entity: "UK_NINO",
                pattern: re(r"(?i)\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
                validate: |s| validate::nino(s).then_some((0.85, None)),
                context: &["national insurance", "nino", "ni number"],
            },
            Recognizer {
                entity: "UK_NHS",
                pattern: re(r"\b\d{3} ?\d{3} ?\d{4}\b"),
                // Ten digits pass mod 11 one time in eleven: context needed.
                validate: |s| validate::nhs(s).then_some((0.4, None)),
                context: &["nhs", "health", "patient"],
            },
            Recognizer {
                entity: "IP_ADDRESS",
                pattern: re(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}\b"),
                validate: |s| (validate::ipv4(s) || validate::ipv6(s)).then_some((0.8, None)),
                context: &["ip", "address", "host", "server"],
            },
            Recognizer {
                entity: "MAC_ADDRESS",
                pattern: re(r"\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b"),
                validate: |_| Some((0.8, None)),
                context: &["mac", "ethernet", "device"],
            },
            Recognizer {
                entity: "AWS_ACCESS_KEY",
                pattern: re(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
                validate: |_| Some((0.95, None)),
                context: &["aws", "access", "key"],
            },
            Recognizer {
                entity: "GITHUB_TOKEN",
                pattern: re(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
                validate: |_| Some((0.95, None)),
                context: &["github", "token"],
            },
            Recognizer {
                entity: "SLACK_TOKEN",
                pattern: re(r"\bxox[baprs]-[A-Za-z0-9-]{10,250}\b"),
                validate: |_| Some((0.9, None)),
                context: &["slack", "token"],
            },
            Recognizer {
                entity: "STRIPE_KEY",
                pattern: re(r"\b(?:sk|rk)_live_[0-9A-Za-z]{24,99}\b"),
                validate: |_| Some((0.95, None)),
                context: &["stripe", "key"],
            },
            Recognizer {
                entity: "JWT",
                pattern: re(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{4,}"),
                validate: |s| validate::jwt(s).then_some((0.9, None)),
                context: &["token", "bearer", "authorization"],
            },
            Recognizer {
                entity: "PRIVATE_KEY",
                pattern: re(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"),
                validate: |_| Some((1.0, None)),
                context: &[],
            },
        ]
    })
}

/// Bytes before a match searched for context words.
const CONTEXT_WINDOW: usize = 60;

fn has_context(text: &str, start: usize, words: &[&str]) -> bool {
    let mut from = start.saturating_sub(CONTEXT_WINDOW);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let window = text.get(from..start).unwrap_or("").to_ascii_lowercase();
    words.iter().any(|w| window.contains(w))
}

/// All patterns in one automaton: one pass over the text says which
/// recognizers can match at all, and only those search for spans.
fn prefilter() -> Option<&'static regex::RegexSet> {
    static SET: OnceLock<Option<regex::RegexSet>> = OnceLock::new();
    SET.get_or_init(|| {
        let patterns: Vec<&str> = recognizers()
            .iter()
            .filter_map(|r| r.pattern.as_ref().map(Regex::as_str))
            .collect();
        regex::RegexSet::new(patterns).ok()
    })
    .as_ref()
}

/// Every validated entity in `text`, sorted by position; a match inside
/// a larger match of another entity is dropped.
pub fn scan_text(text: &str) -> Vec<Match> {
    let mut found: Vec<Match> = Vec::new();
    let candidates = prefilter().map(|set| set.matches(text));
    let with_pattern = recognizers().iter().filter(|r| r.pattern.is_some());
    for (i, r) in with_pattern.enumerate() {
        if candidates.as_ref().is_some_and(|c| !c.matched(i)) {
            continue;
        }
        let Some(pattern) = &r.pattern else {
            continue;
        };
        for m in pattern.find_iter(text) {
            let Some((base, detail)) = (r.validate)(m.as_str()) else {
                continue;
            };
            let score = if has_context(text, m.start(), r.context) {
                (base + 0.3).min(1.0)
            } else {
                base
            };
            let entity = match detail {
                Some("US_ITIN") => "US_ITIN",
                _ => r.entity,
            };
            found.push(Match {
                entity,
                start: m.start(),
                end: m.end(),
                score,
                detail,
            });
        }
    }
    // Longer matches first, so that contained ones are dropped.
    found.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    let mut kept: Vec<Match> = Vec::new();
    for m in found {
        let inside = kept
            .iter()
            .any(|k| k.start <= m.start && m.end <= k.end && k.entity != m.entity);
        let same = kept
            .iter()
            .any(|k| k.start == m.start && k.end == m.end && k.entity == m.entity);
        if !inside && !same {
            kept.push(m);
        }
    }
    kept
}

/// Matches at or above `threshold`.
pub fn scan_text_above(text: &str, threshold: f32) -> Vec<Match> {
    scan_text(text)
        .into_iter()
        .filter(|m| m.score >= threshold)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entities(text: &str) -> Vec<(&'static str, String)> {
        scan_text_above(text, 0.5)
            .into_iter()
            .map(|m| (m.entity, text[m.start..m.end].to_string()))
            .collect()
    }

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(recognizers().len(), 14);
        assert!(recognizers().iter().all(|r| r.pattern.is_some()));
    }

    #[test]
    fn finds_validated_entities_in_prose() {
        let text =
            "Contact jane.doe@example.com, card 4111 1111 1111 1111 (not 4111 1111 1111 1112), \
                    IBAN GB82 WEST 1234 5698 7654 32, SSN 078-05-1120, NI number AB 12 34 56 C, \
                    server 10.0.0.12, NHS 943 476 5919, key AKIAIOSFODNN7EXAMPLE.";
        let e = entities(text);
        for want in [
            ("EMAIL_ADDRESS", "jane.doe@example.com"),
            ("CREDIT_CARD", "4111 1111 1111 1111"),
            ("IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
            ("US_SSN", "078-05-1120"),
            ("UK_NINO", "AB 12 34 56 C"),
            ("IP_ADDRESS", "10.0.0.12"),
            ("UK_NHS", "943 476 5919"),
            ("AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"),
        ] {
            assert!(
                e.iter().any(|(k, v)| *k == want.0 && v == want.1),
                "missing {want:?} in {e:?}"
            );
        }
        assert!(!e.iter().any(|(_, v)| v == "4111 1111 1111 1112"), "{e:?}");
    }

    #[test]
    fn context_raises_scores_and_bare_nhs_like_numbers_stay_low() {
        let bare = scan_text("ref 943 476 5919");
        assert!(bare.iter().all(|m| m.score < 0.5), "{bare:?}");
        let with = scan_text("NHS number 943 476 5919");
        assert!(
            with.iter().any(|m| m.entity == "UK_NHS" && m.score >= 0.5),
            "{with:?}"
        );
    }

    #[test]
    fn contained_matches_of_other_entities_are_dropped() {
        // The IPv4-looking digits inside an email domain are not an IP.
        let e = entities("write to ops@10.0.0.12.example.org");
        assert!(e.iter().all(|(k, _)| *k != "IP_ADDRESS"), "{e:?}");
    }
}
