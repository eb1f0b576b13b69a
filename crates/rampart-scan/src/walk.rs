//! The walker: files and folders in, findings out.

use crate::pickle::globals::{Classifier, Danger, Verdict};
use crate::pickle::vm::{self, clip, EventKind, Outcome, RunOptions, VmLimits};
use crate::rules::*;
use crate::source::{le_u32, read_exact_at, Reading, Section, SeekSource, Source, Stream};
use crate::{gguf, hdf5, npy, onnx, safetensors, tf, tflite, zip};
use rampart_core::{
    Artifact, Check, Finding, Location, Progress, Report, Rule, ScanPolicy, Severity,
};
use rayon::prelude::*;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Bounds of a scan. Each one, when hit, is a `SCAN-INCOMPLETE` finding.
#[derive(Debug, Clone)]
pub struct ScanLimits {
    pub vm: VmLimits,
    /// Archives, compression layers and nested pickles inside each other.
    pub max_depth: u32,
    /// Bytes produced by decompression, per input file.
    pub max_decompressed: u64,
    /// Members listed per archive.
    pub max_members: u64,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits {
            vm: VmLimits::default(),
            max_depth: 6,
            max_decompressed: 4 << 30,
            max_members: 100_000,
        }
    }
}

impl ScanLimits {
    /// Applies `[scan.limits]` from the policy; unknown names are errors.
    pub fn apply(&mut self, overrides: &BTreeMap<String, u64>) -> Result<(), crate::Error> {
        self.apply_each(overrides).map_err(crate::Error::Policy)
    }

    fn apply_each(&mut self, overrides: &BTreeMap<String, u64>) -> Result<(), String> {
        for (k, &v) in overrides {
            let us = usize::try_from(v).unwrap_or(usize::MAX);
            match k.as_str() {
                "max_depth" => self.max_depth = u32::try_from(v).unwrap_or(u32::MAX),
                "max_decompressed_bytes" => self.max_decompressed = v,
                "max_members" => self.max_members = v,
                "max_opcodes" => self.vm.max_opcodes = v,
                "max_stack" => self.vm.max_stack = us,
                "max_marks" => self.vm.max_marks = us,
                "max_memo" => self.vm.max_memo = us,
                "max_line" => self.vm.max_line = us,
                "max_globals" => self.vm.max_globals = us,
                "max_pickles" => self.vm.max_pickles = u32::try_from(v).unwrap_or(u32::MAX),
                "max_nested_depth" => self.vm.max_nested_depth = u32::try_from(v).unwrap_or(u32::MAX),
                other => {
                    return Err(format!(
                        "unknown limit `{other}` in [scan.limits]; known: max_depth, max_decompressed_bytes, max_members, max_opcodes, max_stack, max_marks, max_memo, max_line, max_globals, max_pickles, max_nested_depth"
                    ))
                }
            }
        }
        Ok(())
    }
}

/// The scanner: limits plus the global classifier. Cheap to share across
/// threads; every scan has its own state.
#[derive(Debug, Clone, Default)]
pub struct Scanner {
    limits: ScanLimits,
    classifier: Classifier,
}

/// An input that could not be read at all (as opposed to content problems,
/// which are findings).
#[derive(Debug)]
pub struct InputError {
    pub path: PathBuf,
    pub error: io::Error,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read {}: {}", self.path.display(), self.error)
    }
}

/// What one file's scan produced.
#[derive(Debug, Default)]
struct FileResult {
    findings: Vec<Finding>,
    metrics: BTreeMap<&'static str, u64>,
    inventory: Vec<Artifact>,
}

impl Scanner {
    pub fn new(limits: ScanLimits, classifier: Classifier) -> Self {
        Scanner { limits, classifier }
    }

    /// A scanner configured by the policy's `[scan]` section.
    pub fn from_policy(p: &ScanPolicy) -> Result<Self, crate::Error> {
        let mut limits = ScanLimits::default();
        limits.apply(&p.limits)?;
        Ok(Scanner::new(limits, Classifier::new(&p.allow, &p.deny)))
    }

    /// Scans files and folders (recursively, links followed as
    /// [`crate::folder`] says). Content
    /// problems are findings in the report; inputs that cannot be read are
    /// returned as errors beside it.
    pub fn scan_paths(
        &self,
        inputs: &[PathBuf],
        progress: &dyn Progress,
    ) -> (Report, Vec<InputError>) {
        let mut report = Report::new("scan");
        let mut errors = Vec::new();
        let mut listing = crate::folder::Listing::default();
        for input in inputs {
            report.inputs.push(input.display().to_string());
            listing.add(input);
        }
        report.findings.append(&mut listing.findings);
        errors.append(&mut listing.errors);
        let files: Vec<(PathBuf, u64)> = listing
            .files
            .into_iter()
            .map(|f| (f.path, f.size))
            .collect();
        progress.add_total(files.iter().map(|f| f.1).sum());
        let results: Vec<Result<FileResult, InputError>> = files
            .par_iter()
            .map(|(path, size)| {
                progress.set_message(&path.display().to_string());
                let r = self.scan_file(path);
                progress.advance(*size);
                r
            })
            .collect();
        *report.metrics.entry("files".into()).or_default() += files.len() as u64;
        *report.metrics.entry("bytes".into()).or_default() +=
            files.iter().map(|f| f.1).sum::<u64>();
        for r in results {
            match r {
                Ok(fr) => {
                    report.findings.extend(fr.findings);
                    report.inventory.extend(fr.inventory);
                    for (k, v) in fr.metrics {
                        *report.metrics.entry(k.to_string()).or_default() += v;
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        report.sort();
        (report, errors)
    }

    fn scan_file(&self, path: &Path) -> Result<FileResult, InputError> {
        let err = |error| InputError {
            path: path.to_path_buf(),
            error,
        };
        let mut f = std::fs::File::open(path).map_err(err)?;
        let len = f.metadata().map_err(err)?.len();
        let mut job = Job::new(self);
        job.scan_seekable(&mut f, len, &Location::file(path.display().to_string()), 0);
        crate::repo::check_file(path, &mut job.findings);
        Ok(FileResult {
            findings: job.findings,
            metrics: job.metrics,
            inventory: job.inventory,
        })
    }

    /// Scans bytes in memory as if they were a file called `name`. For
    /// tests, fuzzing and embedders that already hold the data.
    pub fn scan_bytes(&self, name: &str, bytes: &[u8]) -> Vec<Finding> {
        let mut job = Job::new(self);
        let mut cur = io::Cursor::new(bytes);
        job.scan_seekable(&mut cur, bytes.len() as u64, &Location::file(name), 0);
        job.findings
    }
}

/// The scanner as a gate: `rampart run` and embedders drive every check
/// through this one interface.
impl Check for Scanner {
    fn id(&self) -> &'static str {
        "scan"
    }

    fn rules(&self) -> &'static [Rule] {
        crate::RULES
    }

    /// Content problems are findings; inputs that cannot be read at all
    /// are listed in the report's errors, each naming its path.
    fn run(
        &self,
        inputs: &[PathBuf],
        progress: &dyn Progress,
    ) -> Result<Report, rampart_core::CheckError> {
        let (mut report, errors) = self.scan_paths(inputs, progress);
        report.errors = errors.iter().map(ToString::to_string).collect();
        Ok(report)
    }
}

/// Decompressed bytes left for one input file, shared by nested readers.
#[derive(Clone)]
struct Budget {
    left: Rc<Cell<u64>>,
    hit: Rc<Cell<bool>>,
}

/// Counts decompressed bytes against the budget; past it, reads fail.
/// A decompressor that panics on malformed data (libbz2-rs-sys 0.2.6
/// overflows a subtraction on a mutated bzip2 stream, found by the
/// property test) fails the read instead of the scan, and every read
/// after it.
struct Capped<R> {
    inner: R,
    budget: Budget,
    panicked: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.panicked {
            return Err(decompressor_panicked());
        }
        let left = self.budget.left.get();
        if left == 0 {
            self.budget.hit.set(true);
            return Err(io::Error::other("decompressed size limit reached"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let Some(window) = buf.get_mut(..want) else {
            return Ok(0);
        };
        let inner = &mut self.inner;
        let n = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.read(window)))
        {
            Ok(read) => read?,
            Err(_) => {
                self.panicked = true;
                return Err(decompressor_panicked());
            }
        };
        self.budget.left.set(left.saturating_sub(n as u64));
        Ok(n)
    }
}

fn decompressor_panicked() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the decompressor failed on malformed data",
    )
}
impl<R: Read> Source for Capped<R> {}

