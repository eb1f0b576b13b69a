//! The registry on both stores: SQLite (always) and the PostgreSQL server
//! at 127.0.0.1:5432 (database `test`), each scenario run against each.
//! Without a server the PostgreSQL runs are skipped with a note, unless
//! `CI` is set: then they fail.

#![cfg(test)]

use rampart_attest::{KeyKind, SigningKey};
use rampart_core::Policy;
use rampart_evidence::{Outcome, Project, Started};
use rampart_registry::{Error, Event, Expect, Name, Register, Registry, VersionRef};
use std::path::{Path, PathBuf};

/// A project with a ledger, three approver keys and a model file.
struct Fixture {
    dir: tempfile::TempDir,
    project: Project,
    keys: Vec<SigningKey>,
}

const POLICY: &str = r#"
[registry.alias.production]
require = ["scan"]
approvals = 2
approvers = ["alice.pub", "bob.pub", "carol.pub"]

[registry.alias.staging]
"#;

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::at(dir.path().join(".rampart"));
        project.init("test/registry").unwrap();
        let mut keys = Vec::new();
        for name in ["alice", "bob", "carol", "dave"] {
            let k = SigningKey::generate(KeyKind::Ed25519);
            let pem = k.public().to_pem().unwrap();
            std::fs::write(dir.path().join(format!("{name}.pub")), pem).unwrap();
            keys.push(k);
        }
        std::fs::write(dir.path().join("rampart.toml"), POLICY).unwrap();
        Fixture { dir, project, keys }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn policy(&self) -> Policy {
        Policy::load(&self.path("rampart.toml")).unwrap()
    }

    fn open(&self, store: &str) -> Registry {
        Registry::open(self.project.clone(), store, self.policy()).unwrap()
    }

    /// Writes `bytes` as a model file and registers it, authored by
    /// `author` (an index into the keys).
    fn register(&self, r: &mut Registry, file: &str, bytes: &[u8], author: usize) -> u64 {
        std::fs::write(self.path(file), bytes).unwrap();
        let reg = Register {
            model: Some(name("fraud")),
            path: self.path(file),
            key: Some(self.keys[author].clone()),
            ..Default::default()
        };
        r.register(&reg).unwrap().version.version
    }

    /// A passing, checkpointed scan attestation about `file`.
    fn scan_passed(&self, file: &str) {
        let inputs = [self.path(file)];
        let o = Outcome {
            gate: "scan",
            inputs: &inputs,
            passed: true,
            policy_sha256: "default",
            started: Started::now(),
            details: serde_json::json!({"fail_on": "medium", "counts": {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}}),
        };
        self.project.record(&o).unwrap();
        self.project.checkpoint().unwrap();
    }
}

fn name(s: &str) -> Name {
    s.parse().unwrap()
}

fn v(s: &str) -> VersionRef {
    s.parse().unwrap()
}

fn reasons(e: Error) -> Vec<String> {
    match e {
        Error::Refused { reasons, .. } => reasons,
        other => panic!("expected a refusal, got {other}"),
    }
}

/// The store of a scenario's run: a SQLite file in the fixture, or a
/// fresh schema on the PostgreSQL server, dropped when the guard goes
/// (None: no server, outside CI).
fn store(f: &Fixture, pg: bool) -> Option<(String, Option<Schema>)> {
    match pg {
        false => Some((f.path("registry.db").display().to_string(), None)),
        true => postgres_schema().map(|(url, s)| (url, Some(s))),
    }
}

/// A schema on the test server, dropped at the end of the test.
struct Schema(String);

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(PG, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.0));
        }
    }
}

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A new, empty schema on the test server, as a store URL whose
/// connections use it; None (with a note) when no server answers
/// outside CI.
fn postgres_schema() -> Option<(String, Schema)> {
    let mut client = match postgres::Client::connect(PG, postgres::NoTls) {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("CI is set and PostgreSQL at {PG} does not answer: {e}")
        }
        Err(e) => {
            eprintln!("note: PostgreSQL at {PG} does not answer ({e}); its runs are skipped");
            return None;
        }
    };
    let schema = format!(
        "registry_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    Some((
        format!("{PG}?options=-csearch_path%3D{schema}"),
        Schema(schema),
    ))
}

