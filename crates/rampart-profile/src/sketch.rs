//! Mergeable summaries of a stream of values: each can absorb values one
//! at a time and absorb another summary of the same kind, so that a
//! dataset profiled in shards and merged gives the profile of the whole.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// HyperLogLog distinct counter (Flajolet et al. 2007) with 2^14 one-byte
/// registers (16 KiB, standard error about 0.8%) over XXH3-64 hashes of
/// texts (numbers through a 64-bit mixer), and linear counting for small
/// cardinalities.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Hll {
    #[serde(with = "registers")]
    registers: Vec<u8>,
}

const P: u32 = 14;
const M: usize = 1 << P;

impl Default for Hll {
    fn default() -> Self {
        Hll {
            registers: vec![0; M],
        }
    }
}

impl Hll {
    pub fn add(&mut self, value: &[u8]) {
        self.add_hash(xxhash_rust::xxh3::xxh3_64(value));
    }

    /// Adds a number by its value, not its spelling: `7`, `7.0` and a
    /// Parquet integer 7 are one distinct value. Numbers hash in their own
    /// domain (a seed), apart from texts.
    pub fn add_number(&mut self, x: f64) {
        self.add_number_key(number_key(x));
    }

    /// Adds a number given by its [`number_key`].
    pub fn add_number_key(&mut self, k: u64) {
        self.add_hash(mix(k));
    }

    fn add_hash(&mut self, h: u64) {
        let index = (h >> (64 - P)) as usize;
        let rank = ((h << P) | (1 << (P - 1))).leading_zeros() as u8 + 1;
        if let Some(r) = self.registers.get_mut(index) {
            *r = (*r).max(rank);
        }
    }

    pub fn merge(&mut self, other: &Hll) {
        for (a, b) in self.registers.iter_mut().zip(&other.registers) {
            *a = (*a).max(*b);
        }
    }

    pub fn estimate(&self) -> u64 {
        let m = M as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self
            .registers
            .iter()
            // 2^-r, exactly, from its exponent bits.
            .map(|&r| f64::from_bits((1023 - u64::from(r)) << 52))
            .sum();
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        let e = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        e.round() as u64
    }
}

