#!/usr/bin/env bash
# scripts/perf.sh - the kaireon benchmarks on a fresh Debian 12 machine (as
# root); not part of scripts/test.sh, which never fails on speed. Installs
# what is missing, builds and installs the extension (as scripts/demo.sh
# does), builds the Google Benchmark micro-benchmarks of the core (CMake, in
# build/perf), starts a throw-away cluster and runs every test/perf/*.sh
# against it, then the micro-benchmarks. The cluster is always removed; logs
# are in build/perf-logs. Exits non-zero when a benchmark failed or one of
# its checks did not hold. docs/performance.md explains the numbers.
#
#   ./scripts/perf.sh                     everything
#   ./scripts/perf.sh usage bench_core    only these (test/perf/usage.sh, build/perf/bench_core)
#   ./scripts/perf.sh --no-build ...      use the kaireon already installed, skip make / make install
#   KR_PERF_SECONDS=60 ./scripts/perf.sh  seconds per pgbench run (default 20)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=lib/deps.sh
source scripts/lib/deps.sh
# shellcheck source=lib/cluster.sh
source scripts/lib/cluster.sh

build=true
if [ "${1:-}" = "--no-build" ]; then
    build=false
    shift
fi
only=("$@")
jobs=$(nproc 2>/dev/null || echo 2)
export KR_PERF_SECONDS=${KR_PERF_SECONDS:-20}
export KR_PERF_LOGS="$root/build/perf-logs"
mkdir -p "$KR_PERF_LOGS"
failures=()

# wanted NAME: true when NAME was asked for (or nothing was named).
wanted() {
    [ ${#only[@]} -eq 0 ] && return 0
    local n
    for n in "${only[@]}"; do [ "$n" = "$1" ] && return 0; done
    return 1
}

shopt -s nullglob
sql_benches=()
for script in test/perf/*.sh; do
    wanted "$(basename "$script" .sh)" && sql_benches+=("$script")
done
# Micro-benchmarks: every test/perf/bench_*.cpp that CMakeLists.txt builds.
micro_benches=()
for source in test/perf/bench_*.cpp; do
    name=$(basename "$source" .cpp)
    grep -q "add_executable($name " CMakeLists.txt && wanted "$name" && micro_benches+=("$name")
done
shopt -u nullglob
if [ ${#sql_benches[@]} -eq 0 ] && [ ${#micro_benches[@]} -eq 0 ]; then
    echo "perf.sh: no benchmark named ${only[*]}" >&2
    exit 2
fi

kr_install_deps
if $build && [ ${#sql_benches[@]} -gt 0 ]; then
    echo "== building and installing kaireon"
    make -s -j "$jobs" >/dev/null
    make -s install >/dev/null
fi
if [ ${#micro_benches[@]} -gt 0 ]; then
    echo "== building the micro-benchmarks (build/perf)"
    if ! { cmake -S "$root" -B "$root/build/perf" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKAIREON_WERROR=ON &&
        cmake --build "$root/build/perf" -j "$jobs" --target "${micro_benches[@]}"; } \
        >"$KR_PERF_LOGS/micro-build.log" 2>&1; then
        echo "FAILED: building the micro-benchmarks (log: $KR_PERF_LOGS/micro-build.log)" >&2
        tail -n 20 "$KR_PERF_LOGS/micro-build.log" >&2
        failures+=(micro-build)
        micro_benches=()
    fi
fi

if [ ${#sql_benches[@]} -gt 0 ]; then
    kr_cluster_start
    trap kr_cluster_stop EXIT
    echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)," \
        "$(postgres --version 2>/dev/null || "$KR_PGBIN/postgres" --version); fsync = off"
    for script in "${sql_benches[@]}"; do
        echo "== $script (${KR_PERF_SECONDS}s per run)"
        bash "$script" || failures+=("$script")
    done
    kr_cluster_stop
    trap - EXIT
fi

for name in "${micro_benches[@]}"; do
    echo "== build/perf/$name"
    "$root/build/perf/$name" --benchmark_counters_tabular=true || failures+=("$name")
done

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "perf.sh: failed: ${failures[*]}"
    exit 1
fi
echo "perf.sh: all benchmarks ran"
