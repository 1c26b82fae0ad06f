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

# q NODE [psql args...]: psql as postgres on NODE's database postgres
# (KR_DB=name q ...: on that database).
q() {
    local node=$1
    shift
    "$psql_bin" -qXAt -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(cat "$work/$node/port")" -U postgres -d "${KR_DB:-postgres}" "$@"
}

# The router does not need kaireon loaded (it holds no tenant data); shards do.
# Each node in $work/NODE, its port in $work/NODE/port (kr_node_start).
kr_node_start "$work" router "" & pids+=($!)
for s in s1 s2 s3; do kr_node_start "$work" "$s" kaireon & pids+=($!); done
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
# router_map [TENANT PARTITION]: the statements that make the map and place
# the tenants (one tenant elsewhere when named), after the extensions.
router_extensions() { printf 'CREATE EXTENSION plproxy;\nCREATE EXTENSION kaireon_router;\n'; }
router_map() {
    for s in s1 s2 s3; do
        echo "SELECT kaireon_router.add_shard('$s', 'host=127.0.0.1 port=$(cat "$work/$s/port") dbname=postgres user=kaireon_router_link connect_timeout=2');"
    done
    echo "SELECT kaireon_router.create_partitions(8, ARRAY['s1', 's2', 's3']);"
    echo "SET ROLE kr_scale_ops;"
    for t in "${tenants[@]}"; do
        if [ "$t" = "${1:-}" ]; then
            echo "SELECT kaireon_router.place_tenant('$t', $2);"
        else
            echo "SELECT kaireon_router.place_tenant('$t', $(partition_of "$t"));"
        fi
    done
}
{
    router_extensions
    cat <<'SQL'
CREATE ROLE kr_scale_app LOGIN IN ROLE kaireon_app;
CREATE ROLE kr_scale_ops LOGIN IN ROLE kaireon_admin;
CREATE ROLE kr_scale_nogrant LOGIN IN ROLE kaireon_app;
CREATE ROLE kr_scale_stranger LOGIN IN ROLE kaireon_app;
SQL
    router_map
} | q router >/dev/null || fail "setting up the router failed"
# A second router (a database of its own on the router's cluster), which
# places t30 elsewhere until it is put in step before the move below.
q router -c "CREATE DATABASE router2" >/dev/null
{ router_extensions; router_map t30 $(( ($(partition_of t30) + 1) % 8 )); } | KR_DB=router2 q router >/dev/null ||
    fail "setting up the second router failed"
# Nothing of kaireon_router is PUBLIC's (functions are, by default).
got=$(q router -c "SELECT string_agg(p.oid::regprocedure::text, ' ') FROM pg_proc p
    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'kaireon_router'
    WHERE EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0)")
[ -z "$got" ] || fail "kaireon_router functions PUBLIC may execute: $got"

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
# Eligibility, overrides and the audit trail: answered by the tenant's shard
# as the caller; an override set through the router is the shard's, and so
# is its audit record.
got=$(q router -c "SET ROLE kr_scale_app" -c "SET kaireon.tenant = 't05'" \
    -c "SELECT count(*), count(*) FILTER (WHERE eligible) FROM kaireon.check_eligibility('c1')")
[ "$got" = "2|2" ] || fail "check_eligibility through the router answers $got"
got=$(q router -c "SET ROLE kr_scale_ops" -c "SET kaireon.tenant = 't05'" \
    -c "SELECT kaireon.set_override('journeys', '{\"enabled\": true}') IS NOT NULL" \
    -c "SELECT kaireon.has_feature('journeys')" -c "SELECT kaireon.clear_override('journeys')" \
    -c "SELECT kaireon.has_feature('journeys')" \
    -c "SELECT count(*) > 0, bool_and(a.tenant_id = 't05') FROM kaireon.audit_trail(tenant_id => 't05') a")
[ "$got" = "$(printf 't\nt\nt\nf\nt|t')" ] || fail "overrides and audit_trail through the router answer $got"
got=$(q "$(q router -c "SELECT shard FROM kaireon_router.placements WHERE tenant_id = 't05'")" \
    -c "SELECT count(*) FROM kaireon.audit_log WHERE tenant_id = 't05' AND action LIKE '%override%'")
