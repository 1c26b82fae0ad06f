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
# it once; --prepared does too: PREPARE once, then EXECUTE per call, what
# the suite's pgbench runs). Paths (test/perf/*.sql):
#
#   dry_run      decisions_d_dry_run.sql's call
#   recorded     decisions_c_recommend.sql's call
#   respond      respond_c_respond.sql's (a new idempotency key each; 2,000
#                first, so that the key table has grown as in a benchmark)
#   usage        usage_c_report.sql's
#   insert       the baseline of respond and the recorded decision: the
#                single-row INSERT of respond_a_insert.sql (2,000 first)
#   select       the baseline of the dry run: pgbench -S's primary-key SELECT
#   plain_sql_*  the same reads and writes in plain SQL (plain_sql_*.sql,
#                their pgbench variables from the call's number): what the
#                data model costs without kaireon
#
# The baselines are what the suite divides by: a path's instructions over
# its baseline's say how far the CPU alone puts it from its target ratio.
#
#   test/perf/instructions.sh [--callgrind] [--prepared] [CALLS]    (default 500; a minute or two here)
#
# Prints instructions per call; keeps the cachegrind files
# (build/instructions/*.out) for cg_diff and cg_annotate. --callgrind runs
# callgrind instead (about twice as long; its counts are within 0.2 % of
# cachegrind's), for callgrind_annotate --inclusive=yes: where the
# instructions go, by caller; it also prints what one call asks of
# PostgreSQL (callgrind's call counts per call: heap rows inserted and
# updated, index entries, index scan steps, partition routings, lock
# acquisitions), the work the targets' ratios are made of
# (docs/performance.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=../../scripts/lib/cluster.sh
source scripts/lib/cluster.sh
# shellcheck source=../../scripts/lib/license.sh
source scripts/lib/license.sh
# shellcheck source=../../scripts/lib/perf_database.sh
source scripts/lib/perf_database.sh

kr_valgrind_tool cachegrind
prepared=no
while [ $# -gt 0 ]; do
    case $1 in
        --callgrind) kr_valgrind_tool callgrind ;;
        --prepared) prepared=yes ;;
        *) break ;;
    esac
    shift
done
calls=${1:-500}
if [ $# -gt 1 ] || ! [[ "$calls" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: test/perf/instructions.sh [--callgrind] [--prepared] [CALLS]" >&2
    exit 2
fi
kr_valgrind_bench instructions

echo "== loading the suite's database"
kr_suite_database "$work" 1

# statement PATH N: the statement of PATH's call number N (an expression:
# a number, or $1 in a prepared statement).
statement() {
    local customer="'cust-' || lpad(($2 % 1000 + 1)::text, 4, '0')" key="'count-$2'"
    [ "$2" = '$1' ] && key="'count-' || \$1"  # the literal in a plain call, as before
    case $1 in
        dry_run) echo "SELECT kaireon_recommend(jsonb_build_object('customerId', $customer, 'flow', 'homepage',
  'context', '{\"channel\": \"web\"}'::jsonb, 'dryRun', true));" ;;
        recorded) echo "SELECT kaireon_recommend(jsonb_build_object('customerId', $customer, 'flow', 'homepage',
  'context', '{\"channel\": \"web\"}'::jsonb));" ;;
        respond) echo "SELECT kaireon_respond(jsonb_build_object('customerId', 'c' || $2 % 1000, 'offerId', 'o' || $2 % 5 + 1,
  'channel', 'web', 'outcome', 'impression', 'idempotencyKey', $key));" ;;
        usage) echo "SELECT kaireon.report_usage('perf_unlimited');" ;;
        insert) echo "INSERT INTO perf_responses (idempotency_key, customer_id, offer_id, outcome)
  VALUES ('1-' || $2, 'c' || $2 % 1000, 'o' || $2 % 5 + 1, 'impression');" ;;
        select) echo "SELECT abalance FROM pgbench_accounts WHERE aid = $2 * 7919 % 1000000 + 1;" ;;
        # The plain SQL's pgbench scripts (one statement, no empty line),
        # their variables from the call's number.
        plain_sql_*) sed -e '/^--/d' -e '/^\\set/d' -e 's/:client_id/1/g' -e "s/:r::bigint/($2)::bigint/g" \
                     -e "s/:n::text/(($2) % 1000 + 1)::text/g" "test/perf/$1.sql" ;;
    esac
}
# script PATH TENANT FROM TO: the calls, each followed by an empty line (which
# ends a command of postgres --single -j: one transaction per call); with
# --prepared, EXECUTEs of the statement prepared once, as pgbench -M prepared
# runs it (no parsing and planning per call).
script() {
    echo "SET kaireon.tenant = '$2';"
    echo
    if [ "$prepared" = yes ]; then
        echo "PREPARE call(int) AS $(statement "$1" '$1')"
        echo
    fi
    local i
    for ((i = $3; i <= $4; i++)); do
        if [ "$prepared" = yes ]; then echo "EXECUTE call($i);"; else statement "$1" "$i"; fi
        echo
    done
}

