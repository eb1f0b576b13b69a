//! Allowlist-first verdicts on the globals a pickle imports.
//!
//! Order of decision: the policy's deny list, the built-in deny list (every
//! dotted prefix is checked), the exact allowlist, dunder attribute escapes,
//! class allowlists by module, names that are dangerous in any module, and
//! finally "unknown". A global we have never heard of is never silently
//! safe.

use std::collections::HashSet;

/// Why a global is dangerous. Each maps to one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Danger {
    /// Runs code or processes.
    Exec,
    /// Imports modules or resolves arbitrary names.
    Import,
    /// Reflection and call gadgets (`getattr`, dunder escapes, `functools.partial`).
    Reflection,
    /// Reads, writes or deletes files.
    File,
    /// Opens network connections.
    Network,
    /// Deserializes again (a nested, unscanned payload).
    NestedLoad,
    /// On the policy's deny list.
    PolicyDenied,
}

impl Danger {
    /// What the global does, in a few words.
    pub fn what(self) -> &'static str {
        match self {
            Danger::Exec => "runs code or processes",
            Danger::Import => "import machinery",
            Danger::Reflection => "reflection or call gadget",
            Danger::File => "file-system access",
            Danger::Network => "network access",
            Danger::NestedLoad => "nested deserialization",
            Danger::PolicyDenied => "denied by policy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Safe,
    Unknown,
    Dangerous(Danger),
}

/// Python 2 module names that `pickle` maps to Python 3 ones
/// (`fix_imports`), so `__builtin__.eval` is `builtins.eval`.
fn py3_module(module: &str) -> &str {
    match module {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "urllib2" => "urllib.request",
        "httplib" => "http.client",
        "SocketServer" => "socketserver",
        "commands" => "subprocess",
        other => other,
    }
}

use Danger::*;

/// Modules and names that are dangerous, by dotted prefix.
const DENY: &[(&str, Danger)] = &[
    ("os", Exec),
    ("posix", Exec),
    ("nt", Exec),
    ("subprocess", Exec),
    ("_posixsubprocess", Exec),
    ("pty", Exec),
    ("popen2", Exec),
    ("platform.popen", Exec),
    ("platform._syscmd_ver", Exec),
    ("builtins.eval", Exec),
    ("builtins.exec", Exec),
    ("builtins.execfile", Exec),
    ("builtins.compile", Exec),
    ("builtins.breakpoint", Exec),
    ("builtins.input", Exec),
    ("builtins.help", Exec),
    ("builtins.copyright", Exec),
    ("builtins.credits", Exec),
    ("builtins.license", Exec),
    ("builtins.exit", Exec),
    ("builtins.quit", Exec),
    ("code", Exec),
    ("codeop", Exec),
    ("runpy", Exec),
    ("timeit", Exec),
    ("cProfile", Exec),
    ("profile", Exec),
    ("pdb", Exec),
    ("bdb", Exec),
    ("trace", Exec),
    ("doctest", Exec),
    ("idlelib", Exec),
    ("webbrowser", Exec),
    ("pydoc", Exec),
    ("asyncio", Exec),
    ("multiprocessing", Exec),
    ("concurrent", Exec),
    ("ctypes", Exec),
    ("_ctypes", Exec),
    ("cffi", Exec),
    ("signal", Exec),
    ("_thread", Exec),
    ("threading", Exec),
    ("uuid._get_command_stdout", Exec),
    ("_osx_support", Exec),
    ("_aix_support", Exec),
    ("_pyrepl", Exec),
    ("test", Exec),
    ("venv", Exec),
    ("ensurepip", Exec),
    ("pip", Exec),
    ("setuptools", Exec),
    ("distutils", Exec),
    ("logging.config", Exec),
    ("numpy.testing._private.utils.runstring", Exec),
    ("numpy.testing", Exec),
    ("numpy.f2py", Exec),
    ("numpy.distutils", Exec),
    ("numpy.ctypeslib", Exec),
    ("torch.utils.cpp_extension", Exec),
    ("torch.hub", Exec),
    ("torch._dynamo", Exec),
    ("torch._inductor", Exec),
    ("torch.compile", Exec),
    ("torch.jit", Exec),
    ("torch.package", Exec),
    ("torch.fx", Exec),
    ("IPython", Exec),
    ("builtins.__import__", Import),
    ("importlib", Import),
    ("imp", Import),
    ("pkgutil", Import),
    ("zipimport", Import),
    ("sys", Import),
    ("site", Import),
    ("numpy.core._ufunc_reconstruct", Import),
    ("numpy._core._ufunc_reconstruct", Import),
    ("builtins.getattr", Reflection),
    ("builtins.setattr", Reflection),
    ("builtins.delattr", Reflection),
    ("builtins.hasattr", Reflection),
    ("builtins.globals", Reflection),
    ("builtins.locals", Reflection),
    ("builtins.vars", Reflection),
    ("builtins.dir", Reflection),
    ("builtins.type", Reflection),
    ("builtins.super", Reflection),
    ("builtins.classmethod", Reflection),
    ("builtins.staticmethod", Reflection),
    ("builtins.property", Reflection),
    ("builtins.memoryview", Reflection),
    ("builtins.apply", Reflection),
    ("builtins.map", Reflection),
    ("builtins.filter", Reflection),
    ("builtins.reduce", Reflection),
    ("operator", Reflection),
    ("_operator", Reflection),
    ("functools", Reflection),
    ("_functools", Reflection),
    ("types", Reflection),
    ("inspect", Reflection),
    ("gc", Reflection),
    ("weakref", Reflection),
    ("builtins.open", File),
    ("io", File),
    ("_io", File),
    ("shutil", File),
    ("pathlib", File),
    ("glob", File),
    ("fileinput", File),
    ("tempfile", File),
    ("linecache", File),
    ("mmap", File),
    ("zipfile", File),
    ("tarfile", File),
    ("sqlite3", File),
    ("dbm", File),
    ("socket", Network),
    ("_socket", Network),
    ("ssl", Network),
    ("http", Network),
    ("urllib", Network),
    ("urllib3", Network),
    ("requests", Network),
    ("httpx", Network),
    ("aiohttp", Network),
    ("ftplib", Network),
    ("smtplib", Network),
    ("poplib", Network),
    ("imaplib", Network),
    ("telnetlib", Network),
    ("nntplib", Network),
    ("xmlrpc", Network),
    ("socketserver", Network),
    ("paramiko", Network),
    ("huggingface_hub", Network),
    ("pickle", NestedLoad),
    ("_pickle", NestedLoad),
    ("pickletools", NestedLoad),
    ("marshal", NestedLoad),
    ("dill", NestedLoad),
    ("cloudpickle", NestedLoad),
    ("shelve", NestedLoad),
    ("jsonpickle", NestedLoad),
    ("yaml", NestedLoad),
    // pandas and scipy readers and evaluators: a pickle that calls them
    // reads files (or unpickles another) or evaluates an expression.
    ("pandas.read_pickle", NestedLoad),
    ("pandas.io.pickle", NestedLoad),
    ("pandas.io", File),
    ("pandas.eval", Exec),
    ("pandas.core.computation", Exec),
    ("pandas.DataFrame.eval", Exec),
    ("pandas.DataFrame.query", Exec),
    ("pandas.core.frame.DataFrame.eval", Exec),
    ("pandas.core.frame.DataFrame.query", Exec),
    ("pandas.read_csv", File),
    ("pandas.read_table", File),
    ("pandas.read_json", File),
    ("pandas.read_html", Network),
    ("pandas.read_xml", File),
    ("pandas.read_excel", File),
    ("pandas.read_parquet", File),
    ("pandas.read_feather", File),
    ("pandas.read_orc", File),
    ("pandas.read_hdf", File),
    ("pandas.read_sql", Network),
    ("pandas.read_sql_query", Network),
    ("pandas.read_sql_table", Network),
    ("pandas.read_stata", File),
    ("pandas.read_sas", File),
    ("pandas.read_spss", File),
    ("pandas.read_fwf", File),
    ("pandas.read_clipboard", Exec),
    ("scipy.io", File),
    ("scipy._lib._testutils", Exec),
    ("joblib.load", NestedLoad),
    ("joblib.numpy_pickle.load", NestedLoad),
    ("numpy.load", NestedLoad),
    ("numpy.lib.npyio.load", NestedLoad),
    ("numpy.lib._npyio_impl.load", NestedLoad),
    ("numpy.lib.format.read_array", NestedLoad),
    ("torch.load", NestedLoad),
    ("torch.serialization", NestedLoad),
    ("torch.storage._load_from_bytes", NestedLoad),
    ("keras.models.load_model", NestedLoad),
    ("keras.saving", NestedLoad),
];

/// Names that are dangerous whatever module they are reached through.
const DANGEROUS_NAMES: &[(&str, Danger)] = &[
    ("system", Exec),
    ("popen", Exec),
    ("exec", Exec),
    ("eval", Exec),
    ("execfile", Exec),
    ("execv", Exec),
    ("execve", Exec),
    ("execvp", Exec),
    ("spawn", Exec),
    ("spawnv", Exec),
    ("startfile", Exec),
    ("check_output", Exec),
    ("check_call", Exec),
    ("getoutput", Exec),
    ("getstatusoutput", Exec),
    ("run_path", Exec),
    ("run_module", Exec),
    ("compile", Exec),
    ("__import__", Import),
    ("import_module", Import),
    ("load_module", Import),
    ("resolve_name", Import),
    ("getattr", Reflection),
    ("setattr", Reflection),
    ("attrgetter", Reflection),
    ("methodcaller", Reflection),
    ("load", NestedLoad),
    ("loads", NestedLoad),
    ("unsafe_load", NestedLoad),
    ("load_model", NestedLoad),
    ("urlopen", Network),
    ("urlretrieve", Network),
    ("get_file", Network),
];

/// Exactly these globals are safe.
const ALLOW: &[&str] = &[
    "builtins.set",
    "builtins.frozenset",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.bytearray",
    "builtins.bytes",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.complex",
    "builtins.bool",
    "builtins.slice",
    "builtins.range",
    "builtins.object",
    "builtins.Ellipsis",
    "builtins.NotImplemented",
    "copyreg._reconstructor",
    "copyreg.__newobj__",
    "copyreg.__newobj_ex__",
    "_codecs.encode",
    "codecs.encode",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.Counter",
    "collections.deque",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "datetime.timezone",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.core.numeric._frombuffer",
    "numpy._core.numeric._frombuffer",
    "numpy.ma.core._mareconstruct",
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random._pickle.__bit_generator_ctor",
    "numpy.random._pickle.__generator_ctor",
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.bool_",
    "numpy.int8",
    "numpy.int16",
    "numpy.int32",
    "numpy.int64",
    "numpy.uint8",
    "numpy.uint16",
    "numpy.uint32",
    "numpy.uint64",
    "numpy.float16",
    "numpy.float32",
    "numpy.float64",
    "numpy.longdouble",
    "numpy.complex64",
    "numpy.complex128",
    "numpy.intc",
    "numpy.intp",
    "numpy.str_",
    "numpy.bytes_",
    "numpy.object_",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_wrapper_subclass",
    "torch._utils._rebuild_nested_tensor",
    "torch._tensor._rebuild_from_type_v2",
    "torch.float16",
    "torch.float32",
    "torch.float64",
    "torch.bfloat16",
    "torch.half",
    "torch.float",
    "torch.double",
    "torch.int8",
    "torch.int16",
    "torch.int32",
    "torch.int64",
    "torch.uint8",
    "torch.bool",
    "torch.long",
    "torch.complex64",
    "torch.complex128",
    "torch.strided",
    "torch.sparse_coo",
    "torch.per_tensor_affine",
    "torch.per_channel_affine",
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib.numpy_pickle.NDArrayWrapper",
    "joblib.numpy_pickle.ZNDArrayWrapper",
];

/// Globals that pickles of real ML objects import, recorded from the
/// libraries themselves by `tools/gen_ml_globals.py` (every scikit-learn
/// estimator, xgboost, lightgbm, catboost, pandas, scipy and numpy
/// objects, pickled with protocols 2 to 5 and joblib), with the versions
/// in its header. Exact names only; the deny list wins over it.
const GENERATED: &str = include_str!("../../data/ml-globals.txt");

fn generated() -> &'static HashSet<&'static str> {
    static SET: std::sync::OnceLock<HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        GENERATED
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Cython's reconstructor of a class: `module.__pyx_unpickle_<Class>`
/// rebuilds `module.<Class>` and nothing else.
const CYTHON_UNPICKLE: &str = "__pyx_unpickle_";

/// Container builders that torch.jit.save writes into TorchScript
/// pickles: exceptions to the `torch.jit` deny prefix (whose compiler
/// entry points run code), matched exactly.
const TORCHSCRIPT_PICKLE: &[&str] = &[
    "torch.jit._pickle.build_intlist",
    "torch.jit._pickle.build_tensorlist",
    "torch.jit._pickle.build_doublelist",
    "torch.jit._pickle.build_boollist",
    "torch.jit._pickle.build_complexlist",
    "torch.jit._pickle.build_tensor_from_id",
    "torch.jit._pickle.restore_type_tag",
];

/// Modules whose classes (a single capitalised name, no attribute chain)
/// are safe to construct. A trailing `.` means "and its submodules".
/// Only packages whose modules re-export no class from outside but
/// typing and collections (read with the pinned versions): scikit-learn,
/// xgboost and lightgbm modules re-export `tempfile.NamedTemporaryFile`,
/// `gzip.GzipFile`, `multiprocessing.connection.Client` under their own
/// names, so their classes are allowed only by exact name, from the
/// generated list.
const ALLOW_CLASSES_IN: &[&str] = &[
    // TorchScript classes: resolved to the archive's compiled code by
    // torch.jit.load, never imported.
    "__torch__.",
    "torch",
    "torch.storage",
    "torch.nn.parameter",
    "torch.nn.modules.",
    "torch.optim.",
    "numpy.dtypes",
    "numpy.random.",
    "numpy.ma.core",
    "collections",
];

/// Functions inside a denied module that are safe by what they do, each
/// read in its library's source: `torch.serialization._get_layout` maps a
/// layout's name ("torch.sparse_coo") to the layout object, which every
/// `torch.save` of a sparse tensor imports.
const SAFE_IN_DENIED_MODULES: &[&str] = &["torch.serialization._get_layout"];

/// Decides what a global is.
#[derive(Debug, Clone, Default)]
pub struct Classifier {
    user_allow_exact: HashSet<String>,
    user_allow_classes_in: Vec<String>,
    user_deny: Vec<String>,
}

fn is_dunder(seg: &str) -> bool {
    seg.len() > 4 && seg.starts_with("__") && seg.ends_with("__")
}

/// True when `path` equals `prefix` or continues it with a dot.
fn has_prefix(path: &str, prefix: &str) -> bool {
    path == prefix
        || (path.len() > prefix.len()
            && path.starts_with(prefix)
            && path.as_bytes().get(prefix.len()) == Some(&b'.'))
}

fn in_class_module(module: &str, name: &str, pattern: &str) -> bool {
    let module_ok = match pattern.strip_suffix('.') {
        Some(p) => has_prefix(module, p),
        None => module == pattern,
    };
    module_ok
        && !name.contains('.')
        && !name.contains("__")
        && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

impl Classifier {
    /// `allow` entries are `module.name` (exact) or `module.*` (classes in
    /// that module); `deny` entries are dotted prefixes.
    pub fn new(allow: &[String], deny: &[String]) -> Self {
        let mut c = Classifier::default();
        for a in allow {
            match a.strip_suffix(".*") {
                Some(m) => c.user_allow_classes_in.push(m.to_string()),
                None => {
                    c.user_allow_exact.insert(a.clone());
                }
            }
        }
        c.user_deny = deny.to_vec();
        c
    }

    /// The verdict on `module` + `name` (name may be a dotted attribute chain).
    pub fn classify(&self, module: &str, name: &str) -> Verdict {
        let module = py3_module(module);
        let full = format!("{module}.{name}");
        if self.user_deny.iter().any(|d| has_prefix(&full, d)) {
            return Verdict::Dangerous(PolicyDenied);
        }
        if TORCHSCRIPT_PICKLE.contains(&full.as_str()) && module == "torch.jit._pickle" {
            return Verdict::Safe;
        }
        if SAFE_IN_DENIED_MODULES.contains(&full.as_str()) {
            return Verdict::Safe;
        }
        // Every dotted prefix of the full path, so that `numpy` +
        // `testing._private.utils.runstring` and `os.path` + `sys` are seen.
        if let Some((_, d)) = DENY.iter().find(|(p, _)| has_prefix(&full, p)) {
            return Verdict::Dangerous(*d);
        }
        if ALLOW.contains(&full.as_str())
            || generated().contains(full.as_str())
            || self.user_allow_exact.contains(&full)
        {
            return Verdict::Safe;
        }
        if let Some(class) = name.strip_prefix(CYTHON_UNPICKLE) {
            if !class.contains('.') && self.classify(module, class) == Verdict::Safe {
                return Verdict::Safe;
            }
        }
        // `__torch__` is TorchScript's namespace for compiled classes, the
        // one dunder that is not an escape.
        let module_dunder = module
            .split('.')
            .enumerate()
            .any(|(i, seg)| is_dunder(seg) && !(i == 0 && seg == "__torch__"));
        if name.split('.').any(is_dunder) || module_dunder {
            return Verdict::Dangerous(Reflection);
        }
        // A segment anywhere in the chain that names a dangerous module
        // (`torch.nn.modules.linear` + `F.os.system`) is as bad as the module.
        for seg in full.split('.').skip(1) {
            if let Some((_, d)) = DENY.iter().find(|(p, _)| !p.contains('.') && *p == seg) {
                if name.contains('.') {
                    return Verdict::Dangerous(*d);
                }
            }
        }
        if let Some((_, d)) = full
            .rsplit('.')
            .next()
            .and_then(|last| DANGEROUS_NAMES.iter().find(|(n, _)| *n == last))
        {
            return Verdict::Dangerous(*d);
        }
        let class_ok = ALLOW_CLASSES_IN
            .iter()
            .copied()
            .chain(self.user_allow_classes_in.iter().map(String::as_str))
            .any(|p| in_class_module(module, name, p));
        if class_ok {
            Verdict::Safe
        } else {
            Verdict::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(m: &str, n: &str) -> Verdict {
        Classifier::default().classify(m, n)
    }

    #[test]
    fn exec_and_prefixes() {
        assert_eq!(v("os", "system"), Verdict::Dangerous(Exec));
        assert_eq!(v("posix", "system"), Verdict::Dangerous(Exec));
        assert_eq!(v("__builtin__", "eval"), Verdict::Dangerous(Exec));
        assert_eq!(
            v("numpy", "testing._private.utils.runstring"),
            Verdict::Dangerous(Exec)
        );
        assert_eq!(v("builtins", "__import__"), Verdict::Dangerous(Import));
        assert_eq!(v("torch", "load"), Verdict::Dangerous(NestedLoad));
        assert_eq!(v("subprocess", "Popen"), Verdict::Dangerous(Exec));
        // One named function of a denied module is safe; its neighbours
        // are not.
        assert_eq!(v("torch.serialization", "_get_layout"), Verdict::Safe);
        assert_eq!(
            v("torch.serialization", "load"),
            Verdict::Dangerous(NestedLoad)
        );
        assert_eq!(
            v("torch.serialization", "_get_layout.__globals__"),
            Verdict::Dangerous(NestedLoad)
        );
    }

    #[test]
    fn allowlist_and_unknown() {
        assert_eq!(v("torch._utils", "_rebuild_tensor_v2"), Verdict::Safe);
        assert_eq!(v("collections", "OrderedDict"), Verdict::Safe);
        assert_eq!(v("torch", "FloatStorage"), Verdict::Safe);
        assert_eq!(
            v("sklearn.linear_model._logistic", "LogisticRegression"),
            Verdict::Safe
        );
        assert_eq!(v("mypkg", "Thing"), Verdict::Unknown);
        assert_eq!(v("torch._utils", "_something_new"), Verdict::Unknown);
    }

    #[test]
    fn the_generated_allowlist_covers_real_objects_and_never_gadgets() {
        // What scikit-learn, pandas, scipy and numpy pickles import.
        for (m, n) in [
            ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
            ("sklearn.neighbors._kd_tree", "newObj"),
            ("sklearn.calibration", "_CalibratedClassifier"),
            (
                "sklearn.feature_selection._univariate_selection",
                "f_classif",
            ),
            ("pandas", "DataFrame"),
            ("pandas.core.internals.managers", "BlockManager"),
            ("scipy.interpolate._bsplines", "BSpline"),
            ("numpy", "mean"),
        ] {
            assert_eq!(v(m, n), Verdict::Safe, "{m}.{n}");
        }
        // Cython reconstructors of an allowed class, and only those.
        assert_eq!(
            v("sklearn.tree._tree", "__pyx_unpickle_Tree"),
            Verdict::Safe
        );
        assert_eq!(v("mypkg._ext", "__pyx_unpickle_Thing"), Verdict::Unknown);
        assert_eq!(
            v("sklearn.tree._tree", "__pyx_unpickle_os.system"),
            Verdict::Dangerous(Exec)
        );
        // Gadgets in the same packages stay denied.
        for (m, n, d) in [
            ("pandas", "read_pickle", NestedLoad),
            ("pandas.io.pickle", "read_pickle", NestedLoad),
            ("pandas", "eval", Exec),
            ("pandas.core.computation.eval", "eval", Exec),
            ("pandas", "read_csv", File),
            ("pandas.io.parsers.readers", "read_csv", File),
            ("scipy.io", "loadmat", File),
            ("numpy.testing._private.utils", "runstring", Exec),
        ] {
            assert_eq!(v(m, n), Verdict::Dangerous(d), "{m}.{n}");
        }
        // Every generated name is safe, but the reflection gadget that
        // pickles of bound methods use (scipy's interp1d): denied anyway.
        let denied: Vec<&str> = generated()
            .iter()
            .copied()
            .filter(|g| {
                let (m, n) = g.split_once('.').unwrap();
                v(m, n) != Verdict::Safe
            })
            .collect();
        let mut denied = denied;
        denied.sort_unstable();
        assert_eq!(denied, ["__builtin__.getattr", "builtins.getattr"]);
    }

    #[test]
    fn classes_re_exported_by_ml_packages_are_not_allowed_by_their_shape() {
        for (m, n) in [
            ("sklearn.datasets._covtype", "GzipFile"),
            ("sklearn.datasets._base", "NamedTemporaryFile"),
            ("sklearn.callback._transport", "Client"),
            ("lightgbm.basic", "NamedTemporaryFile"),
            ("xgboost.core", "Path"),
        ] {
            assert_ne!(v(m, n), Verdict::Safe, "{m}.{n}");
        }
    }

    #[test]
    fn attribute_escapes() {
        assert_eq!(
            v("builtins", "object.__subclasses__"),
            Verdict::Dangerous(Reflection)
        );
        assert_eq!(
            v("collections", "OrderedDict.__init__.__globals__"),
            Verdict::Dangerous(Reflection)
        );
        assert_eq!(
            v("torch.nn.modules.linear", "F.os.system"),
            Verdict::Dangerous(Exec)
        );
        assert_eq!(
            v("sklearn", "Foo.__class__"),
            Verdict::Dangerous(Reflection)
        );
        assert_eq!(v("mymod", "helper.eval"), Verdict::Dangerous(Exec));
    }

    #[test]
    fn classes_only_not_functions() {
        assert_eq!(v("sklearn.utils", "eval"), Verdict::Dangerous(Exec));
        assert_eq!(v("sklearn.utils", "some_function"), Verdict::Unknown);
        assert_eq!(
            v("torch", "Tensor.__reduce_ex__"),
            Verdict::Dangerous(Reflection)
        );
    }

    #[test]
    fn policy_lists() {
        let c = Classifier::new(
            &["mypkg.Net".into(), "mylib.layers.*".into()],
            &["sklearn.evil".into()],
        );
        assert_eq!(c.classify("mypkg", "Net"), Verdict::Safe);
        assert_eq!(c.classify("mylib.layers", "Dense"), Verdict::Safe);
        assert_eq!(c.classify("mylib.layers", "helper"), Verdict::Unknown);
        assert_eq!(
            c.classify("sklearn.evil", "Model"),
            Verdict::Dangerous(PolicyDenied)
        );
        // The policy's allowlist cannot make a denied global safe.
        let c = Classifier::new(&["os.system".into()], &[]);
        assert_eq!(c.classify("os", "system"), Verdict::Dangerous(Exec));
    }
}
