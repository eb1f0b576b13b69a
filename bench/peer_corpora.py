#!/usr/bin/env python3
"""Detection on the test files that two peer projects ship: picklescan
(tests/data, tests/data2) and ModelAudit (tests/assets). Rampart, picklescan,
ModelScan and ModelAudit see the same files in the same run.

    python3 bench/peer_corpora.py /tmp/peer-corpora/picklescan /tmp/peer-corpora/modelaudit

Each argument is a checkout (or `git archive HEAD tests` extract) of one
peer's repository; which peer is told by its layout. Nothing is fetched
here and nothing of the corpora is kept in this repository.

Ground truth is the peer's own: the test that asserts a file is dangerous
(or clean), else its file or folder name; each label below cites it.
Files that are not models (generator scripts, READMEs, JSON manifests,
licence scenarios, malformed-template edge cases) are listed in EXCLUDED
and not run.

Flagged means what bench/detection.py means: exit 1 (rampart: findings at
or above medium; picklescan, modelscan, modelaudit: "issues found"). Any
other exit code, and a call that outlives TIMEOUT seconds, is an error; an
error on a malicious file is also a miss (modelscan's exit 3, "nothing
scanned", included).

Environment: RAMPART (binary, default target/release/rampart), PEERS_VENV
(venv with picklescan, modelscan, modelaudit; default /tmp/rampart-peers),
TIMEOUT (seconds per tool call, default 120).
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# How each tool is run, and the binary and venv, as bench/detection.py
# has them (RAMPART and PEERS_VENV in the environment).
from detection import RAMPART, cmd, folder_table  # noqa: E402
TIMEOUT = float(os.environ.get("TIMEOUT", "120"))
TOOLS = ["rampart", "picklescan", "modelscan", "modelaudit"]

M, B = "malicious", "benign"

# --- picklescan (mmaitre314/picklescan), paths under tests/ ---------------
# T = tests/test_scanner.py, I = tests/init_data_files.py (how each file
# was made). "Dangerous" is picklescan's SafetyLevel.Dangerous.
T = "test_scanner.py"
DIR = f"{T}::test_scan_directory_path lists its globals as Dangerous (infected)"


def ps_assert(glob):
    return f"{T}::test_scan_file_path asserts {glob} Dangerous"


PICKLESCAN = {
    "data/bad_pytorch.pt": (B, f"{T}::test_scan_file_path: PNG bytes named .pt, asserts 0 issues and no error"),
    "data/benign0_v0.pkl": (B, f"name; I: pickle of ['a','b','c'] (protocol 0), no globals"),
    "data/benign0_v3.pkl": (B, f"{T}::test_scan_file_path asserts ScanResult([], 1, 0, 0)"),
    "data/benign0_v4.pkl": (B, f"{T}::test_scan_directory_multiple_patterns asserts issues_count 0 with v3"),
    "data/benign_password_protected.zip": (B, "name; commit 'Degrade gracefully when scanning a password-protected zip' (encrypted test.txt)"),
    "data/broken_model.pkl": (M, f"{DIR} (builtins.exec); truncated, so it cannot run as stored: counted malicious by decision"),
    "data/malicious-invalid-bytes.pkl": (M, f"{T}::test_invalid_bytes_err asserts os.system Dangerous"),
    "data/malicious0.pkl": (M, ps_assert("__builtin__ compile/apply/getattr/eval")),
    "data/malicious1.7z": (M, ps_assert("builtins.eval in the 7z member")),
    "data/malicious1.zip": (M, ps_assert("builtins.eval")),
    "data/malicious10.pkl": (M, ps_assert("__builtin__.exec (INST opcode)")),
    "data/malicious11.pkl": (M, f"{DIR} (os.system via PUT/GET memo, STACK_GLOBAL); I: CTF 'Safe Pickle'"),
    "data/malicious12.pkl": (M, f"{DIR} (operator.attrgetter, builtins.__import__)"),
    "data/malicious13a.pkl": (M, ps_assert("pickle.loads") + "; test_pickle_files shows it loads"),
    "data/malicious13b.pkl": (M, ps_assert("_pickle.loads") + "; test_pickle_files shows it loads"),
    "data/malicious14.pkl": (M, ps_assert("runpy._run_code")),
    "data/malicious15a.pkl": (M, f"{DIR} (bdb.Bdb.run running os.system, protocol 2)"),
    "data/malicious15b.pkl": (M, f"{DIR} (bdb.Bdb.run running os.system, protocol 4)"),
    "data/malicious16.pkl": (M, f"{DIR} (pip.main install)"),
    "data/malicious17.pkl": (M, f"{DIR} (torch._inductor.codecache.compile_file)"),
    "data/malicious18.pkl": (M, f"{DIR} (pydoc.pipepager)"),
    "data/malicious19.pkl": (M, f"{DIR} (functools.partial of torch.serialization.load, weights_only=False)"),
    "data/malicious1_0x1.zip": (M, ps_assert("builtins.eval")),
    "data/malicious1_0x20.zip": (M, ps_assert("builtins.eval")),
    "data/malicious1_0x40.zip": (M, ps_assert("builtins.eval")),
    "data/malicious1_central_directory.zip": (M, ps_assert("builtins.eval (central directory name differs)")),
    "data/malicious1_v0.pkl": (M, ps_assert("__builtin__.eval")),
    "data/malicious1_v3.pkl": (M, ps_assert("builtins.eval")),
    "data/malicious1_v4.pkl": (M, ps_assert("builtins.eval")),
    "data/malicious1_wrong_ext.zip": (M, ps_assert("builtins.eval (member data.txt)")),
    "data/malicious20.pkl": (M, f"{DIR} (venv.create with a shell payload)"),
    "data/malicious2_v0.pkl": (M, ps_assert("posix.system")),
    "data/malicious2_v3.pkl": (M, ps_assert("posix.system")),
    "data/malicious2_v4.pkl": (M, ps_assert("posix.system")),
    "data/malicious3.pkl": (M, ps_assert("httplib.HTTPSConnection")),
    "data/malicious4.pickle": (M, ps_assert("requests.api.get")),
    "data/malicious5.pickle": (M, ps_assert("aiohttp.client.ClientSession")),
    "data/malicious6.pkl": (M, ps_assert("requests.api.get (second pickle in the file)")),
    "data/malicious7.pkl": (M, ps_assert("socket.create_connection")),
    "data/malicious8.pkl": (M, ps_assert("subprocess.run")),
    "data/malicious9.pkl": (M, ps_assert("sys.exit")),
    "data/new_pytorch_model.bin": (B, f"{T}::test_scan_pytorch asserts only Innocuous globals"),
    "data/not_a_pickle.bin": (B, f"{T}::test_not_a_pickle_file asserts no threats, no error (b'cmod\\n\\xf8\\n'): counted benign by decision"),
    "data/pytorch_magic_bypass.pt": (M, f"{T}::test_scan_pytorch asserts __builtin__.eval and posix.system Dangerous"),
    "data/pytorch_model.bin": (B, f"{T}::test_scan_file_path asserts only Innocuous globals"),
    "data/sys_module_override_sploit.pkl": (M, f"{DIR} (non-string STACK_GLOBAL reaching builtins.eval); commit 33cae77"),
    "data2/cloudpickle_codeinjection.pkl": (M, f"{T}: asserts cloudpickle _make_function, _builtin_type ... Dangerous"),
    "data2/dns_exfiltration.npy": (M, f"{T}::test_scan_numpy asserts ssl.get_server_certificate Dangerous"),
    "data2/int_array.npy": (B, f"{T}::test_scan_numpy asserts ScanResult([], 0 issues)"),
    "data2/int_arrays.npz": (B, f"{T}::test_scan_file_path_npz asserts 0 issues"),
    "data2/int_arrays_compressed.npz": (B, f"{T}::test_scan_file_path_npz asserts 0 issues"),
    "data2/io_FileIO.pkl": (M, f"{T}: assert_scan _io.FileIO Dangerous"),
    "data2/keyerror-exploit.pkl": (M, f"{T}: assert_scan os.system Dangerous (then a missing memo key)"),
    "data2/logging_FileHandler.pkl": (M, f"{T}: assert_scan logging.FileHandler Dangerous"),
    "data2/malicious1_crc.zip": (M, f"{T}: assert_scan builtins.eval (CRC mismatch)"),
    "data2/malicious21.pkl": (M, ps_assert("timeit.timeit")),
    "data2/malicious22.pkl": (M, ps_assert("numpy.testing._private.utils.runstring")),
    "data2/malicious23.pkl": (M, ps_assert("os.system (STRING + STACK_GLOBAL, no PROTO)")),
    "data2/object_array.npy": (B, f"{T}::test_scan_numpy asserts only Innocuous numpy globals"),
    "data2/object_arrays.npz": (B, f"{T}::test_scan_file_path_npz asserts only Innocuous numpy globals"),
    "data2/object_arrays_compressed.npz": (B, f"{T}::test_scan_file_path_npz asserts only Innocuous numpy globals"),
    "data2/type-confusion-exploit.pkl": (M, f"{T}: assert_scan os.system Dangerous (then STACK_GLOBAL on (42, 'os'))"),
    "data2/types_CodeType.pkl": (M, f"{T}: assert_scan types.CodeType Dangerous"),
    "data2/urllib_request_urlopen.pkl": (M, f"{T}: assert_scan urllib.request.urlopen Dangerous"),
}
# tests/data2/GHSA-*: one test_scanner.py assert_scan each, naming the
# advisory's gadget as Dangerous (init_data_files.py builds each one with a
# __reduce__ that runs __import__('os').system('whoami') or similar).
GHSA = {
    "GHSA-3gf5-cxq9-w223.pkl": "idlelib.pyshell.ModifiedInterpreter.runcode",
    "GHSA-3vg9-h568-4w9m.pkl": "idlelib.debugobj.ObjectTreeItem.SetText",
    "GHSA-4675-36f9-wf6r.pkl": "ctypes.CDLL",
    "GHSA-46h3-79wf-xr6c.pkl": "_operator.attrgetter (+ builtins.__import__)",
    "GHSA-49gj-c84q-6qm9.pkl": "cProfile.run",
    "GHSA-4r9r-ch6f-vxmx.pkl": "torch.utils.bottleneck.__main__.run_cprofile",
    "GHSA-4whj-rm5r-c2v8.pkl": "torch.utils.bottleneck.__main__.run_autograd_prof",
    "GHSA-5qwp-399c-mjwf.pkl": "trace.Trace.run",
    "GHSA-6vqj-c2q5-j97w.pkl": "profile.Profile.runctx",
    "GHSA-6w4w-5w54-rjvr.pkl": "idlelib.autocomplete.AutoComplete.get_entity",
    "GHSA-7cq8-mj8x-j263.pkl": "idlelib.autocomplete.AutoComplete.fetch_completions",
    "GHSA-7wx9-6375-f5wh.pkl": "profile.run",
    "GHSA-84r2-jw7c-4r5q.pkl": "pydoc.locate + operator.methodcaller",
    "GHSA-86cj-95qr-2p4f.pkl": "torch._dynamo.guards.GuardBuilder.get",
    "GHSA-8r4j-24qv-fmq9.pkl": "idlelib.calltip.Calltip.fetch_tip",
    "GHSA-955r-x9j8-7rhh.pkl": "_operator.methodcaller (+ builtins.__import__)",
    "GHSA-9w88-8rmg-7g2p.pkl": "cProfile.runctx",
    "GHSA-9xph-j2h6-g47v.pkl": "idlelib.calltip.get_entity",
    "GHSA-cj3c-v495-4xqh.pkl": "code.InteractiveInterpreter.runcode",
    "GHSA-f4x7-rfwp-v3xw.pkl": "torch.fx.experimental.symbolic_shapes.ShapeEnv.evaluate_guards_expression",
    "GHSA-f54q-57x4-jg88.pkl": "lib2to3.pgen2.grammar.Grammar.loads",
    "GHSA-f745-w6jp-hpxx.pkl": "torch.utils.collect_env.run",
    "GHSA-fqq6-7vqf-w3fg.pkl": "doctest.debug_script",
    "GHSA-g344-hcph-8vgg.pkl": "trace.Trace.runctx",
    "GHSA-g38g-8gr9-h9xp-aix-support.pkl": "_aix_support._read_cmd_output",
    "GHSA-g38g-8gr9-h9xp-imaplib.pkl": "imaplib.IMAP4_stream",
    "GHSA-g38g-8gr9-h9xp-osx-support.pkl": "_osx_support._read_output",
    "GHSA-g38g-8gr9-h9xp-pyrepl-pager.pkl": "_pyrepl.pager.pipe_pager",
    "GHSA-g38g-8gr9-h9xp-test.pkl": "test.support.script_helper.assert_python_ok",
    "GHSA-g38g-8gr9-h9xp-uuid.pkl": "uuid._get_command_stdout",
    "GHSA-h3qp-7fh3-f8h4.pkl": "torch.utils.data.datapipes.utils.decoder.basichandlers",
    "GHSA-j343-8v2j-ff7w.pkl": "idlelib.pyshell.ModifiedInterpreter.runcommand",
    "GHSA-jgw4-cr84-mqxg.bin": "asyncio.unix_events._UnixSubprocessTransport._start (.bin name)",
    "GHSA-jhph-76pp-mggw.pkl": "torch.utils.collect_env.run (+ run_and_read_all)",
    "GHSA-m273-6v24-x4m4.pkl": "distutils.file_util.write_file",
    "GHSA-m869-42cg-3xwr.pkl": "idlelib.run.Executive.runcode",
    "GHSA-p9w7-82w4-7q8m.pkl": "lib2to3.pgen2.pgen.ParserGenerator.make_label",
    "GHSA-q77w-mwjj-7mqx.pkl": "asyncio.unix_events._UnixSubprocessTransport._start",
    "GHSA-r8g5-cgf2-4m4m.pkl": "numpy.f2py.crackfortran.getlincoef",
    "GHSA-vqmv-47xg-9wpr.pkl": "pty.spawn",
    "GHSA-vr7h-p6mm-wpmh.pkl": "torch.jit.unsupported_tensor_ops.execWrapper",
    "GHSA-vv6j-3g6g-2pvj.pkl": "torch.utils._config_module.ConfigModule.load_config",
    "GHSA-vvpj-8cmc-gx39.pkl": "pkgutil.resolve_name",
    "GHSA-x696-vm39-cp64.pkl": "profile.Profile.run",
    "GHSA-xp4f-hrf8-rxw7.pkl": "ensurepip._run_pip",
}
for _name, _gadget in GHSA.items():
    PICKLESCAN["data2/" + _name] = (M, f"advisory; {T}: assert_scan {_gadget} Dangerous")

# --- ModelAudit (promptfoo/modelaudit), paths under tests/assets/ ----------
RC = "test_regression_corpus.py"
RC_M = f"{RC}::TestMaliciousCorpus (must produce issues)"
RC_B = f"{RC}::TestSafeCorpus (must scan clean)"
SAI = "test_security_asset_integration.py"
BUG1 = "test_bug1_confidence_exploit.py asserts CRITICAL dangerous refs; " + RC_M
J2 = "no test uses it; label from its folder/file name and generate_jinja2_test_assets.py"

MODELAUDIT = {
    "pickles/memo_attack.pkl": (M, "scanners/test_pickle_scanner.py::test_memo_object_tracking expects subprocess issues"),
    "pickles/multiple_stream_attack.pkl": (M, "scanners/test_pickle_scanner.py::test_multiple_pickle_streams expects eval issues"),
    "pickles/stack_global_attack.pkl": (M, "scanners/test_pickle_scanner.py::test_stack_global_detection expects os issues"),
    "pickles/nt_alias_attack.pkl": (M, "test_os_alias_detection.py expects issues (nt.system)"),
    "pickles/posix_alias_attack.pkl": (M, "test_os_alias_detection.py expects issues (posix.system)"),
    "samples/archives/path_traversal.zip": (M, RC_M),
    "samples/archives/safe_model.zip": (B, RC_B),
    "samples/keras/malicious_lambda.h5": (M, f"{SAI}::test_malicious_sample_detection (name) expects exit 1"),
    "samples/keras/safe_model.h5": (B, f"{SAI}::test_safe_sample_validation (allows warnings, no critical)"),
    "samples/pickles/decode_exec_chain.pkl": (M, RC_M),
    "samples/pickles/dill_func.pkl": (M, f"{SAI}::test_existing_pickle_assets asserts exit 1 (dill code object; the function is identity): counted malicious by decision"),
    "samples/pickles/evil.pickle": (M, RC_M + "; scanners/test_pickle_scanner.py expects posix.system + REDUCE"),
    "samples/pickles/malicious_model_realistic.pkl": (M, RC_M + "; test_nested_pickle_integration.py"),
    "samples/pickles/malicious_system_call.pkl": (M, RC_M),
    "samples/pickles/nested_pickle_base64.pkl": (M, RC_M + "; test_nested_pickle_integration.py"),
    "samples/pickles/nested_pickle_hex.pkl": (M, RC_M + "; test_nested_pickle_integration.py"),
    "samples/pickles/nested_pickle_multistage.pkl": (M, RC_M + "; test_nested_pickle_integration.py"),
    "samples/pickles/nested_pickle_raw.pkl": (M, RC_M + "; test_nested_pickle_integration.py"),
    "samples/pickles/safe_data.pkl": (B, RC_B),
    "samples/pickles/safe_large_model.pkl": (B, RC_B),
    "samples/pickles/safe_model_with_binary.pkl": (B, RC_B),
    "samples/pickles/safe_model_with_encoding.pkl": (B, RC_B),
    "samples/pickles/safe_model_with_tokens.pkl": (B, RC_B),
    "samples/pickles/safe_nested_structure.pkl": (B, RC_B),
    "samples/pipeline.skops": (B, "scanners/test_skops_scanner.py::TestSkopsScannerRealModel: 'legitimate model', no CVE check may fail"),
    "samples/pytorch/malicious_eval.pt": (M, RC_M),
    "samples/pytorch/safe_model.pt": (B, RC_B),
    "samples/safetensors/malicious_import.safetensors": (M, RC_M + " (metadata 'import os; os.system(...)')"),
    "samples/safetensors/safe_model.safetensors": (B, RC_B),
    "samples/tensorflow/malicious_pyfunc/saved_model.pb": (M, f"{SAI}::test_malicious_sample_detection (folder name; PyFunc op), skipped without TF"),
    "samples/tensorflow/safe_savedmodel/saved_model.pb": (B, "folder name only (test_safe_sample_validation skips folders)"),
    "scenarios/security_scenarios/mixed_malicious_model/model.pkl": (M, f"{SAI}::test_security_scenarios asserts exit 1 on its folder (builtins.eval)"),
}
for _n in ["multiple_patterns", "obfuscated_metadata", "script_injection", "shell_commands", "suspicious_url"]:
    MODELAUDIT[f"samples/safetensors/{_n}.safetensors"] = (
        M, "generate_safetensors_assets.py: 'suspicious metadata' sample; no test asserts detection (weak label)")
for _n in ["attr_bypass", "combined_attack", "config_exploit", "cve_2024_34359_original", "direct_eval",
           "env_extraction", "file_access", "hex_bypass", "loop_discovery", "network_exfil",
           "request_exploit", "subprocess_injection"]:
    MODELAUDIT[f"samples/jinja2/malicious/{_n}.json"] = (M, f"folder malicious/; {J2}")
for _n in ["base64_payload", "char_construction", "format_bypass", "getattr_bypass"]:
    MODELAUDIT[f"samples/jinja2/obfuscated/{_n}.json"] = (M, f"folder obfuscated/ (generate_obfuscated_templates: bypasses); {J2}")
for _n in ["malicious_cve_2024_34359.json", "malicious_env_vars.json", "malicious_file_read.json",
           "malicious_loop_exploit.json", "malicious_obfuscated.json", "malicious_subprocess.template",
           "standalone/malicious_standalone.jinja", "yaml/malicious_config.yaml"]:
    MODELAUDIT[f"samples/jinja2/{_n}"] = (M, f"name malicious_*; {J2}")
MODELAUDIT["samples/jinja2/tokenizer_config.json"] = (
    M, f"same chat_template as malicious_cve_2024_34359.json (CVE-2024-34359 payload); {J2}")
for _n in ["chatml_format", "complex_legitimate", "conditional_system", "huggingface_llama",
           "simple_roles", "special_tokens"]:
    MODELAUDIT[f"samples/jinja2/benign/{_n}.json"] = (B, f"folder benign/; {J2}")
for _n in ["benign_conditional_format.json", "benign_huggingface_chat.json", "benign_simple_template.json",
           "benign_template.j2", "standalone/benign_chat.j2", "yaml/model_config.yaml"]:
    MODELAUDIT[f"samples/jinja2/{_n}"] = (B, f"name benign_* / benign YAML config; {J2}")
MODELAUDIT["samples/jinja2/standalone/suspicious_benign.template"] = (
    B, f"generator: 'suspicious patterns but benign intent'; {J2}")
for _n in ["exploit1_basic_torch_bypass", "exploit2_advanced_torch_bypass", "exploit3_sophisticated_hybrid",
           "exploit4_supply_chain_attack", "exploit5_ultra_high_confidence", "exploit6_ordereddict_bypass",
           "exploit7_nested_collections", "exploit9_manual_construction", "exploit_ultimate_50pct"]:
    MODELAUDIT[f"exploits/{_n}.pkl"] = (M, BUG1)

# Not run: not model files, or neither malicious nor benign by the peer.
EXCLUDED_PREFIXES = {
    "modelaudit": [
        ("generators/", "python generator scripts"),
        ("pickles/bypass_pocs/", "python generator script"),
        ("samples/manifests/", "JSON manifests (excluded by the brief)"),
        ("samples/jinja2/edge_cases/", "malformed/empty/oversized templates, neither malicious nor benign"),
        ("scenarios/license_scenarios/", "licence scenarios (excluded by the brief)"),
        ("scenarios/security_scenarios/mixed_malicious_model/config.json", "config JSON beside model.pkl"),
        ("samples/pickles/simple_nested.pkl",
         "excluded from safe files in test_security_asset_integration.py yet in no malicious list; "
         "inner pickle only builds {'malicious': 'data'}"),
    ],
    "picklescan": [],
}

CORPORA = {
    # name: (subfolders holding the files, labels)
    "picklescan": (["tests/data", "tests/data2"], PICKLESCAN),
    "modelaudit": (["tests/assets"], MODELAUDIT),
}


def which_corpus(root):
    if os.path.isfile(os.path.join(root, "tests", "test_scanner.py")) and os.path.isdir(os.path.join(root, "tests", "data2")):
        return "picklescan"
    if os.path.isdir(os.path.join(root, "tests", "assets")):
        return "modelaudit"
    sys.exit(f"{root}: neither a picklescan nor a modelaudit tree")


def run(argv, env, cwd):
    try:
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd,
                              timeout=TIMEOUT).returncode
    except subprocess.TimeoutExpired:
        return "timeout"


def rampart_json(path, env, cwd):
    try:
        p = subprocess.run([RAMPART, "scan", "--quiet", "--format", "json", path], capture_output=True, text=True,
                           env=env, cwd=cwd, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "(timeout)"
    try:
        report = json.loads(p.stdout)
    except ValueError:
        return f"exit {p.returncode}: " + (p.stdout + p.stderr).strip()
    lines = [f"exit {p.returncode}; counts {json.dumps(report.get('counts'))}"]
    for f in report.get("findings", []):
        lines.append(f"{f.get('severity')} {f.get('rule')}: {f.get('message')} {json.dumps(f.get('evidence', {}))}")
    for e in report.get("errors", []):
        lines.append(f"error: {json.dumps(e)}")
    return "\n".join(lines)


def files_of(root, name):
    subdirs, labels = CORPORA[name]
    base = os.path.join(root, subdirs[0]) if name == "modelaudit" else os.path.join(root, "tests")
    found = []
    for sub in subdirs:
        for dirpath, _, names in os.walk(os.path.join(root, sub)):
            for n in names:
                found.append(os.path.relpath(os.path.join(dirpath, n), base))
    labelled, excluded, unknown = [], [], []
    for rel in sorted(found):
        if rel in labels:
            labelled.append(rel)
        elif any(rel.startswith(p) for p, _ in EXCLUDED_PREFIXES[name]):
            excluded.append(rel)
        else:
            unknown.append(rel)
    missing = sorted(set(labels) - set(found))
    return base, labelled, excluded, unknown, missing


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if not os.access(RAMPART, os.X_OK):
        sys.exit(f"no rampart binary at {RAMPART} (set RAMPART)")
    env = dict(os.environ, PROMPTFOO_DISABLE_TELEMETRY="1", NO_COLOR="1")
    for root in sys.argv[1:]:
        root = os.path.abspath(root)
        name = which_corpus(root)
        labels = CORPORA[name][1]
        base, files, excluded, unknown, missing = files_of(root, name)
        n_mal = sum(1 for f in files if labels[f][0] == M)
        n_ben = len(files) - n_mal
        stats = {t: {"tp": 0, "fn": [], "fp": [], "err": [], "timeout": 0} for t in TOOLS}
        groups = {}
        for rel in files:
            path = os.path.join(base, rel)
            mal = labels[rel][0] == M
            folder = "/".join(os.path.dirname(rel).split("/")[:2]) or "."
            g = groups.setdefault(folder, {"n": [0, 0], **{t: [0, 0] for t in TOOLS}})
            g["n"][0 if mal else 1] += 1
            for t in TOOLS:
                # cwd is the corpus root: no rampart.toml policy applies.
                code = run(cmd(t, path), env, root)
                s = stats[t]
                flagged = code == 1
                g[t][0 if mal else 1] += int(flagged)
                if code not in (0, 1):
                    s["err"].append(f"{rel} ({code})")
                    s["timeout"] += code == "timeout"
                if mal and flagged:
                    s["tp"] += 1
                elif mal:
                    s["fn"].append((rel, code))
                elif flagged:
                    s["fp"].append((rel, code))
            print(rel, file=sys.stderr, flush=True)

        print(f"\n## {name} ({root})\n")
        print(f"{len(files)} files run: {n_mal} malicious, {n_ben} benign; {len(excluded)} left out "
              f"(not models or unlabelled), {len(unknown)} unlabelled and not run, {len(missing)} labels without a file.\n")
        print("| tool | detected | missed | false positives | errors (of which timeouts) |")
        print("|---|---:|---:|---:|---:|")
        for t in TOOLS:
            s = stats[t]
            print(f"| {t} | {s['tp']}/{n_mal} | {len(s['fn'])} | {len(s['fp'])}/{n_ben} | {len(s['err'])} ({s['timeout']}) |")
        print("\nBy folder: malicious flagged / malicious, benign flagged / benign.\n")
        folder_table(groups, TOOLS)
        for t in TOOLS:
            s = stats[t]
            if s["fn"]:
                print(f"\n{t} missed ({len(s['fn'])}): " + ", ".join(f"{r} (exit {c})" for r, c in s["fn"]))
            if s["fp"]:
                print(f"\n{t} flagged benign ({len(s['fp'])}): " + ", ".join(r for r, _ in s["fp"]))
            if s["err"]:
                print(f"\n{t} errors ({len(s['err'])}): " + ", ".join(s["err"]))
        for kind, items in (("missed", stats["rampart"]["fn"]), ("false alarm", stats["rampart"]["fp"])):
            for rel, code in items:
                print(f"\n### rampart {kind}: {rel} (exit {code})\n\nlabel: {labels[rel][0]}: {labels[rel][1]}\n")
                print("```\n" + rampart_json(os.path.join(base, rel), env, root) + "\n```")
        if excluded:
            print(f"\nLeft out ({len(excluded)}): " + ", ".join(excluded))
        if unknown:
            print(f"\nUnlabelled, not run ({len(unknown)}): " + ", ".join(unknown))
        if missing:
            print(f"\nLabelled but not found ({len(missing)}): " + ", ".join(missing))


if __name__ == "__main__":
    main()
