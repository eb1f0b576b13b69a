//! Opening files through their compression, with the decompressed size
//! capped, and reading lines with their length capped.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::{Error, Tracker};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The compression a file's first bytes announce.
pub fn sniff_compression(path: &Path) -> std::io::Result<Compression> {
    let mut magic = [0u8; 4];
    let mut f = File::open(path)?;
    let n = f.read(&mut magic)?;
    let head = magic.get(..n).unwrap_or(&[]);
    Ok(match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        _ if rampart_core::zstd::starts_stream(head) => Compression::Zstd,
        _ => Compression::None,
    })
}

/// A reader that fails, rather than stopping quietly, past `limit` bytes.
struct Capped<R> {
    inner: R,
    left: u64,
    limit: u64,
    /// The compression read through ("" for none), for error messages.
    codec: &'static str,
    /// The error a read ended with, returned again by every later read.
    failed: Option<(std::io::ErrorKind, String)>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // An error is final: the bytes of the read that failed are gone,
        // so a retry (a peek that ignored the error, say) would see a
        // file that ends early, and read it as complete.
        if let Some((kind, message)) = &self.failed {
            return Err(std::io::Error::new(*kind, message.clone()));
        }
        let result = self.inner.read(buf).map_err(|e| self.damaged(e)).and_then(|n| {
            self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "more than {} bytes after decompression (raise max_bytes if this is expected)",
                        self.limit
                    ),
                )
            })?;
            Ok(n)
        });
        if let Err(e) = &result {
            if e.kind() != std::io::ErrorKind::Interrupted {
                self.failed = Some((e.kind(), e.to_string()));
            }
        }
        result
    }
}

impl<R> Capped<R> {
    /// A decompressor's error, said in the user's words: its own text can
    /// be a debug dump of nested errors (ruzstd's is).
    fn damaged(&self, e: std::io::Error) -> std::io::Error {
        if self.codec.is_empty() || e.kind() == std::io::ErrorKind::Interrupted {
            return e;
        }
        let at = self.limit - self.left;
        let text = e.to_string();
        // The zstd decoder's own messages are sentences already.
        if text.starts_with("the zstd") || text.starts_with("a zstd") {
            return std::io::Error::new(
                e.kind(),
                format!("{text}, after {at} bytes of decompressed data"),
            );
        }
        let what = if e.kind() == std::io::ErrorKind::UnexpectedEof
            || e.to_string().contains("UnexpectedEof")
        {
            "ends in the middle of its data (the file was cut short, or a few bytes that are not compressed data follow its end)"
        } else {
            "is damaged (a corrupted or altered file)"
        };
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the {} stream {what}, after {at} bytes of decompressed data",
                self.codec
            ),
        )
    }
}

/// The file's bytes, decompressed, failing past `max_bytes`.
pub fn open(
    path: &Path,
    compression: Compression,
    max_bytes: u64,
) -> std::io::Result<Box<dyn BufRead>> {
    open_with(path, compression, max_bytes, None)
}

/// A file whose reads are reported to a progress bar.
struct Counted {
    file: File,
    progress: Option<crate::ProgressHook>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        if let Some(p) = &self.progress {
            p.0.advance(n as u64);
        }
        Ok(n)
    }
}

/// [`open`], telling `progress` the file's size and each read of it.
pub fn open_with(
    path: &Path,
    compression: Compression,
    max_bytes: u64,
    progress: Option<&crate::ProgressHook>,
) -> std::io::Result<Box<dyn BufRead>> {
    let file = File::open(path)?;
    if let Some(p) = progress {
        p.0.add_total(file.metadata()?.len());
    }
    let counted = Counted {
        file,
        progress: progress.cloned(),
    };
    let f = BufReader::with_capacity(1 << 16, counted);
    let (inner, codec): (Box<dyn Read>, &'static str) = match compression {
        Compression::None => (Box::new(f), ""),
        Compression::Gzip => (Box::new(flate2::read::MultiGzDecoder::new(f)), "gzip"),
        Compression::Zstd => (Box::new(rampart_core::zstd::Decoder::new(f)?), "zstd"),
    };
    Ok(Box::new(BufReader::with_capacity(
        1 << 16,
        Capped {
            inner,
            left: max_bytes,
            limit: max_bytes,
            codec,
            failed: None,
        },
    )))
}

