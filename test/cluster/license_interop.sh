#!/usr/bin/env bash
# Licences minted by an independent implementation (Debian's python3-jwt and
# python3-cryptography, with fresh keys on every run) are accepted and
# refused exactly as expected: all four algorithms verify, and each attack
# gets its own reason. Runs against the cluster in PGHOST/PGPORT.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
db=kr_license_interop
work=$(mktemp -d)
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

/usr/bin/python3 "$here/test/license/mint.py" interop "$work"
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
result=$(psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -v cases="$(cat "$work/cases.json")" <<'SQL'
CREATE EXTENSION kaireon;
SELECT set_config('kaireon.test_clock', :'cases'::jsonb ->> 'clock', false) IS NOT NULL;
SELECT kaireon.create_tenant(:'cases'::jsonb ->> 'tenant', 'Interop', 'interop@example.test') IS NOT NULL;
SELECT count(kaireon.add_license_key(k ->> 'kid', k ->> 'alg', k ->> 'pem'))
FROM jsonb_array_elements(:'cases'::jsonb -> 'keys') AS k;
SELECT set_config('kaireon.tenant', :'cases'::jsonb ->> 'tenant', false) IS NOT NULL;
-- outcome answers 'valid' or the KR401 reason.
CREATE FUNCTION pg_temp.outcome(token text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    RETURN kaireon.install_license(token) ->> 'state';
EXCEPTION WHEN SQLSTATE 'KR401' THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN detail::jsonb ->> 'reason';
END
$$;
SELECT c ->> 'name' || ': expected ' || (c ->> 'expect') || ', got ' || coalesce(pg_temp.outcome(c ->> 'token'), 'null')
FROM jsonb_array_elements(:'cases'::jsonb -> 'cases') AS c;
SQL
)
# One refusal at top level, where PostgreSQL would log the failing statement
# (and with it the token) unless kaireon hides it.
bad_token=$(/usr/bin/python3 -c 'import json,sys; print([c["token"] for c in json.load(open(sys.argv[1]))["cases"] if c["name"] == "signed_by_other_key"][0])' "$work/cases.json")
psql -qXAt -d "$db" -c "SET kaireon.test_clock = '2026-06-01T00:00:00Z'" -c "SELECT kaireon.install_license('$bad_token')" \
    >/dev/null 2>&1 && { echo "license_interop: a forged token was installed" >&2; exit 1; }
cases=$(grep -c ': expected' <<<"$result")
wrong=$(grep ': expected' <<<"$result" | awk -F': expected |, got ' '$2 != $3' || true)
if [ "$cases" -lt 20 ] || [ -n "$wrong" ]; then
    echo "license_interop: $cases cases; mismatches:" >&2
    echo "${wrong:-(too few cases)}" >&2
    exit 1
fi
# Secrets never reach the server log: no token's signature appears in it,
# although every refused install was logged (with its reason).
log="$PGHOST/server.log"
if [ -r "$log" ]; then
    grep -q 'kaireon: licence refused for tenant "interop"' "$log" || {
        echo "license_interop: refused installs were not logged" >&2
        exit 1
    }
    /usr/bin/python3 -c 'import json,sys; [print(c["token"].split(".")[-1][:40]) for c in json.load(open(sys.argv[1]))["cases"] if len(c["token"].split(".")[-1]) >= 40]' \
        "$work/cases.json" >"$work/signatures"
    if grep -F -f "$work/signatures" "$log" >/dev/null; then
        echo "license_interop: a licence token appears in the server log" >&2
        exit 1
    fi
fi
echo "license_interop: $cases tokens from PyJWT accepted or refused as expected; none in the server log"