/// Counts the bytes read through it.
struct Counted<'a> {
    inner: &'a mut dyn Source,
    n: Rc<Cell<u64>>,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n.set(self.n.get() + n as u64);
        Ok(n)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Zip,
    SevenZ,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    Lzma,
    Zlib,
    Zstd,
    Lz4,
    Npy,
    Safetensors,
    Gguf,
    Hdf5,
    Json,
    Onnx,
    TorchScript,
    Tflite,
    TfSavedModel,
    TfGraph,
    /// Native code or a script, recognised by its first bytes.
    Code(&'static str),
    /// A Jinja template or a YAML config (which may hold one), by name.
    Template,
    /// Anything else: tried as a pickle.
    Other,
}

impl Kind {
    /// The format's name in the inventory.
    fn name(self) -> &'static str {
        match self {
            Kind::Zip => "zip",
            Kind::SevenZ => "7z",
            Kind::Tar => "tar",
            Kind::Gzip => "gzip",
            Kind::Bzip2 => "bzip2",
            Kind::Xz => "xz",
            Kind::Lzma => "lzma",
            Kind::Zlib => "zlib",
            Kind::Zstd => "zstd",
            Kind::Lz4 => "lz4",
            Kind::Npy => "npy",
            Kind::Safetensors => "safetensors",
            Kind::Gguf => "gguf",
            Kind::Hdf5 => "hdf5",
            Kind::Json => "json",
            Kind::Template => "template",
            Kind::Onnx => "onnx",
            Kind::TorchScript => "torchscript source",
            Kind::Tflite => "tflite",
            Kind::TfSavedModel => "tensorflow savedmodel",
            Kind::TfGraph => "tensorflow graphdef",
            Kind::Code(name) => name,
            Kind::Other => "unknown",
        }
    }
}

fn tar_checksum_ok(h: &[u8]) -> bool {
    let Some(field) = h.get(148..156) else {
        return false;
    };
    let text: String = field
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as char)
        .collect();
    let Ok(want) = u32::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let sum: u32 = h
        .iter()
        .take(512)
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    h.len() >= 512 && sum == want && h.first().is_some_and(|&c| c != 0)
}

fn sniff(head: &[u8]) -> Kind {
    if zip::is_zip_head(head) {
        Kind::Zip
    } else if head.starts_with(b"7z\xbc\xaf\x27\x1c") {
        Kind::SevenZ
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Kind::Gzip
    } else if matches!(head, [b'B', b'Z', b'h', b'1'..=b'9', ..]) {
        Kind::Bzip2
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Kind::Xz
    } else if rampart_core::zstd::starts_stream(head) {
        Kind::Zstd
    } else if head.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
        Kind::Lz4
    } else if head.starts_with(npy::MAGIC) {
        Kind::Npy
    } else if safetensors::sniff(head, None) {
        Kind::Safetensors
    } else if head.starts_with(gguf::MAGIC) {
        Kind::Gguf
    } else if head.starts_with(hdf5::SIGNATURE) {
        Kind::Hdf5
    } else if head.get(4..8) == Some(tflite::IDENTIFIER) {
        Kind::Tflite
    } else if let Some(name) = crate::repo::sniff_code(head) {
        Kind::Code(name)
    } else if head.get(257..262) == Some(b"ustar") || tar_checksum_ok(head) {
        Kind::Tar
    } else if matches!(head, [0x78, b, ..] if (0x7800u16 | u16::from(*b)) % 31 == 0) {
        Kind::Zlib
    } else if is_lzma_alone(head) {
        Kind::Lzma
    } else if matches!(
        head.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    ) {
        // Neither byte is a pickle opcode: nothing else to try.
        Kind::Json
    } else {
        Kind::Other
    }
}

/// Protobuf formats have no magic: they are told by their first fields
/// and by name. ONNX starts with ir_version (field 1, 3 or more) and
/// another ModelProto field; a SavedModel with schema version 1 and its
/// first MetaGraphDef; a frozen GraphDef with a node (field 1).
fn refine(kind: Kind, head: &[u8], loc: &Location) -> Kind {
    let name = loc.members.last().unwrap_or(&loc.path).to_ascii_lowercase();
    let base = name.rsplit(['/', '\\']).next().unwrap_or(&name);
    // A template starts with "{{" or "{%", which sniffs as JSON.
    if matches!(kind, Kind::Other | Kind::Json) && is_template_name(base) {
        return Kind::Template;
    }
    if kind != Kind::Other {
        return kind;
    }
    let onnx_fields = [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72];
    match head {
        _ if name.contains("code/") && base.ends_with(".py") && !loc.members.is_empty() => {
            Kind::TorchScript
        }
        [0x08, 0x01, 0x12, ..] if base.ends_with(".pb") => Kind::TfSavedModel,
        [0x08, v, t, ..] if (3..=30).contains(v) && onnx_fields.contains(t) => Kind::Onnx,
        _ if base.ends_with(".onnx") => Kind::Onnx,
        _ if base == "saved_model.pb" => Kind::TfSavedModel,
        [0x0a, ..] if base.ends_with(".pb") => Kind::TfGraph,
        _ => Kind::Other,
    }
}

/// Whether a file's name says it is a Jinja template (a chat template
/// kept beside a model: `chat_template.jinja`) or a YAML config, which
/// may hold one (`chat_template: ...`).
fn is_template_name(base: &str) -> bool {
    let ext = base.rsplit_once('.').map_or("", |(_, e)| e);
    matches!(
        ext,
        "jinja" | "jinja2" | "j2" | "template" | "tmpl" | "yaml" | "yml"
    )
}

/// The model format a file's name claims, for names that only that
/// format uses (`.bin` and `.pb` are too common to claim anything, except
/// `pytorch_model*.bin` and `saved_model.pb`).
fn claimed_format(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let base = lower.rsplit(['/', '\\']).next().unwrap_or(&lower);
    let ext = base.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "safetensors" => "a safetensors file",
        "gguf" => "a GGUF file",
        "h5" | "hdf5" | "keras" => "an HDF5 or Keras file",
        "onnx" => "an ONNX model",
        "tflite" => "a TensorFlow Lite model",
        "npy" | "npz" => "a NumPy file",
        "pkl" | "pickle" | "joblib" | "pt" | "pth" | "ckpt" => "a pickle or PyTorch file",
        "bin" if base.starts_with("pytorch_model") => "a PyTorch file",
        "pb" if base == "saved_model.pb" => "a TensorFlow SavedModel",
        _ => return None,
    })
}

/// The legacy `.lzma` container (joblib's `lzma` compressor): properties
/// byte, a dictionary size that liblzma would write, and a size field.
fn is_lzma_alone(h: &[u8]) -> bool {
    let (Some(&props), Some(dict)) = (h.first(), le_u32(h, 1)) else {
        return false;
    };
    props == 0x5d
        && dict >= 4096
        && (dict.is_power_of_two() || (dict / 3).is_power_of_two() && dict % 3 == 0)
}

/// First bytes of the legacy (pre-1.6) torch format: protocol 2, LONG1
/// with the magic number 0x1950a86a20f9469cfc6c, STOP.
const TORCH_LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";

struct Job<'s> {
    scanner: &'s Scanner,
    findings: Vec<Finding>,
    inventory: Vec<Artifact>,
    metrics: BTreeMap<&'static str, u64>,
    budget: Budget,
    /// Persistent-id keys the pickles read so far named: the tensor
    /// storages of a PyTorch zip, whose other `data/` members are orphans.
    persistent_keys: std::collections::HashSet<String>,
}

/// The folder a file is in, for formats that name sibling files (ONNX
/// external data, `auto_map` modules); `None` inside archives.
fn folder(loc: &Location) -> Option<&Path> {
    match loc.members.is_empty() {
        true => Path::new(&loc.path).parent(),
        false => None,
    }
}

