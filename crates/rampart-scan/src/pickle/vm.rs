//! A symbolic pickle virtual machine for hostile input.
//!
//! It executes every opcode of protocols 0 to 5 the way CPython's C
//! unpickler (`_pickle.c`) does, but instead of importing and calling it
//! records which globals would be imported and how each is used. Values are
//! symbolic and small: containers keep their first few items for evidence,
//! strings are kept only when short, and large payloads are skipped without
//! being read. Every count, depth and size is bounded.

use crate::source::Stream;
use base64::Engine as _;
use std::collections::HashMap;
use std::io;
use std::rc::Rc;

/// Bounds of one VM run. Hitting one ends the stream with a
/// [`EventKind::Limit`], never a panic or unbounded memory.
#[derive(Debug, Clone)]
pub struct VmLimits {
    pub max_opcodes: u64,
    pub max_stack: usize,
    pub max_marks: usize,
    pub max_memo: usize,
    pub max_line: usize,
    pub max_globals: usize,
    pub max_pickles: u32,
    /// Payloads up to this size are read and checked for nested pickles.
    pub max_inline: usize,
    /// Nested pickles (inside byte strings, joblib object arrays).
    pub max_nested_depth: u32,
    /// Bytes of strings kept (for global names, evidence), shared by a
    /// pickle and the pickles nested in it.
    pub string_budget: usize,
    /// Bytes of container contents kept for evidence, shared likewise.
    /// Past it containers are still tracked, but without their items.
    pub container_budget: usize,
}

impl Default for VmLimits {
    fn default() -> Self {
        VmLimits {
            max_opcodes: 1_000_000_000,
            max_stack: 256 * 1024,
            max_marks: 100_000,
            max_memo: 4_500_000,
            max_line: 64 * 1024,
            max_globals: 10_000,
            max_pickles: 1_000,
            max_inline: 1 << 20,
            max_nested_depth: 4,
            string_budget: 6 << 20,
            container_budget: 6 << 20,
        }
    }
}

/// How a global was used. Several may apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Uses {
    pub referenced: bool,
    /// `builtins.getattr` called with a global and a constant name, read as
    /// that global's attribute (`Vm::static_getattr`).
    pub static_getattr: bool,
    pub called: bool,
    pub instantiated: bool,
    pub state_set: bool,
    pub result_called: bool,
    /// Passed as a value: in the arguments of a call or the state of a
    /// BUILD (tracked for `builtins.getattr` only).
    pub passed: bool,
}

impl Uses {
    /// Whether the global was only read as constant attribute lookups
    /// (`getattr(G, "name")`, reported as `G.name`), and used no other way.
    pub fn only_static_getattr(&self) -> bool {
        self.static_getattr
            && !(self.called
                || self.instantiated
                || self.state_set
                || self.result_called
                || self.passed)
    }

    pub fn describe(&self) -> String {
        let mut v = Vec::new();
        if self.called {
            v.push("called");
        }
        if self.instantiated {
            v.push("instantiated");
        }
        if self.state_set {
            v.push("state set with BUILD");
        }
        if self.result_called {
            v.push("its result called");
        }
        if self.passed {
            v.push("passed as an argument");
        }
        if self.static_getattr {
            v.push("called with constant attribute names (reported as the names it reached)");
        }
        if v.is_empty() {
            v.push("only referenced");
        }
        v.join(", ")
    }
}

/// A global the pickle imports.
#[derive(Debug, Clone)]
pub struct GlobalSeen {
    pub module: String,
    pub name: String,
    /// Opcode that imported it (GLOBAL, STACK_GLOBAL, INST).
    pub opcode: &'static str,
    pub offset: u64,
    pub uses: Uses,
    /// Constant arguments of the first call, rendered.
    pub args: Option<String>,
    /// Where inside the stream (nested pickle), empty at top level.
    pub context: String,
}

/// Something the VM noticed other than a global: what, where in the
/// stream, and inside which nested pickle (`context`, empty at top level).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub offset: u64,
    pub context: String,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// The stream is not a well-formed pickle.
    Malformed(String),
    /// A bound was hit; the rest of the stream was not analysed.
    Limit(String),
    /// STACK_GLOBAL with a module or name that is not a constant string.
    Computed(String),
    /// EXT1/2/4: a global taken from the copyreg extension registry.
    Extension(u32),
    /// A call whose callable is not an imported global.
    IndirectCall(String),
    /// A pickle found inside a byte or text string (and scanned).
    Nested { encoding: &'static str, len: u64 },
    /// Bytes after the last STOP that are not a pickle.
    Trailing,
}

/// Everything one VM run found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub globals: Vec<GlobalSeen>,
    pub events: Vec<Event>,
    pub opcodes: u64,
    /// Complete pickles (ended by STOP).
    pub pickles: u32,
    /// False when the input never looked like a pickle: it failed before
    /// importing anything or reaching STOP, and did not start with PROTO.
    pub is_pickle: bool,
    /// Arrays whose raw data joblib reads from between pickle opcodes.
    pub joblib_arrays: u32,
    /// Bytes of distinct global names recorded.
    name_bytes: usize,
    /// The value of the last complete pickle, when it was an integer.
    pub last_int: Option<i64>,
    /// The keys of the persistent ids the pickles load (PyTorch's
    /// `('storage', type, key, location, numel)`: the `data/<key>`
    /// members of its zip), up to [`MAX_PERSISTENT_KEYS`].
    pub persistent_keys: Vec<String>,
    index: HashMap<(String, String, String), usize>,
    /// The `builtins.getattr` globals imported, whose uses as a value
    /// (not a callee) are tracked.
    getattrs: Vec<u32>,
    /// Nodes the walks for them may still visit in this run (None: not
    /// started, [`MAX_PASSED_WALK`]).
    walk_left: Option<u32>,
    /// The first offset at which CPython's unpickler surely raises (a
    /// STACK_GLOBAL operand that is not a str): what follows is never
    /// run by `pickle.load`, though the scan goes on past it.
    pub raises_at: Option<u64>,
}

/// Values visited looking for `getattr` passed as a value: per argument
/// or state (past it, getattr is taken as passed), and per run (past it,
/// every later argument is taken to hold it).
const MAX_WALK_PER_VALUE: u32 = 4096;
const MAX_PASSED_WALK: u32 = 1 << 20;

/// Persistent-id keys recorded per run (a model has one per tensor
/// storage; past this, members are taken as unnamed and read).
pub const MAX_PERSISTENT_KEYS: usize = 1 << 20;

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Follow joblib's `NumpyArrayWrapper` convention (array bytes inline).
    pub joblib: bool,
    /// Stop after this many pickles (the rest is known raw data, e.g. the
    /// storages of a legacy torch file).
    pub max_pickles: Option<u32>,
}

/// Runs the VM over every pickle in `stream` (several may follow each
/// other) and returns what it saw.
pub fn scan_stream(stream: &mut Stream<'_>, limits: &VmLimits, opts: &RunOptions) -> Outcome {
    let mut out = Outcome::default();
    let mut ctx = Ctx {
        limits,
        budget: Budget {
            memo: limits.max_memo,
            strings: limits.string_budget,
            containers: limits.container_budget,
        },
        opts,
        out: &mut out,
        context: String::new(),
        depth: 0,
    };
    ctx.run_sequence(stream);
    out
}

struct Ctx<'a> {
    limits: &'a VmLimits,
    /// What machines created now may use: the limits, minus what the
    /// machines of enclosing pickles hold.
    budget: Budget,
    opts: &'a RunOptions,
    out: &'a mut Outcome,
    context: String,
    depth: u32,
}

/// Why a single pickle ended.
#[derive(Debug)]
enum End {
    Stop,
    /// End of input before the first opcode.
    Empty,
    Malformed(String),
    Limit(String),
    Io(io::Error),
}

impl From<io::Error> for End {
    fn from(e: io::Error) -> Self {
        End::Io(e)
    }
}

type R<T> = Result<T, End>;

fn malformed<T>(what: impl Into<String>) -> R<T> {
    Err(End::Malformed(what.into()))
}

const SYM_LONG: u32 = u32::MAX;
const SYM_BUDGET: u32 = u32::MAX - 1;
const MAX_KEPT_STR: usize = 512;
const MAX_ITEMS: usize = 32;
const MAX_DEPTH: u8 = 48;
const NO_GLOBAL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq)]
enum SeqKind {
    Tuple,
    List,
    Dict,
    Set,
    FrozenSet,
}

impl SeqKind {
    fn from_index(i: u64) -> SeqKind {
        match i {
            0 => SeqKind::Tuple,
            1 => SeqKind::List,
            2 => SeqKind::Dict,
            3 => SeqKind::Set,
            _ => SeqKind::FrozenSet,
        }
    }

    fn name(self) -> &'static str {
        match self {
            SeqKind::Tuple => "tuple",
            SeqKind::List => "list",
            SeqKind::Dict => "dict",
            SeqKind::Set => "set",
            SeqKind::FrozenSet => "frozenset",
        }
    }
}

#[derive(Clone, Debug)]
struct Seq {
    kind: SeqKind,
    items: Vec<V>,
    len: u64,
    depth: u8,
}

