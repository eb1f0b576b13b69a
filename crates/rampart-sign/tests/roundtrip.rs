//! Sign and verify round trips, and every tamper case the issue names:
//! each must fail, and say what differs.

#![cfg(test)]

use rampart_attest::{Bundle, KeyKind, SigningKey};
use rampart_sign::{digest, sign, Error, HashType, Method, Options, Trust};

fn verify(
    b: &Bundle,
    key: &rampart_attest::PublicKey,
    root: &Path,
    ignore: &[String],
    unsigned: bool,
    cache: Option<&rampart_sign::Cache>,
) -> Result<rampart_sign::Verified, Error> {
    rampart_sign::verify(
        b,
        &Trust::Key(key.clone()),
        root,
        ignore,
        unsigned,
        cache,
        &rampart_core::NoProgress,
    )
}
use std::fs;
use std::path::Path;

fn model(dir: &Path) {
    fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    fs::write(dir.join("weights.bin"), vec![7u8; 10_000]).unwrap();
    fs::write(dir.join("config.json"), b"{\"a\": 1}").unwrap();
    fs::write(dir.join("empty"), b"").unwrap();
    fs::write(dir.join("sub/deeper/tok.json"), b"[1, 2]").unwrap();
    fs::create_dir_all(dir.join(".git")).unwrap();
    fs::write(dir.join(".git/HEAD"), b"ref").unwrap();
}

fn opts(method: Method) -> Options {
    Options {
        method,
        ..Options::default()
    }
}

fn signed(dir: &Path, method: Method, kind: KeyKind) -> (SigningKey, Bundle) {
    let key = SigningKey::generate(kind);
    let m = digest(dir, &opts(method)).unwrap();
    (key.clone(), sign(&m, &key).unwrap())
}

