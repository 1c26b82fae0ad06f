#!/usr/bin/env bash
# A pg_dump / pg_restore round trip of a populated database gives back the
# same answers: tenants, grants, access decisions and visible rows, with no
# rows doubled by triggers. Runs against the cluster in PGHOST/PGPORT.
#
# Usage (metering): the events and idempotency keys come back identical, the
# rollups (not dumped) are rebuilt from the events by the insert trigger in
# its maintenance mode, so usage_totals equal the source's; limits still hold
# and a replayed idempotency key answers what it answered before the dump.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/license.sh
source "$here/scripts/lib/license.sh"

src=kr_dump_src
dst_custom=kr_dump_custom
dst_plain=kr_dump_plain
work=$(mktemp -d)
cleanup() {
    for db in $src $dst_custom $dst_plain; do dropdb --if-exists "$db" >/dev/null 2>&1 || true; done
    psql -qX -d postgres -c "DROP ROLE IF EXISTS kr_dump_app1, kr_dump_app2" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
cleanup
work=$(mktemp -d)

psql -qX -v ON_ERROR_STOP=1 -d postgres -c "CREATE ROLE kr_dump_app1 IN ROLE kaireon_app" \
    -c "CREATE ROLE kr_dump_app2 IN ROLE kaireon_app"
createdb "$src"
kr_demo_key "$work"
token=$(kr_mint_license "$work/demo-key.pem" dump-key acme professional 30 acme-dump-1)
psql -qX -v ON_ERROR_STOP=1 -d "$src" -v pem="$(cat "$work/demo-key.pub.pem")" -v token="$token" >/dev/null <<'SQL'
CREATE EXTENSION kaireon;
SELECT kaireon.create_tenant('acme', 'Acme Bank', 'ops@acme.test');
SELECT kaireon.create_tenant('globex', 'Globex Telco', 'it@globex.test');
SELECT kaireon.grant_tenant('kr_dump_app1', 'acme');
SELECT kaireon.grant_tenant('kr_dump_app2', 'globex');
SELECT kaireon.add_license_key('dump-key', 'RS256', :'pem');
SELECT kaireon.install_license(:'token');
SELECT kaireon.define_feature('api_calls', 'numeric', '{"period": "month"}');
SELECT kaireon.set_plan_entitlement('professional', 'api_calls', '{"limit": 1000}');
SELECT kaireon.set_plan_entitlement('community', 'journeys', '{"enabled": true}');
SET kaireon.tenant = 'acme';
SELECT kaireon.set_override('experiments.bandit', '{"enabled": true}', now() + interval '30 days');
SELECT kaireon.set_thresholds('api_calls', '{50, 100}');
SELECT kaireon.entitlement('api_calls');
SQL

# The instant acme's usage is reported at (pinned with kaireon.test_clock, so
# periods and replays do not depend on when the checks run; after the
# licence's nbf), and a late event an hour before it. globex (Community, no
# licence) reports in March, April and May 2026.
epoch=$(date +%s)
now=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
late=$(date -u -d "@$((epoch - 3600))" +%Y-%m-%dT%H:%M:%SZ)
usage_vars=(-v now="$now" -v late="$late")

# Reports with idempotency keys: run once here, and replayed after the
# restore, where they must answer exactly the same.
cat >"$work/keyed.sql" <<'SQL'
SET kaireon.test_clock = :'now';
SET ROLE kr_dump_app1;
SET kaireon.tenant = 'acme';
SELECT 'acme-batch-1', kaireon.report_usage('api_calls', 25, 'acme-batch-1');
SELECT 'acme-batch-2', kaireon.report_usage('api_calls', 40, 'acme-batch-2', NULL, '{"endpoint": "/v1/score"}');
SELECT 'acme-storage-1', kaireon.report_usage('storage_gb', 12.5, 'acme-storage-1', :'late');
RESET ROLE;
SET kaireon.test_clock = '2026-03-10T12:00:00Z';
SET ROLE kr_dump_app2;
SET kaireon.tenant = 'globex';
SELECT 'globex-mar-1', kaireon.report_usage('api_calls', 30, 'globex-mar-1');
SELECT 'globex-mar-2', kaireon.report_usage('messages', 1, 'globex-mar-2', '2026-03-09T23:59:59Z', '{"channel": "sms"}');
RESET ROLE;
SET kaireon.test_clock = '2026-04-02T00:01:00Z';
SET ROLE kr_dump_app2;
SELECT 'globex-apr-late', kaireon.report_usage('api_calls', 5, 'globex-apr-late', '2026-03-31T23:50:00Z');
RESET ROLE;
RESET kaireon.tenant;
RESET kaireon.test_clock;
SQL

psql -qX -v ON_ERROR_STOP=1 "${usage_vars[@]}" -d "$src" >/dev/null <<'SQL'
SELECT kaireon.set_plan_entitlement('community', 'api_calls', '{"limit": 100}');
SELECT kaireon.define_feature('messages', 'numeric', '{"aggregation": "count", "period": "day"}');
SELECT kaireon.define_feature('storage_gb', 'numeric',
                              '{"aggregation": "latest", "period": "never", "nonNegative": true, "limitType": "soft"}');
SELECT kaireon.set_plan_entitlement(tier, 'messages', '{"limit": 500}') FROM unnest(ARRAY['community', 'professional']) tier;
SELECT kaireon.set_plan_entitlement(tier, 'storage_gb', '{"limit": 50}') FROM unnest(ARRAY['community', 'professional']) tier;

-- acme, without keys: a default report, a correction, several features.
SET kaireon.test_clock = :'now';
SET ROLE kr_dump_app1;
SET kaireon.tenant = 'acme';
SELECT kaireon.report_usage('api_calls');
SELECT kaireon.report_usage('api_calls', 100);
SELECT kaireon.report_usage('api_calls', -3);
SELECT kaireon.report_usage('messages', 1, properties => '{"channel": "email"}') FROM generate_series(1, 3);
SELECT kaireon.report_usage('storage_gb', 7);
RESET ROLE;

-- globex in March, without keys.
SET kaireon.test_clock = '2026-03-10T12:00:00Z';
SET ROLE kr_dump_app2;
SET kaireon.tenant = 'globex';
SELECT kaireon.report_usage('api_calls', 20);
SELECT kaireon.report_usage('api_calls', 30);
SELECT kaireon.report_usage('messages', 2);
RESET ROLE;
RESET kaireon.tenant;
SQL
psql -qXAt -v ON_ERROR_STOP=1 "${usage_vars[@]}" -d "$src" -f "$work/keyed.sql" >"$work/keyed_first.txt"
psql -qX -v ON_ERROR_STOP=1 "${usage_vars[@]}" -d "$src" >/dev/null <<'SQL'
-- acme bulk loads: 200 rows in one statement (some with keys), then rows at
-- the late instant and two storage_gb rows that tie on occurred_at (latest =
-- the greater id).
SET kaireon.test_clock = :'now';
SET ROLE kr_dump_app1;
SET kaireon.tenant = 'acme';
INSERT INTO kaireon.usage_events (feature, value, idempotency_key, properties)
SELECT 'api_calls', g % 5, CASE WHEN g % 20 = 0 THEN 'acme-bulk-' || g END, jsonb_build_object('row', g)
FROM generate_series(1, 200) g;
INSERT INTO kaireon.usage_events (feature, value, occurred_at) VALUES ('messages', 4, :'late'), ('api_calls', 0.5, :'late');
INSERT INTO kaireon.usage_events (feature, value) VALUES ('storage_gb', 9), ('storage_gb', 3);
RESET ROLE;

-- globex in April: up to the cap (100) exactly; May: storage over its soft limit.
SET kaireon.test_clock = '2026-04-02T00:01:00Z';
SET ROLE kr_dump_app2;
SET kaireon.tenant = 'globex';
SELECT kaireon.report_usage('api_calls', 70);
SELECT kaireon.report_usage('api_calls', 30);
RESET ROLE;
SET kaireon.test_clock = '2026-05-20T08:00:00Z';
SET ROLE kr_dump_app2;
SELECT kaireon.report_usage('storage_gb', 40);
SELECT kaireon.report_usage('storage_gb', 60);
RESET ROLE;
RESET kaireon.tenant;
RESET kaireon.test_clock;
SQL

# answers prints what a client sees: the same text for the same state.
answers() {
    psql -qXAt -v ON_ERROR_STOP=0 "${usage_vars[@]}" -d "$1" 2>&1 <<'SQL'
SELECT extversion FROM pg_extension WHERE extname = 'kaireon';
SELECT tenant_id, name, admin_email, created_at FROM kaireon.tenants ORDER BY 1;
SELECT tenant_id, role, granted_at FROM kaireon.tenant_grants ORDER BY 1, 2::text;
SELECT table_name, on_drop, drop_order FROM kaireon.tenant_tables ORDER BY 1;
SELECT kid, alg, public_key_pem, revoked_at FROM kaireon.license_keys ORDER BY kid;
SELECT tenant_id, jti, tier, expires_at, first_failure_at FROM kaireon.licenses ORDER BY 1;
SELECT key, type, options, builtin FROM kaireon.features ORDER BY key;
SELECT * FROM kaireon.plans;
SELECT tenant_id, feature, value, expires_at FROM kaireon.entitlement_overrides ORDER BY 1, 2;
SELECT tenant_id, feature, percents FROM kaireon.feature_thresholds ORDER BY 1, 2;
SELECT tenant_id, api, feature, status FROM kaireon.entitlement_evaluations ORDER BY tenant_id, id;
SELECT tenant_id, type, payload FROM kaireon.events ORDER BY tenant_id, id;
SET kaireon.tenant = 'acme';
SELECT kaireon.license_status() - 'expiresAt';
SELECT kaireon.has_feature('experiments.bandit'), kaireon.has_feature('journeys'), kaireon.entitlement('api_calls') ->> 'limit';
RESET kaireon.tenant;
SET ROLE kr_dump_app1;
SET kaireon.tenant = 'acme';
SELECT kaireon.current_tenant();
SELECT tenant_id FROM kaireon.tenants;
SET kaireon.tenant = 'globex';
SELECT count(*) FROM kaireon.tenants;
SELECT kaireon.current_tenant();
RESET ROLE;
RESET kaireon.tenant;
-- Usage: the totals agree with the events (computed independently of the
-- trigger), limits and usage answer the same, new reports follow the dumped
-- events. Nothing here is left recorded.
CREATE TEMP VIEW kr_dump_expected AS
SELECT e.tenant_id, e.feature,
       CASE f.options ->> 'period' WHEN 'never' THEN '-infinity'::timestamptz
            ELSE date_trunc(f.options ->> 'period', e.occurred_at, 'UTC') END AS period_start,
       sum(e.value) AS sum, count(*) AS count, max(e.value) AS max, min(e.value) AS min,
       sum(e.value) / count(*) AS average,
       (array_agg(e.value ORDER BY e.occurred_at DESC, e.id DESC))[1] AS latest
FROM kaireon.usage_events e JOIN kaireon.features f ON f.key = e.feature
GROUP BY 1, 2, 3;
SELECT 'usage_totals rows the events do not give',
       (SELECT count(*) FROM (SELECT tenant_id, feature, period_start, sum, count, max, min, average, latest
                              FROM kaireon.usage_totals EXCEPT ALL SELECT * FROM kr_dump_expected) x),
       'event aggregates missing from usage_totals',
       (SELECT count(*) FROM (SELECT * FROM kr_dump_expected
                              EXCEPT ALL SELECT tenant_id, feature, period_start, sum, count, max, min, average, latest
                              FROM kaireon.usage_totals) y);
SELECT 'usage_totals rows', count(*), 'usage_events rows', (SELECT count(*) FROM kaireon.usage_events) FROM kaireon.usage_totals;
SET kaireon.test_clock = :'now';
SET kaireon.tenant = 'acme';
SELECT f, kaireon.entitlement(f) FROM unnest(ARRAY['api_calls', 'messages', 'storage_gb']) f;
SELECT kaireon.check_usage('api_calls', 1000 - (kaireon.entitlement('api_calls') ->> 'currentUsage')::numeric) ->> 'status',
       kaireon.check_usage('api_calls', 1001 - (kaireon.entitlement('api_calls') ->> 'currentUsage')::numeric) ->> 'status';
SELECT kaireon.report_usage('api_calls', 26, 'acme-batch-1');
SELECT kaireon.report_usage('api_calls', 1, 'acme-bulk-20');
BEGIN;
CREATE TEMP TABLE kr_dump_max ON COMMIT DROP AS SELECT max(id) AS id FROM kaireon.usage_events;
SELECT 'a new report', kaireon.report_usage('api_calls', 2) ->> 'currentUsage';
INSERT INTO kaireon.usage_events (feature, value) VALUES ('api_calls', 1), ('api_calls', 1);
SELECT 'events after the dumped ones (3 new)', count(*) FROM kaireon.usage_events WHERE id > (SELECT id FROM kr_dump_max);
ROLLBACK;
SET kaireon.tenant = 'globex';
SET kaireon.test_clock = '2026-03-20T00:00:00Z';
SELECT 'globex march', kaireon.entitlement('api_calls');
SET kaireon.test_clock = '2026-04-20T00:00:00Z';
SELECT 'globex april', kaireon.entitlement('api_calls');
SELECT kaireon.report_usage('api_calls', 1);
BEGIN;
SELECT 'globex april: a correction at the cap', kaireon.report_usage('api_calls', -1) ->> 'currentUsage';
ROLLBACK;
SET kaireon.test_clock = '2026-05-21T00:00:00Z';
SELECT 'globex storage', kaireon.entitlement('storage_gb');
RESET kaireon.tenant;
RESET kaireon.test_clock;
SQL
}

# usage_state prints the usage tables as they are stored (superuser: every
# tenant): events and keys must come back identical, and usage_totals (the
# merged rollups, which are not dumped but rebuilt) equal.
usage_state() {
    psql -qXAt -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SET timezone = 'UTC';
SELECT 'event', tenant_id, id, feature, value, occurred_at, recorded_at, idempotency_key, properties
FROM kaireon.usage_events ORDER BY tenant_id, id;
SELECT 'key', tenant_id, idempotency_key, feature, value, occurred_at, properties, event_id, answer, created_at
FROM kaireon.usage_idempotency ORDER BY tenant_id, idempotency_key;
SELECT 'total', tenant_id, feature, period_start, sum, count, max, min, average, latest
FROM kaireon.usage_totals ORDER BY tenant_id, feature, period_start;
SQL
}

# replay runs the keyed reports again: each must answer what it answered the
# first time and record nothing.
replay() {
    local before after
    before=$(psql -qXAt -d "$1" -c "SELECT count(*), max(id) FROM kaireon.usage_events")
    psql -qXAt -v ON_ERROR_STOP=0 "${usage_vars[@]}" -d "$1" -f "$work/keyed.sql" 2>&1
    after=$(psql -qXAt -d "$1" -c "SELECT count(*), max(id) FROM kaireon.usage_events")
    [ "$before" = "$after" ] || echo "replay recorded events: count|max(id) was $before, is $after"
}

# The fixture is what the checks expect (the periods that do not depend on
# today's date: globex's, and storage_gb's "never").
expected=$(psql -qXAt -v ON_ERROR_STOP=1 -d "$src" <<'SQL'
SET timezone = 'UTC';
SELECT string_agg(format('%s %s %s: %s/%s latest %s', tenant_id, feature, period_start, sum, count, latest), '; '
                  ORDER BY tenant_id, feature, period_start)
FROM kaireon.usage_totals WHERE tenant_id = 'globex' OR feature = 'storage_gb';
SQL
)
want='acme storage_gb -infinity: 31.5/4 latest 3; globex api_calls 2026-03-01 00:00:00+00: 85/4 latest 5; '\
'globex api_calls 2026-04-01 00:00:00+00: 100/2 latest 30; globex messages 2026-03-09 00:00:00+00: 1/1 latest 1; '\
'globex messages 2026-03-10 00:00:00+00: 2/1 latest 2; globex storage_gb -infinity: 100/2 latest 60'
if [ "$expected" != "$want" ]; then
    echo "dump_restore: the source's usage is not the fixture's:" >&2
    echo "  want: $want" >&2
    echo "  got:  $expected" >&2
    exit 1
fi
usage_state "$src" >"$work/usage_before.txt"

# Dump first: answering appends to the audit of evaluations, the same way
# in the source and in each restored copy.
pg_dump -Fc -d "$src" -f "$work/dump.custom"
pg_dump -d "$src" -f "$work/dump.sql"
# Events and keys are dumped, rollups are not (they are rebuilt on restore).
# usage_events is partitioned: its rows are in its default partition here
# (test/cluster/partitioning.sh dumps time partitions).
for table in usage_events_default usage_idempotency; do
    grep -q "^COPY kaireon.$table " "$work/dump.sql" || {
        echo "dump_restore: the dump holds no data of kaireon.$table" >&2
        exit 1
    }
done
if grep -q '^COPY kaireon.usage_rollups ' "$work/dump.sql"; then
    echo "dump_restore: the dump holds kaireon.usage_rollups (derived data; restoring the events rebuilds it)" >&2
    exit 1
fi
answers "$src" >"$work/before.txt"
grep -q 'may not act on tenant "globex"' "$work/before.txt" || {
    echo "dump_restore: the source database does not answer as expected:" >&2
    cat "$work/before.txt" >&2
    exit 1
}

# Custom format through pg_restore.
createdb "$dst_custom"
pg_restore --exit-on-error -d "$dst_custom" "$work/dump.custom"
answers "$dst_custom" >"$work/after_custom.txt"

# Plain SQL through psql.
createdb "$dst_plain"
psql -qX -v ON_ERROR_STOP=1 -d "$dst_plain" -f "$work/dump.sql" >/dev/null
answers "$dst_plain" >"$work/after_plain.txt"

replay "$src" >"$work/replay_src.txt"

status=0
if ! diff -u "$work/keyed_first.txt" "$work/replay_src.txt"; then
    echo "dump_restore: replaying the idempotency keys in the source answers differently (diff above)" >&2
    status=1
fi
for format in custom plain; do
    db=$dst_custom
    [ $format = plain ] && db=$dst_plain
    usage_state "$db" >"$work/usage_after_$format.txt"
    if ! diff -u "$work/usage_before.txt" "$work/usage_after_$format.txt"; then
        echo "dump_restore: after the $format-format restore, usage_events, usage_idempotency or usage_totals differ (diff above)" >&2
        status=1
    fi
    if ! diff -u "$work/before.txt" "$work/after_$format.txt"; then
        echo "dump_restore: the $format-format restore answers differently (diff above)" >&2
        status=1
    fi
    replay "$db" >"$work/replay_$format.txt"
    if ! diff -u "$work/keyed_first.txt" "$work/replay_$format.txt"; then
        echo "dump_restore: after the $format-format restore, a replayed idempotency key answers differently (diff above)" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "dump_restore: custom and plain round trips give the same answers, usage and idempotency replays"

# Events and audit (SPEC section 4): a second round trip of the source as it
# is now, after everything above, with event consumers (one of acme's events,
# one of every tenant's), a webhook endpoint, a sealed trail with records
# written after the seal, and events emitted after the consumers' last fetch.
# Each restored copy (custom, plain, plain with INSERTs) must hold the same
# trail, seals, outbox (seqs included), consumers and endpoints: restoring
# adds no audit record. verify_audit is valid for every tenant; the consumers
# go on where they were (what they had not acknowledged, then what comes
# after, in seq order); sealing seals the records written after the source's
# seal, and the trail stays valid.
audit_dbs=(kr_dump_audit_custom kr_dump_audit_plain kr_dump_audit_inserts)
cleanup_audit() {
    for db in "${audit_dbs[@]}"; do dropdb --if-exists "$db" >/dev/null 2>&1 || true; done
    cleanup
}
trap cleanup_audit EXIT
for db in "${audit_dbs[@]}"; do dropdb --if-exists "$db" >/dev/null 2>&1 || true; done
audit_status=0

# The decision catalog (SPEC 6.1) of both tenants goes into this round
# trip too: a child category stored before its parent (the self-reference is
# checked at commit), every kind of reference, customers and consents.
psql -qX -v ON_ERROR_STOP=1 -d "$src" >/dev/null <<'SQL'
SET kaireon.tenant = 'acme';
SELECT kaireon.apply_catalog('{
  "categories": [{"id": "platinum", "parentId": "cards"}, {"id": "cards", "name": "Cards"}],
  "channels": [{"id": "web", "type": "web"}, {"id": "email", "type": "email", "batch": true}],
  "placements": [{"id": "hero", "channelId": "web", "slots": 2}],
  "outcomeTypes": [{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"}],
  "offers": [{"id": "gold", "categoryId": "cards", "priority": 80, "eligibility": "customer.age >= 18",
              "startAt": "2026-01-01T00:00:00Z", "budget": {"metric": "impressions", "limit": 1000, "period": "monthly"}},
             {"id": "plat", "categoryId": "platinum", "eligibility": "has_segment(''vip'')", "attributes": {"apr": 19.9}}],
  "creatives": [{"id": "gold-web", "offerId": "gold", "channelId": "web", "placementId": "hero", "content": {"title": "Gold"}}],
  "customers": [{"id": "c1", "attributes": {"age": 30}, "segments": ["vip"], "timezone": "Europe/Paris"},
                {"id": "c2", "attributes": {"age": 12}}],
  "consents": [{"customerId": "c1", "channelId": "web", "granted": true}],
  "models": [{"id": "score", "type": "scorecard", "definition": {"base": 1, "rules": [{"when": "customer.age > 25", "points": 2}]}}],
  "flows": [{"id": "home", "channelId": "web", "modelId": "score", "ranking": {"method": "top_n", "n": 3}}],
  "policies": [{"id": "daily", "type": "frequency_cap", "config": {"maxPerDay": 3}}],
  "caps": [{"id": "gold-daily", "scope": "offer", "scopeId": "gold", "maxVolume": 100, "period": "daily"}],
  "connectors": [{"id": "crm", "type": "salesforce"}]
}');
SELECT kaireon_recommend('{"customerId": "c1", "flow": "home", "trace": true}');
-- Active bandits (over variants and over offers) with answered decisions:
-- the experiments' rows restore without emitting events again, and their
-- counts, which are not dumped, are counted again from the interactions.
SELECT kaireon.apply_catalog('{
  "flows": [{"id": "home-b", "channelId": "web", "experimentId": "strat"},
            {"id": "home-o", "channelId": "web", "experimentId": "arms"}],
  "experiments": [{"id": "strat", "flowId": "home-b", "type": "bandit", "status": "active",
                   "bandit": {"algorithm": "thompson"}, "variants": [{"id": "v1", "weight": 1}, {"id": "v2", "weight": 1, "flowId": "home"}]},
                  {"id": "arms", "flowId": "home-o", "type": "bandit", "status": "active", "bandit": {"algorithm": "thompson"}}]}');
SELECT kaireon_respond(jsonb_build_object('decisionId', d ->> 'decisionId', 'outcome', o, 'idempotencyKey', 'bandit-' || i || o))
FROM generate_series(1, 6) AS i,
     LATERAL kaireon_recommend(jsonb_build_object('customerId', 'c1', 'flow', CASE WHEN i % 2 = 0 THEN 'home-b' ELSE 'home-o' END,
                                                  'limit', 1)) AS d,
     unnest(CASE WHEN i <= 2 THEN ARRAY['impression', 'click'] ELSE ARRAY['impression'] END) AS o
WHERE d -> 'offers' <> '[]';
-- A customer in a journey, waiting for a click: the instance and its
-- transitions (which reference it) restore, in a working order.
SELECT kaireon.set_override('journeys', '{"enabled": true}', now() + interval '30 days');
SELECT kaireon.apply_catalog('{"journeys": [{"id": "welcome", "nodes": [{"id": "offer", "type": "recommend", "flowId": "home"},
  {"id": "wait", "type": "wait", "outcome": "click", "timeoutHours": 48}, {"id": "done", "type": "exit"}],
  "edges": [{"from": "offer", "to": "wait"}, {"from": "wait", "to": "done"}]}]}');
