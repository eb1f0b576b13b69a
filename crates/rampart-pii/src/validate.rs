//! Validators: a candidate the patterns found is reported only when its
//! structure is valid (check digits, number ranges, network prefixes).

/// The digits of a number, as values 0 to 9, kept on the stack: a
/// validator runs on every candidate, and an allocation per candidate
/// showed in profiles. Holds at most [`Digits::MAX`]; no number the
/// validators accept is longer.
#[derive(Clone, Copy)]
pub struct Digits {
    buf: [u8; Digits::MAX],
    len: usize,
}

impl Digits {
    pub const MAX: usize = 32;

    pub fn new() -> Digits {
        Digits {
            buf: [0; Digits::MAX],
            len: 0,
        }
    }

    /// Adds the ASCII digits of `s`, skipping other bytes; `None` if that
    /// makes more than [`Digits::MAX`].
    pub fn extend_from(mut self, s: &str) -> Option<Digits> {
        for b in s.bytes().filter(u8::is_ascii_digit) {
            *self.buf.get_mut(self.len)? = b - b'0';
            self.len += 1;
        }
        Some(self)
    }
}

impl Default for Digits {
    fn default() -> Digits {
        Digits::new()
    }
}

impl std::ops::Deref for Digits {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// Digits of `s`, ignoring spaces and dashes; `None` if anything else, or
/// more than [`Digits::MAX`] digits.
pub fn digits(s: &str) -> Option<Digits> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b' ' || b == b'-')
    {
        return None;
    }
    Digits::new().extend_from(s)
}

/// The Luhn check (ISO/IEC 7812-1).
pub fn luhn(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &x) in d.iter().rev().enumerate() {
        let mut v = u32::from(x);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !d.is_empty() && sum % 10 == 0
}

fn prefix(d: &[u8], n: usize) -> u32 {
    d.iter().take(n).fold(0, |a, &x| a * 10 + u32::from(x))
}

/// The card network a number belongs to, by issuer prefix and length
/// (current IIN ranges), when its Luhn check passes.
pub fn card_network(d: &[u8]) -> Option<&'static str> {
    let len = d.len();
    if !(12..=19).contains(&len) || !luhn(d) {
        return None;
    }
    let p1 = prefix(d, 1);
    let p2 = prefix(d, 2);
    let p3 = prefix(d, 3);
    let p4 = prefix(d, 4);
    let p6 = prefix(d, 6);
    if p2 == 34 || p2 == 37 {
        (len == 15).then_some("American Express")
    } else if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) {
        (len == 16).then_some("Mastercard")
    } else if p1 == 4 {
        matches!(len, 13 | 16 | 19).then_some("Visa")
    } else if p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622126..=622925).contains(&p6)
    {
        (16..=19).contains(&len).then_some("Discover")
    } else if p2 == 35 {
        // JCB's registered range is 3528-3589, but test and generated
        // numbers (Faker's among them) use all of 35.
        (16..=19).contains(&len).then_some("JCB")
    } else if p4 == 2131 || p4 == 1800 {
        (len == 15).then_some("JCB")
    } else if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 {
        (14..=19).contains(&len).then_some("Diners Club")
    } else if p2 == 62 {
        (16..=19).contains(&len).then_some("UnionPay")
    } else if p2 == 50 || (56..=69).contains(&p2) || p4 == 604 {
        (12..=19).contains(&len).then_some("Maestro")
    } else {
        None
    }
}

/// IBAN lengths by country (the SWIFT registry, common countries).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// An IBAN: known country, its length, and the ISO 13616 mod-97 check.
pub fn iban(s: &str) -> bool {
    iban_fit(s) == Some(IbanFit::Registry)
}

/// How an IBAN candidate that passes the mod-97 check fits the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IbanFit {
    /// Its country's length.
    Registry,
    /// A known country and the check, but another length (a digit lost
    /// or doubled in typing, or a registry change): personal data where
    /// a word such as "IBAN" says so.
    OffLength,
}

