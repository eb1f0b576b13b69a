//! The t-digest (Dunning and Ertl, "Computing extremely accurate quantiles
//! using t-digests", 2019) in its merging form, written for this crate's
//! one way of feeding it: sorted batches of thousands of numbers.
//!
//! The `tdigest` crate, used before, walked a batch value by value,
//! choosing at each step between the next centroid and the next value;
//! that was a sixth of a profile's time. Here the values between two
//! centroids are taken as a run, and as many of a run as fit in the
//! current centroid are summed at once. The scale function (k2: q = 2(k/d)^2
//! below the median, mirrored above) and the merge rule are the crate's,
//! and so is the JSON form, so profiles written before read the same; the
//! quantile estimate is the paper's (see [`Digest::quantile`]).
//!
//! Everything read from a file is checked: a centroid with a weight that
//! is not positive and finite, or a mean that is not finite, is dropped;
//! centroids are sorted and compressed to the digest's size on reading.

use serde::{Deserialize, Serialize};

/// One centroid: the mean of the values it holds, and how many.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Centroid {
    pub mean: f64,
    pub weight: f64,
}

/// A digest of at most `size` centroids, sorted by mean.
#[derive(Clone, Debug, PartialEq)]
pub struct Digest {
    centroids: Vec<Centroid>,
    size: usize,
    sum: f64,
    count: f64,
    min: f64,
    max: f64,
}

/// The JSON form, field for field the `tdigest` crate's.
#[derive(Serialize, Deserialize)]
struct Stored {
    centroids: Vec<Centroid>,
    max_size: usize,
    sum: f64,
    count: f64,
    max: f64,
    min: f64,
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Stored {
            centroids: self.centroids.clone(),
            max_size: self.size,
            sum: self.sum,
            count: self.count,
            max: self.max,
            min: self.min,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Stored::deserialize(d)?;
        let mut centroids: Vec<Centroid> = s
            .centroids
            .into_iter()
            .filter(|c| c.mean.is_finite() && c.weight.is_finite() && c.weight > 0.0)
            .collect();
        centroids.sort_by(|a, b| a.mean.total_cmp(&b.mean));
        let count: f64 = centroids.iter().map(|c| c.weight).sum();
        let (min, max) = match (centroids.first(), centroids.last()) {
            (Some(first), Some(last)) => (
                finite_or(s.min, first.mean).min(first.mean),
                finite_or(s.max, last.mean).max(last.mean),
            ),
            _ => (f64::NAN, f64::NAN),
        };
        // The size is this crate's, whatever the file says: a size taken
        // from a file would be an allocation a file could choose.
        let mut digest = Digest {
            centroids: Vec::new(),
            size: crate::sketch::DIGEST_SIZE,
            sum: finite_or(s.sum, 0.0),
            count,
            min,
            max,
        };
        if centroids.len() > digest.size {
            digest.compress(centroids.into_iter(), count);
        } else {
            digest.centroids = centroids;
        }
        Ok(digest)
    }
}

fn finite_or(x: f64, or: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        or
    }
}

/// The largest fraction of the weight the centroids before the k-th
/// boundary may hold (the k2 scale function of the `tdigest` crate).
fn k_to_q(k: f64, d: f64) -> f64 {
    let k_div_d = k / d;
    if k_div_d >= 0.5 {
        let base = 1.0 - k_div_d;
        1.0 - 2.0 * base * base
    } else {
        2.0 * k_div_d * k_div_d
    }
}

/// The sum of `xs`, four running sums at a time.
fn sum(xs: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 4];
    let chunks = xs.chunks_exact(4);
    let rest: f64 = chunks.remainder().iter().sum();
    for c in chunks {
        for (lane, &x) in lanes.iter_mut().zip(c) {
            *lane += x;
        }
    }
    let [a, b, c, d] = lanes;
    (a + b) + (c + d) + rest
}

/// The centroids being built by one walk over sorted input: the current
/// centroid, what is waiting to join it, and the boundary of its weight.
struct Walk {
    out: Vec<Centroid>,
    current: Option<Centroid>,
    waiting_sum: f64,
    waiting_weight: f64,
    weight_so_far: f64,
    limit: f64,
    k: f64,
    size: f64,
    count: f64,
    total: f64,
}

impl Walk {
    fn new(size: usize, count: f64) -> Walk {
        let size = size as f64;
        Walk {
            out: Vec::with_capacity(size as usize),
            current: None,
            waiting_sum: 0.0,
            waiting_weight: 0.0,
            weight_so_far: 0.0,
            limit: k_to_q(1.0, size) * count,
            k: 2.0,
            size,
            count,
            total: 0.0,
        }
    }

