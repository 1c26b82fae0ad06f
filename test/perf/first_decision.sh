#!/usr/bin/env bash
# test/perf/first_decision.sh - the instructions of a tenant's first
# decision in a backend (it reads and compiles the tenant's catalog: the
# suite's row "first decision per tenant and backend", and what 8 new
# backends pay 100 times over in the 100-tenant runs), counted by valgrind on
# single-user backends: the same for every run of the same build.
#
# Uses the kaireon installed (make install first). As root: starts a
# throw-away cluster, loads the suite's database with 20 tenants of the demo
# catalog (test/perf/harness.py), stops it; backend A makes the first dry run
# of 1 tenant, B of TENANTS tenants in turn; (B - A) / (TENANTS - 1) is one
# first decision.
#
#   test/perf/first_decision.sh [--callgrind]    (about a minute)
#
# Keeps the files (build/first-decision/*.out); with --callgrind,
# callgrind_annotate --inclusive=yes B.out tells where they go.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=../../scripts/lib/cluster.sh
source scripts/lib/cluster.sh
# shellcheck source=../../scripts/lib/license.sh
source scripts/lib/license.sh
# shellcheck source=../../scripts/lib/perf_database.sh
source scripts/lib/perf_database.sh

case ${1:-} in
    --callgrind) kr_valgrind_tool callgrind ;;
    "") kr_valgrind_tool cachegrind ;;
    *) echo "usage: test/perf/first_decision.sh [--callgrind]" >&2; exit 2 ;;
esac
tenants=20
kr_valgrind_bench first-decision

echo "== loading $tenants tenants' catalogs"
kr_suite_database "$work" $((tenants + 1))

# first_decisions N: the first dry run of tenants perf001 .. perfN, each
# statement its own transaction.
first_decisions() {
    local i
    for ((i = 1; i <= $1; i++)); do
        printf "SET kaireon.tenant = 'perf%03d';\n\n" "$i"
        echo "SELECT kaireon_recommend(jsonb_build_object('customerId', 'cust-0001', 'flow', 'homepage',
  'context', '{\"channel\": \"web\"}'::jsonb, 'dryRun', true)) IS NOT NULL;"
        echo
    done
}
first_decisions 1 >"$work/A.sql"
first_decisions "$tenants" >"$work/B.sql"

echo "== $KR_VALGRIND_TOOL: first decisions of 1 and of $tenants tenants"
difference=$(kr_instructions_between A B)
echo "instructions per first decision of a tenant in a backend: $(( difference / (tenants - 1) ))"
echo "files in $out"
