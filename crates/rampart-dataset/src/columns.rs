//! The column scheduler: every column of a dataset summarised by one
//! accumulator, on all cores.

use crate::{detect, Error, Reading};
use rampart_profile::spread::{ColumnSink, Spread};
use rampart_table::{Cell, Visitor};
use std::path::Path;

/// Hands every value to a [`Spread`] of column accumulators: the file is
/// read on this thread, its columns are summarised on all cores.
struct SpreadVisitor<S: ColumnSink>(Spread<S>);

impl<S: ColumnSink> Visitor for SpreadVisitor<S> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        let column = if cell.column.is_empty() {
            "text"
        } else {
            cell.column
        };
        self.0.observe(column, cell.value);
        None
    }

    fn takes_batches(&self) -> bool {
        true
    }

    fn numbers(&mut self, column: &str, batch: &rampart_table::Numbers) {
        let kind = number_kind(batch);
        self.0
            .observe_numbers(column, kind, batch.values, batch.nulls);
    }

    fn texts(&mut self, column: &str, batch: &rampart_table::Texts) {
        for &(value, count) in batch.values {
            self.0.observe_counted(column, value, count);
        }
        self.nulls(column, batch.nulls);
    }

    fn nulls(&mut self, column: &str, count: u64) {
        let kind = rampart_profile::Kind::String;
        self.0.observe_numbers(column, kind, &[], count);
    }
}

/// Summarises the columns of one part of a Parquet file (the columns a
/// [`rampart_table::Options::columns`] projection reads) on the caller's
/// thread.
struct ColumnsVisitor<S> {
    sinks: Vec<(String, S)>,
    make: std::sync::Arc<dyn Fn() -> S + Send + Sync>,
}

impl<S: ColumnSink> ColumnsVisitor<S> {
    fn sink(&mut self, column: &str) -> Option<&mut S> {
        // A batch shows one column after another, many values each: the
        // last column is almost always the one.
        let i = match self.sinks.iter().rposition(|(n, _)| n == column) {
            Some(i) => i,
            None => {
                self.sinks.push((column.to_string(), (self.make)()));
                self.sinks.len() - 1
            }
        };
        self.sinks.get_mut(i).map(|(_, s)| s)
    }
}

impl<S: ColumnSink> Visitor for ColumnsVisitor<S> {
    fn cell(&mut self, cell: &Cell) -> Option<String> {
        if let Some(s) = self.sink(cell.column) {
            s.observe(cell.value);
        }
        None
    }

    fn takes_batches(&self) -> bool {
        true
    }

    fn numbers(&mut self, column: &str, batch: &rampart_table::Numbers) {
        let kind = number_kind(batch);
        if let Some(s) = self.sink(column) {
            s.observe_numbers(kind, batch.values, batch.nulls);
        }
    }

    fn texts(&mut self, column: &str, batch: &rampart_table::Texts) {
        if let Some(s) = self.sink(column) {
            for &(value, count) in batch.values {
                s.observe_counted(value, count);
            }
            s.observe_numbers(rampart_profile::Kind::String, &[], batch.nulls);
        }
    }

    fn nulls(&mut self, column: &str, count: u64) {
        if let Some(s) = self.sink(column) {
            s.observe_numbers(rampart_profile::Kind::String, &[], count);
        }
    }
}

fn number_kind(batch: &rampart_table::Numbers) -> rampart_profile::Kind {
    if batch.integer {
        rampart_profile::Kind::Integer
    } else {
        rampart_profile::Kind::Float
    }
}

/// A dataset's columns, each summarised by one accumulator.
pub struct Summarised<S> {
    /// In file order.
    pub columns: Vec<(String, S)>,
    /// Values of columns past [`rampart_profile::MAX_COLUMNS`], dropped.
    pub dropped: u64,
    pub summary: rampart_table::Summary,
}

/// One thread's columns of a Parquet file.
type Part<S> = Result<(Vec<(String, S)>, rampart_table::Summary), Error>;

fn thread_failed(path: &Path) -> Error {
    Error::invalid(format!("{}: a reading thread failed", path.display()))
}

/// Every column of a dataset summarised by one accumulator each (made by
/// `make`), on `workers` threads.
///
/// A Parquet file is read column by column: each thread reads the next
/// column not yet taken itself, so nothing is handed between threads.
/// Other formats are read row by row on this thread and their cells
/// spread over the workers by column.
pub fn summarise<S: ColumnSink>(
    path: &Path,
    reading: &Reading,
    workers: usize,
    make: impl Fn() -> S + Send + Sync + 'static,
) -> Result<Summarised<S>, Error> {
    let source = detect(path)?;
    let columns = rampart_table::parquet_columns(&source)?;
    let Some(names) = columns.filter(|c| workers > 1 && c.len() > 1) else {
        let mut v = SpreadVisitor(Spread::new(workers, rampart_profile::MAX_COLUMNS, make));
        let summary = rampart_table::process(&source, &reading.options(None), &mut v, None)?;
        let (columns, dropped) = v.0.finish().ok_or_else(|| thread_failed(path))?;
        return Ok(Summarised {
            columns,
            dropped,
            summary,
        });
    };
    let kept = names.len().min(rampart_profile::MAX_COLUMNS);
    // The costliest columns first, each to the next thread free: the
    // last to finish is then a small one, and no thread waits long.
    let mut queue: Vec<usize> = (0..kept).collect();
    queue.sort_by_key(|&c| std::cmp::Reverse(names.get(c).map_or(0, |n| n.bytes)));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let make: std::sync::Arc<dyn Fn() -> S + Send + Sync> = std::sync::Arc::new(make);
    let parts: Vec<Part<S>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(kept))
            .map(|_| {
                let (source, make, queue, next) = (&source, make.clone(), &queue, &next);
                scope.spawn(move || -> Part<S> {
                    let mut v = ColumnsVisitor {
                        sinks: Vec::new(),
                        make,
                    };
                    let mut summary = rampart_table::Summary::default();
                    let order = std::sync::atomic::Ordering::Relaxed;
                    while let Some(&c) = queue.get(next.fetch_add(1, order)) {
                        let options = rampart_table::Options {
                            columns: Some(vec![c]),
                            ..reading.options(None)
                        };
                        summary = rampart_table::process(source, &options, &mut v, None)?;
                    }
                    let mut sinks = v.sinks;
                    sinks.iter_mut().for_each(|(_, s)| s.finish());
                    Ok((sinks, summary))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(thread_failed(path))))
            .collect()
    });
    let names: Vec<String> = names.into_iter().map(|c| c.name).collect();
    let mut all: Vec<(String, S)> = Vec::new();
    let mut summary = rampart_table::Summary::default();
    for part in parts {
        let (sinks, s) = part?;
        all.extend(sinks);
        summary.records = summary.records.max(s.records);
    }
    let order = |n: &str| names.iter().position(|x| x == n);
    all.sort_by_key(|(n, _)| order(n));
    let dropped = summary
        .records
        .saturating_mul(names.len().saturating_sub(kept) as u64);
    // Each read's summary names its own column; the file has them all.
    summary.columns = names;
    Ok(Summarised {
        columns: all,
        dropped,
        summary,
    })
}
