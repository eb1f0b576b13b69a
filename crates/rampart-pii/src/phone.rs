//! Phone numbers: international numbers (`+CC`, or the `00` exit prefix)
//! for any assigned country code, national numbers for the US (NANP), UK,
//! Germany, France, India, China, Italy, Poland, Spain and Turkey (and,
//! through the same trunk-0 plans, most of Europe, Japan and Pakistan),
//! with an extension (`x123`, `ext. 123`, `#123`) allowed.
//!
//! The rules are the numbering plans' structure (lengths and leading
//! digits), checked in well under a microsecond. libphonenumber's full
//! metadata (the `phonenumber` crate) was tried first: it took 10 to 30 µs
//! per valid number, which alone capped scanning at a few MB/s on text
//! with many phone numbers, and its bundled metadata predates some of
//! India's mobile ranges.

use crate::validate::Digits;

/// How a number was written, which sets its score: an international
/// number or a formatted national one is more certainly a phone number
/// than ten bare digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    International,
    /// Digits that may be a phone number but cannot be told from other
    /// numbers by their shape alone: an assigned country code and a
    /// number of E.164 length whose digits do not fit that country's plan
    /// (a redundant trunk zero, `+49(0) 0…`, or a plan not modelled), or
    /// nine bare digits that only a plan as broad as Poland's or Spain's
    /// takes. A phone number only beside a word that says so.
    Loose,
    National {
        formatted: bool,
    },
}

/// The countries whose national numbers (trunk prefix, no country code)
/// are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Nanp,
    Uk,
    Germany,
    France,
    India,
    China,
    Italy,
    /// Poland and Spain: nine digits, no trunk prefix.
    NineDigits,
    Turkey,
}

/// Whether the national significant number `nsn` (no trunk 0, no country
/// code) fits the plan.
fn fits(plan: Plan, nsn: &[u8]) -> bool {
    let at = |i: usize| nsn.get(i).copied().unwrap_or(0);
    match plan {
        // NXX NXX XXXX: area and exchange codes start 2-9 and are not N11.
        Plan::Nanp => {
            nsn.len() == 10
                && at(0) >= 2
                && !(at(1) == 1 && at(2) == 1)
                && at(3) >= 2
                && !(at(4) == 1 && at(5) == 1)
        }
        // 10 digits (9 for a few 01 areas); no 0, 4 or 6 ranges.
        Plan::Uk => match at(0) {
            1 => matches!(nsn.len(), 9 | 10),
            2 | 3 | 5 | 7 | 8 | 9 => nsn.len() == 10,
            _ => false,
        },
        // Area code and subscriber number together: 6 to 11 digits;
        // mobiles (15x, 16x, 17x) 10 or 11.
        Plan::Germany => match (at(0), at(1)) {
            (0, _) => false,
            (1, 5..=7) => matches!(nsn.len(), 10 | 11),
            _ => (6..=11).contains(&nsn.len()),
        },
        Plan::France => nsn.len() == 9 && at(0) >= 1,
        // 10 digits: mobiles 6-9, landlines an STD code starting 1-5.
        Plan::India => nsn.len() == 10 && at(0) >= 1,
        // Mobiles 1[3-9] and 11 digits; landlines an area code and 7 or 8
        // digits, 9 to 11 in all (after the trunk 0).
        Plan::China => china_mobile(nsn) || (at(0) >= 1 && (9..=10).contains(&nsn.len())),
        // No trunk prefix: landlines keep their 0 (6 to 11 digits), mobiles
        // 3[1-9] and 9 to 11 digits.
        Plan::Italy => match at(0) {
            0 => (6..=11).contains(&nsn.len()),
            3 => at(1) >= 1 && (9..=11).contains(&nsn.len()),
            _ => false,
        },
        Plan::NineDigits => nsn.len() == 9 && at(0) >= 1,
        // 10 digits starting 2-5, 8 or 9 (after the trunk 0), or a 444
        // nationwide number of 7.
        Plan::Turkey => {
            (nsn.len() == 10 && matches!(at(0), 2..=5 | 8 | 9))
                || (nsn.len() == 7 && nsn.starts_with(&[4, 4, 4]))
        }
    }
}

/// A Chinese mobile number: 1[3-9] and 11 digits, written without a trunk
/// prefix.
fn china_mobile(nsn: &[u8]) -> bool {
    nsn.len() == 11 && nsn.first() == Some(&1) && nsn.get(1).is_some_and(|&d| d >= 3)
}