/// `reader`'s text decoded from `encoding` to UTF-8 (None: read as it
/// is, UTF-8, unless its first bytes are UTF-16: a byte-order mark, or
/// NULs at every other place). Bytes the encoding does not map become
/// U+FFFD, as every decoder of legacy encodings does; a byte-order mark
/// wins over `encoding`. UTF-16 asked of bytes with no NUL and no mark
/// is an error: decoded so, a UTF-8 file becomes one line of CJK.
pub fn decode(
    mut reader: Box<dyn BufRead>,
    encoding: Option<&'static encoding_rs::Encoding>,
) -> std::io::Result<Box<dyn BufRead>> {
    let head = reader.fill_buf()?;
    let bom = matches!(head, [0xff, 0xfe, ..] | [0xfe, 0xff, ..]);
    let encoding = match encoding {
        // pandas' `encoding="utf-16"` and Excel's "Unicode text" write a
        // mark; `utf-16-le` writes none, but its NULs say it.
        None if bom => None,
        None => match utf16_order(head) {
            Some(e) => Some(e),
            None => return Ok(reader),
        },
        Some(e)
            if (e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE)
                && !bom
                && !head.is_empty()
                && !head.contains(&0) =>
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "--encoding {}: the file has no NUL bytes and no byte-order mark, so it is not UTF-16 (leave --encoding out for UTF-8)",
                    e.name().to_lowercase()
                ),
            ));
        }
        Some(e) => Some(e),
    };
    Ok(Box::new(BufReader::with_capacity(
        1 << 16,
        encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(encoding)
            .bom_override(true)
            .build(reader),
    )))
}

/// Why `bytes` are not text, with the encoding they most likely are in
/// and the option that reads them.
pub fn invalid_utf8(bytes: &[u8]) -> String {
    let nuls = bytes.iter().filter(|&&b| b == 0).count();
    let hint = if bytes.starts_with(&[0xff, 0xfe])
        || bytes.starts_with(&[0xfe, 0xff])
        || nuls * 4 >= bytes.len() && nuls > 0
    {
        "the bytes look like UTF-16: pass --encoding utf-16le (or utf-16be)"
    } else if bytes.iter().any(|&b| (0x80..0xa0).contains(&b)) {
        "the bytes look like Windows-1252: pass --encoding cp1252"
    } else {
        "the bytes look like Latin-1 or Windows-1252: pass --encoding cp1252 (or latin1, iso-8859-15, ...)"
    };
    format!("invalid UTF-8 ({hint})")
}

/// Up to `n` first bytes.
pub fn head(r: &mut dyn BufRead, n: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(n).read_to_end(&mut buf)?;
    Ok(buf)
}

/// One line: its number, its bytes, and its ending (`\n`, `\r\n` or none
/// at the end of the file).
pub struct Line<'a> {
    pub no: u64,
    pub bytes: &'a [u8],
    pub ending: &'a [u8],
}

/// Lines of at most `max` bytes; a longer one is reported to the tracker
/// as a bad record (skipped, or failing the run) without being held in
/// memory.
pub struct Lines {
    max: usize,
    no: u64,
    buf: Vec<u8>,
}

impl Lines {
    pub fn new(max: usize) -> Self {
        Lines {
            max,
            no: 0,
            buf: Vec::new(),
        }
    }

