//! Limits shared by every replica through Redis: one Lua script per
//! check, run atomically by the server, timed by the server's own clock
//! (`TIME`), so replicas with skewed clocks still agree.
//!
//! When Redis does not answer within [`TIMEOUT`], the check falls back to
//! the replica's local limiter and says so (the `limiter_shared` gauge
//! drops to 0 and a log line names the error). During an outage each
//! replica enforces the limits on its own: N replicas admit at most N
//! times a limit. That is the documented local allowance.

use crate::config::Limits;
use crate::limit::{interval, Limited};
use redis::aio::ConnectionManager;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Longest wait for Redis before a check falls back to local limits.
pub const TIMEOUT: Duration = Duration::from_millis(50);

/// GCRA in microseconds of the server's clock. ARGV: interval, burst,
/// cost. Returns 0 when allowed, else the microseconds to wait.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local tolerance = interval * burst
if tat - now > tolerance then return math.floor(tat - now - tolerance) + 1 end
local new = tat + interval * cost
redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.floor((new - now) / 1000) + 1000)
return 0
"#;

/// Tokens: check (cost 0) refuses while the debt is over a minute's
/// worth; debit adds the cost. ARGV: per-token interval, cost.
const TOKENS: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local tolerance = 60000000 - interval
if cost == 0 then
  if tat - now > tolerance then return math.floor(tat - now - tolerance) + 1 end
  return 0
end
local new = tat + interval * cost
redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.floor((new - now) / 1000) + 1000)
return 0
"#;

/// The shared limiter: a connection that reconnects by itself, and
/// whether the last check reached Redis.
pub struct RedisLimiter {
    conn: ConnectionManager,
    gcra: redis::Script,
    tokens: redis::Script,
    pub shared: AtomicBool,
    /// After a failure, Redis is not asked again for [`RETRY`]: requests
    /// go straight to local limits instead of each waiting [`TIMEOUT`].
    epoch: std::time::Instant,
    retry_at: AtomicU64,
}

/// How long after a failure Redis is tried again.
pub const RETRY: Duration = Duration::from_secs(1);

impl RedisLimiter {
    /// Connects to `url` (`redis://127.0.0.1:6379`).
    pub async fn connect(url: &str) -> Result<RedisLimiter, String> {
        let client = redis::Client::open(url).map_err(|e| format!("--redis {url}: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_millis(500))
            .set_response_timeout(TIMEOUT)
            .set_number_of_retries(1);
        let conn = tokio::time::timeout(
            Duration::from_secs(2),
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| format!("--redis {url}: no answer within 2 s"))?
        .map_err(|e| format!("--redis {url}: {e}"))?;
        Ok(RedisLimiter {
            conn,
            gcra: redis::Script::new(GCRA),
            tokens: redis::Script::new(TOKENS),
            shared: AtomicBool::new(true),
            epoch: std::time::Instant::now(),
            retry_at: AtomicU64::new(0),
        })
    }

    async fn run(&self, script: &redis::Script, key: &str, args: &[u64]) -> Result<u64, String> {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        if now < self.retry_at.load(Ordering::Acquire) {
            return Err("Redis failed recently".into());
        }
        let mut inv = script.key(key);
        for a in args {
            inv.arg(*a);
        }
        let mut conn = self.conn.clone();
        let out = tokio::time::timeout(TIMEOUT, inv.invoke_async::<u64>(&mut conn)).await;
        let result = match out {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} ms", TIMEOUT.as_millis())),
        };
        let up = result.is_ok();
        if !up {
            let retry = u64::try_from(RETRY.as_millis()).unwrap_or(1000);
            self.retry_at
                .store(now.saturating_add(retry), Ordering::Release);
        }
        if self.shared.swap(up, Ordering::AcqRel) != up {
            crate::log::event(
                "limiter",
                serde_json::json!({"shared": up, "error": result.as_ref().err()}),
            );
        }
        result
    }

    /// The rate check; None when Redis did not answer (use local limits).
    pub async fn rate(&self, key: &str, limits: &Limits) -> Option<Result<(), Limited>> {
        let iv = (interval(limits.rate) / 1000).max(1);
        let wait = self
            .run(
                &self.gcra,
                &format!("rampart:rate:{key}"),
                &[iv, u64::from(limits.burst), 1],
            )
            .await
            .ok()?;
        Some(match wait {
            0 => Ok(()),
            us => Err(Limited::Rate(Duration::from_micros(us))),
        })
    }

    /// The tokens check; None when Redis did not answer.
    pub async fn tokens_check(&self, key: &str, limits: &Limits) -> Option<Result<(), Limited>> {
        let tpm = limits.tokens_per_minute?;
        let iv = (60_000_000 / tpm.max(1)).max(1);
        let wait = self
            .run(&self.tokens, &format!("rampart:tokens:{key}"), &[iv, 0])
            .await
            .ok()?;
        Some(match wait {
            0 => Ok(()),
            us => Err(Limited::Tokens(Duration::from_micros(us))),
        })
    }

    /// Counts tokens; false when Redis did not answer.
    pub async fn tokens_debit(&self, key: &str, n: u64, limits: &Limits) -> bool {
        let Some(tpm) = limits.tokens_per_minute.filter(|_| n > 0) else {
            return true;
        };
        let iv = (60_000_000 / tpm.max(1)).max(1);
        self.run(&self.tokens, &format!("rampart:tokens:{key}"), &[iv, n])
            .await
            .is_ok()
    }
}