/// [`IbanFit`] of a candidate; None unless it passes the mod-97 check
/// with a known country code (8 to 34 characters).
pub fn iban_fit(s: &str) -> Option<IbanFit> {
    let compact: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    let &(_, len) = IBAN_LENGTHS
        .iter()
        .find(|(c, _)| Some(*c) == compact.get(..2))?;
    if !(8..=34).contains(&compact.len()) || !mod97(&compact) {
        return None;
    }
    Some(if compact.len() == len {
        IbanFit::Registry
    } else {
        IbanFit::OffLength
    })
}

/// The ISO 13616 check: the first four characters moved to the end, as
/// a base-36 number, is 1 modulo 97.
fn mod97(compact: &str) -> bool {
    if !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let Some((head, tail)) = compact.get(..4).zip(compact.get(4..)) else {
        return false;
    };
    let mut rem = 0u32;
    for c in tail.chars().chain(head.chars()) {
        let Some(v) = c.to_digit(36) else {
            return false;
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// A US SSN (area not 000, 666 or 900-999; group not 00; serial not 0000)
/// or, with area 9xx and group 50-65, 70-88, 90-92 or 94-99, an ITIN.
pub fn ssn_or_itin(s: &str) -> Option<&'static str> {
    let d = digits(s)?;
    if d.len() != 9 {
        return None;
    }
    let area = prefix(&d, 3);
    let group = prefix(d.get(3..)?, 2);
    let serial = prefix(d.get(5..)?, 4);
    if serial == 0 || group == 0 {
        return None;
    }
    if area >= 900 {
        let itin = matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99);
        return itin.then_some("US_ITIN");
    }
    (area != 0 && area != 666).then_some("US_SSN")
}

/// A UK National Insurance number (HMRC's prefix rules).
pub fn nino(s: &str) -> bool {
    let c: Vec<char> = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let [a, b, n @ .., suffix] = c.as_slice() else {
        return false;
    };
    let pair: String = [*a, *b].iter().collect();
    c.len() == 9
        && a.is_ascii_uppercase()
        && b.is_ascii_uppercase()
        && !"DFIQUV".contains(*a)
        && !"DFIOQUV".contains(*b)
        && !["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"].contains(&pair.as_str())
        && n.iter().all(char::is_ascii_digit)
        && ('A'..='D').contains(suffix)
}

/// An NHS number: ten digits whose last is the mod-11 check digit.
pub fn nhs(s: &str) -> bool {
    let Some(d) = digits(s) else {
        return false;
    };
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d
        .iter()
        .take(9)
        .enumerate()
        .map(|(i, &x)| u32::from(x) * (10 - i as u32))
        .sum();
    let check = 11 - sum % 11;
    let check = if check == 11 { 0 } else { check };
    check != 10 && d.get(9).is_some_and(|&last| u32::from(last) == check)
}

/// An IPv4 address with every octet at most 255 and no leading zeros.
pub fn ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && !(p.len() > 1 && p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|v| v <= 255)
        })
}

pub fn ipv6(s: &str) -> bool {
    s.contains(':') && s.parse::<std::net::Ipv6Addr>().is_ok() && s.matches(':').count() >= 2
}

/// An email address: a local part and a dotted domain with an alphabetic
/// top-level label.
pub fn email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && labels
            .last()
            .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()))
}

/// A JWT: three base64url parts whose first two decode to JSON objects.
pub fn jwt(s: &str) -> bool {
    use base64::Engine;
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 3 {
        return false;
    }
    let dec = |p: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .ok()
    };
    parts.iter().take(2).all(|p| {
        dec(p)
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|v| v.is_object())
    })
}

