//! Personal data and secrets in text. Candidates are found three ways:
//! numeric entities (cards, NHS, SSN, phones) by hand-written matchers
//! tried only where numbers start (module `numeric`); email addresses by their
//! pattern in text holding an `@`; every other entity by its pattern,
//! searched only when one pass of all those patterns as a set says that
//! it matches somewhere. Each candidate is checked by its entity's
//! validator (check digits, number ranges, network prefixes, decodable
//! tokens), and context words near it, found in one pass over the text
//! (module `context`), raise or lower its score. A match inside a larger match
//! of another entity is dropped.

/// What the PII library refuses, said in full.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A masking policy that cannot be used.
    #[error("{0}")]
    Policy(String),
    /// A masking key file that cannot be read.
    #[error("{0}")]
    Key(String),
}

pub mod columns;
mod context;
pub mod names;
mod numeric;
mod own;
pub mod phone;
mod skip;
pub mod transform;
pub mod validate;

use context::{Lexicon, Near};
use regex::Regex;
use serde::Serialize;
use std::cell::OnceCell;
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
    find: Finder,
    /// The capture group that is the value (0: the whole match); patterns
    /// that carry their own context ("passport no.") capture the value.
    group: usize,
    /// Returns the score and detail for a candidate, or `None`.
    validate: fn(&str) -> Verdict,
    context: &'static [&'static str],
    /// When the whole candidate fails, retry without its last
    /// space-separated group (a phone number followed by another number).
    trim: bool,
    /// Words just before a match that say it is something else (an order
    /// number, a SKU): they lower the score by [`CONTEXT_BOOST`].
    negative: &'static [&'static str],
    /// Characters that may not come just before a match: a candidate
    /// after them is the tail of something longer (the seconds of a
    /// timestamp, a version).
    not_after: &'static [char],
}

/// Whether `s` starts with an ISO date (`2024-01-01`, any year): the
/// hours of a timestamp after it make the rest look like a phone number
/// (`2024-01-01 00:00:00`, pandas' default, was one on every row).
fn starts_with_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
}

/// Whether the digits at `start` follow `<digit>.`: the fraction of a
/// decimal number.
fn fraction_at(text: &str, start: usize) -> bool {
    let mut before = text.get(..start).unwrap_or("").chars().rev();
    before.next() == Some('.') && before.next().is_some_and(|c| c.is_ascii_digit())
}

/// How a recognizer finds its candidates.
enum Finder {
    /// A regular expression, searched when the prefilter says that it
    /// matches somewhere in the text.
    Pattern(Regex),
    /// A hand-written matcher for a numeric pattern, tried where numbers
    /// start (see [`numeric`]).
    Numeric(numeric::Matcher),
    /// A regular expression every match of which holds this byte (the
    /// `@` of an email address): searched only in text that holds it,
    /// and left out of the set, where it costs the most (an email
    /// address can start at every word).
    Holding(u8, Regex),
    /// A pattern that did not compile; a test checks that there is none.
    Broken,
}

impl From<Option<Regex>> for Finder {
    fn from(pattern: Option<Regex>) -> Finder {
        pattern.map_or(Finder::Broken, Finder::Pattern)
    }
}

/// The patterns are constants; a test checks that every one compiles (a
/// recognizer whose pattern did not would be left out). Word boundaries
/// are ASCII ones: a Unicode `\b` makes the regex engine leave its DFA for
/// a much slower one on every non-ASCII byte.
fn re(p: &str) -> Option<Regex> {
    regex::RegexBuilder::new(&ascii_boundaries(p))
        .dfa_size_limit(8 << 20)
        .build()
        .ok()
}

fn ascii_boundaries(p: &str) -> String {
    p.replace(r"\b", r"(?-u:\b)")
}

/// A recognizer's pattern.
fn pat(p: &str) -> Finder {
    re(p).into()
}

fn simple(
    entity: &'static str,
    find: Finder,
    validate: fn(&str) -> Verdict,
    context: &'static [&'static str],
) -> Recognizer {
    Recognizer {
        entity,
        find,
        group: 0,
        validate,
        context,
        trim: false,
        negative: &[],
        not_after: &[],
    }
}