#[test]
fn registering_numbers_versions_and_the_same_bytes_are_the_same_version() {
    for pg in [false, true] {
        let f = Fixture::new();
        let Some((store, _schema)) = store(&f, pg) else {
            continue;
        };
        let mut r = f.open(&store);
        assert_eq!(f.register(&mut r, "a.bin", b"weights one", 0), 1, "{store}");
        assert_eq!(f.register(&mut r, "a.bin", b"weights two", 0), 2, "{store}");
        let again = Register {
            model: Some(name("fraud")),
            path: f.path("a.bin"),
            ..Default::default()
        };
        let reg = r.register(&again).unwrap();
        assert!(reg.existing, "{store}");
        assert_eq!(reg.version.version, 2, "{store}");
        assert_eq!(r.versions(Some(&name("fraud"))).unwrap().len(), 2);
        // A missing file is an error naming it, never a version.
        let missing = Register {
            model: Some(name("fraud")),
            path: f.path("nope.bin"),
            ..Default::default()
        };
        let e = r.register(&missing).unwrap_err();
        assert!(e.to_string().contains("nope.bin"), "{e}");
        let e = r.version(&v("fraud@9")).unwrap_err();
        assert!(e.to_string().contains("versions 1 to 2"), "{e}");
    }
}

/// Promotion is refused with every reason until the version's exact
/// digest has passing evidence and two approvals by listed approvers who
/// are not its author; then it moves the alias.
#[test]
fn promotion_needs_evidence_and_approvals_not_by_the_author() {
    for pg in [false, true] {
        let f = Fixture::new();
        let Some((store, _schema)) = store(&f, pg) else {
            continue;
        };
        let mut r = f.open(&store);
        let ver = f.register(&mut r, "model.bin", b"weights", 0);
        let fraud1 = v(&format!("fraud@{ver}"));
        let prod = name("production");
        let why = reasons(r.promote(&fraud1, &prod, Expect::AsRead).unwrap_err());
        assert!(
            why.iter().any(|w| w.contains("no scan attestation")),
            "{why:?}"
        );
        assert!(
            why.iter()
                .any(|w| w.contains("needs 2 approvals") && w.contains("has 0")),
            "{why:?}"
        );

        f.scan_passed("model.bin");
        let author = reasons(r.approve(&fraud1, &prod, &f.keys[0]).unwrap_err());
        assert!(
            author[0].contains("the author of a version cannot approve it"),
            "{author:?}"
        );
        r.approve(&fraud1, &prod, &f.keys[1]).unwrap();
        // Dave is not an approver: an approval that could never count is
        // refused, as is a second one by the same key.
        let dave = reasons(r.approve(&fraud1, &prod, &f.keys[3]).unwrap_err());
        assert!(dave[0].contains("not among the approvers"), "{dave:?}");
        let twice = reasons(r.approve(&fraud1, &prod, &f.keys[1]).unwrap_err());
        assert!(twice[0].contains("approved it already"), "{twice:?}");
        let why = reasons(r.promote(&fraud1, &prod, Expect::AsRead).unwrap_err());
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(why[0].contains("has 1"), "{why:?}");

        r.approve(&fraud1, &prod, &f.keys[2]).unwrap();
        let done = r.promote(&fraud1, &prod, Expect::AsRead).unwrap();
        match &done.event {
            Event::Promote {
                previous,
                approvers,
                gates,
                ..
            } => {
                assert_eq!(*previous, None);
                assert_eq!(approvers.len(), 2);
                assert_eq!(gates, &vec!["scan".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            r.alias(&name("fraud"), &prod).unwrap().unwrap().version,
            ver
        );

        // An alias the policy does not name cannot be promoted to.
        let why = reasons(
            r.promote(&fraud1, &name("canary"), Expect::AsRead)
                .unwrap_err(),
        );
        assert!(why[0].contains("[registry.alias.canary]"), "{why:?}");
        // Changed bytes are a new version, without the old one's evidence.
        let ver2 = f.register(&mut r, "model.bin", b"weights, retrained", 0);
        let why = reasons(
            r.promote(&v(&format!("fraud@{ver2}")), &prod, Expect::AsRead)
                .unwrap_err(),
        );
        assert!(
            why.iter().any(|w| w.contains("no scan attestation")),
            "{why:?}"
        );
    }
}

/// Rollback returns to the version promoted before; only versions once
/// promoted to the alias qualify; every change is in the history.
#[test]
fn rollback_returns_to_the_version_promoted_before() {
    for pg in [false, true] {
        let f = Fixture::new();
        let Some((store, _schema)) = store(&f, pg) else {
            continue;
        };
        let mut r = f.open(&store);
        let staging = name("staging");
        let fraud = name("fraud");
        for (i, bytes) in [b"one".as_slice(), b"two", b"three"].iter().enumerate() {
            f.register(&mut r, &format!("m{i}.bin"), bytes, 0);
        }
        r.promote(&v("fraud@1"), &staging, Expect::AsRead).unwrap();
        r.promote(&v("fraud@2"), &staging, Expect::AsRead).unwrap();
        let e = r.rollback(&fraud, &staging, None, "").unwrap_err();
        assert!(e.to_string().contains("needs a reason"), "{e}");
        let back = r.rollback(&fraud, &staging, None, "bad canary").unwrap();
        assert!(
            matches!(
                back.event,
                Event::Rollback {
                    version: 1,
                    previous: 2,
                    ..
                }
            ),
            "{back:?}"
        );
        // A second rollback never restores the version rolled away from.
        let why = reasons(r.rollback(&fraud, &staging, None, "again").unwrap_err());
        assert!(why[0].contains("fraud@2 was rolled back from"), "{why:?}");
        let why = reasons(r.rollback(&fraud, &staging, Some(3), "x").unwrap_err());
        assert!(why[0].contains("never promoted to staging"), "{why:?}");
        // Deprecation is refused while an alias points at the version.
        let why = reasons(r.deprecate(&v("fraud@1"), "old").unwrap_err());
        assert!(why[0].contains("staging points at it"), "{why:?}");
        r.deprecate(&v("fraud@3"), "leaky").unwrap();
        let why = reasons(
            r.promote(&v("fraud@3"), &staging, Expect::AsRead)
                .unwrap_err(),
        );
        assert!(why.iter().any(|w| w.contains("deprecated")), "{why:?}");
        // Deletion is refused, and on the record.
        let why = reasons(r.delete(&v("fraud@2"), "cleanup").unwrap_err());
        assert!(why[0].contains("never deleted"), "{why:?}");
        let history = r.history(&fraud).unwrap();
        let kinds: Vec<&str> = history.iter().map(|e| e.event.gate()).collect();
        assert_eq!(
            kinds,
            [
                "registry-register",
                "registry-register",
                "registry-register",
                "registry-promote",
                "registry-promote",
                "registry-rollback",
                "registry-deprecate",
                "registry-delete-refused"
            ]
        );
    }
}

/// Two promotions of the same alias from the same state: exactly one
/// wins, the other is refused naming the winner, on both stores; and
/// with real threads racing on one SQLite file.
#[test]
fn concurrent_promotions_one_wins_and_the_other_names_it() {
    for pg in [false, true] {
        let f = Fixture::new();
        let Some((store, _schema)) = store(&f, pg) else {
            continue;
        };
        let mut r = f.open(&store);
        for (file, bytes) in [("a.bin", b"a"), ("b.bin", b"b"), ("c.bin", b"c")] {
            f.register(&mut r, file, bytes, 0);
        }
        let mut other = f.open(&store);
        let staging = name("staging");
        r.promote(&v("fraud@1"), &staging, Expect::Version(None))
            .unwrap();
        let e = other
            .promote(&v("fraud@2"), &staging, Expect::Version(None))
            .unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e}");
        assert!(e.to_string().contains("points at fraud@1"), "{e}");

        // Threads, each from its own connection, both expecting fraud@1.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let results: Vec<(&str, Result<_, Error>)> = std::thread::scope(|s| {
            let handles = ["fraud@2", "fraud@3"].map(|target| {
                let (barrier, f, store, staging) = (barrier.clone(), &f, &store, &staging);
                s.spawn(move || {
                    let mut r = f.open(store);
                    barrier.wait();
                    (
                        target,
                        r.promote(&v(target), staging, Expect::Version(Some(1))),
                    )
                })
            });
            handles.map(|h| h.join().unwrap()).into_iter().collect()
        });
        let winners: Vec<&str> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        let lost = results.iter().find_map(|(_, r)| r.as_ref().err()).unwrap();
        let named = format!("points at {}", winners[0]);
        assert!(
            matches!(lost, Error::Conflict(m) if m.contains(&named)),
            "{lost}"
        );
    }
}

