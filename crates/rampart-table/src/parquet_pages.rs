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

use parquet::basic::Type as PhysicalType;
use parquet::file::metadata::ParquetMetaData;

/// The largest decoded page accepted. Writers cut pages at about 1 MiB
/// (parquet-mr, pyarrow and arrow-rs alike, dictionaries included); only
/// a single value larger than this would need more.
pub const MAX_PAGE: u64 = 64 << 20;

/// The largest page header read. Headers are tens of bytes, more only
/// with statistics of long values, which writers truncate.
const MAX_HEADER: usize = 16 << 20;

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
}

/// Why a header could not be read.
#[derive(Debug, PartialEq, Eq)]
enum HeaderError {
    /// The bytes ended inside the header: read more.
    Incomplete,
    Malformed(&'static str),
}

/// Reads bytes at an offset of the file (the parquet crate's reader).
pub trait ReadAt {
    /// `length` bytes at `start`, or fewer at the end of the file.
    fn read_at(&self, start: u64, length: usize) -> std::io::Result<Vec<u8>>;
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
            let (start, length) = chunk.byte_range();
            let width = min_width(chunk.column_type(), chunk.column_descr().type_length());
            check_chunk(file, start, start.saturating_add(length), width)
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

fn check_chunk(file: &dyn ReadAt, start: u64, end: u64, width_bits: u64) -> Result<(), String> {
    let mut at = start;
    while at < end {
        let (header, header_len) = read_header(file, at, end)?;
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
                .is_ok_and(|v| v.saturating_mul(width_bits) <= decoded.saturating_mul(8));
            if !fits {
                return Err(format!(
                    "the dictionary page at offset {at} claims {values} values in {decoded} bytes"
                ));
            }
        }
        at = at
            .saturating_add(header_len as u64)
            .saturating_add(header.compressed as u64);
    }
    Ok(())
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
            _ => Err(HeaderError::Malformed("an unknown Thrift type")),
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
                dictionary_values: Some(1000)
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
        assert_eq!(
            check_chunk(&Bytes(ok.clone()), 0, ok.len() as u64, 32),
            Ok(())
        );
        // Doubles: 1,000 of them need 8,000 bytes.
        let e = check_chunk(&Bytes(ok.clone()), 0, ok.len() as u64, 64).unwrap_err();
        assert!(e.contains("claims 1000 values in 4000 bytes"), "{e}");
        // A dictionary page after a data page is checked too.
        let late = chunk(&[
            (header(0, 50, 20, None), 20),
            (header(2, 40, 30, Some(811_000_000)), 30),
        ]);
        let e = check_chunk(&Bytes(late.clone()), 0, late.len() as u64, 32).unwrap_err();
        assert!(e.contains("offset") && e.contains("811000000"), "{e}");
        let negative = chunk(&[(header(2, 40, 30, Some(-1)), 30)]);
        assert!(check_chunk(&Bytes(negative.clone()), 0, negative.len() as u64, 32).is_err());
    }

    #[test]
    fn refuses_pages_too_large_or_of_negative_size() {
        let big = chunk(&[(header(0, (MAX_PAGE + 1) as i32, 10, None), 10)]);
        let e = check_chunk(&Bytes(big.clone()), 0, big.len() as u64, 32).unwrap_err();
        assert!(e.contains("are refused"), "{e}");
        let negative = chunk(&[(header(0, 10, -5, None), 10)]);
        let e = check_chunk(&Bytes(negative.clone()), 0, negative.len() as u64, 32).unwrap_err();
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
        assert_eq!(
            check_chunk(&Bytes(file.clone()), 0, file.len() as u64, 32),
            Ok(())
        );
        // Cut short, it is an error naming the offset, not a hang.
        let e = check_chunk(&Bytes(file[..50_000].to_vec()), 0, 50_000, 32).unwrap_err();
        assert!(e.contains("offset 0"), "{e}");
    }

    proptest! {
        /// Any bytes: an answer, never a panic, and never a header
        /// longer than the bytes.
        #[test]
        fn any_bytes_give_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok((_, len)) = parse(&bytes) {
                prop_assert!(len <= bytes.len());
            }
            let _ = check_chunk(&Bytes(bytes.clone()), 0, bytes.len() as u64, 32);
        }

        /// A valid header with bytes changed: the same.
        #[test]
        fn mutated_headers_give_an_answer(at in 0usize..64, to in any::<u8>(), n in 0i32..100_000) {
            let mut h = header(2, n, 30, Some(n / 4));
            if let Some(b) = h.get_mut(at) {
                *b = to;
            }
            h.extend(std::iter::repeat_n(0u8, 30));
            let _ = check_chunk(&Bytes(h.clone()), 0, h.len() as u64, 32);
        }
    }
}