/// Words before a number that say what it is, and that it is not a phone
/// or card number.
const NOT_PERSONAL_NUMBERS: &[&str] = &[
    "sku",
    "order",
    "invoice",
    "ref",
    "reference",
    "ticket",
    "id",
    "tracking",
    "serial",
    "isbn",
    "requests",
    "units",
    "transaction",
    "batch",
    "lot",
    "product",
    "item",
    "part",
];

/// A date written in any of the forms [`validate::birth_date`] accepts.
const DATE: &str = r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{1,2}\.? \p{L}{3,9}\.? \d{4}|\p{L}{3,9}\.? \d{1,2},? \d{4})";

const STREET_SUFFIX: &str = r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Square|Sq|Terrace|Way|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Trail|Crossing|Ridge|Hills?|Park|Point|Pike|Plaza|Route|Row|Run|Path|Pass|Loop|Alley|Mall|Manor|Meadows?|Mills?|Springs?|Station|Summit|View|Villages?|Vista|Walk|Wells?|Creek|Crest|Estates?|Falls|Ferry|Fields?|Forest|Fort|Gardens?|Gateway|Glen|Green|Grove|Harbor|Haven|Heights|Islands?|Junction|Keys?|Knolls?|Lakes?|Landing|Lights?|Locks?|Lodge|Orchard|Pines|Ports?|Prairie|Ranch|Shores?|Stream|Turnpike|Union|Valley|Viaduct|Close|Crescent|Gardens|Mews|Parade|Rise|Walk|Wharf|Hill)";

