//! A check of a Parquet file's page headers before the parquet crate
//! decodes its pages. The crate believes what a page header claims: a
//! dictionary page of 1 KB that claims 811 million values made it
//! allocate 3.2 GB (found by the `parquet_reader` fuzz target). The
//! headers are Thrift (compact protocol) and the crate's reader of them
//! is private, so this module reads the few fields it needs itself and
//! refuses a page that claims more than [`MAX_PAGE`] bytes decoded, or a
//! dictionary page that claims more values than its decoded bytes can
//! hold. What the crate then allocates for a page is bounded by the bytes
//! the page really holds.
//!
//! One codec needs more: the crate inflates a gzip page to its end,
//! whatever size the header declares (a gzip bomb of 1 MB is a gigabyte).
//! Gzip pages are therefore inflated here first, into a counter that stops
//! at the declared size: the cost is a second inflation of gzip files
//! (Snappy and zstd are decoded into the declared size by the crate;
//! LZ4 and Brotli, which are not, are left out of the build). The footer
//! is walked by the same reader before the crate parses it.

use parquet::basic::Type as PhysicalType;
use parquet::file::metadata::ParquetMetaData;

/// The largest decoded page accepted. Writers cut pages at about 1 MiB
/// (parquet-mr, pyarrow and arrow-rs alike, dictionaries included); only
/// a single value larger than this would need more.
pub const MAX_PAGE: u64 = 64 << 20;

/// The largest page header read. Headers are tens of bytes, more only
/// with statistics of long values, which writers truncate.
const MAX_HEADER: usize = 16 << 20;

/// The largest footer read (the crate reads the whole footer too; one of
/// a file with thousands of row groups and columns is megabytes).
const MAX_FOOTER: u64 = 256 << 20;

/// The first read of a header; grown sixteenfold until it holds it.
const FIRST_WINDOW: usize = 4 << 10;

/// Thrift structs nested deeper than this are refused (a page header
/// nests three deep).
const MAX_DEPTH: usize = 16;

/// The fields of a page header this check needs.
#[derive(Debug, Default, PartialEq, Eq)]
struct PageHeader {
    uncompressed: i64,
    compressed: i64,
    /// The values a dictionary page claims, if the header has a
    /// dictionary page header.
    dictionary_values: Option<i64>,
    /// A version 2 data page: the bytes of its levels, which are stored
    /// uncompressed before its values, and whether the values are
    /// compressed.
    v2: Option<V2>,
}

#[derive(Debug, PartialEq, Eq)]
struct V2 {
    levels: i64,
    compressed: bool,
}

