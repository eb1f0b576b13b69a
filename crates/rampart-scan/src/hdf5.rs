//! The root-group attributes of an HDF5 file, read by a small bounded
//! reader: all a scanner needs from a legacy Keras `.h5` is its
//! `model_config` (and `training_config`) attribute.
//!
//! Why not libhdf5 (the `hdf5-metno` crate): it is a large C library with
//! a long record of memory-safety bugs in exactly the header parsing a
//! hostile file reaches, it would make CI depend on Debian's libhdf5-dev,
//! and it reads far more than we need. This reader follows the HDF5 File
//! Format Specification 3.0 for what it touches: superblock versions 0 to
//! 3, object headers v1 and v2 with continuation chunks, attribute messages
//! v1 to v3, fixed-length and variable-length strings (global heap). Every
//! address is checked against the file, every size is capped, and chunks
//! are counted. Attributes kept in dense storage (a fractal heap, used
//! when an object has many or very large attributes) are not read: the
//! caller reports that as incomplete, never as clean.

use std::io;

use crate::source::{read_exact_at, SeekSource};

pub const SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";
/// Largest object-header chunk and attribute value read.
const MAX_CHUNK: u64 = 64 << 20;
/// Most continuation chunks and messages followed in one object header.
const MAX_CHUNKS: usize = 256;
const MAX_MESSAGES: usize = 65_536;
/// Attribute values kept, in total.
const MAX_KEPT: usize = 128 << 20;
/// Bytes read from the file in all (structures may point at the same
/// bytes many times: the budget bounds the work, not only the memory).
const MAX_READ: u64 = 256 << 20;
/// Attribute messages decoded.
const MAX_ATTRIBUTES: usize = 4096;

/// A root attribute: its name and, for string attributes, the bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub value: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
pub struct Root {
    pub attributes: Vec<Attribute>,
    /// The root group keeps (some) attributes in dense storage, not read.
    pub dense_attributes: bool,
    /// Where the superblock says the file ends (absolute): past the bytes
    /// there are, the file was cut short, and libhdf5 refuses it.
    pub end_of_file: u64,
}

type R<T> = Result<T, String>;

struct File<'a> {
    src: &'a mut dyn SeekSource,
    len: u64,
    /// Bytes still allowed to be read.
    budget: u64,
    base: u64,
    offset_size: usize,
    length_size: usize,
}

fn uint(b: &[u8], at: usize, size: usize) -> R<u64> {
    let bytes = b
        .get(at..at + size)
        .ok_or_else(|| format!("field at {at} runs past its structure"))?;
    let mut v = 0u64;
    for (i, &x) in bytes.iter().enumerate().take(8) {
        v |= u64::from(x) << (8 * i);
    }
    Ok(v)
}

fn byte(b: &[u8], at: usize) -> R<u8> {
    b.get(at)
        .copied()
        .ok_or_else(|| format!("byte {at} missing"))
}

impl File<'_> {
    fn read(&mut self, addr: u64, len: u64) -> R<Vec<u8>> {
        if len > MAX_CHUNK {
            return Err(format!(
                "structure of {len} bytes at {addr} is over the limit"
            ));
        }
        self.budget = self
            .budget
            .checked_sub(len)
            .ok_or("the file's structures point at more than 256 MiB of reads")?;
        let at = self.base.checked_add(addr).ok_or("address overflows")?;
        if at.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(format!(
                "address {addr} (+{len} bytes) is past the end of the file"
            ));
        }
        read_exact_at(self.src, at, len as usize).map_err(|e: io::Error| e.to_string())
    }

    fn undefined(&self, addr: u64) -> bool {
        addr == u64::MAX >> (64 - 8 * self.offset_size as u32)
    }
}