/// Largest text document (config, template, source) read whole.
const MAX_TEXT: u64 = 64 << 20;

fn child(loc: &Location, member: impl Into<String>) -> Location {
    let mut l = loc.clone();
    l.members.push(member.into());
    l.offset = None;
    l
}

impl<'s> Job<'s> {
    fn new(scanner: &'s Scanner) -> Self {
        Job {
            scanner,
            findings: Vec::new(),
            inventory: Vec::new(),
            metrics: BTreeMap::new(),
            budget: Budget {
                left: Rc::new(Cell::new(scanner.limits.max_decompressed)),
                hit: Rc::new(Cell::new(false)),
            },
            persistent_keys: Default::default(),
        }
    }

    fn add(&mut self, f: Finding) {
        self.findings.push(f);
    }

    /// Lists a file or member in the inventory.
    fn artifact(&mut self, loc: &Location, kind: Kind, size: Option<u64>) {
        let mut location = loc.clone();
        location.offset = None;
        self.inventory.push(Artifact {
            location,
            format: kind.name().to_string(),
            size,
            tensors: None,
        });
    }

    /// Refines the inventory entry of `loc` once its content is known.
    fn describe(&mut self, loc: &Location, format: Option<String>, tensors: Option<u64>) {
        let entry = self
            .inventory
            .iter_mut()
            .rev()
            .find(|a| a.location.path == loc.path && a.location.members == loc.members);
        if let Some(a) = entry {
            if let Some(f) = format {
                a.format = f;
            }
            if tensors.is_some() {
                a.tensors = tensors;
            }
        }
    }

    fn metric(&mut self, k: &'static str, v: u64) {
        *self.metrics.entry(k).or_default() += v;
    }

    fn incomplete(&mut self, loc: &Location, what: impl Into<String>) {
        let what = what.into();
        self.add(
            Finding::new(
                SCAN_INCOMPLETE,
                Severity::High,
                loc.clone(),
                format!("not fully scanned: {what}"),
            )
            .with("limit", what),
        );
    }

    fn corrupt(&mut self, loc: &Location, what: impl std::fmt::Display) {
        if self.budget.hit.get() {
            let max = self.scanner.limits.max_decompressed;
            self.incomplete(
                loc,
                format!("decompressed size limit of {max} bytes reached"),
            );
            return;
        }
        self.add(Finding::new(
            SCAN_CORRUPT,
            Severity::High,
            loc.clone(),
            format!("cannot decode: {what}"),
        ));
    }

    fn too_deep(&mut self, loc: &Location, depth: u32) -> bool {
        if depth > self.scanner.limits.max_depth {
            let max = self.scanner.limits.max_depth;
            self.incomplete(
                loc,
                format!("nested deeper than {max} archives or compression layers"),
            );
            return true;
        }
        false
    }

    fn capped<R: Read>(&self, r: R) -> Capped<R> {
        Capped {
            inner: r,
            budget: self.budget.clone(),
            panicked: false,
        }
    }

    /// Scans a seekable input of `len` bytes.
    fn scan_seekable(&mut self, src: &mut dyn SeekSource, len: u64, loc: &Location, depth: u32) {
        if self.too_deep(loc, depth) {
            return;
        }
        let mut head = Vec::with_capacity(512);
        let r = src
            .seek(SeekFrom::Start(0))
            .and_then(|_| (&mut *src).take(512).read_to_end(&mut head))
            .and_then(|_| src.seek(SeekFrom::Start(0)));
        if let Err(e) = r {
            self.corrupt(loc, e);
            return;
        }
        let kind = refine(sniff(&head), &head, loc);
        self.artifact(loc, kind, Some(len));
        match kind {
            Kind::Zip => self.zip(src, len, loc, depth),
            Kind::SevenZ => self.sevenz(src, loc, depth),
            Kind::Hdf5 => self.hdf5(src, len, loc),
            Kind::Tflite => {
                self.metric("tflite_files", 1);
                let (findings, summary) = tflite::scan(src, len, loc);
                let format = format!("tflite v{}", summary.version);
                self.describe(loc, Some(format), Some(summary.tensors));
                self.findings.extend(findings);
            }
            Kind::Gguf => {
                self.gguf(src, Some(len), loc);
                // `GGUF` is also a run of pickle opcodes: probe the file.
                if src.seek(SeekFrom::Start(0)).is_ok() {
                    let _ = self.pickle(src, loc, &pickle_options(&head), Expect::Probe);
                }
            }
            Kind::Safetensors if safetensors::sniff(&head, Some(len)) => {
                self.safetensors(src, len, loc, depth);
                // A file can be a valid safetensors and a pickle at once
                // (the header inside a pickle string): read it as a
                // pickle too, reporting it only if it imports something.
                if src.seek(SeekFrom::Start(0)).is_ok() {
                    self.pickle_views(src, &head, loc, Expect::Probe);
                }
            }
            kind => {
                // A zip appended to another file (a polyglot) is still read
                // by Python's zipfile, which looks for the directory at the
                // end: scan that view too.
                let polyglot =
                    kind != Kind::Tar && len > 22 && zip::read_directory(src, len, 1).is_ok();
                if src.seek(SeekFrom::Start(0)).is_err() {
                    return self.corrupt(loc, "cannot seek");
                }
                // Text that only looked like a format (`model: {{` has a
                // safetensors header's `{` at byte 8) is read for tags too.
                if crate::yaml::looks_like_text(&head) {
                    let _ = self.text_tags(src, loc);
                    if src.seek(SeekFrom::Start(0)).is_err() {
                        return self.corrupt(loc, "cannot seek");
                    }
                }
                if kind == Kind::Other {
                    self.pickle_views(
                        src,
                        &head,
                        loc,
                        if polyglot {
                            Expect::Maybe
                        } else {
                            Expect::Pickle
                        },
                    );
                } else {
                    self.stream_kind(
                        kind,
                        src,
                        &head,
                        loc,
                        depth,
                        if polyglot {
                            Expect::Maybe
                        } else {
                            Expect::Pickle
                        },
                    );
                }
                if polyglot {
                    self.zip(src, len, loc, depth);
                }
            }
        }
    }

    /// Scans a forward-only input.
    fn scan_stream(&mut self, src: &mut dyn Source, loc: &Location, depth: u32) {
        if self.too_deep(loc, depth) {
            return;
        }
        let mut head = Vec::with_capacity(512);
        if let Err(e) = (&mut *src).take(512).read_to_end(&mut head) {
            self.corrupt(loc, e);
            return;
        }
        // Named formats too: a deflated zip member or a tar member is a
        // stream (TorchScript code, templates, ONNX by name).
        let kind = refine(sniff(&head), &head, loc);
        if !matches!(
            kind,
            Kind::Zip | Kind::SevenZ | Kind::Safetensors | Kind::Hdf5
        ) {
            self.artifact(loc, kind, None);
        } else {
            // Archives with a directory at the end, and safetensors (read
            // both as itself and as a pickle), need random access.
            let spooled = tempfile::tempfile().and_then(|mut f| {
                io::copy(&mut io::Cursor::new(&head), &mut f)?;
                io::copy(src, &mut f)?;
                let len = f.seek(SeekFrom::End(0))?;
                f.seek(SeekFrom::Start(0))?;
                Ok((f, len))
            });
            match spooled {
                Ok((mut f, len)) => self.scan_seekable(&mut f, len, loc, depth),
                Err(e) => self.corrupt(loc, e),
            }
            return;
        }
        let mut chained = Reading(io::Cursor::new(head.clone()).chain(src));
        self.stream_kind(kind, &mut chained, &head, loc, depth, Expect::Pickle);
    }

