#!/usr/bin/env bash
# The tenant-sharded deployment (docs/scale-out.md): a router database with
# kaireon_router (PL/Proxy) and 3 shards with kaireon and kaireon_shard, each
# its own throw-away cluster on a loopback port. 30 tenants are placed on 8
# partitions through the directory, licensed and given a catalog through the
# router; 4 concurrent clients make decisions, responses and usage reports
# (with replays) through the router. Then it proves:
#   - every tenant's rows are on its shard only (every table registered in
#     kaireon.tenant_tables, on every shard);
#   - counts are exact per tenant (decisions = calls, responses and usage
#     counted once per idempotency key, usage totals = the sum reported);
#   - the shards saw the real caller (audit actors), never the router's link;
#   - the router refuses bad input with KR errors and changes nothing;
#   - with one shard stopped, its tenants get KR503 naming it, others go on.
# Self-contained: it starts and always removes its own 4 clusters.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/cluster.sh
source "$here/scripts/lib/cluster.sh"
# shellcheck source=../../scripts/lib/license.sh
source "$here/scripts/lib/license.sh"

psql_bin="$KR_PGBIN/psql"
[ -x "$psql_bin" ] || psql_bin=psql
started=$(date +%s)
work=$(mktemp -d /tmp/kaireon-scale.XXXXXX)
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

fail() {
    echo "scale_out: $*" >&2
    exit 1
}

# node_start NAME PRELOAD: a cluster in $work/NAME, its port in $work/NAME/port.
node_start() {
    local name=$1 preload=$2 dir="$work/$1" port attempt
    mkdir -p "$dir" && chmod 755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    kr_as_postgres "$KR_PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = '$preload'
max_connections = 60
fsync = off
full_page_writes = off
synchronous_commit = off
log_min_messages = warning
lc_messages = 'C'
include_if_exists = 'port.conf'
CONF
    for attempt in 1 2 3 4 5; do
        port=$(kr_free_port) || return 1
        echo "port = $port" >"$dir/data/port.conf"
        chown --reference="$dir/data" "$dir/data/port.conf" 2>/dev/null || true
        if kr_as_postgres "$KR_PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
            echo "$port" >"$dir/port"
            return 0
        fi
        grep -q 'could not bind' "$dir/server.log" || break
    done
    cat "$dir/server.log" >&2
    return 1
}

# q NODE [psql args...]: psql as postgres on NODE's database postgres.
q() {
    local node=$1
    shift
    "$psql_bin" -qXAt -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(cat "$work/$node/port")" -U postgres -d postgres "$@"
}

# The router does not need kaireon loaded (it holds no tenant data); shards do.
node_start router "" & pids+=($!)
for s in s1 s2 s3; do node_start "$s" kaireon & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid" || fail "a cluster did not start"; done
pids=()
echo "scale_out: [$(($(date +%s) - started)) s] router on $(cat "$work/router/port"), shards on $(cat "$work/s1/port") $(cat "$work/s2/port") $(cat "$work/s3/port")"

