#!/usr/bin/env bash
# A pg_dump / pg_restore round trip of a populated database gives back the
# same answers: tenants, grants, access decisions and visible rows, with no
# rows doubled by triggers. Runs against the cluster in PGHOST/PGPORT.
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

# answers prints what a client sees: the same text for the same state.
answers() {
    psql -qXAt -v ON_ERROR_STOP=0 -d "$1" 2>&1 <<'SQL'
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
SQL
}

# Dump first: answering appends to the audit of evaluations, the same way
# in the source and in each restored copy.
pg_dump -Fc -d "$src" -f "$work/dump.custom"
pg_dump -d "$src" -f "$work/dump.sql"
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

status=0
for format in custom plain; do
    if ! diff -u "$work/before.txt" "$work/after_$format.txt"; then
        echo "dump_restore: the $format-format restore answers differently (diff above)" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "dump_restore: custom and plain round trips give the same answers"
exit $status
