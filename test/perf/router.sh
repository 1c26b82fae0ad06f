#!/usr/bin/env bash
# test/perf/router.sh - the scale-out router run (issue 16; docs/performance.md
# "Scale-out: the router run", docs/scale-out.md): how much the PL/Proxy
# router costs, and what several shards behind it give.
#
# Starts 4 throw-away clusters on this machine with the benchmark suite's
# durable settings (fsync, full_page_writes and synchronous_commit on,
# shared_buffers 512MB): a router (plproxy, kaireon_router) and shards s1, s2,
# s3 (kaireon preloaded, kaireon_shard). 30 tenants t01..t30, each with the
# demo catalog (100 offers, 1,000 customers) under an enterprise licence, in
# two layouts:
#
#   kr_one   on s1 only: all 30 tenants    (router database router_one)
#   kr_three on s1, s2, s3: 10 tenants each (router database router_three)
#
# Then test/perf/router_measure.py measures with pgbench, 8 clients, the
# same script in every configuration (a random tenant per transaction):
#
#   direct     the shard s1 (kr_one), no router: the baseline
#   1 shard    the router (router_one) with s1 (kr_one) behind it
#   3 shards   the router (router_three) with s1, s2, s3 (kr_three) behind it
#
# for kaireon_recommend (test/perf/router_recommend.sql) and
# kaireon.report_usage (test/perf/router_report_usage.sql), each 3 runs and
# the median, and the CPU each cluster spent per call. All clusters share
# this machine's cores, so 3 shards cannot give more throughput here than 1;
# the script prints a projection for shards on machines of their own.
# Checks afterwards that every decision and usage report pgbench committed is
# recorded exactly once, and only on its tenant's shard. Exits non-zero when
# a run failed or a check did not hold, never because of speed.
#
#   test/perf/router.sh [--quick] [--rows FILE] [--logs DIR]
#     --quick      recommend 20 s per run, report_usage 5 s (default 40 s, 20 s)
#     --rows FILE  also write the rows for test/perf/harness.py (--extra-rows)
#     --logs DIR   pgbench output (default build/perf-logs)
#
# Uses the kaireon installed (test/perf/run builds and installs it first).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/cluster.sh
source "$root/scripts/lib/cluster.sh"
# shellcheck source=../../scripts/lib/license.sh
source "$root/scripts/lib/license.sh"

usage() {
    echo "usage: test/perf/router.sh [--quick] [--rows FILE] [--logs DIR]" >&2
    exit 2
}
quick=()
rows_file=""
logs="$root/build/perf-logs"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=(--quick); shift ;;
        --rows) if [ $# -lt 2 ] || [ -z "$2" ]; then usage; fi; rows_file=$2; shift 2 ;;
        --logs) if [ $# -lt 2 ] || [ -z "$2" ]; then usage; fi; logs=$2; shift 2 ;;
        *) usage ;;
    esac
done
for tool in pgbench psql; do
    command -v "$tool" >/dev/null || { echo "router.sh: $tool is not installed" >&2; exit 1; }
done
[ -f /usr/share/postgresql/15/extension/plproxy.control ] ||
    { echo "router.sh: PL/Proxy is not installed (postgresql-15-plproxy; test/perf/run installs it)" >&2; exit 1; }
[ -f /usr/share/postgresql/15/extension/kaireon_router.control ] ||
    { echo "router.sh: kaireon_router is not installed (make install)" >&2; exit 1; }
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)

started=$(date +%s)
work=$(mktemp -d /tmp/kaireon-perf-router.XXXXXX)
chmod 755 "$work"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work"; fi
nodes=(router s1 s2 s3)
pids=()
cleanup() {
    local pid node
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for node in "${nodes[@]}"; do
        [ -d "$work/$node/data" ] &&
            kr_as_postgres "$KR_PGBIN/pg_ctl" -D "$work/$node/data" -m immediate stop >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
say() { echo "router.sh: [$(($(date +%s) - started)) s] $*"; }
fail() {
    echo "router.sh: $*" >&2
    exit 1
}

# The benchmark suite's settings (test/perf/run), on every node alike.
durable=("fsync = on" "full_page_writes = on" "synchronous_commit = on" "shared_buffers = '512MB'"
         "max_wal_size = '4GB'")
kr_node_start "$work" router "" "${durable[@]}" & pids+=($!)
for s in s1 s2 s3; do kr_node_start "$work" "$s" kaireon "${durable[@]}" & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid" || fail "a cluster did not start"; done
pids=()
port() { cat "$work/$1/port"; }
say "router on $(port router), shards s1 s2 s3 on $(port s1) $(port s2) $(port s3)"

# q NODE DB [psql args...]: psql as postgres.
q() {
    local node=$1 db=$2
    shift 2
    psql -qXAt -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port "$node")" -U postgres -d "$db" "$@"
}

