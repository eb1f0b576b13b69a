//! Rampart's own outputs, which are never personal data: a file masked by
//! `rampart data pii mask` must pass the pii gate, or the documented
//! workflow fails its own check and users turn the gate off.
//!
//! Two kinds of output can look like data to the recognisers:
//! - `siv:` tokens: base64url holds runs of capitals ("MIolhyIEwZz") that
//!   the name finder would take for names, and digit runs a phone matcher
//!   could take for numbers;
//! - masks and generalisations (`*** **** 0958`, `941**`): `*` stands for
//!   what was removed, and no recogniser's value holds a `*`, so a match
//!   that does is the shape of a value, not the value.
//!
//! `hmac` pseudonyms (lowercase hex) and `<ENTITY>` replacements match no
//! recogniser; `ff1` output is by design indistinguishable from real
//! values and is not recognised (docs/data-protection.md says so).

use crate::Match;

/// The shortest token text after `siv:`: AES-SIV's 16-byte tag alone is
/// 22 base64url characters, so a shorter run is not one of ours.
const SIV_MIN: usize = 22;

/// The byte ranges of the `siv:` tokens in `text`.
fn siv_tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text.get(from..).and_then(|t| t.find("siv:")) {
        let start = from + at;
        let body = start + 4;
        let len = text
            .get(body..)
            .map_or(0, |t| t.bytes().take_while(|&b| is_base64url(b)).count());
        if len >= SIV_MIN {
            out.push((start, body + len));
        }
        from = body + len;
    }
    out
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Removes the matches that are Rampart's own outputs: those holding or
/// touching a mask character, and those overlapping a `siv:` token.
pub(crate) fn drop_own(text: &str, found: &mut Vec<Match>) {
    // A match holding a mask, or touching one ("Mel***", "Tao ****": a
    // name generalised to a prefix), is part of a masked value.
    let masked = |m: &Match| {
        text.get(m.start..m.end).is_some_and(|v| v.contains('*'))
            || text
                .get(m.end..)
                .is_some_and(|t| t.strip_prefix(' ').unwrap_or(t).starts_with('*'))
            || text.get(..m.start).is_some_and(|t| t.ends_with('*'))
    };
    found.retain(|m| !masked(m));
    if found.is_empty() || !text.contains("siv:") {
        return;
    }
    let tokens = siv_tokens(text);
    found.retain(|m| !tokens.iter().any(|&(a, b)| a < m.end && m.start < b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_touching_a_mask_are_part_of_it() {
        let m = |start, end| Match {
            entity: "PERSON",
            start,
            end,
            score: 0.9,
            detail: None,
        };
        for (text, start, end) in [
            ("Dear Mr Tao ****, hi", 8, 11),
            ("Sig. Mel*** ****", 5, 8),
            ("Ms ***Ann", 6, 9),
        ] {
            let mut found = vec![m(start, end)];
            drop_own(text, &mut found);
            assert!(found.is_empty(), "{text}");
        }
        let mut found = vec![m(8, 11)];
        drop_own("Dear Mr Tao, ****", &mut found);
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn siv_tokens_are_long_base64url_runs_after_the_prefix() {
        let t = "a siv:MIolhyIEwZz2F14miZenqLMg2WUvo b siv:short siv:";
        let spans = siv_tokens(t);
        assert_eq!(spans.len(), 1);
        let (a, b) = spans[0];
        assert_eq!(&t[a..b], "siv:MIolhyIEwZz2F14miZenqLMg2WUvo");
    }
}