SELECT kaireon.enroll_journey('c1', 'welcome', '{"source": "dump"}');
SET kaireon.tenant = 'globex';
SELECT kaireon.apply_catalog('{"channels": [{"id": "sms", "type": "sms"}],
  "offers": [{"id": "roaming", "eligibility": "context.country != ''home''"}],
  "customers": [{"id": "g1", "segments": ["prepaid"]}]}');
SQL

# catalog_answers prints each tenant's exported catalog and eligibility.
catalog_answers() {
    psql -qXAt -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SET kaireon.tenant = 'acme';
SELECT kaireon.export_catalog();
SELECT offer_id, eligible, reason FROM kaireon.check_eligibility('c1') ORDER BY 1;
SET kaireon.tenant = 'globex';
SELECT kaireon.export_catalog();
SELECT offer_id, eligible, reason FROM kaireon.check_eligibility('g1', '{"country": "fr"}') ORDER BY 1;
RESET kaireon.tenant;
SELECT tenant_id, id, customer_id, flow, channel, offers, trace_id, decided_at FROM kaireon.decisions ORDER BY 1, 2;
SELECT tenant_id, id, decision_id, stages FROM kaireon.decision_traces ORDER BY 1, 2;
SELECT 'arms', tenant_id, experiment_id, variant, impressions, positives FROM kaireon.bandit_arms ORDER BY 2, 3, 4;
SELECT 'offer stats', tenant_id, offer_id, segment, impressions, positives FROM kaireon.offer_stats ORDER BY 2, 3, 4;
SELECT 'experiment events', tenant_id, type, payload FROM kaireon.events WHERE type LIKE 'experiment.%' ORDER BY tenant_id, id;
SELECT 'journey', tenant_id, id, journey_id, customer_id, status, node_id, wake_at, context, steps, last_decision_id
FROM kaireon.journey_instances ORDER BY 2, 3;
SELECT 'journey step', tenant_id, instance_id, step, from_node, to_node, reason, decision_id, at
FROM kaireon.journey_transitions ORDER BY 2, 3, 4;
SQL
}
catalog_answers "$src" >"$work/catalog_before.txt"
# The bandits' counts exist before the dump (else the round trip would
# compare nothing with nothing).
if ! grep -q '^arms|acme|strat|' "$work/catalog_before.txt" || ! grep -q '^offer stats|acme|' "$work/catalog_before.txt" ||
    ! grep -q '^experiment events|acme|experiment.started|' "$work/catalog_before.txt" ||
    ! grep -q '^journey|acme|1|welcome|c1|active|wait|' "$work/catalog_before.txt" ||
    ! grep -q '^journey step|acme|1|2|offer|wait|' "$work/catalog_before.txt"; then
    echo "dump_restore: the bandits' counts, events or the journey are missing before the dump" >&2
    grep -E '^(arms|offer stats|experiment events|journey)' "$work/catalog_before.txt" >&2
    exit 1
