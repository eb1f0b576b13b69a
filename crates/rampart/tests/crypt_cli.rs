//! `rampart encrypt`, `decrypt` and `age-keygen`: age files that other
//! age tools read, and nothing written unless whole and authenticated.

#![cfg(test)]

use std::path::Path;
use std::process::{Command, Output};

fn run_in(dir: &Path, args: &[&str]) -> Output {
    run_env(dir, args, &[])
}

fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A small table with personal data, encrypted and decrypted back.
const PEOPLE: &str = "id,name,email,dob,card,notes\n\
1,Mary Johnson,mary@example.com,1985-03-12,4111 1111 1111 1111,call 020 7946 0958\n\
2,Rahul Sharma,rahul@example.in,12/03/1990,5555555555554444,SSN 078-05-1120\n";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn partial_files(dir: &Path) -> usize {
    partials(dir).len()
}

fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

/// An age identity in `dir`; returns its recipient.
fn age_identity(dir: &Path) -> String {
    let o = run_in(dir, &["age-keygen", "id.txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Starts `decrypt` of a large file and stops it with `signal` once its
/// partial file exists; returns the folder's partial files afterwards.
#[cfg(unix)]
fn interrupted_decrypt(p: &Path, signal: &str, out: &str) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["decrypt", "big.age", "-o", out, "-i", "id.txt"])
        .current_dir(p)
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while partials(p).is_empty() && start.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(!partials(p).is_empty(), "decrypt wrote no partial file");
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([signal, pid.as_str()])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(!p.join(out).exists());
    partials(p)
}

#[cfg(unix)]
#[test]
fn an_interrupted_decrypt_leaves_no_plaintext() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let recipient = age_identity(p);
    // 256 MiB: long enough to decrypt that the signal lands mid-way.
    let f = std::fs::File::create(p.join("big.bin")).unwrap();
    f.set_len(256 << 20).unwrap();
    let o = run_in(
        p,
        &["encrypt", "big.bin", "-o", "big.age", "-r", &recipient],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_file(p.join("big.bin")).unwrap();
    // SIGTERM and SIGINT: the handler removes the partial file.
    assert_eq!(
        interrupted_decrypt(p, "-TERM", "a.bin"),
        Vec::<String>::new()
    );
    assert_eq!(
        interrupted_decrypt(p, "-INT", "b.bin"),
        Vec::<String>::new()
    );
    // SIGKILL leaves one, owner-only, which the next run removes.
    let left = interrupted_decrypt(p, "-KILL", "c.bin");
    assert_eq!(left.len(), 1, "{left:?}");
    let mode = std::fs::metadata(p.join(&left[0]))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "a partial plaintext only its owner reads");
    std::fs::write(p.join("small.txt"), "hello").unwrap();
    let o = run_in(
        p,
        &["encrypt", "small.txt", "-o", "s.age", "-r", &recipient],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        partials(p),
        Vec::<String>::new(),
        "the stale file was removed"
    );
}

