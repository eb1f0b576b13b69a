//! Skipping ahead to the bytes that matter, eight at a time: the numeric
//! matchers only care where digits, `+` and `(` are, and the name finder
//! only where capitals are; most bytes of text are neither.

/// A range of ASCII bytes (`lo` at least 1), and whether bytes of 0x80
/// and above (the bytes of non-ASCII characters) count too.
#[derive(Clone, Copy)]
pub(crate) struct Wanted {
    pub lo: u8,
    pub hi: u8,
    pub non_ascii: bool,
}

const ONES: u64 = u64::MAX / 255;
const LOW7: u64 = ONES * 127;
const HIGH: u64 = ONES * 128;

impl Wanted {
    fn byte(self, b: u8) -> bool {
        (self.lo..=self.hi).contains(&b) || (self.non_ascii && !b.is_ascii())
    }

    /// Whether any byte of `word` is wanted: the bit-twiddling "has a
    /// byte between" test (bytes strictly between `lo - 1` and `hi + 1`,
    /// none of 0x80 and above), and the high bits for non-ASCII bytes.
    fn any(self, word: u64) -> bool {
        let (m, n) = (u64::from(self.lo).saturating_sub(1), u64::from(self.hi) + 1);
        let between = (ONES * (127 + n)).wrapping_sub(word & LOW7)
            & !word
            & (word & LOW7).wrapping_add(ONES * (127 - m))
            & HIGH;
        between != 0 || (self.non_ascii && word & HIGH != 0)
    }
}

/// The offset of the first wanted byte of `r`.
pub(crate) fn next(r: &[u8], wanted: Wanted) -> Option<usize> {
    let mut skipped = 0;
    for chunk in r.chunks_exact(8) {
        let word = chunk.try_into().map_or(u64::MAX, u64::from_le_bytes);
        if wanted.any(word) {
            break;
        }
        skipped += 8;
    }
    let k = r.get(skipped..)?.iter().position(|&b| wanted.byte(b))?;
    Some(skipped + k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DIGITS_AND_MORE: Wanted = Wanted {
        lo: b'(',
        hi: b'9',
        non_ascii: false,
    };
    const CAPITALS: Wanted = Wanted {
        lo: b'A',
        hi: b'Z',
        non_ascii: true,
    };

    #[test]
    fn every_byte_at_every_place() {
        for wanted in [DIGITS_AND_MORE, CAPITALS] {
            for b in 0..=255u8 {
                for at in [0, 3, 7] {
                    let mut bytes = [b'a'; 8];
                    bytes[at] = b;
                    let word = u64::from_le_bytes(bytes);
                    assert_eq!(wanted.any(word), wanted.byte(b), "{b:#x} at {at}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn next_is_the_first_wanted_byte(r in proptest::collection::vec(any::<u8>(), 0..40)) {
            for wanted in [DIGITS_AND_MORE, CAPITALS] {
                prop_assert_eq!(next(&r, wanted), r.iter().position(|&b| wanted.byte(b)));
            }
        }
    }
}
