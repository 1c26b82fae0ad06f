#!/usr/bin/env bash
# scripts/move_tenant.sh - moves one tenant between the shards of a scale-out
# deployment with a short write freeze (docs/scale-out.md, "Moving a tenant").
#
#   scripts/move_tenant.sh --router CONNINFO [--router CONNINFO ...] --source CONNINFO --target CONNINFO TENANT PARTITION
#
# CONNINFO are libpq connection strings: a member of kaireon_admin on each
# router database (name every router of the deployment: their maps must
# agree, and all of them are switched), and superusers on the source and
# target shard databases (the copy loads rows as they were, with triggers
# off). PARTITION is the router partition the tenant moves to; it must be
# on the target's shard.
#
# Steps (each says what it did; any failure before the router switch leaves
# the tenant where it was and working):
#   1. checks: the routers' maps agree (kaireon_router.map_digest), placement,
#      versions, the target holds none of the tenant's
#      rows, and the shards agree on what the tenant's rows depend on
#      (features, plans, licence keys and revocations, the tenant's roles);
#   2. freeze on the source: calls in flight finish, later ones get KR503
#      TENANT_MOVING (retryable);
#   3. copy: every table of kaireon.tenant_tables, read in one snapshot;
#   4. load on the target in one transaction; kaireon.adopt_moved_tenant fits
#      the outbox numbers and sequences and counts the rows, which must
#      equal the source's, else nothing is committed;
#   5. each router points the tenant at PARTITION (until all do, the ones
#      not switched yet reach the frozen source: KR503, retried);
#   6. the source releases the tenant (drops its rows; its audit trail stays).
set -euo pipefail

usage() {
    echo "usage: scripts/move_tenant.sh --router CONNINFO [--router CONNINFO ...] --source CONNINFO --target CONNINFO TENANT PARTITION" >&2
    exit 2
}
routers=() source='' target='' args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --router) routers+=("${2:-}"); shift 2 || usage ;;
        --source) source=${2:-}; shift 2 || usage ;;
        --target) target=${2:-}; shift 2 || usage ;;
        -h|--help) usage ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#routers[@]} -gt 0 ] && [ -n "$source" ] && [ -n "$target" ] && [ ${#args[@]} -eq 2 ] || usage
for r in "${routers[@]}"; do [ -n "$r" ] || usage; done
router=${routers[0]}
switched=0
tenant=${args[0]} partition=${args[1]}
[[ "$tenant" =~ ^[a-z0-9][a-z0-9_-]{0,62}$ ]] || { echo "move_tenant: malformed tenant id \"$tenant\"" >&2; exit 2; }
[[ "$partition" =~ ^[0-9]{1,4}$ ]] || { echo "move_tenant: PARTITION must be a number" >&2; exit 2; }

psql_bin=${KR_PGBIN:+$KR_PGBIN/}psql
command -v "$psql_bin" >/dev/null || psql_bin=psql
started=$(date +%s%N)
say() { echo "move_tenant: [$((($(date +%s%N) - started) / 1000000)) ms] $*"; }
die() { echo "move_tenant: $*" >&2; exit 1; }
# q CONNINFO [SQL] [psql args...]: runs SQL (else standard input) with :'tenant'
# set; one value per line, fields separated by |.
q() {
    local conn=$1
    if [ $# -ge 2 ]; then
        local sql=$2
        shift 2
        printf '%s\n' "$sql" | "$psql_bin" -X -q -A -t -v ON_ERROR_STOP=1 -v tenant="$tenant" -d "$conn" "$@"
    else
        "$psql_bin" -X -q -A -t -v ON_ERROR_STOP=1 -v tenant="$tenant" -d "$conn"
    fi
}

work=$(mktemp -d /tmp/kaireon-move.XXXXXX)
stage=checks
on_exit() {
    local rc=$?
    if [ $rc -ne 0 ]; then
        case "$stage" in
            frozen)
                if q "$source" "SELECT kaireon.unfreeze_tenant(:'tenant')" >/dev/null 2>&1; then
                    echo "move_tenant: failed; the tenant stays on the source and takes calls again (unfrozen)" >&2
                else
                    echo "move_tenant: failed, and unfreezing it on the source failed too: run SELECT kaireon.unfreeze_tenant('$tenant') there" >&2
                fi ;;
            adopted)
                echo "move_tenant: failed after the target committed the copy: the tenant is on both shards, frozen on the source." >&2
                echo "  $switched of the ${#routers[@]} routers point at the target (in the order given)." >&2
                echo "  To finish: on each other router SELECT kaireon_router.relocate_tenant('$tenant', $partition); on the source SELECT kaireon.release_moved_tenant('$tenant');" >&2
                echo "  To call it off: on the target SELECT kaireon.drop_tenant('$tenant'); on the source SELECT kaireon.unfreeze_tenant('$tenant');" >&2 ;;
            relocated)
                echo "move_tenant: the tenant lives on the target now, but releasing it on the source failed: run SELECT kaireon.release_moved_tenant('$tenant') there" >&2 ;;
        esac
    fi
    rm -rf "$work"
}
trap on_exit EXIT

