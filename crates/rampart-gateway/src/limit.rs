//! Rate and concurrency limits per principal and model, in process.
//!
//! The rate is GCRA (the generic cell rate algorithm): one timestamp per
//! key, the theoretical arrival time, so a limit costs 8 bytes and one
//! comparison. A request at `t` is allowed when `tat - t <= burst *
//! interval`, and then `tat = max(tat, t) + interval`.

use crate::config::Limits;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most keys tracked; when full, keys whose state has lapsed are dropped,
/// and if none has, new keys are refused (fail closed, not unbounded).
const MAX_KEYS: usize = 200_000;

/// Why a request was not admitted by the limits.
#[derive(Debug, Clone, PartialEq)]
pub enum Limited {
    /// Over the rate: retry after this long.
    Rate(Duration),
    /// Too many requests in flight.
    Concurrency(u32),
    /// Over the tokens per minute: retry after this long.
    Tokens(Duration),
}

/// The limiter's state.
pub struct Limiter {
    epoch: Instant,
    rates: Mutex<HashMap<String, u64>>,
    tokens: Mutex<HashMap<String, u64>>,
    inflight: Mutex<HashMap<String, Arc<AtomicU32>>>,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            epoch: Instant::now(),
            rates: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
        }
    }
}

/// A slot in flight: freed when dropped.
pub struct Slot(Arc<AtomicU32>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The GCRA step, in nanoseconds: the new arrival time, or how long to
/// wait. Shared by the local limiter and the Redis script's tests.
pub fn gcra(tat: u64, now: u64, interval: u64, burst: u32) -> Result<u64, u64> {
    let tolerance = interval.saturating_mul(u64::from(burst));
    let tat = tat.max(now);
    if tat - now > tolerance {
        return Err(tat - now - tolerance);
    }
    Ok(tat.saturating_add(interval))
}

const MINUTE: u64 = 60_000_000_000;

fn token_interval(tpm: u64) -> u64 {
    (MINUTE / tpm.max(1)).max(1)
}

/// Nanoseconds between requests at `rate` per second.
pub fn interval(rate: f64) -> u64 {
    let ns = 1e9 / rate;
    if ns.is_finite() && ns >= 1.0 {
        ns as u64
    } else {
        1
    }
}

impl Limiter {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Takes one request from `key`'s rate.
    pub fn rate(&self, key: &str, limits: &Limits) -> Result<(), Limited> {
        let now = self.now();
        let iv = interval(limits.rate);
        let Ok(mut map) = self.rates.lock() else {
            return Err(Limited::Rate(Duration::from_secs(1)));
        };
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            map.retain(|_, tat| *tat > now);
            if map.len() >= MAX_KEYS {
                return Err(Limited::Rate(Duration::from_secs(1)));
            }
        }
        let tat = map.get(key).copied().unwrap_or(0);
        match gcra(tat, now, iv, limits.burst) {
            Ok(next) => {
                map.insert(key.to_string(), next);
                Ok(())
            }
            Err(wait) => Err(Limited::Rate(Duration::from_nanos(wait))),
        }
    }

    /// Takes a slot among `key`'s concurrent requests.
    pub fn slot(&self, key: &str, limits: &Limits) -> Result<Slot, Limited> {
        let counter = {
            let Ok(mut map) = self.inflight.lock() else {
                return Err(Limited::Concurrency(limits.concurrency));
            };
            if map.len() >= MAX_KEYS && !map.contains_key(key) {
                map.retain(|_, c| c.load(Ordering::Acquire) > 0);
                if map.len() >= MAX_KEYS {
                    return Err(Limited::Concurrency(limits.concurrency));
                }
            }
            map.entry(key.to_string()).or_default().clone()
        };
        let before = counter.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(counter);
        if before >= limits.concurrency {
            return Err(Limited::Concurrency(limits.concurrency));
        }
        Ok(slot)
    }

    /// Whether `key` may start an LLM request: refused while the tokens
    /// it used in the last minute are over `tokens_per_minute`.
    pub fn tokens_check(&self, key: &str, limits: &Limits) -> Result<(), Limited> {
        let Some(tpm) = limits.tokens_per_minute else {
            return Ok(());
        };
        let now = self.now();
        let tolerance = MINUTE.saturating_sub(token_interval(tpm));
        let tat = self
            .tokens
            .lock()
            .map_err(|_| Limited::Tokens(Duration::from_secs(1)))?
            .get(key)
            .copied()
            .unwrap_or(0)
            .max(now);
        match tat - now > tolerance {
            true => Err(Limited::Tokens(Duration::from_nanos(tat - now - tolerance))),
            false => Ok(()),
        }
    }

    /// Counts `n` tokens used by `key` (after the response told how many).
    pub fn tokens_debit(&self, key: &str, n: u64, limits: &Limits) {
        let Some(tpm) = limits.tokens_per_minute else {
            return;
        };
        let now = self.now();
        if let Ok(mut map) = self.tokens.lock() {
            if map.len() >= MAX_KEYS && !map.contains_key(key) {
                map.retain(|_, tat| *tat > now);
            }
            let tat = map.entry(key.to_string()).or_insert(0);
            *tat = (*tat)
                .max(now)
                .saturating_add(n.saturating_mul(token_interval(tpm)));
        }
    }

    /// Keys tracked now (for `/metrics`).
    pub fn tracked(&self) -> usize {
        self.rates.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// The rate check: shared through Redis when connected and answering,
/// else local.
pub async fn rate(s: &crate::Shared, key: &str, limits: &Limits) -> Result<(), Limited> {
    if let Some(r) = s.redis.load_full() {
        if let Some(verdict) = r.rate(key, limits).await {
            return verdict;
        }
    }
    s.limiter.rate(key, limits)
}

/// The tokens check, shared when Redis answers.
pub async fn tokens_check(s: &crate::Shared, key: &str, limits: &Limits) -> Result<(), Limited> {
    if let Some(r) = s.redis.load_full() {
        if let Some(verdict) = r.tokens_check(key, limits).await {
            return verdict;
        }
    }
    s.limiter.tokens_check(key, limits)
}

/// Counts tokens used, shared when Redis answers (and locally always, so
/// that a fallback starts from what this replica saw).
pub async fn tokens_debit(s: &crate::Shared, key: &str, n: u64, limits: &Limits) {
    if let Some(r) = s.redis.load_full() {
        r.tokens_debit(key, n, limits).await;
    }
    s.limiter.tokens_debit(key, n, limits);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_allows_the_burst_then_the_rate() {
        let iv = 100;
        let mut tat = 0;
        for _ in 0..=3 {
            tat = gcra(tat, 1000, iv, 3).unwrap();
        }
        assert_eq!(gcra(tat, 1000, iv, 3), Err(100));
        assert!(gcra(tat, 1100, iv, 3).is_ok());
    }

    #[test]
    fn the_limiter_refuses_past_the_burst_and_names_the_wait() {
        let l = Limiter::default();
        let lim = Limits {
            rate: 1.0,
            burst: 2,
            ..Limits::default()
        };
        for _ in 0..3 {
            l.rate("a", &lim).unwrap();
        }
        match l.rate("a", &lim) {
            Err(Limited::Rate(d)) => assert!(d > Duration::from_millis(900), "{d:?}"),
            other => panic!("{other:?}"),
        }
        l.rate("b", &lim).unwrap();
    }

    #[test]
    fn tokens_are_refused_once_a_minute_s_worth_is_used() {
        let l = Limiter::default();
        let lim = Limits {
            tokens_per_minute: Some(600),
            ..Limits::default()
        };
        l.tokens_check("k", &lim).unwrap();
        l.tokens_debit("k", 590, &lim);
        l.tokens_check("k", &lim).unwrap();
        l.tokens_debit("k", 20, &lim);
        match l.tokens_check("k", &lim) {
            Err(Limited::Tokens(d)) => assert!(d <= Duration::from_secs(2), "{d:?}"),
            other => panic!("{other:?}"),
        }
        l.tokens_check("other", &lim).unwrap();
        let none = Limits::default();
        l.tokens_debit("k", 1_000_000, &none);
        l.tokens_check("k", &none).unwrap();
    }

    #[test]
    fn slots_are_freed_when_dropped() {
        let l = Limiter::default();
        let lim = Limits {
            concurrency: 2,
            ..Limits::default()
        };
        let a = l.slot("k", &lim).unwrap();
        let _b = l.slot("k", &lim).unwrap();
        assert_eq!(l.slot("k", &lim).err(), Some(Limited::Concurrency(2)));
        drop(a);
        assert!(l.slot("k", &lim).is_ok());
    }
}
