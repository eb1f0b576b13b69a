//! The reverse proxy to an OpenAI-compatible upstream, against a stub
//! server in its own process on loopback (this test binary started again
//! with `RAMPART_STUB` set): answers, streams, token limits, credentials
//! not forwarded, and faults (5xx, hangs, resets, garbage, refused
//! connections) turned into 502/504 and an open circuit.

#![cfg(test)]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The stub: when `RAMPART_STUB` is set this "test" is the upstream
/// server, run in a child process; otherwise it does nothing.
#[test]
fn stub_server_process() {
    let Ok(mode) = std::env::var("RAMPART_STUB") else {
        return;
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    println!("STUB {}", listener.local_addr().unwrap());
    std::io::stdout().flush().unwrap();
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let mode = mode.clone();
        std::thread::spawn(move || serve_stub(conn, &mode));
    }
}

/// A minimal HTTP/1.1 server with keep-alive, so that faults can be
/// exactly what the test wants.
fn serve_stub(conn: std::net::TcpStream, mode: &str) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut len = 0usize;
        let mut auth = false;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("authorization:") {
                auth = true;
            }
            if h == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
        let path = line.split(' ').nth(1).unwrap_or("").to_string();
        // The Open Inference Protocol: metadata and inference.
        if let Some(rest) = path.strip_prefix("/v2/models/") {
            let (name, infer) = match rest.strip_suffix("/infer") {
                Some(n) => (n.to_string(), true),
                None => (rest.to_string(), false),
            };
            let answer = match infer {
                false => json!({"name": name, "versions": ["1"], "platform": "stub",
                    "inputs": [{"name": "X", "datatype": "FP32", "shape": [-1, 4]}],
                    "outputs": [{"name": "label", "datatype": "INT64", "shape": [-1]}]}),
                true => json!({"model_name": name, "saw_authorization": auth,
                    "outputs": [{"name": "label", "datatype": "INT64", "shape": [1], "data": [2]}]}),
            }
            .to_string();
            let _ = write!(
                out,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                answer.len()
            );
            continue;
        }
        let model = req["model"].as_str().unwrap_or("").to_string();
        if mode == "garbage" {
            let _ = out.write_all(b"NOT HTTP AT ALL\r\n\r\n");
            return;
        }
        match model.as_str() {
            "fail" => {
                let _ = out.write_all(
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\noops",
                );
                continue;
            }
            "hang" => {
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
            "reset" => {
                let _ = out.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\ncontent-type: application/json\r\n\r\n{\"partial\":");
                return;
            }
            _ => {}
        }
        if req["stream"] == json!(true) {
            let _ = out.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
            for i in 0..5 {
                let ev = format!("data: {{\"i\":{i},\"model\":\"{model}\"}}\n\n");
                let _ = write!(out, "{:x}\r\n{ev}\r\n", ev.len());
                let _ = out.flush();
                std::thread::sleep(Duration::from_millis(100));
            }
            let done = "data: [DONE]\n\n";
            let _ = write!(out, "{:x}\r\n{done}\r\n0\r\n\r\n", done.len());
            continue;
        }
        let answer = json!({
            "object": "chat.completion",
            "model": model,
            "saw_authorization": auth,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 20, "total_tokens": 50},
        })
        .to_string();
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
    }
}

struct Stub {
    child: Child,
    addr: String,
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stub(mode: &str) -> Stub {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "stub_server_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RAMPART_STUB", mode)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let l = lines.next().unwrap().unwrap();
        // The harness prints "test stub_server_process ... " first.
        if let Some((_, a)) = l.split_once("STUB ") {
            break a.trim().to_string();
        }
    };
    Stub { child, addr }
}

fn policy(stub: &str, dead: &str) -> String {
    format!(
        r#"{POLICY}
[serve.upstreams.llm]
url = "http://{stub}"
timeout = 1.0
failures = 3
open_for = 1.0

[serve.upstreams.dead]
url = "http://{dead}"
timeout = 1.0
connect_timeout = 0.5

[serve.models.chat]
from = "chat@production"
upstream = "llm"
upstream_model = "llama-3"
limits = {{ tokens_per_minute = 120, rate = 1000.0, burst = 1000 }}

[serve.models.fail]
from = "chat@production"
upstream = "llm"

[serve.models.hang]
from = "chat@production"
upstream = "llm"

[serve.models.reset]
from = "chat@production"
upstream = "llm"

[serve.models.gone]
from = "chat@production"
upstream = "dead"

[serve.upstreams.triton]
url = "http://{stub}"
protocol = "oip"

[serve.models.tri]
from = "chat@production"
upstream = "triton"
upstream_model = "iris-v1"

[serve.roles.chatter]
actions = ["infer", "metadata"]
models = ["chat", "fail", "hang", "reset", "gone", "tri"]
"#
    )
}

/// A folder with weights registered as chat@1, scanned, in production.
fn chat_weights(dir: &std::path::Path) {
    let (project, policy) = (
        rampart_evidence::Project::at(dir.join(".rampart")),
        rampart_core::Policy::load(&dir.join("rampart.toml")).unwrap(),
    );
    let w = dir.join("llama");
    std::fs::create_dir_all(&w).unwrap();
    std::fs::write(w.join("weights.safetensors"), b"not really weights").unwrap();
    let store = rampart_registry::default_store(&project);
    let mut r = rampart_registry::Registry::open(project.clone(), &store, policy).unwrap();
    let v = register(&mut r, "chat", &w);
    scan_passed(&project, &w);
    r.promote(
        &format!("chat@{v}").parse().unwrap(),
        &"production".parse().unwrap(),
        rampart_registry::Expect::AsRead,
    )
    .unwrap();
}

