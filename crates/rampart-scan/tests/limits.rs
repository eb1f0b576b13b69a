//! Hostile inputs end in a SCAN-INCOMPLETE (or malformed) finding, never a
//! crash, a hang or unbounded memory.

#![cfg(test)]

use rampart_core::{Finding, Severity};
use rampart_scan::pickle::globals::Classifier;
use rampart_scan::{ScanLimits, Scanner};
use std::io::Write;

fn rules(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule.as_str()).collect()
}

fn scanner(f: impl FnOnce(&mut ScanLimits)) -> Scanner {
    let mut l = ScanLimits::default();
    f(&mut l);
    Scanner::new(l, Classifier::default())
}

fn zip_of(members: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    // Minimal zip writer for tests: local headers, central directory, EOCD.
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in members {
        let body = if deflate {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        } else {
            data.to_vec()
        };
        let crc = crc32fast::hash(data);
        let off = out.len() as u32;
        let method: u16 = if deflate { 8 } else { 0 };
        let mut lh = Vec::new();
        lh.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00");
        lh.extend_from_slice(&method.to_le_bytes());
        lh.extend_from_slice(&[0; 4]);
        lh.extend_from_slice(&crc.to_le_bytes());
        lh.extend_from_slice(&(body.len() as u32).to_le_bytes());
        lh.extend_from_slice(&(data.len() as u32).to_le_bytes());
        lh.extend_from_slice(&(name.len() as u16).to_le_bytes());
        lh.extend_from_slice(&[0, 0]);
        lh.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&lh);
        out.extend_from_slice(&body);
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00");
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(body.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&off.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_off = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

const EVIL: &[u8] = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.";

#[test]
fn zip_bomb_hits_the_decompression_limit() {
    // A pickle holding 64 MiB of zero bytes deflates to ~64 KiB; the
    // scanner has to decompress it all to reach the STOP, past a 1 MiB limit.
    let mut p = b"\x80\x04\x8e".to_vec();
    p.extend_from_slice(&(64u64 << 20).to_le_bytes());
    p.resize(p.len() + (64 << 20), 0);
    p.push(b'.');
    let z = zip_of(&[("a.bin", &p), ("b.bin", &p)], true);
    assert!(z.len() < 200_000);
    let s = scanner(|l| l.max_decompressed = 1 << 20);
    let f = s.scan_bytes("bomb.zip", &z);
    assert!(rules(&f).contains(&"SCAN-INCOMPLETE"), "{f:#?}");
    assert!(!rules(&f).contains(&"PICKLE-MALFORMED"), "{f:#?}");
    // Within the default limit the same archive is clean.
    assert!(Scanner::default().scan_bytes("bomb.zip", &z).is_empty());
}

#[test]
fn payload_in_a_zip_is_found_at_default_limits() {
    let z = zip_of(&[("x/model.bin", EVIL)], true);
    let f = Scanner::default().scan_bytes("m.zip", &z);
    assert_eq!(rules(&f), vec!["PICKLE-EXEC"]);
    assert_eq!(f[0].location.members, vec!["x/model.bin".to_string()]);
}

#[test]
fn member_count_limit() {
    let members: Vec<(String, Vec<u8>)> =
        (0..20).map(|i| (format!("m{i}"), b"N.".to_vec())).collect();
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let z = zip_of(&refs, false);
    let f = scanner(|l| l.max_members = 5).scan_bytes("many.zip", &z);
    assert!(rules(&f).contains(&"SCAN-INCOMPLETE"), "{f:#?}");
}

#[test]
fn nesting_depth_limit() {
    let mut data = EVIL.to_vec();
    for _ in 0..4 {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&data).unwrap();
        data = e.finish().unwrap();
    }
    assert_eq!(
        rules(&Scanner::default().scan_bytes("d.gz", &data)),
        vec!["PICKLE-EXEC"]
    );
    let f = scanner(|l| l.max_depth = 2).scan_bytes("d.gz", &data);
    assert_eq!(rules(&f), vec!["SCAN-INCOMPLETE"]);
}

#[test]
fn memo_limit() {
    let mut p = b"\x80\x04]".to_vec();
    p.extend(std::iter::repeat_n(0x94, 100)); // MEMOIZE
    p.push(b'.');
    let f = scanner(|l| l.vm.max_memo = 10).scan_bytes("memo.pkl", &p);
    assert_eq!(rules(&f), vec!["SCAN-INCOMPLETE"]);
    assert!(Scanner::default().scan_bytes("memo.pkl", &p).is_empty());
}

#[test]
fn stack_and_mark_limits() {
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b'N', 1000));
    p.push(b'.');
    let f = scanner(|l| l.vm.max_stack = 100).scan_bytes("s.pkl", &p);
    assert_eq!(rules(&f), vec!["SCAN-INCOMPLETE"]);
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b'(', 1000));
    let f = scanner(|l| l.vm.max_marks = 100).scan_bytes("m.pkl", &p);
    assert_eq!(rules(&f), vec!["SCAN-INCOMPLETE"]);
}

