//! Byte sources the scanner reads: a buffered, bounded stream with cheap
//! skipping, so that large payloads are passed over without being copied.

use std::io::{self, Read, Seek, SeekFrom};

/// Something we read from. `skip` lets seekable inputs jump over payloads
/// instead of reading them.
pub trait Source: Read {
    /// Advances by up to `n` bytes; returns how many were skipped (fewer
    /// only at end of input).
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        io::copy(&mut self.take(n), &mut io::sink())
    }
}

/// A source that can also seek (files, stored archive members, spools).
pub trait SeekSource: Source + Seek {}
impl<T: Source + Seek> SeekSource for T {}

impl Source for std::fs::File {
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        seek_skip(self, n)
    }
}

impl<T: AsRef<[u8]>> Source for io::Cursor<T> {
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        seek_skip(self, n)
    }
}

impl Source for &mut dyn Source {
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        (**self).skip(n)
    }
}

impl<R: Read> Source for io::Take<R> {}

/// A reader wrapped to be a [`Source`] that skips by reading.
pub struct Reading<R>(pub R);

impl<R: Read> Read for Reading<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}
impl<R: Read> Source for Reading<R> {}

/// Skips by seeking, never past the end.
fn seek_skip<S: Seek>(s: &mut S, n: u64) -> io::Result<u64> {
    let pos = s.stream_position()?;
    let end = s.seek(SeekFrom::End(0))?;
    let to = pos.saturating_add(n).min(end);
    s.seek(SeekFrom::Start(to))?;
    Ok(to - pos)
}

/// The little-endian integer at byte `at` of `b`; `None` past the end.
pub fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// See [`le_u16`].
pub fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// See [`le_u16`].
pub fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Up to `len` bytes at offset `at` (fewer at the end of the input).
pub fn read_at(src: &mut dyn SeekSource, at: u64, len: usize) -> io::Result<Vec<u8>> {
    src.seek(SeekFrom::Start(at))?;
    let mut v = Vec::with_capacity(len.min(1 << 20));
    src.take(len as u64).read_to_end(&mut v)?;
    Ok(v)
}

/// Exactly `len` bytes at offset `at`, or an error saying the input ends.
pub fn read_exact_at(src: &mut dyn SeekSource, at: u64, len: usize) -> io::Result<Vec<u8>> {
    let v = read_at(src, at, len)?;
    if v.len() < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{len} bytes expected at offset {at}, file ends first"),
        ));
    }
    Ok(v)
}

/// A window `[start, start+len)` of a seekable source, itself seekable:
/// a stored zip member read in place.
pub struct Section<'a> {
    inner: &'a mut dyn SeekSource,
    start: u64,
    len: u64,
    pos: u64,
}

impl<'a> Section<'a> {
    pub fn new(inner: &'a mut dyn SeekSource, start: u64, len: u64) -> io::Result<Self> {
        inner.seek(SeekFrom::Start(start))?;
        Ok(Section {
            inner,
            start,
            len,
            pos: 0,
        })
    }
}

impl Read for Section<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = (buf.len() as u64).min(left) as usize;
        if want == 0 {
            return Ok(0);
        }
        let Some(window) = buf.get_mut(..want) else {
            return Ok(0);
        };
        let n = self.inner.read(window)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Section<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        self.inner
            .seek(SeekFrom::Start(self.start.saturating_add(target)))?;
        self.pos = target;
        Ok(target)
    }
}

impl Source for Section<'_> {
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let to = self.pos.saturating_add(n).min(self.len);
        let d = to - self.pos;
        self.seek(SeekFrom::Start(to))?;
        Ok(d)
    }
}

const BUF: usize = 64 * 1024;

/// Buffered reader for the pickle VM: byte-at-a-time reads are cheap,
/// `skip` passes large payloads without copying them, and an optional
/// limit confines a nested parse to a sub-range.
pub struct Stream<'a> {
    src: &'a mut dyn Source,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Offset of `buf[pos]` from where the stream started.
    offset: u64,
    /// Bytes still allowed to be consumed (`u64::MAX`: unbounded).
    limit: u64,
    eof: bool,
}

impl<'a> Stream<'a> {
    pub fn new(src: &'a mut dyn Source) -> Self {
        Stream {
            src,
            buf: vec![0; BUF],
            pos: 0,
            end: 0,
            offset: 0,
            limit: u64::MAX,
            eof: false,
        }
    }

    /// Offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Confines reads to the next `n` bytes; returns the previous limit for
    /// [`Stream::restore_limit`].
    pub fn push_limit(&mut self, n: u64) -> u64 {
        let prev = self.limit;
        self.limit = n.min(prev);
        prev
    }