    /// Dispatches a stream whose first bytes are `head`. Returns whether a
    /// pickle was found at its start.
    fn stream_kind(
        &mut self,
        kind: Kind,
        src: &mut dyn Source,
        head: &[u8],
        loc: &Location,
        depth: u32,
        expect: Expect,
    ) {
        macro_rules! unwrap_with {
            ($name:literal, $dec:expr) => {{
                let mut r = Reading(self.capped($dec));
                self.metric("decompressed_streams", 1);
                self.scan_stream(&mut r, &child(loc, concat!("(", $name, ")")), depth + 1);
                // What the scan did not need is still decoded to the end:
                // a stream cut short or corrupt after the pickle's STOP
                // fails the loader (or feeds it something else).
                if let Err(e) = io::copy(&mut r, &mut io::sink()) {
                    self.corrupt(loc, format!("{} stream: {e}", $name));
                }
            }};
        }
        match kind {
            Kind::Gzip => unwrap_with!("gzip", flate2::read::MultiGzDecoder::new(src)),
            Kind::Bzip2 => unwrap_with!("bzip2", bzip2::read::MultiBzDecoder::new(src)),
            Kind::Zlib => unwrap_with!("zlib", flate2::read::ZlibDecoder::new(src)),
            Kind::Lz4 => unwrap_with!("lz4", lz4_flex::frame::FrameDecoder::new(src)),
            Kind::Xz => unwrap_with!("xz", crate::lzma::xz(src)),
            Kind::Lzma => unwrap_with!("lzma", crate::lzma::lzma(src, 1 << 20)),
            Kind::Zstd => match rampart_core::zstd::Decoder::new(src) {
                Ok(r) => unwrap_with!("zstd", r),
                Err(e) => self.corrupt(loc, e),
            },
            Kind::Tar => self.tar(src, loc, depth),
            Kind::Code(name) => {
                self.add(crate::repo::code_finding(name, loc));
                // "MZ" is also a run of pickle opcodes: read the bytes
                // as a pickle too, reporting only if they import anything.
                let _ = self.pickle(src, loc, &pickle_options(head), Expect::Probe);
            }
            Kind::Npy => self.npy(src, loc),
            Kind::Gguf => {
                self.gguf(src, None, loc);
                let mut again = Reading(io::Cursor::new(head.to_vec()));
                let _ = self.pickle(&mut again, loc, &pickle_options(head), Expect::Probe);
            }
            Kind::Json => self.json(src, loc),
            Kind::Template => self.template(src, head, loc),
            Kind::Onnx => self.onnx(src, loc),
            Kind::TorchScript => self.torchscript(src, loc),
            Kind::TfSavedModel => self.tf(src, tf::Root::SavedModel, loc),
            Kind::TfGraph => self.tf(src, tf::Root::GraphDef, loc),
            Kind::Zip | Kind::SevenZ | Kind::Safetensors | Kind::Hdf5 | Kind::Tflite => {
                let _ = self.pickle(src, loc, &pickle_options(head), expect);
            }
            Kind::Other if crate::yaml::looks_like_text(head) => {
                // Read once for the tags, then as a pickle from memory and
                // on from where the read stopped.
                let Some(text) = self.text_tags(&mut *src, loc) else {
                    return;
                };
                let mut whole = Reading(io::Cursor::new(text).chain(src));
                let _ = self.pickle(&mut whole, loc, &pickle_options(head), expect);
            }
            Kind::Other => {
                let _ = self.pickle(src, loc, &pickle_options(head), expect);
            }
        }
    }

    /// A file of no known format whose bytes are text, read for the
    /// Python tags of a YAML config: a config need not be named `.yaml`
    /// (`config`, `hparams.cfg`, a member of a tar). Returns the bytes read
    /// (up to [`MAX_TEXT`]), for a stream to be read on from them.
    fn text_tags(&mut self, src: &mut dyn Source, loc: &Location) -> Option<Vec<u8>> {
        let mut text = Vec::new();
        if let Err(e) = src.take(MAX_TEXT).read_to_end(&mut text) {
            self.corrupt(loc, e);
            return None;
        }
        self.tags_in(&text, loc);
        Some(text)
    }

    /// The YAML Python tags in `bytes` (up to [`MAX_TEXT`] of a file).
    fn tags_in(&mut self, bytes: &[u8], loc: &Location) {
        if let Some(text) = crate::yaml::decode_text(bytes) {
            let tags = crate::yaml::python_tags(&text, loc, &self.scanner.classifier);
            self.findings.extend(tags);
        }
    }

    /// A seekable pickle is read the way joblib reads it; when that skipped
    /// joblib array data, it is read again the way `pickle.load` would (the
    /// array bytes as opcodes), so that a file benign to one loader cannot
    /// hide a payload from the other.
    fn pickle_views(
        &mut self,
        src: &mut dyn SeekSource,
        head: &[u8],
        loc: &Location,
        expect: Expect,
    ) {
        let joblib_arrays = self.pickle(src, loc, &pickle_options(head), expect);
        if joblib_arrays == 0 || src.seek(SeekFrom::Start(0)).is_err() {
            return;
        }
        let seen: Vec<String> = self
            .findings
            .iter()
            .filter_map(|f| f.evidence.get("global").cloned())
            .collect();
        let plain = vm::scan_stream(
            &mut Stream::new(src),
            &self.scanner.limits.vm,
            &RunOptions::default(),
        );
        // pickle.load stops at its first error: a name after it is never
        // imported by that reading.
        let reached = plain.raises_at.unwrap_or(u64::MAX);
        let globals = plain
            .globals
            .into_iter()
            .filter(|g| g.offset < reached)
            .filter(|g| !seen.contains(&clip(&format!("{}.{}", g.module, g.name), 300)))
            .map(|mut g| {
                g.context = "the file read by pickle.load instead of joblib.load".into();
                g
            })
            .collect();
        let mut extra = Outcome::default();
        extra.globals = globals;
        self.outcome(extra, loc);
    }

    /// Runs the VM; reports an unknown format when it is not a pickle and
    /// `expect` says so. Returns how many joblib arrays it skipped.
    fn pickle(
        &mut self,
        src: &mut dyn Source,
        loc: &Location,
        opts: &RunOptions,
        expect: Expect,
    ) -> u32 {
        let mut stream = Stream::new(src);
        let mut out = vm::scan_stream(&mut stream, &self.scanner.limits.vm, opts);
        self.persistent_keys
            .extend(std::mem::take(&mut out.persistent_keys));
        let size = stream.offset();
        self.metric("opcodes", out.opcodes);
        if expect == Expect::Probe && out.globals.is_empty() {
            // A probe of another format's bytes: only an import makes it
            // a pickle worth reporting (header bytes often parse a little).
            return 0;
        }
        if !out.is_pickle {
            if expect == Expect::Pickle {
                let name = loc.members.last().unwrap_or(&loc.path);
                if let Some(format) = claimed_format(name) {
                    // A loader trusts the name: a broken file fails to
                    // load, or loads as something nobody checked.
                    self.add(Finding::new(
                        SCAN_CORRUPT,
                        Severity::High,
                        loc.clone(),
                        format!(
                            "the name says {format}, but the content is not one (truncated or corrupt?{}); not analysed",
                            if size == 0 { ", empty" } else { "" }
                        ),
                    ));
                    return 0;
                }
                let what = if size == 0 {
                    "empty file"
                } else {
                    "not a recognised model format"
                };
                self.add(Finding::new(
                    SCAN_UNKNOWN_FORMAT,
                    Severity::Info,
                    loc.clone(),
                    format!("{what}; not analysed"),
                ));
            }
            return 0;
        }
        let joblib_arrays = out.joblib_arrays;
        self.describe(loc, Some("pickle".into()), None);
        self.metric("pickles", u64::from(out.pickles.max(1)));
        if opts.max_pickles == Some(5) {
            self.metric("legacy_torch_files", 1);
        }
        self.outcome(out, loc);
        joblib_arrays
    }

