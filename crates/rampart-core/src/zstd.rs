//! Zstandard streams read as `zstd -d` reads them: every frame in turn
//! (pzstd and `cat a.zst b.zst` write several), skippable frames
//! skipped, and each frame's content checksum checked.
//!
//! ruzstd's `StreamingDecoder` decodes one frame, stops quietly at its
//! end and never compares the checksum it computes: data after the first
//! frame would go unread and a corrupted frame would read as clean.

use std::io::{self, BufReader, Read};

use ruzstd::decoding::{FrameDecoder, StreamingDecoder};

/// The magic number of a frame.
const FRAME: u32 = 0xFD2F_B528;

/// The magic numbers of skippable frames: `0x184D2A50..=0x184D2A5F`.
const SKIPPABLE: std::ops::RangeInclusive<u32> = 0x184D_2A50..=0x184D_2A5F;

/// Whether `head` starts a Zstandard stream: a frame, or a skippable
/// frame (pzstd writes one first, holding the frames' sizes).
pub fn starts_stream(head: &[u8]) -> bool {
    match head.get(..4) {
        Some(&[a, b, c, d]) => {
            let magic = u32::from_le_bytes([a, b, c, d]);
            magic == FRAME || SKIPPABLE.contains(&magic)
        }
        _ => false,
    }
}

/// A reader of every frame of a Zstandard stream.
pub struct Decoder<R: Read> {
    state: State<R>,
}

type Frame<R> = StreamingDecoder<Source<R>, FrameDecoder>;

enum State<R: Read> {
    Frame(Box<Frame<R>>),
    Done,
}

impl<R: Read> Decoder<R> {
    /// Reads the first frame's header: an error when `source` does not
    /// start with a Zstandard frame.
    pub fn new(source: R) -> io::Result<Self> {
        let source = BufReader::with_capacity(1 << 16, source);
        match next_frame(source)? {
            Some(frame) => Ok(Decoder {
                state: State::Frame(start(frame)?),
            }),
            None => Err(invalid("the zstd stream is empty")),
        }
    }
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// A frame's source: its magic number, read to tell frames apart, put
/// back in front of the rest.
type Source<R> = io::Chain<io::Cursor<[u8; 4]>, BufReader<R>>;

/// Skips skippable frames; the source of the next frame to decode, if
/// any.
fn next_frame<R: Read>(mut source: BufReader<R>) -> io::Result<Option<Source<R>>> {
    loop {
        let mut magic = [0u8; 4];
        let mut got = 0;
        while let Some(rest) = magic.get_mut(got..).filter(|r| !r.is_empty()) {
            match source.read(rest)? {
                0 => break,
                n => got += n,
            }
        }
        match got {
            0 => return Ok(None),
            4 => {}
            _ => {
                return Err(invalid(
                    "the zstd stream ends with a few bytes that are not a frame",
                ))
            }
        }
        let number = u32::from_le_bytes(magic);
        if number == FRAME {
            return Ok(Some(io::Cursor::new(magic).chain(source)));
        }
        if !SKIPPABLE.contains(&number) {
            return Err(invalid(
                "the zstd stream is followed by bytes that are not a zstd frame (appended or corrupted data)",
            ));
        }
        let mut length = [0u8; 4];
        source.read_exact(&mut length).map_err(|_| cut_short())?;
        let length = u64::from(u32::from_le_bytes(length));
        let skipped = io::copy(&mut source.by_ref().take(length), &mut io::sink())?;
        if skipped != length {
            return Err(cut_short());
        }
    }
}

fn cut_short() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the zstd stream ends in the middle of a frame",
    )
}

fn start<R: Read>(source: Source<R>) -> io::Result<Box<Frame<R>>> {
    StreamingDecoder::new(source)
        .map(Box::new)
        .map_err(|_| invalid("a zstd frame header is damaged or cut short"))
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let State::Frame(frame) = &mut self.state else {
                return Ok(0);
            };
            let n = frame.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let State::Frame(frame) = std::mem::replace(&mut self.state, State::Done) else {
                return Ok(0);
            };
            let (source, decoder) = frame.into_parts();
            if !decoder.is_finished() {
                return Err(cut_short());
            }
            if let Some(expected) = decoder.get_checksum_from_data() {
                if decoder.get_calculated_checksum() != Some(expected) {
                    return Err(invalid(
                        "a zstd frame's content checksum does not match its data (the file is corrupted or was altered)",
                    ));
                }
            }
            let (_magic, rest) = source.into_inner();
            if let Some(next) = next_frame(rest)? {
                self.state = State::Frame(start(next)?);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Decoder::new(bytes)?.read_to_end(&mut out)?;
        Ok(out)
    }

    fn compress(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    #[test]
    fn every_frame_is_read_and_skippable_frames_are_skipped() {
        let mut bytes = compress(b"first frame\n");
        bytes.extend_from_slice(&0x184D_2A53u32.to_le_bytes());
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(b"xyz");
        bytes.extend(compress(b"second frame\n"));
        assert_eq!(decode(&bytes).unwrap(), b"first frame\nsecond frame\n");
        // pzstd starts with a skippable frame.
        let mut pzstd = 0x184D_2A50u32.to_le_bytes().to_vec();
        pzstd.extend_from_slice(&4u32.to_le_bytes());
        pzstd.extend_from_slice(&[0, 0, 0, 0]);
        pzstd.extend(compress(b"data\n"));
        assert!(starts_stream(&pzstd) && starts_stream(&bytes));
        assert!(!starts_stream(b"id,name\n"));
        assert_eq!(decode(&pzstd).unwrap(), b"data\n");
    }

    #[test]
    fn a_corrupted_checksum_is_an_error() {
        let mut bytes = compress(b"some text that is checked\n");
        let flag = bytes[4];
        assert!(flag & 0x04 != 0, "the encoder writes checksums");
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        let err = decode(&bytes).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
    }

    proptest::proptest! {
        /// Random and mutated frames: never a panic, and whatever is
        /// read back is never more than the frames could hold.
        #[test]
        fn hostile_streams_end_in_data_or_an_error(
            text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            flips in proptest::collection::vec((0usize..2000, 0u8..=255), 0..6),
            cut in 0usize..2000,
        ) {
            let mut bytes = compress(&text);
            bytes.extend(compress(&text));
            let whole = decode(&bytes).unwrap();
            proptest::prop_assert_eq!(whole.len(), text.len() * 2);
            let len = bytes.len();
            for (at, x) in flips {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b ^= x;
                }
            }
            bytes.truncate(cut.max(1));
            if let Ok(out) = decode(&bytes) {
                proptest::prop_assert!(out.len() <= 2 << 20);
            }
        }
    }

    #[test]
    fn a_cut_stream_and_trailing_garbage_are_errors() {
        let bytes = compress(b"some text\n");
        assert!(decode(&bytes[..bytes.len() - 2]).is_err());
        let mut trailing = bytes.clone();
        trailing.extend_from_slice(b"junk after the frame");
        assert!(decode(&trailing).is_err());
        assert!(decode(b"").is_err());
    }
}
