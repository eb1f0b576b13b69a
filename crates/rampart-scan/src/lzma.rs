//! xz and .lzma streams read through lzma_rust2's buffer-pair decoders,
//! so that a stream that stops making progress is an error.
//!
//! lzma_rust2's blocking `XzReader` loops forever inside one `read` when
//! an LZMA2 chunk's data runs out before the size its header claims (a
//! 79-byte mutated file did: the scanner's property test hung on it). The
//! buffer-pair API returns after each step, so each step is checked for
//! progress here.

use std::io::{self, Read};

use lzma_rust2::{Action, LzmaStream, Status, StreamResult, XzStream};

/// A decoder driven by input and output buffers.
pub trait Step {
    fn step(&mut self, input: &[u8], output: &mut [u8], action: Action)
        -> io::Result<StreamResult>;
}

impl Step for XzStream {
    fn step(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        action: Action,
    ) -> io::Result<StreamResult> {
        self.process(input, output, action)
            .map_err(io::Error::other)
    }
}

impl Step for LzmaStream {
    fn step(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        action: Action,
    ) -> io::Result<StreamResult> {
        self.process(input, output, action)
            .map_err(io::Error::other)
    }
}

/// Steps in a row that consume and produce nothing before the stream is
/// taken as stuck (a decoder may need a call or two to change state).
const MAX_IDLE_STEPS: u32 = 8;

/// `Read` over a [`Step`] decoder and its compressed input.
pub struct Decoder<S, R> {
    stream: S,
    inner: R,
    input: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    done: bool,
}

/// An xz stream (several concatenated streams, as `xz -d` reads them).
pub fn xz<R: Read>(inner: R) -> Decoder<XzStream, R> {
    Decoder::new(XzStream::new(true), inner)
}

/// A `.lzma` stream, its dictionary bounded to `mem_limit_kb`.
pub fn lzma<R: Read>(inner: R, mem_limit_kb: u32) -> Decoder<LzmaStream, R> {
    Decoder::new(LzmaStream::new_mem_limit(mem_limit_kb, None), inner)
}

impl<S: Step, R: Read> Decoder<S, R> {
    fn new(stream: S, inner: R) -> Self {
        Decoder {
            stream,
            inner,
            input: vec![0; 1 << 16].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            done: false,
        }
    }
}

impl<S: Step, R: Read> Read for Decoder<S, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let mut idle = 0;
        loop {
            if self.start == self.end && !self.eof {
                self.start = 0;
                self.end = self.inner.read(&mut self.input)?;
                self.eof = self.end == 0;
            }
            let action = if self.eof {
                Action::Finish
            } else {
                Action::Run
            };
            let input = self.input.get(self.start..self.end).unwrap_or(&[]);
            let r = self.stream.step(input, buf, action)?;
            self.start = (self.start + r.bytes_consumed).min(self.end);
            if r.status == Status::StreamEnd {
                self.done = true;
                return Ok(r.bytes_produced);
            }
            if r.bytes_produced > 0 {
                return Ok(r.bytes_produced);
            }
            if r.bytes_consumed > 0 {
                idle = 0;
                continue;
            }
            if self.eof {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the stream ends before its end marker (cut short)",
                ));
            }
            idle += 1;
            if idle > MAX_IDLE_STEPS && self.start < self.end {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the decoder stopped making progress (a malformed stream)",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// A mutated xz file on which lzma_rust2's XzReader never returns.
    const STUCK: &str = "fd377a585a000004e6d6b4460200210116000000742fe5a30100148004950a0000000000007d948c0161944b01732e00e50000050373d9d7730af600012d152f0b716d1fb6f37d010000000004595a";

    #[test]
    fn a_stream_that_stops_making_progress_ends_in_an_error() {
        let mut out = Vec::new();
        assert!(xz(&hex(STUCK)[..]).read_to_end(&mut out).is_err());
    }

    #[test]
    fn whole_and_cut_streams() {
        // `printf 'hello xz\n' | xz -c`, written by the reference tool.
        let whole = hex("fd377a585a000004e6d6b4460200210116000000742fe5a301000868656c6c6f20787a0a00000000c1493afa6352145a000121096c18c5d51fb6f37d010000000004595a");
        let mut out = Vec::new();
        xz(&whole[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello xz\n");
        for cut in [whole.len() - 1, whole.len() / 2, 13] {
            let mut out = Vec::new();
            assert!(
                xz(&whole[..cut]).read_to_end(&mut out).is_err(),
                "cut at {cut}"
            );
        }
    }
}