    fn outcome(&mut self, out: Outcome, loc: &Location) {
        // `getattr(G, "name")` calls were read as the globals `G.name`
        // (opcode "getattr"). When every one is allowed, getattr itself
        // did nothing else and is not reported; otherwise it is, as the
        // reflection gadget it then is.
        let lookups_allowed = out
            .globals
            .iter()
            .filter(|g| g.opcode == "getattr")
            .all(|g| self.scanner.classifier.classify(&g.module, &g.name) == Verdict::Safe);
        for g in &out.globals {
            if lookups_allowed && g.uses.only_static_getattr() {
                continue;
            }
            let verdict = self.scanner.classifier.classify(&g.module, &g.name);
            let (rule, sev, why) = match verdict {
                Verdict::Safe => continue,
                Verdict::Unknown => (
                    PICKLE_UNKNOWN_GLOBAL,
                    Severity::Medium,
                    "not on the allowlist",
                ),
                Verdict::Dangerous(d) => {
                    let (rule, sev) = match d {
                        Danger::Exec => (PICKLE_EXEC, Severity::Critical),
                        Danger::Import => (PICKLE_IMPORT, Severity::Critical),
                        Danger::Reflection => (PICKLE_REFLECTION, Severity::Critical),
                        Danger::File => (PICKLE_FILE, Severity::High),
                        Danger::Network => (PICKLE_NETWORK, Severity::High),
                        Danger::NestedLoad => (PICKLE_NESTED_LOAD, Severity::High),
                        Danger::PolicyDenied => (PICKLE_POLICY_DENIED, Severity::Critical),
                    };
                    (rule, sev, d.what())
                }
            };
            // Names from text opcodes can be 64 KiB long; reports show 300 chars.
            let full = clip(&format!("{}.{}", g.module, g.name), 300);
            let mut f = Finding::new(
                rule,
                sev,
                loc.at(g.offset),
                format!("imports {full} ({why}); {}", g.uses.describe()),
            )
            .with("global", full)
            .with("opcode", g.opcode)
            .with("use", g.uses.describe());
            if let Some(a) = &g.args {
                f = f.with("args", a.clone());
            }
            if !g.context.is_empty() {
                f = f.with("inside", g.context.clone());
            }
            self.add(f);
        }
        for e in out.events {
            let here = loc.at(e.offset);
            let (rule, severity, message) = match e.kind {
                EventKind::Malformed(_) if self.budget.hit.get() => {
                    let max = self.scanner.limits.max_decompressed;
                    self.incomplete(
                        &here,
                        format!("decompressed size limit of {max} bytes reached"),
                    );
                    continue;
                }
                EventKind::Malformed(what) => (
                    PICKLE_MALFORMED,
                    Severity::High,
                    format!("malformed pickle: {what}"),
                ),
                EventKind::Limit(what) => {
                    let f = Finding::new(
                        SCAN_INCOMPLETE,
                        Severity::High,
                        here,
                        format!("not fully scanned: {what}"),
                    )
                    .with("limit", what);
                    self.add(with_context(f, e.context));
                    continue;
                }
                EventKind::Computed(what) => (
                    PICKLE_COMPUTED_GLOBAL,
                    Severity::Critical,
                    format!("global imported from computed values: {what}"),
                ),
                EventKind::Extension(code) => (
                    PICKLE_EXTENSION,
                    Severity::High,
                    format!("imports extension code {code} from the copyreg registry"),
                ),
                EventKind::IndirectCall(what) => (PICKLE_INDIRECT_CALL, Severity::Medium, what),
                EventKind::Nested { encoding, len } => (
                    PICKLE_NESTED,
                    Severity::Info,
                    format!("embedded {encoding} pickle of {len} bytes, scanned"),
                ),
                EventKind::Trailing => (
                    PICKLE_TRAILING_DATA,
                    Severity::Low,
                    "bytes after the last pickle are not a pickle".to_string(),
                ),
            };
            self.add(with_context(
                Finding::new(rule, severity, here, message),
                e.context,
            ));
        }
    }

    /// Validates a safetensors header (never the tensor bytes) and scans
    /// any bytes after the data section, where polyglots hide a payload.
    fn safetensors(&mut self, src: &mut dyn SeekSource, len: u64, loc: &Location, depth: u32) {
        self.metric("safetensors_files", 1);
        let n = match read_exact_at(src, 0, 8)
            .ok()
            .and_then(|h| safetensors::header_len(&h))
        {
            Some(n) => n,
            None => return self.corrupt(loc, "safetensors header length unreadable"),
        };
        let invalid = |what: String, key: Option<String>| {
            let f = Finding::new(
                SAFETENSORS_INVALID,
                Severity::High,
                loc.at(8),
                format!("invalid safetensors: {what}"),
            );
            match key {
                Some(k) => f.with("key", k),
                None => f,
            }
        };
        if n > safetensors::MAX_HEADER {
            let max = safetensors::MAX_HEADER;
            return self.add(invalid(
                format!("header of {n} bytes is over the {max}-byte limit"),
                None,
            ));
        }
        let header = match read_exact_at(src, 8, n as usize) {
            Ok(h) => h,
            Err(e) => return self.corrupt(loc, format!("safetensors header: {e}")),
        };
        let data_start = 8 + n;
        let data_len = len.saturating_sub(data_start);
        let (summary, problems) = safetensors::validate(&header, data_len);
        self.metric("tensors", summary.tensors as u64);
        self.describe(loc, None, Some(summary.tensors as u64));
        for p in problems {
            self.add(invalid(p.what, p.key));
        }
        for (key, code) in &summary.code {
            self.add(
                Finding::new(
                    METADATA_CODE,
                    Severity::Medium,
                    loc.clone(),
                    format!("__metadata__[{key:?}] holds code ({code:?})"),
                )
                .with("key", key.clone()),
            );
        }
        let trailing = data_len.saturating_sub(summary.data_end);
        if trailing > 0 {
            let start = data_start + summary.data_end;
            self.add(
                Finding::new(
                    SAFETENSORS_TRAILING_DATA,
                    Severity::High,
                    loc.at(start),
                    format!("{trailing} bytes after the tensor data (a polyglot: another format appended)"),
                )
                .with("bytes", trailing.to_string()),
            );
            match Section::new(src, start, trailing) {
                Ok(mut sec) => self.scan_seekable(
                    &mut sec,
                    trailing,
                    &child(loc, "(after safetensors data)"),
                    depth + 1,
                ),
                Err(e) => self.corrupt(loc, e),
            }
        }
    }

    /// A legacy Keras HDF5 file: the model config in the root attributes.
    fn hdf5(&mut self, src: &mut dyn SeekSource, len: u64, loc: &Location) {
        self.metric("hdf5_files", 1);
        let root = match hdf5::read_root(src, len) {
            Ok(r) => r,
            Err(e) => return self.corrupt(loc, format!("HDF5: {e}")),
        };
        if root.end_of_file > len {
            self.corrupt(
                loc,
                format!(
                    "HDF5 truncated: the superblock says the file ends at byte {}, but it has {len}",
                    root.end_of_file
                ),
            );
        }
        let mut keras = false;
        for attr in &root.attributes {
            let name = attr.name.as_str();
            if !matches!(name, "model_config" | "training_config") {
                continue;
            }
            keras = true;
            let parsed = attr
                .value
                .as_deref()
                .map(serde_json::from_slice::<serde_json::Value>);
            match parsed {
                Some(Ok(v)) => {
                    let found = crate::keras::findings(&v, loc, &self.scanner.classifier);
                    self.findings
                        .extend(found.into_iter().map(|f| f.with("attribute", name)));
                }
                Some(Err(e)) => self.add(
                    Finding::new(
                        KERAS_INVALID,
                        Severity::Medium,
                        loc.clone(),
                        format!("the {name} attribute is not valid JSON: {e}"),
                    )
                    .with("attribute", name),
                ),
                None => self.incomplete(
                    loc,
                    format!("the {name} attribute is not a string this reader decodes"),
                ),
            }
        }
        if keras {
            self.describe(loc, Some("keras hdf5".into()), None);
        } else if root.dense_attributes {
            self.incomplete(
                loc,
                "HDF5 root attributes kept in dense storage (fractal heap) are not read",
            );
        } else {
            self.add(Finding::new(
                SCAN_UNSUPPORTED,
                Severity::Info,
                loc.clone(),
                "HDF5 file without a Keras model config: its datasets are not analysed",
            ));
        }
    }

