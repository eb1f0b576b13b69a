//! Person names without a language model: runs of capitalised words whose
//! first word is a known first name and whose last is a known surname
//! (dictionaries from the 1990 US Census lists, `tools/gen_name_lists.py`),
//! or that follow a title (Mr, Dr, Frau, Mme...). A run with only one of the
//! two in the dictionaries scores lower and needs a context word. A
//! model-based recogniser can be added later beside this one: it only has
//! to produce [`crate::Match`]es.

use crate::{skip, Match};
use rustc_hash::FxHashSet as HashSet;
use std::sync::OnceLock;

const FIRST: &str = include_str!("../data/first_names.txt");
const LAST: &str = include_str!("../data/last_names.txt");

/// Words before a name that make it one whatever the dictionaries say.
const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "herr", "frau", "m", "mme",
    "mlle", "shri", "smt", "sri",
];

/// Words near a name that raise its score.
pub const CONTEXT: &[&str] = &[
    "name",
    "named",
    "dear",
    "contact",
    "patient",
    "customer",
    "employee",
    "signed",
    "called",
    "author",
    "applicant",
    "client",
    "user",
    "recipient",
    "sender",
    "manager",
    "wrote",
    "person",
    "owner",
    "holder",
    "cardholder",
    "insured",
    "member",
    "nom",
    "vorname",
    "nachname",
];

/// Words that, just before capitalised words, introduce a name ("Dear
/// Anamika Kala", "account holder Qarin Setty"): two unknown capitalised
/// words after one of these are taken for a name.
const CUES: &[&str] = &[
    "dear",
    "hi",
    "hello",
    "attn",
    "attention",
    "contact",
    "customer",
    "patient",
    "client",
    "holder",
    "billed to",
    "ship to",
    "shipped to",
    "signed",
    "employee",
    "applicant",
    "name",
    "named",
    "guest",
    "passenger",
    "tenant",
    "beneficiary",
    "cardholder",
    "insured",
    "sincerely",
    "regards",
];

/// Whether the words just before `start` end with a cue.
fn cued(text: &str, start: usize) -> bool {
    let mut from = start.saturating_sub(24);
    while from > 0 && !text.is_char_boundary(from) {
        from -= 1;
    }
    let before = text
        .get(from..start)
        .unwrap_or("")
        .trim_end()
        .trim_end_matches([':', ','])
        .to_lowercase();
    CUES.iter().any(|c| {
        before.ends_with(c)
            && !before
                .as_bytes()
                .get(before.len().wrapping_sub(c.len() + 1))
                .is_some_and(u8::is_ascii_alphanumeric)
    })
}

/// The dictionaries as sets of 64-bit hashes of the lowercase names: a
/// lookup is one probe of a table of integers, with no string to follow
/// and compare (the lookups were a tenth of the scanner's time). With
/// 24,000 names, a word not in a list has a chance of about 1e-15 of
/// hashing like one.
struct Dictionaries {
    first: HashSet<u64>,
    last: HashSet<u64>,
    titles: HashSet<u64>,
    titles_and_cues: HashSet<u64>,
}

fn name_hash(lowercase: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(lowercase)
}

fn dictionaries() -> Option<&'static Dictionaries> {
    static D: OnceLock<Dictionaries> = OnceLock::new();
    Some(D.get_or_init(|| {
        Dictionaries {
            first: FIRST.lines().map(|n| name_hash(n.as_bytes())).collect(),
            last: LAST.lines().map(|n| name_hash(n.as_bytes())).collect(),
            titles: TITLES.iter().map(|t| name_hash(t.as_bytes())).collect(),
            titles_and_cues: TITLES
                .iter()
                .chain(CUES)
                .map(|t| name_hash(t.as_bytes()))
                .collect(),
        }
    }))
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
}

/// The capitalised word starting at `at`, if one does, and where it ends:
/// a capital and a small letter (or an apostrophe and a capital: O'Brien),
/// then letters, apostrophes and hyphens (McDonald, Hans-Jürgen); or an
/// initial with its dot not after a letter, digit or `_` ("F."). Written by hand
/// rather than as a regular expression: it runs on every capital of
/// every text, and a Unicode regex search per text costs more than all
/// the rest of the name finder.
fn capitalised_at(text: &str, at: usize) -> Option<usize> {
    let rest = text.get(at..)?;
    let bytes = rest.as_bytes();
    // Most words are ASCII: a capital and a small letter.
    let ascii_start =
        matches!(bytes, [a, b, ..] if a.is_ascii_uppercase() && b.is_ascii_lowercase());
    if ascii_start {
        return Some(at + word_end(rest, 2));
    }
    let mut chars = rest.char_indices();
    let (_, first) = chars.next()?;
    if !first.is_uppercase() {
        return None;
    }
    let (i, second) = chars.next()?;
    let word_start = if second.is_lowercase() {
        Some(i + second.len_utf8())
    } else if is_apostrophe(second) {
        chars
            .next()
            .filter(|(_, c)| c.is_uppercase())
            .map(|(j, c)| j + c.len_utf8())
    } else {
        None
    };
    if let Some(body) = word_start {
        return Some(at + word_end(rest, body));
    }
    let after_word = text
        .get(..at)
        .and_then(|t| t.chars().next_back())
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    (second == '.' && !after_word).then_some(at + first.len_utf8() + 1)
}

