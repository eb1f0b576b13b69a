//! Ledger speed at 10^6 entries: batched and single appends, opening
//! (loading the tree), inclusion and consistency proofs, checkpoint
//! signing, and a full verification. Run by bench/ledger.sh:
//!
//!     cargo run --release -p rampart-ledger --example ledger_bench -- [ENTRIES]
//!
//! Entries are 200-byte JSON-like records, appended in batches of 1,000.

use rampart_ledger::checkpoint::NoteKey;
use rampart_ledger::{verify_consistency, verify_inclusion, Ledger};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("rampart-ledger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("ledger.db");
    let mut l = Ledger::init(&path, "bench.example/log")?;
    let key = NoteKey::new(
        "bench.example/log",
        ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
    )?;
    let record = |i: u64| {
        format!(
            "{{\"gate\":\"scan\",\"i\":{i:012},\"digest\":\"{:064x}\",\"pad\":\"{}\"}}",
            i,
            "x".repeat(80)
        )
        .into_bytes()
    };

    let batch = 1000u64;
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let recs: Vec<Vec<u8>> = (i..(i + batch).min(n)).map(record).collect();
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        l.append(&refs)?;
        i += batch;
    }
    let batched = t.elapsed().as_secs_f64();

    // Signed appends: each entry an in-toto statement in a DSSE envelope
    // signed with an Ed25519 attestation key (signatures on all cores), then
    // appended in batches of 1,000.
    let signed_n = 100_000u64;
    let akey = rampart_attest::SigningKey::generate(rampart_attest::KeyKind::Ed25519);
    // Signing runs on its own thread (all cores) one batch ahead of the
    // appends, as a batching attestation service would.
    let t = Instant::now();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(2);
    // 5,000 envelopes per durable transaction: one fsync (about 45 ms on
    // this disk) amortised over more entries.
    let signed_batch = 5000u64;
    let signer = std::thread::spawn(move || {
        use rayon::prelude::*;
        let mut j = 0;
        while j < signed_n {
            let envs: Vec<Vec<u8>> = (j..(j + signed_batch).min(signed_n))
                .into_par_iter()
                .map(|k| {
                    let env = rampart_attest::Envelope::sign(
                        rampart_attest::IN_TOTO_PAYLOAD_TYPE,
                        record(k),
                        &akey,
                    );
                    serde_json::to_vec(&env).unwrap_or_default()
                })
                .collect();
            if tx.send(envs).is_err() {
                break;
            }
            j += signed_batch;
        }
    });
    for envs in rx {
        let refs: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
        l.append(&refs)?;
    }
    signer.join().map_err(|_| "the signing thread failed")?;
    let signed = t.elapsed().as_secs_f64();

    let singles = 1000;
    let t = Instant::now();
    for j in 0..singles {
        l.append(&[record(n + signed_n + j).as_slice()])?;
    }
    let single = t.elapsed().as_secs_f64();
    let size = l.size();

    let t = Instant::now();
    let note = l.checkpoint(&key)?;
    let checkpoint = t.elapsed().as_secs_f64();
    drop(l);

    let t = Instant::now();
    let mut l = Ledger::open(&path)?;
    let open = t.elapsed().as_secs_f64();

    let root = l.tree().root();
    let probes = 10_000u64;
    let t = Instant::now();
    let mut total_hashes = 0;
    for k in 0..probes {
        let idx = (k * 7919 + 13) % size;
        let p = l.tree().inclusion_proof(idx, size)?;
        total_hashes += p.len();
        verify_inclusion(&l.tree().leaf(idx).ok_or("no leaf")?, idx, size, &p, &root)?;
    }
    let proof = t.elapsed().as_secs_f64() / probes as f64;
    let t = Instant::now();
    for k in 1..=1000u64 {
        let old = (k * 997) % size + 1;
        let p = l.tree().consistency_proof(old, size)?;
        verify_consistency(old, size, &p, &l.tree().root_at(old)?, &root)?;
    }
    let consistency = t.elapsed().as_secs_f64() / 1000.0;
    let t = Instant::now();
    let full = l.proof(size / 2)?;
    let tlog = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let audit = l.verify(&[key.verifier()])?;
    let verify = t.elapsed().as_secs_f64();
    assert!(audit.problems.is_empty());
    let db_size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    std::fs::remove_dir_all(&dir).ok();

    println!("| measurement | result |\n|---|---:|");
    println!("| batched appends ({n} entries of ~200 bytes, 1,000 per durable transaction) | {:.0} entries/s ({batched:.2} s) |", n as f64 / batched);
    println!(
        "| signed appends (100,000 DSSE envelopes of in-toto-sized payloads, Ed25519 signatures on all cores, signing one batch ahead, 5,000 per transaction) | {:.0} entries/s ({signed:.2} s) |",
        signed_n as f64 / signed
    );
    println!(
        "| single appends (one durable transaction each, 1,000 of them) | {:.0} entries/s |",
        singles as f64 / single
    );
    println!("| open (load the tree of {size} leaves) | {open:.3} s |");
    println!(
        "| sign a checkpoint at {size} entries | {:.2} ms |",
        checkpoint * 1e3
    );
    println!("| inclusion proof + verification at {size} (10,000 random, {:.1} hashes each) | {:.1} us |", total_hashes as f64 / probes as f64, proof * 1e6);
    println!(
        "| consistency proof + verification (1,000 random old sizes) | {:.1} us |",
        consistency * 1e6
    );
    println!(
        "| tlog-proof of one entry (proof + stored checkpoint) | {:.2} ms |",
        tlog * 1e3
    );
    println!("| full verification (every entry re-hashed, every checkpoint) | {verify:.2} s |");
    println!(
        "| database size | {:.0} MiB |",
        db_size as f64 / (1 << 20) as f64
    );
    let _ = (note, full);
    Ok(())
}