[ "$got" -ge 2 ] || fail "t05's shard holds $got audit records of its override, not 2 or more"
expect kr_scale_app 42501 'permission denied for function set_override' -c "SET kaireon.tenant = 't05'" \
    -c "SELECT kaireon.set_override('journeys', '{\"enabled\": true}')"
expect kr_scale_ops KR400 'consumer' -c "SET kaireon.tenant = 't05'" -c "SELECT * FROM kaireon.fetch_events('nope')"
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

# Moving a tenant: t01 goes from partition 0 (s1) to partition 1 (s2) with
# scripts/move_tenant.sh while clients keep calling through the router.
# Before the move it gets an event consumer part-way through the outbox, a
# webhook endpoint with planned and unplanned deliveries, and a sealed audit
# chain. Proves: every row comes across unchanged (fingerprints of every
# tenant table, the renumbered outbox columns aside), calls during the move
# get KR503 TENANT_MOVING and succeed on retry, counts stay exact, replays of
# old idempotency keys are still replays, the consumer resumes where it was,
# nothing is planned twice for the webhook, the audit chain verifies and goes
# on, and the source keeps only the audit trail and the mark of the move.
# With two routers: the script refuses while their maps differ (nothing
# frozen), and switches both.
q s1 >/dev/null <<'SQL'
SET kaireon.tenant = 't01';
SELECT kaireon.create_event_consumer('mover-check', NULL, true);
SELECT kaireon.ack_events('mover-check', (SELECT max(f.seq) FROM kaireon.fetch_events('mover-check', 2) f));
SELECT kaireon.add_webhook_endpoint('https://hooks.t01.test/in');
SQL
# s2 numbers its outbox first, so t01's numbers from s1 are taken there.
q s2 -c "SELECT kaireon.plan_webhook_deliveries()" >/dev/null
[ "$(q s2 -c "SELECT kaireon._last_event_seq() > 10")" = t ] || fail "s2 has numbered too few events for the move to renumber t01's"
endpoint_mark=$(q s1 -c "SELECT max(id) FROM kaireon.events WHERE tenant_id = 't01'")
q s1 -v lic1="$(kr_mint_license "$work/demo-key.pem" scale-key t01 professional 30 t01-lic2)" \
    -v lic2="$(kr_mint_license "$work/demo-key.pem" scale-key t01 professional 30 t01-lic3)" >/dev/null <<'SQL'