fi

psql -qX -v ON_ERROR_STOP=1 -d "$src" >/dev/null <<'SQL'
SET kaireon.tenant = 'acme';
SELECT kaireon.create_event_consumer('acme-ops', from_start => true);
SELECT kaireon.add_webhook_endpoint('https://hooks.acme.test/kaireon', ARRAY['usage.threshold_reached']);
RESET kaireon.tenant;
SELECT kaireon.create_event_consumer('deliverer', all_tenants => true, from_start => true);
-- acme-ops acknowledges all but its last event, the deliverer everything.
-- (The superuser selects a tenant to fetch: the deliverer is found either way.)
SET kaireon.tenant = 'acme';
SELECT kaireon.ack_events('acme-ops', (SELECT f.seq FROM kaireon.fetch_events('acme-ops', 10000) f
                                       ORDER BY f.seq DESC OFFSET 1 LIMIT 1));
SELECT kaireon.ack_events('deliverer', (SELECT max(f.seq) FROM kaireon.fetch_events('deliverer', 10000) f));
RESET kaireon.tenant;
-- Sealed (the run emits audit.sealed events nobody has fetched yet, and
-- writes the refusal counts of the reports refused above); then two
-- evaluations. Those are the records not sealed at the dump.
SELECT kaireon.seal_audit();
SET kaireon.test_clock = '2026-05-21T00:00:00Z';
SET kaireon.tenant = 'globex';
SELECT kaireon.entitlement('api_calls');
RESET kaireon.test_clock;
SET kaireon.tenant = 'acme';
SELECT kaireon.check_usage('api_calls', 1);
SQL

