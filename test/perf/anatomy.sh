#!/usr/bin/env bash
# test/perf/anatomy.sh - what each part of a call costs (docs/performance.md,
# "The same rows in plain SQL, and why the ratio targets are out of reach
# here"): on a throw-away cluster with the suite's settings (test/perf/run),
# a ladder of statements from the single-row INSERT and select-only
# baselines to kaireon's paths, each adding one thing (more WAL, more
# indexes, a second row, the API's JSON, the spec's rows; anatomy_*.sql,
# plain_sql_*.sql), in rounds with them; then what the backends wait for
# during the write paths. Uses the kaireon installed (make install first).
# A benchmark: prints, never fails on speed. About 6 minutes.
#
#   test/perf/anatomy.sh [SECONDS]    (per pgbench run; default 5)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=../../scripts/lib/cluster.sh
source scripts/lib/cluster.sh
# shellcheck source=../../scripts/lib/license.sh
source scripts/lib/license.sh
# shellcheck source=../../scripts/lib/perf_database.sh
source scripts/lib/perf_database.sh
seconds=${1:-5}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: test/perf/anatomy.sh [SECONDS]" >&2
    exit 2
fi
work=$(mktemp -d)
chmod 755 "$work"
kr_cluster_start
trap 'kr_cluster_stop; rm -rf "$work"' EXIT
kr_suite_settings
kr_demo_key "$work"
kr_mint_license "$work/demo-key.pem" perf-key perf enterprise 30 >"$work/licenses"
/usr/bin/python3 "$root/test/perf/anatomy.py" --public-key "$work/demo-key.pub.pem" --licenses "$work/licenses" \
    --logs "$root/build/perf-logs/anatomy" --seconds "$seconds"