    /// A template file, or a YAML config that may hold one: analysed as a
    /// Jinja template (text outside `{{ }}` and `{% %}` is literal, so a
    /// YAML document's template values are what is analysed). Its bytes
    /// are also tried as a pickle, reporting only imports: a name is no
    /// proof of content.
    fn template(&mut self, src: &mut dyn Source, head: &[u8], loc: &Location) {
        self.metric("templates", 1);
        let Some(bytes) = self.read_text(src, loc, "template") else {
            return;
        };
        let name = loc.members.last().unwrap_or(&loc.path);
        let key = name.rsplit(['/', '\\']).next().unwrap_or(name);
        // A YAML document is not a template: its quoting ('' for ') makes
        // its template values unparsable as written, so only what the
        // token-by-token check finds in them is reported.
        let lower = key.to_ascii_lowercase();
        let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
        // PyYAML also reads UTF-16 with a byte-order mark.
        let decoded = crate::yaml::decode_text(&bytes);
        match decoded {
            Some(text) => {
                let found = crate::template::findings(&text, key, loc);
                self.findings.extend(
                    found
                        .into_iter()
                        .filter(|f| !(yaml && f.rule == TEMPLATE_UNPARSED)),
                );
                // Every template file: `config.yaml.j2` renders to YAML.
                let tags = crate::yaml::python_tags(&text, loc, &self.scanner.classifier);
                self.findings.extend(tags);
            }
            None => self.add(Finding::new(
                SCAN_UNKNOWN_FORMAT,
                Severity::Info,
                loc.clone(),
                "named like a template, but not UTF-8 text; not analysed as one",
            )),
        }
        let mut again = Reading(io::Cursor::new(bytes));
        let _ = self.pickle(&mut again, loc, &pickle_options(head), Expect::Probe);
    }

    /// A JSON document: chat templates, auto_map, Keras configs. A file
    /// named `.json` that does not parse is reported.
    fn json(&mut self, src: &mut dyn Source, loc: &Location) {
        let Some(text) = self.read_text(src, loc, "JSON document") else {
            return;
        };
        // Flow-style YAML starts with `{` or `[` too, and JSON is YAML:
        // a config read with yaml.load may hold tags.
        self.tags_in(&text, loc);
        let name = loc.members.last().unwrap_or(&loc.path);
        let value: serde_json::Value = match serde_json::from_slice(&text) {
            Ok(v) => v,
            Err(e) if name.to_ascii_lowercase().ends_with(".json") => {
                return self.add(Finding::new(
                    REPO_INVALID_JSON,
                    Severity::Low,
                    loc.clone(),
                    format!("not valid JSON: {e}"),
                ));
            }
            Err(_) => {
                return self.add(Finding::new(
                    SCAN_UNKNOWN_FORMAT,
                    Severity::Info,
                    loc.clone(),
                    "text that is not JSON; not analysed",
                ));
            }
        };
        let found = crate::repo::json_findings(&value, loc, folder(loc), &self.scanner.classifier);
        if crate::keras::looks_like_keras(&value) {
            self.describe(loc, Some("keras config".into()), None);
        }
        self.findings.extend(found);
    }

    /// An ONNX model, walked without reading tensor data; external data
    /// is resolved against the model's folder when it is a file.
    fn onnx(&mut self, src: &mut dyn Source, loc: &Location) {
        self.metric("onnx_files", 1);
        let (findings, summary) = onnx::scan(&mut Stream::new(src), loc, folder(loc));
        self.metric("tensors", summary.tensors);
        let format = format!("onnx ir {}", summary.ir_version);
        self.describe(loc, Some(format), Some(summary.tensors));
        self.findings.extend(findings);
    }

    /// Reads a whole text document (configs, sources) of at most
    /// `MAX_TEXT` bytes; longer ones are reported as incomplete.
    fn read_text(&mut self, src: &mut dyn Source, loc: &Location, what: &str) -> Option<Vec<u8>> {
        let mut text = Vec::new();
        if let Err(e) = src.take(MAX_TEXT + 1).read_to_end(&mut text) {
            self.corrupt(loc, e);
            return None;
        }
        if text.len() as u64 > MAX_TEXT {
            // A config or source that large is unusual enough to need a
            // look; large JSON Lines datasets are only listed.
            let name = loc.members.last().unwrap_or(&loc.path).to_ascii_lowercase();
            let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
            if name.ends_with(".json") || name.ends_with(".py") || yaml {
                self.incomplete(loc, format!("{what} over {MAX_TEXT} bytes"));
            } else {
                self.add(Finding::new(
                    SCAN_UNKNOWN_FORMAT,
                    Severity::Info,
                    loc.clone(),
                    format!("text over {MAX_TEXT} bytes (a dataset?); not analysed"),
                ));
            }
            return None;
        }
        Some(text)
    }

    /// TorchScript source inside a model archive.
    fn torchscript(&mut self, src: &mut dyn Source, loc: &Location) {
        let Some(text) = self.read_text(src, loc, "TorchScript source") else {
            return;
        };
        let calls = crate::torchscript::check(&String::from_utf8_lossy(&text));
        let Some(first) = calls.first() else {
            return;
        };
        let listed: Vec<String> = calls
            .iter()
            .map(|c| format!("{} (line {})", c.what, c.line))
            .collect();
        self.add(
            Finding::new(
                TORCHSCRIPT_CALL,
                Severity::High,
                loc.clone(),
                format!("TorchScript source {}", listed.join("; ")),
            )
            .with("line", first.line.to_string()),
        );
    }

    fn tf(&mut self, src: &mut dyn Source, root: tf::Root, loc: &Location) {
        self.metric("tensorflow_files", 1);
        let (findings, summary) = tf::scan(&mut Stream::new(src), root, loc);
        self.metric("tensorflow_nodes", summary.nodes);
        self.findings.extend(findings);
    }

    /// Reads a GGUF header, never the tensor data.
    fn gguf(&mut self, src: &mut dyn Source, len: Option<u64>, loc: &Location) {
        self.metric("gguf_files", 1);
        let (findings, header) = gguf::scan(&mut Stream::new(src), len, loc);
        if let Some(h) = header {
            self.metric("tensors", h.tensors);
            let order = if h.big_endian { ", big-endian" } else { "" };
            self.describe(
                loc,
                Some(format!("gguf v{}{order}", h.version)),
                Some(h.tensors),
            );
        }
        self.findings.extend(findings);
    }

    fn npy(&mut self, src: &mut dyn Source, loc: &Location) {
        let mut stream = Stream::new(src);
        let need = stream.peek(12).map(npy::header_need).unwrap_or(12);
        let head = match stream.peek(need.min(64 * 1024)) {
            Ok(h) => h.to_vec(),
            Err(e) => return self.corrupt(loc, e),
        };
        match npy::parse(&head) {
            Ok(h) if h.has_object => {
                self.metric("npy_object_arrays", 1);
                let _ = stream.skip(h.data_offset);
                let out =
                    vm::scan_stream(&mut stream, &self.scanner.limits.vm, &RunOptions::default());
                self.metric("opcodes", out.opcodes);
                self.metric("pickles", u64::from(out.pickles));
                if !out.is_pickle {
                    self.add(Finding::new(
                        PICKLE_MALFORMED,
                        Severity::High,
                        loc.at(h.data_offset),
                        "object array data is not a pickle",
                    ));
                }
                let shifted = shift(out, h.data_offset);
                self.outcome(shifted, loc);
            }
            Ok(h) => {
                self.metric("npy_numeric_arrays", 1);
                // The data is skipped, never read, but it must all be
                // there: numpy.load fails on a file cut short.
                if let Some(want) = h.data_len {
                    let skipped = stream.skip(h.data_offset).and_then(|_| stream.skip(want));
                    if !matches!(skipped, Ok(got) if got >= want) {
                        self.add(Finding::new(
                            SCAN_CORRUPT,
                            Severity::High,
                            loc.clone(),
                            format!("truncated .npy: the header declares {want} bytes of array data, which the file does not hold"),
                        ));
                    }
                }
            }
            Err(e) => self.add(Finding::new(
                SCAN_CORRUPT,
                Severity::High,
                loc.clone(),
                format!("invalid .npy header: {e}"),
            )),
        }
    }