    /// Restores the limit saved by `push_limit`, minus what was consumed
    /// since (`consumed`).
    pub fn restore_limit(&mut self, prev: u64, consumed: u64) {
        self.limit = prev.saturating_sub(consumed);
    }

    fn fill(&mut self) -> io::Result<()> {
        if self.pos < self.end || self.eof {
            return Ok(());
        }
        self.pos = 0;
        self.end = 0;
        loop {
            match self.src.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The next byte, or `None` at end of input (or of the limit).
    #[inline]
    pub fn byte(&mut self) -> io::Result<Option<u8>> {
        if self.limit == 0 {
            return Ok(None);
        }
        if self.pos >= self.end {
            self.fill()?;
        }
        match self.buf.get(self.pos) {
            Some(&b) if self.pos < self.end => {
                self.pos += 1;
                self.offset += 1;
                self.limit = self.limit.saturating_sub(1);
                Ok(Some(b))
            }
            _ => Ok(None),
        }
    }

    /// Looks at up to `n` upcoming bytes (n <= 64 KiB) without consuming
    /// them. Fewer are returned near the end.
    pub fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let n = n
            .min(BUF)
            .min(usize::try_from(self.limit).unwrap_or(usize::MAX));
        if self.end - self.pos < n && !self.eof {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            while self.end < n {
                let Some(free) = self.buf.get_mut(self.end..) else {
                    break;
                };
                match self.src.read(free) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(k) => self.end += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let have = (self.end - self.pos).min(n);
        Ok(self.buf.get(self.pos..self.pos + have).unwrap_or(&[]))
    }

    /// Appends exactly `n` bytes to `out`, or returns `Ok(false)` at end of
    /// input (what was available is appended).
    pub fn read_into(&mut self, n: usize, out: &mut Vec<u8>) -> io::Result<bool> {
        let mut left = n;
        while left > 0 {
            if self.limit == 0 {
                return Ok(false);
            }
            if self.pos >= self.end {
                self.fill()?;
                if self.pos >= self.end {
                    return Ok(false);
                }
            }
            let take = left
                .min(self.end - self.pos)
                .min(usize::try_from(self.limit).unwrap_or(usize::MAX));
            out.extend_from_slice(self.buf.get(self.pos..self.pos + take).unwrap_or(&[]));
            self.pos += take;
            self.offset += take as u64;
            self.limit = self.limit.saturating_sub(take as u64);
            left -= take;
        }
        Ok(true)
    }

    /// Reads bytes up to and including `\n`, at most `max` bytes. Returns
    /// `None` at end of input before a newline or when the line is longer
    /// than `max` (`out` then holds what was read).
    pub fn line(&mut self, max: usize, out: &mut Vec<u8>) -> io::Result<Option<()>> {
        out.clear();
        while let Some(b) = self.byte()? {
            if b == b'\n' {
                return Ok(Some(()));
            }
            if out.len() >= max {
                return Ok(None);
            }
            out.push(b);
        }
        Ok(None)
    }

    /// Skips `n` bytes without keeping them. Returns how many were skipped.
    pub fn skip(&mut self, n: u64) -> io::Result<u64> {
        let n = n.min(self.limit);
        let buffered = ((self.end - self.pos) as u64).min(n);
        self.pos += buffered as usize;
        let mut done = buffered;
        if done < n {
            done += self.src.skip(n - done)?;
        }
        self.offset += done;
        self.limit -= done;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_peeks_skips_and_limits() {
        let data: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
        let mut cur = io::Cursor::new(data.clone());
        let mut s = Stream::new(&mut cur);
        assert_eq!(s.byte().unwrap(), Some(0));
        assert_eq!(s.peek(3).unwrap(), &[1, 2, 3]);
        assert_eq!(s.skip(99_999).unwrap(), 99_999);
        assert_eq!(s.offset(), 100_000);
        assert_eq!(s.byte().unwrap(), Some(data[100_000]));
        let prev = s.push_limit(2);
        let mut v = Vec::new();
        assert!(!s.read_into(5, &mut v).unwrap());
        assert_eq!(v.len(), 2);
        s.restore_limit(prev, 2);
        assert_eq!(s.skip(u64::MAX).unwrap(), 200_000 - 100_003);
        assert_eq!(s.byte().unwrap(), None);
    }

    #[test]
    fn section_is_a_window() {
        let mut cur = io::Cursor::new((0..100u8).collect::<Vec<_>>());
        let mut sec = Section::new(&mut cur, 10, 5).unwrap();
        let mut v = Vec::new();
        sec.read_to_end(&mut v).unwrap();
        assert_eq!(v, vec![10, 11, 12, 13, 14]);
        sec.seek(SeekFrom::Start(1)).unwrap();
        assert_eq!(sec.skip(10).unwrap(), 4);
    }
}
