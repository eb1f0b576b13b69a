//! TensorFlow Lite models: the FlatBuffer `Model` table (schema from
//! tensorflow/compiler/mlir/lite/schema/schema.fbs), read at the offsets
//! it names with every offset checked against the file. Only the operator
//! codes and the buffer table are read; tensor data is not.
//!
//! Reported: custom operators (they need a registered op resolver, native
//! code) and Flex ops, which run TensorFlow ops such as `FlexReadFile`
//! and are judged like TensorFlow's; buffers that point outside the file.

use rampart_core::{Finding, Location, Severity};

use crate::rules::{TFLITE_CUSTOM_OP, TFLITE_INVALID, TF_CUSTOM_OP, TF_DANGEROUS_OP};
use crate::source::{read_exact_at, SeekSource};

pub const IDENTIFIER: &[u8] = b"TFL3";
/// BuiltinOperator.CUSTOM.
const CUSTOM: i64 = 32;
const MAX_OPERATOR_CODES: u32 = 65_536;
const MAX_BUFFERS: u32 = 1 << 22;
const MAX_NAME: u32 = 1024;

/// Summary for the inventory.
#[derive(Debug, Default)]
pub struct Summary {
    pub version: u32,
    pub tensors: u64,
    pub operator_codes: u64,
}

type R<T> = Result<T, String>;

struct Fb<'a> {
    src: &'a mut dyn SeekSource,
    len: u64,
}

impl Fb<'_> {
    fn bytes<const N: usize>(&mut self, at: u64) -> R<[u8; N]> {
        if at.checked_add(N as u64).is_none_or(|e| e > self.len) {
            return Err(format!("offset {at} is past the end of the file"));
        }
        let v = read_exact_at(self.src, at, N).map_err(|e| e.to_string())?;
        v.try_into().map_err(|_| "short read".to_string())
    }
    fn u32(&mut self, at: u64) -> R<u32> {
        self.bytes::<4>(at).map(u32::from_le_bytes)
    }
    fn u16(&mut self, at: u64) -> R<u16> {
        self.bytes::<2>(at).map(u16::from_le_bytes)
    }
    /// The absolute position of field `i` of the table at `table`, if set.
    fn field(&mut self, table: u64, i: u64) -> R<Option<u64>> {
        let soff = i64::from(self.u32(table)? as i32);
        let vtable =
            u64::try_from(table as i64 - soff).map_err(|_| "vtable before the file start")?;
        let vlen = u64::from(self.u16(vtable)?);
        let slot = 4 + 2 * i;
        if slot + 2 > vlen {
            return Ok(None);
        }
        let off = self.u16(vtable + slot)?;
        Ok((off != 0).then_some(table + u64::from(off)))
    }
    /// Follows the u32 offset stored at `at`.
    fn deref(&mut self, at: u64) -> R<u64> {
        Ok(at + u64::from(self.u32(at)?))
    }
    /// A vector field: (position of the first element, length).
    fn vector(&mut self, table: u64, i: u64) -> R<Option<(u64, u32)>> {
        let Some(at) = self.field(table, i)? else {
            return Ok(None);
        };
        let v = self.deref(at)?;
        Ok(Some((v + 4, self.u32(v)?)))
    }
    fn string(&mut self, table: u64, i: u64) -> R<Option<String>> {
        let Some((at, n)) = self.vector(table, i)? else {
            return Ok(None);
        };
        if n > MAX_NAME || at + u64::from(n) > self.len {
            return Err(format!(
                "string of {n} bytes at {at} is too long or past the end"
            ));
        }
        let b = read_exact_at(self.src, at, n as usize).map_err(|e| e.to_string())?;
        Ok(Some(String::from_utf8_lossy(&b).into_owned()))
    }
    fn int(&mut self, table: u64, i: u64, width: usize) -> R<Option<i64>> {
        let Some(at) = self.field(table, i)? else {
            return Ok(None);
        };
        Ok(Some(match width {
            1 => {
                let [b] = self.bytes::<1>(at)?;
                i64::from(b as i8)
            }
            4 => i64::from(self.u32(at)? as i32),
            _ => i64::from_le_bytes(self.bytes::<8>(at)?),
        }))
    }
}

