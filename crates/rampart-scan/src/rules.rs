//! Every rule the scanner emits, documented once.

use rampart_core::{Rule, Severity};

const OWASP_ML06: &str = "OWASP ML Top 10 2023 ML06: AI Supply Chain Attacks";
const ATLAS_T0010: &str = "MITRE ATLAS AML.T0010: ML Supply Chain Compromise";
const ATLAS_T0011: &str = "MITRE ATLAS AML.T0011.000: User Execution: Unsafe ML Artifacts";
const PICKLE_DOC: &str = "https://docs.python.org/3/library/pickle.html";

pub const PICKLE_EXEC: &str = "PICKLE-EXEC";
pub const PICKLE_IMPORT: &str = "PICKLE-IMPORT";
pub const PICKLE_REFLECTION: &str = "PICKLE-REFLECTION";
pub const PICKLE_FILE: &str = "PICKLE-FILE";
pub const PICKLE_NETWORK: &str = "PICKLE-NETWORK";
pub const PICKLE_NESTED_LOAD: &str = "PICKLE-NESTED-LOAD";
pub const PICKLE_POLICY_DENIED: &str = "PICKLE-POLICY-DENIED";
pub const PICKLE_UNKNOWN_GLOBAL: &str = "PICKLE-UNKNOWN-GLOBAL";
pub const PICKLE_COMPUTED_GLOBAL: &str = "PICKLE-COMPUTED-GLOBAL";
pub const PICKLE_EXTENSION: &str = "PICKLE-EXTENSION";
pub const PICKLE_INDIRECT_CALL: &str = "PICKLE-INDIRECT-CALL";
pub const PICKLE_MALFORMED: &str = "PICKLE-MALFORMED";
pub const PICKLE_NESTED: &str = "PICKLE-NESTED";
pub const PICKLE_TRAILING_DATA: &str = "PICKLE-TRAILING-DATA";
pub const SCAN_INCOMPLETE: &str = "SCAN-INCOMPLETE";
pub const SCAN_CORRUPT: &str = "SCAN-CORRUPT";
pub const SCAN_UNKNOWN_FORMAT: &str = "SCAN-UNKNOWN-FORMAT";
pub const SCAN_SYMLINK: &str = "SCAN-SYMLINK";
pub const ZIP_DIFFERENTIAL: &str = "ZIP-DIFFERENTIAL";
pub const ZIP_ORPHAN_MEMBER: &str = "ZIP-ORPHAN-MEMBER";
pub const SCAN_UNSUPPORTED: &str = "SCAN-UNSUPPORTED";
pub const REPO_CODE_FILE: &str = "REPO-CODE-FILE";
pub const REPO_REMOTE_CODE: &str = "REPO-REMOTE-CODE";
pub const REPO_INVALID_JSON: &str = "REPO-INVALID-JSON";
pub const SAFETENSORS_INVALID: &str = "SAFETENSORS-INVALID";
pub const SAFETENSORS_TRAILING_DATA: &str = "SAFETENSORS-TRAILING-DATA";
pub const METADATA_CODE: &str = "METADATA-CODE";
pub const TEMPLATE_INJECTION: &str = "TEMPLATE-INJECTION";
pub const TEMPLATE_DYNAMIC_ATTR: &str = "TEMPLATE-DYNAMIC-ATTR";
pub const TEMPLATE_LOAD: &str = "TEMPLATE-LOAD";
pub const TEMPLATE_UNPARSED: &str = "TEMPLATE-UNPARSED";
pub const YAML_PYTHON_TAG: &str = "YAML-PYTHON-TAG";
pub const GGUF_INVALID: &str = "GGUF-INVALID";
pub const ONNX_EXTERNAL_DATA: &str = "ONNX-EXTERNAL-DATA";
pub const ONNX_CUSTOM_OP: &str = "ONNX-CUSTOM-OP";
pub const ONNX_TENSOR_SIZE: &str = "ONNX-TENSOR-SIZE";
pub const ONNX_INVALID: &str = "ONNX-INVALID";
pub const TF_DANGEROUS_OP: &str = "TF-DANGEROUS-OP";
pub const TF_CUSTOM_OP: &str = "TF-CUSTOM-OP";
pub const TF_INVALID: &str = "TF-INVALID";
pub const TFLITE_CUSTOM_OP: &str = "TFLITE-CUSTOM-OP";
pub const TFLITE_INVALID: &str = "TFLITE-INVALID";
pub const TORCHSCRIPT_CALL: &str = "TORCHSCRIPT-CALL";
pub const KERAS_LAMBDA: &str = "KERAS-LAMBDA";
pub const KERAS_EXTERNAL_MODULE: &str = "KERAS-EXTERNAL-MODULE";
pub const KERAS_GADGET: &str = "KERAS-GADGET";
pub const KERAS_INVALID: &str = "KERAS-INVALID";