fn recognizers() -> &'static [Recognizer] {
    static R: OnceLock<Vec<Recognizer>> = OnceLock::new();
    R.get_or_init(|| {
        vec![
            simple(
                "EMAIL_ADDRESS",
                re(r"(?i)\b[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)+\b")
                    .map_or(Finder::Broken, |p| Finder::Holding(b'@', p)),
                |s| validate::email(s).then_some((0.95, None)),
                &["email", "e-mail", "mail", "contact"],
            ),
            Recognizer {
                negative: NOT_PERSONAL_NUMBERS,
                ..simple(
                    "CREDIT_CARD",
                    Finder::Numeric(numeric::card),
                    |s| {
                        let d = validate::digits(s)?;
                        let network = validate::card_network(&d)?;
                        // 12- to 15-digit Maestro numbers are common
                        // lengths for other identifiers too.
                        let score = if network == "Maestro" && d.len() < 16 { 0.6 } else { 0.9 };
                        Some((score, Some(network)))
                    },
                    &["card", "credit", "visa", "mastercard", "amex", "payment", "cc", "maestro"],
                )
            },
            simple(
                "IBAN_CODE",
                pat(r"\b[A-Za-z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}\b"),
                |s| match validate::iban_fit(s)? {
                    validate::IbanFit::Registry => Some((0.95, None)),
                    // Reported only beside a word such as "IBAN" (0.45 + 0.3).
                    validate::IbanFit::OffLength => Some((0.45, Some("length off the registry"))),
                },
                &["iban", "account", "bank"],
            ),
            simple(
                "US_SSN",
                Finder::Numeric(numeric::ssn),
                |s| validate::ssn_or_itin(s).map(|k| (0.85, Some(k))),
                &["ssn", "social security", "itin", "tax"],
            ),
            simple(
                "UK_NINO",
                pat(r"(?i)\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
                |s| validate::nino(s).then_some((0.85, None)),
                &["national insurance", "nino", "ni number"],
            ),
            // Ten digits pass mod 11 one time in eleven: context needed.
            simple(
                "UK_NHS",
                Finder::Numeric(numeric::nhs),
                |s| validate::nhs(s).then_some((0.4, None)),
                &["nhs", "health", "patient"],
            ),
            Recognizer {
                entity: "PHONE_NUMBER",
                find: Finder::Numeric(numeric::phone),
                group: 0,
                validate: |s| {
                    if validate::birth_date(s) || starts_with_iso_date(s) {
                        return None;
                    }
                    match phone::validate(s)? {
                        phone::Form::International => Some((0.8, None)),
                        // Reported only with a context word (0.45 + 0.3).
                        phone::Form::Loose => Some((0.45, None)),
                        phone::Form::National { formatted: true } => Some((0.65, None)),
                        phone::Form::National { formatted: false } => Some((0.5, None)),
                    }
                },
                context: &[
                    "phone", "tel", "telephone", "mobile", "cell", "call", "fax", "contact", "whatsapp",
                    // German, French, Spanish, Italian, Portuguese, Dutch,
                    // Polish, Turkish (ASCII words only: the lexicon's).
                    "telefon", "handy", "mobil", "anrufen", "portable", "appeler",
                    "telefono", "movil", "llame", "cellulare", "chiamare", "telefone", "celular",
                    "ligue", "bel", "mobiel", "komorka", "numer", "numerem", "cep", "gsm", "arayin",
                ],
                trim: true,
                negative: NOT_PERSONAL_NUMBERS,
                not_after: &[':', '.', '/', '_', '-', '#', '$', '€', '£'],
            },
            simple(
                "IP_ADDRESS",
                pat(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}\b"),
                |s| (validate::ipv4(s) || validate::ipv6(s)).then_some((0.8, None)),
                &["ip", "address", "host", "server"],
            ),
            simple(
                "MAC_ADDRESS",
                pat(r"\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b"),
                |_| Some((0.8, None)),
                &["mac", "ethernet", "device"],
            ),
            Recognizer {
                entity: "DATE_OF_BIRTH",
                find: Finder::from(re(&format!(
                    r"(?i)\b(?:born(?: on)?|d\.?o\.?b\.?|date of birth|birth ?date|birthday|geboren(?: am)?|née? le)\s*[:\-]?\s*({DATE})"
                ))),
                group: 1,
                validate: |s| validate::birth_date(s).then_some((0.85, None)),
                context: &[],
                trim: false,
                negative: &[],
                not_after: &[],
            },
            Recognizer {
                entity: "PASSPORT",
                find: Finder::from(re(r"(?i)\b(?:passport|reisepass|passeport)(?: ?(?:no\.?|number|num|nr\.?|numéro|#))?\s*[:#]?\s*([A-Z0-9]{6,9})\b")),
                group: 1,
                validate: |s| s.bytes().any(|b| b.is_ascii_digit()).then_some((0.8, None)),
                context: &[],
                trim: false,
                negative: &[],
                not_after: &[],
            },
            Recognizer {
                entity: "DRIVER_LICENSE",
                find: Finder::from(re(r"(?i)\b(?:driver'?s? licen[cs]e|driving licen[cs]e|führerschein|permis de conduire|DL)(?: ?(?:no\.?|number|nr\.?|#))?\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{4,17}[A-Z0-9])\b")),
                group: 1,
                validate: |s| s.bytes().any(|b| b.is_ascii_digit()).then_some((0.8, None)),
                context: &[],
                trim: false,
                negative: &[],
                not_after: &[],
            },
            simple(
                "STREET_ADDRESS",
                pat(&format!(
                    r"\b\d{{1,6}}[A-Za-z]? (?:[A-Z][a-z]+ ){{1,4}}{STREET_SUFFIX}\.?(?:,? (?:Apt\.|Suite|Unit|Flat|#) ?\w+)?(?:,? [A-Z][a-z]+(?: [A-Z][a-z]+){{0,2}},? [A-Z]{{2}} \d{{5}}(?:-\d{{4}})?)?\b|\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|weg|gasse|platz|allee|ring|damm) \d{{1,4}}[a-z]?(?:,? \d{{5}} [A-ZÄÖÜ][a-zäöüß]+)?\b|\b\d{{1,4}},? (?:rue|avenue|boulevard|chemin|place|impasse|allée|quai|route|cours) (?:[\p{{L}}'-]+ ){{0,4}}[\p{{L}}'-]+(?:,? \d{{5}} [\p{{L}}-]+)?"
                )),
                |s| {
                    let full = s.bytes().filter(u8::is_ascii_digit).count() >= 5;
                    Some((if full { 0.85 } else { 0.6 }, None))
                },
                &["address", "addr", "lives", "resides", "located", "street", "ship to", "adresse", "anschrift"],
            ),
            simple(
                "CRYPTO_WALLET",
                pat(r"\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b|\b(?i:bc1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71}\b|\b0x[0-9a-fA-F]{40}\b"),
                |s| {
                    if s.starts_with("0x") {
                        return match validate::ethereum(s)? {
                            true => Some((0.9, Some("Ethereum"))),
                            false => Some((0.4, Some("Ethereum"))),
                        };
                    }
                    validate::bitcoin(s).then_some((0.9, Some("Bitcoin")))
                },
                &["wallet", "bitcoin", "btc", "ethereum", "eth", "crypto"],
            ),
            simple(
                "AWS_ACCESS_KEY",
                pat(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
                |_| Some((0.95, None)),
                &["aws", "access", "key"],
            ),
            simple(
                "GCP_API_KEY",
                pat(r"\bAIza[0-9A-Za-z_-]{35}\b"),
                |_| Some((0.9, None)),
                &["google", "gcp", "api", "key"],
            ),
            Recognizer {
                entity: "GCP_SERVICE_ACCOUNT_KEY",
                find: Finder::from(re(r#""private_key_id"\s*:\s*"([0-9a-f]{40})""#)),
                group: 1,
                validate: |_| Some((0.95, None)),
                context: &[],
                trim: false,
                negative: &[],
                not_after: &[],
            },
            Recognizer {
                entity: "AZURE_STORAGE_KEY",
                find: Finder::from(re(r"(?i)AccountKey=([A-Za-z0-9+/]{86}==)")),
                group: 1,
                validate: |_| Some((0.95, None)),
                context: &[],
                trim: false,
                negative: &[],
                not_after: &[],
            },
            simple(
                "GITHUB_TOKEN",
                pat(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
                |_| Some((0.95, None)),
                &["github", "token"],
            ),
            simple(
                "GITLAB_TOKEN",
                pat(r"\bgl(?:pat|dt|rt|cbt|ptt|ft)-[0-9A-Za-z_-]{20,64}\b"),
                |_| Some((0.95, None)),
                &["gitlab", "token"],
            ),
            simple(
                "SLACK_TOKEN",
                pat(r"\bxox[baprs]-[A-Za-z0-9-]{10,250}\b"),
                |_| Some((0.9, None)),
                &["slack", "token"],
            ),
            simple(
                "STRIPE_KEY",
                pat(r"\b(?:sk|rk)_live_[0-9A-Za-z]{24,99}\b"),
                |_| Some((0.95, None)),
                &["stripe", "key"],
            ),
            simple(
                "JWT",
                pat(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{4,}"),
                |s| validate::jwt(s).then_some((0.9, None)),
                &["token", "bearer", "authorization"],
            ),
            simple(
                "PRIVATE_KEY",
                pat(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"),
                |_| Some((1.0, None)),
                &[],
            ),
            // A high-entropy value assigned to a name that says it is secret.
            Recognizer {
                entity: "SECRET",
                find: Finder::from(re(r#"(?i)(?:secret|passw(?:or)?d|pwd|token|api[_-]?key|access[_-]?key|auth[_-]?key|client[_-]?secret)["']?\s*[:=]\s*["']?([A-Za-z0-9+/_=.~-]{16,128})"#)),
                group: 1,
                validate: |s| validate::secret(s).then_some((0.8, None)),
                context: &[],
                trim: false,
                negative: &[],
                not_after: &[],
            },
        ]
    })
}

/// Whether an e-mail address ends just before `start`, with only a
/// separator between ("ana@example.it / 373790315"): a number beside an
/// address is contact details, as a context word says. `email_ends` are
/// the ends of the addresses found, in order: only the nearest one before
/// `start` can be close enough, and a binary search finds it (a line of
/// many addresses and numbers stays linear).
fn after_email(email_ends: &[usize], text: &str, start: usize) -> bool {
    let nearest = email_ends.partition_point(|&e| e <= start).checked_sub(1);
    nearest.and_then(|i| email_ends.get(i)).is_some_and(|&end| {
        start - end <= 4
            && text.get(end..start).is_some_and(|gap| {
                gap.chars()
                    .all(|c| matches!(c, ' ' | '/' | ',' | '|' | ';'))
            })
    })
}

/// Bytes before and after a match searched for context words.
const CONTEXT_BEFORE: usize = 60;
const CONTEXT_AFTER: usize = 24;

/// Bytes before a match searched for negative context words: only the
/// nearest words, so that "order 123, call 0161 496 0000" is a phone.
const NEGATIVE_BEFORE: usize = 16;

/// The lexicon bit of person names; recognizers have the bits of their
/// places in [`recognizers`].
const PERSON_BIT: u32 = 31;

fn lexicon() -> &'static Lexicon {
    static L: OnceLock<Lexicon> = OnceLock::new();
    L.get_or_init(|| {
        let lists = recognizers()
            .iter()
            .zip(0..PERSON_BIT)
            .map(|(r, bit)| (bit, r.context, r.negative));
        Lexicon::new(lists.chain([(PERSON_BIT, names::CONTEXT, &[][..])]))
    })
}

/// The recognizers' regular expressions in one automaton, in the order of
/// the recognizers: one pass over the text says which can match at all,
/// and only those search for spans.
fn prefilter() -> Option<&'static regex::RegexSet> {
    static SET: OnceLock<Option<regex::RegexSet>> = OnceLock::new();
    SET.get_or_init(|| {
        let patterns: Vec<&str> = recognizers()
            .iter()
            .filter_map(|r| match &r.find {
                Finder::Pattern(p) => Some(p.as_str()),
                _ => None,
            })
            .collect();
        regex::RegexSetBuilder::new(patterns)
            .dfa_size_limit(32 << 20)
            .build()
            .ok()
    })
    .as_ref()
}

/// The spans of a pattern's values in `text`, added to `out`: whole
/// matches, or the capture group `group` that holds the value (captures
/// cost more to find).
fn pattern_spans(pattern: &Regex, group: usize, text: &str, out: &mut Vec<(usize, usize)>) {
    let span = |m: regex::Match<'_>| (m.start(), m.end());
    match group {
        0 => out.extend(pattern.find_iter(text).map(span)),
        g => out.extend(
            pattern
                .captures_iter(text)
                .filter_map(|c| c.get(g).map(span)),
        ),
    }
}

/// Columns whose context is remembered per thread; more clear the memory.
const MAX_COLUMNS_REMEMBERED: usize = 1024;

/// The recognizers for which a column's name holds a context word (a
/// column `phone_number` for phones). Tables are scanned cell by cell, so
/// each column's answer is remembered rather than worked out again for
/// every cell.
fn column_context(column: &str) -> u32 {
    thread_local! {
        static KNOWN: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, u32>> =
            Default::default();
    }
    KNOWN.with(|known| {
        let mut known = known.borrow_mut();
        if let Some(&mask) = known.get(column) {
            return mask;
        }
        let mask = lexicon().context_of(&column.replace(['_', '-', '.'], " "));
        if known.len() >= MAX_COLUMNS_REMEMBERED {
            known.clear();
        }
        known.insert(column.into(), mask);
        mask
    })
}

/// The candidate, then shorter ones without trailing space-separated
/// groups when `trim` is set: the first one the validator accepts.
fn accept<'t>(r: &Recognizer, value: &'t str) -> Option<(&'t str, f32, Option<&'static str>)> {
    let mut candidate = value;
    for _ in 0..4 {
        if let Some((score, detail)) = (r.validate)(candidate) {
            return Some((candidate, score, detail));
        }
        if !r.trim {
            return None;
        }
        candidate = candidate.rsplit_once(' ')?.0.trim_end();
    }
    None
}

/// How much a context word adds to a score.
const CONTEXT_BOOST: f32 = 0.3;

/// Every entity a recogniser can report, in name order: what a masking
/// policy's `[entities]` may name.
pub fn entity_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = recognizers().iter().map(|r| r.entity).collect();
    // Entities found by column names and by validators, not by a
    // recogniser of their own: every entity a scan reports can be named
    // in a masking policy.
    names.extend(["PERSON", "PHONE_NUMBER", "DATE_OF_BIRTH", "US_ITIN"]);
    names.extend(columns::NAME_HINTS.iter().map(|(_, entity)| *entity));
    names.sort_unstable();
    names.dedup();
    names
}

/// Every entity in `text` scoring at least `threshold`, sorted by
/// position. `column` is the name of the column the text came from, if
/// any: its words count as context for every match (a column called
/// `phone` makes ten bare digits a phone number). Matches under the
/// threshold are dropped before overlaps are resolved, so that they never
/// hide a match that is reported. Rampart's own masks and tokens are
/// never reported (module `own`).
pub fn scan(text: &str, column: Option<&str>, threshold: f32) -> Vec<Match> {
    let lexicon = lexicon();
    let column_context = column.map_or(0, column_context);
    // The context words are found only once a candidate passes.
    let hits = OnceCell::new();
    let near = || Near::new(hits.get_or_init(|| lexicon.hits(text)));
    let context = |bit: u32, start: usize, end: usize| {
        let bit = 1u32.checked_shl(bit).unwrap_or(0);
        column_context & bit != 0 || near().context(bit, start, end, CONTEXT_BEFORE, CONTEXT_AFTER)
    };
    let mut found: Vec<Match> = Vec::new();
    // Which patterns match somewhere: most texts match none, and saying
    // so stops at the first match, which costs less than the full answer.
    let candidates = prefilter().map(|set| set.is_match(text).then(|| set.matches(text)));
    let mut pattern_index = 0;
    // Where numbers start, found once a numeric recognizer runs.
    let number_starts = OnceCell::new();
    // Where e-mail addresses end, once a phone number asks (the e-mail
    // recognizer runs first, and finds them in order).
    let email_ends: OnceCell<Vec<usize>> = OnceCell::new();
    let mut spans = Vec::new();
    for (r, bit) in recognizers().iter().zip(0..PERSON_BIT) {
        spans.clear();
        match &r.find {
            Finder::Pattern(pattern) => {
                let i = pattern_index;
                pattern_index += 1;
                if candidates
                    .as_ref()
                    .is_some_and(|c| !c.as_ref().is_some_and(|c| c.matched(i)))
                {
                    continue;
                }
                pattern_spans(pattern, r.group, text, &mut spans);
            }
            Finder::Holding(byte, pattern) => {
                if text.as_bytes().contains(byte) {
                    pattern_spans(pattern, r.group, text, &mut spans);
                }
            }
            Finder::Numeric(matcher) => {
                let starts = number_starts.get_or_init(|| numeric::starts(text.as_bytes()));
                spans.extend(numeric::find_iter(*matcher, text.as_bytes(), starts));
            }
            Finder::Broken => {}
        }
        for &(start, end) in &spans {
            let Some(value) = text.get(start..end) else {
                continue;
            };
            let before = text.get(..start).and_then(|t| t.chars().next_back());
            if before.is_some_and(|c| {
                r.not_after.contains(&c) || c.is_alphanumeric() && !r.not_after.is_empty()
            }) {
                continue;
            }
            // The digits after a decimal point are a fraction, not a
            // number of their own: 0.345584192064786 is no card (one float
            // in 30 of a pandas export passed the Luhn check).
            if matches!(r.find, Finder::Numeric(_)) && fraction_at(text, start) {
                continue;
            }
            let Some((value, base, detail)) = accept(r, value) else {
                continue;
            };
            let end = start + value.len();
            let mut score = base;
            let contact_block = r.entity == "PHONE_NUMBER" && {
                let ends = email_ends.get_or_init(|| {
                    found
                        .iter()
                        .filter(|m| m.entity == "EMAIL_ADDRESS")
                        .map(|m| m.end)
                        .collect::<Vec<_>>()
                });
                after_email(ends, text, start)
            };
            if !r.context.is_empty() && (contact_block || context(bit, start, end)) {
                score = (score + CONTEXT_BOOST).min(1.0);
            }
            if !r.negative.is_empty()
                && near().negative(1u32.checked_shl(bit).unwrap_or(0), start, NEGATIVE_BEFORE)
            {
                score -= CONTEXT_BOOST;
            }
            let entity = match detail {
                Some("US_ITIN") => "US_ITIN",
                _ => r.entity,
            };
            found.push(Match {
                entity,
                start,
                end,
                score,
                detail,
            });
        }
    }
    let people = found.len();
    names::find(text, &mut found);
    for m in found.iter_mut().skip(people) {
        if context(PERSON_BIT, m.start, m.end) {
            m.score = (m.score + CONTEXT_BOOST).min(1.0);
        }
    }
    found.retain(|m| m.score >= threshold);
    own::drop_own(text, &mut found);
    resolve_overlaps(found)
}

/// Sorted by position; of overlapping matches of different entities, the
/// one that contains the other (or, for the same span, the higher score)
/// is kept.
fn resolve_overlaps(mut found: Vec<Match>) -> Vec<Match> {
    found.sort_by(|a, b| {
        (a.start, std::cmp::Reverse(a.end))
            .cmp(&(b.start, std::cmp::Reverse(b.end)))
            .then(b.score.total_cmp(&a.score))
    });
    // In place: `kept` matches are moved to the front.
    let mut kept: usize = 0;
    for i in 0..found.len() {
        let Some(&Match { start, end, .. }) = found.get(i) else {
            break;
        };
        let earlier = found.get(kept.saturating_sub(8)..kept).unwrap_or(&[]);
        if !earlier.iter().any(|k| k.start <= start && end <= k.end) {
            found.swap(kept, i);
            kept += 1;
        }
    }
    found.truncate(kept);
    found
}

/// Matches made disjoint for rewriting: matches that overlap (neither
/// containing the other, which [`scan`] keeps) become one span with the
/// entity of the first. Replacing each span then leaves no part of a value
/// behind and never splits a character.
pub fn disjoint(mut found: Vec<Match>) -> Vec<Match> {
    found.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    let mut out: Vec<Match> = Vec::with_capacity(found.len());
    for m in found {
        match out.last_mut() {
            Some(last) if m.start < last.end => {
                last.end = last.end.max(m.end);
                last.score = last.score.max(m.score);
            }
            _ => out.push(m),
        }
    }
    out
}

/// Every entity in `text`, whatever its score, sorted by position.
pub fn scan_text(text: &str) -> Vec<Match> {
    scan(text, None, 0.0)
}

/// Matches at or above `threshold`.
pub fn scan_text_above(text: &str, threshold: f32) -> Vec<Match> {
    scan(text, None, threshold)
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
    fn timestamps_and_float_fractions_are_not_personal_data() {
        // pandas' default timestamps, and float64 values whose fraction
        // passes the Luhn check (one in thirty of a column).
        for text in [
            "2024-01-01 00:00:00",
            "2024-01-01 00:00:00+01:00",
            "2031-12-31 23:59:59.123456",
            "0.345584192064786",
            "-12.4111111111111111",
        ] {
            assert_eq!(entities(text), vec![], "{text}");
        }
        // A card or phone number of its own is still found.
        assert_eq!(entities("card 4111111111111111").len(), 1);
        assert_eq!(entities("id 7, card 4111111111111111")[0].0, "CREDIT_CARD");
        assert_eq!(entities("call +44 20 7946 0958 now")[0].0, "PHONE_NUMBER");
    }

    #[test]
    fn ibans_off_the_registry_length_need_a_context_word() {
        // GB IBANs have 22 characters; this one has 23 and passes mod 97.
        let off = "GB51NWBK6016133192681900";
        assert_eq!(validate::iban_fit(off), Some(validate::IbanFit::OffLength));
        assert_eq!(entities(&format!("IBAN {off}")).len(), 1);
        assert_eq!(entities(&format!("ref {off}")), vec![]);
        assert_eq!(
            entities("IBAN GB29 NWBK 6016 1331 9268 19")[0].0,
            "IBAN_CODE"
        );
    }

    #[test]
    fn a_country_code_in_brackets_is_international() {
        for text in [
            "(+49) 30 1234567",
            "Tel. (+44) 20 7946 0958",
            "(+33) 1 42 68 53 00",
        ] {
            let e = entities(text);
            assert!(
                e.iter()
                    .any(|(k, v)| *k == "PHONE_NUMBER" && v.starts_with("(+")),
                "{text}: {e:?}"
            );
        }
    }

    #[test]
    fn international_numbers_off_their_plan_need_a_context_word() {
        for text in ["call +49(0) 012891614 today", "mobile +910089897232"] {
            assert_eq!(entities(text).len(), 1, "{text}");
        }
        for text in ["ref +49(0) 012891614", "+910089897232"] {
            assert_eq!(entities(text), vec![], "{text}");
        }
    }

    #[test]
    fn a_number_beside_an_email_address_is_contact_details() {
        // Nine bare digits (an old Italian mobile) need a context word; an
        // address just before the number is one.
        let kinds = |text| {
            entities(text)
                .into_iter()
                .map(|(e, _)| e)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds("Domande: ana@example.it / 373790315"),
            ["EMAIL_ADDRESS", "PHONE_NUMBER"]
        );
        assert_eq!(kinds("Order 373790315 shipped"), Vec::<&str>::new());
        // Not across other words.
        assert_eq!(
            kinds("ana@example.it wrote about order 373790315"),
            ["EMAIL_ADDRESS"]
        );
    }

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(recognizers().len(), 25);
        assert!(recognizers()
            .iter()
            .all(|r| !matches!(r.find, Finder::Broken)));
    }

    #[test]
    fn finds_validated_entities_in_prose() {
        let text =
            "Contact jane.doe@example.com, card 4111 1111 1111 1111 (not 4111 1111 1111 1112), \
                    IBAN GB82 WEST 1234 5698 7654 32, SSN 078-05-1120, NI number AB 12 34 56 C, \
                    server 10.0.0.12, NHS 943 476 5919, key AKIAIOSFODNN7EXAMPLE, \
                    iban de89 3704 0044 0532 0130 00 and Konto DE89-3704-0044-0532-0130-00.";
        let e = entities(text);
        for want in [
            ("EMAIL_ADDRESS", "jane.doe@example.com"),
            ("CREDIT_CARD", "4111 1111 1111 1111"),
            ("IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
            ("IBAN_CODE", "de89 3704 0044 0532 0130 00"),
            ("IBAN_CODE", "DE89-3704-0044-0532-0130-00"),
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
        assert!(
            bare.iter().all(|m| m.entity != "UK_NHS" || m.score < 0.5),
            "{bare:?}"
        );
        let with = scan_text("NHS number 943 476 5919");
        assert!(
            with.iter().any(|m| m.entity == "UK_NHS" && m.score >= 0.5),
            "{with:?}"
        );
    }

    #[test]
    fn a_column_name_is_context_every_time_it_is_asked() {
        let phone = |column: &str| {
            scan("2025550143", Some(column), 0.0)
                .iter()
                .find(|m| m.entity == "PHONE_NUMBER")
                .map(|m| m.score)
        };
        let (plain, named) = (phone("value"), phone("phone_number"));
        assert!(named > plain, "{named:?} {plain:?}");
        // Past the columns remembered, the memory is cleared, not wrong.
        for i in 0..MAX_COLUMNS_REMEMBERED + 10 {
            column_context(&format!("c{i}"));
        }
        assert_eq!((phone("value"), phone("phone_number")), (plain, named));
    }

    #[test]
    fn overlapping_matches_merge_for_rewriting() {
        let m = |entity, start, end| Match {
            entity,
            start,
            end,
            score: 0.5,
            detail: None,
        };
        let merged = disjoint(vec![m("B", 5, 15), m("A", 0, 10), m("C", 20, 25)]);
        assert_eq!(
            merged
                .iter()
                .map(|m| (m.entity, m.start, m.end))
                .collect::<Vec<_>>(),
            vec![("A", 0, 15), ("C", 20, 25)]
        );
    }

    #[test]
    fn contained_matches_of_other_entities_are_dropped() {
        // The IPv4-looking digits inside an email domain are not an IP.
        let e = entities("write to ops@10.0.0.12.example.org");
        assert!(e.iter().all(|(k, _)| *k != "IP_ADDRESS"), "{e:?}");
    }
}
