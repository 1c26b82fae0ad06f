#!/usr/bin/env bash
# Without shared_preload_libraries, kaireon refuses to load with a message
# that says what to do (it needs shared memory).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/cluster.sh
source "$here/scripts/lib/cluster.sh"
KR_PRELOAD="pg_cron" kr_cluster_start >/dev/null
trap kr_cluster_stop EXIT
out=$(psql -qX -d postgres -c "CREATE EXTENSION kaireon" 2>&1 || true)
if grep -q 'kaireon must be loaded via shared_preload_libraries' <<<"$out" && grep -q 'HINT:  Add kaireon to shared_preload_libraries' <<<"$out"; then
    echo "preload_required: refused with a clear message"
else
    echo "preload_required: unexpected answer:" >&2
    echo "$out" >&2
    exit 1
fi