/// Month names (English, German, French) and their numbers, for dates
/// written out.
const MONTHS: &[(&str, u32)] = &[
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    ("januar", 1),
    ("februar", 2),
    ("märz", 3),
    ("mai", 5),
    ("juni", 6),
    ("juli", 7),
    ("okt", 10),
    ("dez", 12),
    ("janvier", 1),
    ("février", 2),
    ("mars", 3),
    ("avril", 4),
    ("juin", 6),
    ("juillet", 7),
    ("août", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
];

fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    MONTHS
        .iter()
        .find(|(name, _)| w == *name || (w.len() >= 3 && name.len() == 3 && w.starts_with(name)))
        .map(|&(_, m)| m)
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// A calendar date that can be a date of birth: a real day, in a year from
/// 1900 to 2026. Accepts `1985-03-12`, `12/03/1985`, `03/12/1985` (either
/// order when both read as dates), `12.03.1985`, `12 March 1985` and
/// `March 12, 1985`.
pub fn birth_date(s: &str) -> bool {
    parse_date(s).is_some()
}

/// The year, month and day of a date in the forms [`birth_date`] accepts;
/// day-first is preferred when both orders are dates.
pub fn parse_date(s: &str) -> Option<(u32, u32, u32)> {
    // A date has at most eight digits: most phone numbers, checked here
    // first, are turned away without being split.
    if s.bytes().filter(u8::is_ascii_digit).count() > 8 {
        return None;
    }
    let mut parts = s.split(['-', '/', '.', ' ', ',']).filter(|p| !p.is_empty());
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let num = |p: &str| p.parse::<u32>().ok();
    let ok = |y: u32, m: u32, d: u32| {
        ((1900..=2026).contains(&y) && d >= 1 && d <= days_in(y, m)).then_some((y, m, d))
    };
    match (num(a), num(b), num(c)) {
        (Some(y), Some(m), Some(d)) if a.len() == 4 => ok(y, m, d),
        (Some(x), Some(y2), Some(y)) if c.len() == 4 => ok(y, y2, x).or_else(|| ok(y, x, y2)),
        (Some(d), None, Some(y)) => month(b).and_then(|m| ok(y, m, d)),
        (None, Some(d), Some(y)) => month(a).and_then(|m| ok(y, m, d)),
        _ => None,
    }
}

/// A Bitcoin address: base58check (P2PKH `1…`, P2SH `3…`) with its double
/// SHA-256 checksum, or a segwit address (`bc1…`) with its bech32/bech32m
/// checksum and a valid witness program.
pub fn bitcoin(s: &str) -> bool {
    use sha2::{Digest, Sha256};
    if s.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("bc1")) {
        return bech32::segwit::decode(s).is_ok();
    }
    let Ok(raw) = bs58::decode(s).into_vec() else {
        return false;
    };
    if raw.len() != 25 || !matches!(raw.first(), Some(0x00 | 0x05)) {
        return false;
    }
    let (body, check) = raw.split_at(21);
    let digest = Sha256::digest(Sha256::digest(body));
    digest.get(..4) == Some(check)
}

/// An Ethereum address whose mixed case is its EIP-55 checksum. An
/// all-lowercase or all-uppercase address has no checksum: `Some(false)`.
pub fn ethereum(s: &str) -> Option<bool> {
    use sha3::{Digest, Keccak256};
    let hex = s.strip_prefix("0x")?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    if hex == lower || hex == hex.to_ascii_uppercase() {
        return Some(false);
    }
    let hash = Keccak256::digest(lower.as_bytes());
    let checksummed = hex.bytes().enumerate().all(|(i, b)| {
        let nibble = hash
            .get(i / 2)
            .map_or(0, |h| if i % 2 == 0 { h >> 4 } else { h & 0xf });
        if b.is_ascii_digit() {
            true
        } else {
            b.is_ascii_uppercase() == (nibble >= 8)
        }
    });
    checksummed.then_some(true)
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f32 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        if let Some(c) = counts.get_mut(usize::from(b)) {
            *c += 1;
        }
    }
    let n = s.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// A secret value: long, varied (not a word, a date or a run of one