#[derive(Clone, Debug)]
struct Obj {
    /// Index in the outcome's globals, or NO_GLOBAL.
    global: u32,
    /// Made by instantiating the class `global` (NEWOBJ, copyreg's
    /// reconstructors): its type is that class, whatever the arguments.
    instance: bool,
    args: V,
    state: Option<V>,
    depth: u8,
}

/// A symbolic value (16 bytes).
#[derive(Clone, Debug)]
enum V {
    None,
    Bool(bool),
    Int(i64),
    Long,
    Float,
    /// A text string of at most 14 bytes, held inline (no allocation: a
    /// memo of millions of dict keys stays small).
    Short(Short),
    /// A longer text string in the arena, or SYM_LONG / SYM_BUDGET.
    Str(u32),
    Bytes(u32, u64),
    Seq(Rc<Seq>),
    Global(u32),
    Obj(Rc<Obj>),
    /// A container kept without its items (container budget exhausted).
    Opaque(SeqKind),
    /// An object of a known class kept without its arguments and state
    /// (container budget exhausted).
    Inst(u32),
    Unknown,
}

impl V {
    fn depth(&self) -> u8 {
        match self {
            V::Seq(s) => s.depth,
            V::Obj(o) => o.depth,
            _ => 0,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            V::None => "None",
            V::Bool(_) => "bool",
            V::Int(_) | V::Long => "int",
            V::Float => "float",
            V::Str(_) | V::Short(_) => "str",
            V::Bytes(..) => "bytes",
            V::Seq(s) => s.kind.name(),
            V::Opaque(k) => k.name(),
            V::Global(_) => "global",
            V::Obj(_) | V::Inst(_) => "object",
            V::Unknown => "unknown value",
        }
    }
}

/// A memo entry in 8 bytes: a 4-bit tag and a 60-bit payload, so that a
/// memo of millions of entries stays small.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Slot(u64);

impl Slot {
    const EMPTY: Slot = Slot(0);
    const NONE: u64 = 1;
    const BOOL: u64 = 2;
    const INT: u64 = 3;
    const LONG: u64 = 4;
    const FLOAT: u64 = 5;
    const SHORT: u64 = 6;
    const STR: u64 = 7;
    const BYTES: u64 = 8;
    const GLOBAL: u64 = 9;
    const INST: u64 = 10;
    const OPAQUE: u64 = 11;
    const UNKNOWN: u64 = 12;
    const SIDE: u64 = 13;
}

const SHORT_MAX: usize = 14;

#[derive(Clone, Copy, Debug)]
struct Short {
    len: u8,
    bytes: [u8; SHORT_MAX],
}

impl Short {
    fn new(s: &[u8]) -> Option<Short> {
        let mut bytes = [0u8; SHORT_MAX];
        bytes.get_mut(..s.len())?.copy_from_slice(s);
        Some(Short {
            len: s.len() as u8,
            bytes,
        })
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// Strings of one pickle kept in one buffer, each as a 2-byte length and
/// its bytes; a symbol is the offset of the length.
#[derive(Default)]
struct Arena {
    data: Vec<u8>,
}

impl Arena {
    fn add(&mut self, s: &[u8], budget: usize) -> u32 {
        if s.len() > MAX_KEPT_STR {
            return SYM_LONG;
        }
        if self.data.len() + s.len() + 2 > budget.min(SYM_BUDGET as usize) {
            return SYM_BUDGET;
        }
        let start = self.data.len() as u32;
        self.data.extend_from_slice(&(s.len() as u16).to_le_bytes());
        self.data.extend_from_slice(s);
        start
    }

    fn get(&self, sym: u32) -> Option<&[u8]> {
        let at = sym as usize;
        let len: [u8; 2] = self.data.get(at..at + 2)?.try_into().ok()?;
        self.data
            .get(at + 2..at + 2 + usize::from(u16::from_le_bytes(len)))
    }

    fn text(&self, sym: u32) -> Option<String> {
        self.get(sym)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// State of one pickle (one `Unpickler.load()`).
/// Memory a machine may use. Every live machine (a pickle and those nested
/// in it) shares one budget, so nesting does not multiply memory.
#[derive(Debug, Clone, Copy)]
struct Budget {
    memo: usize,
    strings: usize,
    containers: usize,
}

struct Machine {
    budget: Budget,
    /// Bytes charged for container contents.
    container_bytes: usize,
    stack: Vec<V>,
    marks: Vec<usize>,
    memo: Vec<Slot>,
    sparse_memo: HashMap<u64, Slot>,
    /// Memoized values that do not fit in a slot (containers, objects);
    /// bounded by the container budget.
    side: Vec<V>,
    arena: Arena,
    saw_global: bool,
    proto: u8,
}

impl Machine {
    fn new(budget: Budget) -> Self {
        Machine {
            budget,
            container_bytes: 0,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Vec::new(),
            sparse_memo: HashMap::new(),
            side: Vec::new(),
            arena: Arena::default(),
            saw_global: false,
            proto: 0,
        }
    }

    /// What is left for machines nested inside this one.
    fn remaining(&self) -> Budget {
        Budget {
            memo: self.budget.memo.saturating_sub(self.memo_cost()),
            strings: self.budget.strings.saturating_sub(self.arena.data.len()),
            containers: self.budget.containers.saturating_sub(self.container_bytes),
        }
    }

    /// Charges `bytes` of container contents; false when over budget.
    fn charge(&mut self, bytes: usize) -> bool {
        if self.container_bytes.saturating_add(bytes) > self.budget.containers {
            return false;
        }
        self.container_bytes += bytes;
        true
    }

    fn seq(&mut self, kind: SeqKind, mut items: Vec<V>) -> V {
        let len = items.len() as u64;
        let depth = items
            .iter()
            .map(V::depth)
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        items.truncate(MAX_ITEMS);
        if depth > MAX_DEPTH {
            return V::Unknown;
        }
        if !self.charge(64 + items.len() * std::mem::size_of::<V>()) {
            return V::Opaque(kind);
        }
        V::Seq(Rc::new(Seq {
            kind,
            items,
            len,
            depth,
        }))
    }

    /// An instance of the class `global` (see [`Obj::instance`]).
    fn instance(&mut self, global: u32, args: V) -> V {
        match self.obj(global, args) {
            V::Obj(mut o) => {
                Rc::make_mut(&mut o).instance = true;
                V::Obj(o)
            }
            other => other,
        }
    }

    fn obj(&mut self, global: u32, args: V) -> V {
        if !self.charge(64) {
            return V::Inst(global);
        }
        let args = if args.depth() >= MAX_DEPTH {
            V::Unknown
        } else {
            args
        };
        let depth = args.depth().saturating_add(1);
        V::Obj(Rc::new(Obj {
            global,
            instance: false,
            args,
            state: None,
            depth,
        }))
    }

    /// Appends items to the list/dict/set on top of the stack (copy on
    /// write when the memo shares it).
    fn extend_top(&mut self, items: Vec<V>) -> R<()> {
        let room = self.charge(items.len() * std::mem::size_of::<V>());
        let target = self.top()?;
        if let V::Seq(s) = target {
            let s = Rc::make_mut(s);
            s.len = s.len.saturating_add(items.len() as u64);
            if !room {
                return Ok(());
            }
            for it in items {
                if s.items.len() >= MAX_ITEMS {
                    break;
                }
                let d = it.depth().saturating_add(1);
                if d > MAX_DEPTH {
                    s.items.push(V::Unknown);
                } else {
                    s.depth = s.depth.max(d);
                    s.items.push(it);
                }
            }
        }
        Ok(())
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> R<V> {
        if self.stack.len() <= self.fence() {
            return malformed("unpickling stack underflow");
        }
        self.stack
            .pop()
            .map_or_else(|| malformed("unpickling stack underflow"), Ok)
    }

    fn top(&mut self) -> R<&mut V> {
        if self.stack.len() <= self.fence() {
            return malformed("unpickling stack underflow");
        }
        self.stack
            .last_mut()
            .map_or_else(|| malformed("unpickling stack underflow"), Ok)
    }

    fn pop_mark(&mut self) -> R<Vec<V>> {
        let Some(m) = self.marks.pop() else {
            return malformed("could not find MARK");
        };
        if m > self.stack.len() {
            return malformed("MARK beyond the stack");
        }
        Ok(self.stack.split_off(m))
    }

    fn memo_get(&self, idx: u64) -> R<V> {
        let slot = usize::try_from(idx)
            .ok()
            .and_then(|i| self.memo.get(i))
            .copied()
            .filter(|s| s.0 != Slot::EMPTY.0)
            .or_else(|| self.sparse_memo.get(&idx).copied());
        match slot.and_then(|s| self.decode(s)) {
            Some(v) => Ok(v),
            None => malformed(format!("memo key {idx} not found")),
        }
    }

    /// Memo size in slots. A sparse entry (a PUT far past the end, which
    /// Python's pickler never writes) costs four: it lives in a hash map.
    fn memo_cost(&self) -> usize {
        self.memo.len() + 4 * self.sparse_memo.len()
    }

    /// Packs a value into 8 bytes. Strings of 8 to 14 bytes move to the
    /// arena; containers and objects go to the side table.
    fn encode(&mut self, v: V) -> Slot {
        let tagged = |tag: u64, payload: u64| Slot(tag | (payload << 4));
        match v {
            V::None => tagged(Slot::NONE, 0),
            V::Bool(b) => tagged(Slot::BOOL, u64::from(b)),
            V::Int(i) if (-(1i64 << 59)..(1i64 << 59)).contains(&i) => {
                Slot(Slot::INT | ((i as u64) << 4))
            }
            V::Int(_) | V::Long => tagged(Slot::LONG, 0),
            V::Float => tagged(Slot::FLOAT, 0),
            V::Short(s) if s.len <= 7 => {
                let mut b = [0u8; 8];
                b.get_mut(..7)
                    .unwrap_or(&mut [])
                    .copy_from_slice(s.bytes.get(..7).unwrap_or(&[0; 7]));
                tagged(Slot::SHORT, u64::from(s.len) | (u64::from_le_bytes(b) << 3))
            }
            V::Short(s) => tagged(
                Slot::STR,
                u64::from(self.arena.add(s.as_bytes(), self.budget.strings)),
            ),
            V::Str(sym) => tagged(Slot::STR, u64::from(sym)),
            V::Bytes(sym, _) => tagged(Slot::BYTES, u64::from(sym)),
            V::Global(g) => tagged(Slot::GLOBAL, u64::from(g)),
            V::Inst(g) => tagged(Slot::INST, u64::from(g)),
            V::Opaque(k) => tagged(Slot::OPAQUE, k as u64),
            V::Unknown => tagged(Slot::UNKNOWN, 0),
            v @ (V::Seq(_) | V::Obj(_)) => {
                self.side.push(v);
                tagged(Slot::SIDE, (self.side.len() - 1) as u64)
            }
        }
    }

    fn decode(&self, s: Slot) -> Option<V> {
        let payload = s.0 >> 4;
        Some(match s.0 & 0xf {
            Slot::NONE => V::None,
            Slot::BOOL => V::Bool(payload != 0),
            Slot::INT => V::Int((s.0 as i64) >> 4),
            Slot::LONG => V::Long,
            Slot::FLOAT => V::Float,
            Slot::SHORT => {
                let len = (payload & 7) as usize;
                let bytes = (payload >> 3).to_le_bytes();
                V::Short(Short::new(bytes.get(..len)?)?)
            }
            Slot::STR => V::Str(payload as u32),
            Slot::BYTES => {
                let sym = payload as u32;
                let len = self.arena.get(sym).map_or(0, |b| b.len() as u64);
                V::Bytes(sym, len)
            }
            Slot::GLOBAL => V::Global(payload as u32),
            Slot::INST => V::Inst(payload as u32),
            Slot::OPAQUE => V::Opaque(SeqKind::from_index(payload)),
            Slot::UNKNOWN => V::Unknown,
            Slot::SIDE => self.side.get(usize::try_from(payload).ok()?)?.clone(),
            _ => return None,
        })
    }

    fn memo_put(&mut self, idx: u64, v: V, limits: &VmLimits) -> R<()> {
        if self.memo_cost() >= self.budget.memo {
            return Err(End::Limit(format!(
                "memo holds more than {} entries (max_memo, shared with enclosing pickles)",
                limits.max_memo
            )));
        }
        if self.memo.len() == self.memo.capacity() {
            // Grow by doubling, but never past the budget: Vec's own
            // growth could overshoot the limit by almost 2x.
            let extra = self.memo.len().max(1024).min(self.budget.memo);
            self.memo.reserve_exact(extra);
        }
        let slot = self.encode(v);
        match usize::try_from(idx) {
            Ok(i) if i < self.memo.len() => {
                if let Some(s) = self.memo.get_mut(i) {
                    *s = slot;
                }
            }
            Ok(i) if i == self.memo.len() => self.memo.push(slot),
            _ => {
                self.sparse_memo.insert(idx, slot);
            }
        }
        Ok(())
    }

    /// A text value for `s`: inline when short, else in the arena.
    fn text(&mut self, s: &[u8]) -> V {
        match Short::new(s) {
            Some(short) => V::Short(short),
            None => V::Str(self.arena.add(s, self.budget.strings)),
        }
    }

    fn bytes(&mut self, s: &[u8]) -> V {
        V::Bytes(self.arena.add(s, self.budget.strings), s.len() as u64)
    }

    fn str_of(&self, v: &V) -> Result<String, &'static str> {
        match v {
            V::Str(SYM_LONG) => Err("a string too long to be a name"),
            V::Str(SYM_BUDGET) => Err("a string not kept (string budget exhausted)"),
            V::Str(sym) => self.arena.text(*sym).ok_or("an unknown string"),
            V::Short(s) => Ok(String::from_utf8_lossy(s.as_bytes()).into_owned()),
            _ => Err("not a string"),
        }
    }
}

/// The class (global index) of an object value.
fn class_of(v: &V) -> u32 {
    match v {
        V::Obj(o) => o.global,
        V::Inst(g) => *g,
        _ => NO_GLOBAL,
    }
}

/// An integer as CPython's unpickler accepts it in INT and LONG:
/// `strtol(s, 0)` or `int(s, 0)`, so also `0x1f`, `0o17`, `0b1`, `1_000`
/// and surrounding spaces. Accepting a little more than CPython is safe
/// (the scan goes on); accepting less would stop the scan where the loader
/// goes on.
fn int_literal(t: &str) -> Option<V> {
    let t = t.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(V::Int(i));
    }
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = match lower.get(..2) {
        Some("0x") => (lower.get(2..)?, 16),
        Some("0o") => (lower.get(2..)?, 8),
        Some("0b") => (lower.get(2..)?, 2),
        _ => (lower.as_str(), 10),
    };
    let ok = digits.chars().any(|c| c.is_digit(radix))
        && digits.chars().all(|c| c == '_' || c.is_digit(radix));
    ok.then_some(V::Long)
}

/// A memo index as `PyLong_FromString(s, NULL, 10)` reads it (spaces and
/// digit-separating underscores allowed).
fn memo_index(t: &str) -> Option<u64> {
    let t = t.trim();
    if t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    t.replace('_', "").parse().ok()
}

/// Total bytes of distinct global names kept per stream.
const MAX_NAME_BYTES: usize = 4 << 20;

/// At most `max` characters of `s`, marked when cut: names from text
/// opcodes can be 64 KiB long, reports show a readable prefix.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push_str("...");
    out
}

fn le_u64(b: &[u8]) -> u64 {
    let mut v = [0u8; 8];
    for (d, s) in v.iter_mut().zip(b) {
        *d = *s;
    }
    u64::from_le_bytes(v)
}

fn is_identifier_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|seg| {
            let mut c = seg.chars();
            c.next().is_some_and(|f| f == '_' || f.is_alphabetic())
                && c.all(|ch| ch == '_' || ch.is_alphanumeric())
        })
}