const fn rule(
    id: &'static str,
    name: &'static str,
    default_severity: Severity,
    summary: &'static str,
    description: &'static str,
    fix: &'static str,
    references: &'static [&'static str],
) -> Rule {
    Rule {
        id,
        name,
        default_severity,
        summary,
        description,
        fix,
        references,
    }
}

const LOAD_FIX: &str = "Do not load this file with pickle, torch.load(weights_only=False), joblib.load or numpy.load(allow_pickle=True). Obtain the model from a trusted source, or convert it to a format without code (safetensors) in an isolated environment.";

pub static RULES: &[Rule] = &[
    rule(PICKLE_EXEC, "pickle-code-execution", Severity::Critical,
        "The pickle imports a global that runs code or processes.",
        "Loading the file imports a function such as os.system, subprocess.Popen, builtins.eval or exec, runpy or a debugger entry point. A pickle that reaches such a global can run any command with the loader's privileges.",
        LOAD_FIX, &[OWASP_ML06, ATLAS_T0011, ATLAS_T0010, PICKLE_DOC]),
    rule(PICKLE_IMPORT, "pickle-import-machinery", Severity::Critical,
        "The pickle imports the import machinery (builtins.__import__, importlib, pkgutil.resolve_name...).",
        "Import machinery turns strings into arbitrary modules and callables at load time, which defeats any list of known globals: whatever the strings name will run.",
        LOAD_FIX, &[OWASP_ML06, ATLAS_T0011, "CVE-2025-1716"]),
    rule(PICKLE_REFLECTION, "pickle-reflection-gadget", Severity::Critical,
        "The pickle reaches reflection or call gadgets (getattr, dunder attributes such as __globals__ or __subclasses__, functools.partial, operator).",
        "Attribute escapes and call gadgets let a pickle reach dangerous functions through objects that look harmless, the usual way denylist scanners are bypassed.",
        LOAD_FIX, &[OWASP_ML06, ATLAS_T0011, "CVE-2025-1889", "CVE-2025-1945"]),
    rule(PICKLE_FILE, "pickle-file-access", Severity::High,
        "The pickle imports a global that reads, writes or deletes files.",
        "builtins.open, shutil, pathlib, tempfile and friends let a pickle tamper with files or leak them when loaded.",
        LOAD_FIX, &[OWASP_ML06, ATLAS_T0011]),
    rule(PICKLE_NETWORK, "pickle-network-access", Severity::High,
        "The pickle imports a global that opens network connections.",
        "socket, urllib, http, requests and friends let a pickle exfiltrate data or fetch a second stage when loaded.",
        LOAD_FIX, &[OWASP_ML06, ATLAS_T0011]),
    rule(PICKLE_NESTED_LOAD, "pickle-nested-deserialization", Severity::High,
        "The pickle calls another deserializer (pickle.loads, torch.load, numpy.load, joblib.load, marshal.loads...).",
        "A nested deserializer loads a payload that the outer scan cannot see in full (it may be built at load time), so everything it loads is unvetted.",
        LOAD_FIX, &[OWASP_ML06, ATLAS_T0011, "CVE-2025-1944"]),
    rule(PICKLE_POLICY_DENIED, "pickle-policy-denied", Severity::Critical,
        "The pickle imports a global on the policy's deny list.",
        "rampart.toml lists this global under [scan] deny.",
        "Remove the global from the model, or from the deny list if it is now trusted.", &[]),
    rule(PICKLE_UNKNOWN_GLOBAL, "pickle-unknown-global", Severity::Medium,
        "The pickle imports a global that is not on the allowlist.",
        "Rampart's verdicts are allowlist-first: only globals known to be safe for torch, numpy, scikit-learn, xgboost, lightgbm, collections and plain builtins pass. Anything else may execute code when loaded and must be reviewed.",
        "Review the named global. If it is your own safe class, add it to [scan] allow in rampart.toml (\"module.Name\" or \"module.*\").",
        &[OWASP_ML06, ATLAS_T0011]),
    rule(PICKLE_COMPUTED_GLOBAL, "pickle-computed-global", Severity::Critical,
        "A global's module or name is computed at load time instead of being a constant.",
        "STACK_GLOBAL takes its module and name from the stack; when they are the results of calls or other non-constant values, no static scanner can know what is imported. Honest pickles never do this.",
        LOAD_FIX, &[OWASP_ML06, ATLAS_T0011]),
    rule(PICKLE_EXTENSION, "pickle-extension-registry", Severity::High,
        "The pickle imports a global through the copyreg extension registry (EXT1/EXT2/EXT4).",
        "Extension codes name globals indirectly through a process-wide registry, which is empty by default; a pickle that depends on it expects a tampered loader and cannot be checked.",
        LOAD_FIX, &[PICKLE_DOC]),
    rule(PICKLE_INDIRECT_CALL, "pickle-indirect-call", Severity::Medium,
        "The pickle calls a value that is not an imported global (the result of another call, or a persistent object).",
        "Calling the result of a call is how pickles chain gadgets (getattr(x, 'system')(...)). Model pickles call only their rebuild functions directly.",
        "Review the call chain in the evidence.", &[OWASP_ML06]),
    rule(PICKLE_MALFORMED, "pickle-malformed", Severity::High,
        "The pickle stream is truncated, has an invalid opcode, or ends before STOP.",
        "A malformed stream is never clean: loaders differ in how far they get, and a payload may run before the error. Everything seen before the error is reported too.",
        "Re-export the model from its source; do not load a damaged file.", &[PICKLE_DOC]),
    rule(PICKLE_NESTED, "pickle-embedded-pickle", Severity::Info,
        "A byte or text string inside the pickle is itself a pickle (raw, base64 or hex); it was scanned too.",
        "Embedded pickles are how payloads hide from scanners that look only at the outer stream. Findings inside carry the nested context.",
        "No action unless the nested pickle has findings of its own.", &[]),
    rule(PICKLE_TRAILING_DATA, "pickle-trailing-data", Severity::Low,
        "Bytes after the last pickle are not a pickle.",
        "pickle.load stops at STOP, so trailing bytes are ignored by the loader; they can still be a second payload for a different reader.",
        "Check where the trailing bytes come from.", &[]),
    rule(SCAN_INCOMPLETE, "scan-incomplete", Severity::High,
        "A scanner limit was hit, so part of the input was not analysed.",
        "Limits (decompressed size, archive depth, member count, opcode count, memo size, stack depth) protect the scanner from bombs. What lies past a limit is unknown, so it is never reported as clean.",
        "If the file is legitimate, raise the limit under [scan.limits] in rampart.toml and scan again.", &[]),
    rule(SCAN_CORRUPT, "scan-corrupt", Severity::High,
        "An archive or compressed stream could not be decoded.",
        "A container that Rampart cannot decode may still be readable by a more lenient loader, so its contents are unknown.",
        "Re-create the archive from its source.", &[]),
    rule(SCAN_UNKNOWN_FORMAT, "scan-unknown-format", Severity::Info,
        "The file is not in a format this scanner understands; it was not analysed.",
        "Rampart identifies files by content, never by extension. Files that are none of the supported formats are listed so that nothing is skipped silently.",
        "Nothing to do if the file is data or documentation; otherwise check what it is.", &[]),
    rule(SCAN_SYMLINK, "scan-symlink", Severity::Info,
        "A symbolic link in a folder: followed and scanned (info), or leading outside the folder, broken or looping (medium).",
        "Loaders follow links (every Hugging Face cache snapshot is links to ../../blobs), so the scanner follows them too and scans each target once under the link's name. A target outside the folder given and outside its Hugging Face cache repository means the folder is not what it seems; a broken or looping link means a file a loader opens could not be read.",
        "Replace links that leave the folder by the files themselves (or scan the whole cache repository); remove broken links.", &[]),
    rule(ZIP_DIFFERENTIAL, "zip-parser-differential", Severity::Medium,
        "The zip has a structure that zip readers disagree on (CRC mismatch, encryption or patch flags on readable data, local and central names that differ, prepended bytes).",
        "Scanners that use a strict zip library skip such members while PyTorch's lenient reader still loads them (CVE-2025-10156). Rampart reads them anyway and reports the anomaly.",
        "Re-create the archive with a standard tool.", &["CVE-2025-10156", OWASP_ML06]),
    rule(ZIP_ORPHAN_MEMBER, "zip-orphan-member", Severity::Medium,
        "A PyTorch zip holds a tensor storage member (data/<key>) that no persistent id in its pickles names, or one whose bytes start as a pickle.",
        "PyTorch reads data/<key> as raw tensor bytes only when data.pkl names the key; scanners skip those members unread. A member nobody names is not a tensor: it is a place to hide a pickle that a patched or second loader unpickles. Rampart reads it as a pickle and reports what it holds besides this finding.",
        "Re-save the model with torch.save from a trusted environment, or remove the member.", &[OWASP_ML06, ATLAS_T0010]),
    rule(SCAN_UNSUPPORTED, "scan-unsupported", Severity::Low,
        "A model format was recognised but is not analysed by this version.",
        "A file identified by its content that Rampart cannot analyse (fully) says so instead of being called clean. Today: HDF5 files without a Keras model config, whose datasets are not read (listed at info).",
        "Review the file by other means, or set the rule's severity in rampart.toml to fail or pass such files.", &[]),
    rule(REPO_CODE_FILE, "repo-code-file", Severity::High,
        "The model folder holds code: Python sources or bytecode, scripts, shared libraries or executables.",
        "Code shipped with a model runs when a loader imports it (trust_remote_code, custom ops) or when a user runs it. It is identified by name (.py, .pyc, .sh, .so, .dll...) and by content (ELF, PE, Mach-O, #! lines).",
        "Review the code, or remove it from the model folder.", &[OWASP_ML06, ATLAS_T0010]),
    rule(REPO_REMOTE_CODE, "repo-remote-code", Severity::High,
        "A config.json has auto_map: loading the model needs trust_remote_code=True.",
        "transformers imports the Python modules that auto_map names from the repository and runs them with the loader's privileges.",
        "Load without trust_remote_code, or review every module auto_map names.", &[OWASP_ML06, ATLAS_T0011]),
    rule(REPO_INVALID_JSON, "repo-invalid-json", Severity::Low,
        "A .json file in the model folder is not valid JSON.",
        "Tokenizer and config files that do not parse are read differently (or not at all) by different loaders.",
        "Re-create the file.", &[]),
    rule(SAFETENSORS_INVALID, "safetensors-invalid", Severity::High,
        "The safetensors header breaks the format's rules.",
        "A safetensors file is an 8-byte header length, a JSON header and the tensor data. Duplicate keys, unknown dtypes, offsets out of bounds, overlapping or leaving gaps, sizes that do not match shape x dtype, or a __metadata__ that is not a string map are read differently by different loaders, the root of parser-differential attacks.",
        "Re-export the tensors with the reference safetensors library.",
        &["https://github.com/huggingface/safetensors", OWASP_ML06]),
    rule(SAFETENSORS_TRAILING_DATA, "safetensors-trailing-data", Severity::High,
        "Bytes follow the tensor data of a safetensors file.",
        "The data section must end with the last tensor. Bytes after it are how a zip or pickle is appended to make a polyglot that another loader opens as a different format; they are scanned as a file of their own.",
        "Re-export the tensors with the reference safetensors library; treat the appended content as hostile.",
        &[OWASP_ML06, ATLAS_T0010]),
    rule(METADATA_CODE, "metadata-code", Severity::Medium,
        "A model's metadata strings hold code or shell commands.",
        "Loaders do not run metadata, but the tools around them show it, log it or pass it on (model cards, registries, notebooks that eval a field). A metadata value holding Python that runs commands (os.system, subprocess, exec, __import__, base64-decoded code), a shell command (rm -rf, curl | sh, chmod 777) or a script tag has no business in a weights file and is how a payload waits for a second stage.",
        "Read the metadata (rampart scan --format json shows the key); re-export the weights without it.",
        &[OWASP_ML06]),
    rule(TEMPLATE_INJECTION, "template-injection", Severity::Critical,
        "A Jinja template shipped with the model reaches Python internals (server-side template injection).",
        "Chat templates (GGUF tokenizer.chat_template, tokenizer_config.json) are rendered with Jinja2 when the model is used. Attribute access to dunders (__class__, __mro__, __subclasses__, __globals__, __builtins__), private names or command gadgets (popen, system, eval) climbs from any string to os and runs commands when the environment is not sandboxed (CVE-2024-34359 in llama-cpp-python). Names built from literals ('__cla'+'ss__', '_'*2, |join, |reverse, {% set %}) are folded before they are judged.",
        "Do not load the model; replace the template with the one from the model's original publisher, and render templates only in jinja2.sandbox.ImmutableSandboxedEnvironment.",
        &["CVE-2024-34359", "https://jinja.palletsprojects.com/en/stable/sandbox/", OWASP_ML06, ATLAS_T0011]),
    rule(TEMPLATE_DYNAMIC_ATTR, "template-dynamic-attribute", Severity::High,
        "A Jinja template looks up an attribute whose name is computed when it runs.",
        "`x|attr(name)` with a name that is not a literal (a request parameter, a variable built at run time) can reach any attribute, dunders included; ordinary chat templates never need it.",
        "Review the template; replace it with the publisher's original.",
        &["CVE-2024-34359", OWASP_ML06]),
    rule(TEMPLATE_LOAD, "template-load", Severity::High,
        "A Jinja template imports, includes or extends another template.",
        "With a file-system loader, {% include %} and {% import %} read files on the server that renders the template; chat templates have no reason to load others.",
        "Remove the statement, or render the template in an environment without a loader.", &[OWASP_ML06]),
    rule(TEMPLATE_UNPARSED, "template-unparsed", Severity::High,
        "A Jinja template could not be fully analysed: it does not parse, is over 16 MiB, or its analysis took over 20 s. It was checked token by token and searched for dunder names only.",
        "The template may use syntax the analyser does not know (extensions such as {% generation %}) or be malformed on purpose; its names and strings were still checked one by one, but obfuscation built across tokens is not seen.",
        "Review the template by hand.", &[]),
    rule(YAML_PYTHON_TAG, "yaml-python-tag", Severity::Critical,
        "A YAML document holds a Python tag that imports or calls (!!python/object/apply:os.system).",
        "PyYAML builds Python objects from python/ tags when a document is read with an unsafe loader (yaml.unsafe_load, yaml.load with Loader=yaml.UnsafeLoader, FullLoader before PyYAML 5.4): object/apply calls the named function, object/new and object instantiate a class, name and module import. Training and serving configs are read with yaml.load often enough for a config beside a model to be a way in. Severity follows the name: critical when it is dangerous (os, subprocess, builtins.eval), high when it is not on the allowlist, low when it is (the file still needs an unsafe loader).",
        "Read configs with yaml.safe_load, which refuses every python/ tag; replace the value with plain YAML.",
        &["CVE-2017-18342", "https://pyyaml.org/wiki/PyYAMLDocumentation", OWASP_ML06]),
    rule(GGUF_INVALID, "gguf-invalid", Severity::High,
        "The GGUF header breaks the format's rules.",
        "A GGUF file is a header (version, counts, metadata key/value pairs, tensor infos) then aligned tensor data. Bad value types, counts over limits, more than 4 dimensions, unknown tensor types, tensors out of bounds, misaligned or overlapping are how parser bugs in llama.cpp and its bindings are reached (heap overflows in gguf_init_from_file).",
        "Re-convert the model with llama.cpp's convert tools from a trusted source.",
        &["https://github.com/ggml-org/ggml/blob/master/docs/gguf.md", OWASP_ML06]),
    rule(KERAS_LAMBDA, "keras-lambda", Severity::Critical,
        "A Keras model has a Lambda layer with serialized Python bytecode.",
        "Lambda layers store the function as marshalled bytecode (base64). Legacy HDF5 loaders run it on load whatever safe_mode says (CVE-2024-3660, CVE-2025-9905); .keras archives run it when safe_mode=False. Names the bytecode mentions (os, system, eval...) are listed.",
        "Do not load the model. Rebuild it with the Lambda replaced by a registered custom layer whose code you review.",
        &["CVE-2024-3660", "CVE-2025-9905", OWASP_ML06, ATLAS_T0011]),
    rule(KERAS_EXTERNAL_MODULE, "keras-external-module", Severity::Medium,
        "A Keras config names a module, class or registered object outside Keras.",
        "Keras imports the `module` (and resolves `registered_name`) of every serialized object when loading, which runs that module's code; a name such as subprocess.Popen is critical (CVE-2025-1550). Custom layers from the model's own package need that code installed and reviewed.",
        "Review the custom code the model needs; never load a config that names os, subprocess, builtins.eval or similar.",
        &["CVE-2025-1550", OWASP_ML06, ATLAS_T0011]),
    rule(KERAS_GADGET, "keras-gadget", Severity::Critical,
        "A Keras config calls a Keras or TensorFlow function that reaches outside the model.",
        "Safe mode allows Keras functions, some of which are gadgets: keras.utils.get_file downloads files (CVE-2025-8747), keras.config.enable_unsafe_deserialization turns safe mode off for what follows (CVE-2025-9906), load_model/load_img read further files; TFOpLambda layers calling tf.io.write_file or tf.py_function reach the file system or Python.",
        "Do not load the model; remove the layer or object that calls the function.",
        &["CVE-2025-8747", "CVE-2025-9906", OWASP_ML06]),
    rule(KERAS_INVALID, "keras-invalid", Severity::Medium,
        "A Keras model config could not be read.",
        "The config.json of a .keras archive, or the model_config attribute of an HDF5 file, is not valid JSON or not readable; Keras may still load parts of it differently.",
        "Re-save the model with Keras from a trusted source.", &[]),
    rule(ONNX_EXTERNAL_DATA, "onnx-external-data", Severity::Critical,
        "An ONNX tensor's external data is absolute, leaves the model folder, is a link, is missing or is too short.",
        "Large ONNX models keep tensors in files named by external_data `location`. onnx.load and runtimes join that name to the model folder: an absolute path or `..` reads any file on the machine into the model (CVE-2022-25882, CVE-2024-27318), and onnx.save writes there. A symbolic link does the same. Missing files and ranges past the end of the file are reported at lower severity.",
        "Do not load the model; re-export it with every tensor inside its folder.",
        &["CVE-2022-25882", "CVE-2024-27318", OWASP_ML06]),
    rule(ONNX_CUSTOM_OP, "onnx-custom-op", Severity::Medium,
        "An ONNX node uses an operator domain that is neither standard nor defined by the model.",
        "Operators outside ai.onnx, ai.onnx.ml and ONNX Runtime's com.microsoft domains are implemented by a shared library the user must load (register_custom_ops_library), which runs native code.",
        "Review where the custom-op library comes from before loading it.", &[OWASP_ML06]),
    rule(ONNX_TENSOR_SIZE, "onnx-tensor-size", Severity::High,
        "An ONNX tensor declares a shape and type whose size differs from the data it holds.",
        "Runtimes that trust dims x type read past the data (out-of-bounds reads) while others reject the model: a parser differential, and a known way to crash or probe runtimes.",
        "Re-export the model with the reference onnx library.", &[OWASP_ML06]),
    rule(ONNX_INVALID, "onnx-invalid", Severity::High,
        "The ONNX file is not a valid protobuf message.",
        "A truncated or malformed model is read differently, or not at all, by different runtimes; nothing after the error was checked.",
        "Re-export the model.", &[]),
    rule(TF_DANGEROUS_OP, "tensorflow-dangerous-op", Severity::Critical,
        "A TensorFlow graph has ops that run Python or touch the file system.",
        "PyFunc, EagerPyFunc and PyFuncStateless call Python functions when the graph runs (critical); ReadFile, WriteFile, MatchingFiles, readers and dataset ops read, list or write files named at run time (high); Save/Restore ops whose constant path is absolute or has `..` write or read outside the model (high).",
        "Do not serve the model; remove the ops, or run it in a sandbox without file-system access.",
        &["https://github.com/tensorflow/tensorflow/blob/master/SECURITY.md", OWASP_ML06, ATLAS_T0011]),
    rule(TF_CUSTOM_OP, "tensorflow-custom-op", Severity::Medium,
        "A TensorFlow graph uses an op that TensorFlow does not register.",
        "Custom ops are implemented by a shared library loaded with tf.load_op_library, which runs native code; the op list is TensorFlow's own (tools/gen_tf_ops.py), and functions defined in the graph's library are not custom ops.",
        "Review where the custom-op library comes from before loading it.", &[OWASP_ML06]),
    rule(TF_INVALID, "tensorflow-invalid", Severity::High,
        "The TensorFlow graph file is not a valid protobuf message.",
        "A truncated or malformed graph is read differently by different tools; nothing after the error was checked.",
        "Re-export the model.", &[]),
    rule(TFLITE_CUSTOM_OP, "tflite-custom-op", Severity::Medium,
        "A TensorFlow Lite model uses a custom operator.",
        "Custom operators have no built-in kernel: the application registers a native implementation for them. Flex ops (TensorFlow ops run by the Flex delegate) are judged as TensorFlow ops instead: FlexReadFile is TF-DANGEROUS-OP.",
        "Review where the custom-op implementation comes from.", &[OWASP_ML06]),
    rule(TFLITE_INVALID, "tflite-invalid", Severity::High,
        "The TensorFlow Lite FlatBuffer is malformed, or a buffer points outside the file.",
        "Offsets that leave the file, or buffers whose offset and size run past its end, are read differently (or out of bounds) by interpreters.",
        "Re-convert the model with the TFLite converter.", &[]),
    rule(TORCHSCRIPT_CALL, "torchscript-call", Severity::High,
        "TorchScript source in a model archive calls or imports something outside torch and ops.",
        "A TorchScript archive stores the model's code as Python source (code/*.py) that torch.jit.load compiles. Calls whose root is not torch, ops, __torch__, a TorchScript builtin or a local name, and imports of other modules, are not what torch.jit.save writes: the archive was edited.",
        "Do not load the archive; re-export it from trusted source code.", &[OWASP_ML06, ATLAS_T0011]),
];