/// Why a header could not be read.
#[derive(Debug, PartialEq, Eq)]
enum HeaderError {
    /// The bytes ended inside the header: read more.
    Incomplete,
    Malformed(&'static str),
}

/// Checks that the footer (the file's metadata, a Thrift struct before the
/// last 8 bytes) is well formed before the crate parses it: the crate's
/// skipping of unknown fields spent 0.8 s (11 s under the fuzzer's
/// sanitizer) on a 1 KB footer that names an invalid type, where a walk
/// that consumes a byte per element stops at once.
pub fn check_footer(file: &dyn ReadAt, file_len: u64) -> Result<(), String> {
    // `PAR1`, the footer, its length and `PAR1` again.
    if file_len < 12 {
        return Err("the file is too short for a footer".to_string());
    }
    let tail = file
        .read_at(file_len.saturating_sub(8), 8)
        .map_err(|e| format!("the footer: {e}"))?;
    let len = match tail.get(..4).map(<[u8; 4]>::try_from) {
        Some(Ok(b)) => u64::from(u32::from_le_bytes(b)),
        _ => return Err("the file is too short for a footer".to_string()),
    };
    if len > MAX_FOOTER || len.saturating_add(8) > file_len {
        return Err(format!(
            "the footer claims {len} bytes in a file of {file_len} bytes"
        ));
    }
    let start = file_len - 8 - len;
    let bytes = file
        .read_at(start, len as usize)
        .map_err(|e| format!("the footer: {e}"))?;
    let mut reader = Reader {
        bytes: &bytes,
        at: 0,
    };
    match reader.skip(STRUCT, 0) {
        Ok(()) => Ok(()),
        Err(HeaderError::Incomplete) => Err(format!(
            "the footer (offset {start}, {len} bytes) ends inside its metadata"
        )),
        Err(HeaderError::Malformed(why)) => Err(format!(
            "the footer (offset {start}, {len} bytes) is malformed: {why}"
        )),
    }
}

/// Reads bytes at an offset of the file (the parquet crate's reader).
pub trait ReadAt {
    /// `length` bytes at `start`, or fewer at the end of the file.
    fn read_at(&self, start: u64, length: usize) -> std::io::Result<Vec<u8>>;
    /// A stream of `length` bytes at `start` (fewer at the end).
    fn stream_at(&self, start: u64, length: u64) -> std::io::Result<Box<dyn std::io::Read + '_>>;
}

/// Checks every page header of the chosen leaf columns (all when
/// `leaves` is `None`) in every row group. The error names the column,
/// the offset and what the header claims.
pub fn check(
    file: &dyn ReadAt,
    meta: &ParquetMetaData,
    leaves: Option<&[usize]>,
) -> Result<(), String> {
    for group in meta.row_groups() {
        for (leaf, chunk) in group.columns().iter().enumerate() {
            if leaves.is_some_and(|l| !l.contains(&leaf)) {
                continue;
            }
            // As the crate's `byte_range`, which asserts instead.
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            let (Ok(start), Ok(length)) =
                (u64::try_from(start), u64::try_from(chunk.compressed_size()))
            else {
                return Err(format!(
                    "column {}: the footer gives a negative offset or size",
                    chunk.column_path()
                ));
            };
            let pages = Chunk {
                start,
                end: start.saturating_add(length),
                width_bits: min_width(chunk.column_type(), chunk.column_descr().type_length()),
                gzip: matches!(chunk.compression(), parquet::basic::Compression::GZIP(_)),
            };
            check_chunk(file, &pages)
                .map_err(|e| format!("column {}: {e}", chunk.column_path()))?;
        }
    }
    Ok(())
}

/// The fewest bits one value of a type takes in a plain-encoded
/// dictionary page.
fn min_width(t: PhysicalType, type_length: i32) -> u64 {
    match t {
        PhysicalType::BOOLEAN => 1,
        PhysicalType::INT32 | PhysicalType::FLOAT => 32,
        PhysicalType::INT64 | PhysicalType::DOUBLE => 64,
        PhysicalType::INT96 => 96,
        // A length prefix of 4 bytes, then the bytes.
        PhysicalType::BYTE_ARRAY => 32,
        PhysicalType::FIXED_LEN_BYTE_ARRAY => u64::try_from(type_length).unwrap_or(0).max(1) * 8,
    }
}

/// One column chunk: its bytes, the fewest bits a dictionary value
/// takes, and whether its pages are gzip.
struct Chunk {
    start: u64,
    end: u64,
    width_bits: u64,
    gzip: bool,
}

fn check_chunk(file: &dyn ReadAt, chunk: &Chunk) -> Result<(), String> {
    let mut at = chunk.start;
    while at < chunk.end {
        let (header, header_len) = read_header(file, at, chunk.end)?;
        if header.compressed < 0 || header.uncompressed < 0 {
            return Err(format!("the page at offset {at} claims a negative size"));
        }
        let decoded = header.uncompressed as u64;
        if decoded > MAX_PAGE {
            return Err(format!(
                "the page at offset {at} claims {decoded} bytes decoded; pages over {MAX_PAGE} bytes are refused"
            ));
        }
        if let Some(values) = header.dictionary_values {
            let fits = u64::try_from(values)
                .is_ok_and(|v| v.saturating_mul(chunk.width_bits) <= decoded.saturating_mul(8));
            if !fits {
                return Err(format!(
                    "the dictionary page at offset {at} claims {values} values in {decoded} bytes"
                ));
            }
        }
        let body = at.saturating_add(header_len as u64);
        if chunk.gzip {
            check_inflated(file, at, body, &header)?;
        }
        at = body.saturating_add(header.compressed as u64);
    }
    Ok(())
}

/// Inflates a gzip page's compressed bytes into a counter that stops past
/// the size the header declares for them.
fn check_inflated(
    file: &dyn ReadAt,
    at: u64,
    body: u64,
    header: &PageHeader,
) -> Result<(), String> {
    // A version 2 page stores its levels uncompressed before its values.
    let (skip, compressed) = match &header.v2 {
        Some(v2) => (v2.levels.max(0) as u64, v2.compressed),
        None => (0, true),
    };
    if !compressed {
        return Ok(());
    }
    let limit = (header.uncompressed as u64).saturating_sub(skip);
    let length = (header.compressed as u64).saturating_sub(skip);
    let stream = file
        .stream_at(body.saturating_add(skip), length)
        .map_err(|e| format!("the page at offset {at}: {e}"))?;
    let mut inflate = flate2::read::MultiGzDecoder::new(stream);
    let mut buffer = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = std::io::Read::read(&mut inflate, &mut buffer)
            .map_err(|e| format!("the gzip page at offset {at} does not inflate: {e}"))?;
        if n == 0 {
            return Ok(());
        }
        total = total.saturating_add(n as u64);
        if total > limit {
            return Err(format!(
                "the gzip page at offset {at} inflates past the {limit} bytes its header declares"
            ));
        }
    }
}