tenants=()
for i in $(seq 1 30); do tenants+=("$(printf 't%02d' "$i")"); done
# In kr_three, tenant i is on shard s(1 + (i - 1) % 3), through partition
# (i - 1) % 3 of 8 dealt round-robin to s1 s2 s3 (partition p is on 1 + p % 3).
partition_of() { echo $(((10#${1#t} - 1) % 3)); }
shard_of() { echo "s$((1 + $(partition_of "$1")))"; }

kr_demo_key "$work"
pem=$(cat "$work/demo-key.pub.pem")
declare -A license
for t in "${tenants[@]}"; do license[$t]=$(kr_mint_license "$work/demo-key.pem" perf-key "$t" enterprise 30); done

# shard_db NODE DB TENANT...: database DB on NODE with kaireon and
# kaireon_shard, the application role (which the router's link may act as),
# and the tenants: each licensed, granted, with the demo catalog.
shard_db() {
    local node=$1 db=$2 t
    shift 2
    q "$node" postgres -c "CREATE DATABASE $db" >/dev/null
    {
        cat <<'SQL'
CREATE EXTENSION kaireon;
CREATE EXTENSION kaireon_shard;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kr_perf_app') THEN
        CREATE ROLE kr_perf_app LOGIN IN ROLE kaireon_app;
    END IF;
END
$$;
ALTER ROLE kaireon_router_link LOGIN;
GRANT kr_perf_app TO kaireon_router_link;
SELECT kaireon.add_license_key('perf-key', 'RS256', :'pem') IS NOT NULL;
-- report_usage's feature: a sum without a limit (as in harness.py).
SELECT kaireon.define_feature('perf_unlimited', 'numeric', '{"aggregation": "sum", "period": "month"}') IS NOT NULL;
SELECT kaireon.set_plan_entitlement('enterprise', 'perf_unlimited', '{"limit": null}') IS NOT NULL;
SQL
        for t in "$@"; do
            echo "SELECT kaireon.create_tenant('$t', 'Tenant $t', 'perf@example.test') IS NOT NULL;"
            echo "SELECT kaireon.grant_tenant('kr_perf_app', '$t');"
            echo "SET kaireon.tenant = '$t';"
            echo "SELECT kaireon.install_license('${license[$t]}') ->> 'state';"
        done
        # The demo catalog once, copied to the other tenants.
        echo "SET kaireon.tenant = '$1';"
        echo "\\i $root/demo/catalog.sql"
        echo "CREATE TEMP TABLE doc AS SELECT kaireon.export_catalog() AS d;"
        for t in "${@:2}"; do
            echo "SET kaireon.tenant = '$t';"
            echo "SELECT kaireon.apply_catalog(d) IS NOT NULL FROM doc;"
        done
        echo "VACUUM ANALYZE;"
    } | q "$node" "$db" -v pem="$pem" >"$work/setup-$node-$db.log" 2>&1 ||
        { cat "$work/setup-$node-$db.log" >&2; return 1; }
}
on_shard() {
    local t
    for t in "${tenants[@]}"; do if [ "$(shard_of "$t")" = "$1" ]; then echo "$t"; fi; done
}
# s1's two databases one after the other: CREATE EXTENSION creates the
# cluster's kaireon roles, which two databases cannot do at the same time.
mapfile -t on_s1 < <(on_shard s1)
{ shard_db s1 kr_one "${tenants[@]}" && shard_db s1 kr_three "${on_s1[@]}"; } & pids+=($!)
for s in s2 s3; do
    mapfile -t on_s < <(on_shard "$s")
    shard_db "$s" kr_three "${on_s[@]}" & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "setting up a shard failed"; done
pids=()

# router_db DB SHARD_DB SHARD...: a router database whose directory places
# every tenant on partition (i - 1) % 3 of 8, the partitions dealt to SHARDs.
router_db() {
    local db=$1 shard_db=$2 s t shard_list
    shift 2
    shard_list=$(printf "'%s', " "$@")
    q router postgres -c "CREATE DATABASE $db" >/dev/null
    {
        cat <<'SQL'
CREATE EXTENSION plproxy;
CREATE EXTENSION kaireon_router;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kr_perf_app') THEN
        CREATE ROLE kr_perf_app LOGIN IN ROLE kaireon_app;
    END IF;
END
$$;
SQL
        for s in "$@"; do
            echo "SELECT kaireon_router.add_shard('$s', 'host=127.0.0.1 port=$(port "$s") dbname=$shard_db user=kaireon_router_link connect_timeout=2') IS NOT NULL;"
        done
        echo "SELECT kaireon_router.create_partitions(8, ARRAY[${shard_list%, }]) IS NOT NULL;"
        for t in "${tenants[@]}"; do echo "SELECT kaireon_router.place_tenant('$t', $(partition_of "$t")) IS NOT NULL;"; done
    } | q router "$db" >"$work/setup-router-$db.log" 2>&1 || { cat "$work/setup-router-$db.log" >&2; return 1; }
}
router_db router_one kr_one s1 || fail "setting up router_one failed"
router_db router_three kr_three s1 s2 s3 || fail "setting up router_three failed"
got=$(q router router_three -c "SELECT string_agg(tenant_id || '=' || shard, ' ' ORDER BY tenant_id) FROM kaireon_router.placements")
want=$(for t in "${tenants[@]}"; do printf '%s=%s ' "$t" "$(shard_of "$t")"; done | sed 's/ $//')
[ "$got" = "$want" ] || fail "router_three places tenants elsewhere: $got"
[ "$(q router router_one -c "SELECT count(*) FILTER (WHERE shard = 's1') || '/' || count(*) FROM kaireon_router.placements")" = 30/30 ] ||
    fail "router_one does not place the 30 tenants on s1"
say "s1 holds kr_one (30 tenants) and kr_three ($(on_shard s1 | wc -l)); s2, s3 kr_three ($(on_shard s2 | wc -l), $(on_shard s3 | wc -l)); routers set up"

python3 "$root/test/perf/router_measure.py" "${quick[@]}" --work "$work" --logs "$logs" ${rows_file:+--rows "$rows_file"} ||
    fail "the router run failed (see above)"
say "done"
