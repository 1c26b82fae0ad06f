#!/usr/bin/python3
"""experiments_oracle.py - the experiment statistics of src/core/experiments.cpp
recomputed independently with python3-scipy (run by /usr/bin/python3, the
interpreter that sees Debian's scipy and numpy).

    /usr/bin/python3 experiments_oracle.py path/to/experiment_report_cli

1. report: for a grid of cases (small and large n, rates near 0 and 1, no
   positives, positives == impressions, equal rates, 2 to 5 variants with
   the control anywhere, a variant or the control without impressions, no
   control, positives > impressions which the core clamps to the
   impressions) every field of the CLI's report JSON is compared with
     - rate = min(positives, impressions) / impressions;
     - the control's 95 % Wilson interval:
       scipy.stats.binomtest(k, n).proportion_ci(0.95, method='wilson');
     - a variant's uplift = rate_v - rate_c and Newcombe's interval (1998,
       method 10) built from the two scipy Wilson intervals;
     - the pooled two-proportion z-test's two-sided p-value with
       scipy.stats.norm.sf, itself cross-checked against
       scipy.stats.chi2_contingency(table, correction=False) (whose ValueError
       on a zero expected count must coincide with the core's null p-value);
   within 1e-9 (relative or absolute), nulls where experiments.h documents
   them.
2. assignment: 100,000 customers "cust-%d": chi-square goodness of fit
   (scipy.stats.chisquare) of the variants' counts against the weights and
   the holdout, p > 0.001; an exact replication of the documented rule
   (SHA-256 of tenant NUL experiment NUL customer, top 53 bits of the first
   8 bytes) with hashlib; stability (the same input twice gives the same
   output); independence of two experiments (and of two tenants):
   scipy.stats.chi2_contingency of their joint assignments, p > 0.001.

Prints one line per case; exits 1 with the mismatches on any.
"""

import hashlib
import json
import math
import subprocess
import sys
import time
import warnings

import numpy as np
from scipy import stats

TOL = 1e-9
ALPHA = 0.001
N_CUSTOMERS = 100_000

failures = []


def fail(case, message):
    failures.append(f"{case}: {message}")
    print(f"  MISMATCH {case}: {message}")


def close(got, want):
    return math.isclose(got, want, rel_tol=TOL, abs_tol=TOL)


def run_cli(cli, args, stdin):
    done = subprocess.run([cli, *args], input=stdin, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise SystemExit(f"experiments_oracle: {cli} {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


# --- the independent computation ---------------------------------------------------------------------------------


def wilson(k, n):
    # binomtest also computes its own p-value, whose pmf warns for huge n;
    # only the interval is used.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def newcombe(k1, n1, k2, n2):
    """The interval of k1/n1 - k2/n2 (Newcombe 1998, method 10)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def z_test_p(k1, n1, k2, n2):
    """The pooled two-proportion z-test's two-sided p-value, None without variance."""
    pooled = (k1 + k2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if not var > 0:
        return None
    z = (k1 / n1 - k2 / n2) / math.sqrt(var)
    return float(2 * stats.norm.sf(abs(z)))


def chi2_p(k1, n1, k2, n2):
    """chi2_contingency's p-value (no continuity correction), None when scipy refuses the table."""
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]], dtype=float)
    try:
        return float(stats.chi2_contingency(table, correction=False)[1])
    except ValueError:  # a zero expected frequency: no positives, or no negatives, at all
        return None


def expected_report(rows):
    """experiments::report's documented variants, from (id, control, impressions, positives) rows."""
    control = None
    for r in rows:
        if r[1]:
            control = r
    out = []
    for vid, is_control, imp, pos in rows:
        k = min(pos, imp)
        row = {"id": vid, "control": bool(is_control), "impressions": imp, "positives": pos,
               "rate": k / imp if imp > 0 else None, "uplift": None, "interval": None, "pValue": None}
        if is_control:
            if imp > 0:
                low, high = wilson(k, imp)
                row["uplift"] = 0.0
                row["interval"] = {"low": low, "high": high}
        elif control is not None and imp > 0 and control[2] > 0:
            kc, nc = min(control[3], control[2]), control[2]
            low, high = newcombe(k, imp, kc, nc)
            row["uplift"] = k / imp - kc / nc
            row["interval"] = {"low": low, "high": high}
            p = z_test_p(k, imp, kc, nc)
            c = chi2_p(k, imp, kc, nc)
            if (p is None) != (c is None):
                fail(vid, f"z-test p {p} but chi2_contingency p {c}: the two references disagree on definedness")
            elif p is not None and not close(p, c):
                fail(vid, f"z-test p {p!r} != chi2_contingency p {c!r}")
            row["pValue"] = p
        out.append(row)
    return out


