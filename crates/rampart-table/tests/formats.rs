//! Every format read and rewritten: an identity rewrite keeps the data,
//! a replacing visitor changes exactly the values it names, dropped
//! columns disappear, bad records are skipped with their line or fail the
//! run, and arbitrary bytes never panic.

#![cfg(test)]

use proptest::prelude::*;
use rampart_table::{process, process_bytes, BadInput, Cell, Format, Options, Visitor};
use std::io::Write;

/// Upper-cases values of the column `upper` and drops `drop`; records
/// every value seen.
#[derive(Default)]
struct Upper {
    seen: Vec<(u64, u64, String, String)>,
}

impl Visitor for Upper {
    fn cell(&mut self, c: &Cell) -> Option<String> {
        self.seen
            .push((c.record, c.line, c.column.to_string(), c.value.to_string()));
        (c.column == "name" || c.column == "user.name").then(|| c.value.to_uppercase())
    }
    fn keep_column(&self, column: &str) -> bool {
        column != "secret" && column != "user.secret"
    }
}

/// Bad records skipped and counted, as `--bad-input skip` asks.
fn skip() -> Options {
    Options {
        bad_input: BadInput::Skip,
        ..Options::default()
    }
}

fn rewrite(
    format: Format,
    input: &str,
    options: &Options,
) -> (String, Upper, rampart_table::Summary) {
    let mut v = Upper::default();
    let mut out: Vec<u8> = Vec::new();
    let s = process_bytes(format, input.as_bytes(), options, &mut v, Some(&mut out)).unwrap();
    (String::from_utf8(out).unwrap(), v, s)
}

#[test]
fn csv_rewrite_replaces_drops_and_reports_bad_rows() {
    let input = "id,name,secret\n1,ann,x\n2,\"bo, b\",y\n3,too,many,fields\n4,cy,z\n";
    // The default reads to the end and then refuses the file, naming
    // what it could not read.
    let mut none: Vec<u8> = Vec::new();
    let err = process_bytes(
        Format::Delimited(b','),
        input.as_bytes(),
        &Options::default(),
        &mut Upper::default(),
        Some(&mut none),
    )
    .unwrap_err();
    assert!(
        matches!(&err, rampart_table::Error::Unread { skipped: 1, total: 4, problems, .. } if problems[0].line == 4),
        "{err}"
    );
    let (out, v, s) = rewrite(Format::Delimited(b','), input, &skip());
    assert_eq!(out, "id,name\n1,ANN\n2,\"BO, B\"\n4,CY\n");
    assert_eq!((s.records, s.skipped), (3, 1));
    assert_eq!(s.problems[0].line, 4);
    assert!(s.problems[0]
        .message
        .contains("4 fields where the header has 3"));
    assert!(v.seen.contains(&(2, 3, "name".into(), "bo, b".into())));
    let fail = Options {
        bad_input: BadInput::Fail,
        ..Options::default()
    };
    let err = process_bytes(
        Format::Delimited(b','),
        input.as_bytes(),
        &fail,
        &mut Upper::default(),
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains(":4:"), "{err}");
}

