//! `rampart keygen | sign | verify | digest` as a user runs them: files
//! written, exit codes, messages naming what differs, `--scan`.

#![cfg(test)]

use std::path::Path;
use std::process::{Command, Output};

fn rampart(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("XDG_CACHE_HOME", cwd.join("cache"))
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

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn folder(d: &Path) {
    std::fs::create_dir_all(d.join("model/sub")).unwrap();
    std::fs::write(d.join("model/weights.bin"), [1u8; 4096]).unwrap();
    std::fs::write(d.join("model/sub/config.json"), b"{}").unwrap();
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites() {
    let d = tempfile::tempdir().unwrap();
    assert_eq!(
        code(&rampart(
            &["keygen", "k", "--algorithm", "ed25519"],
            d.path()
        )),
        0
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.path().join("k.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = rampart(&["keygen", "k"], d.path());
    assert_eq!(code(&again), 2);
    assert!(
        text(&again).contains("refusing to overwrite"),
        "{}",
        text(&again)
    );
}

#[test]
fn sign_verify_and_every_exit_code() {
    let d = tempfile::tempdir().unwrap();
    folder(d.path());
    let p = d.path();
    assert_eq!(code(&rampart(&["keygen", "k"], p)), 0);
    assert_eq!(code(&rampart(&["keygen", "other"], p)), 0);
    assert_eq!(code(&rampart(&["sign", "model", "--key", "k.key"], p)), 0);
    assert!(p.join("model/model.sig").is_file());
    let ok = rampart(&["verify", "model", "--key", "k.pub", "--json"], p);
    assert_eq!(code(&ok), 0, "{}", text(&ok));
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["resources"], 2);

    let wrong = rampart(&["verify", "model", "--key", "other.pub"], p);
    assert_eq!(code(&wrong), 1);
    assert!(text(&wrong).contains("wrong key"), "{}", text(&wrong));

    std::fs::write(p.join("model/sub/config.json"), b"{\"x\": 1}").unwrap();
    let changed = rampart(&["verify", "model", "--key", "k.pub", "--json"], p);
    assert_eq!(code(&changed), 1);
    let v: serde_json::Value = serde_json::from_slice(&changed.stdout).unwrap();
    assert_eq!(v["diff"]["modified"][0], "sub/config.json");

    std::fs::write(p.join("model/model.sig"), b"{\"not\": \"a bundle\"}").unwrap();
    let garbage = rampart(&["verify", "model", "--key", "k.pub"], p);
    assert_eq!(code(&garbage), 2);
    assert!(text(&garbage).contains("model.sig"), "{}", text(&garbage));

    let private_as_public = rampart(&["verify", "model", "--key", "k.key"], p);
    assert_eq!(code(&private_as_public), 2);
    assert!(
        text(&private_as_public).contains("private key"),
        "{}",
        text(&private_as_public)
    );
}

#[test]
fn digest_prints_the_manifest() {
    let d = tempfile::tempdir().unwrap();
    folder(d.path());
    let o = rampart(
        &[
            "digest",
            "model",
            "--method",
            "shards",
            "--shard-size",
            "1000",
        ],
        d.path(),
    );
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "sub/config.json:0:2",
            "weights.bin:0:1000",
            "weights.bin:1000:2000",
            "weights.bin:2000:3000",
            "weights.bin:3000:4000",
            "weights.bin:4000:4096"
        ]
    );
    assert_eq!(v["serialization"]["shard_size"], 1000);
}

#[test]
fn verify_scan_scans_the_verified_files_and_fails_on_findings() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::create_dir_all(p.join("model")).unwrap();
    // A protocol-0 pickle calling os.system: signed, then verified and scanned.
    std::fs::write(p.join("model/model.pkl"), b"cos\nsystem\n(S'echo'\ntR.").unwrap();
    assert_eq!(code(&rampart(&["keygen", "k"], p)), 0);
    assert_eq!(code(&rampart(&["sign", "model", "--key", "k.key"], p)), 0);
    let o = rampart(&["verify", "model", "--key", "k.pub", "--scan"], p);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("verified model"), "{t}");
    assert!(
        t.contains("PICKLE-EXEC") && t.contains("model/model.pkl"),
        "{t}"
    );
    assert!(
        !t.contains("/tmp/.tmp"),
        "findings name the snapshot, not the folder: {t}"
    );
    // As JSON: one document, the scan's report inside it.
    let o = rampart(
        &["verify", "model", "--key", "k.pub", "--scan", "--json"],
        p,
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["scan"]["passed"], false, "{v}");
    assert_eq!(
        v["scan"]["findings"][0]["location"]["path"],
        "model/model.pkl"
    );
}

#[test]
fn the_certificate_method_end_to_end() {
    let d = tempfile::tempdir().unwrap();
    folder(d.path());
    let p = d.path();
    let fx = |n: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../rampart-attest/tests/fixtures")
            .join(n)
            .display()
            .to_string()
    };
    let s = rampart(
        &[
            "sign",
            "model",
            "--key",
            &fx("leaf.key"),
            "--cert",
            &fx("leaf.pem"),
            "--chain",
            &fx("intermediate.pem"),
        ],
        p,
    );
    assert_eq!(code(&s), 0, "{}", text(&s));
    let ok = rampart(&["verify", "model", "--ca", &fx("root.pem")], p);
    assert_eq!(code(&ok), 0, "{}", text(&ok));
    assert!(text(&ok).contains("certificate chain"), "{}", text(&ok));
    let untrusted = rampart(&["verify", "model", "--ca", &fx("other-root.pem")], p);
    assert_eq!(code(&untrusted), 1, "{}", text(&untrusted));
    // The verifier's own copy of the chain, without the intermediate: the
    // root alone cannot reach the signing certificate.
    let leaf_only = rampart(
        &[
            "verify",
            "model",
            "--ca",
            &fx("root.pem"),
            "--cert",
            &fx("leaf.pem"),
        ],
        p,
    );
    assert_eq!(code(&leaf_only), 1, "{}", text(&leaf_only));
    let refused = rampart(
        &[
            "sign",
            "model",
            "--key",
            &fx("noeku.key"),
            "--cert",
            &fx("noeku.pem"),
            "-s",
            "x.sig",
        ],
        p,
    );
    assert_eq!(code(&refused), 2);
    assert!(
        text(&refused).contains("code-signing"),
        "{}",
        text(&refused)
    );
}