/// The store is a cache of the ledger: edits to it are named by table and
/// row, and a rebuild from the ledger alone undoes them. An event in the
/// ledger that a crash kept from the store is applied by the next run.
#[test]
fn the_ledger_names_edits_of_the_store_and_rebuilds_it() {
    let f = Fixture::new();
    let store = f.path("registry.db");
    let mut r = f.open(&store.display().to_string());
    f.register(&mut r, "a.bin", b"a", 0);
    f.register(&mut r, "b.bin", b"b", 0);
    r.promote(&v("fraud@1"), &name("staging"), Expect::AsRead)
        .unwrap();
    assert_eq!(r.verify().unwrap(), Vec::<String>::new());

    let db = rusqlite::Connection::open(&store).unwrap();
    db.execute_batch(
        "UPDATE versions SET sha256 = 'forged' WHERE version = 1;
         UPDATE aliases SET version = 2;
         INSERT INTO versions VALUES ('fraud', 7, 'x', 'y', 'z', '{}', '{}', 0, 99);",
    )
    .unwrap();
    // What serves models checks the alias against the ledger, so the
    // edited alias is not served.
    let e = r.resolve(&name("fraud"), "staging").unwrap_err();
    assert!(matches!(e, Error::Tampered(_)), "{e}");
    let problems = r.verify().unwrap();
    let all = problems.join("\n");
    assert!(
        all.contains(
            "versions (model, version) = (\"fraud\", 1): sha256 is \"forged\" in the store"
        ),
        "{all}"
    );
    assert!(all.contains("aliases (model, alias) = (\"fraud\", \"staging\"): version is 2 in the store, 1 in the ledger"), "{all}");
    assert!(
        all.contains("(\"fraud\", 7): in the store, but no ledger event made it"),
        "{all}"
    );
    r.rebuild().unwrap();
    assert_eq!(r.verify().unwrap(), Vec::<String>::new());
    // A cursor set back applies nothing twice.
    db.execute_batch("UPDATE cursor SET next = 0").unwrap();
    assert_eq!(r.versions(None).unwrap().len(), 2);
    assert_eq!(r.verify().unwrap(), Vec::<String>::new());

    // A crash after the ledger append, before the store's commit: the
    // store lost the last event; the next operation applies it.
    let last = f.register(&mut r, "c.bin", b"c", 0);
    db.execute_batch(&format!(
        "UPDATE cursor SET next = (SELECT registered_at FROM versions WHERE version = {last});
         DELETE FROM versions WHERE version = {last};
         DELETE FROM events WHERE kind = 'registry-register' AND version = {last};"
    ))
    .unwrap();
    drop(db);
    // Any command, verify too, applies the event the ledger holds first.
    let mut reopened = f.open(&store.display().to_string());
    assert_eq!(reopened.versions(None).unwrap().len(), 3);
    assert_eq!(r.verify().unwrap(), Vec::<String>::new());
    assert_eq!(reopened.verify().unwrap(), Vec::<String>::new());
}