#[test]
fn opcode_limit() {
    let mut p = b"\x80\x02N".to_vec();
    for _ in 0..10_000 {
        p.extend_from_slice(b"20");
    }
    p.push(b'.');
    let f = scanner(|l| l.vm.max_opcodes = 1000).scan_bytes("o.pkl", &p);
    assert_eq!(rules(&f), vec!["SCAN-INCOMPLETE"]);
}

#[test]
fn billion_laughs_memo_dup_stays_small_and_fast() {
    // Each round: list of the previous list twice, memoized. Exponential
    // for a real unpickler's repr, linear for us.
    let mut p = b"\x80\x04]\x94".to_vec();
    for i in 0u32..200 {
        p.extend_from_slice(b"j");
        p.extend_from_slice(&i.to_le_bytes());
        p.extend_from_slice(b"2\x86\x94");
    }
    p.push(b'.');
    let f = Scanner::default().scan_bytes("laughs.pkl", &p);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn self_referencing_list_is_fine() {
    // l = []; l.append(l)
    let f = Scanner::default().scan_bytes("cycle.pkl", b"\x80\x02]q\x00h\x00a.");
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn deep_tuple_nesting_does_not_overflow() {
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b'(', 90_000));
    p.extend(std::iter::repeat_n(b't', 90_000));
    p.push(b'.');
    let f = Scanner::default().scan_bytes("deep.pkl", &p);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    // BINBYTES8 claiming 2^60 bytes, then nothing.
    let mut p = b"\x80\x04\x8e".to_vec();
    p.extend_from_slice(&(1u64 << 60).to_le_bytes());
    let f = Scanner::default().scan_bytes("huge.pkl", &p);
    assert_eq!(rules(&f), vec!["PICKLE-MALFORMED"]);
}

#[test]
fn truncated_zip_is_corrupt_not_clean() {
    let z = zip_of(&[("m.pkl", EVIL)], true);
    let cut = &z[..z.len() - 30];
    let f = Scanner::default().scan_bytes("cut.zip", cut);
    assert!(f.iter().any(|f| f.severity >= Severity::High), "{f:#?}");
}

#[test]
fn policy_allow_and_deny_lists_change_verdicts() {
    let unknown = b"\x80\x04\x8c\x05mypkg\x8c\x03Net\x93)\x81.";
    assert_eq!(
        rules(&Scanner::default().scan_bytes("u.pkl", unknown)),
        vec!["PICKLE-UNKNOWN-GLOBAL"]
    );
    let allowed = Scanner::new(
        ScanLimits::default(),
        Classifier::new(&["mypkg.Net".into()], &[]),
    );
    assert!(allowed.scan_bytes("u.pkl", unknown).is_empty());
    let denied = Scanner::new(
        ScanLimits::default(),
        Classifier::new(&[], &["mypkg".into()]),
    );
    let f = denied.scan_bytes("u.pkl", unknown);
    assert_eq!(rules(&f), vec!["PICKLE-POLICY-DENIED"]);
    assert_eq!(f[0].severity, Severity::Critical);
}