#[test]
fn an_unclosed_quote_fails_naming_its_line() {
    let input = format!("a,b\n1,2\n3,\"{}\n", "x".repeat(200));
    let options = Options {
        max_record: 100,
        ..Options::default()
    };
    let err = process_bytes(
        Format::Delimited(b','),
        input.as_bytes(),
        &options,
        &mut Upper::default(),
        None,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("line 3 is longer than 100 bytes"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_and_long_lines_are_bad_records() {
    let mut input = b"a\n".to_vec();
    input.extend_from_slice(b"\xff\xfe\n");
    input.extend_from_slice(&[b'x'; 100]);
    input.extend_from_slice(b"\nlast");
    let options = Options {
        max_record: 50,
        ..skip()
    };
    let mut v = Upper::default();
    let mut out: Vec<u8> = Vec::new();
    let s = process_bytes(Format::Text, &input, &options, &mut v, Some(&mut out)).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "a\nlast");
    assert_eq!(
        s.problems.iter().map(|p| p.line).collect::<Vec<_>>(),
        vec![2, 3]
    );
}

#[test]
fn json_lines_and_arrays_by_path() {
    let input = "{\"user\":{\"name\":\"ann\",\"secret\":1},\"n\":5}\nnot json\n{\"user\":{\"name\":\"bo\"}}\n";
    let (out, v, s) = rewrite(Format::JsonLines, input, &skip());
    assert_eq!(
        out,
        "{\"n\":5,\"user\":{\"name\":\"ANN\"}}\n{\"user\":{\"name\":\"BO\"}}\n"
    );
    assert_eq!((s.records, s.skipped, s.problems[0].line), (2, 1, 2));
    assert!(v.seen.iter().any(|(_, _, c, val)| c == "n" && val == "5"));
    let array = "[\n {\"user\": {\"name\": \"a]\\\"b\"}},\n {\"user\": {\"name\": \"c\", \"secret\": \"s\"}}\n]";
    let (out, v, s) = rewrite(Format::Json, array, &skip());
    assert_eq!(s.records, 2);
    assert_eq!(
        out,
        "[\n{\"user\":{\"name\":\"A]\\\"B\"}},\n{\"user\":{\"name\":\"C\"}}\n]\n"
    );
    assert_eq!(v.seen[1].1, 3, "line of the second element");
    let deep = format!("[{{\"a\": 1}}, {}{}]", "[".repeat(5000), "]".repeat(5000));
    let s = process_bytes(
        Format::Json,
        deep.as_bytes(),
        &skip(),
        &mut Upper::default(),
        None,
    )
    .unwrap();
    assert_eq!(
        s.skipped, 1,
        "nesting beyond serde_json's limit is a bad record"
    );
}

#[test]
fn parquet_round_trip_and_detection() {
    use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.parquet");
    let batch = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        (
            "name",
            Arc::new(StringArray::from(vec![Some("ann"), None])) as ArrayRef,
        ),
        (
            "secret",
            Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef,
        ),
    ])
    .unwrap();
    std::fs::write(&path, to_parquet(&batch, None)).unwrap();
    let source = rampart_table::detect(&path).unwrap();
    assert_eq!(source.format, Format::Parquet);
    let out_path = dir.path().join("out.parquet");
    let mut out = std::fs::File::create(&out_path).unwrap();
    let mut v = Upper::default();
    let s = process(&source, &Options::default(), &mut v, Some(&mut out)).unwrap();
    out.flush().unwrap();
    assert_eq!(s.records, 2);
    assert!(v.seen.contains(&(1, 1, "id".into(), "1".into())));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&out_path).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let b = &batches[0];
    assert_eq!(
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>(),
        vec!["id", "name"]
    );
    let names = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!((names.value(0), names.is_null(1)), ("ANN", true));
}

/// Drops the records it is given, changes nothing else.
struct Drop(Vec<u64>);

impl Visitor for Drop {
    fn cell(&mut self, _: &Cell) -> Option<String> {
        None
    }
    fn keep_record(&self, record: u64) -> bool {
        !self.0.contains(&record)
    }
}

#[test]
fn dropped_records_leave_every_format_and_nothing_else_does() {
    let cases = [
        (
            Format::Delimited(b','),
            "id,v\n1,a\n2,b\n3,c\n",
            "id,v\n1,a\n3,c\n",
        ),
        (Format::Text, "a\nb\nc\n", "a\nc\n"),
        (
            Format::JsonLines,
            "{\"v\":\"a\"}\n{\"v\":\"b\"}\n{\"v\":\"c\"}\n",
            "{\"v\":\"a\"}\n{\"v\":\"c\"}\n",
        ),
        (
            Format::Json,
            "[{\"v\":\"a\"},{\"v\":\"b\"},{\"v\":\"c\"}]",
            "[\n{\"v\":\"a\"},\n{\"v\":\"c\"}\n]\n",
        ),
    ];
    for (format, input, want) in cases {
        let mut out: Vec<u8> = Vec::new();
        let mut v = Drop(vec![2]);
        let s = process_bytes(
            format,
            input.as_bytes(),
            &Options::default(),
            &mut v,
            Some(&mut out),
        )
        .unwrap();
        assert_eq!(s.records, 3, "{format:?}: every record is still read");
        assert_eq!(String::from_utf8(out).unwrap(), want, "{format:?}");
        let mut first_and_last: Vec<u8> = Vec::new();
        process_bytes(
            format,
            input.as_bytes(),
            &Options::default(),
            &mut Drop(vec![1, 3]),
            Some(&mut first_and_last),
        )
        .unwrap();
        assert!(
            !String::from_utf8(first_and_last).unwrap().contains('a'),
            "{format:?}"
        );
    }
}