/// A forged registry event appended to the ledger (not signed by the
/// project's key) stops the registry instead of being applied or passed
/// over.
#[test]
fn a_registry_event_not_signed_by_the_project_is_refused() {
    let f = Fixture::new();
    let store = f.path("registry.db").display().to_string();
    let mut r = f.open(&store);
    f.register(&mut r, "a.bin", b"a", 0);
    let st = rampart_attest::Statement::new(
        vec![],
        "https://rampart.dev/attestation/registry-promote/v1",
        serde_json::json!({"event": "promote"}),
    );
    let env = rampart_attest::Envelope::sign(
        rampart_attest::IN_TOTO_PAYLOAD_TYPE,
        st.to_payload(),
        &f.keys[3],
    );
    let mut l = f.project.ledger().unwrap();
    l.append(&[serde_json::to_vec(&env).unwrap().as_slice()])
        .unwrap();
    let e = r.versions(None).unwrap_err();
    assert!(matches!(e, Error::Tampered(_)), "{e}");
    assert!(e.to_string().contains("does not verify"), "{e}");
}

#[test]
fn names_in_a_policy_path_are_relative_to_it() {
    // The approver keys are read next to rampart.toml, whatever the
    // current folder.
    let f = Fixture::new();
    let policy = f.policy();
    assert_eq!(
        policy.source.as_deref().and_then(Path::parent),
        Some(f.dir.path())
    );
}