    /// Closes the current centroid and starts `next`.
    fn close(&mut self, next: Centroid) {
        if let Some(c) = self.current.take() {
            let c = self.joined(c);
            self.out.push(c);
        }
        self.limit = k_to_q(self.k, self.size) * self.count;
        self.k += 1.0;
        self.current = Some(next);
    }

    /// `c` with what waits to join it.
    fn joined(&mut self, c: Centroid) -> Centroid {
        let sum = self.waiting_sum + c.weight * c.mean;
        let weight = c.weight + self.waiting_weight;
        self.total += sum;
        self.waiting_sum = 0.0;
        self.waiting_weight = 0.0;
        Centroid {
            mean: sum / weight,
            weight,
        }
    }

    fn add(&mut self, c: Centroid) {
        self.weight_so_far += c.weight;
        if self.current.is_none() {
            self.current = Some(c);
        } else if self.weight_so_far <= self.limit {
            self.waiting_sum += c.mean * c.weight;
            self.waiting_weight += c.weight;
        } else {
            self.close(c);
        }
    }

    /// Adds values of weight 1, in order: as many as fit under the
    /// current boundary at once.
    fn add_values(&mut self, mut values: &[f64]) {
        while let Some((&first, rest)) = values.split_first() {
            if self.current.is_none() {
                self.add(Centroid {
                    mean: first,
                    weight: 1.0,
                });
                values = rest;
                continue;
            }
            let room = (self.limit - self.weight_so_far).floor();
            let fit = if room >= 1.0 {
                (room as usize).min(values.len())
            } else {
                0
            };
            match values.split_at_checked(fit) {
                Some((taken, left)) if fit > 0 => {
                    self.waiting_sum += sum(taken);
                    self.waiting_weight += fit as f64;
                    self.weight_so_far += fit as f64;
                    values = left;
                }
                _ => {
                    self.add(Centroid {
                        mean: first,
                        weight: 1.0,
                    });
                    values = rest;
                }
            }
        }
    }

    fn finish(mut self) -> (Vec<Centroid>, f64) {
        if let Some(c) = self.current.take() {
            let c = self.joined(c);
            self.out.push(c);
        }
        // Sorted already, but for rounding: equal values can give means
        // an ulp apart in either order.
        self.out.sort_by(|a, b| a.mean.total_cmp(&b.mean));
        (self.out, self.total)
    }
}

impl Digest {
    pub fn new(size: usize) -> Digest {
        Digest {
            centroids: Vec::new(),
            size: size.max(1),
            sum: 0.0,
            count: 0.0,
            min: f64::NAN,
            max: f64::NAN,
        }
    }

    /// Values held.
    pub fn count(&self) -> f64 {
        self.count
    }

    /// Rebuilds the centroids from `input`, sorted by mean, of total
    /// weight `count`.
    fn compress(&mut self, input: impl Iterator<Item = Centroid>, count: f64) {
        let mut walk = Walk::new(self.size, count);
        input.for_each(|c| walk.add(c));
        let (centroids, sum) = walk.finish();
        self.centroids = centroids;
        self.sum = sum;
        self.count = count;
    }

    /// Adds finite values sorted in increasing order.
    pub fn add_sorted(&mut self, values: &[f64]) {
        let (Some(&first), Some(&last)) = (values.first(), values.last()) else {
            return;
        };
        let count = self.count + values.len() as f64;
        let mut walk = Walk::new(self.size, count);
        let mut rest = values;
        for &c in &self.centroids {
            // Values up to the centroid's mean come before it: a few
            // each (a batch has several values a centroid), so a scan
            // beats a binary search, whose steps wait on each other.
            let before = rest.iter().take_while(|&&x| x <= c.mean).count();
            let (run, after) = rest.split_at(before);
            walk.add_values(run);
            walk.add(c);
            rest = after;
        }
        walk.add_values(rest);
        let (centroids, sum) = walk.finish();
        if self.count > 0.0 {
            self.min = self.min.min(first);
            self.max = self.max.max(last);
        } else {
            (self.min, self.max) = (first, last);
        }
        self.centroids = centroids;
        self.sum = sum;
        self.count = count;
    }

    /// Adds another digest's values.
    pub fn merge(&mut self, o: &Digest) {
        if o.count <= 0.0 {
            return;
        }
        if self.count <= 0.0 {
            let size = self.size;
            *self = o.clone();
            self.size = size;
            return;
        }
        let mut all: Vec<Centroid> = Vec::with_capacity(self.centroids.len() + o.centroids.len());
        all.extend_from_slice(&self.centroids);
        all.extend_from_slice(&o.centroids);
        all.sort_by(|a, b| a.mean.total_cmp(&b.mean));
        let count = self.count + o.count;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.compress(all.into_iter(), count);
    }