#[test]
fn long_global_names_are_bounded_in_total() {
    // 200 distinct GLOBALs whose module names are 60 KiB each: 12 MB of
    // names, over the 4 MiB budget.
    let mut p = b"\x80\x02".to_vec();
    for i in 0..200 {
        p.push(b'c');
        p.extend(std::iter::repeat_n(b'a', 60 * 1024));
        p.extend_from_slice(format!("{i}\nname\n0").as_bytes());
    }
    p.push(b'.');
    let f = Scanner::default().scan_bytes("names.pkl", &p);
    assert!(rules(&f).contains(&"SCAN-INCOMPLETE"), "{:?}", rules(&f));
    // Messages stay short even when names are long.
    assert!(f.iter().all(|f| f.message.len() < 2_000));
}

#[test]
fn sparse_memo_entries_cost_more() {
    // LONG_BINPUT at far-apart indices lands in the sparse map.
    let mut p = b"\x80\x02N".to_vec();
    for i in 0u32..100 {
        p.push(b'r');
        p.extend_from_slice(&(0x4000_0000 + i * 7).to_le_bytes());
    }
    p.push(b'.');
    let f = scanner(|l| l.vm.max_memo = 200).scan_bytes("sparse.pkl", &p);
    assert_eq!(rules(&f), vec!["SCAN-INCOMPLETE"]);
    let f = scanner(|l| l.vm.max_memo = 400).scan_bytes("sparse.pkl", &p);
    assert!(f.is_empty(), "{f:#?}");
}

#[cfg(unix)]
#[test]
fn special_files_in_a_folder_are_listed_not_read() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("pipe");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        return; // no mkfifo on this system
    }
    std::fs::write(d.path().join("m.pkl"), EVIL).unwrap();
    let (report, errors) =
        Scanner::default().scan_paths(&[d.path().to_path_buf()], &rampart_core::NoProgress);
    assert!(errors.is_empty());
    let r: Vec<(&str, bool)> = report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.location.path.ends_with("pipe")))
        .collect();
    assert!(r.contains(&("SCAN-UNKNOWN-FORMAT", true)), "{r:?}");
    assert!(r.contains(&("PICKLE-EXEC", false)), "{r:?}");
}

/// A torch `data.pkl` whose one tensor loads the storage with key `0`.
const DATA_PKL: &[u8] = b"\x80\x02}X\x01\x00\x00\x00w(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQs.";

#[test]
fn torch_storage_members_no_persistent_id_names_are_read() {
    let floats = [0u8; 16];
    let named = zip_of(
        &[("archive/data.pkl", DATA_PKL), ("archive/data/0", &floats)],
        false,
    );
    let f = Scanner::default().scan_bytes("model.pt", &named);
    assert!(!rules(&f).contains(&"ZIP-ORPHAN-MEMBER"), "{f:#?}");
    // Before: `data/extra` was skipped as a tensor storage, unread.
    let orphan = zip_of(
        &[
            ("archive/data.pkl", DATA_PKL),
            ("archive/data/0", &floats),
            ("archive/data/extra", EVIL),
        ],
        false,
    );
    let f = Scanner::default().scan_bytes("model.pt", &orphan);
    let r = rules(&f);
    assert!(
        r.contains(&"ZIP-ORPHAN-MEMBER") && r.contains(&"PICKLE-EXEC"),
        "{f:#?}"
    );
    // Listed after data.pkl or before it, alike.
    let first = zip_of(
        &[("archive/data/0", &floats), ("archive/data.pkl", DATA_PKL)],
        false,
    );
    let f = Scanner::default().scan_bytes("model.pt", &first);
    assert!(!rules(&f).contains(&"ZIP-ORPHAN-MEMBER"), "{f:#?}");
    // A named storage whose bytes are a pickle is read as one too.
    let hidden = zip_of(
        &[("archive/data.pkl", DATA_PKL), ("archive/data/0", EVIL)],
        false,
    );
    let f = Scanner::default().scan_bytes("model.pt", &hidden);
    let r = rules(&f);
    assert!(
        r.contains(&"ZIP-ORPHAN-MEMBER") && r.contains(&"PICKLE-EXEC"),
        "{f:#?}"
    );
}

