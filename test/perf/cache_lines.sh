#!/usr/bin/env bash
# test/perf/cache_lines.sh - what one dry run of kaireon_recommend misses in
# the CPU's caches, deciding for 1 tenant and for 100 in turn, counted by
# valgrind's cachegrind (docs/performance.md, "Many tenants: the cache lines a
# decision reads"). Wall-clock runs on a small shared machine swing by more
# than a layout change is worth; these counts are the same for every run of
# the same build, so they compare two builds (up to about 150 misses a
# decision move with heap layout alone).
#
# Uses the kaireon installed (make install first). As root: starts a
# throw-away cluster, loads the suite's database (test/perf/harness.py:
# the demo catalog for tenant perf and 99 copies), stops it, then runs
# single-user backends (postgres --single) on copies of it under cachegrind:
# A makes 300 dry runs over the 100 tenants in turn (every catalog
# compiled), B the same and then DECISIONS more (for 1 tenant: DECISIONS for
# tenant perf alone). (B - A) / DECISIONS is one decision. Simulated caches:
# a 32 KB first level and a 1 MB last level (one core's L2 on the 2-core
# machines this runs on). About 5 minutes; installs valgrind when missing.
#
#   test/perf/cache_lines.sh [DECISIONS]    (default 2000)
#
# Prints per decision: instructions, first-level data read misses and
# last-level data read misses (DLmr), and keeps the cachegrind files
# (build/cache-lines/*.out) for cg_diff and cg_annotate --sort=DLmr.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=../../scripts/lib/cluster.sh
source scripts/lib/cluster.sh
# shellcheck source=../../scripts/lib/license.sh
source scripts/lib/license.sh
# shellcheck source=../../scripts/lib/perf_database.sh
source scripts/lib/perf_database.sh

decisions=${1:-2000}
if ! [[ "$decisions" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: test/perf/cache_lines.sh [DECISIONS]" >&2
    exit 2
fi
kr_valgrind_bench cache-lines

# --- the database: the suite's, with 100 tenants --------------------------------------
echo "== loading 100 tenants' catalogs"
kr_suite_database "$work" 100

# --- the scripts ----------------------------------------------------------------------
decide() {  # decide N TENANT_EXPR: one statement of N dry runs
    echo "SELECT count(kaireon_recommend(jsonb_build_object('customerId', 'cust-' || lpad((1 + n % 1000)::text, 4, '0'),
  'flow', 'homepage', 'context', '{\"channel\": \"web\"}'::jsonb, 'dryRun', true)))
FROM generate_series(1, $1) n, LATERAL (SELECT set_config('kaireon.tenant', $2, false)) s;"
}
every="CASE WHEN n % 100 = 0 THEN 'perf' ELSE 'perf' || lpad((n % 100)::text, 3, '0') END"
decide 300 "$every" >"$work/A.sql"
{ decide 300 "$every"; decide "$decisions" "$every"; } >"$work/B100.sql"
{ decide 300 "$every"; decide "$decisions" "'perf'"; } >"$work/B1.sql"

# --- the runs: each on its own copy, two at a time -------------------------------------
run() {  # run NAME: cachegrind of a single-user backend running NAME.sql
    kr_cachegrind_single "$1" "$work" --cache-sim=yes --D1=32768,8,64 --LL=1048576,16,64
}
echo "== cachegrind: $decisions dry runs after 300 (a few minutes)"
run A & run B100 & wait
run B1
for name in A B100 B1; do kr_cachegrind_kept "$name"; done

# Events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw. The misses inside glibc's
# malloc.c are also given apart: they swing by a hundred or two between
# builds that allocate the same (how the heap happens to lie when malloc
# consolidates its free chunks), the rest is steady (docs/performance.md).
/usr/bin/python3 - "$out" "$decisions" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
def counts(name):
    """Totals of every event, and of those counted in malloc.c."""
    total = malloc = None
    in_malloc = False
    for line in open(f"{out}/{name}.out"):
        if line.startswith("events:"):
            width = len(line.split()) - 1
            total, malloc = [0] * width, [0] * width
        elif line.startswith("fl="):
            in_malloc = line.rstrip().endswith("/malloc.c")
        elif line[:1].isdigit():
            values = [int(v) for v in line.split()[1:]]
            for i, v in enumerate(values):
                total[i] += v
                if in_malloc:
                    malloc[i] += v
    return total, malloc
a_total, a_malloc = counts("A")
print(f"per dry run ({n} after 300): instructions, D1 read misses, last-level read misses (DLmr),")
print("  and the DLmr outside malloc.c")
for label, name in (("100 tenants in turn", "B100"), ("1 tenant", "B1")):
    total, malloc = counts(name)
    d = [(b - x) / n for b, x in zip(total, a_total)]
    m = [(b - x) / n for b, x in zip(malloc, a_malloc)]
    print(f"  {label:20} {d[0]:10,.0f} {d[4]:8,.0f} {d[5]:8,.0f} {d[5] - m[5]:8,.0f}")
print(f"cachegrind files in {out}: cg_diff A.out B100.out > d; cg_annotate --sort=DLmr d")
PY