#[test]
fn an_encrypted_tar_file_comes_back_as_a_file_and_a_folder_as_a_folder() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let recipient = age_identity(p);
    std::fs::create_dir_all(p.join("data/sub")).unwrap();
    std::fs::write(p.join("data/sub/a.txt"), "a").unwrap();
    // A folder, then the tar that `age -d` gives of it, as a file.
    assert!(
        run_in(p, &["encrypt", "data", "-o", "d.age", "-r", &recipient])
            .status
            .success()
    );
    assert!(
        run_in(p, &["decrypt", "d.age", "-o", "back", "-i", "id.txt"])
            .status
            .success()
    );
    assert_eq!(
        std::fs::read_to_string(p.join("back/sub/a.txt")).unwrap(),
        "a"
    );
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_dir_all("data", p.join("data")).unwrap();
    std::fs::write(p.join("data.tar"), tar.into_inner().unwrap()).unwrap();
    assert!(
        run_in(p, &["encrypt", "data.tar", "-o", "t.age", "-r", &recipient])
            .status
            .success()
    );
    let o = run_in(p, &["decrypt", "t.age", "-o", "t.tar", "-i", "id.txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(p.join("t.tar").is_file(), "before: a folder");
    assert_eq!(
        std::fs::read(p.join("t.tar")).unwrap(),
        std::fs::read(p.join("data.tar")).unwrap()
    );
}

#[test]
fn decrypt_says_whether_a_passphrase_or_a_key_is_needed() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("a.csv"), "x\n1\n").unwrap();
    std::fs::write(p.join("pw"), "secret\n").unwrap();
    let o = run_in(p, &["age-keygen", "id.txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let public = stderr(&o)
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .unwrap()
        .to_string();
    let by_passphrase = ["encrypt", "a.csv", "-o", "x.age", "--passphrase-file", "pw"];
    assert!(run_in(p, &by_passphrase).status.success());
    let by_key = ["encrypt", "a.csv", "-o", "y.age", "--recipient", &public];
    assert!(run_in(p, &by_key).status.success());
    // Before, both said "encrypted to other recipients".
    let o = run_in(p, &["decrypt", "x.age", "-o", "x.out", "-i", "id.txt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("encrypted with a passphrase"),
        "{}",
        stderr(&o)
    );
    let o = run_in(
        p,
        &["decrypt", "y.age", "-o", "y.out", "--passphrase-file", "pw"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("give --identity FILE"),
        "{}",
        stderr(&o)
    );
    let o = run_in(p, &["decrypt", "y.age", "-o", "y.out", "-i", "id.txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn encrypt_and_decrypt_files_and_folders_with_nothing_left_on_failure() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::create_dir_all(p.join("data/sub")).unwrap();
    std::fs::write(p.join("data/a.csv"), PEOPLE).unwrap();
    std::fs::write(p.join("data/sub/b.bin"), [0u8, 1, 2, 255]).unwrap();
    let o = run_env(p, &["age-keygen", "id.txt"], &[]);
    let recipient = stdout(&o).trim().to_string();
    assert!(recipient.starts_with("age1"), "{recipient}");
    assert!(run_env(
        p,
        &["encrypt", "data/a.csv", "-o", "a.age", "-r", &recipient],
        &[]
    )
    .status
    .success());
    assert!(!std::fs::read(p.join("a.age"))
        .unwrap()
        .windows(4)
        .any(|w| w == b"Mary"));
    assert!(
        run_env(p, &["decrypt", "a.age", "-o", "a.csv", "-i", "id.txt"], &[])
            .status
            .success()
    );
    assert_eq!(std::fs::read_to_string(p.join("a.csv")).unwrap(), PEOPLE);
    assert!(run_env(
        p,
        &["encrypt", "data", "-o", "d.age", "-r", &recipient],
        &[]
    )
    .status
    .success());
    assert!(
        run_env(p, &["decrypt", "d.age", "-o", "back", "-i", "id.txt"], &[])
            .status
            .success()
    );
    assert_eq!(
        std::fs::read(p.join("back/sub/b.bin")).unwrap(),
        [0u8, 1, 2, 255]
    );
    // Another identity, a corrupted file: exit 2, no plaintext.
    run_env(p, &["age-keygen", "other.txt"], &[]);
    let o = run_env(
        p,
        &["decrypt", "a.age", "-o", "x.csv", "-i", "other.txt"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("none of the identities"));
    let mut bytes = std::fs::read(p.join("a.age")).unwrap();
    let last = bytes.len() - 5;
    bytes[last] ^= 1;
    std::fs::write(p.join("bad.age"), &bytes).unwrap();
    let o = run_env(
        p,
        &["decrypt", "bad.age", "-o", "y.csv", "-i", "id.txt"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!p.join("y.csv").exists() && !p.join("x.csv").exists());
    // A passphrase instead of recipients.
    let env = [("PW", "correct horse")];
    assert!(run_env(
        p,
        &[
            "encrypt",
            "data/a.csv",
            "-o",
            "pw.age",
            "--passphrase-env",
            "PW"
        ],
        &env
    )
    .status
    .success());
    let o = run_env(
        p,
        &[
            "decrypt",
            "pw.age",
            "-o",
            "pw.csv",
            "--passphrase-env",
            "PW",
        ],
        &[("PW", "wrong")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(run_env(
        p,
        &[
            "decrypt",
            "pw.age",
            "-o",
            "pw.csv",
            "--passphrase-env",
            "PW"
        ],
        &env
    )
    .status
    .success());
    let leftovers = partial_files(p);
    assert_eq!(leftovers, 0);
}