/// Registers as a hex string in JSON (16 KiB as 32 K characters, not a
/// list of 16 K numbers).
mod registers {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(r: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(r.len() * 2);
        for b in r {
            out.push_str(&format!("{b:02x}"));
        }
        s.serialize_str(&out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        if text.len() != super::M * 2 {
            return Err(serde::de::Error::custom(
                "HyperLogLog registers of the wrong length",
            ));
        }
        (0..super::M)
            .map(|i| {
                text.get(2 * i..2 * i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| serde::de::Error::custom("HyperLogLog registers are not hex"))
            })
            .collect()
    }
}

/// The finaliser of SplitMix64 (Steele et al.): a bijection of 64-bit
/// words whose every output bit depends on every input bit, which is what
/// HyperLogLog needs of a hash; for an 8-byte key it is a few
/// multiplications where XXH3 is a function call. The constant added
/// first keeps numbers apart from the hashes of texts.
fn mix(k: u64) -> u64 {
    let mut z = k.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A finite number as a key that sorts as the number does (the sign bit
/// flipped for positives, all bits for negatives), with -0 as 0: sorting
/// keys as integers is twice as fast as sorting floats by comparison.
pub fn number_key(x: f64) -> u64 {
    let b = if x == 0.0 { 0 } else { x.to_bits() };
    if b >> 63 == 1 {
        !b
    } else {
        b | 1 << 63
    }
}

/// A number as the shortest text that reads back as the same number:
/// plain (`7`, `7.5`) for ordinary magnitudes, with an exponent (`1e300`,
/// `2.5e-9`) for the others, so that no number is longer than 24
/// characters (top values are cut at 128).
pub fn show_number(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && !(1e-6..1e16).contains(&a) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// The number a [`number_key`] was made from.
pub fn key_number(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Count, mean, variance (Welford, merged with Chan et al.'s formula),
/// minimum and maximum of numbers.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Moments {
    pub count: u64,
    /// NaN when the numbers overflow (values near f64::MAX of both signs);
    /// JSON writes that as null, and it is read back as NaN.
    #[serde(deserialize_with = "number_or_nan")]
    pub mean: f64,
    /// Sum of squared differences from the mean (NaN or infinite when it
    /// overflows, written as null).
    #[serde(deserialize_with = "number_or_nan")]
    pub m2: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// A number, or NaN for the null that JSON writes for NaN and infinities.
/// The sum of `f` over `xs` in four running sums: one sum waits on each
/// addition before the next, four keep the adder busy (and are no less
/// accurate).
fn lanes_sum(xs: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut lanes = [0.0f64; 4];
    let chunks = xs.chunks_exact(4);
    let rest: f64 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for c in chunks {
        for (lane, &x) in lanes.iter_mut().zip(c) {
            *lane += f(x);
        }
    }
    let [a, b, c, d] = lanes;
    (a + b) + (c + d) + rest
}

fn number_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl Moments {
    pub fn add(&mut self, x: f64) {
        self.add_n(x, 1);
    }

    /// Adds `n` copies of `x` (Welford's update, weighted).
    pub fn add_n(&mut self, x: f64, n: u64) {
        if n == 0 {
            return;
        }
        self.count += n;
        let d = x - self.mean;
        self.mean += d * n as f64 / self.count as f64;
        self.m2 += d * (x - self.mean) * n as f64;
        self.min = Some(self.min.map_or(x, |m| m.min(x)));
        self.max = Some(self.max.map_or(x, |m| m.max(x)));
    }

    /// The count, mean and squared deviations of a batch, in two passes
    /// (mean, then squared differences) that need no division per value;
    /// the caller finds the minimum and maximum otherwise (at the ends of
    /// the batch sorted).
    pub fn without_extremes(xs: &[f64]) -> Moments {
        if xs.is_empty() {
            return Moments::default();
        }
        // Each value scaled first, so that the sum of values near f64::MAX
        // does not overflow.
        let scale = 1.0 / xs.len() as f64;
        let mean = lanes_sum(xs, |x| x * scale);
        let m2 = lanes_sum(xs, |x| (x - mean) * (x - mean));
        Moments {
            count: xs.len() as u64,
            mean,
            m2,
            min: None,
            max: None,
        }
    }

    pub fn merge(&mut self, o: &Moments) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = o.clone();
            return;
        }
        let n = (self.count + o.count) as f64;
        let d = o.mean - self.mean;
        self.m2 += o.m2 + d * d * self.count as f64 * o.count as f64 / n;
        self.mean += d * o.count as f64 / n;
        self.count += o.count;
        self.min = self.min.zip(o.min).map(|(a, b)| a.min(b));
        self.max = self.max.zip(o.max).map(|(a, b)| a.max(b));
    }

    /// Population standard deviation (n), as numpy's default.
    pub fn population_std(&self) -> Option<f64> {
        (self.count > 0).then(|| (self.m2 / self.count as f64).sqrt())
    }

    /// Sample standard deviation (n - 1), as pandas and numpy's ddof=1.
    pub fn std(&self) -> Option<f64> {
        (self.count > 1).then(|| (self.m2 / (self.count - 1) as f64).sqrt())
    }
}

/// Most frequent values by the Misra-Gries summary: every value more
/// frequent than n / (K + 1) is kept, counts are lower bounds off by at
/// most n / (K + 1), and two summaries merge into one of the same bound.
///
/// Counters are kept in a hash table of up to 4K entries and cut back to K
/// in one batch (every counter lowered by the (K+1)-th largest, which
/// keeps the bound): one lookup a value instead of a scan of K counters.
///
/// Numbers are counted apart, by value ([`number_key`]), a batch of
/// counted runs at a time ([`TopValues::add_numbers`]), and shown as
/// their shortest decimal (`7.50` is shown as `7.5`). The two summaries
/// are of disjoint parts of the stream, so together they keep the bound.
/// Serialized as the K counters, `{"counters": [[value, count], ...]}`.
#[derive(Clone, Debug, Default)]
pub struct TopValues {
    counts: FxHashMap<String, u64>,
    /// Counters of numbers, by key, in increasing order of key; at most
    /// K between batches.
    numbers: Vec<(u64, u64)>,
    /// Keys of dropped counters, reused for new values: most values of a
    /// column of distinct numbers are counted once and dropped, and
    /// reusing their strings saves an allocation and a free each.
    spare: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct TopValuesJson {
    counters: Vec<(String, u64)>,
}

impl Serialize for TopValues {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TopValuesJson {
            counters: self.top(K),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TopValues {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = TopValuesJson::deserialize(d)?;
        let mut t = TopValues::default();
        for (v, n) in json.counters {
            t.add_n(&v, n);
        }
        if t.counts.len() > K {
            t.cut();
        }
        Ok(t)
    }
}

/// Counters kept.
const K: usize = 64;

/// Counters a column's top values keep: drift bounds their error by it.
pub const TOP_COUNTERS: usize = K;
/// Counters held before a cut back to K.
const SLACK: usize = 4 * K;

/// A lower bound of the (K+1)-th largest of `counts` (0 when there are
/// at most K): exact up to 31, from a tally of the counts.
fn kth_largest_bound(counts: impl Iterator<Item = u64>) -> u64 {
    let mut tally = [0usize; 32];
    for n in counts {
        if let Some(t) = tally.get_mut(n.min(31) as usize) {
            *t += 1;
        }
    }
    let mut at_least = 0;
    for (n, &t) in tally.iter().enumerate().rev() {
        at_least += t;
        if at_least > K {
            return n as u64;
        }
    }
    0
}
/// Longest value kept (longer ones are cut, so that a column of big texts
/// cannot hold megabytes here).
const MAX_VALUE: usize = 128;

impl TopValues {
    pub fn add(&mut self, v: &str) {
        self.add_n(v, 1);
    }

    pub fn add_n(&mut self, v: &str, n: u64) {
        let mut end = v.len().min(MAX_VALUE);
        while !v.is_char_boundary(end) {
            end -= 1;
        }
        let v = v.get(..end).unwrap_or("");
        if let Some(c) = self.counts.get_mut(v) {
            *c = c.saturating_add(n);
            return;
        }
        let mut key = self.spare.pop().unwrap_or_default();
        key.clear();
        key.push_str(v);
        self.counts.insert(key, n);
        if self.counts.len() > SLACK {
            self.cut();
        }
    }

    /// Lowers every counter by the (K+1)-th largest and drops those left
    /// at zero: at most K remain.
    fn cut(&mut self) {
        let mut counts: Vec<u64> = self.counts.values().copied().collect();
        if counts.len() <= K {
            return;
        }
        let (_, &mut kth, _) = counts.select_nth_unstable_by(K, |a, b| b.cmp(a));
        let held: Vec<(String, u64)> = self.counts.drain().collect();
        for (key, c) in held {
            if c > kth {
                self.counts.insert(key, c - kth);
            } else if self.spare.len() < SLACK {
                self.spare.push(key);
            }
        }
    }

    /// Counts a batch of numbers given as runs of equal keys (each key
    /// once): the batch's exact counts are a summary with no error, and
    /// two summaries merge by adding counts and lowering all by the
    /// (K+1)-th largest (Agarwal et al., "Mergeable summaries").
    ///
    /// `runs` must be in increasing order of key, as the counters are:
    /// each finds the other by binary search, with no hashing.
    pub fn add_numbers(&mut self, runs: &[(u64, u64)]) {
        let held = std::mem::take(&mut self.numbers);
        // The cut is the (K+1)-th largest count of the counters merged. A
        // lower bound of it comes from the batch's runs alone (each run
        // is a distinct merged counter, at least as large); counters not
        // above the bound are dropped by the cut whatever it is, so only
        // the held counters (found among the runs by key) and the runs
        // above the bound are looked at, not every run.
        let bound = kth_largest_bound(runs.iter().map(|r| r.1));
        let run_count = |k: u64| match runs.binary_search_by_key(&k, |r| r.0) {
            Ok(i) => runs.get(i).map_or(0, |r| r.1),
            Err(_) => 0,
        };
        let mut all: Vec<(u64, u64)> = held
            .iter()
            .map(|&(k, n)| (k, n.saturating_add(run_count(k))))
            .filter(|r| r.1 > bound)
            .collect();
        let is_held = |k: u64| held.binary_search_by_key(&k, |r| r.0).is_ok();
        all.extend(runs.iter().filter(|r| r.1 > bound && !is_held(r.0)));
        // Fewer than K+1 counters above the bound: the cut is the bound.
        let kth = if all.len() > K {
            let mut counts: Vec<u64> = all.iter().map(|r| r.1).collect();
            let (_, &mut kth, _) = counts.select_nth_unstable_by(K, |a, b| b.cmp(a));
            kth
        } else {
            bound
        };
        all.retain_mut(|r| {
            r.1 -= kth.min(r.1);
            r.1 > 0
        });
        all.sort_unstable_by_key(|r| r.0);
        self.numbers = all;
    }

    pub fn merge(&mut self, o: &TopValues) {
        for (v, n) in &o.counts {
            self.add_n(v, *n);
        }
        self.add_numbers(&o.numbers);
    }

    /// The values, most frequent first (ties by value), at most `n`: the
    /// K counters of the summary (numbers and texts together), cut back
    /// if more are held.
    pub fn top(&self, n: usize) -> Vec<(String, u64)> {
        let mut held = TopValues {
            counts: self.counts.clone(),
            ..TopValues::default()
        };
        for (k, c) in &self.numbers {
            held.add_n(&show_number(key_number(*k)), *c);
        }
        if held.counts.len() > K {
            held.cut();
        }
        let mut c: Vec<(String, u64)> = held.counts.iter().map(|(v, n)| (v.clone(), *n)).collect();
        c.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        c.truncate(n);
        c
    }
}

/// Quantiles by t-digest ([`crate::digest`]), fed sorted batches. An
/// empty digest is written as `null` (its min and max are NaN, which JSON
/// cannot hold).
#[derive(Clone, Debug)]
pub struct Quantiles {
    digest: crate::digest::Digest,
}

impl Serialize for Quantiles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.digest.count() > 0.0)
            .then_some(&self.digest)
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Quantiles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let digest: Option<crate::digest::Digest> = Option::deserialize(d)?;
        Ok(Quantiles {
            digest: digest.unwrap_or_else(|| crate::digest::Digest::new(DIGEST_SIZE)),
        })
    }
}

/// Centroids a digest keeps: 1,000 keep its CDF within about 0.1% of the
/// rows (see `drift::SKETCH_ERROR`), which drift needs; a column's digest
/// is then about 40 KB of JSON.
pub const DIGEST_SIZE: usize = 1000;

impl Default for Quantiles {
    fn default() -> Self {
        Quantiles {
            digest: crate::digest::Digest::new(DIGEST_SIZE),
        }
    }
}

impl Quantiles {
    /// Adds finite numbers in increasing order (the caller sorted them).
    pub fn add_sorted(&mut self, sorted: &[f64]) {
        self.digest.add_sorted(sorted);
    }

    /// Adds numbers in any order; non-finite ones are left out.
    pub fn add_unsorted(&mut self, mut xs: Vec<f64>) {
        xs.retain(|x| x.is_finite());
        xs.sort_unstable_by(f64::total_cmp);
        self.add_sorted(&xs);
    }

    pub fn merge(&mut self, o: &Quantiles) {
        self.digest.merge(&o.digest);
    }

    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.digest.quantile(q)
    }

    /// The quantiles at each of `qs`, which rise, in one walk.
    pub fn quantiles(&self, qs: &[f64]) -> Option<Vec<f64>> {
        self.digest.quantiles(qs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hll_is_within_two_percent_and_merges() {
        let mut a = Hll::default();
        let mut b = Hll::default();
        for i in 0..100_000u32 {
            a.add(&i.to_le_bytes());
            b.add(&(i + 50_000).to_le_bytes());
        }
        let e = a.estimate() as f64;
        assert!((e - 100_000.0).abs() / 100_000.0 < 0.02, "{e}");
        a.merge(&b);
        let e = a.estimate() as f64;
        assert!((e - 150_000.0).abs() / 150_000.0 < 0.02, "{e}");
        let mut small = Hll::default();
        for i in 0..10u32 {
            small.add(&i.to_le_bytes());
            small.add(&i.to_le_bytes());
        }
        assert_eq!(small.estimate(), 10);
        let json = serde_json::to_string(&small).unwrap();
        assert_eq!(serde_json::from_str::<Hll>(&json).unwrap(), small);
    }

    #[test]
    fn moments_merge_like_one_pass() {
        let xs: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin() * 100.0).collect();
        let mut all = Moments::default();
        xs.iter().for_each(|&x| all.add(x));
        let (mut a, mut b) = (Moments::default(), Moments::default());
        xs[..300].iter().for_each(|&x| a.add(x));
        xs[300..].iter().for_each(|&x| b.add(x));
        a.merge(&b);
        assert_eq!(a.count, all.count);
        assert!(
            (a.mean - all.mean).abs() < 1e-9
                && (a.std().unwrap() - all.std().unwrap()).abs() < 1e-9
        );
        let mean = xs.iter().sum::<f64>() / 1000.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 999.0;
        assert!((all.std().unwrap() - var.sqrt()).abs() < 1e-9);
        assert_eq!((a.min, a.max), (all.min, all.max));
    }

    #[test]
    fn top_values_keep_the_heavy_hitters() {
        let mut t = TopValues::default();
        for i in 0..10_000u32 {
            t.add(if i % 3 == 0 {
                "heavy"
            } else if i % 7 == 0 {
                "medium"
            } else {
                "noise"
            });
            t.add(&format!("unique-{i}"));
        }
        let top = t.top(3);
        assert_eq!(top[0].0, "noise");
        assert!(
            top.iter().any(|(v, _)| v == "heavy") && top.iter().any(|(v, _)| v == "medium"),
            "{top:?}"
        );
    }

    #[test]
    fn quantiles_within_a_percent_of_rank() {
        let mut q = Quantiles::default();
        for chunk in (0..100_000).collect::<Vec<i32>>().chunks(4096) {
            q.add_unsorted(chunk.iter().rev().map(|&i| f64::from(i)).collect());
        }
        for (p, want) in [(0.01, 1_000.0), (0.5, 50_000.0), (0.99, 99_000.0)] {
            let got = q.quantile(p).unwrap();
            assert!((got - want).abs() < 1_000.0, "{p}: {got}");
        }
    }
}
