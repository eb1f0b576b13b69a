//! Registry latencies, in process (bench/registry.sh runs it):
//!
//!   registry_bench STORE PROMOTIONS VERSIONS
//!
//! STORE is `sqlite` (a file in a temporary project) or a PostgreSQL URL.
//! Prints one JSON line: promote and rollback latencies (each a locked
//! transaction, a ledger append with its signature, the store's commit),
//! an in-memory alias lookup, and listing VERSIONS versions of one model.

use rampart_evidence::Project;
use rampart_registry::{Expect, Register, Registry, VersionRef};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn millis(d: &mut [Duration], q: f64) -> f64 {
    d.sort();
    let i = ((d.len() as f64 - 1.0) * q).round() as usize;
    d.get(i).map_or(0.0, |x| x.as_secs_f64() * 1e3)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let store = arg(1, "sqlite");
    let promotions: usize = arg(2, "200").parse()?;
    let listed: usize = arg(3, "10000").parse()?;
    let dir = tempfile::tempdir()?;
    let project = Project::at(dir.path().join(".rampart"));
    project.init("bench/registry")?;
    let policy_path = dir.path().join("rampart.toml");
    std::fs::write(
        &policy_path,
        "[registry.alias.bench]\n[registry.alias.cmp]\n",
    )?;
    let policy = rampart_core::Policy::load(&policy_path)?;
    let url = match store.as_str() {
        "sqlite" => dir.path().join("registry.db").display().to_string(),
        other => other.to_string(),
    };
    let mut r = Registry::open(project, &url, policy)?;
    let model: rampart_registry::Name = "bench".parse()?;
    let register = |i: usize, r: &mut Registry| -> Result<u64> {
        let path = dir.path().join(format!("m{i}.bin"));
        std::fs::write(&path, format!("weights {i}"))?;
        let reg = Register {
            model: Some(model.clone()),
            path,
            ..Default::default()
        };
        Ok(r.register(&reg)?.version.version)
    };
    register(0, &mut r)?;
    register(1, &mut r)?;
    let alias: rampart_registry::Name = "bench".parse()?;
    let v = |n: u64| VersionRef {
        model: model.clone(),
        version: n,
    };
    r.promote(&v(1), &alias, Expect::AsRead)?;
    r.promote(&v(2), &alias, Expect::AsRead)?;
    let (mut promote, mut rollback) = (Vec::new(), Vec::new());
    for i in 0..promotions {
        let t = Instant::now();
        if i % 2 == 0 {
            r.rollback(&model, &alias, None, "bench")?;
            rollback.push(t.elapsed());
        } else {
            r.promote(&v(2), &alias, Expect::AsRead)?;
            promote.push(t.elapsed());
        }
    }
    let cache = r.alias_cache()?;
    let lookups = 1_000_000u32;
    let t = Instant::now();
    let mut found = 0usize;
    for _ in 0..lookups {
        found += usize::from(cache.get("bench", "bench").is_some());
    }
    let lookup_ns = t.elapsed().as_nanos() as f64 / f64::from(lookups);
    let t = Instant::now();
    for i in 2..listed {
        register(i, &mut r)?;
    }
    let register_ms = t.elapsed().as_secs_f64() * 1e3 / listed.saturating_sub(2).max(1) as f64;
    // MLflow's comparison: a new version registered and an alias moved to
    // it, per iteration (bench/registry_mlflow.py does the same).
    let cmp: rampart_registry::Name = "cmp".parse()?;
    let mut both = Vec::new();
    for i in 0..promotions {
        let path = dir.path().join(format!("c{i}.bin"));
        std::fs::write(&path, format!("cmp {i}"))?;
        let t = Instant::now();
        let reg = Register {
            model: Some(model.clone()),
            path,
            ..Default::default()
        };
        let n = r.register(&reg)?.version.version;
        r.promote(&v(n), &cmp, Expect::AsRead)?;
        both.push(t.elapsed());
    }
    let t = Instant::now();
    let all = r.list(Some(&model))?;
    let list_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "{}",
        serde_json::json!({
            "store": store.split('?').next().unwrap_or(""),
            "promotions": promotions,
            "promote_ms_p50": millis(&mut promote, 0.5),
            "promote_ms_p99": millis(&mut promote, 0.99),
            "rollback_ms_p50": millis(&mut rollback, 0.5),
            "rollback_ms_p99": millis(&mut rollback, 0.99),
            "alias_lookup_ns": lookup_ns,
            "lookups_found": found,
            "register_small_file_ms_mean": register_ms,
            "versions_listed": all.len(),
            "list_ms": list_ms,
            "register_and_promote_ms_p50": millis(&mut both, 0.5),
        })
    );
    Ok(())
}