/// Assigned ITU-T E.164 country codes: every one- and two-digit code and
/// the three-digit blocks in use.
fn country_code(d: &[u8]) -> Option<(usize, Option<Plan>)> {
    let n = |k: usize| d.iter().take(k).fold(0u32, |a, &x| a * 10 + u32::from(x));
    if d.first() == Some(&1) {
        return Some((1, Some(Plan::Nanp)));
    }
    if d.first() == Some(&7) {
        return Some((1, None));
    }
    match n(2) {
        44 => return Some((2, Some(Plan::Uk))),
        49 => return Some((2, Some(Plan::Germany))),
        33 => return Some((2, Some(Plan::France))),
        91 => return Some((2, Some(Plan::India))),
        86 => return Some((2, Some(Plan::China))),
        39 => return Some((2, Some(Plan::Italy))),
        48 | 34 => return Some((2, Some(Plan::NineDigits))),
        90 => return Some((2, Some(Plan::Turkey))),
        20
        | 27
        | 30..=32
        | 36
        | 40
        | 41
        | 43
        | 45..=47
        | 51..=58
        | 60..=66
        | 81
        | 82
        | 84
        | 92..=95
        | 98 => return Some((2, None)),
        _ => {}
    }
    let three = n(3);
    let block = three / 10;
    let assigned = matches!(
        block,
        21..=26 | 29 | 35 | 37 | 38 | 42 | 50 | 59 | 67..=69 | 80 | 85 | 87 | 88 | 96 | 97
    ) || matches!(three, 992..=996 | 998);
    (d.len() >= 3 && assigned).then_some((3, None))
}

/// The number without its extension.
fn strip_extension(s: &str) -> &str {
    // Every separator has an `x` or a `#`: most numbers have neither.
    if !s.bytes().any(|b| matches!(b, b'x' | b'X' | b'#')) {
        return s;
    }
    let lower = s.to_ascii_lowercase();
    for sep in ["extension", "ext.", "ext", "x", "#"] {
        if let Some(i) = lower.rfind(sep) {
            let tail = lower.get(i + sep.len()..).unwrap_or("").trim();
            if !tail.is_empty() && tail.len() <= 6 && tail.bytes().all(|b| b.is_ascii_digit()) {
                return s.get(..i).unwrap_or(s).trim_end();
            }
        }
    }
    s
}

/// The ASCII digits of `s`; `None` if there are too many for a phone.
fn digits(s: &str) -> Option<Digits> {
    Digits::new().extend_from(s)
}

/// Whether `s` is a valid phone number, and how it was written.
pub fn validate(s: &str) -> Option<Form> {
    let number = strip_extension(s.trim());
    if !balanced(number) {
        return None;
    }
    // `(+49) 30 1234567`: the country code in brackets, read as `+49 30…`.
    let bracketed = number
        .strip_prefix("(+")
        .and_then(|rest| rest.split_once(')'))
        .filter(|(code, _)| !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()))
        .map(|(code, national)| format!("+{code}{national}"));
    let number = bracketed.as_deref().unwrap_or(number);
    // `+44(0)20…`: the trunk zero written after the country code.
    let international = number
        .strip_prefix('+')
        .or_else(|| number.strip_prefix("00"))
        .map(|rest| match rest.split_once("(0)") {
            Some((code, national)) => digits(code)?.extend_from(national),
            None => digits(rest),
        });
    if let Some(d) = international {
        let d = d?;
        if !(8..=15).contains(&d.len()) {
            return None;
        }
        let (len, plan) = country_code(&d)?;
        let nsn = d.get(len..)?;
        let ok = match plan {
            Some(plan) => fits(plan, nsn),
            None => (4..=12).contains(&nsn.len()),
        };
        return Some(if ok { Form::International } else { Form::Loose });
    }
    let d = digits(number)?;
    let formatted = number
        .bytes()
        .any(|b| matches!(b, b' ' | b'-' | b'.' | b'(' | b')'));
    let fits_any = |plans: &[Plan], nsn: &[u8]| plans.iter().any(|&p| fits(p, nsn));
    let national = match d.split_first() {
        // NANP with its trunk 1, or a plan with the trunk 0.
        Some((1, nsn)) => fits(Plan::Nanp, nsn) || fits(Plan::India, &d) || china_mobile(&d),
        Some((0, nsn)) => {
            fits_any(&[Plan::Uk, Plan::Germany, Plan::France, Plan::India], nsn)
                || fits_any(&[Plan::China, Plan::Turkey], nsn)
                || fits(Plan::Italy, &d)
        }
        // Without a trunk prefix: ten NANP digits, an Indian number
        // (often written without its trunk 0), a Chinese or Italian
        // mobile, a Turkish 444 number.
        // Nine bare digits are too common a number to be taken for an old
        // Italian mobile without a word saying so (below).
        Some(_) => {
            fits_any(&[Plan::Nanp, Plan::India, Plan::Turkey], &d)
                || china_mobile(&d)
                || (fits(Plan::Italy, &d) && d.len() >= 10)
        }
        None => false,
    };
    if national {
        return Some(Form::National { formatted });
    }
    // Nine digits fit Poland's and Spain's plans, and many other numbers:
    // only grouped as those countries write them (519 179 944, 22 298 95
    // 64, 612 34 56 78) is it surely a phone; a ZIP+4 (12345-6789) is not.
    fits(Plan::NineDigits, &d).then_some(match small_groups(number) {
        true => Form::National { formatted },
        false => Form::Loose,
    })
}

