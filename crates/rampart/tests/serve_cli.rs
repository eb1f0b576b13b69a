//! `rampart serve` as a user runs it: a fresh project serves health and
//! denies everything else; check-config says what would be served and
//! why not (exit 1); keys are shown once, recorded in the ledger, and
//! refused once revoked; SIGTERM drains and exits 0.

#![cfg(test)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn rampart(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = rampart(dir, args);
    assert!(o.status.success(), "{args:?}: {}", text(&o));
    text(&o)
}

/// One HTTP/1.1 request; the status code, or None if nothing answered.
fn status(addr: &str, path: &str, token: Option<&str>) -> Option<u16> {
    let mut c = TcpStream::connect(addr).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    c.read_to_string(&mut out).ok()?;
    out.split(' ').nth(1)?.parse().ok()
}

/// Added to the policy `rampart init` writes (whose [admission] requires
/// a scan).
const SERVE: &str = r#"
[serve.models.fraud]
from = "fraud@production"

[serve.roles.scorer]
actions = ["infer", "metadata"]
models = ["fraud"]
"#;

#[test]
fn a_fresh_project_serves_health_and_nothing_else_and_drains_on_sigterm() {
    let d = tempfile::tempdir().unwrap();
    ok(d.path(), &["init"]);
    let out = ok(d.path(), &["serve", "check-config"]);
    assert!(out.contains("no models configured"), "{out}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["serve", "--listen", &addr, "--drain", "5"])
        .current_dir(d.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while status(&addr, "/v2/health/live", None) != Some(200) {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the gateway did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status(&addr, "/v2/health/ready", None), Some(200));
    for p in [
        "/v2",
        "/v2/models/fraud",
        "/v2/models/fraud/ready",
        "/metrics",
    ] {
        assert_eq!(status(&addr, p, None), Some(401), "{p}");
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let t0 = Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "SIGTERM did not stop it"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(code.success(), "{code:?}");
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains("\"event\":\"listening\"") && log.contains("\"event\":\"draining\""),
        "{log}"
    );
}

#[test]
fn check_config_names_every_reason_and_keys_are_shown_once_and_recorded() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init"]);
    let policy = std::fs::read_to_string(p.join("rampart.toml")).unwrap();
    std::fs::write(p.join("rampart.toml"), policy + SERVE).unwrap();
    // Nothing registered: check-config refuses fraud and says why.
    let o = rampart(p, &["serve", "check-config"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("REFUSED fraud"), "{}", text(&o));
    // A role that the policy does not define is refused.
    let o = rampart(p, &["serve", "keys", "create", "bot", "--role", "admin"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no role \"admin\""), "{}", text(&o));
    let o = rampart(
        p,
        &[
            "serve",
            "keys",
            "create",
            "bot",
            "--role",
            "scorer",
            "--expires",
            "1x",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // The token is printed once, and list never shows it.
    let out = ok(
        p,
        &[
            "serve",
            "keys",
            "create",
            "bot",
            "--role",
            "scorer",
            "--expires",
            "30d",
            "--json",
        ],
    );
    let made: serde_json::Value = serde_json::from_str(&out).unwrap();
    let token = made["token"].as_str().unwrap().to_string();
    let id = made["id"].as_str().unwrap().to_string();
    assert!(token.starts_with("rk_") && token.len() > 64);
    let listed = ok(p, &["serve", "keys", "list"]);
    assert!(
        listed.contains(&id) && listed.contains("valid until"),
        "{listed}"
    );
    let secret = token.rsplit('_').next().unwrap();
    assert!(!listed.contains(secret));
    // `keys create` says at once what check-config would warn about it.
    let warned = |args: &[&str], what: &str| {
        let o = rampart(p, args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success() && err.contains(what), "{args:?}: {err}");
    };
    warned(
        &["serve", "keys", "create", "bot", "--role", "scorer"],
        "share the name \"bot\"",
    );
    warned(&["serve", "keys", "create", "nobody"], "has no role");
    ok(p, &["serve", "keys", "revoke", &id]);
    assert!(ok(p, &["serve", "keys", "list"]).contains("revoked 20"));
    // Revoking again changes nothing and says so (scripts may repeat it);
    // an unknown id is an error.
    let again = ok(p, &["serve", "keys", "revoke", &id]);
    assert!(again.contains("revoked already"), "{again}");
    let o = rampart(p, &["serve", "keys", "revoke", "0000000000000000"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("keys list"), "{}", text(&o));
    // Both are in the ledger, without the secret.
    let ledger = std::fs::read(p.join(".rampart/ledger.db")).unwrap();
    let evidence = ok(p, &["ledger", "verify"]);
    assert!(
        evidence.contains("OK") || evidence.contains("ok"),
        "{evidence}"
    );
    assert!(!ledger.windows(secret.len()).any(|w| w == secret.as_bytes()));
    let project = rampart_evidence::Project::at(p.join(".rampart"));
    let prefix = rampart_evidence::predicate_type("gateway-key");
    let (found, _) = project.attestations_from(0, &prefix).unwrap();
    let kinds: Vec<&str> = found
        .iter()
        .map(|a| a.statement.predicate["event"].as_str().unwrap_or(""))
        .collect();
    // bot, its namesake and nobody; bot's revocation.
    assert_eq!(
        kinds,
        ["key-created", "key-created", "key-created", "key-revoked"]
    );
    assert!(found.iter().all(|a| a.signature_ok));
}
