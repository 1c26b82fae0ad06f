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

# --- webhooks (docs/webhooks.md) ---------------------------------------------
# A local receiver that checks every signature, the deliverer daemon
# connected as a role that is only a member of kaireon_deliverer, the demo
# tenant's events delivered, then both stopped.
echo "== webhooks: delivering demo-bank's events to a local receiver"
cmake -S . -B build/core >/dev/null
cmake --build build/core --target kaireon_webhookd -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
hooks="$KR_CLUSTER_DIR/webhooks"
mkdir -p "$hooks"
/usr/bin/python3 test/cluster/webhook_receiver.py "$hooks/secrets.json" "$hooks/arrivals.jsonl" "$hooks/port" &
receiver_pid=$!
# The receiver must not outlive a failure of this section.
trap 'kill "$receiver_pid" 2>/dev/null || true; $keep || kr_cluster_stop' EXIT
for _ in $(seq 50); do [ -f "$hooks/port" ] && break; sleep 0.1; done
psql -qAtX -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_webhookd') THEN
        CREATE ROLE demo_webhookd LOGIN IN ROLE kaireon_deliverer;
    END IF;
END \$\$;
SQL
secret=$(psql -qAtX -v ON_ERROR_STOP=1 -d postgres -c "SET kaireon.tenant = 'demo-bank'" \
    -c "SELECT kaireon.add_webhook_endpoint('http://127.0.0.1:$(cat "$hooks/port")/demo') ->> 'secret'")
echo "{\"/demo\": \"$secret\"}" >"$hooks/secrets.json"
# An endpoint receives the events after it was added; the demo's history too here.
psql -qAtX -v ON_ERROR_STOP=1 -d postgres -c "UPDATE kaireon.webhook_endpoints SET start_seq = 0 WHERE tenant_id = 'demo-bank'"
build/core/kaireon_webhookd --dsn "host=$PGHOST port=$PGPORT dbname=postgres user=demo_webhookd" --worker demo \
    --once 2>"$hooks/daemon.log"
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "SET kaireon.tenant = 'demo-bank'" \
    -c "SELECT e.type, d.state, count(*) AS deliveries, max(d.attempts) AS max_attempts
        FROM kaireon.webhook_deliveries d JOIN kaireon.events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
        GROUP BY 1, 2 ORDER BY 1, 2"
/usr/bin/python3 -c '
import json, sys
arrivals = [json.loads(line) for line in open(sys.argv[1])]
signed = sum(1 for a in arrivals if a["signatureOk"])
attempts = sum(1 for line in open(sys.argv[2]) if "outcome=" in line)
print(f"The receiver got {len(arrivals)} requests, {signed} with a valid signature; the daemon logged {attempts} attempts.")' \
    "$hooks/arrivals.jsonl" "$hooks/daemon.log"
kill "$receiver_pid" 2>/dev/null || true
wait "$receiver_pid" 2>/dev/null || true
if $keep; then trap - EXIT; else trap kr_cluster_stop EXIT; fi
# --- end of webhooks ----------------------------------------------------------

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