    pub fn next(
        &mut self,
        r: &mut dyn BufRead,
        tracker: &mut Tracker,
    ) -> Result<Option<Line<'_>>, Error> {
        loop {
            self.buf.clear();
            let n = r
                .take(self.max as u64 + 1)
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| tracker.io(e))?;
            if n == 0 {
                return Ok(None);
            }
            self.no += 1;
            if self.buf.len() > self.max && !self.buf.ends_with(b"\n") {
                skip_line(r).map_err(|e| tracker.io(e))?;
                tracker.bad(self.no, format!("line longer than {} bytes", self.max))?;
                continue;
            }
            let body = if self.buf.ends_with(b"\r\n") {
                self.buf.len() - 2
            } else if self.buf.ends_with(b"\n") {
                self.buf.len() - 1
            } else {
                self.buf.len()
            };
            let (bytes, ending) = self.buf.split_at(body);
            return Ok(Some(Line {
                no: self.no,
                bytes,
                ending,
            }));
        }
    }
}

/// Skips the rest of a line in bounded pieces.
fn skip_line(r: &mut dyn BufRead) -> std::io::Result<()> {
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(());
        }
        if let Some(i) = chunk.iter().position(|&b| b == b'\n') {
            r.consume(i + 1);
            return Ok(());
        }
        let len = chunk.len();
        r.consume(len);
    }
}

/// What a file's first bytes say it is when it is not text: a known
/// binary format by its magic number, or bytes no text holds (NUL outside
/// UTF-16, or many control characters). Read as text such a file yields
/// no records or garbage, and a gate would pass it.
pub fn binary(head: &[u8]) -> Option<String> {
    const MAGIC: &[(&[u8], &str)] = &[
        (
            b"PK\x03\x04",
            "a ZIP archive (an .xlsx, .ods, .docx or .zip file?)",
        ),
        (b"PK\x05\x06", "an empty ZIP archive"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "an OLE2 compound file (a legacy .xls or .doc file?)",
        ),
        (b"%PDF-", "a PDF document"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"SQLite format 3\0", "an SQLite database"),
        (b"ARROW1", "an Arrow IPC (Feather) file"),
        (b"Obj\x01", "an Avro file"),
        (b"\x89HDF\r\n\x1a\n", "an HDF5 file"),
        (b"\x93NUMPY", "a NumPy array"),
        (b"\xFD7zXZ\x00", "an xz-compressed file (decompress it first)"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"\x04\x22\x4D\x18", "an LZ4-compressed file (decompress it first)"),
        (b"\x7FELF", "an executable"),
        (
            b"PAR1",
            "a compressed Parquet file (Parquet compresses its own pages: decompress the file first)",
        ),
    ];
    if let Some((_, what)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        return Some((*what).to_string());
    }
    if head.starts_with(b"BZh") && head.get(4..10) == Some(b"1AY&SY") {
        return Some("a bzip2-compressed file (decompress it first)".into());
    }
    if head.get(257..262) == Some(b"ustar") {
        return Some("a tar archive".into());
    }
    if let [0x80, 2..=5, ..] = head {
        return Some("a Python pickle (scan it with `rampart scan`)".into());
    }
    if looks_utf16(head) {
        return None;
    }
    let nul = head.contains(&0);
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    (nul || control * 100 > head.len()).then(|| {
        format!(
            "binary data ({} control bytes in the first {} bytes{})",
            control,
            head.len(),
            if nul { ", NUL among them" } else { "" }
        )
    })
}

/// A byte-order mark, or NULs at most of one parity (ASCII in UTF-16).
fn looks_utf16(head: &[u8]) -> bool {
    head.starts_with(&[0xff, 0xfe])
        || head.starts_with(&[0xfe, 0xff])
        || utf16_order(head).is_some()
}

/// UTF-16 without a byte-order mark, by where its NULs are: the high
/// bytes of ASCII characters, after each in little-endian order.
fn utf16_order(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let (mut even, mut odd) = (0usize, 0usize);
    for (i, &b) in head.iter().enumerate() {
        if b == 0 {
            if i % 2 == 0 {
                even += 1
            } else {
                odd += 1
            }
        }
    }
    // Random bytes put about as many NULs at even places as at odd ones.
    let nuls = even + odd;
    if nuls < 16.min(head.len() / 4).max(1) || even.max(odd) * 10 < nuls * 9 {
        return None;
    }
    Some(if odd > even {
        encoding_rs::UTF_16LE
    } else {
        encoding_rs::UTF_16BE
    })
}