echo "== $KR_VALGRIND_TOOL: $calls calls of each path after the first ones (a few minutes)"
results=()
paths=(dry_run recorded respond usage insert select plain_sql_dry_run plain_sql_recommend plain_sql_respond
       plain_sql_usage)
for path in "${paths[@]}"; do
    tenant=perf warm=300
    [ "$path" = respond ] && tenant=perfresp warm=2000
    [ "$path" = insert ] || [ "$path" = plain_sql_respond ] && warm=2000
    script "$path" "$tenant" 1 "$warm" >"$work/$path-A.sql"
    script "$path" "$tenant" 1 $((warm + calls)) >"$work/$path-B.sql"
    difference=$(kr_instructions_between "$path-A" "$path-B")
    results+=("$(printf '  %-19s %12s' "$path" "$(( difference / calls ))")")
done
echo "instructions per call ($calls calls, each its own transaction$([ "$prepared" = yes ] && echo ', prepared')):"
printf '%s\n' "${results[@]}"
if [ "$KR_VALGRIND_TOOL" = callgrind ]; then
    # calls_of FILE: "function calls" for the functions below, summed over
    # their callers (callgrind_annotate's "> function (Nx)" lines).
    calls_of() {
        callgrind_annotate --tree=calling --inclusive=yes --threshold=100 "$1" 2>/dev/null |
            sed -nE 's/^ *[0-9,]+ +\([^)]*\) +> +\?\?\?:(heap_insert|heap_update|_bt_doinsert|index_getnext_slot|ExecFindPartition|LockAcquireExtended) \(([0-9,]+)x\).*/\1 \2/p' |
            tr -d , | awk '{n[$1] += $2} END {for (f in n) print f, n[f]}'
    }
    echo "what one call asks of PostgreSQL (callgrind's call counts, per call):"
    printf '  %-19s %8s %8s %8s %8s %8s %8s\n' path heap-ins heap-upd idx-ins idx-scan routed locks
    for path in "${paths[@]}"; do
        # shellcheck disable=SC2046,SC2183  # six numbers, split
        printf '  %-19s %8s %8s %8s %8s %8s %8s\n' "$path" $(
            awk -v calls="$calls" 'NR == FNR {a[$1] = $2; next} {b[$1] = $2}
                END {split("heap_insert heap_update _bt_doinsert index_getnext_slot ExecFindPartition LockAcquireExtended", f, " ");
                     for (i = 1; i <= 6; i++) printf "%.2f ", (b[f[i]] - a[f[i]]) / calls}' \
                <(calls_of "$out/$path-A.out") <(calls_of "$out/$path-B.out"))
    done
    echo "callgrind files in $out: callgrind_annotate --inclusive=yes PATH-B.out (A's warm-up calls included)"
else
    echo "cachegrind files in $out: cg_diff PATH-A.out PATH-B.out > d; cg_annotate d"
fi
