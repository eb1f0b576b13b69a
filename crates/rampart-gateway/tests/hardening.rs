//! Hostile HTTP over raw TCP: smuggling attempts (conflicting
//! Content-Length and Transfer-Encoding), oversized heads, CR/LF in
//! paths, slowloris, a 2 GB body, and more connections than allowed.
//! Each is bounded in time; after each, the gateway still answers.

#![cfg(test)]

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const BOUNDS: &str = "\n[serve]\nhead_timeout = 1\nmax_connections = 40\n";

fn addr(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_string()
}

/// Sends `raw`, then reads until the server closes or 3 s pass.
fn exchange(s: &Server, raw: &[u8]) -> String {
    let mut c = TcpStream::connect(addr(s)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    c.write_all(raw).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = c.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).to_string()
}

fn responses(text: &str) -> usize {
    text.matches("HTTP/1.1 ").count()
}

async fn still_up(s: &Server) {
    let r = client().get(s.url("/v2/health/live")).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smuggling_attempts_get_one_refusal_and_no_second_request() {
    let s = start(&format!("{POLICY}{BOUNDS}"), true).await;
    let (token, _) = key(&s, "ops", &["ops"], None);
    settle().await;
    let smuggled =
        format!("GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");
    for head in [
        // CL.TE: the front reads 4 bytes, a back end would read chunks.
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
        // TE.CL, with an obfuscated Transfer-Encoding.
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\nContent-Length: 3\r\n",
        // Two different lengths.
        "Content-Length: 4\r\nContent-Length: 40\r\n",
        // A length that is not a number.
        "Content-Length: 4, 4\r\n",
    ] {
        let raw = format!(
            "POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\n{head}\r\n0\r\n\r\n{smuggled}"
        );
        let answer = exchange(&s, raw.as_bytes());
        let first = answer.lines().next().unwrap_or("");
        assert!(
            first.starts_with("HTTP/1.1 400")
                || first.starts_with("HTTP/1.1 401")
                || answer.is_empty(),
            "{head:?}: {answer}"
        );
        assert!(
            responses(&answer) <= 1,
            "{head:?}: a second request was read: {answer}"
        );
        assert!(
            !answer.contains("rampart_gateway_"),
            "{head:?}: metrics leaked: {answer}"
        );
    }
    still_up(&s).await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads_and_bad_paths_are_refused() {
    let s = start(&format!("{POLICY}{BOUNDS}"), true).await;
    let big = "a".repeat(100_000);
    let answer = exchange(
        &s,
        format!("GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes(),
    );
    assert!(
        answer.starts_with("HTTP/1.1 431") || answer.is_empty(),
        "{answer}"
    );
    let many: String = (0..200).map(|i| format!("X-{i}: y\r\n")).collect();
    let answer = exchange(
        &s,
        format!("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes(),
    );
    assert!(
        answer.starts_with("HTTP/1.1 431") || answer.is_empty(),
        "{answer}"
    );
    // CR/LF smuggled into a model name never reaches a header or a lookup.
    let answer = exchange(&s, b"GET /v2/models/iris%0d%0aSet-Cookie:%20x=1/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(
        answer.starts_with("HTTP/1.1 400") || answer.starts_with("HTTP/1.1 401"),
        "{answer}"
    );
    assert!(
        !answer.to_ascii_lowercase().contains("set-cookie"),
        "{answer}"
    );
    let answer = exchange(
        &s,
        b"GET /v2/models/../../etc/passwd/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    still_up(&s).await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2gb_body_is_refused_at_its_declared_length_without_being_read() {
    let s = start(&format!("{POLICY}{BOUNDS}"), true).await;
    let (token, _) = key(&s, "bot", &["scorer"], None);
    settle().await;
    let t0 = Instant::now();
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let head = format!("POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n");
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(&[b' '; 65536]).unwrap();
    let mut buf = [0u8; 512];
    let n = c.read(&mut buf).unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    still_up(&s).await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_are_cut_at_the_head_timeout_and_bounded_in_number() {
    let s = start(&format!("{POLICY}{BOUNDS}"), true).await;
    // A head trickled a byte at a time is cut off after head_timeout (1 s).
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let head = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let t0 = Instant::now();
    let mut closed_at = None;
    for b in head
        .iter()
        .chain(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter())
    {
        if c.write_all(&[*b]).is_err() {
            closed_at = Some(t0.elapsed());
            break;
        }
        let mut buf = [0u8; 256];
        match c.read(&mut buf) {
            Ok(0) => {
                closed_at = Some(t0.elapsed());
                break;
            }
            Ok(_) => {
                closed_at = Some(t0.elapsed());
                break;
            }
            Err(_) => {}
        }
        if t0.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    let at = closed_at.expect("the trickling connection was never cut");
    assert!(at < Duration::from_secs(3), "cut after {at:?}");
    // 60 idle connections against a bound of 40: the extra ones are
    // closed at once, and the server still answers once they go.
    let idle: Vec<TcpStream> = (0..60)
        .filter_map(|_| TcpStream::connect(addr(&s)).ok())
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut refused = 0;
    for mut c in &idle {
        c.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut buf = [0u8; 1];
        if matches!(c.read(&mut buf), Ok(0)) {
            refused += 1;
        }
    }
    assert!(refused >= 20, "{refused} of 60 closed, with a bound of 40");
    drop(idle);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    still_up(&s).await;
    s.shutdown().await;
}

/// Reads one response (head and Content-Length body) from `c`.
fn read_response(c: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {}", String::from_utf8_lossy(&out));
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_string)
                })
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= len {
                return text;
            }
        }
    }
}

/// An idle keep-alive connection gives up hyper's buffers (it is
/// parked, and the metrics count it) and serves its next request, and
/// pipelined requests after it, on the same socket; a connection that
/// has sent nothing is parked from the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_parked_and_serves_again() {
    let s = start(&format!("{POLICY}\n[serve]\nhead_timeout = 8\n"), true).await;
    let (token, _) = key(&s, "ops", &["ops"], None);
    settle().await;
    let get = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n";
    // A connection that says nothing is parked from the start.
    let _silent = TcpStream::connect(addr(&s)).unwrap();
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    c.write_all(get).unwrap();
    assert!(read_response(&mut c).starts_with("HTTP/1.1 200"));
    // Idle for over two checks: parked.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let metrics = client()
        .get(s.url("/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parked = metrics
        .lines()
        .find_map(|l| l.strip_prefix("rampart_gateway_connections_parked "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap();
    assert!(parked >= 2.0, "{metrics}");
    c.write_all(get).unwrap();
    assert!(read_response(&mut c).starts_with("HTTP/1.1 200"));
    // Two requests in one write, after parking again.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let two = [&get[..], &get[..]].concat();
    c.write_all(&two).unwrap();
    let first = read_response(&mut c);
    let second = if responses(&first) >= 2 {
        first.clone()
    } else {
        read_response(&mut c)
    };
    assert!(first.starts_with("HTTP/1.1 200") && second.contains("HTTP/1.1 200"));
    s.shutdown().await;
}