/// Decodes Python's `raw-unicode-escape` (protocol 0 UNICODE): only
/// `\uXXXX` and `\UXXXXXXXX` are escapes; other bytes are Latin-1.
fn raw_unicode_escape(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            let width = match b.get(i + 1) {
                Some(b'u') => 4,
                Some(b'U') => 8,
                _ => 0,
            };
            if width > 0 {
                if let Some(ch) = b
                    .get(i + 2..i + 2 + width)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32)
                {
                    out.push(ch);
                    i += 2 + width;
                    continue;
                }
            }
        }
        out.push(c as char);
        i += 1;
    }
    out
}

/// Decodes the body of a protocol 0 STRING (`codecs.escape_decode`).
fn escape_decode(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = b.get(i) else {
            out.push(b'\\');
            break;
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'x' => {
                let hex = b.get(i..i + 2).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => {
                        out.extend_from_slice(b"\\x");
                    }
                }
            }
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match b.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    out
}

fn looks_like_pickle_head(b: &[u8]) -> bool {
    matches!(b, [0x80, 2..=5, ..])
}

/// If `b` is (raw, base64 or hex of) a binary pickle, its decoded bytes.
fn nested_pickle(b: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    if b.len() < 4 {
        return None;
    }
    if looks_like_pickle_head(b) {
        return Some(("raw", b.to_vec()));
    }
    let trimmed: Vec<u8> = b
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if trimmed.len() >= 8 && trimmed.len() % 2 == 0 && trimmed.iter().all(u8::is_ascii_hexdigit) {
        if let Ok(d) = hex::decode(&trimmed) {
            if looks_like_pickle_head(&d) {
                return Some(("hex", d));
            }
        }
    }
    if trimmed.len() >= 8
        && trimmed
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+/=-_".contains(c))
    {
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        for e in engines {
            if let Ok(d) = e.decode(&trimmed) {
                if looks_like_pickle_head(&d) {
                    return Some(("base64", d));
                }
            }
        }
    }
    None
}

