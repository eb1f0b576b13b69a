//! A lenient zip reader: reads members the way PyTorch's miniz-based
//! loader and Python's `zipfile` do, so that no member a loader can read is
//! hidden from the scanner. Flag bits (encryption 0x1, patch 0x20, strong
//! encryption 0x40), CRC mismatches, local/central name mismatches and
//! prepended bytes never make a member unreadable; each is reported as a
//! parser-differential finding instead.

use crate::source::{le_u16, le_u32, le_u64, read_at, SeekSource};
use std::io;

const EOCD: &[u8; 4] = b"PK\x05\x06";
const EOCD64_LOCATOR: &[u8; 4] = b"PK\x06\x07";
const EOCD64: &[u8; 4] = b"PK\x06\x06";
const CENTRAL: &[u8; 4] = b"PK\x01\x02";
const LOCAL: &[u8; 4] = b"PK\x03\x04";

/// One member, as the central directory and its local header describe it.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub local_name: Option<String>,
    pub method: u16,
    pub flags: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub size: u64,
    /// Absolute offset of the member's data.
    pub data_offset: u64,
}

/// A zip's directory.
#[derive(Debug)]
pub struct Directory {
    pub members: Vec<Member>,
    /// Bytes before the first local header (a prepended payload).
    pub prepended: u64,
    /// Members listed beyond the scanner's limit.
    pub truncated: bool,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Position of the end-of-central-directory record, if the input has one.
pub fn find_eocd(src: &mut dyn SeekSource, len: u64) -> io::Result<Option<u64>> {
    let tail_len = len.min(22 + 65_535 + 20);
    let start = len - tail_len;
    let tail = read_at(src, start, tail_len as usize)?;
    let pos = tail
        .windows(4)
        .enumerate()
        .rev()
        .filter(|(_, w)| w == EOCD)
        .map(|(i, _)| i)
        .find(|&i| i + 22 <= tail.len());
    Ok(pos.map(|i| start + i as u64))
}

/// Reads the central directory, listing at most `max_members` members.
pub fn read_directory(
    src: &mut dyn SeekSource,
    len: u64,
    max_members: u64,
) -> io::Result<Directory> {
    let eocd_pos = find_eocd(src, len)?.ok_or_else(|| bad("no end-of-central-directory record"))?;
    let eocd = read_at(src, eocd_pos, 22)?;
    let mut entries = u64::from(le_u16(&eocd, 10).ok_or_else(|| bad("short EOCD"))?);
    let mut cd_size = u64::from(le_u32(&eocd, 12).ok_or_else(|| bad("short EOCD"))?);
    let mut cd_offset = u64::from(le_u32(&eocd, 16).ok_or_else(|| bad("short EOCD"))?);
    let mut cd_end = eocd_pos;
    if eocd_pos >= 20 {
        let loc = read_at(src, eocd_pos - 20, 20)?;
        if loc.get(0..4) == Some(EOCD64_LOCATOR) {
            let rec_off = le_u64(&loc, 8).ok_or_else(|| bad("short ZIP64 locator"))?;
            // The ZIP64 record sits just before the locator; with prepended
            // bytes its stored offset is off by the same delta.
            let rec_pos = eocd_pos - 20;
            let rec = read_at(src, rec_pos.saturating_sub(56), 56)?;
            let rec = if rec.get(0..4) == Some(EOCD64) {
                rec
            } else {
                read_at(src, rec_off, 56)?
            };
            if rec.get(0..4) == Some(EOCD64) {
                entries = le_u64(&rec, 32).unwrap_or(entries);
                cd_size = le_u64(&rec, 40).unwrap_or(cd_size);
                cd_offset = le_u64(&rec, 48).unwrap_or(cd_offset);
                cd_end = rec_pos.saturating_sub(56);
            }
        }
    }
    // Prepended bytes shift everything by the same delta.
    let delta = cd_end.saturating_sub(cd_offset.saturating_add(cd_size));
    let mut cd_at = cd_offset + delta;
    if read_at(src, cd_at, 4)?.as_slice() != CENTRAL && entries > 0 {
        if read_at(src, cd_offset, 4)?.as_slice() == CENTRAL {
            cd_at = cd_offset;
        } else {
            return Err(bad("central directory not found where the EOCD says"));
        }
    }
    let base = cd_at - cd_offset;
    let cd = read_at(src, cd_at, cd_size.min(len) as usize)?;
    let mut members = Vec::new();
    let mut i = 0usize;
    let mut truncated = false;
    while cd.get(i..i + 4) == Some(CENTRAL) {
        if members.len() as u64 >= max_members {
            truncated = true;
            break;
        }
        let h = cd
            .get(i..i + 46)
            .ok_or_else(|| bad("central directory entry truncated"))?;
        let flags = le_u16(h, 8).unwrap_or(0);
        let method = le_u16(h, 10).unwrap_or(0);
        let crc32 = le_u32(h, 16).unwrap_or(0);
        let mut csize = u64::from(le_u32(h, 20).unwrap_or(0));
        let mut usize_ = u64::from(le_u32(h, 24).unwrap_or(0));
        let nlen = usize::from(le_u16(h, 28).unwrap_or(0));
        let xlen = usize::from(le_u16(h, 30).unwrap_or(0));
        let clen = usize::from(le_u16(h, 32).unwrap_or(0));
        let mut local = u64::from(le_u32(h, 42).unwrap_or(0));
        let name_b = cd
            .get(i + 46..i + 46 + nlen)
            .ok_or_else(|| bad("entry name truncated"))?;
        let extra = cd.get(i + 46 + nlen..i + 46 + nlen + xlen).unwrap_or(&[]);
        // ZIP64 extra field: only the fields that were 0xFFFFFFFF, in order.
        let mut j = 0;
        while let (Some(id), Some(sz)) = (le_u16(extra, j), le_u16(extra, j + 2)) {
            let body = extra.get(j + 4..j + 4 + usize::from(sz)).unwrap_or(&[]);
            if id == 1 {
                let mut k = 0;
                if usize_ == 0xFFFF_FFFF {
                    usize_ = le_u64(body, k).unwrap_or(usize_);
                    k += 8;
                }
                if csize == 0xFFFF_FFFF {
                    csize = le_u64(body, k).unwrap_or(csize);
                    k += 8;
                }
                if local == 0xFFFF_FFFF {
                    local = le_u64(body, k).unwrap_or(local);
                }
            }
            j += 4 + usize::from(sz);
        }
        i += 46 + nlen + xlen + clen;
        let name = String::from_utf8_lossy(name_b).into_owned();
        let lh_pos = local.saturating_add(base);
        let lh = read_at(src, lh_pos, 30)?;
        if lh.get(0..4) != Some(LOCAL) {
            return Err(bad(format!(
                "member {name}: no local header at offset {lh_pos}"
            )));
        }
        let lnlen = u64::from(le_u16(&lh, 26).unwrap_or(0));
        let lxlen = u64::from(le_u16(&lh, 28).unwrap_or(0));
        let local_name_b = read_at(src, lh_pos + 30, lnlen as usize)?;
        let local_name = String::from_utf8_lossy(&local_name_b).into_owned();
        members.push(Member {
            local_name: (local_name != name).then_some(local_name),
            name,
            method,
            flags,
            crc32,
            compressed_size: csize,
            size: usize_,
            data_offset: lh_pos + 30 + lnlen + lxlen,
        });
    }
    Ok(Directory {
        members,
        prepended: base,
        truncated,
    })
}

/// True when the head looks like a zip (local header or empty archive).
pub fn is_zip_head(head: &[u8]) -> bool {
    head.starts_with(LOCAL) || head.starts_with(EOCD)
}