kr_demo_key "$work"
pem=$(cat "$work/demo-key.pub.pem")
tenants=()
for i in $(seq 1 30); do tenants+=("$(printf 't%02d' "$i")"); done
# 8 partitions dealt round-robin to s1 s2 s3: partition p is on shard 1 + p % 3.
# Tenant i is placed on partition (i - 1) % 8.
partition_of() { echo $((10#${1#t} - 1 & 7)); }
shard_of() { echo "s$((1 + $(partition_of "$1") % 3))"; }

# The shards: kaireon, the entry points, the roles, the licence key, a
# metered feature, and their tenants with the application's grant.
for s in s1 s2 s3; do
    {
        cat <<'SQL'
CREATE EXTENSION kaireon;
CREATE EXTENSION kaireon_shard;
ALTER ROLE kaireon_router_link LOGIN;
CREATE ROLE kr_scale_app LOGIN IN ROLE kaireon_app;
CREATE ROLE kr_scale_ops LOGIN IN ROLE kaireon_admin;
CREATE ROLE kr_scale_nogrant LOGIN IN ROLE kaireon_app;
GRANT kr_scale_app, kr_scale_ops, kr_scale_nogrant TO kaireon_router_link;
SELECT kaireon.add_license_key('scale-key', 'RS256', :'pem');
SELECT kaireon.define_feature('api_calls', 'numeric', '{"period": "month"}');
SELECT kaireon.set_plan_entitlement('professional', 'api_calls', '{"limit": 100000000}');
SQL
        for t in "${tenants[@]}"; do
            [ "$(shard_of "$t")" = "$s" ] || continue
            echo "SELECT kaireon.create_tenant('$t', 'Tenant $t', 'ops@$t.test');"
            echo "SELECT kaireon.grant_tenant('kr_scale_app', '$t');"
        done
    } | q "$s" -v pem="$pem" >/dev/null || fail "setting up shard $s failed"
done

# The router: PL/Proxy, kaireon_router, the same login roles, the map.
{
    cat <<'SQL'
CREATE EXTENSION plproxy;
CREATE EXTENSION kaireon_router;
CREATE ROLE kr_scale_app LOGIN IN ROLE kaireon_app;
CREATE ROLE kr_scale_ops LOGIN IN ROLE kaireon_admin;
CREATE ROLE kr_scale_nogrant LOGIN IN ROLE kaireon_app;
CREATE ROLE kr_scale_stranger LOGIN IN ROLE kaireon_app;
SQL
    for s in s1 s2 s3; do
        echo "SELECT kaireon_router.add_shard('$s', 'host=127.0.0.1 port=$(cat "$work/$s/port") dbname=postgres user=kaireon_router_link connect_timeout=2');"
    done
    echo "SELECT kaireon_router.create_partitions(8, ARRAY['s1', 's2', 's3']);"
    echo "SET ROLE kr_scale_ops;"
    for t in "${tenants[@]}"; do echo "SELECT kaireon_router.place_tenant('$t', $(partition_of "$t"));"; done
} | q router >/dev/null || fail "setting up the router failed"

got=$(q router -c "SELECT string_agg(tenant_id || '=' || shard, ' ' ORDER BY tenant_id) FROM kaireon_router.placements")
want=$(for t in "${tenants[@]}"; do printf '%s=%s ' "$t" "$(shard_of "$t")"; done | sed 's/ $//')
[ "$got" = "$want" ] || fail "the directory places tenants elsewhere: $got"

# Licences and catalogs, through the router as the administrator.
catalog='{"channels": [{"id": "web", "type": "web"}],
  "offers": [{"id": "gold", "priority": 80}, {"id": "silver", "priority": 40}],
  "creatives": [{"id": "gold-web", "offerId": "gold", "channelId": "web", "content": {"title": "Gold"}},
                {"id": "silver-web", "offerId": "silver", "channelId": "web", "content": {"title": "Silver"}}],
  "customers": [{"id": "c1"}, {"id": "c2"}],
  "outcomeTypes": [{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"}],
  "flows": [{"id": "home", "channelId": "web"}]}'
{
    echo "SET ROLE kr_scale_ops;"
    for t in "${tenants[@]}"; do
        echo "SELECT kaireon.install_license('$(kr_mint_license "$work/demo-key.pem" scale-key "$t" professional 30 "$t-lic")');"
        echo "SET kaireon.tenant = '$t';"
        echo "SELECT kaireon.apply_catalog(:'catalog');"
    done
} | q router -v catalog="$catalog" >/dev/null || fail "licensing or the catalogs through the router failed"

echo "scale_out: [$(($(date +%s) - started)) s] shards, router, directory, licences and catalogs set up"

# The clients: each makes, for every tenant and round, a decision, a
# response (and its replay) and a usage report (and its replay), as
# kr_scale_app through the router. Worker w reports w + r in round r.
workers=4 rounds=4
for w in $(seq 1 $workers); do
    {
        echo "SET ROLE kr_scale_app;"
        for r in $(seq 1 $rounds); do
            for t in "${tenants[@]}"; do
                cat <<SQL
SET kaireon.tenant = '$t';
SELECT kaireon_recommend('{"customerId": "c1", "flow": "home"}');
SELECT kaireon_respond('{"customerId": "c1", "offerId": "gold", "outcome": "impression", "idempotencyKey": "w$w-r$r"}');
SELECT kaireon_respond('{"customerId": "c1", "offerId": "gold", "outcome": "impression", "idempotencyKey": "w$w-r$r"}');
SELECT kaireon.report_usage('api_calls', $((w + r)), 'u-w$w-r$r');
SELECT kaireon.report_usage('api_calls', $((w + r)), 'u-w$w-r$r');
SQL
            done
        done
    } >"$work/client$w.sql"
    q router -f "$work/client$w.sql" >"$work/client$w.out" 2>&1 & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || { cat "$work"/client*.out | grep -m 5 ERROR >&2; fail "a client failed"; }; done
pids=()
echo "scale_out: [$(($(date +%s) - started)) s] $workers clients made $((workers * rounds * ${#tenants[@]} * 5)) calls through the router"
usage_sum=0
for w in $(seq 1 $workers); do for r in $(seq 1 $rounds); do usage_sum=$((usage_sum + w + r)); done; done
calls=$((workers * rounds))

# Every table with tenant rows, on every shard: the tenants found and their
# rows; then each tenant's counts on its own shard.
for s in s1 s2 s3; do
    q "$s" >"$work/rows_$s.txt" <<'SQL'
DO $$
DECLARE t regclass;
BEGIN
    CREATE TEMP TABLE kr_rows (table_name text, tenant_id text, n bigint);
    FOR t IN SELECT table_name FROM kaireon.tenant_tables LOOP
        EXECUTE format('INSERT INTO kr_rows SELECT %L, tenant_id, count(*) FROM %s GROUP BY 2', t, t);
    END LOOP;
END
$$;
SELECT DISTINCT tenant_id FROM kr_rows WHERE tenant_id <> '' ORDER BY 1;
SQL
    want=$(for t in "${tenants[@]}"; do if [ "$(shard_of "$t")" = "$s" ]; then echo "$t"; fi; done)
    [ "$(cat "$work/rows_$s.txt")" = "$want" ] ||
        fail "shard $s holds rows of tenants $(tr '\n' ' ' <"$work/rows_$s.txt"), not exactly its own: $(echo $want)"
    q "$s" >"$work/counts_$s.txt" <<SQL
SELECT t.tenant_id,
       (SELECT count(*) FROM kaireon.decisions d WHERE d.tenant_id = t.tenant_id) = $calls,
       (SELECT count(*) FROM kaireon.interactions i WHERE i.tenant_id = t.tenant_id) = $calls,
       (SELECT count(*) FROM kaireon.usage_events u WHERE u.tenant_id = t.tenant_id AND u.feature = 'api_calls') = $calls,
       (SELECT sum(value) FROM kaireon.usage_events u WHERE u.tenant_id = t.tenant_id AND u.feature = 'api_calls') = $usage_sum,
       (SELECT count(*) FROM kaireon.licenses l WHERE l.tenant_id = t.tenant_id) = 1,
       (SELECT count(*) FROM kaireon.offers o WHERE o.tenant_id = t.tenant_id) = 2
FROM kaireon.tenants t ORDER BY 1;
SELECT 'link actors', count(*) FROM kaireon.audit_log WHERE actor = 'kaireon_router_link';
SELECT 'ops actors', count(*) > 0 FROM kaireon.audit_log WHERE actor = 'kr_scale_ops';
SQL
    if grep -E '\|f' "$work/counts_$s.txt"; then
        fail "shard $s: counts are not exact (tenant | decisions | responses | usage reports | usage sum | licence | offers)"
    fi
    grep -qx 'link actors|0' "$work/counts_$s.txt" || fail "shard $s: audit records name the router's link role"
    grep -qx 'ops actors|t' "$work/counts_$s.txt" || fail "shard $s: no audit record names the administrator"
done
echo "scale_out: [$(($(date +%s) - started)) s] ${#tenants[@]} tenants, each only on its shard; $calls decisions, $calls responses, usage $usage_sum each, exact"

# The cross-tenant views merge the shards, each shard once (8 partitions on 3).
got=$(q router -c "SET ROLE kr_scale_ops" -c "SELECT count(*), count(DISTINCT tenant_id) FROM kaireon.tenants" \
    -c "SELECT sum(decisions) FROM kaireon.stats")
[ "$got" = "$(printf '30|30\n%s' $((30 * calls)))" ] || fail "the merged views answer $got"

# expect ROLE SQLSTATE PATTERN SQL...: the statement fails with SQLSTATE and
# a message matching PATTERN.
expect() {
    local role=$1 state=$2 pattern=$3 out
    shift 3
    if out=$(q router -v VERBOSITY=verbose -c "\\set VERBOSITY verbose" -c "SET ROLE $role" "$@" 2>&1); then
        fail "expected $state ($pattern), but it succeeded: $*"
    fi
    echo "$out" | grep -q "ERROR:  $state: .*$pattern" || fail "expected $state ($pattern), got: $out"
}
expect kr_scale_app KR400 'no tenant selected' -c "SELECT kaireon_recommend('{\"customerId\": \"c1\", \"flow\": \"home\"}')"
expect kr_scale_app KR403 'may not act on tenant "nope"' -c "SET kaireon.tenant = 'nope'" -c "SELECT kaireon.quota_status()"
expect kr_scale_ops KR400 'unknown tenant "nope"' -c "SET kaireon.tenant = 'nope'" -c "SELECT kaireon.quota_status()"
expect kr_scale_ops KR400 'unknown partition 8' -c "SELECT kaireon_router.place_tenant('t31', 8)"
expect kr_scale_ops KR400 'tenant must be 1 to 63' -c "SELECT kaireon_router.place_tenant('Bad!', 1)"
expect kr_scale_ops KR400 'already on partition 0' -c "SELECT kaireon_router.place_tenant('t01', 1)"
expect kr_scale_ops KR400 'power of two' -c "SELECT kaireon_router.create_partitions(6, ARRAY['s1'])"
expect kr_scale_ops KR400 'partitions already exist' -c "SELECT kaireon_router.create_partitions(8, ARRAY['s1'])"
expect kr_scale_ops KR400 'unknown shard "s9"' -c "SELECT kaireon_router.map_partition(0, 's9')"
expect kr_scale_ops KR400 'holds tenants' -c "SELECT kaireon_router.map_partition(0, 's2')"
# The automation API goes through the router too: an event is ingested on
# the tenant's shard, and the shard's refusal (journeys are enterprise; these
# tenants are professional) comes back as it is.
got=$(q router -c "SET ROLE kr_scale_app" -c "SET kaireon.tenant = 't01'" \
    -c "SELECT kaireon.ingest_event('c1', 'login', '{\"source\": \"scale\"}') ->> 'customerId'")
[ "$got" = "c1" ] || fail "ingest_event through the router answers $got"
# Reads go through it as well, answered by the tenant's shard as the caller.
got=$(q router -c "SET ROLE kr_scale_app" -c "SET kaireon.tenant = 't03'" \
    -c "SELECT kaireon.license_status() ->> 'tenant', kaireon.license_status() ->> 'tier', kaireon.has_feature('journeys'), kaireon.has_feature('pipelines.streaming')")
[ "$got" = "t03|professional|f|t" ] || fail "license_status/has_feature through the router answer $got"
got=$(q router -c "SET ROLE kr_scale_ops" -c "SET kaireon.tenant = 't04'" \
    -c "SELECT jsonb_array_length(kaireon.export_catalog() -> 'offers')")
[ "$got" = "2" ] || fail "export_catalog through the router answers $got"
expect kr_scale_app 42501 'permission denied for function export_catalog' -c "SET kaireon.tenant = 't04'" \
    -c "SELECT kaireon.export_catalog()"
expect kr_scale_app KR400 'experiment' -c "SET kaireon.tenant = 't04'" -c "SELECT kaireon.experiment_report('nope')"
expect kr_scale_app KR403 'feature "journeys"' -c "SET kaireon.tenant = 't01'" -c "SELECT kaireon.enroll_journey('c1', 'welcome')"
expect kr_scale_app KR400 'unknown customer "zz"' -c "SET kaireon.tenant = 't02'" \
    -c "SELECT kaireon.ingest_events('[{\"customerId\": \"zz\", \"eventType\": \"login\"}]')"
expect kr_scale_ops KR400 'already exists' -c "SELECT kaireon_router.add_shard('s1', 'host=x user=kaireon_router_link')"
expect kr_scale_ops KR400 'must name the user' -c "SELECT kaireon_router.add_shard('s4', 'host=x')"
expect kr_scale_ops KR401 'not a token' -c "SELECT kaireon.install_license('garbage')"
expect kr_scale_app 42501 'permission denied' -c "SELECT kaireon_router.place_tenant('t31', 1)"
expect kr_scale_app 42501 'permission denied' -c "SET kaireon.tenant = 't01'" -c "SELECT kaireon.apply_catalog('{}')"
expect kr_scale_app 42501 'permission denied' -c "SELECT kaireon_router.remote_quota_status('t01', 'kr_scale_ops')"
# The shard's own answers come back: a role without the tenant's grant, a
# role the shard does not know, a kaireon refusal.
expect kr_scale_nogrant KR403 'may not act on tenant "t01"' -c "SET kaireon.tenant = 't01'" -c "SELECT kaireon.quota_status()"
expect kr_scale_stranger KR400 'does not exist on this shard' -c "SET kaireon.tenant = 't01'" -c "SELECT kaireon.quota_status()"
expect kr_scale_app KR400 'customerId' -c "SET kaireon.tenant = 't01'" -c "SELECT kaireon_recommend('{}')"
got=$(q router -c "SELECT count(*), (SELECT version FROM kaireon_router.cluster_version) FROM kaireon_router.tenant_directory")
[ "$got" = "30|5" ] || fail "a refused call changed the directory or the map: $got"
echo "scale_out: [$(($(date +%s) - started)) s] the router's refusals are KR errors and change nothing"

# A stopped shard: its tenants get KR503 naming it, the others go on.
kr_as_postgres "$KR_PGBIN/pg_ctl" -D "$work/s3/data" -m fast stop >/dev/null
for t in "${tenants[@]}"; do
    if [ "$(shard_of "$t")" = s3 ]; then
        expect kr_scale_app KR503 "shard \"s3\" of tenant \"$t\" is unavailable" -c "SET kaireon.tenant = '$t'" \
            -c "SELECT kaireon.report_usage('api_calls', 1)"
    else
        q router -c "SET ROLE kr_scale_app" -c "SET kaireon.tenant = '$t'" \
            -c "SELECT kaireon_recommend('{\"customerId\": \"c2\", \"flow\": \"home\"}')" >/dev/null ||
            fail "tenant $t on $(shard_of "$t") failed while s3 was stopped"
    fi
done
expect kr_scale_ops KR503 'a shard is unavailable' -c "SELECT count(*) FROM kaireon.tenants"
echo "scale_out: [$(($(date +%s) - started)) s] with s3 stopped, its tenants get KR503 naming it; the others go on"
echo "scale_out: passed in $(($(date +%s) - started)) s"
