//! Context words, found once per text. Each recognizer has words that make
//! its matches likelier (context) and words that say a number is something
//! else (negative). Rather than reading the window around every candidate
//! for every word of its recognizer, the text is split into words once, and
//! each word that belongs to some list is kept with a bit per recognizer.
//! Checking a candidate is then a look at the few words kept near it.

use rustc_hash::FxHashMap;

/// Which recognizers a word counts for: bit `i` is recognizer `i`.
pub(crate) type Mask = u32;

/// Every context word of every recognizer, lowercase, with its masks.
/// Two-word phrases ("social security", "e-mail") are kept as written,
/// with their one separator, and their first words are marked so that
/// only those are tried with the next word.
pub(crate) struct Lexicon {
    words: FxHashMap<&'static [u8], Entry>,
    /// The longest word or phrase: longer tokens are not looked up.
    longest: usize,
    /// A bit per shape (first and last byte and length, hashed) of the
    /// words: most tokens of a text have no word's shape and are not
    /// lowercased or hashed.
    shapes: [u64; 64],
}

/// The bit of a lowercase word's shape in [`Lexicon::shapes`].
fn shape(first: u8, last: u8, len: usize) -> (usize, u64) {
    let h = usize::from(first) * 31 + usize::from(last) * 131 + len * 7;
    ((h / 64) % 64, 1u64 << (h % 64))
}

#[derive(Default, Clone, Copy)]
struct Entry {
    context: Mask,
    negative: Mask,
    starts_phrase: bool,
}

impl Lexicon {
    /// `lists` holds, per recognizer bit, its context and negative words.
    pub(crate) fn new<'a>(
        lists: impl IntoIterator<Item = (u32, &'a [&'static str], &'a [&'static str])>,
    ) -> Lexicon {
        let mut words: FxHashMap<&'static [u8], Entry> = FxHashMap::default();
        for (bit, context, negative) in lists {
            let bit = 1u32.checked_shl(bit).unwrap_or(0);
            for (w, negative) in context
                .iter()
                .map(|w| (w, false))
                .chain(negative.iter().map(|w| (w, true)))
            {
                let entry = words.entry(w.as_bytes()).or_default();
                match negative {
                    true => entry.negative |= bit,
                    false => entry.context |= bit,
                }
                if let Some((first, _)) = w.split_once([' ', '-']) {
                    words.entry(first.as_bytes()).or_default().starts_phrase = true;
                }
            }
        }
        let longest = words.keys().map(|w| w.len()).max().unwrap_or(0);
        let mut shapes = [0u64; 64];
        for w in words.keys() {
            if let (Some(&first), Some(&last)) = (w.first(), w.last()) {
                let (i, bit) = shape(first, last, w.len());
                if let Some(bits) = shapes.get_mut(i) {
                    *bits |= bit;
                }
            }
        }
        Lexicon {
            words,
            longest,
            shapes,
        }
    }

    /// `word` lowercased into `buf` and looked up.
    fn find(&self, word: &str, buf: &mut [u8; 48]) -> Option<Entry> {
        let bytes = word.as_bytes();
        let (first, last) = (bytes.first()?, bytes.last()?);
        let (i, bit) = shape(
            first.to_ascii_lowercase(),
            last.to_ascii_lowercase(),
            word.len(),
        );
        let fits = self.shapes.get(i).is_some_and(|bits| bits & bit != 0);
        if !fits || word.len() > self.longest || !word.is_ascii() {
            return None;
        }
        let lower = buf.get_mut(..word.len())?;
        for (d, s) in lower.iter_mut().zip(word.bytes()) {
            *d = s.to_ascii_lowercase();
        }
        self.words.get(&*lower).copied()
    }

    /// The words of `text` that are in the lexicon, in order.
    pub(crate) fn hits(&self, text: &str) -> Vec<Hit> {
        let mut out = Vec::with_capacity(8);
        let mut buf = [0u8; 48];
        let mut push = |start, end, e: Entry| {
            if e.context | e.negative != 0 {
                out.push(Hit {
                    start,
                    end,
                    context: e.context,
                    negative: e.negative,
                });
            }
        };
        // Where the previous token started, if it may start a phrase.
        let mut phrase: Option<(usize, usize)> = None;
        for (start, end) in tokens(text) {
            // A phrase: its first word, one space or hyphen, this word.
            if let Some((p_start, p_end)) = phrase {
                if matches!(text.get(p_end..start), Some(" " | "-")) {
                    if let Some(e) = text.get(p_start..end).and_then(|p| self.find(p, &mut buf)) {
                        push(p_start, end, e);
                    }
                }
            }
            let entry = text.get(start..end).and_then(|t| self.find(t, &mut buf));
            if let Some(e) = entry {
                push(start, end, e);
            }
            phrase = entry.filter(|e| e.starts_phrase).map(|_| (start, end));
        }
        out
    }

    /// The recognizers for which some word of `text` is context (a column
    /// name such as `phone_number`).
    pub(crate) fn context_of(&self, text: &str) -> Mask {
        self.hits(text).iter().fold(0, |m, h| m | h.context)
    }
}

