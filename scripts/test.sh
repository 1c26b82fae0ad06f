#!/usr/bin/env bash
# scripts/test.sh - runs every kaireon test suite on a fresh Debian 12 machine
# (as root): installs what is missing, builds with warnings as errors, runs
# the fuzz, benchmark smoke, oracle and boundary tests of the core, its unit
# tests under AddressSanitizer/UBSan, then pg_regress, isolation specs, pgTAP and the
# cluster scripts on a throw-away cluster. Ends with one line
# "N passed, N failed" and exits non-zero on any failure. The cluster is
# always removed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=lib/deps.sh
source scripts/lib/deps.sh
# shellcheck source=lib/cluster.sh
source scripts/lib/cluster.sh

jobs=$(nproc 2>/dev/null || echo 2)
logs="$root/build/test-logs"
total_passed=0
total_failed=0
summary=()
section_start=$SECONDS

# section TITLE: prints a heading and starts the clock that record reads, so
# the summary shows where the suite's time goes.
section() {
    echo "== $1"
    section_start=$SECONDS
}

# record SUITE PASSED FAILED: adds a suite's counts to the totals.
record() {
    total_passed=$((total_passed + $2))
    total_failed=$((total_failed + $3))
    summary+=("$(printf '%-12s %4d passed, %d failed  (%d s)' "$1" "$2" "$3" $((SECONDS - section_start)))")
}

# step NAME LOG CMD...: runs a command that must succeed (a build); a failure
# counts as one failed test and prints the end of its log.
step() {
    local name=$1 log=$2
    shift 2
    if "$@" >"$log" 2>&1; then
        return 0
    fi
    echo "FAILED: $name (log: $log)" >&2
    tail -n 40 "$log" >&2
    record "$name" 0 1
    return 1
}

# ctest_suite NAME BUILD_DIR CMAKE_ARGS...: configures, builds and runs ctest.
ctest_suite() {
    local name=$1 dir=$2
    shift 2
    step "$name-build" "$logs/$name-configure.log" cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DKAIREON_WERROR=ON "$@" || return
    step "$name-build" "$logs/$name-build.log" cmake --build "$dir" -j "$jobs" || return
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" >"$logs/$name-ctest.log" 2>&1
    local line failed total
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$logs/$name-ctest.log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAILED: $name: no ctest summary (log: $logs/$name-ctest.log)" >&2
        tail -n 40 "$logs/$name-ctest.log" >&2
        record "$name" 0 1
        return
    fi
    failed=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    [ "$failed" -gt 0 ] && grep -E '^\s+[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess aborted|Exception)' "$logs/$name-ctest.log" >&2
    record "$name" $((total - failed)) "$failed"
}

# regress_suite NAME LOG MAKE_ARGS...: runs `make installcheck` and counts the
# "... ok" and "... FAILED" lines of pg_regress / pg_isolation_regress.
regress_suite() {
    local name=$1 log=$2
    shift 2
    make installcheck "$@" >"$log" 2>&1
    local rc=$? ok bad
    ok=$(grep -cE '\.\.\. ok' "$log")
    bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$log")
    if [ $rc -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
    if [ "$bad" -gt 0 ]; then
        echo "FAILED: $name (log: $log)" >&2
        grep -E '\.\.\. FAILED|\.\.\. failed' "$log" >&2
        for diffs in regression.diffs test/isolation/output/regression.diffs; do
            [ -f "$diffs" ] && head -n 80 "$diffs" >&2
        done
    fi
    record "$name" "$ok" "$bad"
}

# pgtap_suite: pg_prove over test/pgtap/*.sql in a fresh database.
pgtap_suite() {
    local log="$logs/pgtap.log" db=kaireon_pgtap
    shopt -s nullglob
    local files=(test/pgtap/*.sql)
    shopt -u nullglob
    if [ ${#files[@]} -eq 0 ]; then
        echo "FAILED: pgtap: no test files" >&2
        record pgtap 0 1
        return
    fi
    dropdb --if-exists "$db" >/dev/null 2>&1
    createdb "$db" && psql -qX -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION kaireon' \
        >"$log" 2>&1 || {
        cat "$log" >&2
        record pgtap 0 1
        return
    }
    pg_prove -d "$db" "${files[@]}" >>"$log" 2>&1
    local rc=$? tests failed
    tests=$(grep -oE 'Tests=[0-9]+' "$log" | tail -n 1 | cut -d= -f2)
    failed=$(grep -oE 'Failed [0-9]+/[0-9]+ subtests' "$log" | awk '{split($2, a, "/"); s += a[1]} END {print s + 0}')
    tests=${tests:-0}
    if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    if [ $rc -ne 0 ]; then
        echo "FAILED: pgtap (log: $log)" >&2
        grep -vE '^\S+\.sql \.+ ok$' "$log" | head -n 80 >&2
    fi
    record pgtap $((tests > failed ? tests - failed : 0)) "$failed"
}

# cluster_suite: every test/cluster/*.sh is one test.
cluster_suite() {
    local ok=0 bad=0 script log
    for script in test/cluster/*.sh; do
        log="$logs/cluster-$(basename "$script" .sh).log"
        local started=$SECONDS
        if bash "$script" >"$log" 2>&1; then
            ok=$((ok + 1))
            echo "   $(basename "$script") ok ($((SECONDS - started)) s)"
        else
            bad=$((bad + 1))
            echo "FAILED: $script (log: $log)" >&2
            tail -n 40 "$log" >&2
        fi
    done
    record cluster "$ok" "$bad"
}

main() {
    kr_install_deps || {
        echo "0 passed, 1 failed"
        exit 1
    }
    mkdir -p "$logs"

    # The unit tests are built and run once, in the sanitizer build: a second
    # -O2 build of them cost about 3.7 of the core step's 6.7 minutes.
    section "core: fuzz, benchmark smoke, oracles, boundary (ctest)"
    ctest_suite core "$root/build/core" -DKAIREON_UNIT=OFF
    section "core unit tests under AddressSanitizer + UBSan"
    # -O0 -g1: the sanitizers need no optimiser, and it compiles the unit
    # tests about 7x faster than -O2 -g (measured on catalog_test.cpp: 40 s
    # vs 285 s), which was the longest step of this script.
    ctest_suite asan "$root/build/asan" -DKAIREON_SANITIZE=ON -DKAIREON_UNIT_ONLY=ON \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1"

    section "extension: build and install"
    if step extension-build "$logs/extension-build.log" make -j "$jobs" KAIREON_WERROR=1 &&
        step extension-install "$logs/extension-install.log" make install; then
        kr_cluster_start || {
            record cluster-start 0 1
            finish
        }
        trap kr_cluster_stop EXIT
        section "pg_regress"
        regress_suite regress "$logs/regress.log" ISOLATION=
        section "isolation"
        regress_suite isolation "$logs/isolation.log" REGRESS=
        section "pgTAP"
        pgtap_suite
        section "cluster scripts"
        cluster_suite
    fi
    finish
}

finish() {
    echo
    printf '%s\n' "${summary[@]}"
    echo "$total_passed passed, $total_failed failed"
    [ "$total_failed" -eq 0 ]
    exit $?
}

main "$@"