impl Ctx<'_> {
    /// Records the key of a persistent id shaped as PyTorch's storages
    /// are: a tuple whose third item is a string.
    fn persistent_id(&mut self, m: &Machine, v: &V) {
        let V::Seq(seq) = v else { return };
        let Some(key) = seq.items.get(2).and_then(|k| m.str_of(k).ok()) else {
            return;
        };
        if self.out.persistent_keys.len() < MAX_PERSISTENT_KEYS {
            self.out.persistent_keys.push(key);
        }
    }

    fn event(&mut self, offset: u64, kind: EventKind) {
        if self.out.events.len() < 1_000 {
            let context = self.context.clone();
            self.out.events.push(Event {
                offset,
                context,
                kind,
            });
        }
    }

    /// Runs back-to-back pickles until end of input.
    fn run_sequence(&mut self, s: &mut Stream<'_>) {
        let first = s.peek(2).map(looks_like_pickle_head).unwrap_or(false);
        if first {
            self.out.is_pickle = true;
        }
        let mut count = 0u32;
        loop {
            if let Some(max) = self.opts.max_pickles {
                if count >= max {
                    return;
                }
            }
            if count >= self.limits.max_pickles {
                let offset = s.offset();
                let what = format!(
                    "more than {} pickles in one stream",
                    self.limits.max_pickles
                );
                self.event(offset, EventKind::Limit(what));
                return;
            }
            let start = s.offset();
            let mut m = Machine::new(self.budget);
            let end = self.run_one(s, &mut m);
            let looked_like = m.saw_global || m.proto > 0;
            match end {
                End::Stop => {
                    self.out.is_pickle = true;
                    self.out.pickles += 1;
                    self.out.last_int = match m.stack.last() {
                        Some(V::Int(i)) => Some(*i),
                        _ => None,
                    };
                }
                End::Empty => return,
                End::Malformed(what) => {
                    if count == 0 && !looked_like && !self.out.is_pickle {
                        // Not a pickle at all (nothing imported, no STOP).
                        return;
                    }
                    if count > 0 && !looked_like {
                        self.event(start, EventKind::Trailing);
                        return;
                    }
                    self.out.is_pickle = true;
                    let offset = s.offset();
                    self.event(offset, EventKind::Malformed(what));
                    return;
                }
                End::Limit(what) => {
                    self.out.is_pickle = true;
                    let offset = s.offset();
                    self.event(offset, EventKind::Limit(what));
                    return;
                }
                End::Io(e) => {
                    self.out.is_pickle |= looked_like;
                    let offset = s.offset();
                    self.event(offset, EventKind::Malformed(format!("read error: {e}")));
                    return;
                }
            }
            count += 1;
        }
    }

    fn add_global(
        &mut self,
        module: String,
        name: String,
        opcode: &'static str,
        offset: u64,
    ) -> R<u32> {
        let key = (module, name, self.context.clone());
        if let Some(&i) = self.out.index.get(&key) {
            return Ok(i as u32);
        }
        if self.out.globals.len() >= self.limits.max_globals {
            return Err(End::Limit(format!(
                "more than {} distinct globals",
                self.limits.max_globals
            )));
        }
        // Text opcodes allow names up to max_line each: bound their sum too.
        self.out.name_bytes += key.0.len() + key.1.len() + key.2.len();
        if self.out.name_bytes > MAX_NAME_BYTES {
            return Err(End::Limit(format!(
                "global names longer than {MAX_NAME_BYTES} bytes in all"
            )));
        }
        let i = self.out.globals.len();
        if key.1 == "getattr" && matches!(key.0.as_str(), "builtins" | "__builtin__") {
            self.out.getattrs.push(i as u32);
        }
        self.out.globals.push(GlobalSeen {
            module: key.0.clone(),
            name: key.1.clone(),
            opcode,
            offset,
            uses: Uses {
                referenced: true,
                ..Uses::default()
            },
            args: None,
            context: key.2.clone(),
        });
        self.out.index.insert(key, i);
        Ok(i as u32)
    }

    fn global_mut(&mut self, g: u32) -> Option<&mut GlobalSeen> {
        self.out.globals.get_mut(g as usize)
    }

    fn render(&self, m: &Machine, v: &V, depth: u32, out: &mut String) {
        if out.len() > 300 {
            return;
        }
        match v {
            V::None => out.push_str("None"),
            V::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            V::Int(i) => out.push_str(&i.to_string()),
            V::Long => out.push_str("<int>"),
            V::Float => out.push_str("<float>"),
            V::Short(short) => {
                out.push_str(&format!("{:?}", String::from_utf8_lossy(short.as_bytes())))
            }
            V::Str(sym) => match m.arena.text(*sym) {
                Some(t) => {
                    let t: String = t.chars().take(120).collect();
                    out.push_str(&format!("{t:?}"));
                }
                None => out.push_str("<long str>"),
            },
            V::Bytes(sym, len) => match m.arena.get(*sym) {
                Some(b) if b.len() <= 64 => {
                    out.push_str(&format!("b{:?}", String::from_utf8_lossy(b)))
                }
                _ => out.push_str(&format!("<{len} bytes>")),
            },
            V::Seq(s) => {
                let (open, close) = match s.kind {
                    SeqKind::Tuple => ("(", ")"),
                    SeqKind::List => ("[", "]"),
                    SeqKind::Dict => ("{", "}"),
                    SeqKind::Set | SeqKind::FrozenSet => ("{", "}"),
                };
                out.push_str(open);
                if depth >= 3 {
                    out.push_str("...");
                } else {
                    for (i, it) in s.items.iter().take(6).enumerate() {
                        if i > 0 {
                            out.push_str(if s.kind == SeqKind::Dict && i % 2 == 1 {
                                ": "
                            } else {
                                ", "
                            });
                        }
                        self.render(m, it, depth + 1, out);
                    }
                    if s.len > 6 {
                        out.push_str(", ...");
                    }
                }
                out.push_str(close);
            }
            V::Global(g) => match self.out.globals.get(*g as usize) {
                Some(gs) => out.push_str(&format!("{}.{}", gs.module, gs.name)),
                None => out.push_str("<global>"),
            },
            V::Obj(_) | V::Inst(_) => match self.out.globals.get(class_of(v) as usize) {
                Some(gs) => out.push_str(&format!("<{}.{}(...)>", gs.module, gs.name)),
                None => out.push_str("<object>"),
            },
            V::Opaque(_) => out.push_str("<container>"),
            V::Unknown => out.push('?'),
        }
    }

    fn callable_name(&self, v: &V) -> String {
        match v {
            V::Obj(_) | V::Inst(_) => match self.out.globals.get(class_of(v) as usize) {
                Some(g) => format!("the result of {}.{}", g.module, g.name),
                None => "the result of an indirect call".into(),
            },
            other => format!("a value of type {}", other.kind()),
        }
    }

    /// `getattr(G, "name")` with G a global and "name" a constant plain
    /// identifier, as pickle protocols 2 and 3 write a nested function
    /// (`interp1d._call_linear_np`): the global `G.name`, which protocols 4
    /// and 5 write directly and which is classified like any other.
    fn static_getattr(&mut self, m: &Machine, callee: u32, args: &V, offset: u64) -> Option<u32> {
        let gs = self.out.globals.get(callee as usize)?;
        if gs.name != "getattr" || !matches!(gs.module.as_str(), "builtins" | "__builtin__") {
            return None;
        }
        let V::Seq(s) = args else { return None };
        let [V::Global(target), attr] = s.items.as_slice() else {
            return None;
        };
        let attr = m.str_of(attr).ok()?;
        let plain = attr.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !attr.starts_with("__");
        if !plain {
            return None;
        }
        let t = self.out.globals.get(*target as usize)?;
        let (module, name) = (t.module.clone(), format!("{}.{attr}", t.name));
        let resolved = self.add_global(module, name, "getattr", offset).ok()?;
        if let Some(gs) = self.global_mut(callee) {
            gs.uses.static_getattr = true;
        }
        Some(resolved)
    }

    /// Marks the `getattr` globals found in `v` (arguments or state) as
    /// passed; when the walk runs out of budget or meets a container kept
    /// without all its items, every one is marked, as it may be there.
    /// A run's walks share one budget too: a big container passed to a
    /// million calls is walked until it is spent, then getattr is taken as
    /// passed without a walk.
    fn mark_passed(&mut self, v: &V) {
        if self.out.getattrs.is_empty() {
            return;
        }
        if self.out.walk_left == Some(0) {
            // Spent: whatever is passed may hold any of them, even one
            // imported since.
            return self.mark_all_passed();
        }
        let left = self.out.walk_left.unwrap_or(MAX_PASSED_WALK);
        let mut budget = left.min(MAX_WALK_PER_VALUE);
        let mut stack = vec![v];
        let mut all = false;
        while let Some(v) = stack.pop() {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                all = true;
                break;
            }
            match v {
                V::Global(g) if self.out.getattrs.contains(g) => {
                    if let Some(gs) = self.global_mut(*g) {
                        gs.uses.passed = true;
                    }
                }
                V::Seq(s) => {
                    all |= s.len > s.items.len() as u64;
                    stack.extend(s.items.iter());
                }
                V::Obj(o) => {
                    stack.push(&o.args);
                    stack.extend(o.state.iter());
                }
                V::Opaque(_) | V::Inst(_) | V::Unknown => all = true,
                _ => {}
            }
        }
        let visited = left.min(MAX_WALK_PER_VALUE) - budget;
        self.out.walk_left = Some(left - visited);
        if all {
            self.mark_all_passed();
        }
    }

    fn mark_all_passed(&mut self) {
        for g in self.out.getattrs.clone() {
            if let Some(gs) = self.global_mut(g) {
                gs.uses.passed = true;
            }
        }
    }

    /// Records a call of `callee` with `args`; returns the result value.
    fn call(&mut self, m: &mut Machine, callee: V, args: V, how: Call, offset: u64) -> V {
        if matches!(how, Call::Reduce) {
            if let V::Global(g) = callee {
                if let Some(resolved) = self.static_getattr(m, g, &args, offset) {
                    return V::Global(resolved);
                }
            }
        }
        self.mark_passed(&args);
        match &callee {
            V::Global(g) => {
                let g = *g;
                let mut rendered = String::new();
                self.render(m, &args, 0, &mut rendered);
                // copyreg's _reconstructor and __newobj__ instantiate the
                // class passed first.
                let first_class = match (&args, self.out.globals.get(g as usize)) {
                    (V::Seq(s), Some(gs))
                        if matches!(gs.module.as_str(), "copyreg" | "copy_reg") =>
                    {
                        match s.items.first() {
                            Some(V::Global(c)) => Some(*c),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                if let Some(gs) = self.global_mut(g) {
                    match how {
                        Call::Reduce => gs.uses.called = true,
                        Call::New => gs.uses.instantiated = true,
                    }
                    if gs.args.is_none() {
                        gs.args = Some(rendered);
                    }
                }
                if let Some(c) = first_class {
                    if let Some(gs) = self.global_mut(c) {
                        gs.uses.instantiated = true;
                    }
                    return m.instance(c, args);
                }
                match how {
                    Call::New => m.instance(g, args),
                    Call::Reduce => m.obj(g, args),
                }
            }
            V::Obj(_) | V::Inst(_) => {
                let inner = class_of(&callee);
                if let Some(gs) = self.global_mut(inner) {
                    gs.uses.result_called = true;
                }
                let what = format!("calls {}", self.callable_name(&callee));
                self.event(offset, EventKind::IndirectCall(what));
                m.obj(NO_GLOBAL, args)
            }
            other => {
                let what = format!("calls {}", self.callable_name(other));
                self.event(offset, EventKind::IndirectCall(what));
                m.obj(NO_GLOBAL, args)
            }
        }
    }

    /// Whether `v` is surely not of type `str` exactly, which CPython's
    /// STACK_GLOBAL requires of both operands: a literal of another type,
    /// a container, a class, or an instance of a class other than str.
    fn surely_not_str(&self, v: &V) -> bool {
        match v {
            V::None | V::Bool(_) | V::Int(_) | V::Long | V::Float | V::Bytes(..) => true,
            V::Seq(_) | V::Opaque(_) | V::Global(_) => true,
            V::Obj(o) if o.instance => self
                .out
                .globals
                .get(o.global as usize)
                .is_some_and(|g| !(g.name == "str" || g.name == "unicode")),
            _ => false,
        }
    }

    fn stack_global(&mut self, m: &mut Machine, offset: u64) -> R<V> {
        let name = m.pop()?;
        let module = m.pop()?;
        m.saw_global = true;
        match (m.str_of(&module), m.str_of(&name)) {
            (Ok(mo), Ok(na)) => {
                let g = self.add_global(mo, na, "STACK_GLOBAL", offset)?;
                Ok(V::Global(g))
            }
            (a, b) => {
                if self.out.raises_at.is_none()
                    && (self.surely_not_str(&module) || self.surely_not_str(&name))
                {
                    self.out.raises_at = Some(offset);
                }
                let budget =
                    matches!(module, V::Str(SYM_BUDGET)) || matches!(name, V::Str(SYM_BUDGET));
                let describe = |r: Result<String, &str>, v: &V| match r {
                    Ok(s) => format!("{s:?}"),
                    Err(_) => self.callable_name(v).replace("a value of type ", "a "),
                };
                let what = format!(
                    "module {} and name {}",
                    describe(a, &module),
                    describe(b, &name)
                );
                if budget {
                    self.event(
                        offset,
                        EventKind::Limit(format!("global name not kept (string budget): {what}")),
                    );
                } else {
                    self.event(offset, EventKind::Computed(what));
                }
                Ok(V::Unknown)
            }
        }
    }

    fn text_global(
        &mut self,
        s: &mut Stream<'_>,
        m: &mut Machine,
        op: &'static str,
        offset: u64,
    ) -> R<u32> {
        let mut line = Vec::new();
        if s.line(self.limits.max_line, &mut line)?.is_none() {
            return malformed(format!("{op}: module line not terminated"));
        }
        let module = String::from_utf8_lossy(&line).into_owned();
        if s.line(self.limits.max_line, &mut line)?.is_none() {
            return malformed(format!("{op}: name line not terminated"));
        }
        let name = String::from_utf8_lossy(&line).into_owned();
        if !m.saw_global
            && m.proto == 0
            && (!is_identifier_path(&module) || !is_identifier_path(&name))
        {
            // Text that merely starts with `c` or `i` is not a pickle: no
            // module with such a name can be imported by it.
            return malformed(format!(
                "{op}: {:?} {:?} is not a module and name",
                clip(&module, 200),
                clip(&name, 200)
            ));
        }
        m.saw_global = true;
        self.add_global(module, name, op, offset)
    }

    /// A string or bytes payload of `len` bytes: kept if short, checked
    /// for a nested pickle if it fits in memory, otherwise skipped (and a
    /// large raw pickle inside is scanned in place).
    fn payload(&mut self, s: &mut Stream<'_>, m: &mut Machine, len: u64, is_text: bool) -> R<V> {
        let offset = s.offset();
        if len <= self.limits.max_inline as u64 {
            let mut buf = Vec::new();
            if !s.read_into(len as usize, &mut buf)? {
                return malformed(format!("payload of {len} bytes truncated"));
            }
            if let Some((encoding, decoded)) = nested_pickle(&buf) {
                let budget = m.remaining();
                self.nested(encoding, offset, decoded.len() as u64, budget, |ctx| {
                    let mut cur = io::Cursor::new(decoded);
                    let mut inner = Stream::new(&mut cur);
                    ctx.run_sequence(&mut inner);
                });
            }
            return Ok(if is_text { m.text(&buf) } else { m.bytes(&buf) });
        }
        let head = s.peek(2)?.to_vec();
        if looks_like_pickle_head(&head) {
            let prev = s.push_limit(len);
            let start = s.offset();
            let budget = m.remaining();
            self.nested("raw", offset, len, budget, |ctx| ctx.run_sequence(s));
            let used = s.offset() - start;
            s.restore_limit(prev, used);
            let rest = len.saturating_sub(used);
            if s.skip(rest)? < rest {
                return malformed(format!("payload of {len} bytes truncated"));
            }
        } else if s.skip(len)? < len {
            return malformed(format!("payload of {len} bytes truncated"));
        }
        Ok(if is_text {
            V::Str(SYM_LONG)
        } else {
            V::Bytes(SYM_LONG, len)
        })
    }

    fn nested(
        &mut self,
        encoding: &'static str,
        offset: u64,
        len: u64,
        budget: Budget,
        f: impl FnOnce(&mut Ctx<'_>),
    ) {
        let context = self.context.clone();
        if self.depth >= self.limits.max_nested_depth {
            self.event(
                offset,
                EventKind::Limit(format!(
                    "nested pickle deeper than {}",
                    self.limits.max_nested_depth
                )),
            );
            return;
        }
        self.event(offset, EventKind::Nested { encoding, len });
        let saved_ctx = std::mem::replace(
            &mut self.context,
            format!(
                "{}nested {encoding} pickle at offset {offset}",
                if context.is_empty() {
                    String::new()
                } else {
                    format!("{context} > ")
                }
            ),
        );
        self.depth += 1;
        let saved_budget = std::mem::replace(&mut self.budget, budget);
        f(self);
        self.budget = saved_budget;
        self.depth -= 1;
        self.context = saved_ctx;
    }

    fn int_line(&self, s: &mut Stream<'_>, what: &str) -> R<String> {
        let mut line = Vec::new();
        if s.line(self.limits.max_line, &mut line)?.is_none() {
            return malformed(format!("{what}: line not terminated"));
        }
        Ok(String::from_utf8_lossy(&line).trim().to_string())
    }

    fn fixed<const N: usize>(s: &mut Stream<'_>, what: &str) -> R<[u8; N]> {
        let mut out = [0u8; N];
        for b in out.iter_mut() {
            match s.byte()? {
                Some(v) => *b = v,
                None => return malformed(format!("{what}: truncated argument")),
            }
        }
        Ok(out)
    }

    fn push(&self, m: &mut Machine, v: V) -> R<()> {
        if m.stack.len() >= self.limits.max_stack {
            return Err(End::Limit(format!(
                "stack deeper than {}",
                self.limits.max_stack
            )));
        }
        m.stack.push(v);
        Ok(())
    }

    /// Executes one pickle until STOP.
    fn run_one(&mut self, s: &mut Stream<'_>, m: &mut Machine) -> End {
        match self.run_inner(s, m) {
            Ok(()) => End::Stop,
            Err(e) => e,
        }
    }

    fn run_inner(&mut self, s: &mut Stream<'_>, m: &mut Machine) -> R<()> {
        let mut first = true;
        loop {
            let offset = s.offset();
            let Some(op) = s.byte()? else {
                if first {
                    return Err(End::Empty);
                }
                return malformed("pickle ended before STOP");
            };
            first = false;
            self.out.opcodes += 1;
            if self.out.opcodes > self.limits.max_opcodes {
                return Err(End::Limit(format!(
                    "more than {} opcodes",
                    self.limits.max_opcodes
                )));
            }
            match op {
                b'.' => return Ok(()),
                0x80 => {
                    let [p] = Self::fixed::<1>(s, "PROTO")?;
                    if p > 5 {
                        return malformed(format!("unsupported pickle protocol {p}"));
                    }
                    m.proto = p.max(1);
                }
                0x95 => {
                    // FRAME: CPython's C unpickler reads the frame and then
                    // parses opcodes linearly across frame boundaries, so
                    // the frame length changes nothing about what runs.
                    let _ = Self::fixed::<8>(s, "FRAME")?;
                }
                b'(' => {
                    if m.marks.len() >= self.limits.max_marks {
                        return Err(End::Limit(format!(
                            "more than {} marks",
                            self.limits.max_marks
                        )));
                    }
                    m.marks.push(m.stack.len());
                }
                b'0' => {
                    // POP: pops the mark when nothing is above it (C unpickler).
                    if m.marks.last() == Some(&m.stack.len()) {
                        m.marks.pop();
                    } else {
                        m.pop()?;
                    }
                }
                b'1' => {
                    m.pop_mark()?;
                }
                b'2' => {
                    let v = m.top()?.clone();
                    self.push(m, v)?;
                }
                b'N' => self.push(m, V::None)?,
                0x88 => self.push(m, V::Bool(true))?,
                0x89 => self.push(m, V::Bool(false))?,
                b'I' => {
                    let t = self.int_line(s, "INT")?;
                    let v = match t.as_str() {
                        "00" => V::Bool(false),
                        "01" => V::Bool(true),
                        _ => match int_literal(&t) {
                            Some(v) => v,
                            None => {
                                return malformed(format!(
                                    "INT: invalid literal {:?}",
                                    clip(&t, 100)
                                ))
                            }
                        },
                    };
                    self.push(m, v)?;
                }
                b'L' => {
                    let t = self.int_line(s, "LONG")?;
                    let t = t.strip_suffix('L').unwrap_or(&t);
                    let Some(v) = int_literal(t) else {
                        return malformed(format!("LONG: invalid literal {:?}", clip(t, 100)));
                    };
                    self.push(m, v)?;
                }
                b'F' => {
                    let t = self.int_line(s, "FLOAT")?;
                    if t.parse::<f64>().is_err() {
                        return malformed(format!("FLOAT: invalid literal {t:?}"));
                    }
                    self.push(m, V::Float)?;
                }
                b'J' => {
                    let b = Self::fixed::<4>(s, "BININT")?;
                    self.push(m, V::Int(i64::from(i32::from_le_bytes(b))))?;
                }
                b'K' => {
                    let [b] = Self::fixed::<1>(s, "BININT1")?;
                    self.push(m, V::Int(i64::from(b)))?;
                }
                b'M' => {
                    let b = Self::fixed::<2>(s, "BININT2")?;
                    self.push(m, V::Int(i64::from(u16::from_le_bytes(b))))?;
                }
                0x8a => {
                    let [n] = Self::fixed::<1>(s, "LONG1")?;
                    let mut buf = Vec::new();
                    if !s.read_into(n as usize, &mut buf)? {
                        return malformed("LONG1: truncated");
                    }
                    let v = if n <= 8 && n > 0 {
                        let mut arr = if buf.last().is_some_and(|l| l & 0x80 != 0) {
                            [0xffu8; 8]
                        } else {
                            [0u8; 8]
                        };
                        for (d, s) in arr.iter_mut().zip(&buf) {
                            *d = *s;
                        }
                        V::Int(i64::from_le_bytes(arr))
                    } else if n == 0 {
                        V::Int(0)
                    } else {
                        V::Long
                    };
                    self.push(m, v)?;
                }
                0x8b => {
                    let b = Self::fixed::<4>(s, "LONG4")?;
                    let n = i32::from_le_bytes(b);
                    if n < 0 {
                        return malformed("LONG4: negative byte count");
                    }
                    if s.skip(n as u64)? < n as u64 {
                        return malformed("LONG4: truncated");
                    }
                    self.push(m, V::Long)?;
                }
                b'G' => {
                    let _ = Self::fixed::<8>(s, "BINFLOAT")?;
                    self.push(m, V::Float)?;
                }
                b'S' => {
                    let mut line = Vec::new();
                    if s.line(self.limits.max_line, &mut line)?.is_none() {
                        return malformed("STRING: line not terminated");
                    }
                    let body = match line.as_slice() {
                        [q @ (b'\'' | b'"'), body @ .., last] if last == q => body,
                        _ => return malformed("STRING: the argument must be quoted"),
                    };
                    let decoded = escape_decode(body);
                    let v = m.text(&decoded);
                    self.push(m, v)?;
                }
                b'V' => {
                    let mut line = Vec::new();
                    if s.line(self.limits.max_line, &mut line)?.is_none() {
                        return malformed("UNICODE: line not terminated");
                    }
                    let text = raw_unicode_escape(&line);
                    let v = m.text(text.as_bytes());
                    self.push(m, v)?;
                }
                b'T' | b'X' | b'B' => {
                    let b = Self::fixed::<4>(s, "length")?;
                    let n = if op == b'T' {
                        let n = i32::from_le_bytes(b);
                        if n < 0 {
                            return malformed("BINSTRING: negative length");
                        }
                        n as u64
                    } else {
                        u64::from(u32::from_le_bytes(b))
                    };
                    let v = self.payload(s, m, n, op != b'B')?;
                    self.push(m, v)?;
                }
                b'U' | b'C' | 0x8c => {
                    let [n] = Self::fixed::<1>(s, "length")?;
                    let v = self.payload(s, m, u64::from(n), op != b'C')?;
                    self.push(m, v)?;
                }
                0x8d | 0x8e | 0x96 => {
                    let b = Self::fixed::<8>(s, "length")?;
                    let n = le_u64(&b);
                    let v = self.payload(s, m, n, op == 0x8d)?;
                    self.push(m, v)?;
                }
                0x97 => self.push(m, V::Unknown)?,
                0x98 => {
                    m.top()?;
                }
                b')' => {
                    let v = m.seq(SeqKind::Tuple, Vec::new());
                    self.push(m, v)?
                }
                b']' => {
                    let v = m.seq(SeqKind::List, Vec::new());
                    self.push(m, v)?
                }
                b'}' => {
                    let v = m.seq(SeqKind::Dict, Vec::new());
                    self.push(m, v)?
                }
                0x8f => {
                    let v = m.seq(SeqKind::Set, Vec::new());
                    self.push(m, v)?
                }
                b't' => {
                    let items = m.pop_mark()?;
                    {
                        let v = m.seq(SeqKind::Tuple, items);
                        self.push(m, v)?
                    };
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(m.pop()?);
                    }
                    items.reverse();
                    {
                        let v = m.seq(SeqKind::Tuple, items);
                        self.push(m, v)?
                    };
                }
                b'l' => {
                    let items = m.pop_mark()?;
                    {
                        let v = m.seq(SeqKind::List, items);
                        self.push(m, v)?
                    };
                }
                b'd' => {
                    let items = m.pop_mark()?;
                    if items.len() % 2 != 0 {
                        return malformed("DICT: odd number of items");
                    }
                    {
                        let v = m.seq(SeqKind::Dict, items);
                        self.push(m, v)?
                    };
                }
                0x91 => {
                    let items = m.pop_mark()?;
                    {
                        let v = m.seq(SeqKind::FrozenSet, items);
                        self.push(m, v)?
                    };
                }
                b'a' => {
                    let v = m.pop()?;
                    m.extend_top(vec![v])?;
                }
                b'e' | 0x90 => {
                    let items = m.pop_mark()?;
                    m.extend_top(items)?;
                }
                b's' => {
                    let v = m.pop()?;
                    let k = m.pop()?;
                    m.extend_top(vec![k, v])?;
                }
                b'u' => {
                    let items = m.pop_mark()?;
                    if items.len() % 2 != 0 {
                        return malformed("SETITEMS: odd number of items");
                    }
                    m.extend_top(items)?;
                }
                b'g' => {
                    let t = self.int_line(s, "GET")?;
                    let Some(idx) = memo_index(&t) else {
                        return malformed(format!("GET: invalid index {:?}", clip(&t, 100)));
                    };
                    let v = m.memo_get(idx)?;
                    self.push(m, v)?;
                }
                b'h' => {
                    let [i] = Self::fixed::<1>(s, "BINGET")?;
                    let v = m.memo_get(u64::from(i))?;
                    self.push(m, v)?;
                }
                b'j' => {
                    let b = Self::fixed::<4>(s, "LONG_BINGET")?;
                    let v = m.memo_get(u64::from(u32::from_le_bytes(b)))?;
                    self.push(m, v)?;
                }
                b'p' => {
                    let t = self.int_line(s, "PUT")?;
                    let Some(idx) = memo_index(&t) else {
                        return malformed(format!("PUT: invalid index {:?}", clip(&t, 100)));
                    };
                    let v = m.top()?.clone();
                    m.memo_put(idx, v, self.limits)?;
                }
                b'q' => {
                    let [i] = Self::fixed::<1>(s, "BINPUT")?;
                    let v = m.top()?.clone();
                    m.memo_put(u64::from(i), v, self.limits)?;
                }
                b'r' => {
                    let b = Self::fixed::<4>(s, "LONG_BINPUT")?;
                    let v = m.top()?.clone();
                    m.memo_put(u64::from(u32::from_le_bytes(b)), v, self.limits)?;
                }
                0x94 => {
                    let v = m.top()?.clone();
                    let idx = (m.memo.len() + m.sparse_memo.len()) as u64;
                    m.memo_put(idx, v, self.limits)?;
                }
                b'c' => {
                    let g = self.text_global(s, m, "GLOBAL", offset)?;
                    self.push(m, V::Global(g))?;
                }
                0x93 => {
                    let v = self.stack_global(m, offset)?;
                    self.push(m, v)?;
                }
                b'i' => {
                    let g = self.text_global(s, m, "INST", offset)?;
                    let args = m.pop_mark()?;
                    let t = m.seq(SeqKind::Tuple, args);
                    let r = self.call(m, V::Global(g), t, Call::New, offset);
                    self.push(m, r)?;
                }
                b'o' => {
                    let mut items = m.pop_mark()?;
                    if items.is_empty() {
                        return malformed("OBJ: no class after MARK");
                    }
                    let cls = items.remove(0);
                    let t = m.seq(SeqKind::Tuple, items);
                    let r = self.call(m, cls, t, Call::New, offset);
                    self.push(m, r)?;
                }
                0x81 => {
                    let args = m.pop()?;
                    let cls = m.pop()?;
                    let r = self.call(m, cls, args, Call::New, offset);
                    self.push(m, r)?;
                }
                0x92 => {
                    let kwargs = m.pop()?;
                    let args = m.pop()?;
                    let cls = m.pop()?;
                    let t = m.seq(SeqKind::Tuple, vec![args, kwargs]);
                    let r = self.call(m, cls, t, Call::New, offset);
                    self.push(m, r)?;
                }
                b'R' => {
                    let args = m.pop()?;
                    let f = m.pop()?;
                    let r = self.call(m, f, args, Call::Reduce, offset);
                    self.push(m, r)?;
                }
                b'b' => {
                    let state = m.pop()?;
                    self.build(s, m, state, offset)?;
                }
                b'P' => {
                    let _ = self.int_line(s, "PERSID")?;
                    self.push(m, V::Unknown)?;
                }
                b'Q' => {
                    let pid = m.pop()?;
                    self.persistent_id(m, &pid);
                    self.push(m, V::Unknown)?;
                }
                0x82..=0x84 => {
                    let code = match op {
                        0x82 => u32::from(Self::fixed::<1>(s, "EXT1")?[0]),
                        0x83 => u32::from(u16::from_le_bytes(Self::fixed::<2>(s, "EXT2")?)),
                        _ => {
                            let c = i32::from_le_bytes(Self::fixed::<4>(s, "EXT4")?);
                            if c <= 0 {
                                return malformed("EXT4: code must be positive");
                            }
                            c as u32
                        }
                    };
                    if code == 0 {
                        return malformed("EXT: code 0 is invalid");
                    }
                    m.saw_global = true;
                    self.event(offset, EventKind::Extension(code));
                    self.push(m, V::Unknown)?;
                }
                other => {
                    return malformed(format!("invalid opcode 0x{other:02x}"));
                }
            }
        }
    }

    /// BUILD: sets state on the object below. joblib's unpickler then reads
    /// the array data of a `NumpyArrayWrapper` straight from the stream.
    fn build(&mut self, s: &mut Stream<'_>, m: &mut Machine, state: V, offset: u64) -> R<()> {
        self.mark_passed(&state);
        let target = m.top()?;
        let g = match target {
            V::Obj(o) => {
                let o = Rc::make_mut(o);
                o.state = Some(state.clone());
                o.global
            }
            V::Global(g) | V::Inst(g) => *g,
            _ => NO_GLOBAL,
        };
        let is_wrapper = match self.global_mut(g) {
            Some(gs) => {
                gs.uses.state_set = true;
                gs.module == "joblib.numpy_pickle" && gs.name == "NumpyArrayWrapper"
            }
            None => false,
        };
        if is_wrapper && self.opts.joblib {
            let spec = array_spec(m, &state);
            m.pop()?;
            match spec {
                Some(ArraySpec {
                    has_object: true, ..
                }) => {
                    self.out.joblib_arrays += 1;
                    if self.depth >= self.limits.max_nested_depth {
                        return Err(End::Limit("joblib object array nested too deep".into()));
                    }
                    let saved = std::mem::replace(
                        &mut self.context,
                        format!("joblib object array at offset {}", s.offset()),
                    );
                    self.depth += 1;
                    let mut inner = Machine::new(m.remaining());
                    let end = self.run_one(s, &mut inner);
                    self.depth -= 1;
                    self.context = saved;
                    match end {
                        End::Stop => {}
                        End::Empty => return malformed("joblib object array: missing pickle"),
                        other => return Err(other),
                    }
                }
                Some(spec) => {
                    self.out.joblib_arrays += 1;
                    if spec.aligned {
                        let [pad] = Self::fixed::<1>(s, "joblib array padding")?;
                        if s.skip(u64::from(pad))? < u64::from(pad) {
                            return malformed("joblib array padding truncated");
                        }
                    }
                    let bytes = spec
                        .count
                        .checked_mul(spec.itemsize)
                        .map_or_else(|| malformed("joblib array size overflows"), Ok)?;
                    if s.skip(bytes)? < bytes {
                        return malformed(format!("joblib array data of {bytes} bytes truncated"));
                    }
                }
                None => {
                    return Err(End::Limit(format!(
                        "joblib array at offset {offset}: shape or dtype not understood, cannot find where its data ends"
                    )));
                }
            }
            self.push(m, V::Unknown)?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Call {
    Reduce,
    New,
}

struct ArraySpec {
    count: u64,
    itemsize: u64,
    has_object: bool,
    aligned: bool,
}

fn dict_get<'v>(m: &Machine, d: &'v V, key: &str) -> Option<&'v V> {
    let V::Seq(s) = d else { return None };
    s.items
        .chunks(2)
        .find(|kv| kv.first().and_then(|k| m.str_of(k).ok()).as_deref() == Some(key))
        .and_then(|kv| kv.get(1))
}

/// Reads shape and dtype from a joblib `NumpyArrayWrapper` state dict.
fn array_spec(m: &Machine, state: &V) -> Option<ArraySpec> {
    let count = match dict_get(m, state, "shape")? {
        V::Seq(s) if s.kind == SeqKind::Tuple => {
            if s.len as usize != s.items.len() {
                return None;
            }
            s.items.iter().try_fold(1u64, |acc, v| match v {
                V::Int(i) if *i >= 0 => acc.checked_mul(*i as u64),
                _ => None,
            })?
        }
        _ => return None,
    };
    let aligned = matches!(
        dict_get(m, state, "numpy_array_alignment_bytes"),
        Some(V::Int(_))
    );
    let V::Obj(dt) = dict_get(m, state, "dtype")? else {
        return None;
    };
    let V::Seq(args) = &dt.args else { return None };
    let code = m.str_of(args.items.first()?).ok()?;
    let dstate = match &dt.state {
        Some(V::Seq(s)) => Some(s),
        _ => None,
    };
    let flags = dstate.and_then(|s| match s.items.get(7) {
        Some(V::Int(f)) => Some(*f),
        _ => None,
    });
    let elsize = dstate.and_then(|s| match s.items.get(5) {
        Some(V::Int(e)) if *e > 0 => Some(*e as u64),
        _ => None,
    });
    let has_object = code.starts_with('O') || flags.is_some_and(|f| f & 1 != 0);
    let digits: String = code
        .chars()
        .skip_while(|c| c.is_ascii_alphabetic())
        .collect();
    let n: u64 = digits.parse().unwrap_or(0);
    let itemsize = match code.chars().next()? {
        'U' => n.checked_mul(4)?,
        'V' => elsize.unwrap_or(n),
        'O' => 8,
        _ if n > 0 => n,
        'b' | 'B' | '?' => 1,
        _ => elsize?,
    };
    Some(ArraySpec {
        count,
        itemsize,
        has_object,
        aligned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Outcome {
        let mut cur = io::Cursor::new(bytes.to_vec());
        let mut s = Stream::new(&mut cur);
        scan_stream(&mut s, &VmLimits::default(), &RunOptions::default())
    }

    fn names(o: &Outcome) -> Vec<String> {
        o.globals
            .iter()
            .map(|g| format!("{}.{}", g.module, g.name))
            .collect()
    }

    #[test]
    fn values_stay_small() {
        assert_eq!(std::mem::size_of::<V>(), 16);
        assert_eq!(std::mem::size_of::<Slot>(), 8);
    }

    #[test]
    fn memo_slots_round_trip() {
        let mut m = Machine::new(Budget {
            memo: 100,
            strings: 1 << 20,
            containers: 1 << 20,
        });
        let list = m.seq(SeqKind::List, vec![V::Int(1)]);
        let values = vec![
            V::None,
            V::Bool(true),
            V::Int(-5),
            V::Int(1 << 58),
            m.text(b"posix"),
            m.text(b"exactly7"),
            m.text(b"fourteen bytes"),
            m.text(b"a string longer than fourteen bytes"),
            V::Global(7),
            V::Inst(3),
            V::Opaque(SeqKind::Dict),
            list,
        ];
        for (i, v) in values.iter().enumerate() {
            m.memo_put(i as u64, v.clone(), &VmLimits::default())
                .unwrap();
        }
        for (i, v) in values.iter().enumerate() {
            let got = m.memo_get(i as u64).unwrap();
            assert_eq!(
                format!("{:?}", m.str_of(&got)),
                format!("{:?}", m.str_of(v)),
                "{i}"
            );
            assert_eq!(got.kind(), v.kind(), "{i}");
        }
        assert!(matches!(m.memo_get(2).unwrap(), V::Int(-5)));
        assert!(matches!(m.memo_get(3).unwrap(), V::Int(i) if i == 1 << 58));
        assert!(matches!(m.memo_get(8).unwrap(), V::Global(7)));
        assert!(m.memo_get(99).is_err());
    }

    #[test]
    fn arena_and_inline_strings_round_trip() {
        let mut m = Machine::new(Budget {
            memo: 10,
            strings: 1 << 20,
            containers: 1 << 20,
        });
        let short = m.text(b"torch._utils");
        let long = m.text(b"_rebuild_tensor_v2_and_more");
        assert!(matches!(short, V::Short(_)));
        assert!(matches!(long, V::Str(_)));
        assert_eq!(m.str_of(&short).unwrap(), "torch._utils");
        assert_eq!(m.str_of(&long).unwrap(), "_rebuild_tensor_v2_and_more");
        m.budget.strings = 30;
        let over = m.text(&[b'x'; 40]);
        assert!(matches!(over, V::Str(SYM_BUDGET)));
    }

    #[test]
    fn protocol0_reduce() {
        let o = run(b"cos\nsystem\n(S'echo hi'\ntR.");
        assert!(o.is_pickle);
        assert_eq!(names(&o), vec!["os.system"]);
        assert!(o.globals[0].uses.called);
        assert_eq!(o.globals[0].args.as_deref(), Some("(\"echo hi\")"));
        assert!(o.events.is_empty(), "{:?}", o.events);
    }

    #[test]
    fn stack_global_from_memo() {
        // proto 4: 'os' MEMOIZE 'system' STACK_GLOBAL, then again via BINGET.
        let p = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93h\x00h\x01\x93\x8c\x01x\x85R.";
        let o = run(p);
        assert_eq!(names(&o), vec!["os.system"]);
        assert!(o.globals[0].uses.called);
    }

    #[test]
    fn cpython_raises_where_stack_global_gets_no_str() {
        // An instance made by NEWOBJ as the module: CPython raises
        // "STACK_GLOBAL requires str" there.
        let p = b"\x80\x04\x8c\x03sk.\x94\x8c\x01M\x94\x93)\x81\x94\x8c\x05dtype\x93.";
        let o = run(p);
        assert_eq!(o.raises_at, Some(23), "{:?}", o.events);
        // An int: the same.
        let o = run(b"\x80\x04K\x01\x8c\x01x\x93.");
        assert!(o.raises_at.is_some());
        // The result of a call may be a str at run time: no.
        let o = run(b"\x80\x04cbuiltins\nstr\n)R\x8c\x06system\x93.");
        assert_eq!(o.raises_at, None);
        // copyreg._reconstructor(str, str, "os") is a str: no.
        let o = run(b"\x80\x02ccopyreg\n_reconstructor\ncbuiltins\nstr\ncbuiltins\nstr\nX\x02\x00\x00\x00os\x87RX\x06\x00\x00\x00system\x93.");
        assert_eq!(o.raises_at, None);
    }

    #[test]
    fn computed_global_is_flagged() {
        // module is the result of a call: getattr-like computed name.
        let p = b"\x80\x04cbuiltins\nstr\n)R\x8c\x06system\x93.";
        let o = run(p);
        assert!(
            o.events
                .iter()
                .any(|e| matches!(e.kind, EventKind::Computed(_))),
            "{:?}",
            o.events
        );
    }

    #[test]
    fn text_is_not_a_pickle() {
        for t in [
            &b"hello world\n"[..],
            b"col1,col2\n1,2\n",
            b"import os\nprint(1)\n",
            b"{\"a\": 1}",
        ] {
            let o = run(t);
            assert!(!o.is_pickle, "{:?}", String::from_utf8_lossy(t));
            assert!(o.globals.is_empty());
        }
    }

    #[test]
    fn truncated_is_malformed() {
        let o = run(b"\x80\x02cos\nsystem\n");
        assert!(o.is_pickle);
        assert_eq!(names(&o), vec!["os.system"]);
        assert!(matches!(o.events[0].kind, EventKind::Malformed(_)));
    }

    #[test]
    fn content_after_stop_is_scanned() {
        let o = run(b"\x80\x02N.\x80\x02cos\nsystem\n.");
        assert_eq!(o.pickles, 2);
        assert_eq!(names(&o), vec!["os.system"]);
    }

    #[test]
    fn pop_takes_mark_like_c() {
        // MARK POP leaves an empty mark stack: TUPLE then has no mark.
        let o = run(b"\x80\x02(0N.");
        assert!(o.events.is_empty(), "{:?}", o.events);
        let o = run(b"\x80\x02(0t.");
        assert!(matches!(o.events[0].kind, EventKind::Malformed(_)));
    }

    #[test]
    fn nested_base64_pickle() {
        let inner = b"\x80\x02cos\nsystem\n.";
        let b64 = base64::engine::general_purpose::STANDARD.encode(inner);
        let mut p = b"\x80\x03X".to_vec();
        p.extend_from_slice(&(b64.len() as u32).to_le_bytes());
        p.extend_from_slice(b64.as_bytes());
        p.extend_from_slice(b".");
        let o = run(&p);
        assert_eq!(names(&o), vec!["os.system"]);
        assert!(o.globals[0].context.contains("base64"));
    }

    #[test]
    fn nested_hex_pickle() {
        let inner = b"\x80\x02cos\nsystem\n.";
        let hexed = hex::encode(inner);
        let mut p = b"\x80\x03X".to_vec();
        p.extend_from_slice(&(hexed.len() as u32).to_le_bytes());
        p.extend_from_slice(hexed.as_bytes());
        p.extend_from_slice(b".");
        let o = run(&p);
        assert_eq!(names(&o), vec!["os.system"]);
        assert!(o.globals[0].context.contains("hex"));
    }

    #[test]
    fn container_budget_keeps_tracking_without_items() {
        // 10,000 memoized 2-tuples with a 64 KiB container budget.
        let mut p = b"\x80\x04]".to_vec();
        for _ in 0..10_000 {
            p.extend_from_slice(b"K\x01K\x02\x86\x94a");
        }
        p.extend_from_slice(b"cos\nsystem\n\x8c\x02id\x85R.");
        let limits = VmLimits {
            container_budget: 64 * 1024,
            ..VmLimits::default()
        };
        let mut cur = io::Cursor::new(p);
        let mut s = Stream::new(&mut cur);
        let o = scan_stream(&mut s, &limits, &RunOptions::default());
        assert!(o.events.is_empty(), "{:?}", o.events);
        assert_eq!(names(&o), vec!["os.system"]);
        // Arguments built past the budget are not kept, but the call is.
        assert!(o.globals[0].uses.called);
    }

    #[test]
    fn nested_pickles_share_the_memo_budget() {
        // Outer memoizes 8 values; the nested pickle may use only the rest.
        let mut inner = b"\x80\x04]".to_vec();
        inner.extend(std::iter::repeat_n(0x94, 5));
        inner.push(b'.');
        let mut p = b"\x80\x04".to_vec();
        for _ in 0..8 {
            p.extend_from_slice(b"N\x94");
        }
        p.push(b'C');
        p.push(inner.len() as u8);
        p.extend_from_slice(&inner);
        p.push(b'.');
        let limits = VmLimits {
            max_memo: 10,
            ..VmLimits::default()
        };
        let mut cur = io::Cursor::new(p);
        let mut s = Stream::new(&mut cur);
        let o = scan_stream(&mut s, &limits, &RunOptions::default());
        assert!(
            o.events
                .iter()
                .any(|e| matches!(&e.kind, EventKind::Limit(what) if what.contains("memo"))),
            "{:?}",
            o.events
        );
    }

    #[test]
    fn text_integers_as_cpython_reads_them() {
        // INT/LONG go through strtol(s, 0) or int(s, 0); GET/PUT through
        // int(s, 10): all of these load in CPython, so the scan goes on.
        let o = run(b"I0x1f\nI0o17\nI1_000\nL0b101L\nI 12\n0000p1_0\ng10\ncos\nsystem\n.");
        assert!(o.events.is_empty(), "{:?}", o.events);
        assert_eq!(names(&o), vec!["os.system"]);
        let o = run(b"I12abc\n.");
        assert!(
            matches!(
                o.events.first().map(|e| &e.kind),
                Some(EventKind::Malformed(_))
            ) || !o.is_pickle
        );
    }

    #[test]
    fn escapes_decode_like_python() {
        assert_eq!(escape_decode(br"o\x73\163\n"), b"oss\n");
        assert_eq!(raw_unicode_escape(br"\u006fs"), "os");
    }

    #[test]
    fn dup_bomb_is_cheap() {
        let mut p = b"\x80\x02]".to_vec();
        for _ in 0..100_000 {
            p.extend_from_slice(b"2a");
        }
        p.push(b'.');
        let o = run(&p);
        assert_eq!(o.pickles, 1);
    }
}
