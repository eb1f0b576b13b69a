"""Runs the release build of rampart under GNU time, for the data
benchmarks (drift, labels, outliers, poison): one place that measures."""
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
RAMPART = ROOT / "target" / "release" / "rampart"


def rampart(args):
    """Runs `rampart ARGS`; exits the benchmark unless it ends with 0 or 1
    (1 is a gate that found something). Returns (stdout bytes, wall s,
    CPU s, peak RSS MB)."""
    with tempfile.NamedTemporaryFile(suffix=".time") as timing:
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %e %M", "-o", timing.name, str(RAMPART),
                            *map(str, args)], capture_output=True)
        if p.returncode not in (0, 1):
            sys.exit(p.stderr.decode())
        user, system, wall, rss_kb = pathlib.Path(timing.name).read_text().split()[-4:]
    return p.stdout, float(wall), float(user) + float(system), int(rss_kb) / 1024