#[test]
fn dropped_records_leave_parquet() {
    use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.parquet");
    let batch = RecordBatch::try_from_iter(vec![(
        "n",
        Arc::new(Int64Array::from((1..=10_000).collect::<Vec<i64>>())) as ArrayRef,
    )])
    .unwrap();
    std::fs::write(&path, to_parquet(&batch, None)).unwrap();
    let source = rampart_table::detect(&path).unwrap();
    let out_path = dir.path().join("out.parquet");
    let mut out = std::fs::File::create(&out_path).unwrap();
    // Records in the first and a later batch (batches hold 4096 rows).
    let s = process(
        &source,
        &Options::default(),
        &mut Drop(vec![1, 4097, 10_000]),
        Some(&mut out),
    )
    .unwrap();
    out.flush().unwrap();
    assert_eq!(s.records, 10_000);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&out_path).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let mut kept = Vec::new();
    for b in reader {
        let b = b.unwrap();
        let n = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        kept.extend((0..n.len()).map(|i| n.value(i)));
    }
    assert_eq!(kept.len(), 9_997);
    assert!(!kept.contains(&1) && !kept.contains(&4097) && !kept.contains(&10_000));
    assert_eq!((kept[0], kept[kept.len() - 1]), (2, 9_999));
}

#[test]
fn detection_by_content_and_compression() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        rampart_table::detect(&p).unwrap()
    };
    assert_eq!(write("a", b"x;y\n1;2\n").format, Format::Delimited(b';'));
    assert_eq!(
        write("b", b"{\"a\":1}\n{\"a\":2}\n").format,
        Format::JsonLines
    );
    assert_eq!(write("c", b"[{\"a\":1}]").format, Format::Json);
    assert_eq!(write("d", b"hello world\nbye\n").format, Format::Text);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"name,x\nann,1\n").unwrap();
    let s = write("e.csv.gz", &gz.finish().unwrap());
    assert_eq!(
        (s.format, s.compression),
        (Format::Delimited(b','), rampart_table::Compression::Gzip)
    );
    let mut v = Upper::default();
    assert_eq!(
        process(&s, &Options::default(), &mut v, None)
            .unwrap()
            .records,
        1
    );
    // A gzip bomb is stopped at the cap, as an error rather than a short read.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b'a'; 1 << 20]).unwrap();
    let s = write("f.txt.gz", &gz.finish().unwrap());
    let capped = Options {
        max_bytes: 1000,
        ..Options::default()
    };
    let err = process(&s, &capped, &mut Upper::default(), None).unwrap_err();
    assert!(err.to_string().contains("more than 1000 bytes"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), which in 0usize..5) {
        let format = [Format::Text, Format::Delimited(b','), Format::Delimited(b'\t'), Format::JsonLines, Format::Json][which];
        let options = Options { max_record: 64, ..Options::default() };
        let mut out: Vec<u8> = Vec::new();
        let _ = process_bytes(format, &bytes, &options, &mut Upper::default(), Some(&mut out));
    }

    #[test]
    fn mutated_csv_and_json_never_panic(pos in 0usize..200, byte in any::<u8>(), which in 0usize..2) {
        let base: &[u8] = if which == 0 {
            b"id,name,secret\n1,\"a,b\",x\n2,c,\"d\"\"e\"\n"
        } else {
            b"[{\"user\":{\"name\":\"a\\\"b\"}},{\"n\":[1,2,{\"x\":null}]}]"
        };
        let mut bytes = base.to_vec();
        if let Some(b) = bytes.get_mut(pos % base.len()) {
            *b = byte;
        }
        let format = if which == 0 { Format::Delimited(b',') } else { Format::Json };
        let mut out: Vec<u8> = Vec::new();
        let _ = process_bytes(format, &bytes, &Options::default(), &mut Upper::default(), Some(&mut out));
    }
}

/// A column, its distinct values with counts (sorted), and its nulls.
type CountedTexts = (String, Vec<(String, u64)>, u64);