SELECT kaireon.install_license(:'lic1');
SELECT kaireon.plan_webhook_deliveries();
SELECT kaireon.seal_audit();
SELECT kaireon.install_license(:'lic2');
SQL
# fingerprints NODE: per table, t01's row count and a digest of its rows
# (the move renumbers events.seq and what follows it; audit records past
# the last one before the move are checked apart).
fingerprints() {
    q "$1" -v bound="$audit_bound" <<'SQL'
SET kr.audit_bound = :'bound';
DO $$
DECLARE t regclass; cols text;
BEGIN
    CREATE TEMP TABLE kr_fp (table_name text, n bigint, fp text);
    FOR t IN SELECT tt.table_name FROM kaireon.tenant_tables tt
             WHERE tt.table_name NOT IN ('kaireon.audit_chain_state'::regclass, 'kaireon.tenant_moves'::regclass)
             UNION ALL SELECT 'kaireon.tenants'::regclass LOOP
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a WHERE a.attrelid = t AND a.attnum > 0 AND NOT a.attisdropped
          AND NOT (t::text || '.' || a.attname = ANY (ARRAY['kaireon.events.seq', 'kaireon.webhook_deliveries.event_seq',
                                                            'kaireon.webhook_endpoints.start_seq', 'kaireon.event_consumers.position']));
        EXECUTE format('INSERT INTO kr_fp SELECT %L, count(*), md5(coalesce(string_agg(r::text, %L ORDER BY r::text), %L)) '
                       'FROM (SELECT %s FROM %s WHERE tenant_id = %L %s) r', t, '|', '', cols, t, 't01',
                       CASE WHEN t = 'kaireon.audit_log'::regclass
                            THEN format('AND id <= %s', current_setting('kr.audit_bound')) ELSE '' END);
    END LOOP;
END
$$;
SELECT table_name, n, fp FROM kr_fp ORDER BY 1;
SQL
}
audit_bound=$(q s1 -c "SELECT max(id) FROM kaireon.audit_log WHERE tenant_id = 't01'")
fingerprints s1 >"$work/fp_before.txt"
grep -q '^kaireon.webhook_deliveries|[1-9]' "$work/fp_before.txt" || fail "t01 has no planned webhook deliveries before the move"
grep -q '^kaireon.audit_seals|[1-9]' "$work/fp_before.txt" || fail "t01 has no audit seals before the move"
q s1 -c "SET kaireon.tenant = 't01'" -c "SELECT f.id FROM kaireon.fetch_events('mover-check', 1000) f ORDER BY f.seq" >"$work/unacked_before.txt"
[ -s "$work/unacked_before.txt" ] || fail "t01's consumer has nothing left to read before the move"
after_endpoint=$(q s1 -c "SELECT string_agg(e.id::text, ' ' ORDER BY e.id) FROM kaireon.events e
    WHERE e.tenant_id = 't01' AND e.id > $endpoint_mark")
[ "$(q s1 -c "SELECT count(*) FROM kaireon.webhook_deliveries WHERE tenant_id = 't01'")" -lt "$(echo "$after_endpoint" | wc -w)" ] ||
    fail "every event of t01 after its endpoint is planned already on s1; the move would not show unplanned ones"

# The clients during the move: 25 usage reports for t01 (retried on KR503),
# and decisions for t02 (s2) and t03 (s3), which must never fail.
moving_client() {
    local i out tries retries=0
    for i in $(seq 1 25); do
        tries=0
        until out=$(q router -c "SET ROLE kr_scale_app" -c "SET kaireon.tenant = 't01'" \
                        -c "SELECT kaireon.report_usage('api_calls', 2, 'mv-$i')" 2>&1); do
            echo "$out" | grep -q 'TENANT_MOVING\|is being moved\|has moved' || { echo "call $i: $out"; return 1; }
            tries=$((tries + 1)) retries=$((retries + 1))
            [ $tries -lt 400 ] || { echo "call $i: still refused after 400 tries"; return 1; }
            sleep 0.05
        done
    done
    echo "retries=$retries"
}
bystander_client() {
    local i t
    for i in $(seq 1 25); do
        for t in t02 t03; do
            q router -c "SET ROLE kr_scale_app" -c "SET kaireon.tenant = '$t'" \
                -c "SELECT kaireon_recommend('{\"customerId\": \"c2\", \"flow\": \"home\"}')" >/dev/null || return 1
        done
    done
}
moving_client >"$work/moving.out" 2>&1 & mover_pid=$!
bystander_client >"$work/bystander.out" 2>&1 & bystander_pid=$!
sleep 0.3
conn() { echo "host=127.0.0.1 port=$(cat "$work/$1/port") dbname=${3:-postgres} user=$2"; }
# Routers that do not route alike: the move refuses before freezing.
if KR_PGBIN=${KR_PGBIN:-} "$here/scripts/move_tenant.sh" --router "$(conn router kr_scale_ops)" \
    --router "$(conn router kr_scale_ops router2)" --source "$(conn s1 postgres)" --target "$(conn s2 postgres)" \
    t01 1 >"$work/move_refused.out" 2>&1; then
    fail "the move went ahead with routers whose maps differ"
fi
grep -q "the routers' maps differ (router 2 of 2 against router 1" "$work/move_refused.out" ||
    { cat "$work/move_refused.out" >&2; fail "the move with differing routers failed otherwise"; }
[ "$(q s1 -c "SELECT count(*) FROM kaireon.tenant_moves WHERE tenant_id = 't01'")" = 0 ] ||
    fail "the refused move froze t01"
KR_DB=router2 q router -c "SET ROLE kr_scale_ops" -c "SELECT kaireon_router.relocate_tenant('t30', $(partition_of t30))" >/dev/null
[ "$(q router -c "SELECT kaireon_router.map_digest()")" = "$(KR_DB=router2 q router -c "SELECT kaireon_router.map_digest()")" ] ||
    fail "the second router is not in step after relocating t30"
KR_PGBIN=${KR_PGBIN:-} "$here/scripts/move_tenant.sh" --router "$(conn router kr_scale_ops)" \
    --router "$(conn router kr_scale_ops router2)" \
    --source "$(conn s1 postgres)" --target "$(conn s2 postgres)" t01 1 >"$work/move.out" 2>&1 ||
    { cat "$work/move.out" >&2; fail "moving t01 failed"; }
wait "$mover_pid" || { cat "$work/moving.out" >&2; fail "a call for t01 failed during the move"; }
wait "$bystander_pid" || { cat "$work/bystander.out" >&2; fail "a call for another tenant failed during the move"; }
echo "scale_out: [$(($(date +%s) - started)) s] moved t01 from s1 to s2 ($(grep -o 'retries=[0-9]*' "$work/moving.out") during the freeze): $(tail -n 1 "$work/move.out" | sed 's/^move_tenant: //')"

fingerprints s2 >"$work/fp_after.txt"
diff "$work/fp_before.txt" "$work/fp_after.txt" >"$work/fp.diff" &&
    fail "t01's rows on s2 equal the ones before the move, although 25 reports were added"
# Only the usage of the 25 reports (and what counts it) may differ.
changed=$(awk -F'|' '/^[<>]/ {print $1}' "$work/fp.diff" | tr -d '<> ' | sort -u | tr '\n' ' ')
[ "$changed" = "kaireon.usage_events kaireon.usage_idempotency kaireon.usage_rollups " ] ||
    { cat "$work/fp.diff" >&2; q s2 -c "SELECT action, count(*) FROM kaireon.audit_log WHERE tenant_id = 't01' GROUP BY 1 ORDER BY 1" >&2;
      fail "t01's rows changed in the move beyond its usage reports: $changed"; }
got=$(q s2 -c "SELECT string_agg(action || ' ' || n, ', ' ORDER BY action) FROM (SELECT action, count(*) AS n FROM kaireon.audit_log
    WHERE tenant_id = 't01' AND id > $audit_bound GROUP BY 1) a")
[ "$got" = "tenant.frozen 1, tenant.moved_in 1, usage.reported 25" ] || fail "t01's audit records since the move start: $got"
# Old idempotency keys are still replays on the new shard; the outbox, the
# consumer and the webhook pick up where they were; the chain verifies.
got=$(q router -c "SET ROLE kr_scale_app" -c "SET kaireon.tenant = 't01'" \
    -c "SELECT kaireon_respond('{\"customerId\": \"c1\", \"offerId\": \"gold\", \"outcome\": \"impression\", \"idempotencyKey\": \"w1-r1\"}') ->> 'duplicate'" \
    -c "SELECT kaireon.report_usage('api_calls', 2, 'u-w1-r1') IS NOT NULL" \
    -c "SELECT kaireon_recommend('{\"customerId\": \"c1\", \"flow\": \"home\"}') IS NOT NULL")
[ "$got" = "$(printf 'true\nt\nt')" ] || fail "replays or a decision on t01 after the move answer: $got"
got=$(q s2 -c "SELECT count(*) FROM kaireon.interactions WHERE tenant_id = 't01'" -c "SELECT count(*) FROM kaireon.decisions WHERE tenant_id = 't01'")
[ "$got" = "$(printf '%s\n%s' "$calls" $((calls + 1)))" ] || fail "t01's responses and decisions on s2 are $got"
got=$(q s2 -c "SELECT count(*), sum(value) FROM kaireon.usage_events WHERE tenant_id = 't01' AND feature = 'api_calls'")
[ "$got" = "$((calls + 25))|$((usage_sum + 50))" ] || fail "t01's usage after the move is $got, not $((calls + 25))|$((usage_sum + 50))"
# Both routers were switched: they route alike, and the second one reaches
# t01 on s2 (a replay there; s1 would answer "has moved").
[ "$(q router -c "SELECT kaireon_router.map_digest()")" = "$(KR_DB=router2 q router -c "SELECT kaireon_router.map_digest()")" ] ||
    fail "the routers' maps differ after the move"
got=$(KR_DB=router2 q router -c "SET ROLE kr_scale_app" -c "SET kaireon.tenant = 't01'" \
    -c "SELECT kaireon.report_usage('api_calls', 2, 'u-w1-r1') ->> 'entitlement'" 2>&1) ||
    fail "the second router does not reach t01 after the move: $got"
[ "$got" = api_calls ] || fail "a replay through the second router answers $got"
# Read through the router, which now sends t01 to s2.
q router -c "SET ROLE kr_scale_ops" -c "SET kaireon.tenant = 't01'" \
    -c "SELECT f.id FROM kaireon.fetch_events('mover-check', 1000) f ORDER BY f.seq" >"$work/unacked_after.txt"
[ "$(head -n "$(wc -l <"$work/unacked_before.txt")" "$work/unacked_after.txt")" = "$(cat "$work/unacked_before.txt")" ] ||
    fail "t01's consumer does not resume where it was: before $(tr '\n' ' ' <"$work/unacked_before.txt"), after $(tr '\n' ' ' <"$work/unacked_after.txt")"
q s2 -c "SELECT kaireon.plan_webhook_deliveries()" >/dev/null
got=$(q s2 -c "SELECT string_agg(d.event_id::text, ' ' ORDER BY d.event_id) FROM kaireon.webhook_deliveries d
    WHERE d.tenant_id = 't01' AND d.event_id <= $(echo "$after_endpoint" | awk '{print $NF}')")
[ "$got" = "$after_endpoint" ] ||
    fail "t01's webhook deliveries after the move are for events $got, not exactly once for each event after the endpoint: $after_endpoint"
got=$(q s2 -c "SELECT count(*) FROM kaireon.webhook_deliveries d JOIN kaireon.events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
    WHERE d.tenant_id = 't01' AND d.event_seq <> e.seq")
[ "$got" = 0 ] || fail "$got of t01's deliveries keep the source's outbox numbers"
got=$(q s2 -c "SELECT (kaireon.seal_audit() ->> 'sealed')::int > 0" -c "SELECT kaireon.verify_audit('t01') ->> 'valid'")
[ "$got" = "$(printf 't\ntrue')" ] || fail "t01's audit chain on s2: $got"
got=$(q s2 -c "SELECT (SELECT max(id) FROM kaireon.usage_events WHERE tenant_id = 't01') < nextval('kaireon.usage_events_id_seq')")
[ "$got" = t ] || fail "s2's usage_events sequence was not lifted past t01's ids"
# The source: only the audit trail and the mark of the move; direct calls
# there are told the tenant moved.
q s1 >"$work/s1_left.txt" <<'SQL'
DO $$
DECLARE t regclass; n bigint;
BEGIN
    CREATE TEMP TABLE kr_left (table_name text);
    FOR t IN SELECT tt.table_name FROM kaireon.tenant_tables tt LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE tenant_id = %L', t, 't01') INTO n;
        IF n > 0 THEN INSERT INTO kr_left VALUES (t::text); END IF;
    END LOOP;
END
$$;
SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM kr_left;
SELECT state FROM kaireon.tenant_moves WHERE tenant_id = 't01';
SELECT count(*) FROM kaireon.tenants WHERE tenant_id = 't01';
SQL
[ "$(cat "$work/s1_left.txt")" = "$(printf 'kaireon.audit_chain_state kaireon.audit_log kaireon.audit_refusal_marks kaireon.audit_seals kaireon.tenant_moves\nmoved\n0')" ] ||
    fail "s1 after the move holds for t01: $(tr '\n' ' ' <"$work/s1_left.txt")"
out=$("$psql_bin" -qXAt -h 127.0.0.1 -p "$(cat "$work/s1/port")" -U kr_scale_app -d postgres \
    -c "SET kaireon.tenant = 't01'" -c "SELECT kaireon.quota_status()" 2>&1) && fail "a direct call for t01 on s1 succeeded after the move"
echo "$out" | grep -q 'tenant "t01" has moved to another shard' || fail "a direct call for t01 on s1 after the move answers: $out"
got=$(q router -c "SET ROLE kr_scale_ops" -c "SELECT count(*), count(DISTINCT tenant_id) FROM kaireon.tenants" \
    -c "SELECT shard FROM kaireon_router.placements WHERE tenant_id = 't01'")
[ "$got" = "$(printf '30|30\ns2')" ] || fail "after the move the router sees: $got"
# A second move of t01 from s1 is refused (it is not there), and nothing changes.
if out=$(KR_PGBIN=${KR_PGBIN:-} "$here/scripts/move_tenant.sh" --router "$(conn router kr_scale_ops)" \
        --source "$(conn s1 postgres)" --target "$(conn s3 postgres)" t01 2 2>&1); then
    fail "moving t01 from a shard that does not hold it succeeded"
fi
echo "$out" | grep -q 'the source holds no tenant "t01"' || fail "moving t01 from s1 again answers: $out"
echo "scale_out: [$(($(date +%s) - started)) s] t01 kept every row, count, key, consumer position, delivery and its audit chain on s2; s1 keeps its audit trail"

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