# audit_state prints the trail, its seals, the outbox, the consumers, the
# endpoints (secrets included: superuser) and the refusal marks as stored.
audit_state() {
    psql -qXAt -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SET timezone = 'UTC';
SELECT 'audit', tenant_id, id, recorded_at, txid, actor, action, target, details FROM kaireon.audit_log ORDER BY tenant_id, id;
SELECT 'seal', tenant_id, position, audit_id, encode(prev_hash, 'hex'), encode(hash, 'hex'), sealed_at
FROM kaireon.audit_seals ORDER BY tenant_id, position;
SELECT 'event', tenant_id, id, seq, txid, type, payload, created_at, dedupe_key, delivery_state FROM kaireon.events ORDER BY tenant_id, id;
SELECT 'consumer', tenant_id, name, event_types, position, created_at, acked_at FROM kaireon.event_consumers ORDER BY tenant_id, name;
SELECT 'endpoint', tenant_id, id, url, secret, secret_hint, event_types, active, created_at FROM kaireon.webhook_endpoints ORDER BY tenant_id, id;
SELECT 'refusal mark', tenant_id, kind, counted, server_start FROM kaireon.audit_refusal_marks ORDER BY tenant_id, kind;
SQL
}

# verify_all prints verify_audit of every tenant with records, and whether
# every record of the tenant is sealed exactly once.
verify_all() {
    psql -qXAt -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT format('tenant "%s": valid %s, records %s, sealed %s', t.tenant_id, kaireon.verify_audit(t.tenant_id) ->> 'valid',
              (SELECT count(*) FROM kaireon.audit_log a WHERE a.tenant_id = t.tenant_id),
              (SELECT count(DISTINCT s.audit_id) FROM kaireon.audit_seals s WHERE s.tenant_id = t.tenant_id))
FROM (SELECT DISTINCT tenant_id FROM kaireon.audit_log) t ORDER BY t.tenant_id;
SQL
}