/// Takes numeric columns as numbers, string columns as counted texts,
/// other values as cells.
#[derive(Default)]
struct Columnar {
    numbers: Vec<(String, bool, Vec<f64>, u64)>,
    texts: Vec<CountedTexts>,
    cells: Vec<(String, String)>,
}

impl Visitor for Columnar {
    fn cell(&mut self, c: &Cell) -> Option<String> {
        self.cells.push((c.column.to_string(), c.value.to_string()));
        None
    }
    fn takes_batches(&self) -> bool {
        true
    }
    fn numbers(&mut self, column: &str, b: &rampart_table::Numbers) {
        self.numbers
            .push((column.to_string(), b.integer, b.values.to_vec(), b.nulls));
    }
    fn texts(&mut self, column: &str, b: &rampart_table::Texts) {
        let mut values: Vec<(String, u64)> =
            b.values.iter().map(|(v, n)| (v.to_string(), *n)).collect();
        values.sort();
        self.texts.push((column.to_string(), values, b.nulls));
    }
}

/// Parquet's numeric columns reach a visitor that takes numbers as
/// numbers (nulls counted, NaN kept), and as text one that does not; a
/// projection reads only the columns it names.
#[test]
fn parquet_numbers_and_projections() {
    use arrow_array::{ArrayRef, BooleanArray, Float32Array, Int32Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    let batch = RecordBatch::try_from_iter(vec![
        (
            "i",
            Arc::new(Int32Array::from(vec![Some(3), None, Some(-7)])) as ArrayRef,
        ),
        (
            "f",
            Arc::new(Float32Array::from(vec![1.5, f32::NAN, 2.0])) as ArrayRef,
        ),
        (
            "b",
            Arc::new(BooleanArray::from(vec![true, false, true])) as ArrayRef,
        ),
        (
            "s",
            Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef,
        ),
    ])
    .unwrap();
    std::fs::write(&path, to_parquet(&batch, None)).unwrap();
    let source = rampart_table::detect(&path).unwrap();
    let columns = rampart_table::parquet_columns(&source).unwrap().unwrap();
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["i", "f", "b", "s"]);
    // Three 4-byte integers weigh more than three booleans.
    assert!(columns[0].bytes > columns[2].bytes && columns[2].bytes > 0);
    let mut v = Columnar::default();
    let s = process(&source, &Options::default(), &mut v, None).unwrap();
    assert_eq!(s.records, 3);
    assert_eq!(v.numbers.len(), 2);
    assert_eq!(
        (
            &v.numbers[0].0,
            v.numbers[0].1,
            &v.numbers[0].2,
            v.numbers[0].3
        ),
        (&"i".to_string(), true, &vec![3.0, -7.0], 1)
    );
    let f = &v.numbers[1];
    assert!(!f.1 && f.2.len() == 3 && f.2[0] == 1.5 && f.2[1].is_nan() && f.3 == 0);
    assert_eq!(v.cells.len(), 3, "{:?}", v.cells);
    assert!(v.cells.contains(&("b".into(), "false".into())));
    let abc = ["a", "b", "c"].map(|x| (x.to_string(), 1)).to_vec();
    assert_eq!(v.texts, vec![("s".to_string(), abc, 0)]);
    // A visitor that does not take numbers sees them as text.
    let mut u = Upper::default();
    process(&source, &Options::default(), &mut u, None).unwrap();
    assert!(u.seen.contains(&(1, 1, "f".into(), "1.5".into())));
    assert!(u.seen.contains(&(3, 3, "i".into(), "-7".into())));
    // A projection reads only its columns.
    let only = Options {
        columns: Some(vec![3, 0]),
        ..Options::default()
    };
    let mut p = Columnar::default();
    let s = process(&source, &only, &mut p, None).unwrap();
    assert_eq!(s.columns, vec!["i".to_string(), "s".to_string()]);
    assert_eq!(p.numbers.len(), 1);
    assert!(p.cells.is_empty());
    assert_eq!(p.texts.len(), 1);
    let past = Options {
        columns: Some(vec![9]),
        ..Options::default()
    };
    let err = process(&source, &past, &mut Columnar::default(), None).unwrap_err();
    assert!(err.to_string().contains("has no column 9"), "{err}");
}

