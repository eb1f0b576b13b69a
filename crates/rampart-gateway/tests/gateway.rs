//! The gateway over real HTTP on loopback: a project with a ledger, a
//! registry holding ONNX models exported by skl2onnx
//! (`tools/gen_onnx_models.py`), and API keys, served by `Gateway` and
//! called with reqwest.

#![cfg(test)]

mod common;

use common::*;
use rampart_core::Policy;
use rampart_evidence::Project;
use rampart_gateway::keys::{KeyLog, PREFIX};
use rampart_gateway::{Gateway, Setup};
use rampart_registry::Registry;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_project_answers_health_and_denies_every_model_endpoint() {
    let s = start("", false).await;
    let c = client();
    for p in ["/v2/health/live", "/v2/health/ready"] {
        let r = c.get(s.url(p)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{p}");
    }
    for (method, p) in [
        ("GET", "/v2"),
        ("GET", "/v2/models/iris"),
        ("GET", "/v2/models/iris/ready"),
        ("POST", "/v2/models/iris/infer"),
        ("POST", "/v1/registry"),
        ("GET", "/metrics"),
    ] {
        for auth in [
            None,
            Some("Bearer rk_0000_0000"),
            Some("Basic YTpi"),
            Some("Bearer "),
        ] {
            let mut req = c.request(method.parse().unwrap(), s.url(p)).body("{}");
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let r = req.send().await.unwrap();
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {p} {auth:?}"
            );
            assert_eq!(r.headers()["www-authenticate"], "Bearer");
            // The caller learns nothing about why.
            assert_eq!(
                r.json::<Value>().await.unwrap(),
                json!({"error": "unauthorized"})
            );
        }
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evidenced_model_is_served_and_agrees_with_onnxruntime() {
    let s = start(POLICY, true).await;
    let (token, _) = key(&s, "bot", &["scorer"], None);
    settle().await;
    let c = client();
    let meta: Value = c
        .get(s.url("/v2/models/iris"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["inputs"][0]["name"], "X");
    assert_eq!(meta["inputs"][0]["datatype"], "FP32");
    assert_eq!(meta["inputs"][0]["shape"], json!([-1, 4]));
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap();
    let want = &expected["iris_logreg"];
    let rows: Vec<Vec<f64>> = serde_json::from_value(want["inputs"].clone()).unwrap();
    let r = c
        .post(s.url("/v2/models/iris/infer"))
        .bearer_auth(&token)
        .json(&iris_request(&rows))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["model_name"], "iris");
    assert_eq!(got["model_version"], "1");
    assert_eq!(got["id"], "t1");
    let outputs = got["outputs"].as_array().unwrap();
    let label = outputs.iter().find(|o| o["name"] == "label").unwrap();
    let labels: Vec<i64> = want["outputs"]["label"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(label["data"], json!(labels));
    let probs = outputs
        .iter()
        .find(|o| o["name"] == "probabilities")
        .unwrap();
    assert_eq!(probs["shape"], json!([rows.len(), 3]));
    let want_p: Vec<f64> = want["outputs"]["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    for (g, w) in probs["data"].as_array().unwrap().iter().zip(&want_p) {
        assert!((g.as_f64().unwrap() - w).abs() < 1e-5, "{g} vs {w}");
    }
    // Asking for one output gives that one.
    let mut one = iris_request(&rows[..1]);
    one["outputs"] = json!([{"name": "label"}]);
    let got: Value = c
        .post(s.url("/v2/models/iris/infer"))
        .bearer_auth(&token)
        .json(&one)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["outputs"].as_array().unwrap().len(), 1);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_have_the_right_status_and_name_the_problem() {
    let s = start(POLICY, true).await;
    let (scorer, _) = key(&s, "bot", &["scorer"], None);
    let (nobody, _) = key(&s, "nobody", &[], None);
    let (expired, _) = key(&s, "old", &["scorer"], Some(1));
    settle().await;
    let c = client();
    let good = iris_request(&[vec![5.1, 3.5, 1.4, 0.2]]);
    let post = |path: &str, token: &str, body: &Value| {
        c.post(s.url(path)).bearer_auth(token).json(body).send()
    };
    // Expired key: 401. A key without the role: 403.
    let r = post("/v2/models/iris/infer", &expired, &good)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = post("/v2/models/iris/infer", &nobody, &good).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A model the role does not name is forbidden before it is looked up.
    let r = post("/v2/models/secret/infer", &scorer, &good)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Traversal in the name never reaches a lookup.
    let r = post("/v2/models/..%2F..%2Fetc/infer", &scorer, &good)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Out of contract: 400 naming the field.
    let mut bad = good.clone();
    bad["inputs"][0]["datatype"] = json!("INT64");
    let r = post("/v2/models/iris/infer", &scorer, &bad).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e = r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(e.contains("inputs[0].datatype"), "{e}");
    let mut bad = good.clone();
    bad["inputs"][0]["shape"] = json!([1, 5]);
    let r = post("/v2/models/iris/infer", &scorer, &bad).await.unwrap();
    let e = r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(e.contains("dimension 1 is 5, the model takes 4"), "{e}");
    // A body over the model's limit: 413 on its declared length.
    let big = vec![b' '; 5000];
    let r = c
        .post(s.url("/v2/models/slow/infer"))
        .bearer_auth(&scorer)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // slow allows 1 request per second with a burst of 1: the third in a
    // row is refused with Retry-After.
    let mut statuses = Vec::new();
    let mut retry = None;
    for _ in 0..3 {
        let r = post("/v2/models/slow/infer", &scorer, &good).await.unwrap();
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            retry = r.headers().get("retry-after").cloned();
        }
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(retry.is_some());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_is_refused_within_a_second() {
    let s = start(POLICY, true).await;
    let (token, id) = key(&s, "bot", &["scorer"], None);
    settle().await;
    let c = client();
    let ready = |t: String| c.get(s.url("/v2/models/iris/ready")).bearer_auth(t).send();
    assert_eq!(ready(token.clone()).await.unwrap().status(), StatusCode::OK);
    KeyLog::open(&Project::at(s.path(".rampart")))
        .unwrap()
        .revoke(&id)
        .unwrap();
    let revoked = Instant::now();
    loop {
        if ready(token.clone()).await.unwrap().status() == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            revoked.elapsed() < Duration::from_secs(1),
            "still accepted after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(token.starts_with(PREFIX));
    s.shutdown().await;
}

/// Expectations of the iris training data, as `rampart data suggest`
/// writes them: the ranges of the four measurements in sklearn's iris.
const IRIS_EXPECT: &str = r#"
[[expect]]
column = "sepal_length"
type = "float"
range = { min = 4.3, max = 7.9 }
[[expect]]
column = "sepal_width"
type = "float"
range = { min = 2.0, max = 4.4 }
[[expect]]
column = "petal_length"
type = "float"
range = { min = 1.0, max = 6.9 }
[[expect]]
column = "petal_width"
type = "float"
range = { min = 0.1, max = 2.5 }
"#;

/// Rows outside the training data's ranges are refused before the model
/// runs, naming the row, the column and the bound; a contract that does
/// not fit the model keeps the model from being served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_outside_the_training_data_are_refused_by_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("iris.expect.toml"), IRIS_EXPECT).unwrap();
    let cols = r#"expect = "iris.expect.toml"
columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]"#;
    let policy = POLICY
        .replace(
            "[serve.models.iris]\nfrom = \"iris@production\"\n",
            &format!("[serve.models.iris]\nfrom = \"iris@production\"\n{cols}\n"),
        )
        .replace(
            "limits = { rate = 1.0, burst = 1, max_body = 4096 }",
            "expect = \"iris.expect.toml\"\ncolumns = [\"sepal_length\", \"sepal_width\", \"petal_length\"]",
        );
    assert!(policy.contains(
        "columns = [\"sepal_length\", \"sepal_width\", \"petal_length\", \"petal_width\"]"
    ));
    let s = start_in(dir, &policy, true).await;
    let (token, _) = key(&s, "bot", &["scorer"], None);
    settle().await;
    let c = client();
    let infer = |body: Value| {
        c.post(s.url("/v2/models/iris/infer"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let good = iris_request(&[vec![5.1, 3.5, 1.4, 0.2], vec![6.3, 3.3, 6.0, 2.5]]);
    assert_eq!(infer(good).await.unwrap().status(), StatusCode::OK);
    let bad = iris_request(&[vec![5.1, 3.5, 1.4, 0.2], vec![5.1, 3.5, 14.0, 0.2]]);
    let r = infer(bad).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    let msg = v["error"].as_str().unwrap_or("");
    assert!(
        msg.contains("row 1, column \"petal_length\": 14 is above 6.9"),
        "{msg}"
    );
    // The model whose contract names three columns for four features is
    // not served, and ready says why.
    let r = c
        .get(s.url("/v2/models/slow/ready"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ready"], json!(false), "{v}");
    assert!(
        v.to_string()
            .contains("has 4 features, but columns names 3"),
        "{v}"
    );
    s.shutdown().await;
}

/// Registry calls over REST count against `[serve.limits]` per
/// principal, as calls to a model do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_calls_are_rate_limited_per_principal() {
    let policy = POLICY.replace("rate = 1000.0\nburst = 1000", "rate = 0.5\nburst = 2");
    let s = start(&policy, true).await;
    let (ops, _) = key(&s, "ops", &["ops"], None);
    let (other, _) = key(&s, "other", &["ops"], None);
    settle().await;
    let c = client();
    let list = |t: String| {
        c.post(s.url("/v1/registry"))
            .bearer_auth(t)
            .json(&json!({"op": "list"}))
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(list(ops.clone()).await.unwrap());
    }
    let codes: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(codes[0], 200, "{codes:?}");
    assert!(codes.contains(&429), "{codes:?}");
    let limited = statuses.iter().find(|r| r.status() == 429).unwrap();
    assert!(limited.headers().get("retry-after").is_some());
    // Another principal has its own allowance.
    assert_eq!(list(other).await.unwrap().status(), StatusCode::OK);
    s.shutdown().await;
}

/// Keys exist only as signed ledger events: an admin key forged into the
/// ledger under another project's signing key is not honoured, and the
/// gateway stops trusting any key (fail closed) until the ledger is
/// repaired, rather than skipping the entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_forged_into_the_ledger_is_refused_and_keys_fail_closed() {
    let s = start(POLICY, true).await;
    let (good, _) = key(&s, "bot", &["scorer"], None);
    settle().await;
    let c = client();
    let ready = |t: String| c.get(s.url("/v2/models/iris/ready")).bearer_auth(t).send();
    assert_eq!(ready(good.clone()).await.unwrap().status(), StatusCode::OK);
    let forger = tempfile::tempdir().unwrap();
    let theirs = Project::at(forger.path().join(".rampart"));
    theirs.init("forger.example").unwrap();
    let token = format!("{PREFIX}f0f0f0f0f0f0f0f0_{}", "ab".repeat(32));
    let sha256 = hex_sha256(&token);
    let event = rampart_gateway::keys::KeyEvent::KeyCreated {
        id: "f0f0f0f0f0f0f0f0".into(),
        name: "root".into(),
        sha256: sha256.clone(),
        roles: vec!["scorer".into()],
        created: 1,
        expires: None,
    };
    let ours = Project::at(s.path(".rampart"));
    let entry = rampart_gateway::keys::entry(&theirs, &event, &sha256).unwrap();
    ours.append_entry(&mut ours.ledger().unwrap(), &entry)
        .unwrap();
    let t0 = Instant::now();
    loop {
        assert_eq!(
            ready(token.clone()).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
        if ready(good.clone()).await.unwrap().status() == StatusCode::UNAUTHORIZED {
            break;
        }
        // Tampering closes at once (the next read, every 400 ms), not
        // after the STALE_AFTER grace that read errors get.
        assert!(
            t0.elapsed() < Duration::from_millis(1500),
            "keys still trusted after the ledger went bad"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.shutdown().await;
}

/// An entry deleted from the middle of a running gateway's ledger makes
/// the audit trail unwritable: the gateway then trusts no key and serves
/// no model (fail closed), and `/ready` says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_that_refuses_the_audit_trail_closes_the_gateway() {
    let s = start(POLICY, true).await;
    let (good, _) = key(&s, "bot", &["scorer"], None);
    settle().await;
    let c = client();
    let ready = |t: String| c.get(s.url("/v2/models/iris/ready")).bearer_auth(t).send();
    assert_eq!(ready(good.clone()).await.unwrap().status(), StatusCode::OK);
    let db = rusqlite::Connection::open(s.path(".rampart/ledger.db")).unwrap();
    db.execute("DELETE FROM leaves WHERE idx = 1", []).unwrap();
    let t0 = Instant::now();
    loop {
        // Refused calls are audited: each round gives the writer a batch.
        let _ = ready("rk_nobody".into()).await;
        if ready(good.clone()).await.unwrap().status() == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(6), "keys still trusted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let served = s.shared.models.load();
    let iris = served.get("iris").unwrap();
    assert!(iris.ready().is_none());
    assert!(
        iris.reasons().join(" ").contains("refuses the audit trail"),
        "{:?}",
        iris.reasons()
    );
    s.shutdown().await;
}

fn hex_sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unevidenced_model_is_never_served_and_ready_says_why() {
    let s = start(POLICY, true).await;
    let (token, _) = key(&s, "bot", &["scorer"], None);
    settle().await;
    let c = client();
    let r: Value = c
        .get(s.url("/v2/models/plain/ready"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["ready"], false);
    assert_eq!(r["version"], 1);
    let why = r["reasons"].to_string();
    assert!(why.contains("scan"), "{why}");
    let r = c
        .post(s.url("/v2/models/plain/infer"))
        .bearer_auth(&token)
        .json(&iris_request(&[vec![5.1, 3.5, 1.4, 0.2]]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    // An infer-only caller learns that it is not served, not the
    // server's paths and digests.
    let e = r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        e.contains("/v2/models/plain/ready") && !e.contains("scan"),
        "{e}"
    );
    // The auth scheme's case does not matter.
    let r = c
        .get(s.url("/v2/models/plain/ready"))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_bytes_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let (project, policy) = project(dir.path(), POLICY);
    registry_setup(dir.path(), &project, &policy);
    // The registered file is edited after its evidence was made.
    let mut bytes = std::fs::read(dir.path().join("iris_logreg.onnx")).unwrap();
    bytes.push(0);
    std::fs::write(dir.path().join("iris_logreg.onnx"), bytes).unwrap();
    rampart_gateway::log::quiet(true);
    let gw = Gateway::start(Setup {
        project,
        policy,
        store: None,
        redis: None,
        audit: true,
    })
    .unwrap();
    let report = gw.report();
    assert!(!report.ok);
    assert!(report.text.contains("REFUSED iris"), "{}", report.text);
    assert!(
        report.text.contains("not the registered ones"),
        "{}",
        report.text
    );
}

/// The bytes of a served model changed on disk: the gateway stops
/// serving it within about a second (even though the checked bytes are in
/// memory, what runs must be what the disk and the registry say), and
/// serves it again once the registered bytes are back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_model_whose_bytes_change_is_no_longer_served() {
    let s = start(POLICY, true).await;
    let (key, _) = key(&s, "bot", &["scorer"], None);
    settle().await;
    let c = client();
    // /ready answers 200 with "ready" and the reasons.
    let ready = || async {
        let r = c
            .get(s.url("/v2/models/iris/ready"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        let body = r.json::<Value>().await.unwrap();
        (body["ready"] == json!(true), body)
    };
    assert!(ready().await.0);
    let file = s.path("iris_logreg.onnx");
    let good = std::fs::read(&file).unwrap();
    let mut bad = good.clone();
    bad.push(0);
    std::fs::write(&file, &bad).unwrap();
    let t0 = Instant::now();
    let body = loop {
        let (served, body) = ready().await;
        if !served {
            break body;
        }
        assert!(t0.elapsed() < Duration::from_secs(3), "still served");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        body.to_string().contains("not the registered ones"),
        "{body}"
    );
    std::fs::write(&file, &good).unwrap();
    let t0 = Instant::now();
    while !ready().await.0 {
        assert!(t0.elapsed() < Duration::from_secs(8), "not served again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_and_rollback_over_rest_switch_the_served_version() {
    let s = start(POLICY, true).await;
    let (scorer, _) = key(&s, "bot", &["scorer"], None);
    let (ops, _) = key(&s, "ops", &["ops"], None);
    // A second version of iris, scanned.
    let v2 = s.path("iris_v2.onnx");
    std::fs::copy(fixture("iris_tree.onnx"), &v2).unwrap();
    {
        let project = Project::at(s.path(".rampart"));
        let policy = Policy::load(&s.path("rampart.toml")).unwrap();
        let mut r = Registry::open(
            project.clone(),
            &rampart_registry::default_store(&project),
            policy,
        )
        .unwrap();
        assert_eq!(register(&mut r, "iris", &v2), 2);
        scan_passed(&project, &v2);
    }
    settle().await;
    let c = client();
    let promote = json!({"op": "promote", "version": "iris@2", "to": "production"});
    // The scorer may not promote.
    let r = c
        .post(s.url("/v1/registry"))
        .bearer_auth(&scorer)
        .json(&promote)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With no registry role at all, it is refused before its body is
    // read: a malformed body gets 403, not a 400 describing the format.
    let r = c
        .post(s.url("/v1/registry"))
        .bearer_auth(&scorer)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Operations that name server files are not offered.
    let reg = json!({"op": "register", "model": "iris", "path": "/etc/passwd"});
    let r = c
        .post(s.url("/v1/registry"))
        .bearer_auth(&ops)
        .json(&reg)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .post(s.url("/v1/registry"))
        .bearer_auth(&ops)
        .json(&promote)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let served = |want: u64| {
        let c = c.clone();
        let url = s.url("/v2/models/iris/infer");
        let token = scorer.clone();
        async move {
            let t0 = Instant::now();
            loop {
                let r: Value = c
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&iris_request(&[vec![5.1, 3.5, 1.4, 0.2]]))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if r["model_version"].as_str() == Some(want.to_string().as_str()) {
                    return t0.elapsed();
                }
                assert!(t0.elapsed() < Duration::from_secs(3), "still {r}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    served(2).await;
    let back = json!({"op": "rollback", "model": "iris", "alias": "production", "reason": "test"});
    let r = c
        .post(s.url("/v1/registry"))
        .bearer_auth(&ops)
        .json(&back)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    served(1).await;
    // The history is readable over REST by ops.
    let r: Value = c
        .post(s.url("/v1/registry"))
        .bearer_auth(&ops)
        .json(&json!({"op": "history", "model": "iris"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["result"].as_array().unwrap().len() >= 4, "{r}");
    // Metrics count what happened, for ops only.
    let m = c
        .get(s.url("/metrics"))
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("rampart_gateway_requests_total{model=\"iris\",outcome=\"ok\"}"),
        "{m}"
    );
    assert!(
        m.contains("rampart_gateway_model_ready{model=\"plain\"} 0"),
        "{m}"
    );
    let r = c
        .get(s.url("/metrics"))
        .bearer_auth(&scorer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_and_refusals_are_in_the_ledger_after_shutdown() {
    let s = start(POLICY, true).await;
    let (nobody, _) = key(&s, "nobody", &[], None);
    settle().await;
    let c = client();
    let r = c.get(s.url("/v2/models/iris/ready")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .get(s.url("/v2/models/iris/ready"))
        .bearer_auth(&nobody)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let dir = s.dir.clone();
    // Shut down at once: the queue is written before the gateway returns.
    s.shutdown().await;
    let project = Project::at(dir.path().join(".rampart"));
    let prefix = rampart_evidence::predicate_type(rampart_gateway::audit::GATE);
    let (found, _) = project.attestations_from(0, &prefix).unwrap();
    assert!(found.iter().all(|a| a.signature_ok));
    let events: Vec<Value> = found
        .iter()
        .flat_map(|a| {
            a.statement.predicate["events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let has = |kind: &str, field: &str, value: &str| {
        events
            .iter()
            .any(|e| e["event"] == kind && e[field] == value)
    };
    assert!(has("admission", "model", "iris"), "{events:?}");
    assert!(has("admission", "model", "plain"), "{events:?}");
    assert!(has("refused", "reason", "unauthenticated"), "{events:?}");
    assert!(has("refused", "reason", "forbidden"), "{events:?}");
}