#[test]
fn round_trips_for_every_method_key_and_hash() {
    let d = tempfile::tempdir().unwrap();
    model(d.path());
    for method in [Method::Files, Method::Shards { shard_size: 4096 }] {
        for kind in [KeyKind::P256, KeyKind::P384, KeyKind::Ed25519] {
            let (key, bundle) = signed(d.path(), method, kind);
            let back = Bundle::from_json(&bundle.to_json()).unwrap();
            let v = verify(&back, &key.public(), d.path(), &[], false, None).unwrap();
            assert!(v.diff.is_empty(), "{:?}", v.diff);
            // .git is ignored by default; the empty file is listed (files).
            assert!(v
                .signed
                .resources
                .iter()
                .all(|r| !r.name.starts_with(".git")));
        }
    }
    let m = digest(
        d.path(),
        &Options {
            hash_type: HashType::Blake3,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(m.resources.iter().all(|r| r.algorithm == "blake3"));
    let shards = digest(d.path(), &opts(Method::Shards { shard_size: 4096 })).unwrap();
    let weights: Vec<&str> = shards
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .filter(|n| n.starts_with("weights"))
        .collect();
    assert_eq!(
        weights,
        vec![
            "weights.bin:0:4096",
            "weights.bin:4096:8192",
            "weights.bin:8192:10000"
        ]
    );
}

#[test]
fn file_changes_are_named() {
    let d = tempfile::tempdir().unwrap();
    model(d.path());
    let (key, bundle) = signed(d.path(), Method::Files, KeyKind::P256);
    let check = |expect: &str| {
        let v = verify(&bundle, &key.public(), d.path(), &[], false, None).unwrap();
        assert_eq!(v.diff.to_string(), expect);
    };
    fs::write(d.path().join("config.json"), b"{\"a\": 2}").unwrap();
    check("modified: config.json");
    fs::write(d.path().join("config.json"), b"{\"a\": 1}").unwrap();
    fs::write(d.path().join("extra.py"), b"import os").unwrap();
    check("added (not signed): extra.py");
    // --ignore-unsigned-files and --ignore-paths both accept it.
    assert!(verify(&bundle, &key.public(), d.path(), &[], true, None)
        .unwrap()
        .diff
        .is_empty());
    assert!(verify(
        &bundle,
        &key.public(),
        d.path(),
        &["extra.py".into()],
        false,
        None
    )
    .unwrap()
    .diff
    .is_empty());
    fs::remove_file(d.path().join("extra.py")).unwrap();
    fs::remove_file(d.path().join("sub/deeper/tok.json")).unwrap();
    check("removed: sub/deeper/tok.json");
    fs::write(d.path().join("sub/deeper/tok.json"), b"[1, 2]").unwrap();
    fs::rename(d.path().join("weights.bin"), d.path().join("weights2.bin")).unwrap();
    check("renamed: weights.bin -> weights2.bin");
}

#[test]
fn wrong_key_bad_signature_and_edited_bundles_fail() {
    let d = tempfile::tempdir().unwrap();
    model(d.path());
    let (key, bundle) = signed(d.path(), Method::Files, KeyKind::P256);
    let other = SigningKey::generate(KeyKind::P256);
    let err = verify(&bundle, &other.public(), d.path(), &[], false, None).unwrap_err();
    assert!(err.to_string().contains("wrong key"), "{err}");

    // A signature over another payload.
    let mut edited = bundle.clone();
    edited.dsse_envelope.payload = String::from_utf8(edited.dsse_envelope.payload)
        .unwrap()
        .replace("config.json", "config.jsoN")
        .into_bytes();
    let err = verify(&edited, &key.public(), d.path(), &[], false, None).unwrap_err();
    assert!(
        matches!(err, Error::Attest(rampart_attest::Error::BadSignature(_))),
        "{err}"
    );

    // Payload type changed.
    let mut retyped = bundle.clone();
    retyped.dsse_envelope.payload_type = "application/json".into();
    assert!(verify(&retyped, &key.public(), d.path(), &[], false, None).is_err());

    // Truncated or edited JSON.
    let json = bundle.to_json();
    assert!(Bundle::from_json(&json[..json.len() / 2]).is_err());
    let text = String::from_utf8(json).unwrap();
    assert!(
        Bundle::from_json(text.replace("\"dsseEnvelope\"", "\"envelope\"").as_bytes()).is_err()
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_refused_and_escapes_always() {
    let d = tempfile::tempdir().unwrap();
    model(d.path());
    std::os::unix::fs::symlink("config.json", d.path().join("link.json")).unwrap();
    assert!(matches!(
        digest(d.path(), &Options::default()),
        Err(Error::Symlink(_))
    ));
    let allowed = Options {
        allow_symlinks: true,
        ..Options::default()
    };
    assert!(digest(d.path(), &allowed).is_ok());
    std::os::unix::fs::symlink("/etc/hostname", d.path().join("out")).unwrap();
    assert!(matches!(digest(d.path(), &allowed), Err(Error::Escapes(_))));
}

#[test]
fn a_single_file_is_named_dot() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("model.onnx");
    fs::write(&f, b"hello").unwrap();
    let m = digest(&f, &Options::default()).unwrap();
    assert_eq!(m.model_name, "model.onnx");
    assert_eq!(m.resources.len(), 1);
    assert_eq!(m.resources[0].name, ".");
    assert_eq!(
        m.resources[0].digest,
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
}

#[test]
fn the_cache_reuses_digests_and_misses_on_any_change() {
    let d = tempfile::tempdir().unwrap();
    model(d.path());
    let cache_file = d.path().join("../cache-test.json");
    let cache = rampart_sign::Cache::open(cache_file.clone());
    let first = rampart_sign::digest_cached(d.path(), &Options::default(), Some(&cache)).unwrap();
    cache.save().unwrap();
    // A stale entry would be served if the key ignored the content: the
    // file is rewritten with the same size and its old mtime.
    let f = d.path().join("config.json");
    let mtime = fs::metadata(&f).unwrap().modified().unwrap();
    fs::write(&f, b"{\"a\": 9}").unwrap();
    fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let reopened = rampart_sign::Cache::open(cache_file.clone());
    let second =
        rampart_sign::digest_cached(d.path(), &Options::default(), Some(&reopened)).unwrap();
    let changed: Vec<_> = first
        .resources
        .iter()
        .zip(&second.resources)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.name.clone())
        .collect();
    assert_eq!(changed, vec!["config.json"]);
    assert_eq!(
        second,
        rampart_sign::digest(d.path(), &Options::default()).unwrap()
    );
    let _ = fs::remove_file(cache_file);
}

#[test]
fn a_file_written_during_hashing_is_not_signed() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("growing.bin");
    fs::write(&f, vec![0u8; 64 << 20]).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (f, stop) = (f.clone(), stop.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut h = fs::OpenOptions::new().append(true).open(&f).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                h.write_all(b"x").unwrap();
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(5));
    let r = digest(d.path(), &Options::default());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(matches!(r, Err(Error::Changed(_))), "{r:?}");
}