/// The header at `at`, and its length in bytes.
fn read_header(file: &dyn ReadAt, at: u64, end: u64) -> Result<(PageHeader, usize), String> {
    let left = usize::try_from(end - at).unwrap_or(usize::MAX);
    let mut window = FIRST_WINDOW;
    loop {
        let want = window.min(left).min(MAX_HEADER);
        let bytes = file
            .read_at(at, want)
            .map_err(|e| format!("the page header at offset {at}: {e}"))?;
        let mut reader = Reader {
            bytes: &bytes,
            at: 0,
        };
        match reader.page_header() {
            Ok(h) => return Ok((h, reader.at)),
            Err(HeaderError::Incomplete) if want < left.min(MAX_HEADER) && bytes.len() == want => {
                window = window.saturating_mul(16);
            }
            Err(HeaderError::Incomplete) => {
                return Err(format!(
                    "the page header at offset {at} does not end within {} bytes",
                    bytes.len()
                ))
            }
            Err(HeaderError::Malformed(why)) => {
                return Err(format!(
                    "the page header at offset {at} is malformed: {why}"
                ))
            }
        }
    }
}

/// Thrift's compact protocol, as much of it as a page header needs;
/// other fields are skipped.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Compact protocol field and element types.
const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;
/// Newer Thrift: 16 bytes.
const UUID: u8 = 13;

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, HeaderError> {
        let b = *self.bytes.get(self.at).ok_or(HeaderError::Incomplete)?;
        self.at += 1;
        Ok(b)
    }

    fn skip_bytes(&mut self, n: u64) -> Result<(), HeaderError> {
        let n = usize::try_from(n).map_err(|_| HeaderError::Incomplete)?;
        let end = self.at.checked_add(n).ok_or(HeaderError::Incomplete)?;
        if end > self.bytes.len() {
            return Err(HeaderError::Incomplete);
        }
        self.at = end;
        Ok(())
    }

    fn varint(&mut self) -> Result<u64, HeaderError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(HeaderError::Malformed("a varint longer than 10 bytes"))
    }

    fn zigzag(&mut self) -> Result<i64, HeaderError> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// The next field of a struct: its id and type, or `None` at the
    /// struct's end.
    fn field(&mut self, last: &mut i16) -> Result<Option<(i16, u8)>, HeaderError> {
        let b = self.byte()?;
        if b == 0 {
            return Ok(None);
        }
        let kind = b & 0x0f;
        let delta = b >> 4;
        let id = if delta == 0 {
            i16::try_from(self.zigzag()?).map_err(|_| HeaderError::Malformed("a field id"))?
        } else {
            last.checked_add(i16::from(delta))
                .ok_or(HeaderError::Malformed("a field id"))?
        };
        *last = id;
        Ok(Some((id, kind)))
    }

    fn page_header(&mut self) -> Result<PageHeader, HeaderError> {
        let mut h = PageHeader::default();
        let mut last = 0;
        while let Some((id, kind)) = self.field(&mut last)? {
            match (id, kind) {
                (2, I32) => h.uncompressed = self.zigzag()?,
                (3, I32) => h.compressed = self.zigzag()?,
                (7, STRUCT) => h.dictionary_values = Some(self.dictionary_header()?),
                (8, STRUCT) => h.v2 = Some(self.v2_header()?),
                _ => self.skip(kind, 0)?,
            }
        }
        Ok(h)
    }

    /// A dictionary page header's value count (field 1).
    fn dictionary_header(&mut self) -> Result<i64, HeaderError> {
        let mut values = None;
        let mut last = 0;
        while let Some((id, kind)) = self.field(&mut last)? {
            match (id, kind) {
                (1, I32) => values = Some(self.zigzag()?),
                _ => self.skip(kind, 1)?,
            }
        }
        values.ok_or(HeaderError::Malformed(
            "a dictionary page header without its number of values",
        ))
    }

    /// A version 2 data page header's level lengths (fields 5 and 6) and
    /// whether its values are compressed (field 7, true when absent).
    fn v2_header(&mut self) -> Result<V2, HeaderError> {
        let mut v2 = V2 {
            levels: 0,
            compressed: true,
        };
        let mut last = 0;
        while let Some((id, kind)) = self.field(&mut last)? {
            match (id, kind) {
                (5 | 6, I32) => v2.levels = v2.levels.saturating_add(self.zigzag()?.max(0)),
                (7, BOOL_TRUE) => v2.compressed = true,
                (7, BOOL_FALSE) => v2.compressed = false,
                _ => self.skip(kind, 1)?,
            }
        }
        Ok(v2)
    }

    /// Skips a value of `kind`. Every value takes at least one byte
    /// (booleans in a list included), so no count makes this loop longer
    /// than the bytes it has.
    fn skip(&mut self, kind: u8, depth: usize) -> Result<(), HeaderError> {
        if depth > MAX_DEPTH {
            return Err(HeaderError::Malformed("nested too deeply"));
        }
        match kind {
            // A boolean field's value is in its type.
            BOOL_TRUE | BOOL_FALSE => Ok(()),
            BYTE => self.skip_bytes(1),
            I16 | I32 | I64 => self.varint().map(|_| ()),
            DOUBLE => self.skip_bytes(8),
            UUID => self.skip_bytes(16),
            BINARY => {
                let n = self.varint()?;
                self.skip_bytes(n)
            }
            LIST | SET => {
                let b = self.byte()?;
                let n = match b >> 4 {
                    15 => self.varint()?,
                    n => u64::from(n),
                };
                self.skip_elements(n, b & 0x0f, depth)
            }
            MAP => {
                let n = self.varint()?;
                if n == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                for _ in 0..n {
                    self.skip_element(kinds >> 4, depth)?;
                    self.skip_element(kinds & 0x0f, depth)?;
                }
                Ok(())
            }
            STRUCT => {
                let mut last = 0;
                while let Some((_, kind)) = self.field(&mut last)? {
                    self.skip(kind, depth + 1)?;
                }
                Ok(())
            }
            _ => Err(HeaderError::Malformed("a type Thrift does not have")),
        }
    }

    fn skip_elements(&mut self, n: u64, kind: u8, depth: usize) -> Result<(), HeaderError> {
        for _ in 0..n {
            self.skip_element(kind, depth)?;
        }
        Ok(())
    }

    /// An element of a list, set or map: a boolean there is a byte.
    fn skip_element(&mut self, kind: u8, depth: usize) -> Result<(), HeaderError> {
        match kind {
            BOOL_TRUE | BOOL_FALSE => self.skip_bytes(1),
            _ => self.skip(kind, depth + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A compact-protocol writer for the tests.
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn i32_field(out: &mut Vec<u8>, delta: u8, v: i32) {
        out.push(delta << 4 | I32);
        varint(out, ((v << 1) ^ (v >> 31)) as u32 as u64);
    }

    /// A page header: type, sizes, optional statistics-like junk to skip,
    /// and a dictionary page header when `dictionary` is given.
    fn header(kind: i32, uncompressed: i32, compressed: i32, dictionary: Option<i32>) -> Vec<u8> {
        let mut out = Vec::new();
        i32_field(&mut out, 1, kind);
        i32_field(&mut out, 1, uncompressed);
        i32_field(&mut out, 1, compressed);
        // Field 5 (a data page header) with a nested struct and a binary,
        // which the reader skips.
        out.push(2 << 4 | STRUCT);
        i32_field(&mut out, 1, 100);
        out.push(4 << 4 | STRUCT);
        out.push(1 << 4 | BINARY);
        varint(&mut out, 3);
        out.extend_from_slice(b"abc");
        out.push(1 << 4 | LIST);
        out.push(2 << 4 | BOOL_TRUE);
        out.extend_from_slice(&[1, 0]);
        out.push(0);
        out.push(0);
        if let Some(n) = dictionary {
            out.push(2 << 4 | STRUCT);
            i32_field(&mut out, 1, n);
            i32_field(&mut out, 1, 0);
            out.push(1 << 4 | BOOL_FALSE);
            out.push(0);
        }
        out.push(0);
        out
    }

    fn parse(bytes: &[u8]) -> Result<(PageHeader, usize), HeaderError> {
        let mut r = Reader { bytes, at: 0 };
        r.page_header().map(|h| (h, r.at))
    }

    struct Bytes(Vec<u8>);

    impl ReadAt for Bytes {
        fn read_at(&self, start: u64, length: usize) -> std::io::Result<Vec<u8>> {
            let start = usize::try_from(start)
                .unwrap_or(usize::MAX)
                .min(self.0.len());
            let end = start.saturating_add(length).min(self.0.len());
            Ok(self.0[start..end].to_vec())
        }
        fn stream_at(
            &self,
            start: u64,
            length: u64,
        ) -> std::io::Result<Box<dyn std::io::Read + '_>> {
            let bytes = self.read_at(start, usize::try_from(length).unwrap_or(usize::MAX))?;
            Ok(Box::new(std::io::Cursor::new(bytes)))
        }
    }

    /// Checks `file` as one chunk of its first `end` bytes.
    fn run(file: Vec<u8>, end: u64, width_bits: u64, gzip: bool) -> Result<(), String> {
        let chunk = Chunk {
            start: 0,
            end,
            width_bits,
            gzip,
        };
        check_chunk(&Bytes(file), &chunk)
    }

    #[test]
    fn reads_the_fields_it_needs_and_skips_the_rest() {
        let h = header(2, 4000, 1200, Some(1000));
        let (parsed, len) = parse(&h).unwrap();
        assert_eq!(len, h.len());
        assert_eq!(
            parsed,
            PageHeader {
                uncompressed: 4000,
                compressed: 1200,
                dictionary_values: Some(1000),
                v2: None,
            }
        );
        assert_eq!(parse(&h[..h.len() - 1]), Err(HeaderError::Incomplete));
    }

    fn chunk(pages: &[(Vec<u8>, usize)]) -> Vec<u8> {
        let mut file = Vec::new();
        for (h, body) in pages {
            file.extend_from_slice(h);
            file.extend(std::iter::repeat_n(7u8, *body));
        }
        file
    }

    #[test]
    fn refuses_a_dictionary_that_claims_more_values_than_its_bytes_hold() {
        let ok = chunk(&[
            (header(2, 4000, 30, Some(1000)), 30),
            (header(0, 50, 20, None), 20),
        ]);
        assert_eq!(run(ok.clone(), ok.len() as u64, 32, false), Ok(()));
        // Doubles: 1,000 of them need 8,000 bytes.
        let e = run(ok.clone(), ok.len() as u64, 64, false).unwrap_err();
        assert!(e.contains("claims 1000 values in 4000 bytes"), "{e}");
        // A dictionary page after a data page is checked too.
        let late = chunk(&[
            (header(0, 50, 20, None), 20),
            (header(2, 40, 30, Some(811_000_000)), 30),
        ]);
        let e = run(late.clone(), late.len() as u64, 32, false).unwrap_err();
        assert!(e.contains("offset") && e.contains("811000000"), "{e}");
        let negative = chunk(&[(header(2, 40, 30, Some(-1)), 30)]);
        assert!(run(negative.clone(), negative.len() as u64, 32, false).is_err());
    }

    #[test]
    fn refuses_pages_too_large_or_of_negative_size() {
        let big = chunk(&[(header(0, (MAX_PAGE + 1) as i32, 10, None), 10)]);
        let e = run(big.clone(), big.len() as u64, 32, false).unwrap_err();
        assert!(e.contains("are refused"), "{e}");
        let negative = chunk(&[(header(0, 10, -5, None), 10)]);
        let e = run(negative.clone(), negative.len() as u64, 32, false).unwrap_err();
        assert!(e.contains("negative"), "{e}");
    }

    #[test]
    fn reads_a_header_longer_than_the_first_window() {
        let mut h = Vec::new();
        i32_field(&mut h, 2, 10);
        i32_field(&mut h, 1, 10);
        // A long binary (field 4 as statistics-like junk).
        h.push(1 << 4 | BINARY);
        varint(&mut h, 100_000);
        h.extend(std::iter::repeat_n(0u8, 100_000));
        h.push(0);
        let file = chunk(&[(h, 10)]);
        assert_eq!(run(file.clone(), file.len() as u64, 32, false), Ok(()));
        // Cut short, it is an error naming the offset, not a hang.
        let e = run(file[..50_000].to_vec(), 50_000, 32, false).unwrap_err();
        assert!(e.contains("offset 0"), "{e}");
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// A gzip page whose bytes inflate past the size its header declares
    /// is refused before the crate (which inflates to the end) reads it;
    /// one that keeps to it passes, and so does a version 2 page whose
    /// uncompressed levels come first.
    #[test]
    fn a_gzip_page_may_not_inflate_past_its_declared_size() {
        let zeros = vec![0u8; 100_000];
        let body = gzip(&zeros);
        let page = |declared: i32| {
            let mut f = Vec::new();
            i32_field(&mut f, 1, 0);
            i32_field(&mut f, 1, declared);
            i32_field(&mut f, 1, body.len() as i32);
            f.push(0);
            f.extend_from_slice(&body);
            f
        };
        let ok = page(100_000);
        assert_eq!(run(ok.clone(), ok.len() as u64, 32, true), Ok(()));
        let bomb = page(1_000);
        let e = run(bomb.clone(), bomb.len() as u64, 32, true).unwrap_err();
        assert!(e.contains("inflates past the 1000 bytes"), "{e}");
        // Not gzip: the codec decodes into the declared size itself.
        assert_eq!(run(bomb.clone(), bomb.len() as u64, 32, false), Ok(()));

        let levels = [7u8; 6];
        let mut v2 = Vec::new();
        i32_field(&mut v2, 1, 3);
        i32_field(&mut v2, 1, 100_006);
        i32_field(&mut v2, 1, (body.len() + levels.len()) as i32);
        v2.push(5 << 4 | STRUCT);
        i32_field(&mut v2, 5, 4);
        i32_field(&mut v2, 1, 2);
        v2.push(0);
        v2.push(0);
        v2.extend_from_slice(&levels);
        v2.extend_from_slice(&body);
        assert_eq!(run(v2.clone(), v2.len() as u64, 32, true), Ok(()));
        let garbage = {
            let mut g = page(100_000);
            let n = g.len();
            g[n - 30..].fill(0xff);
            g
        };
        let e = run(garbage.clone(), garbage.len() as u64, 32, true).unwrap_err();
        assert!(e.contains("does not inflate"), "{e}");
    }

    fn with_footer(footer: &[u8]) -> Vec<u8> {
        let mut f = b"PAR1".to_vec();
        f.extend_from_slice(footer);
        f.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        f.extend_from_slice(b"PAR1");
        f
    }

    /// A footer is walked a byte per element at least: a list that claims
    /// two billion elements in a few bytes ends the walk at once (the
    /// crate's skipping took 0.8 s on such a footer), and so does a type
    /// Thrift does not have. A well-formed footer passes.
    #[test]
    fn footers_are_walked_in_time_linear_in_their_bytes() {
        let check = |footer: &[u8]| {
            let f = with_footer(footer);
            check_footer(&Bytes(f.clone()), f.len() as u64)
        };
        // Field 1: a list of 2^31 structs, then nothing.
        let mut huge = vec![1 << 4 | LIST, 0xf0 | STRUCT];
        varint(&mut huge, 1 << 31);
        huge.extend_from_slice(&[0, 0, 0]);
        let e = check(&huge).unwrap_err();
        assert!(e.contains("ends inside its metadata"), "{e}");
        let e = check(&[1 << 4 | 14, 0]).unwrap_err();
        assert!(e.contains("a type Thrift does not have"), "{e}");
        // Field 1 an i32, field 2 a list of two binaries, field 3 a UUID.
        let mut good = Vec::new();
        i32_field(&mut good, 1, 2);
        good.extend_from_slice(&[1 << 4 | LIST, 2 << 4 | BINARY, 1, b'a', 0]);
        good.push(1 << 4 | UUID);
        good.extend_from_slice(&[9; 16]);
        good.push(0);
        assert_eq!(check(&good), Ok(()));
        let f = with_footer(&good);
        let e = check_footer(&Bytes(f.clone()), f.len() as u64 + 100).unwrap_err();
        assert!(e.contains("footer"), "{e}");
        let e = check_footer(&Bytes(b"PAR1".to_vec()), 4).unwrap_err();
        assert!(e.contains("footer"), "{e}");
    }

    proptest! {
        /// Any bytes: an answer, never a panic, and never a header
        /// longer than the bytes.
        #[test]
        fn any_bytes_give_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok((_, len)) = parse(&bytes) {
                prop_assert!(len <= bytes.len());
            }
            let _ = run(bytes.clone(), bytes.len() as u64, 32, false);
            let _ = run(bytes.clone(), bytes.len() as u64, 32, true);
            let f = with_footer(&bytes);
            let _ = check_footer(&Bytes(f.clone()), f.len() as u64);
        }

        /// A valid header with bytes changed: the same.
        #[test]
        fn mutated_headers_give_an_answer(at in 0usize..64, to in any::<u8>(), n in 0i32..100_000) {
            let mut h = header(2, n, 30, Some(n / 4));
            if let Some(b) = h.get_mut(at) {
                *b = to;
            }
            h.extend(std::iter::repeat_n(0u8, 30));
            let _ = run(h.clone(), h.len() as u64, 32, n % 2 == 0);
        }
    }
}