# --- 1. report ---------------------------------------------------------------------------------------------------

REPORT_CASES = [
    ("two variants, control first", [("ctl", 1, 1000, 100), ("b", 0, 1000, 120)]),
    ("two variants, control second", [("b", 0, 1000, 120), ("ctl", 1, 1000, 100)]),
    ("small n", [("ctl", 1, 5, 1), ("b", 0, 3, 2)]),
    ("n = 1", [("ctl", 1, 1, 0), ("b", 0, 1, 1)]),
    ("n = 1, both positive", [("ctl", 1, 1, 1), ("b", 0, 1, 1)]),
    ("Newcombe 1998 example (a)", [("ctl", 1, 80, 48), ("b", 0, 70, 56)]),
    ("large n", [("ctl", 1, 10_000_000, 123_456), ("b", 0, 9_876_543, 125_001)]),
    ("very large n, rates near 1/2", [("b", 0, 1_000_000_000, 500_050_000), ("ctl", 1, 1_000_000_000, 500_000_000)]),
    ("rates near 0", [("ctl", 1, 100_000, 1), ("b", 0, 100_000, 3)]),
    ("rates near 1", [("ctl", 1, 100_000, 99_999), ("b", 0, 100_000, 99_990)]),
    ("control without positives", [("ctl", 1, 500, 0), ("b", 0, 500, 7)]),
    ("no positives at all (no variance)", [("ctl", 1, 500, 0), ("b", 0, 300, 0)]),
    ("positives == impressions everywhere (no variance)", [("ctl", 1, 40, 40), ("b", 0, 60, 60)]),
    ("control 0 %, variant 100 %", [("ctl", 1, 50, 0), ("b", 0, 50, 50)]),
    ("control 100 %, variant 0 %", [("b", 0, 7, 0), ("ctl", 1, 9, 9)]),
    ("equal rates", [("ctl", 1, 200, 50), ("b", 0, 400, 100)]),
    ("equal rates, equal n", [("ctl", 1, 300, 30), ("b", 0, 300, 30)]),
    ("highly significant (tiny p)", [("ctl", 1, 100_000, 1000), ("b", 0, 100_000, 2000)]),
    ("extremely significant (p ~ 1e-200)", [("ctl", 1, 1_000_000, 10_000), ("b", 0, 1_000_000, 14_760)]),
    ("p underflows to 0", [("ctl", 1, 1_000_000, 10_000), ("b", 0, 1_000_000, 30_000)]),
    ("three variants, control in the middle", [("a", 0, 1000, 90), ("ctl", 1, 1200, 100), ("b", 0, 800, 85)]),
    ("four variants, control third",
     [("a", 0, 2500, 300), ("b", 0, 2400, 250), ("ctl", 1, 2600, 260), ("c", 0, 10, 10)]),
    ("five variants, control last",
     [("a", 0, 10_000, 510), ("b", 0, 9_000, 480), ("c", 0, 11_000, 0), ("d", 0, 1, 1), ("ctl", 1, 10_500, 500)]),
    ("a variant without impressions", [("ctl", 1, 100, 10), ("empty", 0, 0, 0), ("b", 0, 100, 20)]),
    ("a variant without impressions but positives", [("ctl", 1, 100, 10), ("empty", 0, 0, 5)]),
    ("control without impressions", [("b", 0, 100, 5), ("ctl", 1, 0, 0), ("c", 0, 50, 1)]),
    ("no control", [("a", 0, 100, 5), ("b", 0, 100, 6)]),
    ("control only", [("ctl", 1, 250, 17)]),
    ("control's positives > impressions (clamped)", [("ctl", 1, 100, 150), ("b", 0, 100, 20)]),
    ("variant's positives > impressions (clamped)", [("ctl", 1, 100, 30), ("b", 0, 10, 12)]),
    ("both clamped", [("ctl", 1, 30, 31), ("b", 0, 20, 1000)]),
]


