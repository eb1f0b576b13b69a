//! Person names without a language model: runs of capitalised words whose
//! first word is a known first name and whose last is a known surname
//! (dictionaries from the 1990 US Census lists, `tools/gen_name_lists.py`),
//! or that follow a title (Mr, Dr, Frau, Mme...). A run with only one of the
//! two in the dictionaries scores lower and needs a context word. A
//! model-based recogniser can be added later beside this one: it only has
//! to produce [`crate::Match`]es.

use crate::Match;
use regex::Regex;
use std::collections::HashSet;
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

struct Dictionaries {
    first: HashSet<&'static str>,
    last: HashSet<&'static str>,
    word: Regex,
}

fn dictionaries() -> Option<&'static Dictionaries> {
    static D: OnceLock<Option<Dictionaries>> = OnceLock::new();
    D.get_or_init(|| {
        Some(Dictionaries {
            first: FIRST.lines().collect(),
            last: LAST.lines().collect(),
            // A capitalised word (O'Brien, McDonald, Hans-Jürgen) or an
            // initial with its dot.
            word: Regex::new(r"\p{Lu}(?:\p{Ll}|['’]\p{Lu})[\p{L}'’-]*|(?-u:\b)\p{Lu}\.").ok()?,
        })
    })
    .as_ref()
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
fn known(set: &HashSet<&str>, word: &str) -> bool {
    // Most words are short ASCII: lowercase them on the stack.
    if word.len() <= 32 && word.bytes().all(|b| b.is_ascii_alphabetic()) {
        let mut buf = [0u8; 32];
        for (d, s) in buf.iter_mut().zip(word.bytes()) {
            *d = s.to_ascii_lowercase();
        }
        return buf
            .get(..word.len())
            .and_then(|b| std::str::from_utf8(b).ok())
            .is_some_and(|w| set.contains(w));
    }
    let f = fold(word);
    set.contains(f.as_str()) || (f.contains('-') && f.split('-').any(|p| set.contains(p)))
}

/// A capitalised word and its byte span.
#[derive(Clone, Copy)]
struct Word<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

/// Runs of capitalised words separated by single spaces.
fn runs<'t>(d: &Dictionaries, text: &'t str) -> Vec<Vec<Word<'t>>> {
    let mut out: Vec<Vec<Word<'t>>> = Vec::new();
    let mut run: Vec<Word<'t>> = Vec::new();
    for m in d.word.find_iter(text) {
        let w = Word {
            text: m.as_str(),
            start: m.start(),
            end: m.end(),
        };
        let joined = run
            .last()
            .is_some_and(|p| text.get(p.end..w.start) == Some(" "));
        if !joined && !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
        if run.len() < 6 {
            run.push(w);
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// Whether a capitalised title word is just before `start` ("Dr. ",
/// "Mrs ").
fn titled(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("").trim_end();
    let before = before.strip_suffix('.').unwrap_or(before);
    let word: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // Titles are capitalised: "miss. Pm" is not "Miss Pm".
    word.chars().next().is_some_and(char::is_uppercase)
        && TITLES.contains(&word.to_lowercase().as_str())
}

/// Person names in `text`, each with a base score (context is added by
/// the caller).
pub fn find(text: &str, out: &mut Vec<Match>) {
    let Some(d) = dictionaries() else {
        return;
    };
    for run in runs(d, text) {
        let mut i = 0;
        while i < run.len() {
            let Some(first) = run.get(i) else { break };
            let folded = fold(first.text.trim_end_matches('.'));
            if TITLES.contains(&folded.as_str()) || CUES.contains(&folded.as_str()) {
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