# 1. Checks. Nothing changes until the freeze.
# Every router must send every tenant to the same shard: one map, one
# directory (the digest covers partitions -> shards and tenants ->
# partitions, not the connection strings, which may differ per router).
digest=$(q "$router" "SELECT kaireon_router.map_digest() ->> 'digest'") || die "router 1 has no kaireon_router.map_digest() (kaireon_router 0.4)"
for i in "${!routers[@]}"; do
    other=$(q "${routers[$i]}" "SELECT kaireon_router.map_digest() ->> 'digest'") ||
        die "router $((i + 1)) of ${#routers[@]} has no kaireon_router.map_digest() (kaireon_router 0.4)"
    [ "$other" = "$digest" ] ||
        die "the routers' maps differ (router $((i + 1)) of ${#routers[@]} against router 1: compare kaireon_router.placements): make them agree first"
done
placement=$(q "$router" "SELECT d.partition || '|' || p.shard || '|' || coalesce((SELECT p2.shard FROM kaireon_router.partitions p2 WHERE p2.partition = $partition), '')
    FROM kaireon_router.tenant_directory d JOIN kaireon_router.partitions p USING (partition) WHERE d.tenant_id = :'tenant'")
[ -n "$placement" ] || die "tenant \"$tenant\" is not in the router's directory"
IFS='|' read -r from_partition from_shard to_shard <<<"$placement"
[ -n "$to_shard" ] || die "the router has no partition $partition"
[ "$from_shard" != "$to_shard" ] ||
    die "partition $partition is on shard \"$to_shard\", where \"$tenant\" already is: no rows move; call kaireon_router.relocate_tenant('$tenant', $partition)"
[ "$(q "$source" "SELECT extversion FROM pg_extension WHERE extname = 'kaireon'")" = \
  "$(q "$target" "SELECT extversion FROM pg_extension WHERE extname = 'kaireon'")" ] ||
    die "the source and target run different versions of kaireon: ALTER EXTENSION kaireon UPDATE on both first"
[ "$(q "$source" "SELECT count(*) FROM kaireon.tenants WHERE tenant_id = :'tenant'")" = 1 ] ||
    die "the source holds no tenant \"$tenant\" (is --source the database of shard \"$from_shard\"?)"
state=$(q "$source" "SELECT state FROM kaireon.tenant_moves WHERE tenant_id = :'tenant'")
[ "$state" != frozen ] || die "tenant \"$tenant\" is frozen on the source already (a move in progress, or one that failed: kaireon.unfreeze_tenant)"

# The tables to copy, with their columns, as the source lists them:
# audit_chain_state is derived (the target's first seal_audit run rebuilds
# it) and tenant_moves is the source's own record of the move.
q "$source" >"$work/tables" <<'SQL'
SELECT c.oid::regclass::text, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
WHERE c.oid = 'kaireon.tenants'::regclass
   OR c.oid IN (SELECT tt.table_name FROM kaireon.tenant_tables tt
                WHERE tt.table_name NOT IN ('kaireon.audit_chain_state'::regclass, 'kaireon.tenant_moves'::regclass))
GROUP BY 1 ORDER BY 1
SQL
[ "$(wc -l <"$work/tables")" -gt 10 ] || die "could not list the source's tenant tables"

held=$(while IFS='|' read -r table _; do
           echo "SELECT '$table' FROM $table WHERE tenant_id = :'tenant' HAVING count(*) > 0;"
       done <"$work/tables"
       echo "SELECT 'kaireon.tenant_moves' FROM kaireon.tenant_moves WHERE tenant_id = :'tenant' AND state <> 'moved';")
held=$(echo "$held" | q "$target" | tr '\n' ' ')
[ -z "$held" ] || die "the target already holds rows of \"$tenant\" in: $held(moving a tenant back to a shard that kept its audit trail is not supported)"

# What the tenant's rows depend on outside them must read the same on both.
config_sql="SELECT 'features', md5(coalesce(string_agg(f.key || f.type || f.options::text, '|' ORDER BY f.key), '')) FROM kaireon.features f
UNION ALL SELECT 'plan_defaults', md5(coalesce(string_agg(d.tier || d.feature || d.value::text, '|' ORDER BY d.tier, d.feature), '')) FROM kaireon.plan_defaults d
UNION ALL SELECT 'plan_entitlements', md5(coalesce(string_agg(e.tier || e.feature || e.value::text, '|' ORDER BY e.tier, e.feature), '')) FROM kaireon.plan_entitlements e
UNION ALL SELECT 'license_keys', md5(coalesce(string_agg(k.kid || k.alg || k.public_key_pem || (k.revoked_at IS NULL)::text, '|' ORDER BY k.kid), '')) FROM kaireon.license_keys k
UNION ALL SELECT 'revoked_licenses', md5(coalesce(string_agg(r.jti, '|' ORDER BY r.jti), '')) FROM kaireon.revoked_licenses r"
diff <(q "$source" "$config_sql") <(q "$target" "$config_sql") >"$work/config.diff" ||
    die "the shards differ in $(awk -F'|' '/^[<>]/ {print $1}' "$work/config.diff" | tr -d '<> ' | sort -u | tr '\n' ' ')(define features, plans and licence keys alike on every shard first)"
missing=$(q "$source" "SELECT string_agg(DISTINCT g.role::text, ' ') FROM kaireon.tenant_grants g WHERE g.tenant_id = :'tenant'" |
          tr ' ' '\n' | while read -r role; do
              [ -z "$role" ] || [ "$(q "$target" "SELECT to_regrole(:'role') IS NOT NULL" -v role="$role")" = t ] || echo -n "$role "
          done)
[ -z "$missing" ] || die "roles granted the tenant do not exist on the target: $missing"
say "checks passed: \"$tenant\" moves from partition $from_partition (shard $from_shard) to $partition (shard $to_shard)"

# 2. Freeze.
stage=frozen
q "$source" "SET lock_timeout = '10s'; SELECT kaireon.freeze_tenant(:'tenant');" >/dev/null 2>"$work/freeze.err" ||
    die "freezing failed (calls in flight did not end within 10 s?): $(cat "$work/freeze.err")"
say "frozen on the source: its calls get KR503 TENANT_MOVING until the move ends"

# 3. Copy out, in one snapshot.
{
    echo "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
    while IFS='|' read -r table columns; do
        # (the tenant id is checked above: [a-z0-9_-] only; \copy does not take :variables)
        echo "\\copy (SELECT $columns FROM $table WHERE tenant_id = '$tenant') TO '$work/$table.copy'"
    done <"$work/tables"
    echo "\\copy (SELECT coalesce((SELECT position FROM kaireon.webhook_plan_position), 0)) TO '$work/plan_position'"
    echo "COMMIT;"
} >"$work/export.sql"
q "$source" <"$work/export.sql" || die "copying from the source failed"
expected=$(while IFS='|' read -r table _; do
               printf '"%s": %s\n' "$table" "$(wc -l <"$work/$table.copy")"
           done <"$work/tables" | paste -sd, -)
say "copied $(cat "$work"/*.copy | wc -l) rows from the source"

# 4. Load and adopt on the target, in one transaction.
{
    echo "BEGIN;"
    echo "SET LOCAL session_replication_role = replica;"
    echo "SET LOCAL lock_timeout = '30s';"
    echo "CREATE TEMP TABLE kaireon_moved_events (LIKE kaireon.events) ON COMMIT DROP;"
    while IFS='|' read -r table columns; do
        into=$table
        [ "$table" != kaireon.events ] || into=pg_temp.kaireon_moved_events
        echo "\\copy $into ($columns) FROM '$work/$table.copy'"
    done <"$work/tables"
    cat <<SQL
SELECT kaireon.adopt_moved_tenant(:'tenant', $(cat "$work/plan_position")) AS adopted \\gset
SELECT kaireon._raise('BAD_REQUEST', 'row counts differ after the copy: ' || string_agg(e.key || ' ' || e.value || ' on the source, ' || coalesce(a.value::text, 'none') || ' here', '; '))
FROM jsonb_each(:'expected'::jsonb) e LEFT JOIN jsonb_each(:'adopted'::jsonb -> 'rows') a USING (key)
HAVING count(*) FILTER (WHERE a.value IS DISTINCT FROM e.value) > 0;
COMMIT;
SQL
} >"$work/import.sql"
q "$target" "\\i $work/import.sql" -v expected="{$expected}" >/dev/null || die "loading into the target failed; nothing was committed there"
stage=adopted
say "loaded and adopted on the target; row counts match the source"

# 5. Route to the target, on every router.
for i in "${!routers[@]}"; do
    q "${routers[$i]}" "SELECT kaireon_router.relocate_tenant(:'tenant', $partition)" >/dev/null ||
        die "router $((i + 1)) of ${#routers[@]} did not take the new placement"
    switched=$((i + 1))
done
stage=relocated
say "every router (${#routers[@]}) sends \"$tenant\" to partition $partition (shard $to_shard)"

# 6. Release on the source.
q "$source" "SELECT kaireon.release_moved_tenant(:'tenant')" >/dev/null || die "releasing the tenant on the source failed"
stage=done
say "released on the source; move done"