/// A small Parquet file of every kind of column the reader shows.
fn small_parquet() -> Vec<u8> {
    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let batch = RecordBatch::try_from_iter(vec![
        (
            "i",
            Arc::new(Int32Array::from(vec![Some(1), None, Some(3), Some(4)])) as ArrayRef,
        ),
        (
            "f",
            Arc::new(Float64Array::from(vec![
                Some(0.5),
                Some(f64::NAN),
                None,
                Some(-2.0),
            ])) as ArrayRef,
        ),
        (
            "b",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                None,
                Some(false),
                Some(true),
            ])) as ArrayRef,
        ),
        (
            "s",
            Arc::new(StringArray::from(vec![
                Some("a"),
                Some("bb"),
                None,
                Some("a"),
            ])) as ArrayRef,
        ),
    ])
    .unwrap();
    to_parquet(&batch, None)
}

/// A batch written as Parquet by the crate.
fn to_parquet(
    batch: &arrow_array::RecordBatch,
    props: Option<parquet::file::properties::WriterProperties>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), props).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    out
}

/// `bytes` written to `path` and read whole by a batch visitor.
fn read_as_file(path: &std::path::Path, bytes: &[u8]) -> Result<Columnar, rampart_table::Error> {
    std::fs::write(path, bytes).unwrap();
    let source = rampart_table::detect(path).unwrap();
    let mut visitor = Columnar::default();
    process(&source, &Options::default(), &mut visitor, None).map(|_| visitor)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A Parquet file with bytes changed anywhere (its footer, its pages)
    /// is read, projected and rewritten without a panic.
    #[test]
    fn mutated_parquet_never_panics(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = small_parquet();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(source) = rampart_table::detect(&path) {
            let _ = process(&source, &Options::default(), &mut Columnar::default(), None);
            let only = Options { columns: Some(vec![1, 3]), ..Options::default() };
            let _ = process(&source, &only, &mut Columnar::default(), None);
            let mut out = Vec::new();
            let _ = process(&source, &Options::default(), &mut Upper::default(), Some(&mut out));
        }
    }
}

/// The parquet crate panics on some malformed pages; every single-byte
/// change of a small file is read without a panic escaping, and some of
/// them are reported as the reader failing (the guard was reached).
#[test]
fn parquet_reader_panics_become_errors() {
    let good = small_parquet();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.parquet");
    let mut guarded = 0;
    for i in 0..good.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bytes = good.clone();
            bytes[i] ^= flip;
            std::fs::write(&path, &bytes).unwrap();
            let Ok(source) = rampart_table::detect(&path) else {
                continue;
            };
            if let Err(e) = process(&source, &Options::default(), &mut Columnar::default(), None) {
                guarded += usize::from(e.to_string().contains("failed on it"));
            }
        }
    }
    assert!(guarded > 0, "no change reached the guard");
}

/// Columns of types other than numbers and strings (a date) are shown as
/// cells, and their nulls counted (before, they were left out unread).
#[test]
fn parquet_columns_of_other_types_are_shown_with_their_nulls() {
    use arrow_array::{ArrayRef, Date32Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.parquet");
    let batch = RecordBatch::try_from_iter(vec![
        (
            "day",
            Arc::new(Date32Array::from(vec![Some(1), None])) as ArrayRef,
        ),
        (
            "s",
            Arc::new(StringArray::from(vec![None, Some("x")])) as ArrayRef,
        ),
    ])
    .unwrap();
    std::fs::write(&path, to_parquet(&batch, None)).unwrap();
    #[derive(Default)]
    struct Nulls(Vec<(String, u64)>, usize);
    impl Visitor for Nulls {
        fn cell(&mut self, _: &Cell) -> Option<String> {
            self.1 += 1;
            None
        }
        fn takes_batches(&self) -> bool {
            true
        }
        fn nulls(&mut self, column: &str, count: u64) {
            self.0.push((column.to_string(), count));
        }
        fn texts(&mut self, column: &str, b: &rampart_table::Texts) {
            self.0.push((column.to_string(), b.nulls));
            self.1 += b.values.len();
        }
    }
    let mut v = Nulls::default();
    let source = rampart_table::detect(&path).unwrap();
    process(&source, &Options::default(), &mut v, None).unwrap();
    assert_eq!(v.0, vec![("day".to_string(), 1), ("s".to_string(), 1)]);
    assert_eq!(v.1, 3, "the date, its null (empty) and the string");
}

/// Writes `batch` as a Parquet file with row groups of `rows` rows.
fn write_parquet(path: &std::path::Path, batch: &arrow_array::RecordBatch, rows: usize) {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows))
        .build();
    std::fs::write(path, to_parquet(batch, Some(props))).unwrap();
}

