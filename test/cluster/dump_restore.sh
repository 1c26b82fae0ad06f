#!/usr/bin/env bash
# A pg_dump / pg_restore round trip of a populated database gives back the
# same answers: tenants, grants, access decisions and visible rows, with no
# rows doubled by triggers. Runs against the cluster in PGHOST/PGPORT.
set -euo pipefail

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
psql -qX -v ON_ERROR_STOP=1 -d "$src" <<'SQL'
CREATE EXTENSION kaireon;
SELECT kaireon.create_tenant('acme', 'Acme Bank', 'ops@acme.test');
SELECT kaireon.create_tenant('globex', 'Globex Telco', 'it@globex.test');
SELECT kaireon.grant_tenant('kr_dump_app1', 'acme');
SELECT kaireon.grant_tenant('kr_dump_app2', 'globex');
SQL

# answers prints what a client sees: the same text for the same state.
answers() {
    psql -qXAt -v ON_ERROR_STOP=0 -d "$1" 2>&1 <<'SQL'
SELECT extversion FROM pg_extension WHERE extname = 'kaireon';
SELECT tenant_id, name, admin_email, created_at FROM kaireon.tenants ORDER BY 1;
SELECT tenant_id, role, granted_at FROM kaireon.tenant_grants ORDER BY 1, 2::text;
SELECT table_name, on_drop, drop_order FROM kaireon.tenant_tables ORDER BY 1;
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

answers "$src" >"$work/before.txt"
grep -q 'may not act on tenant "globex"' "$work/before.txt" || {
    echo "dump_restore: the source database does not answer as expected:" >&2
    cat "$work/before.txt" >&2
    exit 1
}

# Custom format through pg_restore.
pg_dump -Fc -d "$src" -f "$work/dump.custom"
createdb "$dst_custom"
pg_restore --exit-on-error -d "$dst_custom" "$work/dump.custom"
answers "$dst_custom" >"$work/after_custom.txt"

# Plain SQL through psql.
pg_dump -d "$src" -f "$work/dump.sql"
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
