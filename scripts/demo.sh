#!/usr/bin/env bash
# scripts/demo.sh - the kaireon demo on a fresh Debian 12 machine (as root):
# installs what is missing, builds and installs the extension, starts a
# throw-away cluster with shared_preload_libraries = 'kaireon, pg_cron',
# loads the demo tenant and shows what a client sees. The cluster is removed
# at the end; with --keep it stays up and the script prints how to connect.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=lib/deps.sh
source scripts/lib/deps.sh
# shellcheck source=lib/cluster.sh
source scripts/lib/cluster.sh
# shellcheck source=lib/license.sh
source scripts/lib/license.sh

keep=false
[ "${1:-}" = "--keep" ] && keep=true

kr_install_deps
echo "== building and installing kaireon"
make -s -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
make -s install >/dev/null

kr_cluster_start
if ! $keep; then trap kr_cluster_stop EXIT; fi

echo "== minting the demo's enterprise licence with a demo key"
kr_demo_key "$KR_CLUSTER_DIR"
demo_license=$(kr_mint_license "$KR_CLUSTER_DIR/demo-key.pem" demo-key demo-bank enterprise 365)

echo "== loading the demo tenant"
psql -qX -v ON_ERROR_STOP=1 -d postgres -v demo_public_key="$(cat "$KR_CLUSTER_DIR/demo-key.pub.pem")" \
    -v demo_license="$demo_license" -f demo/demo.sql

# The usage dashboard as a page to open in a browser.
mkdir -p build
report="$root/build/demo-usage-report.html"
psql -qAtX -v ON_ERROR_STOP=1 -d postgres -c "SET kaireon.tenant = 'demo-bank'" \
    -c "SELECT kaireon.usage_report_html()" >"$report"
echo
echo "The usage report (HTML, one self-contained page): $report"

if $keep; then
    echo
    echo "The cluster keeps running. Connect with:"
    echo "  psql -h $PGHOST -p $PGPORT -U postgres postgres"
    echo "Stop it with:"
    echo "  runuser -u postgres -- $KR_PGBIN/pg_ctl -D $KR_CLUSTER_DIR/data stop && rm -rf $KR_CLUSTER_DIR"
fi