    fn tar(&mut self, src: &mut dyn Source, loc: &Location, depth: u32) {
        // The tar crate ends quietly where the bytes end, even inside a
        // member: the bytes read are counted against what the headers
        // declare, so that a cut archive is reported.
        let read = Rc::new(Cell::new(0u64));
        let mut counted = Counted {
            inner: src,
            n: read.clone(),
        };
        let mut archive = tar::Archive::new(&mut counted);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return self.corrupt(loc, e),
        };
        let mut count = 0u64;
        let mut declared = 0u64;
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => return self.corrupt(loc, e),
            };
            let size = entry.header().entry_size().unwrap_or(0);
            declared = declared.saturating_add(512 + size.div_ceil(512).saturating_mul(512));
            count += 1;
            if count > self.scanner.limits.max_members {
                let max = self.scanner.limits.max_members;
                return self.incomplete(loc, format!("more than {max} archive members"));
            }
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            self.metric("archive_members", 1);
            let mloc = child(loc, name.clone());
            if name == "storages" || name == "tensors" {
                self.legacy_torch_records(&mut Reading(&mut entry), &mloc, name == "storages");
            } else {
                self.scan_stream(&mut Reading(&mut entry), &mloc, depth + 1);
            }
        }
        if read.get() < declared {
            self.corrupt(
                loc,
                format!(
                    "tar truncated: its headers declare at least {declared} bytes, the archive holds {}",
                    read.get()
                ),
            );
        }
    }

    /// The `storages` and `tensors` members of a legacy torch tar: a count
    /// pickle, then per record a pickle followed by raw data. Every pickle
    /// is scanned; the raw data is skipped by its declared size.
    fn legacy_torch_records(&mut self, src: &mut dyn Source, loc: &Location, storages: bool) {
        let mut stream = Stream::new(src);
        let limits = &self.scanner.limits.vm;
        let one = RunOptions {
            joblib: false,
            max_pickles: Some(1),
        };
        let count_out = vm::scan_stream(&mut stream, limits, &one);
        let count = count_out.last_int;
        self.outcome(count_out, loc);
        let Some(count) = count.filter(|c| *c >= 0) else {
            return self.add(Finding::new(
                PICKLE_MALFORMED,
                Severity::High,
                loc.clone(),
                "legacy torch record count is not an integer",
            ));
        };
        for i in 0..count {
            let start = stream.offset();
            let rec = vm::scan_stream(&mut stream, limits, &one);
            let elem = rec.globals.iter().find_map(|g| element_size(&g.name));
            let ok = rec.pickles == 1;
            self.outcome(rec, loc);
            if !ok {
                return;
            }
            // storages: an 8-byte element count, then the elements;
            // tensors: ndim (4 bytes) and 4 unused bytes, then numel and
            // stride (8 bytes per dimension each) and an 8-byte offset.
            let mut head = Vec::new();
            if !stream.read_into(8, &mut head).unwrap_or(false) {
                let what = if storages { "storage" } else { "tensor" };
                return self.add(Finding::new(
                    PICKLE_MALFORMED,
                    Severity::High,
                    loc.at(start),
                    format!("{what} {i} truncated"),
                ));
            }
            let skip = if storages {
                let n = u64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
                elem.and_then(|e| n.checked_mul(e))
            } else {
                let ndim = u64::from(le_u32(&head, 0).unwrap_or(0));
                ndim.checked_mul(16).and_then(|v| v.checked_add(8))
            };
            let Some(skip) = skip else {
                return self.incomplete(
                    &loc.at(start),
                    "legacy torch record of unknown element size",
                );
            };
            if stream.skip(skip).unwrap_or(0) < skip {
                return self.add(Finding::new(
                    PICKLE_MALFORMED,
                    Severity::High,
                    loc.at(start),
                    format!("record {i} data truncated"),
                ));
            }
        }
        if storages {
            // storage_views pickle follows the storages.
            let rest = vm::scan_stream(&mut stream, limits, &RunOptions::default());
            self.outcome(rest, loc);
        }
    }

    fn zip(&mut self, src: &mut dyn SeekSource, len: u64, loc: &Location, depth: u32) {
        let limits = &self.scanner.limits;
        let dir = match zip::read_directory(src, len, limits.max_members) {
            Ok(d) => d,
            Err(e) => return self.corrupt(loc, format!("zip: {e}")),
        };
        if dir.truncated {
            let max = limits.max_members;
            self.incomplete(loc, format!("more than {max} archive members"));
        }
        if dir.prepended > 0 {
            self.differential(
                loc,
                "prepended_bytes",
                format!("{} bytes before the first zip member", dir.prepended),
            );
        }
        let torch_roots: Vec<String> = dir
            .members
            .iter()
            .filter_map(|m| m.name.strip_suffix("data.pkl").map(str::to_string))
            .collect();
        let has = |name: &str| dir.members.iter().any(|m| m.name == name);
        if !torch_roots.is_empty() {
            self.describe(loc, Some("pytorch zip".into()), None);
        } else if has("config.json") && has("metadata.json") {
            self.describe(loc, Some("keras v3".into()), None);
        }
        // Pickles first: the storages they name are the `data/` members a
        // loader reads as raw bytes; any other such member is an orphan.
        let named_before = std::mem::take(&mut self.persistent_keys);
        let pickles = dir.members.iter().filter(|m| m.name.ends_with(".pkl"));
        let rest = dir.members.iter().filter(|m| !m.name.ends_with(".pkl"));
        let ordered: Vec<&zip::Member> = pickles.chain(rest).collect();
        for m in ordered {
            if m.name.ends_with('/') && m.size == 0 {
                continue;
            }
            let mloc = child(loc, m.name.clone());
            if let Some(root) = torch_roots
                .iter()
                .find(|root| is_torch_payload(root, &m.name))
            {
                let key = m
                    .name
                    .strip_prefix(root.as_str())
                    .and_then(|r| r.strip_prefix("data/"));
                match key {
                    Some(key) if !self.persistent_keys.contains(key) => {
                        self.add(
                            Finding::new(
                                ZIP_ORPHAN_MEMBER,
                                Severity::Medium,
                                mloc.clone(),
                                "a storage member that no persistent id in the archive's pickles names: read as a pickle",
                            )
                            .with("key", key),
                        );
                    }
                    Some(_) if starts_as_pickle(src, m) => {
                        self.add(Finding::new(
                            ZIP_ORPHAN_MEMBER,
                            Severity::Medium,
                            mloc.clone(),
                            "a named tensor storage whose bytes start as a pickle: read as one",
                        ));
                    }
                    _ => {
                        // The loader reads these as raw tensor bytes or
                        // small text fields, never unpickles them: skip
                        // without reading.
                        self.metric("tensor_members_skipped", 1);
                        continue;
                    }
                }
            }
            self.metric("archive_members", 1);
            // A stored member flagged as encrypted whose bytes do not hash
            // to its CRC is ciphertext (the CRC is of the plaintext): it
            // cannot be read, which is a finding, not a CRC mismatch. Its
            // bytes are still scanned, in case they are a plaintext pickle
            // behind a false flag and a false CRC. A member whose bytes do
            // hash to its CRC is plaintext behind a false flag, which
            // PyTorch's reader ignores and Python's zipfile refuses: a
            // differential.
            let in_bounds = m.data_offset.saturating_add(m.compressed_size) <= len;
            // Read once, for the encryption test and the CRC check below.
            let crc = if in_bounds { stored_crc(src, m) } else { None };
            let crc_mismatch = crc.filter(|&got| got != m.crc32);
            let ciphertext = m.flags & 1 != 0
                && in_bounds
                && match m.method {
                    0 => crc_mismatch.is_some(),
                    // Compressed ciphertext is no valid stream: a member
                    // that inflates is plaintext behind a false flag.
                    8 => !inflates(src, m),
                    _ => false,
                };
            if ciphertext {
                self.incomplete(
                    &mloc,
                    "an encrypted member (PKWARE encryption): its content cannot be read",
                );
                // Compressed, it is no stream to decode.
                if m.method != 0 {
                    continue;
                }
            } else if m.flags & 0x61 != 0 {
                self.differential(&mloc, "flags", format!("general-purpose flags 0x{:04x} (encryption/patch bits) on a member that loaders read", m.flags));
            }
            if let Some(ln) = &m.local_name {
                self.differential(
                    &mloc,
                    "name_mismatch",
                    format!("local header names it {ln:?}"),
                );
            }
            if m.data_offset.saturating_add(m.compressed_size) > len {
                self.corrupt(&mloc, "member data extends past the end of the archive");
                continue;
            }
            // Loaders such as PyTorch's ignore CRCs (checked for stored
            // members up to 16 MiB).
            if let Some(got) = crc_mismatch.filter(|_| !ciphertext) {
                self.differential(
                    &mloc,
                    "crc_mismatch",
                    format!("CRC-32 is {got:08x}, the directory says {:08x}", m.crc32),
                );
            }
            let mut sec = match Section::new(src, m.data_offset, m.compressed_size) {
                Ok(s) => s,
                Err(e) => {
                    self.corrupt(&mloc, e);
                    continue;
                }
            };
            match m.method {
                0 => self.scan_seekable(&mut sec, m.compressed_size, &mloc, depth + 1),
                8 => {
                    let mut r = Reading(self.capped(flate2::read::DeflateDecoder::new(sec)));
                    self.scan_stream(&mut r, &mloc, depth + 1);
                }
                12 => {
                    let mut r = Reading(self.capped(bzip2::read::BzDecoder::new(sec)));
                    self.scan_stream(&mut r, &mloc, depth + 1);
                }
                93 => match rampart_core::zstd::Decoder::new(sec) {
                    Ok(d) => {
                        let mut r = Reading(self.capped(d));
                        self.scan_stream(&mut r, &mloc, depth + 1);
                    }
                    Err(e) => self.corrupt(&mloc, e),
                },
                other => self.incomplete(
                    &mloc,
                    format!("zip compression method {other} is not supported"),
                ),
            }
        }
        self.persistent_keys = named_before;
    }

    fn differential(&mut self, loc: &Location, kind: &str, msg: String) {
        self.add(
            Finding::new(
                ZIP_DIFFERENTIAL,
                Severity::Medium,
                loc.clone(),
                format!("zip parser differential: {msg}"),
            )
            .with("kind", kind),
        );
    }

    fn sevenz(&mut self, src: &mut dyn SeekSource, loc: &Location, depth: u32) {
        let mut reader = match sevenz_rust2::ArchiveReader::new_with_memory_limit(
            &mut *src,
            sevenz_rust2::Password::empty(),
            256 * 1024,
        ) {
            Ok(r) => r,
            Err(e) => return self.corrupt(loc, format!("7z: {e}")),
        };
        reader.set_thread_count(1);
        let max = self.scanner.limits.max_members;
        let mut count = 0u64;
        let r = reader.for_each_entries(|entry, data| {
            if entry.is_directory || !entry.has_stream {
                return Ok(true);
            }
            count += 1;
            if count > max {
                self.incomplete(loc, format!("more than {max} archive members"));
                return Ok(false);
            }
            self.metric("archive_members", 1);
            let mut r = Reading(self.capped(data));
            self.scan_stream(&mut r, &child(loc, entry.name.clone()), depth + 1);
            // Drain what the scan did not read so the next entry lines up.
            let _ = io::copy(&mut r, &mut io::sink());
            Ok(true)
        });
        if let Err(e) = r {
            self.corrupt(loc, format!("7z: {e}"));
        }
    }
}

