//! Limits shared across replicas through Redis: the machine's server at
//! 127.0.0.1:6379 (the test fails when `CI` is set and it does not
//! answer), and a private `redis-server` on a free port that the test
//! kills and restarts to show the fallback to local limits and the
//! return to shared ones.

#![cfg(test)]

mod common;

use common::*;
use reqwest::StatusCode;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const REDIS: &str = "redis://127.0.0.1:6379";

fn redis_answers(url: &str) -> bool {
    let Ok(c) = redis::Client::open(url) else {
        return false;
    };
    c.get_connection_with_timeout(Duration::from_millis(500))
        .and_then(|mut conn| redis::cmd("PING").query::<String>(&mut conn))
        .is_ok()
}

/// The machine's Redis, or None (with a note) outside CI.
fn machine_redis() -> Option<String> {
    if redis_answers(REDIS) {
        return Some(REDIS.to_string());
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set and Redis at {REDIS} does not answer");
    }
    eprintln!("note: Redis at {REDIS} does not answer; this test is skipped");
    None
}

/// A policy whose `slow` model allows one request per second, burst 1
/// (two at once), per principal.
async fn replicas(redis: &str) -> (Server, Server) {
    let dir = tempfile::tempdir().unwrap();
    let (project, policy) = project(dir.path(), POLICY);
    registry_setup(dir.path(), &project, &policy);
    let dir = Arc::new(dir);
    let a = serve_with(dir.clone(), Some(redis.to_string())).await;
    let b = serve_with(dir, Some(redis.to_string())).await;
    (a, b)
}

async fn infer(s: &Server, token: &str) -> StatusCode {
    client()
        .post(s.url("/v2/models/slow/infer"))
        .bearer_auth(token)
        .json(&iris_request(&[vec![5.1, 3.5, 1.4, 0.2]]))
        .send()
        .await
        .unwrap()
        .status()
}

async fn shared_gauge(s: &Server, ops: &str) -> String {
    let m = client()
        .get(s.url("/metrics"))
        .bearer_auth(ops)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    m.lines()
        .find(|l| l.starts_with("rampart_gateway_limiter_shared "))
        .unwrap_or("")
        .to_string()
}

/// Waits until the gateway's limiter is shared (" 1") or local (" 0"):
/// it connects in the background and serves on local limits meanwhile.
/// `probe` is a key of its own, so that its requests (which make the
/// limiter reach Redis, or fail to) take nothing from the others' limits.
async fn until_shared(s: &Server, ops: &str, probe: &str, want: &str) {
    let t0 = Instant::now();
    loop {
        let _ = infer(s, probe).await;
        if shared_gauge(s, ops).await.ends_with(want) {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(8),
            "limiter_shared never became {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_rate_limit() {
    let Some(url) = machine_redis() else { return };
    let (a, b) = replicas(&url).await;
    // A name of its own, so that no earlier run's state is in Redis.
    let name = format!(
        "bot-{}",
        rampart_gateway::keys::now() % 1_000_000 + u64::from(std::process::id())
    );
    let (token, _) = key(&a, &name, &["scorer"], None);
    let (ops, _) = key(&a, "ops", &["ops"], None);
    let (probe, _) = key(
        &a,
        &format!("probe-{}", std::process::id()),
        &["scorer"],
        None,
    );
    settle().await;
    // Connected: a rate check reaches Redis.
    assert_eq!(infer(&a, &token).await, StatusCode::OK);
    until_shared(&a, &ops, &probe, " 1").await;
    until_shared(&b, &ops, &probe, " 1").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Burst 1: two requests pass in a second, on either replica; the
    // third, on the other replica, is refused because the limit is one.
    assert_eq!(infer(&a, &token).await, StatusCode::OK);
    assert_eq!(infer(&a, &token).await, StatusCode::OK);
    assert_eq!(infer(&b, &token).await, StatusCode::TOO_MANY_REQUESTS);
    a.shutdown().await;
    b.shutdown().await;
}

struct PrivateRedis {
    child: Option<Child>,
    port: u16,
}

impl PrivateRedis {
    fn start(port: u16) -> Option<PrivateRedis> {
        let child = match Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("CI is set and redis-server cannot start: {e}")
            }
            Err(e) => {
                eprintln!("note: no redis-server ({e}); this test is skipped");
                return None;
            }
        };
        let r = PrivateRedis {
            child: Some(child),
            port,
        };
        let t0 = Instant::now();
        while !redis_answers(&r.url()) {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(r)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_away_falls_back_to_local_limits_and_comes_back() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(mut redis) = PrivateRedis::start(port) else {
        return;
    };
    let (a, b) = replicas(&redis.url()).await;
    let (token, _) = key(&a, "bot", &["scorer"], None);
    let (ops, _) = key(&a, "ops", &["ops"], None);
    let (probe, _) = key(
        &a,
        &format!("probe-{}", std::process::id()),
        &["scorer"],
        None,
    );
    settle().await;
    assert_eq!(infer(&a, &token).await, StatusCode::OK);
    until_shared(&a, &ops, &probe, " 1").await;
    redis.kill();
    // Service goes on, on local limits, and the metric says so.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let t0 = Instant::now();
    assert_eq!(infer(&a, &token).await, StatusCode::OK);
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "a dead Redis must not stall requests: {:?}",
        t0.elapsed()
    );
    until_shared(&a, &ops, &probe, " 0").await;
    // Locally each replica allows its own burst: the documented allowance.
    assert_eq!(infer(&a, &token).await, StatusCode::OK);
    assert_eq!(infer(&a, &token).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(infer(&b, &token).await, StatusCode::OK);
    // Redis back on the same port: limits are shared again.
    let _redis = PrivateRedis::start(port).unwrap();
    until_shared(&a, &ops, &probe, " 1").await;
    a.shutdown().await;
    b.shutdown().await;
}
