//! Candidates for the numeric entities (card, NHS, SSN and phone numbers),
//! found by hand rather than by regular expressions. Each matcher finds
//! exactly what its pattern (kept beside it, and checked against it by a
//! property test) finds with leftmost-first search, but only tries the few
//! places in a text where a number starts. Text with a personal value
//! every few dozen bytes is mostly numbers: there, one regular-expression
//! search per entity over the whole text, plus a set search to know which
//! to run, cost more than everything else the scanner does.

use crate::skip;

/// Whether `b` is a word byte for an ASCII word boundary.
fn word(b: Option<&u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

fn digit(t: &[u8], i: usize) -> bool {
    t.get(i).is_some_and(u8::is_ascii_digit)
}

/// An ASCII word boundary at `i`.
fn boundary(t: &[u8], i: usize) -> bool {
    word(i.checked_sub(1).and_then(|j| t.get(j))) != word(t.get(i))
}

/// Where a digit starts a number: a digit with no word byte before it.
fn number_start(t: &[u8], i: usize) -> bool {
    digit(t, i) && boundary(t, i)
}

/// A numeric entity's matcher: the end of its match starting at `s`, if
/// one does.
pub(crate) type Matcher = fn(&[u8], usize) -> Option<usize>;

/// `\b\d(?:[ -]?\d){11,18}\b`: 12 to 19 digits, single spaces or hyphens
/// between them; the longest that ends at a boundary.
pub(crate) fn card(t: &[u8], s: usize) -> Option<usize> {
    if !number_start(t, s) {
        return None;
    }
    // The end after each repetition; the path is unique (a separator must
    // be followed by a digit, and a digit is never a separator).
    let mut ends = [0usize; 19];
    let mut i = s + 1;
    let mut n = 0;
    while n < 18 {
        let sep = matches!(t.get(i), Some(b' ' | b'-'));
        match (sep && digit(t, i + 1), digit(t, i)) {
            (true, _) => i += 2,
            (false, true) => i += 1,
            (false, false) => break,
        }
        n += 1;
        *ends.get_mut(n)? = i;
    }
    (11..=n)
        .rev()
        .map(|k| ends.get(k).copied().unwrap_or(0))
        .find(|&e| boundary(t, e))
}

/// `\b\d{3} ?\d{3} ?\d{4}\b`.
pub(crate) fn nhs(t: &[u8], s: usize) -> Option<usize> {
    if !number_start(t, s) {
        return None;
    }
    let mut i = s;
    for (k, n) in [3, 3, 4].into_iter().enumerate() {
        if k > 0 && t.get(i) == Some(&b' ') {
            i += 1;
        }
        if !(i..i + n).all(|j| digit(t, j)) {
            return None;
        }
        i += n;
    }
    boundary(t, i).then_some(i)
}

/// `\b\d{3}-\d{2}-\d{4}\b`.
pub(crate) fn ssn(t: &[u8], s: usize) -> Option<usize> {
    if !number_start(t, s) {
        return None;
    }
    let mut i = s;
    for (k, n) in [3, 2, 4].into_iter().enumerate() {
        if k > 0 {
            if t.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
        if !(i..i + n).all(|j| digit(t, j)) {
            return None;
        }
        i += n;
    }
    boundary(t, i).then_some(i)
}

/// A byte of the body of a phone number: `[\d(). /-]`.
fn phone_body(b: &u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'(' | b')' | b'.' | b' ' | b'/' | b'-')
}

/// `(?i)(?:\+\d|\(\+?\d|\b\d)[\d(). /-]{5,22}\d(?: ?(?:x|ext\.?|extension|#) ?\d{1,6})?\b`:
/// a start (`+` or `(` and a digit, or a digit at a boundary), 5 to 22
/// body bytes (as many as allow the rest), a digit, and an optional
/// extension, ending at a boundary.
pub(crate) fn phone(t: &[u8], s: usize) -> Option<usize> {
    let body = match t.get(s)? {
        b'+' | b'(' if digit(t, s + 1) => s + 2,
        // `(+49) 30 1234567`: the country code in brackets.
        b'(' if bracketed_plus(t, s) => s + 3,
        _ if number_start(t, s) => s + 1,
        _ => return None,
    };
    let longest = t
        .get(body..)?
        .iter()
        .take(22)
        .take_while(|b| phone_body(b))
        .count();
    (5..=longest).rev().find_map(|k| {
        let d = body + k;
        if !digit(t, d) {
            return None;
        }
        let e = d + 1;
        extension(t, e).or_else(|| boundary(t, e).then_some(e))
    })
}

/// ` ?(?:x|ext\.?|extension|#) ?\d{1,6}\b` at `i`: its end.
fn extension(t: &[u8], mut i: usize) -> Option<usize> {
    if t.get(i) == Some(&b' ') {
        i += 1;
    }
    let rest = t.get(i..)?;
    let starts = |w: &[u8]| {
        rest.get(..w.len())
            .is_some_and(|r| r.eq_ignore_ascii_case(w))
    };
    // The alternatives in the pattern's order; each is tried with the
    // rest of the extension until one gives a match.
    let words: [&[u8]; 5] = [b"x", b"ext.", b"ext", b"extension", b"#"];
    words.iter().filter(|w| starts(w)).find_map(|w| {
        let mut j = i + w.len();
        if t.get(j) == Some(&b' ') {
            j += 1;
        }
        let digits = t
            .get(j..)?
            .iter()
            .take(6)
            .take_while(|b| b.is_ascii_digit())
            .count();
        (1..=digits).rev().map(|n| j + n).find(|&e| boundary(t, e))
    })
}

/// The places in `t` where a numeric match can start: a digit at a
/// boundary, or `+` or `(` before a digit.
/// `(+` and a digit at `i`: a country code in brackets.
fn bracketed_plus(t: &[u8], i: usize) -> bool {
    t.get(i) == Some(&b'(') && t.get(i + 1) == Some(&b'+') && digit(t, i + 2)
}

pub(crate) fn starts(t: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    // Skip to the next byte in `(` ..= `9`, which holds `+`, `(` and the
    // digits: most bytes of text are letters and spaces.
    let wanted = skip::Wanted {
        lo: b'(',
        hi: b'9',
        non_ascii: false,
    };
    while let Some(skip) = t.get(i..).and_then(|r| skip::next(r, wanted)) {
        i += skip;
        let b = t.get(i).copied().unwrap_or(0);
        let starts = if b.is_ascii_digit() {
            !word(i.checked_sub(1).and_then(|j| t.get(j)))
        } else {
            matches!(b, b'+' | b'(') && digit(t, i + 1) || bracketed_plus(t, i)
        };
        if starts {
            out.push(i);
        }
        i += 1;
        // The rest of a run of digits starts nothing: a digit is before.
        if b.is_ascii_digit() {
            i += t
                .get(i..)
                .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
        }
    }
    out
}

/// The leftmost-first matches of `m` in `t`, given its possible starts.
pub(crate) fn find_iter<'a>(
    m: Matcher,
    t: &'a [u8],
    starts: &'a [usize],
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let mut from = 0;
    starts.iter().filter_map(move |&s| {
        if s < from {
            return None;
        }
        let e = m(t, s)?;
        from = e;
        Some((s, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each matcher and the pattern it implements (with ASCII digits and
    /// boundaries, as the scanner compiles them).
    fn pairs() -> Vec<(Matcher, regex::Regex)> {
        let re = |p: &str| {
            regex::Regex::new(&p.replace(r"\b", r"(?-u:\b)").replace(r"\d", "[0-9]")).unwrap()
        };
        vec![
            (card as Matcher, re(r"\b\d(?:[ -]?\d){11,18}\b")),
            (nhs, re(r"\b\d{3} ?\d{3} ?\d{4}\b")),
            (ssn, re(r"\b\d{3}-\d{2}-\d{4}\b")),
            (
                phone,
                re(
                    r"(?i)(?:\+\d|\(\+?\d|\b\d)[\d(). /-]{5,22}\d(?: ?(?:x|ext\.?|extension|#) ?\d{1,6})?\b",
                ),
            ),
        ]
    }

    fn both(text: &str) {
        let t = text.as_bytes();
        let starts = starts(t);
        for (m, re) in pairs() {
            let want: Vec<(usize, usize)> =
                re.find_iter(text).map(|m| (m.start(), m.end())).collect();
            let got: Vec<(usize, usize)> = find_iter(m, t, &starts).collect();
            assert_eq!(got, want, "{re} on {text:?}");
        }
    }

    #[test]
    fn known_forms() {
        for text in [
            "card 4111 1111 1111 1111, 4111-1111-1111-1111 or 4111111111111111.",
            "20 digits 12345678901234567890 and 19: 1234567890123456789 x",
            "1234 5678 9012 3456 7 and 12 34",
            "NHS 943 476 5919; 9434765919; 943 4765919x",
            "SSN 078-05-1120, not 078-05-11201 or a078-05-1120",
            "call +1-202-555-0143 ext. 12, (202)555-0143 x123, 020 7946 0958 #4, 202.555.0143EXTENSION 7",
            "+44(0)20 7946 0958 and 01 23 45 67 89 extension 1234567",
            "(+49) 30 1234567, ((+44) 20 7946 0958, (+ 1) 202 and (+1",
            "é4111 1111 1111 1111 _4111111111111",
        ] {
            both(text);
        }
    }

    proptest! {
        #[test]
        fn starts_are_every_number_start(text in proptest::collection::vec(any::<u8>(), 0..80)) {
            let naive: Vec<usize> = (0..text.len())
                .filter(|&i| number_start(&text, i) || (matches!(text[i], b'+' | b'(') && digit(&text, i + 1))
                    || (text[i] == b'(' && text.get(i + 1) == Some(&b'+') && digit(&text, i + 2)))
                .collect();
            prop_assert_eq!(starts(&text), naive);
        }

        #[test]
        fn matchers_find_what_their_patterns_find(text in "[0-9 ()+./#xXetnsio_a-]{0,60}") {
            both(&text);
        }

        #[test]
        fn mostly_digits(text in "[0-9 -]{0,40}") {
            both(&text);
        }
    }
}
