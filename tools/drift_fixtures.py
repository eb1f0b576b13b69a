"""Writes crates/rampart-stats/tests/fixtures/scipy.json: values scipy
computes for the statistics rampart-stats implements, on samples both
sides generate bit for bit (splitmix64, integer arithmetic and one exact
scaling), so the fixture stays small.

Run with any Python that has numpy and scipy:
    python tools/drift_fixtures.py
"""

import json
import pathlib

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

MASK = (1 << 64) - 1


def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def sample(spec):
    """spec = [seed, n, shift, scale, step]: n values, each the sum of three
    uniforms on [0, 1) minus 1.5, times scale, plus shift; rounded down to a
    multiple of step when step > 0 (ties)."""
    seed, n, shift, scale, step = spec
    state, out = seed, []
    for _ in range(n):
        u = 0.0
        for _ in range(3):
            state, z = splitmix(state)
            u += (z >> 11) * 2.0**-53
        x = shift + scale * (u - 1.5)
        if step > 0:
            x = np.floor(x / step) * step
        out.append(float(x))
    return np.array(out)


def binned(ref, cur, integers):
    """Evidently's bins: Sturges over both samples for more than 20
    reference values, else one bin per value."""
    if len(np.unique(ref)) > 20:
        both = np.concatenate([ref, cur])
        if integers:
            both = both.astype(np.int64)
        edges = np.histogram_bin_edges(both, bins="sturges")
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
    else:
        keys = sorted(set(ref) | set(cur))
        r = np.array([np.sum(ref == k) for k in keys]) / len(ref)
        c = np.array([np.sum(cur == k) for k in keys]) / len(cur)
    return r, c


def fill(p):
    p = p.copy()
    m = min(p[p != 0])
    np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return p


PAIRS = [
    # reference spec, current spec, integer values
    ([1, 50, 0.0, 1.0, 0.0], [2, 50, 0.3, 1.0, 0.0], False),
    ([3, 80, 0.0, 1.0, 0.0], [4, 120, 0.0, 1.0, 0.0], False),
    ([5, 500, 0.0, 1.0, 0.25], [6, 700, 0.1, 1.0, 0.25], False),
    ([7, 3000, 0.0, 1.0, 0.0], [8, 3000, 0.05, 1.0, 0.0], False),
    ([9, 9000, 0.0, 2.0, 0.0], [10, 10000, 0.0, 2.1, 0.0], False),
    ([11, 20000, 0.0, 1.0, 0.0], [12, 15000, 0.02, 1.0, 0.0], False),
    ([13, 12000, 0.0, 1.0, 0.0], [14, 300, 0.2, 1.0, 0.0], False),
    ([15, 60000, 0.0, 1.0, 0.0], [16, 50000, 0.01, 1.0, 0.0], False),
    ([17, 2000, 10.0, 8.0, 1.0], [18, 2500, 10.5, 8.0, 1.0], True),
    ([19, 400, 2.0, 3.0, 1.0], [20, 400, 2.0, 3.0, 1.0], True),
]

KOLMOGOROV = [
    (n, x)
    for n in [5, 30, 100, 140, 141, 500, 5000, 50000, 200000]
    for x in [0.001, 0.004, 0.01, 0.02, 0.05, 0.08, 0.12, 0.2, 0.35, 0.5, 0.7, 0.95]
]

TABLES = [
    [[10, 20, 30], [15, 15, 30]],
    [[500, 0, 3], [480, 12, 8]],
    [[1, 2], [2, 1]],
    [[i * 3 + 1 for i in range(40)], [(i * 7) % 23 + 1 for i in range(40)]],
]

CHI2_SF = [(x, k) for k in [1, 2, 5, 30, 199, 250, 1000] for x in [0.5, 3.0, 10.0, 40.0, 220.0, 300.0, 1100.0]]

PVALUES = [0.001, 0.04, 0.03, 0.2, 0.5, 0.049, 0.9, 0.0001, 0.04]


def main():
    pairs = []
    for ref_spec, cur_spec, integers in PAIRS:
        ref, cur = sample(ref_spec), sample(cur_spec)
        ks = stats.ks_2samp(ref, cur)
        r, c = binned(ref, cur, integers)
        pairs.append(
            {
                "reference": ref_spec,
                "current": cur_spec,
                "integers": integers,
                "ks_statistic": float(ks.statistic),
                "ks_pvalue": float(ks.pvalue),
                "wasserstein": float(stats.wasserstein_distance(ref, cur)),
                "reference_std": float(np.std(ref)),
                "psi": float(np.sum((fill(r) - fill(c)) * np.log(fill(r) / fill(c)))),
                "jensenshannon": float(distance.jensenshannon(r, c)),
                "bins": len(r),
            }
        )
    out = {
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "pairs": pairs,
        "kolmogorov_sf": [[n, x, float(stats.kstwo.sf(x, n))] for n, x in KOLMOGOROV],
        "chi2_contingency": [
            [t, float(r.statistic), int(r.dof), float(r.pvalue)]
            for t in TABLES
            for r in [stats.chi2_contingency(np.array(t), correction=False)]
        ],
        "chi2_sf": [[x, k, float(stats.chi2.sf(x, k))] for x, k in CHI2_SF],
        "benjamini_hochberg": [PVALUES, [float(p) for p in stats.false_discovery_control(PVALUES)]],
    }
    path = pathlib.Path(__file__).parent.parent / "crates/rampart-stats/tests/fixtures/scipy.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