/// A string column reaches a visitor that takes batches as its distinct
/// values with their counts, whatever the reading of its dictionary: one
/// of few values (counted densely), one where every value differs (the
/// dictionary over four times a batch: counted by sorting the codes), and a
/// pandas category (a dictionary with 8-bit codes). Counts, nulls and
/// values equal the rows'.
#[test]
fn parquet_strings_are_counted_by_value() {
    use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, StringArray};
    use std::collections::BTreeMap;
    use std::sync::Arc;
    let rows = 70_000usize;
    let few: Vec<Option<String>> = (0..rows)
        .map(|i| (i % 7 != 3).then(|| ["x", "yy", "zzz"][i % 3].to_string()))
        .collect();
    let all: Vec<Option<String>> = (0..rows).map(|i| Some(format!("id{i}"))).collect();
    let category: DictionaryArray<arrow_array::types::Int8Type> =
        (0..rows).map(|i| ["lo", "hi"][i % 5 / 4]).collect();
    let batch = RecordBatch::try_from_iter(vec![
        ("few", Arc::new(StringArray::from(few.clone())) as ArrayRef),
        ("all", Arc::new(StringArray::from(all.clone())) as ArrayRef),
        ("category", Arc::new(category) as ArrayRef),
    ])
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.parquet");
    write_parquet(&path, &batch, rows);
    let source = rampart_table::detect(&path).unwrap();
    let mut v = Columnar::default();
    process(&source, &Options::default(), &mut v, None).unwrap();
    assert!(v.cells.is_empty() && v.numbers.is_empty());
    let mut got: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut nulls: BTreeMap<String, u64> = BTreeMap::new();
    for (column, values, n) in &v.texts {
        *nulls.entry(column.clone()).or_default() += n;
        for (value, count) in values {
            assert!(*count >= 1);
            *got.entry((column.clone(), value.clone())).or_default() += count;
        }
    }
    let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (column, values) in [("few", &few), ("all", &all)] {
        for x in values.iter().flatten() {
            *want.entry((column.to_string(), x.clone())).or_default() += 1;
        }
    }
    for i in 0..rows {
        let x = ["lo", "hi"][i % 5 / 4];
        *want
            .entry(("category".to_string(), x.to_string()))
            .or_default() += 1;
    }
    assert_eq!(got, want);
    assert_eq!(
        nulls["few"],
        (0..rows).filter(|i| i % 7 == 3).count() as u64
    );
    assert_eq!(nulls["all"] + nulls["category"], 0);
}