fn with_context(f: Finding, context: String) -> Finding {
    if context.is_empty() {
        f
    } else {
        f.with("inside", context)
    }
}

/// Moves every offset in `out` by `by` (a pickle that starts after a header).
fn shift(mut out: Outcome, by: u64) -> Outcome {
    for g in &mut out.globals {
        g.offset += by;
    }
    for e in &mut out.events {
        e.offset += by;
    }
    out
}

/// Whether a stored member's first bytes are a pickle's PROTO 2 to 5
/// (PyTorch stores its storages uncompressed).
fn starts_as_pickle(src: &mut dyn SeekSource, m: &zip::Member) -> bool {
    m.method == 0
        && matches!(
            read_exact_at(src, m.data_offset, 2).as_deref(),
            Ok([0x80, 2..=5])
        )
}

/// Members of a torch zip that the loader never unpickles: tensor storages
/// (`<root>data/<key>`) and small metadata fields.
fn is_torch_payload(root: &str, name: &str) -> bool {
    let Some(rest) = name.strip_prefix(root) else {
        return false;
    };
    if let Some(key) = rest.strip_prefix("data/") {
        return !key.is_empty() && !key.contains('/');
    }
    matches!(
        rest,
        "version"
            | "byteorder"
            | ".data/version"
            | ".data/serialization_id"
            | ".format_version"
            | ".storage_alignment"
    )
}

/// What a pickle reading of some bytes is for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// The bytes have no other known format: if they are not a pickle
    /// either, say so (SCAN-UNKNOWN-FORMAT).
    Pickle,
    /// Another reading of the bytes exists (a zip directory at the end):
    /// not being a pickle is no news.
    Maybe,
    /// The bytes are another format (safetensors) read as a pickle in
    /// case they are both: report only if the pickle imports something.
    Probe,
}

/// How to run the VM on a stream whose first bytes are `head`: joblib's
/// array convention on, and only the five pickles of a legacy torch file.
fn pickle_options(head: &[u8]) -> RunOptions {
    RunOptions {
        joblib: true,
        max_pickles: head.starts_with(TORCH_LEGACY_MAGIC).then_some(5),
    }
}

/// Bytes per element of a legacy torch storage class.
fn element_size(name: &str) -> Option<u64> {
    Some(match name {
        "DoubleStorage" | "LongStorage" | "ComplexFloatStorage" => 8,
        "FloatStorage" | "IntStorage" | "QInt32Storage" => 4,
        "HalfStorage" | "ShortStorage" | "BFloat16Storage" => 2,
        "CharStorage" | "ByteStorage" | "BoolStorage" | "QInt8Storage" | "QUInt8Storage" => 1,
        "ComplexDoubleStorage" => 16,
        _ => return None,
    })
}

/// Whether a deflated member's first 64 KiB inflate without error.
fn inflates(src: &mut dyn SeekSource, m: &zip::Member) -> bool {
    let Ok(sec) = Section::new(src, m.data_offset, m.compressed_size) else {
        return false;
    };
    let mut d = flate2::read::DeflateDecoder::new(sec);
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0;
    while total < 64 << 10 {
        match d.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => total += n,
            Err(_) => return false,
        }
    }
    true
}

/// The CRC-32 of a stored member's bytes, for members up to 16 MiB
/// (`None` for compressed or larger members, or a read error).
fn stored_crc(src: &mut dyn SeekSource, m: &zip::Member) -> Option<u32> {
    if m.method != 0 || m.compressed_size > 16 << 20 {
        return None;
    }
    let mut sec = Section::new(src, m.data_offset, m.compressed_size).ok()?;
    let mut h = crc32fast::Hasher::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match sec.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(buf.get(..n).unwrap_or(&[])),
            Err(_) => return None,
        }
    }
    Some(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decompressor_that_panics_fails_the_read_not_the_scan() {
        struct Panics;
        impl Read for Panics {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                panic!("attempt to subtract with overflow")
            }
        }
        let mut c = Capped {
            inner: Panics,
            budget: Budget {
                left: Rc::new(Cell::new(100)),
                hit: Rc::new(Cell::new(false)),
            },
            panicked: false,
        };
        let mut buf = [0u8; 8];
        assert!(c.read(&mut buf).is_err());
        assert!(c.read(&mut buf).is_err(), "and stays failed");
    }

    #[test]
    fn sniffs_magic() {
        assert_eq!(sniff(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Kind::Gzip);
        assert_eq!(sniff(b"BZh9"), Kind::Bzip2);
        assert_eq!(sniff(&[0x78, 0x9c, 1]), Kind::Zlib);
        assert_eq!(sniff(&[0x78, 0x9d, 1]), Kind::Other);
        assert_eq!(sniff(b"\x80\x04\x95"), Kind::Other);
        assert_eq!(sniff(b"(S'a'\n"), Kind::Other);
    }

    #[test]
    fn torch_payload_names() {
        assert!(is_torch_payload("archive/", "archive/data/0"));
        assert!(is_torch_payload("archive/", "archive/version"));
        assert!(!is_torch_payload("archive/", "archive/data.pkl"));
        assert!(!is_torch_payload("archive/", "archive/data/sub/evil.pkl"));
        assert!(!is_torch_payload("archive/", "other/data/0"));
    }
}
