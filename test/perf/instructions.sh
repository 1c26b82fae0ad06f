#!/usr/bin/env bash
# test/perf/instructions.sh - the instructions one call of each path of the
# suite costs, counted by valgrind's cachegrind (no cache simulation) on
# single-user backends: the same for every run of the same build on the same
# day, where the clock of this small shared machine swings by more than most
# changes are worth (docs/performance.md, "Reads by key without the
# executor"). For A/B of a change: run it once per build.
#
# Uses the kaireon installed (make install first). As root: starts a
# throw-away cluster, loads the suite's database (test/perf/harness.py),
# stops it, then for each path runs two backends on copies of it: A makes
# WARM calls, B the same and then CALLS more; (B - A) / CALLS is one call.
# Each call is its own statement and transaction, as pgbench's are, and
# includes parsing and planning that statement (pgbench -M prepared plans
# it once). Paths (test/perf/*.sql):
#
#   dry_run      decisions_d_dry_run.sql's call
#   recorded     decisions_c_recommend.sql's call
#   respond      respond_c_respond.sql's (a new idempotency key each; 2,000
#                first, so that the key table has grown as in a benchmark)
#   usage        usage_c_report.sql's
#
#   test/perf/instructions.sh [--callgrind] [CALLS]    (default 500; under a minute here)
#
# Prints instructions per call; keeps the cachegrind files
# (build/instructions/*.out) for cg_diff and cg_annotate. --callgrind runs
# callgrind instead (about twice as long; its counts are within 0.2 % of
# cachegrind's), for callgrind_annotate --inclusive=yes: where the
# instructions go, by caller.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=../../scripts/lib/cluster.sh
source scripts/lib/cluster.sh
# shellcheck source=../../scripts/lib/license.sh
source scripts/lib/license.sh
# shellcheck source=../../scripts/lib/perf_database.sh
source scripts/lib/perf_database.sh

tool_args=(--cache-sim=no)
if [ "${1:-}" = --callgrind ]; then
    export KR_VALGRIND_TOOL=callgrind
    tool_args=(--cache-sim=no --dump-instr=no)
    shift
fi
calls=${1:-500}
if ! [[ "$calls" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: test/perf/instructions.sh [--callgrind] [CALLS]" >&2
    exit 2
fi
kr_valgrind_bench instructions

echo "== loading the suite's database"
kr_suite_database "$work" 1

# call PATH I: the statement of call number I of PATH, then an empty line
# (which ends a command of postgres --single -j: one transaction per call).
call() {
    local customer
    customer="'cust-' || lpad(($2 % 1000 + 1)::text, 4, '0')"
    case $1 in
        dry_run) echo "SELECT kaireon_recommend(jsonb_build_object('customerId', $customer, 'flow', 'homepage',
  'context', '{\"channel\": \"web\"}'::jsonb, 'dryRun', true));" ;;
        recorded) echo "SELECT kaireon_recommend(jsonb_build_object('customerId', $customer, 'flow', 'homepage',
  'context', '{\"channel\": \"web\"}'::jsonb));" ;;
        respond) echo "SELECT kaireon_respond(jsonb_build_object('customerId', 'c' || $2 % 1000, 'offerId', 'o' || $2 % 5 + 1,
  'channel', 'web', 'outcome', 'impression', 'idempotencyKey', 'count-$2'));" ;;
        usage) echo "SELECT kaireon.report_usage('perf_unlimited');" ;;
    esac
    echo
}
script() {  # script PATH TENANT FROM TO
    echo "SET kaireon.tenant = '$2';"
    echo
    local i
    for ((i = $3; i <= $4; i++)); do call "$1" "$i"; done
}

echo "== ${KR_VALGRIND_TOOL:-cachegrind}: $calls calls of each path after the first ones (a few minutes)"
results=()
for path in dry_run recorded respond usage; do
    tenant=perf warm=300
    [ "$path" = respond ] && tenant=perfresp warm=2000
    script "$path" "$tenant" 1 "$warm" >"$work/$path-A.sql"
    script "$path" "$tenant" 1 $((warm + calls)) >"$work/$path-B.sql"
    kr_cachegrind_single "$path-A" "$work" "${tool_args[@]}" &
    kr_cachegrind_single "$path-B" "$work" "${tool_args[@]}" &
    wait
    for name in "$path-A" "$path-B"; do kr_cachegrind_kept "$name"; done
    a=$(awk '/^summary:/ {print $2}' "$work/$path-A.out")
    b=$(awk '/^summary:/ {print $2}' "$work/$path-B.out")
    results+=("$(printf '  %-10s %12s' "$path" "$(( (b - a) / calls ))")")
done
echo "instructions per call ($calls calls, each its own transaction):"
printf '%s\n' "${results[@]}"
if [ "${KR_VALGRIND_TOOL:-}" = callgrind ]; then
    echo "callgrind files in $out: callgrind_annotate --inclusive=yes PATH-B.out (A's warm-up calls included)"
else
    echo "cachegrind files in $out: cg_diff PATH-A.out PATH-B.out > d; cg_annotate d"
fi
