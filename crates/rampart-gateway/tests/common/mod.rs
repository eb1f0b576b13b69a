//! What the gateway's tests share: a project with a ledger and a
//! registry holding the skl2onnx fixtures, a gateway serving it on
//! loopback, API keys.

#![allow(dead_code)]

use rampart_core::Policy;
use rampart_evidence::{Outcome, Project, Started};
use rampart_gateway::keys::KeyLog;
use rampart_gateway::{Gateway, Setup};
use rampart_registry::{Register, Registry};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const POLICY: &str = r#"
[admission]
require = ["scan"]

[registry.alias.production]
require = ["scan"]

[registry.alias.dev]

[serve.limits]
rate = 1000.0
burst = 1000

[serve.models.iris]
from = "iris@production"

[serve.models.plain]
from = "plain@dev"

[serve.models.slow]
from = "iris@production"
limits = { rate = 1.0, burst = 1, max_body = 4096 }

[serve.roles.scorer]
actions = ["infer", "metadata"]
models = ["iris", "plain", "slow"]

[serve.roles.ops]
actions = ["admin", "registry-read", "promote", "rollback", "metadata"]
models = ["*"]
"#;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub struct Server {
    pub dir: std::sync::Arc<tempfile::TempDir>,
    pub base: String,
    /// What the gateway's requests read (its tables), for assertions.
    pub shared: std::sync::Arc<rampart_gateway::Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn url(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }

    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), t)
                .await
                .unwrap()
                .unwrap();
        }
    }
}

pub fn project(dir: &Path, policy: &str) -> (Project, Policy) {
    let project = Project::at(dir.join(".rampart"));
    project.init("test/gateway").unwrap();
    std::fs::write(dir.join("rampart.toml"), policy).unwrap();
    let policy = Policy::load(&dir.join("rampart.toml")).unwrap();
    (project, policy)
}

pub fn scan_passed(project: &Project, file: &Path) {
    let inputs = [file.to_path_buf()];
    let o = Outcome {
        gate: "scan",
        inputs: &inputs,
        passed: true,
        policy_sha256: "test",
        started: Started::now(),
        details: json!({"fail_on": "medium", "counts": {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}}),
    };
    project.record(&o).unwrap();
    project.checkpoint().unwrap();
}

pub fn register(r: &mut Registry, model: &str, file: &Path) -> u64 {
    r.register(&Register {
        model: Some(model.parse().unwrap()),
        path: file.to_path_buf(),
        ..Default::default()
    })
    .unwrap()
    .version
    .version
}

/// iris@1 (logistic regression) scanned and in production; plain@1 (a
/// forest) in dev without evidence. Evidence is about a digest, so each
/// model here has its own bytes.
pub fn registry_setup(dir: &Path, project: &Project, policy: &Policy) {
    let logreg = dir.join("iris_logreg.onnx");
    let forest = dir.join("iris_forest.onnx");
    std::fs::copy(fixture("iris_logreg.onnx"), &logreg).unwrap();
    std::fs::copy(fixture("iris_forest.onnx"), &forest).unwrap();
    let store = rampart_registry::default_store(project);
    let mut r = Registry::open(project.clone(), &store, policy.clone()).unwrap();
    let v = register(&mut r, "iris", &logreg);
    scan_passed(project, &logreg);
    r.promote(
        &format!("iris@{v}").parse().unwrap(),
        &"production".parse().unwrap(),
        rampart_registry::Expect::AsRead,
    )
    .unwrap();
    let p = register(&mut r, "plain", &forest);
    r.promote(
        &format!("plain@{p}").parse().unwrap(),
        &"dev".parse().unwrap(),
        rampart_registry::Expect::AsRead,
    )
    .unwrap();
}

pub async fn start(policy_text: &str, with_models: bool) -> Server {
    start_in(tempfile::tempdir().unwrap(), policy_text, with_models).await
}

/// As [`start`], in a folder the caller has put files in.
pub async fn start_in(dir: tempfile::TempDir, policy_text: &str, with_models: bool) -> Server {
    let (project, policy) = project(dir.path(), policy_text);
    if with_models {
        registry_setup(dir.path(), &project, &policy);
    }
    serve_existing(dir).await
}

/// Serves the project already in `dir` (its ledger, registry and policy).
pub async fn serve_existing(dir: tempfile::TempDir) -> Server {
    serve_with(std::sync::Arc::new(dir), None).await
}

/// As [`serve_existing`], with limits shared through `redis`.
pub async fn serve_with(dir: std::sync::Arc<tempfile::TempDir>, redis: Option<String>) -> Server {
    rampart_gateway::log::quiet(std::env::var_os("GATEWAY_LOG").is_none());
    let project = Project::at(dir.path().join(".rampart"));
    let policy = Policy::load(&dir.path().join("rampart.toml")).unwrap();
    let gw = Gateway::start(Setup {
        project,
        policy,
        store: None,
        redis,
        audit: true,
    })
    .unwrap();
    let shared = gw.shared().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        gw.serve(listener, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Server {
        dir,
        base,
        shared,
        stop: Some(tx),
        task: Some(task),
    }
}

pub fn key(s: &Server, name: &str, roles: &[&str], expires: Option<u64>) -> (String, String) {
    let mut ks = KeyLog::open(&Project::at(s.path(".rampart"))).unwrap();
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    let k = ks.create(name, &roles, expires).unwrap();
    (k.token, k.info.id)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Waits until the gateway has re-read the keys (they reload every
/// 400 ms): at most 2 s.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(900)).await;
}

pub fn iris_request(rows: &[Vec<f64>]) -> Value {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    json!({"id": "t1", "inputs": [{"name": "X", "datatype": "FP32", "shape": [rows.len(), 4], "data": flat}]})
}