def compare_number(case, field, got, want):
    if want is None:
        if got is not None:
            fail(case, f"{field}: expected null, got {got!r}")
        return
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        fail(case, f"{field}: expected {want!r}, got {got!r}")
    elif not close(float(got), float(want)):
        fail(case, f"{field}: expected {want!r}, got {got!r} (difference {float(got) - float(want):.3g})")


def check_report(cli, name, rows):
    text = "".join(f"{vid} {c} {imp} {pos}\n" for vid, c, imp, pos in rows)
    got = json.loads(run_cli(cli, [], text))
    before = len(failures)
    want = expected_report(rows)
    if got.get("experiment") != "e":
        fail(name, f"experiment: expected \"e\", got {got.get('experiment')!r}")
    variants = got.get("variants")
    if not isinstance(variants, list) or len(variants) != len(want):
        fail(name, f"expected {len(want)} variants, got {variants!r}")
        return
    worst_p = None
    for g, w in zip(variants, want):
        at = f"{name} / {w['id']}"
        expected_keys = {"id", "control", "impressions", "positives", "rate", "uplift", "interval", "pValue"}
        if set(g) != expected_keys:
            fail(at, f"keys {sorted(g)} != {sorted(expected_keys)}")
        if g.get("id") != w["id"] or g.get("control") is not w["control"]:
            fail(at, f"id/control: expected {w['id']!r}/{w['control']}, got {g.get('id')!r}/{g.get('control')!r}")
        for field in ("impressions", "positives", "rate", "uplift", "pValue"):
            compare_number(at, field, g.get(field), w[field])
        if w["interval"] is None:
            if g.get("interval") is not None:
                fail(at, f"interval: expected null, got {g.get('interval')!r}")
        elif not isinstance(g.get("interval"), dict):
            fail(at, f"interval: expected {w['interval']!r}, got {g.get('interval')!r}")
        else:
            for end in ("low", "high"):
                compare_number(at, f"interval.{end}", g["interval"].get(end), w["interval"][end])
        if w["pValue"] is not None:
            worst_p = w["pValue"] if worst_p is None else min(worst_p, w["pValue"])
    status = "ok" if len(failures) == before else "FAILED"
    extra = f", min p {worst_p:.3g}" if worst_p is not None else ""
    print(f"report   {status:6} {name} ({len(rows)} variants{extra})")


# --- 2. assignment -----------------------------------------------------------------------------------------------

CUSTOMERS = [f"cust-{i}" for i in range(N_CUSTOMERS)]
CUSTOMER_TEXT = "".join(c + "\n" for c in CUSTOMERS)


def assign(cli, tenant, experiment, holdout, weights):
    out = run_cli(cli, ["--assign", tenant, experiment, str(holdout), *map(str, weights)], CUSTOMER_TEXT).split("\n")
    if out and out[-1] == "":
        out.pop()
    if len(out) != N_CUSTOMERS:
        raise SystemExit(f"experiments_oracle: --assign printed {len(out)} lines for {N_CUSTOMERS} customers")
    return out


def replicate(tenant, experiment, holdout, weights):
    """The documented rule (experiments.h), with hashlib: what assign should print."""
    h = min(max(holdout, 0.0), 100.0) / 100
    total = 0.0
    for w in weights:
        total += w
    out = []
    prefix = tenant.encode() + b"\0" + experiment.encode() + b"\0"
    for c in CUSTOMERS:
        x = int.from_bytes(hashlib.sha256(prefix + c.encode()).digest()[:8], "big")
        u = (x >> 11) / 9007199254740992.0
        if u < h:
            out.append("holdout")
            continue
        point = (u - h) / (1 - h) * total if h < 1 else 0.0
        edge, chosen = 0.0, str(len(weights) - 1)
        for i, w in enumerate(weights):
            edge += w
            if point < edge:
                chosen = str(i)
                break
        out.append(chosen)
    return out