/// Byte classes for [`tokens`]: an ASCII letter or digit, another
/// ASCII byte, or a byte of a multi-byte character (decoded to classify).
const ALNUM: u8 = 1;
const OTHER: u8 = 0;
const WIDE: u8 = 2;
// Built at compile time, where an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
static CLASS: [u8; 256] = {
    let mut class = [WIDE; 256];
    let mut b = 0;
    while b < 128 {
        class[b] = if (b as u8).is_ascii_alphanumeric() {
            ALNUM
        } else {
            OTHER
        };
        b += 1;
    }
    class
};

/// Runs of alphanumeric characters, as byte spans. ASCII bytes are
/// classified by a table; only other characters are decoded.
fn tokens(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let class = |b: u8| CLASS.get(usize::from(b)).copied().unwrap_or(OTHER);
    // Whether the character at `i` is alphanumeric, and its length.
    let alnum_at = move |i: usize| -> (bool, usize) {
        match bytes.get(i).map(|&b| class(b)) {
            Some(ALNUM) => (true, 1),
            Some(WIDE) => text
                .get(i..)
                .and_then(|t| t.chars().next())
                .map_or((false, 1), |c| (c.is_alphanumeric(), c.len_utf8())),
            _ => (false, 1),
        }
    };
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            let (alnum, len) = alnum_at(i);
            if alnum {
                break;
            }
            if i >= bytes.len() {
                return None;
            }
            i += len;
        }
        let start = i;
        loop {
            let (alnum, len) = alnum_at(i);
            if !alnum {
                break;
            }
            i += len;
        }
        Some((start, i))
    })
}

/// A lexicon word in a text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    start: usize,
    end: usize,
    context: Mask,
    negative: Mask,
}

/// The lexicon words of one text, for the candidates found in it.
pub(crate) struct Near<'h> {
    hits: &'h [Hit],
}

impl<'h> Near<'h> {
    pub(crate) fn new(hits: &'h [Hit]) -> Near<'h> {
        Near { hits }
    }

    /// The hits that end in the `before` bytes before `start`. Hits are
    /// in order of both start and end (a phrase ends where its second
    /// word does).
    fn before(&self, start: usize, before: usize) -> impl Iterator<Item = &'h Hit> {
        let from = start.saturating_sub(before);
        let first = self.hits.partition_point(|h| h.end <= from);
        let rest = self.hits.get(first..).unwrap_or(&[]);
        rest.iter().take_while(move |h| h.end <= start)
    }

    /// The hits that start in the `after` bytes from `end`.
    fn after(&self, end: usize, after: usize) -> impl Iterator<Item = &'h Hit> {
        let first = self.hits.partition_point(|h| h.start < end);
        let rest = self.hits.get(first..).unwrap_or(&[]);
        rest.iter().take_while(move |h| h.start < end + after)
    }

    /// Whether a context word of the recognizers in `bit` is near the
    /// span `start..end`.
    pub(crate) fn context(
        &self,
        bit: Mask,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
    ) -> bool {
        self.before(start, before).any(|h| h.context & bit != 0)
            || self.after(end, after).any(|h| h.context & bit != 0)
    }

    /// Whether a negative word of the recognizers in `bit` ends in the
    /// `before` bytes before `start`.
    pub(crate) fn negative(&self, bit: Mask, start: usize, before: usize) -> bool {
        self.before(start, before).any(|h| h.negative & bit != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        Lexicon::new([
            (0, &["phone", "tel", "e-mail"][..], &["order"][..]),
            (1, &["social security", "tel"][..], &[][..]),
        ])
    }

    #[test]
    fn words_and_phrases_any_case_with_their_recognizers() {
        let l = lexicon();
        let text = "Tel: 555, Social Security 12, E-mail x, social  security, telephone, Order 3";
        let hits: Vec<(&str, Mask, Mask)> = l
            .hits(text)
            .iter()
            .map(|h| (&text[h.start..h.end], h.context, h.negative))
            .collect();
        assert_eq!(
            hits,
            vec![
                ("Tel", 3, 0),
                ("Social Security", 2, 0),
                ("E-mail", 1, 0),
                ("Order", 0, 1)
            ]
        );
        assert_eq!(l.context_of("home phone"), 1);
        assert_eq!(l.context_of("ssn"), 0);
    }

    #[test]
    fn windows_before_and_after() {
        let l = lexicon();
        let text = "phone 123 then 456 order 789";
        let hits = l.hits(text);
        let near = Near::new(&hits);
        let at = |s: &str| text.find(s).unwrap_or(0);
        let (s, e) = (at("123"), at("123") + 3);
        assert!(near.context(1, s, e, 60, 24));
        assert!(!near.context(2, s, e, 60, 24));
        assert!(
            near.context(1, s, e, 3, 24),
            "a word partly in the window counts"
        );
        assert!(
            !near.context(1, s, e, 1, 24),
            "the word ends before the window"
        );
        let (s, e) = (at("456"), at("456") + 3);
        assert!(!near.context(1, s, e, 5, 5));
        assert!(near.negative(1, at("789"), 16));
        assert!(!near.negative(1, at("456"), 16), "order comes after");
    }
}