    /// The value at quantile `q` (0 to 1): each centroid sits at the
    /// middle of its weight, the minimum at rank 0 and the maximum at the
    /// last, and a rank between two of them is interpolated linearly, so
    /// that quantiles never fall as `q` rises (the `tdigest` crate's
    /// estimate, which widened each centroid to its neighbours, did on
    /// small digests). None when the digest is empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.quantiles(&[q])?.first().copied()
    }

    /// [`Digest::quantile`] at each of `qs`, which rise: one walk over the
    /// centroids for all of them (drift reads a digest at 1,000 ranks).
    pub fn quantiles(&self, qs: &[f64]) -> Option<Vec<f64>> {
        self.centroids.first()?;
        // Point i is centroid i at the middle of its weight; the last
        // point is the maximum at the full count.
        let point = |i: usize, before: f64| match self.centroids.get(i) {
            Some(c) => (before + c.weight / 2.0, c.mean, c.weight),
            None => (self.count, self.max, 0.0),
        };
        let (mut i, mut before, mut prev) = (0, 0.0, (0.0, self.min));
        let mut out = Vec::with_capacity(qs.len());
        for &q in qs {
            if q <= 0.0 {
                out.push(self.min);
                continue;
            }
            if q >= 1.0 {
                out.push(self.max);
                continue;
            }
            let rank = q * self.count;
            let value = loop {
                let (at, mean, weight) = point(i, before);
                if rank < at || i >= self.centroids.len() {
                    break between(prev, (at, mean), rank);
                }
                prev = (at, mean);
                before += weight;
                i += 1;
            };
            out.push(value);
        }
        Some(out)
    }
}

