# shellcheck shell=bash
# scripts/lib/perf_database.sh - sourced by the benchmarks that load the
# suite's database (test/perf/run, anatomy.sh, and those that count with
# valgrind on single-user backends: cache_lines.sh, instructions.sh), after
# scripts/lib/cluster.sh and license.sh, from the repository's root.

# kr_suite_settings: the running throw-away cluster restarted with the
# suite's settings, the same for every path: durable commits (unlike the
# test clusters), buffers that hold the data set.
kr_suite_settings() {
    psql -qX -d postgres -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET full_page_writes = on" \
        -c "ALTER SYSTEM SET synchronous_commit = on" -c "ALTER SYSTEM SET shared_buffers = '512MB'" \
        -c "ALTER SYSTEM SET max_wal_size = '4GB'" >/dev/null
    kr_cluster_restart
}

# kr_valgrind_bench NAME: what a counting benchmark needs first: valgrind
# (installed when missing), $out = build/NAME for the cachegrind files it
# keeps, $work = a scratch directory; at exit both the scratch directory and
# the cluster kr_suite_database starts go.
kr_valgrind_bench() {
    if ! command -v valgrind >/dev/null; then
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
    fi
    # shellcheck disable=SC2034  # the caller's
    out="$PWD/build/$1"
    mkdir -p "$out"
    work=$(mktemp -d)
    chmod 755 "$work"
    trap 'kr_cluster_stop; rm -rf "$work"' EXIT
}

# kr_suite_database WORK TENANTS: starts a throw-away cluster, loads the
# suite's database into it (test/perf/harness.py: the demo catalog for tenant
# perf under an enterprise licence, the response and usage tenants, the
# plain SQL's tables, and TENANTS - 1 copies of perf), and stops the
# server. Its data directory is $KR_CLUSTER_DIR/data; the caller's EXIT trap
# runs kr_cluster_stop.
kr_suite_database() {
    local work=$1 tenants=$2 i
    kr_cluster_start >/dev/null
    kr_demo_key "$work"
    {
        kr_mint_license "$work/demo-key.pem" perf-key perf enterprise 30
        for ((i = 1; i < tenants; i++)); do
            kr_mint_license "$work/demo-key.pem" perf-key "perf$(printf %03d "$i")" enterprise 30
        done
    } >"$work/licenses"
    /usr/bin/python3 - "$work" "$tenants" <<'PY'
import sys, types
sys.path.insert(0, "test/perf")
import harness
work, tenants = sys.argv[1], int(sys.argv[2])
args = types.SimpleNamespace(public_key_text=open(f"{work}/demo-key.pub.pem").read(),
                             licenses=open(f"{work}/licenses").read().split())
harness.setup(args)
harness.setup_plain_sql()
if tenants > 1:
    harness.add_tenants(args, tenants)
PY
    kr_as_postgres "$KR_PGBIN/pg_ctl" -D "$KR_CLUSTER_DIR/data" -m fast stop >/dev/null
}

# kr_cachegrind_single NAME WORK CACHEGRIND_ARGS...: cachegrind (with those
# arguments; callgrind when KR_VALGRIND_TOOL=callgrind) of a single-user
# backend over a copy of the suite's database ($KR_CLUSTER_DIR/data,
# database kr_perf) running WORK/NAME.sql; writes WORK/NAME.out and
# WORK/NAME.log. `postgres --single -j` ends a command at a semicolon
# followed by an empty line: statements on consecutive lines are one
# command, one transaction.
kr_cachegrind_single() {
    local name=$1 work=$2 tool=${KR_VALGRIND_TOOL:-cachegrind}
    shift 2
    cp -a "$KR_CLUSTER_DIR/data" "$work/d_$name"
    rm -f "$work/d_$name/postmaster.pid"
    chown -R postgres: "$work"
    kr_as_postgres valgrind --tool="$tool" "$@" --"$tool"-out-file="$work/$name.out" "$KR_PGBIN/postgres" \
        --single -j -D "$work/d_$name" -c shared_preload_libraries=kaireon kr_perf <"$work/$name.sql" \
        >"$work/$name.log" 2>&1
    rm -rf "$work/d_$name"
}

# kr_cachegrind_kept NAME: exits (status 1, with the run's errors) when the
# run NAME of kr_cachegrind_single did not finish or its backend reported an
# error; else keeps $work/NAME.out as $out/NAME.out.
kr_cachegrind_kept() {
    if ! grep -q '^summary:' "$work/$1.out" 2>/dev/null || grep -q 'ERROR' "$work/$1.log"; then
        echo "$(basename "$0"): the $1 run failed:" >&2
        grep -m 5 'ERROR' "$work/$1.log" >&2 || tail -20 "$work/$1.log" >&2
        exit 1
    fi
    cp "$work/$1.out" "$out/$1.out"
}

# kr_valgrind_tool cachegrind|callgrind: the tool of the counting runs below
# (callgrind for callgrind_annotate --inclusive=yes; cachegrind runs about
# twice as fast, its counts within 0.6 % of callgrind's in instructions.sh
# and first_decision.sh); sets tool_args, no cache simulation.
kr_valgrind_tool() {
    export KR_VALGRIND_TOOL=$1
    # shellcheck disable=SC2034  # the caller's
    tool_args=(--cache-sim=no)
    [ "$1" = callgrind ] && tool_args+=(--dump-instr=no)
    return 0
}

# kr_instructions_between A B: runs $work/A.sql and $work/B.sql (two
# backends at once, each on its copy of the database, with tool_args), keeps
# both files and prints B's instructions less A's.
kr_instructions_between() {
    kr_cachegrind_single "$1" "$work" "${tool_args[@]}" &
    kr_cachegrind_single "$2" "$work" "${tool_args[@]}" &
    wait
    kr_cachegrind_kept "$1"
    kr_cachegrind_kept "$2"
    echo $(( $(awk '/^summary:/ {print $2}' "$work/$2.out") - $(awk '/^summary:/ {print $2}' "$work/$1.out") ))
}