/// Sets a one-member stored zip's encryption flag, and its CRC when given,
/// in both the local and the central header.
fn flag_encrypted(mut z: Vec<u8>, crc: Option<u32>) -> Vec<u8> {
    let central = z.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    for (flags_at, crc_at) in [(6, 14), (central + 8, central + 16)] {
        z[flags_at] |= 1;
        if let Some(c) = crc {
            z[crc_at..crc_at + 4].copy_from_slice(&c.to_le_bytes());
        }
    }
    z
}

#[test]
fn an_encrypted_member_is_unreadable_not_a_crc_mismatch() {
    // PKWARE ciphertext: a 12-byte header and the encrypted bytes, whose
    // CRC in the headers is the plaintext's.
    let cipher: Vec<u8> = (0u8..27).map(|b| b.wrapping_mul(97) ^ 0x5a).collect();
    let plain_crc = crc32fast::hash(b"hello, world!\n");
    let z = flag_encrypted(zip_of(&[("test.txt", &cipher)], false), Some(plain_crc));
    let f = Scanner::default().scan_bytes("secret.zip", &z);
    assert!(rules(&f).contains(&"SCAN-INCOMPLETE"), "{f:#?}");
    assert!(!rules(&f).contains(&"ZIP-DIFFERENTIAL"), "{f:#?}");
    assert!(
        f.iter().any(|x| x.message.contains("encrypted member")),
        "{f:#?}"
    );
    // A plaintext pickle behind the flag and a false CRC is still read.
    let z = flag_encrypted(
        zip_of(&[("archive/data.pkl", EVIL)], false),
        Some(plain_crc),
    );
    let f = Scanner::default().scan_bytes("m.pt", &z);
    assert!(rules(&f).contains(&"PICKLE-EXEC"), "{f:#?}");
    // Behind the flag alone (its CRC true), a loader differential.
    let z = flag_encrypted(zip_of(&[("archive/data.pkl", EVIL)], false), None);
    let f = Scanner::default().scan_bytes("m.pt", &z);
    assert!(rules(&f).contains(&"ZIP-DIFFERENTIAL"), "{f:#?}");
    assert!(!rules(&f).contains(&"SCAN-INCOMPLETE"), "{f:#?}");
}

#[test]
fn an_encrypted_deflated_member_is_unreadable_not_corrupt() {
    let z = zip_of(&[("inner.pkl", EVIL)], true);
    // Encrypt it in the test's way: flag it, and replace its compressed
    // bytes with bytes that are no deflate stream.
    let mut z = flag_encrypted(z, None);
    let body = 30 + "inner.pkl".len();
    let size = u32::from_le_bytes(z[18..22].try_into().unwrap()) as usize;
    for (i, b) in z[body..body + size].iter_mut().enumerate() {
        *b = 0xff ^ (i as u8).wrapping_mul(31);
    }
    let f = Scanner::default().scan_bytes("secret.zip", &z);
    assert_eq!(rules(&f), vec!["SCAN-INCOMPLETE"], "{f:#?}");
    // Flagged but inflating: plaintext behind a false flag, read.
    let z = flag_encrypted(zip_of(&[("inner.pkl", EVIL)], true), None);
    let f = Scanner::default().scan_bytes("m.zip", &z);
    assert!(rules(&f).contains(&"PICKLE-EXEC"), "{f:#?}");
}

/// A deflated member is read as a stream; its name still says what it is:
/// TorchScript code under any archive root (torch.jit.save names the root
/// after the file), a YAML config.
#[test]
fn deflated_members_are_told_by_name_too() {
    let code: &[u8] = b"def forward(self):\n    import os\n    os.system('id')\n";
    let yaml: &[u8] = b"a: !!python/object/apply:os.system [id]\n";
    for deflate in [false, true] {
        let z = zip_of(
            &[
                ("mymodel/code/__torch__/m.py", code),
                ("mymodel/extra/c.yaml", yaml),
            ],
            deflate,
        );
        let found = Scanner::default().scan_bytes("mymodel.pt", &z);
        let r = rules(&found);
        assert!(r.contains(&"TORCHSCRIPT-CALL"), "deflate {deflate}: {r:?}");
        assert!(r.contains(&"YAML-PYTHON-TAG"), "deflate {deflate}: {r:?}");
    }
}
