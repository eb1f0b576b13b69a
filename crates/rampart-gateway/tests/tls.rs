//! TLS and client certificates over real connections: a client
//! certificate from the configured CA is a principal, one from another CA
//! is refused at the handshake, API keys still work over TLS, and a
//! replaced certificate is served without a restart. Certificates come
//! from tools/gen_gateway_certs.sh.

#![cfg(test)]

mod common;

use common::*;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

fn tls_file(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("tls/{name}"))).unwrap()
}

const TLS: &str = r#"
[serve.tls]
cert = "server.pem"
key = "server.key"
client_ca = "ca.pem"

[serve.principals]
"cert:scorer.internal" = ["scorer"]
"#;

/// A gateway over TLS whose certificate files are `cert`/`key` at first.
async fn server(cert: &str, key: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.pem"), tls_file(cert)).unwrap();
    std::fs::write(dir.path().join("server.key"), tls_file(key)).unwrap();
    std::fs::write(dir.path().join("ca.pem"), tls_file("ca.pem")).unwrap();
    let mut s = start_in(dir, &format!("{POLICY}{TLS}"), true).await;
    s.base = s.base.replace("http://", "https://");
    s
}

fn tls_client(identity: Option<&str>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&tls_file("ca.pem")).unwrap();
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .pool_max_idle_per_host(0);
    if let Some(name) = identity {
        let mut pem = tls_file(&format!("{name}.pem"));
        pem.extend(tls_file(&format!("{name}.key")));
        b = b.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    b.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_is_a_principal_and_a_foreign_one_is_refused() {
    let s = server("server.pem", "server.key").await;
    let url = s.url("/v2/models/iris/infer");
    let body = iris_request(&[vec![5.1, 3.5, 1.4, 0.2]]);
    let r = tls_client(Some("client"))
        .post(&url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // No certificate and no key: 401.
    let r = tls_client(None)
        .post(&url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // An API key works over TLS without a certificate.
    let (token, _) = key(&s, "bot", &["scorer"], None);
    settle().await;
    let r = tls_client(None)
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The same name from another CA never gets past the handshake.
    let e = tls_client(Some("stranger"))
        .post(&url)
        .json(&body)
        .send()
        .await;
    assert!(e.is_err(), "{e:?}");
    // Plain HTTP to the TLS port gets nothing.
    let plain = s.url("/v2/health/live").replace("https://", "http://");
    let r = client().get(plain).send().await;
    assert!(r.map(|r| r.status() != StatusCode::OK).unwrap_or(true));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_certificate_is_served_without_a_restart() {
    // First the gateway serves a certificate the client does not trust.
    let s = server("stranger.pem", "stranger.key").await;
    let live = s.url("/v2/health/live");
    assert!(tls_client(None).get(&live).send().await.is_err());
    std::fs::write(s.path("server.key"), tls_file("server.key")).unwrap();
    std::fs::write(s.path("server.pem"), tls_file("server.pem")).unwrap();
    let t0 = Instant::now();
    loop {
        if let Ok(r) = tls_client(None).get(&live).send().await {
            assert_eq!(r.status(), StatusCode::OK);
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(3),
            "the new certificate was not loaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.shutdown().await;
}