pub fn scan(src: &mut dyn SeekSource, len: u64, loc: &Location) -> (Vec<Finding>, Summary) {
    let mut out = Vec::new();
    let mut summary = Summary::default();
    let mut fb = Fb { src, len };
    if let Err(e) = model(&mut fb, loc, &mut out, &mut summary) {
        out.push(Finding::new(
            TFLITE_INVALID,
            Severity::High,
            loc.clone(),
            format!("invalid TFLite FlatBuffer: {e}"),
        ));
    }
    (out, summary)
}

/// Model: version 0, operator_codes 1, subgraphs 2, buffers 4.
fn model(fb: &mut Fb<'_>, loc: &Location, out: &mut Vec<Finding>, summary: &mut Summary) -> R<()> {
    let root = fb.deref(0)?;
    summary.version = fb.int(root, 0, 4)?.unwrap_or(0) as u32;
    if let Some((at, n)) = fb.vector(root, 1)? {
        if n > MAX_OPERATOR_CODES {
            return Err(format!("{n} operator codes"));
        }
        summary.operator_codes = u64::from(n);
        for k in 0..u64::from(n) {
            let code = fb.deref(at + 4 * k)?;
            operator_code(fb, code, loc, out)?;
        }
    }
    // SubGraph: tensors 0.
    if let Some((at, n)) = fb.vector(root, 2)? {
        for k in 0..u64::from(n.min(1024)) {
            let sub = fb.deref(at + 4 * k)?;
            let tensors = fb.vector(sub, 0)?.map_or(0, |(_, t)| u64::from(t));
            summary.tensors = summary.tensors.saturating_add(tensors);
        }
    }
    if let Some((at, n)) = fb.vector(root, 4)? {
        if n > MAX_BUFFERS {
            return Err(format!("{n} buffers"));
        }
        for k in 0..u64::from(n) {
            let buf = fb.deref(at + 4 * k)?;
            // Buffer: data 0 (inline), offset 1 and size 2 (u64, data
            // stored after the FlatBuffer in models over 2 GiB).
            if let Some((_, _)) = fb.vector(buf, 0)? {
                continue;
            }
            let (off, size) = (
                fb.int(buf, 1, 8)?.unwrap_or(0),
                fb.int(buf, 2, 8)?.unwrap_or(0),
            );
            let end = (off as u64).checked_add(size as u64);
            if off < 0 || size < 0 || end.is_none_or(|e| e > fb.len) {
                out.push(
                    Finding::new(
                        TFLITE_INVALID,
                        Severity::High,
                        loc.clone(),
                        format!("buffer {k} points at [{off}, +{size}), outside the file"),
                    )
                    .with("buffer", k.to_string()),
                );
            }
        }
    }
    Ok(())
}

/// OperatorCode: deprecated_builtin_code 0 (int8), custom_code 1,
/// builtin_code 3 (int32; the larger of the two is the operator).
fn operator_code(fb: &mut Fb<'_>, code: u64, loc: &Location, out: &mut Vec<Finding>) -> R<()> {
    let old = fb.int(code, 0, 1)?.unwrap_or(0);
    let new = fb.int(code, 3, 4)?.unwrap_or(0);
    if old.max(new) != CUSTOM {
        return Ok(());
    }
    let name = fb.string(code, 1)?.unwrap_or_default();
    let finding = |rule, sev, msg: String| {
        Finding::new(rule, sev, loc.clone(), msg).with("custom_code", name.clone())
    };
    match name.strip_prefix("Flex") {
        Some(op) => match crate::tf::op_danger(op) {
            Some((sev, why)) => out.push(finding(TF_DANGEROUS_OP, sev, format!("Flex delegate op: {why}"))),
            None if !crate::tf::is_registered(op) => out.push(finding(
                TF_CUSTOM_OP,
                Severity::Medium,
                format!("Flex op {op} is not registered by TensorFlow"),
            )),
            None => {}
        },
        None => out.push(finding(
            TFLITE_CUSTOM_OP,
            Severity::Medium,
            format!("custom operator {name:?}: the interpreter needs a native implementation registered for it"),
        )),
    }
    Ok(())
}