/// Where the letters, apostrophes and hyphens of `word` from `from` end.
fn word_end(word: &str, mut end: usize) -> usize {
    let bytes = word.as_bytes();
    while let Some(&b) = bytes.get(end) {
        if b.is_ascii_alphabetic() || b == b'\'' || b == b'-' {
            end += 1;
            continue;
        }
        match word.get(end..).and_then(|r| r.chars().next()) {
            Some(c) if !b.is_ascii() && (c.is_alphabetic() || is_apostrophe(c)) => {
                end += c.len_utf8()
            }
            _ => break,
        }
    }
    end
}

/// The capitalised words of `text`, leftmost first, without overlaps.
fn capitalised(text: &str) -> impl Iterator<Item = Word<'_>> {
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let rest = text.get(at..)?;
        let capital_or_wide = skip::Wanted {
            lo: b'A',
            hi: b'Z',
            non_ascii: true,
        };
        let offset = skip::next(rest.as_bytes(), capital_or_wide)
            .and_then(|i| Some(i + rest.get(i..)?.find(char::is_uppercase)?))?;
        let start = at + offset;
        match capitalised_at(text, start) {
            Some(end) => {
                at = end;
                return Some(Word {
                    text: text.get(start..end)?,
                    start,
                    end,
                });
            }
            None => at = start + rest.get(offset..)?.chars().next()?.len_utf8(),
        }
    })
}

/// Lowercase ASCII for a dictionary lookup: accents folded (Müller ->
/// muller), apostrophes dropped (O'Brien -> obrien).
fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'ß' => out.push_str("ss"),
            '\'' | '’' => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether a word, or a part of a hyphenated one, is in `set`.
fn known(set: &HashSet<u64>, word: &str) -> bool {
    let has = |w: &[u8]| set.contains(&name_hash(w));
    if let Some(found) = with_ascii_lowercase(word, has) {
        return found;
    }
    let f = fold(word);
    has(f.as_bytes()) || (f.contains('-') && f.split('-').any(|p| has(p.as_bytes())))
}

/// `f` of `word` in ASCII lowercase, without allocating; `None` if the
/// word is not short ASCII letters (and needs [`fold`]).
fn with_ascii_lowercase<T>(word: &str, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
    let mut buf = [0u8; 32];
    let lower = buf.get_mut(..word.len())?;
    if !word.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    for (d, s) in lower.iter_mut().zip(word.bytes()) {
        *d = s.to_ascii_lowercase();
    }
    Some(f(lower))
}

/// Whether a word is a title or a cue ("Dr", "Dear"): such a word starts
/// no name.
fn title_or_cue(word: &str) -> bool {
    let word = word.trim_end_matches('.');
    let Some(d) = dictionaries() else {
        return false;
    };
    let is = |w: &[u8]| d.titles_and_cues.contains(&name_hash(w));
    with_ascii_lowercase(word, is).unwrap_or_else(|| is(fold(word).as_bytes()))
}

/// A capitalised word and its byte span.
#[derive(Clone, Copy)]
struct Word<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