/// Finds the superblock (at 0, 512, 1024, ... for files with a user
/// block) and reads the root group's attributes.
pub fn read_root(src: &mut dyn SeekSource, len: u64) -> R<Root> {
    let mut at = 0u64;
    loop {
        if at >= len || at > 1 << 30 {
            return Err("no HDF5 superblock signature".into());
        }
        if read_exact_at(src, at, 8).is_ok_and(|s| s == SIGNATURE) {
            break;
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    let head = read_exact_at(src, at, 96.min((len - at) as usize)).map_err(|e| e.to_string())?;
    let version = byte(&head, 8)?;
    let (offset_size, length_size, root_addr, base, eof) = match version {
        0 | 1 => {
            let o = usize::from(byte(&head, 13)?);
            let l = usize::from(byte(&head, 14)?);
            check_sizes(o, l)?;
            let fields = if version == 0 { 24 } else { 28 };
            let base = uint(&head, fields, o)?;
            // Root symbol table entry after four addresses: link name
            // offset, then the object header address.
            let root = uint(&head, fields + 4 * o + o, o)?;
            let eof = uint(&head, fields + 2 * o, o)?;
            (o, l, root, base, eof)
        }
        2 | 3 => {
            let o = usize::from(byte(&head, 9)?);
            let l = usize::from(byte(&head, 10)?);
            check_sizes(o, l)?;
            let base = uint(&head, 12, o)?;
            let root = uint(&head, 12 + 3 * o, o)?;
            let eof = uint(&head, 12 + 2 * o, o)?;
            (o, l, root, base, eof)
        }
        v => return Err(format!("unknown superblock version {v}")),
    };
    // Addresses are relative to the base, which is the superblock's own
    // position unless the file says otherwise.
    let base = if base == 0 { at } else { base };
    let mut f = File {
        src,
        len,
        budget: MAX_READ,
        base,
        offset_size,
        length_size,
    };
    let mut root = Root {
        end_of_file: base.saturating_add(eof),
        ..Root::default()
    };
    let messages = object_header(&mut f, root_addr)?;
    let mut kept = 0usize;
    for (ty, data) in messages {
        match ty {
            0x000C => {
                let mut a = attribute(&mut f, &data)?;
                kept += a.value.as_ref().map_or(0, Vec::len);
                if kept > MAX_KEPT {
                    a.value = None;
                }
                root.attributes.push(a);
            }
            // Attribute Info: dense storage when the fractal heap address
            // is defined.
            0x0015 => {
                let flags = byte(&data, 1)?;
                let at = 2 + if flags & 1 != 0 { 8 } else { 0 };
                let heap = uint(&data, at, f.offset_size)?;
                if !f.undefined(heap) {
                    root.dense_attributes = true;
                }
            }
            _ => {}
        }
    }
    Ok(root)
}

fn check_sizes(o: usize, l: usize) -> R<()> {
    if [2, 4, 8].contains(&o) && [2, 4, 8].contains(&l) {
        Ok(())
    } else {
        Err(format!(
            "unsupported sizes of offsets ({o}) and lengths ({l})"
        ))
    }
}

/// All messages of an object header, continuation chunks included:
/// (type, data).
fn object_header(f: &mut File<'_>, addr: u64) -> R<Vec<(u16, Vec<u8>)>> {
    let prefix = f.read(addr, 16)?;
    let mut out = Vec::new();
    let mut pending: Vec<(u64, u64)> = Vec::new();
    let v2 = prefix.starts_with(b"OHDR");
    let mut chunks = 0;
    let mut flags = 0u8;
    if v2 {
        flags = byte(&prefix, 5)?;
        let mut at = 6 + if flags & 0x20 != 0 { 16 } else { 0 };
        if flags & 0x10 != 0 {
            at += 4;
        }
        let size_len = 1usize << (flags & 3);
        let head = f.read(addr, (at + size_len) as u64)?;
        let size = uint(&head, at, size_len)?;
        let body_at = addr + (at + size_len) as u64;
        let body = f.read(body_at, size)?;
        messages_v2(&body, flags, f, &mut out, &mut pending)?;
    } else {
        if byte(&prefix, 0)? != 1 {
            return Err(format!(
                "unknown object header version {}",
                byte(&prefix, 0)?
            ));
        }
        let size = uint(&prefix, 8, 4)?;
        let body = f.read(addr + 16, size)?;
        messages_v1(&body, f, &mut out, &mut pending)?;
    }
    while let Some((at, len)) = pending.pop() {
        chunks += 1;
        if chunks > MAX_CHUNKS || out.len() > MAX_MESSAGES {
            return Err("object header has too many chunks or messages".into());
        }
        let chunk = f.read(at, len)?;
        if v2 {
            let body = chunk
                .strip_prefix(b"OCHK".as_slice())
                .ok_or("continuation chunk without its OCHK signature")?;
            let body = body.get(..body.len().saturating_sub(4)).unwrap_or_default();
            messages_v2(body, flags, f, &mut out, &mut pending)?;
        } else {
            messages_v1(&chunk, f, &mut out, &mut pending)?;
        }
    }
    Ok(out)
}

type Sink<'a> = (&'a mut Vec<(u16, Vec<u8>)>, &'a mut Vec<(u64, u64)>);

fn keep(f: &File<'_>, ty: u16, data: &[u8], (out, pending): Sink<'_>) -> R<()> {
    if ty == 0x0010 {
        let at = uint(data, 0, f.offset_size)?;
        let len = uint(data, f.offset_size, f.length_size)?;
        pending.push((at, len));
    } else if matches!(ty, 0x000C | 0x0015) && out.len() < MAX_ATTRIBUTES {
        out.push((ty, data.to_vec()));
    }
    Ok(())
}

fn messages_v1(
    body: &[u8],
    f: &File<'_>,
    out: &mut Vec<(u16, Vec<u8>)>,
    pending: &mut Vec<(u64, u64)>,
) -> R<()> {
    let mut at = 0usize;
    while at + 8 <= body.len() {
        let ty = uint(body, at, 2)? as u16;
        let size = uint(body, at + 2, 2)? as usize;
        let data = body
            .get(at + 8..at + 8 + size)
            .ok_or("header message runs past its chunk")?;
        keep(f, ty, data, (out, pending))?;
        at += 8 + size;
    }
    Ok(())
}

fn messages_v2(
    body: &[u8],
    flags: u8,
    f: &File<'_>,
    out: &mut Vec<(u16, Vec<u8>)>,
    pending: &mut Vec<(u64, u64)>,
) -> R<()> {
    let head = if flags & 0x04 != 0 { 6 } else { 4 };
    let mut at = 0usize;
    while at + head <= body.len() {
        let ty = u16::from(byte(body, at)?);
        let size = uint(body, at + 1, 2)? as usize;
        let data = body
            .get(at + head..at + head + size)
            .ok_or("header message runs past its chunk")?;
        keep(f, ty, data, (out, pending))?;
        at += head + size;
    }
    Ok(())
}

fn pad8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// An attribute message: name, datatype, dataspace, then the data.
fn attribute(f: &mut File<'_>, m: &[u8]) -> R<Attribute> {
    let version = byte(m, 0)?;
    let flags = byte(m, 1)?;
    let name_len = uint(m, 2, 2)? as usize;
    let type_len = uint(m, 4, 2)? as usize;
    let space_len = uint(m, 6, 2)? as usize;
    let (name_at, padded) = match version {
        1 => (8, true),
        2 => (8, false),
        3 => (9, false),
        v => return Err(format!("unknown attribute message version {v}")),
    };
    let size = |n: usize| if padded { pad8(n) } else { n };
    let name_bytes = m
        .get(name_at..name_at + name_len)
        .ok_or("attribute name runs past the message")?;
    let name = String::from_utf8_lossy(name_bytes.split(|&b| b == 0).next().unwrap_or_default())
        .into_owned();
    let type_at = name_at + size(name_len);
    let dtype = m
        .get(type_at..type_at + type_len)
        .ok_or("attribute datatype runs past the message")?;
    let space_at = type_at + size(type_len);
    let space = m
        .get(space_at..space_at + space_len)
        .ok_or("attribute dataspace runs past the message")?;
    let data = m.get(space_at + size(space_len)..).unwrap_or_default();
    if flags & 0x03 != 0 {
        // Shared datatype or dataspace: a reference elsewhere; names only.
        return Ok(Attribute { name, value: None });
    }
    let count = elements(space, f.length_size)?;
    let value = string_value(f, dtype, data, count)?;
    Ok(Attribute { name, value })
}

/// Number of elements in a dataspace message (scalar: 1).
fn elements(space: &[u8], length_size: usize) -> R<u64> {
    let version = byte(space, 0)?;
    let rank = usize::from(byte(space, 1)?);
    let (dims_at, null) = match version {
        1 => (8, false),
        2 => (4, byte(space, 3)? == 2),
        v => return Err(format!("unknown dataspace version {v}")),
    };
    if null {
        return Ok(0);
    }
    let mut n = 1u64;
    for i in 0..rank {
        let d = uint(space, dims_at + length_size * i, length_size)?;
        n = n.checked_mul(d).ok_or("dataspace size overflows")?;
    }
    Ok(n)
}

/// The bytes of a scalar (or one-element) string attribute; `None` for
/// other types.
fn string_value(f: &mut File<'_>, dtype: &[u8], data: &[u8], count: u64) -> R<Option<Vec<u8>>> {
    let class = byte(dtype, 0)? & 0x0f;
    let size = uint(dtype, 4, 4)? as usize;
    if count != 1 {
        return Ok(None);
    }
    match class {
        // Fixed-length string: the bytes, up to the first NUL.
        3 => {
            let raw = data.get(..size).ok_or("string attribute data is short")?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            Ok(raw.get(..end).map(<[u8]>::to_vec))
        }
        // Variable-length: a sequence of characters when the type is 1.
        9 if byte(dtype, 1)? & 0x0f == 1 => {
            let len = uint(data, 0, 4)?;
            let heap = uint(data, 4, f.offset_size)?;
            let index = uint(data, 4 + f.offset_size, 4)?;
            global_heap_object(f, heap, index, len).map(Some)
        }
        _ => Ok(None),
    }
}

/// Object `index` of the global heap collection at `addr`.
fn global_heap_object(f: &mut File<'_>, addr: u64, index: u64, want: u64) -> R<Vec<u8>> {
    let head = f.read(addr, 8 + f.length_size as u64)?;
    if !head.starts_with(b"GCOL") {
        return Err("global heap collection without its GCOL signature".into());
    }
    let size = uint(&head, 8, f.length_size)?;
    let coll = f.read(addr, size)?;
    let mut at = 8 + f.length_size;
    while at + 8 + f.length_size <= coll.len() {
        let idx = uint(&coll, at, 2)?;
        let obj_size = uint(&coll, at + 8, f.length_size)? as usize;
        let data_at = at + 8 + f.length_size;
        if idx == 0 {
            break;
        }
        if idx == index {
            let take = obj_size.min(want as usize);
            return coll
                .get(data_at..data_at + take)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| "global heap object runs past its collection".into());
        }
        at = data_at + pad8(obj_size);
    }
    Err(format!("global heap object {index} not found"))
}
