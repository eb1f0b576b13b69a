//! The Parquet reader on arbitrary bytes (written to a file, as Parquet
//! needs one): read whole by a visitor that takes columns in batches,
//! read through a projection, and rewritten with every string replaced.
//! A panic that escapes rampart-table is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_table::{process, Cell, Numbers, Options, Texts, Visitor};

#[derive(Default)]
struct Take {
    values: usize,
}

impl Visitor for Take {
    fn cell(&mut self, c: &Cell) -> Option<String> {
        assert!(c.record >= 1);
        self.values += 1;
        None
    }
    fn takes_batches(&self) -> bool {
        true
    }
    fn numbers(&mut self, _column: &str, batch: &Numbers) {
        self.values += batch.values.len();
    }
    fn texts(&mut self, _column: &str, batch: &Texts) {
        for (value, count) in batch.values {
            assert!(*count >= 1 && value.len() < 1 << 31);
            self.values += *count as usize;
        }
    }
    fn nulls(&mut self, _column: &str, count: u64) {
        self.values += count as usize;
    }
}

struct Replace;

impl Visitor for Replace {
    fn cell(&mut self, c: &Cell) -> Option<String> {
        c.value.parse::<f64>().is_err().then(|| c.value.chars().rev().collect())
    }
}

/// libFuzzer's panic hook aborts on any panic. rampart-table catches the
/// panics of the parquet and arrow crates on malformed files and reports
/// an error, so those are let through to unwind; any other panic, and any
/// that escapes rampart-table, still aborts.
fn let_parquet_panics_unwind() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.location().is_some_and(|l| l.file().contains("/parquet-") || l.file().contains("/arrow-")) {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_parquet_panics_unwind();
    let path = std::env::temp_dir().join(format!("rampart-fuzz-{}.parquet", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(source) = rampart_table::detect(&path) {
        let _ = process(&source, &Options::default(), &mut Take::default(), None);
        if let Ok(Some(columns)) = rampart_table::parquet_columns(&source) {
            let options = Options {
                columns: Some((0..columns.len()).step_by(2).collect()),
                ..Options::default()
            };
            let _ = process(&source, &options, &mut Take::default(), None);
        }
        let mut out: Vec<u8> = Vec::new();
        let _ = process(&source, &Options::default(), &mut Replace, Some(&mut out));
    }
    let _ = std::fs::remove_file(&path);
});