# consumers_continue fetches for acme-ops and the deliverer and prints what
# came against what should have: the events after the consumer's position by
# seq, then those without a seq yet in (txid, id) order, numbered after every
# seq there is. Then it acknowledges everything fetched.
consumers_continue() {
    psql -qXAt -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
CREATE TEMP TABLE kr_expected AS
SELECT c.name, e.id, row_number() OVER (PARTITION BY c.name ORDER BY e.seq IS NULL, e.seq, e.txid, e.id) AS n
FROM kaireon.event_consumers c
JOIN kaireon.events e ON (c.tenant_id = '' OR e.tenant_id = c.tenant_id) AND (e.seq > c.position OR e.seq IS NULL)
WHERE c.name IN ('acme-ops', 'deliverer');
CREATE TEMP TABLE kr_max_seq AS SELECT coalesce(max(seq), 0) AS seq FROM kaireon.events;
CREATE TEMP TABLE kr_unsequenced AS SELECT id FROM kaireon.events WHERE seq IS NULL;
SET kaireon.tenant = 'acme';
CREATE TEMP TABLE kr_fetched AS
SELECT c.name, f.id, f.seq, row_number() OVER (PARTITION BY c.name ORDER BY f.seq) AS n
FROM unnest(ARRAY['acme-ops', 'deliverer']) c (name), LATERAL kaireon.fetch_events(c.name, 10000) f;
SELECT format('%s: fetched %s, expected %s, in order %s, numbered after the dumped seqs %s', c.name,
              (SELECT count(*) FROM kr_fetched f WHERE f.name = c.name),
              (SELECT count(*) FROM kr_expected x WHERE x.name = c.name),
              NOT EXISTS (SELECT 1 FROM (SELECT * FROM kr_fetched WHERE name = c.name) f
                          FULL JOIN (SELECT * FROM kr_expected WHERE name = c.name) x USING (n)
                          WHERE f.id IS DISTINCT FROM x.id),
              coalesce(bool_and(f.seq > (SELECT seq FROM kr_max_seq)), true))
FROM unnest(ARRAY['acme-ops', 'deliverer']) c (name)
LEFT JOIN kr_fetched f ON f.name = c.name AND f.id IN (SELECT id FROM kr_unsequenced)
GROUP BY c.name ORDER BY c.name;
SELECT kaireon.ack_events(f.name, max(f.seq)) ->> 'consumer' FROM kr_fetched f GROUP BY f.name ORDER BY f.name;
SELECT format('%s: fetched again %s', c.name, (SELECT count(*) FROM kaireon.fetch_events(c.name)))
FROM unnest(ARRAY['acme-ops', 'deliverer']) c (name) ORDER BY 1;
SQL
}

