//! Sorting of 64-bit keys by least-significant-digit radix sort: the
//! numbers of a column are summarised a batch at a time from one sort of
//! their keys ([`crate::sketch::number_key`]), and that sort was a quarter
//! of a profile's time as a comparison sort.
//!
//! Eleven bits a pass, three passes: the top 33 bits of the key (for a
//! number, its sign, exponent and first 21 bits of mantissa) are sorted
//! by radix, and the runs of keys that agree on them, which are short
//! for any data that is not packed into one part in two million, are
//! then sorted by comparison. A pass in which every key has the same
//! digit is skipped. The cost is a few reads and writes per key and
//! pass, whatever the batch's size or order; data that is packed does
//! no worse than a comparison sort of its runs.

/// Bits of the key sorted by each pass.
const BITS: u32 = 11;
const BUCKETS: usize = 1 << BITS;
const MASK: u64 = BUCKETS as u64 - 1;
/// The lowest bit the passes sort by: the three passes cover the rest.
const LOW: u32 = 64 - 3 * BITS;
const PASSES: usize = 3;
/// Below this many keys a comparison sort is faster than clearing and
/// summing the counters.
const SMALL: usize = 512;

fn digit(key: u64, pass: usize) -> usize {
    ((key >> (LOW + pass as u32 * BITS)) & MASK) as usize
}

/// Sorts `keys` in ascending order; `scratch` is working space, kept by
/// the caller between calls so that its allocation is reused.
pub fn sort(keys: &mut Vec<u64>, scratch: &mut Vec<u64>) {
    if keys.len() < SMALL || keys.len() > u32::MAX as usize {
        keys.sort_unstable();
        return;
    }
    let mut counts = vec![[0u32; BUCKETS]; PASSES];
    for &k in keys.iter() {
        for (pass, c) in counts.iter_mut().enumerate() {
            if let Some(c) = c.get_mut(digit(k, pass)) {
                *c += 1;
            }
        }
    }
    let len = keys.len() as u32;
    scratch.clear();
    scratch.resize(keys.len(), 0);
    for (pass, c) in counts.iter_mut().enumerate() {
        if c.contains(&len) {
            continue;
        }
        // Counts become the start of each digit's run.
        let mut start = 0u32;
        for slot in c.iter_mut() {
            let n = *slot;
            *slot = start;
            start += n;
        }
        for &k in keys.iter() {
            if let Some(next) = c.get_mut(digit(k, pass)) {
                if let Some(out) = scratch.get_mut(*next as usize) {
                    *out = k;
                }
                *next += 1;
            }
        }
        std::mem::swap(keys, scratch);
    }
    // Keys that agree on the bits sorted are next to each other: sort
    // each such run by the rest. Most such runs are of one value
    // repeated: already in order.
    for run in keys.chunk_by_mut(|a, b| a >> LOW == b >> LOW) {
        if !run.is_sorted() {
            run.sort_unstable();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted(mut v: Vec<u64>) -> Vec<u64> {
        let mut scratch = Vec::new();
        sort(&mut v, &mut scratch);
        v
    }

    #[test]
    fn sorts_keys_of_every_shape() {
        let mut x = 0x1234_5678_9abc_def0_u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let random: Vec<u64> = (0..10_000).map(|_| next()).collect();
        let small_range: Vec<u64> = (0..10_000).map(|_| (1 << 63) | (next() % 1000)).collect();
        let floats: Vec<u64> = (0..10_000)
            .map(|i| crate::sketch::number_key(f64::from(i % 977) * -0.37 + 5.0))
            .collect();
        let same = vec![42u64; 5_000];
        let descending: Vec<u64> = (0..5_000u64).rev().map(|i| i << 40).collect();
        for v in [random, small_range, floats, same, descending] {
            let mut want = v.clone();
            want.sort_unstable();
            assert_eq!(sorted(v), want);
        }
    }

    proptest! {
        #[test]
        fn sorts_as_sort_unstable(v in proptest::collection::vec(any::<u64>(), 0..3000), shift in 0u32..64) {
            let v: Vec<u64> = v.into_iter().map(|k| k >> shift).collect();
            let mut want = v.clone();
            want.sort_unstable();
            prop_assert_eq!(sorted(v), want);
        }
    }
}