def labels(weights, holdout):
    return (["holdout"] if holdout > 0 else []) + [str(i) for i in range(len(weights))]


def check_proportions(cli, tenant, experiment, holdout, weights):
    name = f"{tenant}/{experiment} holdout {holdout} % weights {'/'.join(map(str, weights))}"
    before = len(failures)
    got = assign(cli, tenant, experiment, holdout, weights)
    names = labels(weights, holdout)
    unknown = set(got) - set(names)
    if unknown:
        fail(name, f"unexpected variants {sorted(unknown)}")
    observed = np.array([got.count(n) for n in names], dtype=float)
    share = [holdout / 100] if holdout > 0 else []
    share += [(1 - holdout / 100) * w / sum(weights) for w in weights]
    expected = np.array(share) * N_CUSTOMERS
    p = float(stats.chisquare(observed, expected).pvalue)
    if not p > ALPHA:
        fail(name, f"chi-square goodness of fit p = {p:.3g} <= {ALPHA}: observed {observed.tolist()} "
                   f"expected {expected.tolist()}")
    want = replicate(tenant, experiment, holdout, weights)
    diff = [i for i in range(N_CUSTOMERS) if got[i] != want[i]]
    if diff:
        i = diff[0]
        fail(name, f"{len(diff)} customers differ from the documented rule, first {CUSTOMERS[i]}: "
                   f"expected {want[i]}, got {got[i]}")
    again = assign(cli, tenant, experiment, holdout, weights)
    if again != got:
        fail(name, "not stable: the same input twice gave different assignments")
    status = "ok" if len(failures) == before else "FAILED"
    print(f"assign   {status:6} {name}: counts {observed.astype(int).tolist()}, chi-square p {p:.3g}, "
          f"matches hashlib replication, stable")
    return got


def check_independence(name, first, second):
    before = len(failures)
    rows = sorted(set(first))
    cols = sorted(set(second))
    index_r = {v: i for i, v in enumerate(rows)}
    index_c = {v: i for i, v in enumerate(cols)}
    table = np.zeros((len(rows), len(cols)))
    for a, b in zip(first, second):
        table[index_r[a], index_c[b]] += 1
    p = float(stats.chi2_contingency(table, correction=False)[1])
    same = sum(a == b for a, b in zip(first, second)) / len(first)
    if first == second:
        fail(name, "the two assignments are the same sequence")
    if not p > ALPHA:
        fail(name, f"assignments are dependent: chi2_contingency p = {p:.3g} <= {ALPHA}, table {table.tolist()}")
    status = "ok" if len(failures) == before else "FAILED"
    print(f"indep    {status:6} {name}: chi2_contingency p {p:.3g}, same variant for {same:.1%}")


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: experiments_oracle.py path/to/experiment_report_cli")
    cli = sys.argv[1]
    start = time.monotonic()
    for name, rows in REPORT_CASES:
        check_report(cli, name, rows)
    t1 = "t1"
    a = check_proportions(cli, t1, "exp-a", 10, [50, 30, 20])
    b = check_proportions(cli, t1, "exp-b", 10, [50, 30, 20])
    c = check_proportions(cli, t1, "exp-c", 0, [1, 1])
    d = check_proportions(cli, t1, "exp-d", 0, [1, 1])
    check_proportions(cli, t1, "exp-deciles", 0, [1] * 10)
    check_proportions(cli, t1, "exp-fractional", 2.5, [0.25, 1.75, 3])
    check_proportions(cli, t1, "exp-small-holdout", 0.5, [1, 1])
    check_proportions(cli, t1, "exp-large-holdout", 90, [1, 2])
    t2 = check_proportions(cli, "t2", "exp-a", 10, [50, 30, 20])
    check_independence("exp-a vs exp-b (50/30/20, holdout 10 %)", a, b)
    check_independence("exp-c vs exp-d (1/1)", c, d)
    check_independence("exp-a of tenant t1 vs tenant t2", a, t2)
    elapsed = time.monotonic() - start
    if failures:
        print(f"\nexperiments_oracle: {len(failures)} mismatch(es) against scipy ({elapsed:.1f} s):", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        sys.exit(1)
    print(f"experiments_oracle: all {len(REPORT_CASES)} report cases and the assignment checks agree ({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