/// An MLflow tracking database with the tables and columns MLflow 3.17
/// writes (model_versions with workspace and storage_location,
/// registered_model_aliases, logged_models, runs): versions whose
/// artifacts are here are registered (the same bytes twice are one
/// version), aliases are reported and not promoted, and what cannot be
/// imported is listed with why.
#[test]
fn an_mlflow_registry_is_imported_and_nothing_is_skipped_silently() {
    let f = Fixture::new();
    let root = f.dir.path();
    for (id, bytes) in [("m-aaa", "weights a"), ("m-bbb", "weights b")] {
        let dir = root.join(format!("artifacts/models/{id}/artifacts"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("MLmodel"), "flavors: {}\n").unwrap();
        std::fs::write(dir.join("model.skops"), bytes).unwrap();
    }
    let run_dir = root.join("artifacts/run1/artifacts/model");
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::write(run_dir.join("model.skops"), "weights r").unwrap();
    let db = root.join("mlflow.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE model_versions (name VARCHAR(256) NOT NULL, version INTEGER NOT NULL, creation_time BIGINT, last_updated_time BIGINT, description VARCHAR(5000), user_id VARCHAR(256), current_stage VARCHAR(20), source VARCHAR(500), run_id VARCHAR(32), status VARCHAR(20), status_message VARCHAR(500), run_link VARCHAR(500), storage_location VARCHAR(500), workspace VARCHAR(63) DEFAULT 'default' NOT NULL);
         CREATE TABLE registered_model_aliases (alias VARCHAR(256) NOT NULL, version INTEGER NOT NULL, name VARCHAR(256) NOT NULL, workspace VARCHAR(63) DEFAULT 'default' NOT NULL);
         CREATE TABLE logged_models (model_id VARCHAR(36) NOT NULL, artifact_location VARCHAR(1000) NOT NULL);
         CREATE TABLE runs (run_uuid VARCHAR(32) NOT NULL, artifact_uri VARCHAR(200));",
    )
    .unwrap();
    let file = |id: &str| format!("file://{}/artifacts/models/{id}/artifacts", root.display());
    let rows: [(&str, i64, String, Option<String>, &str); 6] = [
        (
            "fraud",
            1,
            "models:/m-aaa".into(),
            Some(file("m-aaa")),
            "default",
        ),
        (
            "fraud",
            2,
            "models:/m-bbb".into(),
            Some(file("m-bbb")),
            "default",
        ),
        ("fraud", 3, "models:/m-aaa".into(), None, "default"),
        ("fraud", 4, "runs:/run1/model".into(), None, "default"),
        (
            "fraud",
            5,
            "s3://bucket/m".into(),
            Some("s3://bucket/m".into()),
            "default",
        ),
        (
            "Fraud Detector",
            1,
            "models:/m-bbb".into(),
            Some(file("m-bbb")),
            "default",
        ),
    ];
    for (name, v, source, storage, ws) in rows {
        c.execute(
            "INSERT INTO model_versions (name, version, source, storage_location, workspace, user_id, run_id) VALUES (?1, ?2, ?3, ?4, ?5, 'ana', 'r1')",
            rusqlite::params![name, v, source, storage, ws],
        )
        .unwrap();
    }
    c.execute_batch(&format!(
        "INSERT INTO logged_models VALUES ('m-aaa', '{}');
         INSERT INTO runs VALUES ('run1', 'file://{}/artifacts/run1/artifacts');
         INSERT INTO registered_model_aliases (alias, version, name) VALUES ('production', 3, 'fraud'), ('champion', 5, 'fraud');",
        file("m-aaa"),
        root.display()
    ))
    .unwrap();
    drop(c);

    let mut r = f.open(&f.path("registry.db").display().to_string());
    let uri = format!("sqlite:///{}", db.display());
    let out = r.import_mlflow(&uri).unwrap();
    let mapped: Vec<(&str, &str, bool)> = out
        .versions
        .iter()
        .map(|v| (v.mlflow.as_str(), v.rampart.as_str(), v.existing))
        .collect();
    assert_eq!(
        mapped,
        [
            ("fraud version 1", "fraud@1", false),
            ("fraud version 2", "fraud@2", false),
            ("fraud version 3", "fraud@1", true),
            ("fraud version 4", "fraud@3", false),
        ]
    );
    assert!(out.versions.iter().all(|v| v.evidence.is_empty()));
    assert_eq!(out.failed.len(), 2, "{:?}", out.failed);
    assert!(
        out.failed
            .iter()
            .any(|f| f.contains("fraud version 5") && f.contains("not on this machine")),
        "{:?}",
        out.failed
    );
    assert!(
        out.failed.iter().any(|f| f.contains("Fraud Detector")),
        "{:?}",
        out.failed
    );
    assert_eq!(
        out.aliases,
        [
            "fraud@champion in MLflow -> version 5 (not imported)",
            "fraud@production in MLflow -> fraud@1 (not promoted: promote it once its evidence and approvals are in)",
        ]
    );
    // Nothing was promoted, and the metadata says where it came from.
    assert_eq!(r.alias(&name("fraud"), &name("production")).unwrap(), None);
    let v1 = r.version(&v("fraud@1")).unwrap();
    assert_eq!(v1.meta.get("mlflow_version").map(String::as_str), Some("1"));
    assert_eq!(v1.meta.get("who").map(String::as_str), Some("ana"));
    // A database that is not MLflow's is an error naming it.
    let e = r
        .import_mlflow(&format!("sqlite:///{}", f.path("rampart.toml").display()))
        .unwrap_err();
    assert!(e.to_string().contains("rampart.toml"), "{e}");
}

/// An MLflow file store as MLflow 3.17 writes it (`models/NAME/meta.yaml`,
/// `version-N/meta.yaml`, `aliases/ALIAS`) is imported like a database.
#[test]
fn an_mlflow_file_store_is_imported() {
    let f = Fixture::new();
    let root = f.dir.path().join("mlruns");
    let art = root.join("0/models/m-1/artifacts");
    std::fs::create_dir_all(&art).unwrap();
    std::fs::write(art.join("model.skops"), "weights").unwrap();
    let model = root.join("models/fraud");
    std::fs::create_dir_all(model.join("version-1")).unwrap();
    std::fs::create_dir_all(model.join("aliases")).unwrap();
    std::fs::write(
        model.join("meta.yaml"),
        "aliases:\n  production: '1'\nname: fraud\n",
    )
    .unwrap();
    std::fs::write(
        model.join("version-1/meta.yaml"),
        format!(
            "creation_timestamp: 1\nname: fraud\nrun_id: abc\nsource: models:/m-1\nstatus: READY\nstorage_location: file://{}\nuser_id: null\nversion: 1\nworkspace: default\n",
            art.display()
        ),
    )
    .unwrap();
    std::fs::write(model.join("aliases/production"), "1").unwrap();
    let mut r = f.open(&f.path("registry.db").display().to_string());
    let out = r
        .import_mlflow(&format!("file://{}", root.display()))
        .unwrap();
    assert_eq!(out.versions.len(), 1, "{out:?}");
    assert_eq!(out.versions[0].rampart, "fraud@1");
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.aliases.len(), 1);
    assert!(
        out.aliases[0].starts_with("fraud@production in MLflow -> fraud@1"),
        "{:?}",
        out.aliases
    );
    let v1 = r.version(&v("fraud@1")).unwrap();
    assert_eq!(v1.location, art.display().to_string());
}