/// Whether `s` is digits in groups of two or three, at least three groups.
fn small_groups(s: &str) -> bool {
    let groups = s.split([' ', '-', '.']).filter(|g| !g.is_empty());
    let mut count = 0;
    groups.into_iter().all(|g| {
        count += 1;
        (2..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit())
    }) && count >= 3
}

/// Whether every bracket of `s` is closed: `(01456-692` is a postcode
/// after an opening bracket, not a phone number.
fn balanced(s: &str) -> bool {
    s.bytes().filter(|&b| b == b'(').count() == s.bytes().filter(|&b| b == b')').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_with_extensions() {
        for (s, want) in [
            ("+1-202-555-0143", Form::International),
            ("001-202-555-0143x1234", Form::International),
            ("+44 20 7946 0958", Form::International),
            ("+44(0)20 7946 0958", Form::International),
            ("+33 (0)1 23 45 67 89", Form::International),
            ("+919876543210", Form::International),
            ("+49 30 901820", Form::International),
            ("+81 3-1234-5678", Form::International),
            ("(202)555-0143 x123", Form::National { formatted: true }),
            ("202.555.0143", Form::National { formatted: true }),
            ("020 7946 0958", Form::National { formatted: true }),
            ("030 901820", Form::National { formatted: true }),
            ("01 23 45 67 89", Form::National { formatted: true }),
            ("09876543210", Form::National { formatted: false }),
            ("9161935270", Form::National { formatted: false }),
            ("202-555-0143 ext. 12", Form::National { formatted: true }),
            // China, Italy, Poland, Spain, Turkey, Japan.
            ("13481553612", Form::National { formatted: false }),
            ("010-6552-9988", Form::National { formatted: true }),
            ("3602269761", Form::National { formatted: false }),
            ("360 226 976", Form::National { formatted: true }),
            ("06 6982 1234", Form::National { formatted: true }),
            ("519 179 944", Form::National { formatted: true }),
            ("22 298 95 64", Form::National { formatted: true }),
            ("612 345 678", Form::National { formatted: true }),
            ("0532 123 45 67", Form::National { formatted: true }),
            ("444 1 371", Form::National { formatted: true }),
            ("080-9761-6814", Form::National { formatted: true }),
            ("+86 134 8155 3612", Form::International),
            ("+39 360 226 976", Form::International),
            ("+48 519 179 944", Form::International),
        ] {
            assert_eq!(validate(s), Some(want), "{s}");
        }
        for s in [
            "12345",
            "+999 1234567",
            "4111111111111111",
            "(01456-692",
            "018-5663)",
        ] {
            assert_eq!(validate(s), None, "{s}");
        }
        // An assigned country code, E.164 length, digits off the plan: a
        // phone number only where a word says so.
        for s in [
            "+1-012-555-0143",
            "+1-202-155-0143",
            "+44 4123 456789",
            "+49(0) 012891614",
            "+910089897232",
            "519179944",
            "360226976",
            "12345-6789",
        ] {
            assert_eq!(validate(s), Some(Form::Loose), "{s}");
        }
    }
}
