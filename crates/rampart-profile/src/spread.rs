//! A table's values spread over cores by column. The reader (the caller's
//! thread) copies cells into batches; each worker owns every W-th column
//! and feeds that column's values, in order, to its own accumulator. A
//! column's accumulator therefore sees exactly what a single thread would
//! have shown it, and the results do not depend on the number of workers.

use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Cells per batch: big enough that sending costs nothing per cell,
/// small enough that a batch is a few MB at most.
const BATCH_CELLS: usize = 32 * 1024;
/// Batches in flight per worker before the reader waits.
const IN_FLIGHT: usize = 4;

/// Whatever accumulates one column's values.
pub trait ColumnSink: Send + 'static {
    fn observe(&mut self, value: &str);
}

#[derive(Default)]
struct Batch {
    columns: Vec<u32>,
    ends: Vec<usize>,
    text: String,
}

type Maker<S> = Arc<dyn Fn() -> S + Send + Sync>;

/// Spreads values over `workers` threads; [`Spread::finish`] returns the
/// accumulators in the order their columns first appeared.
pub struct Spread<S: ColumnSink> {
    names: Vec<String>,
    next: usize,
    max_columns: usize,
    batch: Batch,
    senders: Vec<SyncSender<Arc<Batch>>>,
    workers: Vec<JoinHandle<Vec<(usize, S)>>>,
    /// Values of columns past `max_columns`, not kept.
    pub dropped_values: u64,
}

impl<S: ColumnSink> Spread<S> {
    /// `make` builds a column's accumulator (its name is given back by
    /// [`Spread::finish`]).
    pub fn new(
        workers: usize,
        max_columns: usize,
        make: impl Fn() -> S + Send + Sync + 'static,
    ) -> Spread<S> {
        let workers = workers.max(1);
        let make: Maker<S> = Arc::new(make);
        let mut senders = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = sync_channel::<Arc<Batch>>(IN_FLIGHT);
            let make = Arc::clone(&make);
            senders.push(tx);
            handles.push(std::thread::spawn(move || {
                // Columns w, w + W, w + 2W, ...: slot c / W.
                let mut sinks: Vec<Option<(usize, S)>> = Vec::new();
                while let Ok(batch) = rx.recv() {
                    let mut start = 0;
                    for (&c, &end) in batch.columns.iter().zip(&batch.ends) {
                        let value = batch.text.get(start..end).unwrap_or("");
                        start = end;
                        let c = c as usize;
                        if c % workers != w {
                            continue;
                        }
                        let slot = c / workers;
                        if sinks.len() <= slot {
                            sinks.resize_with(slot + 1, || None);
                        }
                        if let Some(entry) = sinks.get_mut(slot) {
                            let (_, sink) = entry.get_or_insert_with(|| (c, make()));
                            sink.observe(value);
                        }
                    }
                }
                sinks.into_iter().flatten().collect()
            }));
        }
        Spread {
            names: Vec::new(),
            next: 0,
            max_columns,
            batch: Batch::default(),
            senders,
            workers: handles,
            dropped_values: 0,
        }
    }

    pub fn observe(&mut self, column: &str, value: &str) {
        let index = match crate::find_column(&self.names, |n| n.as_str(), column, &mut self.next) {
            Some(i) => i,
            None if self.names.len() < self.max_columns => {
                self.names.push(column.to_string());
                self.next = self.names.len();
                self.names.len() - 1
            }
            None => {
                self.dropped_values += 1;
                return;
            }
        };
        self.batch.columns.push(index as u32);
        self.batch.text.push_str(value);
        self.batch.ends.push(self.batch.text.len());
        if self.batch.columns.len() >= BATCH_CELLS {
            self.send();
        }
    }

    fn send(&mut self) {
        let batch = Arc::new(std::mem::take(&mut self.batch));
        for tx in &self.senders {
            // A worker that is gone has panicked; finish() reports it.
            let _ = tx.send(Arc::clone(&batch));
        }
    }

    /// Every column's name and accumulator, in first-seen order; None if
    /// a worker panicked.
    pub fn finish(mut self) -> Option<(Vec<(String, S)>, u64)> {
        if !self.batch.columns.is_empty() {
            self.send();
        }
        self.senders.clear();
        let mut all: Vec<(usize, S)> = Vec::new();
        for h in std::mem::take(&mut self.workers) {
            all.extend(h.join().ok()?);
        }
        all.sort_by_key(|(c, _)| *c);
        let names = std::mem::take(&mut self.names);
        let out = all
            .into_iter()
            .filter_map(|(c, s)| Some((names.get(c)?.clone(), s)))
            .collect();
        Some((out, self.dropped_values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, Profile};

    /// A profile built on three workers equals the one built on the
    /// caller's thread, value for value.
    #[test]
    fn spread_profile_equals_the_sequential_one() {
        let mut one = Profile::default();
        let mut spread = Spread::new(3, 4, || Column::new(""));
        for i in 0..20_000u32 {
            let row = [
                ("id", i.to_string()),
                ("x", format!("{}", f64::from(i % 977) * 0.37)),
                (
                    "city",
                    ["Paris", "Lyon", "", "Nice"][(i % 4) as usize].to_string(),
                ),
                ("flag", (i % 3 == 0).to_string()),
                (
                    "extra",
                    "dropped: a fifth column over the limit of 4".to_string(),
                ),
            ];
            one.rows += 1;
            for (c, v) in &row {
                if *c != "extra" {
                    one.observe(c, v);
                }
                spread.observe(c, v);
            }
        }
        let (columns, dropped) = spread.finish().unwrap();
        assert_eq!(dropped, 20_000);
        let mut many = Profile::from_columns(20_000, columns, dropped);
        let (a, b) = (one.to_json(), many.to_json());
        assert_eq!(a["summary"], b["summary"]);
        assert_eq!(a["sketches"], b["sketches"]);
    }
}