/// character class) and with at least 3.5 bits of entropy per character.
pub fn secret(s: &str) -> bool {
    let classes = [
        s.bytes().any(|b| b.is_ascii_lowercase()),
        s.bytes().any(|b| b.is_ascii_uppercase()),
        s.bytes().any(|b| b.is_ascii_digit()),
    ];
    s.len() >= 16 && classes.iter().filter(|&&c| c).count() >= 2 && entropy(s) >= 3.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_of_every_network_and_length() {
        for (number, network) in [
            ("4111 1111 1111 1111", "Visa"),
            ("4222222222222", "Visa"),
            ("4111111111111111110", "Visa"),
            ("5555 5555 5555 4444", "Mastercard"),
            ("2223003122003222", "Mastercard"),
            ("3782 822463 10005", "American Express"),
            ("6011111111111117", "Discover"),
            ("3530111333300000", "JCB"),
            ("213100000000001", "JCB"),
            ("30569309025904", "Diners Club"),
            ("6759649826438453", "Maestro"),
            ("501800000009", "Maestro"),
            ("060428675585", "Maestro"),
            ("3591019085001096", "JCB"),
        ] {
            assert_eq!(
                card_network(&digits(number).unwrap()),
                Some(network),
                "{number}"
            );
        }
        assert_eq!(
            card_network(&digits("4111 1111 1111 1112").unwrap()),
            None,
            "Luhn"
        );
        assert_eq!(
            card_network(&digits("1234567812345670").unwrap()),
            None,
            "no network"
        );
    }

    #[test]
    fn ibans_ssns_ninos_nhs() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(!iban("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban("XX82WEST12345698765432"));
        assert_eq!(ssn_or_itin("078-05-1120"), Some("US_SSN"));
        assert_eq!(ssn_or_itin("666-12-3456"), None);
        assert_eq!(ssn_or_itin("123-00-4567"), None);
        assert_eq!(ssn_or_itin("912-70-1234"), Some("US_ITIN"));
        assert_eq!(ssn_or_itin("912-40-1234"), None);
        assert!(nino("AB 12 34 56 C"));
        assert!(!nino("BG 12 34 56 C"));
        assert!(!nino("DA123456A"));
        assert!(nhs("943 476 5919"));
        assert!(!nhs("943 476 5918"));
    }

    #[test]
    fn addresses_and_tokens() {
        assert!(ipv4("192.168.0.1") && !ipv4("256.1.1.1") && !ipv4("01.2.3.4"));
        assert!(ipv6("2001:db8::1") && !ipv6("12:34"));
        assert!(email("jane.doe+ml@example.co.uk") && !email("a@b") && !email("x@1.2.3.4"));
        assert!(jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"));
        assert!(!jwt("eyJub3Q.json.x"));
    }

    #[test]
    fn dates_wallets_secrets() {
        for d in [
            "1985-03-12",
            "12/03/1985",
            "03/31/1985",
            "12.03.1985",
            "12 March 1985",
            "March 12, 1985",
            "29 Feb 2000",
            "3 août 1990",
        ] {
            assert!(birth_date(d), "{d}");
        }
        for d in [
            "1985-02-30",
            "31/31/1985",
            "12 Foo 1985",
            "29 Feb 1900",
            "1850-01-01",
            "12/03/85",
        ] {
            assert!(!birth_date(d), "{d}");
        }
        assert!(bitcoin("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"));
        assert!(bitcoin("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(bitcoin("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(!bitcoin("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"));
        assert!(!bitcoin("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"));
        assert_eq!(
            ethereum("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            Some(true)
        );
        assert_eq!(
            ethereum("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
            Some(false)
        );
        assert_eq!(ethereum("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), None);
        assert!(secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(
            !secret("aaaaaaaaaaaaaaaaaaaa")
                && !secret("passwordpassword")
                && !secret("2021-03-04T10:11:12")
        );
    }
}