/// The value at `x` on the line from `(x0, y0)` to `(x1, y1)` (values
/// near the ends of f64, whose difference overflows, are weighed apart).
fn between((x0, y0): (f64, f64), (x1, y1): (f64, f64), x: f64) -> f64 {
    if x1 <= x0 {
        return y1;
    }
    let t = ((x - x0) / (x1 - x0)).clamp(0.0, 1.0);
    let span = y1 - y0;
    if span.is_finite() {
        // Exactly y0 between equal means (ties are common in data).
        y0 + span * t
    } else {
        y0 * (1.0 - t) + y1 * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Values of three shapes, in batches sorted one at a time.
    fn digest_of(values: &[f64], batch: usize) -> Digest {
        let mut d = Digest::new(crate::sketch::DIGEST_SIZE);
        for chunk in values.chunks(batch) {
            let mut sorted = chunk.to_vec();
            sorted.sort_by(f64::total_cmp);
            d.add_sorted(&sorted);
        }
        d
    }

    fn shapes(n: usize) -> Vec<Vec<f64>> {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut uniform = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let u: Vec<f64> = (0..n).map(|_| uniform()).collect();
        let skewed: Vec<f64> = u.iter().map(|p| -(1.0 - p).ln()).collect();
        let ties: Vec<f64> = u.iter().map(|p| (p * 20.0).floor()).collect();
        vec![u, skewed, ties]
    }

    /// The rank of each estimated quantile is within 0.2% of the rows of
    /// the one asked for, on every shape and batch size: what drift's
    /// sketched tests count on.
    #[test]
    fn quantiles_are_within_a_fifth_of_a_percent_of_rank() {
        let n = 200_000;
        for values in shapes(n) {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for batch in [1000, 32_768] {
                let d = digest_of(&values, batch);
                assert_eq!(d.count(), n as f64);
                assert!(d.centroids.len() <= crate::sketch::DIGEST_SIZE);
                for i in 1..200 {
                    let q = f64::from(i) / 200.0;
                    let x = d.quantile(q).unwrap();
                    let below = sorted.partition_point(|&v| v < x) as f64 / n as f64;
                    let upto = sorted.partition_point(|&v| v <= x) as f64 / n as f64;
                    let off = if q < below {
                        below - q
                    } else {
                        (q - upto).max(0.0)
                    };
                    assert!(off < 0.002, "q {q}: rank off by {off} (batch {batch}, x {x}, below {below} upto {upto})");
                }
            }
        }
    }

    /// Two digests merged answer as one of all the values does.
    #[test]
    fn merged_digests_answer_as_one() {
        let values = &shapes(100_000)[1];
        let (a, b) = values.split_at(37_000);
        let mut merged = digest_of(a, 4096);
        merged.merge(&digest_of(b, 4096));
        let whole = digest_of(values, 4096);
        assert_eq!(merged.count(), whole.count());
        assert_eq!((merged.min, merged.max), (whole.min, whole.max));
        for q in [0.001, 0.01, 0.25, 0.5, 0.75, 0.99, 0.999] {
            let (m, w) = (merged.quantile(q).unwrap(), whole.quantile(q).unwrap());
            assert!((m - w).abs() < 0.01 * w.max(0.1), "q {q}: {m} vs {w}");
        }
        let mut empty = Digest::new(10);
        empty.merge(&merged);
        assert_eq!(empty.count(), merged.count());
    }

    /// The JSON form is the `tdigest` crate's, and reads back the same.
    #[test]
    fn json_round_trip_in_the_crates_form() {
        let d = digest_of(&shapes(10_000)[0], 1000);
        let v = serde_json::to_value(&d).unwrap();
        for field in ["centroids", "max_size", "sum", "count", "max", "min"] {
            assert!(v.get(field).is_some(), "{field}");
        }
        assert!(v["centroids"][0]["mean"].is_f64() && v["centroids"][0]["weight"].is_f64());
        let back: Digest = serde_json::from_value(v).unwrap();
        assert_eq!(back, d);
    }

    /// A file cannot choose the digest's size, smuggle in centroids that
    /// are not numbers, or leave them unsorted; too many are compressed.
    #[test]
    fn hostile_digests_are_tamed_on_reading() {
        let json = serde_json::json!({
            "centroids": [
                {"mean": 5.0, "weight": 2.0},
                {"mean": 1.0, "weight": 1.0},
                {"mean": 3.0, "weight": -4.0},
                {"mean": 2.0, "weight": 0.0},
                {"mean": 9.0, "weight": 1e300},
            ],
            "max_size": u64::MAX, "sum": 1e308, "count": -3.0, "max": 1.0, "min": 7.0,
        });
        let d: Digest = serde_json::from_value(json).unwrap();
        assert_eq!(d.size, crate::sketch::DIGEST_SIZE);
        let means: Vec<f64> = d.centroids.iter().map(|c| c.mean).collect();
        assert_eq!(means, [1.0, 5.0, 9.0]);
        assert_eq!((d.min, d.max), (1.0, 9.0));
        assert_eq!(d.count, 3.0 + 1e300);
        let many: Vec<serde_json::Value> = (0..5000)
            .map(|i| serde_json::json!({"mean": f64::from(i), "weight": 1.0}))
            .collect();
        let json = serde_json::json!({"centroids": many, "max_size": 3, "sum": 0.0,
            "count": 5000.0, "max": 4999.0, "min": 0.0});
        let d: Digest = serde_json::from_value(json).unwrap();
        assert!(d.centroids.len() <= crate::sketch::DIGEST_SIZE);
        assert_eq!(d.count(), 5000.0);
        let median = d.quantile(0.5).unwrap();
        assert!((median - 2500.0).abs() < 10.0, "{median}");
    }

    proptest! {
        /// Any sorted finite batches: the count is kept, and quantiles
        /// rise with q and stay within the values.
        #[test]
        fn quantiles_rise_and_stay_in_range(
            batches in proptest::collection::vec(
                proptest::collection::vec(-1e6f64..1e6, 0..400), 1..6),
            size in 1usize..60,
        ) {
            let mut d = Digest::new(size);
            let mut all = Vec::new();
            for mut b in batches {
                b.sort_by(f64::total_cmp);
                d.add_sorted(&b);
                all.extend(b);
            }
            prop_assert_eq!(d.count(), all.len() as f64);
            prop_assert!(d.centroids.len() <= size.max(1) + 1);
            if all.is_empty() {
                prop_assert!(d.quantile(0.5).is_none());
            } else {
                let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                // One walk for many ranks answers as one walk for each.
                let qs: Vec<f64> = (0..=40).map(|i| f64::from(i) / 40.0).collect();
                let each: Vec<f64> = qs.iter().map(|&q| d.quantile(q).unwrap()).collect();
                prop_assert_eq!(d.quantiles(&qs).unwrap(), each);
                let mut last = f64::NEG_INFINITY;
                for i in 0..=20 {
                    let x = d.quantile(f64::from(i) / 20.0).unwrap();
                    prop_assert!(x >= lo - 1e-6 && x <= hi + 1e-6, "{} outside {}..{}", x, lo, hi);
                    prop_assert!(x >= last - 1e-6 * hi.abs().max(1.0), "{} after {}", x, last);
                    last = x;
                }
            }
        }
    }
}
