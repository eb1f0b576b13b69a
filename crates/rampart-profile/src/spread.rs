//! A table's values spread over cores by column. The reader (the caller's
//! thread) copies cells into batches; each worker owns every W-th column
//! and feeds that column's values, in order, to its own accumulator. A
//! column's accumulator therefore sees exactly what a single thread would
//! have shown it, and the results do not depend on the number of workers.
//!
//! A columnar reader (Parquet) hands over a numeric column's batch as
//! numbers ([`Spread::observe_numbers`]): no text is made of them.

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
    /// `count` rows holding the same text (a columnar reader's batch of a
    /// string column, counted by value).
    fn observe_counted(&mut self, value: &str, count: u64);
    /// A batch of numbers of one kind and a count of nulls, from a
    /// columnar reader (no numbers: the nulls of a column of another
    /// kind).
    fn observe_numbers(&mut self, kind: crate::Kind, values: &[f64], nulls: u64);
    /// Called once after the last value.
    fn finish(&mut self);
}

/// One column's numbers from one batch of a columnar reader.
struct Numbers {
    column: u32,
    kind: crate::Kind,
    values: Vec<f64>,
    nulls: u64,
}

#[derive(Default)]
struct Batch {
    columns: Vec<u32>,
    ends: Vec<usize>,
    /// Rows holding each text (1 for a cell of a row-wise format).
    counts: Vec<u64>,
    text: String,
    numbers: Vec<Numbers>,
    /// Values in `numbers`.
    number_count: usize,
}

impl Batch {
    fn len(&self) -> usize {
        self.columns.len() + self.number_count
    }
}

type Maker<S> = Arc<dyn Fn() -> S + Send + Sync>;

/// Column `c`'s accumulator among a worker's (slot c / W), made on first
/// use.
fn sink<'a, S>(
    sinks: &'a mut Vec<Option<(usize, S)>>,
    c: usize,
    workers: usize,
    make: &dyn Fn() -> S,
) -> Option<&'a mut S> {
    let slot = c / workers;
    if sinks.len() <= slot {
        sinks.resize_with(slot + 1, || None);
    }
    Some(&mut sinks.get_mut(slot)?.get_or_insert_with(|| (c, make())).1)
}

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
                let owned = |c: u32| (c as usize % workers == w).then_some(c as usize);
                while let Ok(batch) = rx.recv() {
                    let mut start = 0;
                    let cells = batch.columns.iter().zip(&batch.ends).zip(&batch.counts);
                    for ((&c, &end), &count) in cells {
                        let value = batch.text.get(start..end).unwrap_or("");
                        start = end;
                        if let Some(s) = owned(c).and_then(|c| sink(&mut sinks, c, workers, &*make))
                        {
                            match count {
                                1 => s.observe(value),
                                n => s.observe_counted(value, n),
                            }
                        }
                    }
                    for n in &batch.numbers {
                        let s = owned(n.column).and_then(|c| sink(&mut sinks, c, workers, &*make));
                        if let Some(s) = s {
                            s.observe_numbers(n.kind, &n.values, n.nulls);
                        }
                    }
                }
                let mut done: Vec<(usize, S)> = sinks.into_iter().flatten().collect();
                done.iter_mut().for_each(|(_, s)| s.finish());
                done
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

    /// The index of `column`, None when it is past the limit.
    fn index(&mut self, column: &str) -> Option<u32> {
        match crate::find_column(&self.names, |n| n.as_str(), column, &mut self.next) {
            Some(i) => Some(i as u32),
            None if self.names.len() < self.max_columns => {
                self.names.push(column.to_string());
                self.next = self.names.len();
                Some(self.names.len() as u32 - 1)
            }
            None => None,
        }
    }

    pub fn observe(&mut self, column: &str, value: &str) {
        self.observe_counted(column, value, 1);
    }

    /// `count` rows of `column` holding `value`.
    pub fn observe_counted(&mut self, column: &str, value: &str, count: u64) {
        let Some(index) = self.index(column) else {
            self.dropped_values = self.dropped_values.saturating_add(count);
            return;
        };
        self.batch.columns.push(index);
        self.batch.text.push_str(value);
        self.batch.ends.push(self.batch.text.len());
        self.batch.counts.push(count);
        if self.batch.len() >= BATCH_CELLS {
            self.send();
        }
    }

    /// A numeric column's values from one batch of a columnar reader:
    /// `values` of `kind`, and `nulls` nulls.
    pub fn observe_numbers(&mut self, column: &str, kind: crate::Kind, values: &[f64], nulls: u64) {
        let Some(index) = self.index(column) else {
            self.dropped_values += values.len() as u64 + nulls;
            return;
        };
        self.batch.number_count += values.len() + 1;
        self.batch.numbers.push(Numbers {
            column: index,
            kind,
            values: values.to_vec(),
            nulls,
        });
        if self.batch.len() >= BATCH_CELLS {
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
        if self.batch.len() > 0 {
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
    use crate::{Column, Kind, Profile};

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

    /// Numbers handed over in batches reach their column's accumulator
    /// in order, as if recorded on the caller's thread.
    #[test]
    fn spread_numbers_equal_the_sequential_ones() {
        let mut one = Column::new("y");
        let mut spread = Spread::new(2, 4, || Column::new(""));
        for b in 0..40u32 {
            let xs: Vec<f64> = (0..3000)
                .map(|i| f64::from((i * 7 + b) % 1013) / 4.0)
                .collect();
            one.record_numbers(Kind::Integer, &xs, u64::from(b % 3));
            spread.observe_numbers("y", Kind::Integer, &xs, u64::from(b % 3));
            spread.observe("label", "a");
        }
        let (mut columns, _) = spread.finish().unwrap();
        assert_eq!(columns.len(), 2);
        let (name, mut many) = columns.remove(0);
        assert_eq!(name, "y");
        many.name = "y".into();
        assert_eq!(one.summary(), many.summary());
    }
}