async fn gateway(stub: &Stub) -> Server {
    // A port nothing listens on: bound, then closed.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let text = policy(&stub.addr, &dead);
    let (project, pol) = project(dir.path(), &text);
    registry_setup(dir.path(), &project, &pol);
    chat_weights(dir.path());
    serve_existing(dir).await
}

fn chat(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hello"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_and_streams_pass_through_and_credentials_do_not() {
    let stub = stub("ok");
    let s = gateway(&stub).await;
    let (token, _) = key(&s, "bot", &["chatter"], None);
    settle().await;
    let c = client();
    let r = c
        .post(s.url("/v1/chat/completions"))
        .bearer_auth(&token)
        .json(&chat("chat", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["model"], "llama-3", "the upstream's own name is sent");
    assert_eq!(
        v["saw_authorization"], false,
        "the caller's key must not reach the upstream"
    );
    // A stream arrives as it is produced, not all at once at the end.
    let t0 = Instant::now();
    let mut r = c
        .post(s.url("/v1/chat/completions"))
        .bearer_auth(&token)
        .json(&chat("chat", true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let first = r.chunk().await.unwrap().unwrap();
    let first_at = t0.elapsed();
    let mut all = first.to_vec();
    while let Some(ch) = r.chunk().await.unwrap() {
        all.extend_from_slice(&ch);
    }
    let total = t0.elapsed();
    assert!(String::from_utf8_lossy(&all).contains("[DONE]"));
    assert!(
        first_at + Duration::from_millis(300) < total,
        "first chunk at {first_at:?}, end at {total:?}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_per_minute_are_counted_from_usage() {
    let stub = stub("ok");
    let s = gateway(&stub).await;
    let (token, _) = key(&s, "bot", &["chatter"], None);
    settle().await;
    let c = client();
    // 120 tokens a minute, 50 per answer: the fourth call is refused.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = c
            .post(s.url("/v1/chat/completions"))
            .bearer_auth(&token)
            .json(&chat("chat", false))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key("retry-after"));
            assert!(r.text().await.unwrap().contains("tokens per minute"));
        }
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_faults_become_502_and_504_quickly_and_open_the_circuit() {
    let stub = stub("ok");
    let s = gateway(&stub).await;
    let (token, _) = key(&s, "bot", &["chatter"], None);
    settle().await;
    let c = client();
    let call = |model: &'static str| {
        let c = c.clone();
        let url = s.url("/v1/chat/completions");
        let token = token.clone();
        async move {
            let t0 = Instant::now();
            let r = c
                .post(url)
                .bearer_auth(token)
                .json(&chat(model, false))
                .send()
                .await
                .unwrap();
            (r.status(), t0.elapsed())
        }
    };
    let (st, took) = call("gone").await;
    assert_eq!(st, StatusCode::BAD_GATEWAY);
    assert!(took < Duration::from_secs(2), "{took:?}");
    let (st, took) = call("hang").await;
    assert_eq!(st, StatusCode::GATEWAY_TIMEOUT);
    assert!(took < Duration::from_secs(2), "{took:?}");
    let (st, _) = call("reset").await;
    assert_eq!(st, StatusCode::BAD_GATEWAY);
    // hang, reset and now fail: three failures in a row open llm's circuit.
    let (st, _) = call("fail").await;
    assert_eq!(st, StatusCode::BAD_GATEWAY);
    let (st, took) = call("chat").await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "the circuit is open");
    assert!(
        took < Duration::from_millis(200),
        "refused at once: {took:?}"
    );
    // After open_for, one trial goes through and closes it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (st, _) = call("chat").await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = call("chat").await;
    assert_eq!(st, StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_speaking_upstream_gives_502() {
    let stub = stub("garbage");
    let s = gateway(&stub).await;
    let (token, _) = key(&s, "bot", &["chatter"], None);
    settle().await;
    let r = client()
        .post(s.url("/v1/chat/completions"))
        .bearer_auth(&token)
        .json(&chat("chat", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    // The gateway is still up.
    let r = client().get(s.url("/v2/health/live")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oip_upstream_gets_only_requests_that_fit_its_signature() {
    let stub = stub("ok");
    let s = gateway(&stub).await;
    let (token, _) = key(&s, "bot", &["chatter"], None);
    settle().await;
    let c = client();
    // The signature is the upstream's own.
    let meta: Value = c
        .get(s.url("/v2/models/tri"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["inputs"][0]["shape"], json!([-1, 4]), "{meta}");
    assert_eq!(meta["platform"], "upstream:triton");
    let good = iris_request(&[vec![5.1, 3.5, 1.4, 0.2]]);
    let r = c
        .post(s.url("/v2/models/tri/infer"))
        .bearer_auth(&token)
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["model_name"], "iris-v1",
        "sent under the upstream's name: {v}"
    );
    assert_eq!(v["saw_authorization"], false);
    // Out of contract: refused here, never sent.
    let mut bad = good.clone();
    bad["inputs"][0]["shape"] = json!([1, 3]);
    bad["inputs"][0]["data"] = json!([1, 2, 3]);
    let r = c
        .post(s.url("/v2/models/tri/infer"))
        .bearer_auth(&token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // And the OpenAI routes are not its way in.
    let r = c
        .post(s.url("/v1/chat/completions"))
        .bearer_auth(&token)
        .json(&chat("tri", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    s.shutdown().await;
}