pg_dump -Fc -d "$src" -f "$work/audit.custom"
pg_dump -d "$src" -f "$work/audit.sql"
pg_dump --inserts -d "$src" -f "$work/audit_inserts.sql"
audit_state "$src" >"$work/audit_before.txt"
unsealed=$(psql -qXAt -d "$src" -c "SELECT count(*) FROM kaireon.audit_log a WHERE NOT EXISTS
    (SELECT 1 FROM kaireon.audit_seals s WHERE s.tenant_id = a.tenant_id AND s.audit_id = a.id)")
unsequenced=$(psql -qXAt -d "$src" -c "SELECT count(*) FROM kaireon.events WHERE seq IS NULL")
# The trail is partitioned: its rows are in its default partitions here.
for table in audit_log_default audit_seals_default event_consumers webhook_endpoints categories offers customers consents; do
    grep -q "^COPY kaireon.$table " "$work/audit.sql" || {
        echo "dump_restore: the dump holds no data of kaireon.$table" >&2
        audit_status=1
    }
done
for table in event_types audit_chain_state event_sequencer; do
    if grep -q "^COPY kaireon.$table " "$work/audit.sql"; then
        echo "dump_restore: the dump holds kaireon.$table (made by CREATE EXTENSION, or derived)" >&2
        audit_status=1
    fi
done
if [ "$unsealed" -lt 2 ] || [ "$unsequenced" -lt 1 ]; then
    echo "dump_restore: the source should have records not sealed and events without a seq at the dump" \
        "(unsealed $unsealed, unsequenced $unsequenced)" >&2
    audit_status=1
fi
verify_all "$src" >"$work/verify_src.txt"
if grep -v 'valid true' "$work/verify_src.txt"; then
    echo "dump_restore: the source's trail does not verify (above)" >&2
    audit_status=1
fi

for db in "${audit_dbs[@]}"; do
    createdb "$db"
    case $db in
    *_custom) restored=$(pg_restore --exit-on-error -d "$db" "$work/audit.custom" 2>&1) ;;
    *_plain) restored=$(psql -qX -v ON_ERROR_STOP=1 -d "$db" -f "$work/audit.sql" 2>&1 >/dev/null) ;;
    *_inserts) restored=$(psql -qX -v ON_ERROR_STOP=1 -d "$db" -f "$work/audit_inserts.sql" 2>&1 >/dev/null) ;;
    esac || {
        echo "$restored" | head -5 >&2
        echo "dump_restore: $db: the restore failed (above)" >&2
        audit_status=1
        continue
    }
    # Right after the restore: the same rows, nothing added.
    audit_state "$db" >"$work/audit_after_$db.txt"
    if ! diff -u "$work/audit_before.txt" "$work/audit_after_$db.txt" >"$work/audit_diff_$db.txt"; then
        head -40 "$work/audit_diff_$db.txt"
        echo "dump_restore: $db: audit_log, audit_seals, events, consumers, endpoints or refusal marks differ after the restore (diff above)" >&2
        audit_status=1
        continue
    fi
    catalog_answers "$db" >"$work/catalog_after_$db.txt" 2>&1
    if ! diff -u "$work/catalog_before.txt" "$work/catalog_after_$db.txt"; then
        echo "dump_restore: $db: the catalog or its eligibility answers differ after the restore (diff above)" >&2
        audit_status=1
    fi
    verify_all "$db" >"$work/verify_$db.txt"
    if ! diff -u "$work/verify_src.txt" "$work/verify_$db.txt"; then
        echo "dump_restore: $db: verify_audit answers differently after the restore (diff above)" >&2
        audit_status=1
    fi
    # The consumers go on where they were: acme-ops with its last event and
    # the audit.sealed events of acme, the deliverer with every audit.sealed
    # event; then nothing more.
    acme_expected=$(psql -qXAt -d "$src" -c "SELECT count(*) FROM kaireon.events e, kaireon.event_consumers c
        WHERE c.name = 'acme-ops' AND e.tenant_id = 'acme' AND (e.seq > c.position OR e.seq IS NULL)")
    want=$(printf '%s\n' \
        "acme-ops: fetched $acme_expected, expected $acme_expected, in order t, numbered after the dumped seqs t" \
        "deliverer: fetched $unsequenced, expected $unsequenced, in order t, numbered after the dumped seqs t" \
        "acme-ops" "deliverer" "acme-ops: fetched again 0" "deliverer: fetched again 0")
    got=$(consumers_continue "$db" 2>&1) || true
    if [ "$got" != "$want" ]; then
        echo "dump_restore: $db: the consumers do not go on where they were (want, then got):" >&2
        diff <(echo "$want") <(echo "$got") >&2 || true
        audit_status=1
    fi
    # Sealing seals what the source had not sealed; every trail stays valid,
    # every record sealed once.
    if ! sealed=$(psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -c "SELECT kaireon.seal_audit() ->> 'sealed'" 2>&1); then
        echo "dump_restore: $db: seal_audit after the restore failed: $sealed" >&2
        audit_status=1
        continue
    fi
    if [ "$sealed" != "$unsealed" ]; then
        echo "dump_restore: $db: seal_audit after the restore sealed $sealed records, not the $unsealed the source had not sealed" >&2
        audit_status=1
    fi
    verify_all "$db" >"$work/verify_sealed_$db.txt"
    if grep -v 'valid true' "$work/verify_sealed_$db.txt" ||
        grep -Ev 'records ([0-9]+), sealed \1$' "$work/verify_sealed_$db.txt"; then
        echo "dump_restore: $db: after sealing, a trail does not verify or has records not sealed once (above)" >&2
        audit_status=1
    fi
    # That run's audit.sealed events (acme's and globex's records were sealed)
    # are what the consumers get next.
    got=$(psql -qXAt -v ON_ERROR_STOP=1 -d "$db" 2>&1 <<'SQL'
SET kaireon.tenant = 'acme';
SELECT c.name || ': ' || coalesce((SELECT string_agg(f.type || ' ' || f.tenant_id, ', ' ORDER BY f.seq)
                                   FROM kaireon.fetch_events(c.name) f), 'nothing')
FROM unnest(ARRAY['acme-ops', 'deliverer']) c (name) ORDER BY 1;
SQL
) || true
    want=$(printf '%s\n' "acme-ops: audit.sealed acme" "deliverer: audit.sealed acme, audit.sealed globex")
    if [ "$got" != "$want" ]; then
        echo "dump_restore: $db: after sealing, the consumers do not get the new audit.sealed events (want, then got):" >&2
        diff <(echo "$want") <(echo "$got") >&2 || true
        audit_status=1
    fi
done
[ $audit_status -eq 0 ] && echo "dump_restore: the trail, its seals, the outbox, the consumers, the catalog and the decisions come back the same; consumers go on; sealing goes on"
[ $audit_status -eq 0 ] || status=1
exit $status