/// Runs of capitalised words separated by single spaces, each given to
/// `each` (at most its first six words).
fn runs<'t>(text: &'t str, mut each: impl FnMut(&[Word<'t>])) {
    let mut run: Vec<Word<'t>> = Vec::new();
    let mut last_end = None;
    for w in capitalised(text) {
        let joined = last_end.is_some_and(|e| text.get(e..w.start) == Some(" "));
        if !joined && !run.is_empty() {
            each(&run);
            run.clear();
        }
        if run.len() < 6 {
            run.push(w);
        }
        last_end = Some(w.end);
    }
    if !run.is_empty() {
        each(&run);
    }
}

/// Whether a capitalised title word is just before `start` ("Dr. ",
/// "Mrs ").
fn titled(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("").trim_end();
    let before = before.strip_suffix('.').unwrap_or(before);
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map_or(before.len(), |(i, _)| i);
    let word = before.get(word_start..).unwrap_or("");
    // Titles are capitalised: "miss. Pm" is not "Miss Pm".
    word.chars().next().is_some_and(char::is_uppercase)
        && with_ascii_lowercase(word, |w| {
            dictionaries().is_some_and(|d| d.titles.contains(&name_hash(w)))
        })
        .unwrap_or_else(|| TITLES.contains(&word.to_lowercase().as_str()))
}

/// Person names in `text`, each with a base score (context is added by
/// the caller).
pub fn find(text: &str, out: &mut Vec<Match>) {
    let Some(d) = dictionaries() else {
        return;
    };
    runs(text, |run| names_in_run(d, text, run, out));
}

/// The names in one run of capitalised words.
fn names_in_run(d: &Dictionaries, text: &str, run: &[Word<'_>], out: &mut Vec<Match>) {
    // One word is a name only after a title ("Dr. Okonkwo"): most runs
    // are one word, and need no dictionary lookup.
    if let [w] = run {
        if titled(text, w.start) && !title_or_cue(w.text) {
            out.push(Match {
                entity: "PERSON",
                start: w.start,
                end: w.end,
                score: 0.85,
                detail: None,
            });
        }
        return;
    }
    {
        let mut i = 0;
        while i < run.len() {
            let Some(first) = run.get(i) else { break };
            if title_or_cue(first.text) {
                i += 1;
                continue;
            }
            let is_first = known(&d.first, first.text);
            let title = titled(text, first.start);
            // "Yesterday Mary Johnson": the name starts at the first name.
            if !is_first
                && !title
                && run.get(i + 1).is_some_and(|w| known(&d.first, w.text))
                && !cued(text, first.start)
            {
                i += 1;
                continue;
            }
            // The name runs to the last surname within three more words
            // (middle names and initials in between).
            let mut end: Option<(usize, bool)> = None;
            for j in i + 1..(i + 4).min(run.len()) {
                let Some(w) = run.get(j) else { break };
                if w.text.ends_with('.') && j + 1 < run.len() {
                    continue;
                }
                let is_last = known(&d.last, w.text);
                if is_last || end.is_none() {
                    end = Some((j, is_last));
                }
                if is_last {
                    break;
                }
            }
            let score = match end {
                Some((_, true)) if is_first || title => 0.85,
                Some((_, true)) | Some((_, false)) if is_first || title => 0.55,
                Some(_) if cued(text, first.start) => 0.6,
                Some((_, true)) => 0.4,
                None if title => 0.85,
                _ => 0.0,
            };
            let j = end.map_or(i, |(j, _)| j);
            if score > 0.0 {
                if let Some(last) = run.get(j) {
                    out.push(Match {
                        entity: "PERSON",
                        start: first.start,
                        end: last.end,
                        score,
                        detail: None,
                    });
                }
                i = j + 1;
            } else {
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, f32)> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.into_iter()
            .map(|m| (text[m.start..m.end].to_string(), m.score))
            .collect()
    }

    #[test]
    fn dictionary_names_titles_and_initials() {
        let n = names("Yesterday Mary Johnson met Dr. Okonkwo and John F. Kennedy at the Bank.");
        assert!(n.contains(&("Mary Johnson".into(), 0.85)), "{n:?}");
        assert!(n.contains(&("John F. Kennedy".into(), 0.85)), "{n:?}");
        assert!(n.iter().any(|(s, _)| s == "Okonkwo"), "{n:?}");
        assert!(
            !n.iter()
                .any(|(s, _)| s.contains("Yesterday") || s.contains("Bank")),
            "{n:?}"
        );
        let n = names("Hans-Jürgen Müller und Frau Schmidt");
        assert!(
            n.iter()
                .any(|(s, v)| s == "Hans-Jürgen Müller" && *v >= 0.85),
            "{n:?}"
        );
        assert!(n.iter().any(|(s, _)| s == "Schmidt"), "{n:?}");
        let n = names("Refund to the account holder Qarin Setty today; Qarin Setty again");
        assert_eq!(
            n,
            vec![("Qarin Setty".to_string(), 0.6)],
            "only the cued one"
        );
    }

    #[test]
    fn capitalised_words_and_initials() {
        let words: Vec<&str> = capitalised(
            "iPhone O'Brien, Hans-Jürgen met ÉMILE Émile (F. Kennedy) AB.C, X. McDonald’s",
        )
        .map(|w| w.text)
        .collect();
        assert_eq!(
            words,
            vec![
                "Phone",
                "O'Brien",
                "Hans-Jürgen",
                "Émile",
                "F.",
                "Kennedy",
                "X.",
                "McDonald’s"
            ]
        );
        assert_eq!(capitalised("É").count(), 0, "a lone capital is no word");
        // An initial is not the end of a word.
        let initials = |t| capitalised(t).map(|w| w.text).collect::<Vec<_>>();
        assert_eq!(initials("aÉ. É. aB. B. _C."), vec!["É.", "B."]);
    }

    proptest::proptest! {
        /// The hand-written scanner finds what a regular expression
        /// finds (the one it replaced, with a Unicode word boundary).
        #[test]
        fn capitalised_words_as_the_regex_finds_them(text in "[aAbBéÉß'’. _1-]{0,40}") {
            let re = regex::Regex::new(
                r"\p{Lu}(?:\p{Ll}|['’]\p{Lu})[\p{L}'’-]*|\b\p{Lu}\.",
            )
            .unwrap();
            let want: Vec<(usize, usize)> = re.find_iter(&text).map(|m| (m.start(), m.end())).collect();
            let got: Vec<(usize, usize)> = capitalised(&text).map(|w| (w.start, w.end)).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn ordinary_capitalised_words_are_not_names() {
        for text in [
            "The Quick Brown Fox",
            "New York City",
            "Machine Learning Model Card",
        ] {
            assert!(
                names(text).iter().all(|(_, s)| *s < 0.5),
                "{text}: {:?}",
                names(text)
            );
        }
    }
}