/// A pandas category column (a dictionary) is shown cell by cell to a
/// visitor that needs rows, and its values are rewritten like any
/// string's: before, it was not shown at all, so a scanner for personal
/// data never saw it.
#[test]
fn parquet_category_columns_are_shown_and_rewritten() {
    use arrow_array::{ArrayRef, DictionaryArray, RecordBatch};
    use std::sync::Arc;
    let category: DictionaryArray<arrow_array::types::Int32Type> =
        vec![Some("ann"), None, Some("bob"), Some("ann")]
            .into_iter()
            .collect();
    let batch = RecordBatch::try_from_iter(vec![("name", Arc::new(category) as ArrayRef)]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.parquet");
    write_parquet(&path, &batch, 1000);
    let source = rampart_table::detect(&path).unwrap();
    let mut u = Upper::default();
    let mut out: Vec<u8> = Vec::new();
    process(&source, &Options::default(), &mut u, Some(&mut out)).unwrap();
    let seen: Vec<(u64, String)> = u.seen.iter().map(|s| (s.0, s.3.clone())).collect();
    // The null is shown as an empty value (and stays null in the output).
    assert_eq!(
        seen,
        vec![
            (1, "ann".into()),
            (2, String::new()),
            (3, "bob".into()),
            (4, "ann".into())
        ]
    );
    let back = dir.path().join("back.parquet");
    std::fs::write(&back, &out).unwrap();
    let mut again = Columnar::default();
    process(
        &rampart_table::detect(&back).unwrap(),
        &Options::default(),
        &mut again,
        None,
    )
    .unwrap();
    let values = &again.texts[0].1;
    assert_eq!(
        values,
        &vec![("ANN".to_string(), 2), ("BOB".to_string(), 1)]
    );
    assert_eq!(again.texts[0].2, 1);
}

/// A dictionary page that claims more values than its bytes hold is
/// refused before the parquet crate decodes it (the crate allocates what
/// the header claims: 3.2 GB for a fuzzed page claiming 811 million
/// values). The file is written by the crate, then the dictionary page's
/// count, 100, is raised in place to 8,191 (both two-byte varints).
#[test]
fn a_dictionary_page_claiming_too_many_values_is_refused() {
    use arrow_array::{ArrayRef, Int32Array, RecordBatch};
    use parquet::file::properties::WriterProperties;
    use std::sync::Arc;
    let values: Vec<i32> = (0..1000).map(|i| i % 100).collect();
    let batch =
        RecordBatch::try_from_iter(vec![("i", Arc::new(Int32Array::from(values)) as ArrayRef)])
            .unwrap();
    let props = WriterProperties::builder()
        .set_compression(parquet::basic::Compression::UNCOMPRESSED)
        .build();
    let good = to_parquet(&batch, Some(props));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.parquet");
    let read = |bytes: &[u8]| read_as_file(&path, bytes);
    let counted: usize = read(&good).unwrap().numbers.iter().map(|n| n.2.len()).sum();
    assert_eq!(counted, 1000);
    // The page header starts the column chunk (offset 4): an i32 field
    // (0x15) holding zigzag(100) = 200 = [0xc8, 0x01] is the count.
    let header = &good[4..40];
    let at = header
        .windows(3)
        .position(|w| w == [0x15, 0xc8, 0x01])
        .expect("the dictionary page's count")
        + 4;
    let mut bad = good.clone();
    bad[at + 1] = 0xfe;
    bad[at + 2] = 0x7f;
    let e = read(&bad).err().expect("refused").to_string();
    assert!(e.contains("claims 8191 values in 400 bytes"), "{e}");
    assert!(e.contains("\"i\"") && e.contains("d.parquet"), "{e}");
}

/// A visitor shown cells sees a Parquet file a record at a time, as the
/// text formats show it: every cell of a record before the next record's
/// (commands that assemble rows, duplicates and k-anonymity, rely on
/// it). Columns used to be shown one after another.
#[test]
fn parquet_cells_come_a_record_at_a_time() {
    #[derive(Default)]
    struct Order(Vec<(u64, String)>);
    impl Visitor for Order {
        fn cell(&mut self, c: &Cell) -> Option<String> {
            self.0.push((c.record, c.column.to_string()));
            None
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.parquet");
    std::fs::write(&path, small_parquet()).unwrap();
    let source = rampart_table::detect(&path).unwrap();
    let mut order = Order::default();
    process(&source, &Options::default(), &mut order, None).unwrap();
    let records: Vec<u64> = order.0.iter().map(|(r, _)| *r).collect();
    assert!(records.is_sorted(), "{:?}", order.0);
    let first: Vec<&str> = order
        .0
        .iter()
        .filter(|(r, _)| *r == 1)
        .map(|(_, c)| c.as_str())
        .collect();
    assert_eq!(first, ["i", "f", "b", "s"]);
}

/// A gzip page that inflates past the size its header declares is
/// refused (the parquet crate inflates a gzip page to its end, whatever
/// the header says: a small page could fill memory). The file is written
/// by the crate, then its first page's declared size is lowered to 1,000
/// bytes in place (a varint of the same length, padded).
#[test]
fn a_gzip_page_larger_than_declared_is_refused() {
    use arrow_array::{ArrayRef, Int32Array, RecordBatch};
    use parquet::file::properties::WriterProperties;
    use std::sync::Arc;
    let batch = RecordBatch::try_from_iter(vec![(
        "z",
        Arc::new(Int32Array::from(vec![0; 100_000])) as ArrayRef,
    )])
    .unwrap();
    let props = WriterProperties::builder()
        .set_compression(parquet::basic::Compression::GZIP(Default::default()))
        .set_dictionary_enabled(false)
        .build();
    let good = to_parquet(&batch, Some(props));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.parquet");
    let read = |bytes: &[u8]| read_as_file(&path, bytes).map(|_| ());
    read(&good).unwrap();
    // The first page header: type (0x15 0x00), then the declared size
    // (0x15 and a varint).
    assert_eq!(&good[4..7], [0x15, 0x00, 0x15]);
    let len = good[7..].iter().position(|b| b & 0x80 == 0).unwrap() + 1;
    assert!(len >= 2, "a declared size of at least 128 bytes");
    // zigzag(1000) = 2000 = 0x50 + 0x0f << 7, padded to `len` bytes.
    let mut varint = vec![0x80u8; len];
    varint[0] = 0xd0;
    varint[1] = 0x0f | if len > 2 { 0x80 } else { 0 };
    varint[len - 1] &= 0x7f;
    let mut bad = good.clone();
    bad[7..7 + len].copy_from_slice(&varint);
    let e = read(&bad).expect_err("refused").to_string();
    assert!(e.contains("inflates past the 1000 bytes"), "{e}");
}

#[test]
fn the_delimiter_is_read_from_the_content_before_the_name() {
    let d = tempfile::tempdir().unwrap();
    for (name, text, delimiter) in [
        // A European export: `;` between fields, decimal commas inside.
        ("euro.csv", "name;amount\nAnn;1,5\nBob;12,25\n", b';'),
        ("pipes.csv", "a|b\n1|2\n3|4\n", b'|'),
        ("tabs.csv", "a\tb\n1\t2\n", b'\t'),
        ("plain.csv", "a,b\n1,2\n", b','),
        // One column: the name decides.
        ("one.csv", "a\n1\n2\n", b','),
        ("commas.tsv", "a,b\n1,2\n", b','),
    ] {
        let path = d.path().join(name);
        std::fs::write(&path, text).unwrap();
        let source = rampart_table::detect(&path).unwrap();
        assert_eq!(source.format, Format::Delimited(delimiter), "{name}");
    }
}

#[test]
fn data_after_a_json_array_is_an_error() {
    let mut v = Upper::default();
    let two = b"[{\"id\": 1}]\n[{\"email\": \"a@example.com\"}]\n";
    let e = process_bytes(Format::Json, two, &Options::default(), &mut v, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("more data after the end of the JSON array"),
        "{e}"
    );
    let mut v = Upper::default();
    let spaced = b"[{\"id\": 1}]\n\n  \n";
    assert!(process_bytes(Format::Json, spaced, &Options::default(), &mut v, None).is_ok());
}

#[test]
fn no_records_is_an_error() {
    for (format, text) in [
        (Format::Delimited(b','), "id,name\n"),
        (Format::Json, "[]"),
        (Format::JsonLines, "\n\n"),
    ] {
        let mut v = Upper::default();
        let e =
            process_bytes(format, text.as_bytes(), &Options::default(), &mut v, None).unwrap_err();
        assert!(e.to_string().contains("no records"), "{format:?}: {e}");
    }
}

#[test]
fn json_nulls_booleans_and_duplicate_keys() {
    // Nulls are empty values and booleans text, as in CSV.
    let mut v = Upper::default();
    let text = b"{\"name\": null, \"ok\": true}\n";
    process_bytes(Format::JsonLines, text, &Options::default(), &mut v, None).unwrap();
    let seen: Vec<(&str, &str)> = v
        .seen
        .iter()
        .map(|s| (s.2.as_str(), s.3.as_str()))
        .collect();
    assert_eq!(seen, [("name", ""), ("ok", "true")]);
    // A key twice in one object: serde_json would keep the last value
    // only, and the first would go unscanned.
    let mut v = Upper::default();
    let twice = b"{\"note\": \"SSN 078-05-1120\", \"note\": \"ok\"}\n{\"note\": \"fine\"}\n";
    let e = process_bytes(Format::JsonLines, twice, &Options::default(), &mut v, None).unwrap_err();
    assert!(e.to_string().contains("appears twice"), "{e}");
}
