# cluster.sh - a throw-away PostgreSQL 15 cluster for tests, the demo and the
# benchmarks: created as the postgres user in a temporary directory, on a free
# port, with kaireon and pg_cron preloaded. Sourced; runs as root.
#
#   kr_cluster_start      creates and starts it; exports PGHOST PGPORT PGUSER
#   kr_cluster_stop       stops it and removes its directory
#   kr_cluster_restart    restarts it (shared memory is rebuilt)
#   kr_node_start         one of several clusters side by side (a router and
#                         its shards): its own directory and port
# KR_PRELOAD overrides shared_preload_libraries (default "kaireon, pg_cron").
# KR_ASAN=1 runs the server with the AddressSanitizer runtime preloaded, for a
# library built with `make KAIREON_SANITIZE=1`; reports go to server.log.

KR_PGBIN=${KR_PGBIN:-/usr/lib/postgresql/15/bin}
KR_CLUSTER_DIR=""

kr_as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# kr_free_port prints a TCP port on 127.0.0.1 that nothing listens on. Ports
# come from below the kernel's ephemeral range: a port inside it can be held
# by any client connection's local end (CI once lost a run to exactly that:
# "could not bind ... Address already in use" on a port nothing listened on).
kr_free_port() {
    local low=32768 port
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    [ "$low" -gt 12000 ] || low=32768
    for port in $(shuf -i "10000-$((low - 1))" -n 100); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "kaireon: no free port found" >&2
    return 1
}

kr_cluster_start() {
    KR_CLUSTER_DIR=$(mktemp -d /tmp/kaireon-cluster.XXXXXX)
    chmod 755 "$KR_CLUSTER_DIR"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$KR_CLUSTER_DIR"; fi
    local port
    port=$(kr_free_port) || return 1
    kr_as_postgres "$KR_PGBIN/initdb" -D "$KR_CLUSTER_DIR/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$KR_CLUSTER_DIR/initdb.log" 2>&1 || {
        cat "$KR_CLUSTER_DIR/initdb.log" >&2
        return 1
    }
    cat >>"$KR_CLUSTER_DIR/data/postgresql.conf" <<CONF
# kaireon throw-away cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$KR_CLUSTER_DIR'
shared_preload_libraries = '${KR_PRELOAD-kaireon, pg_cron}'
cron.database_name = 'postgres'
max_connections = 120
max_prepared_transactions = 10
fsync = off
full_page_writes = off
log_min_messages = warning
lc_messages = 'C'
CONF
    local env=()
    if [ "${KR_ASAN:-0}" = 1 ]; then
        env=(env "LD_PRELOAD=$(g++ -print-file-name=libasan.so)"
            "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:log_path=$KR_CLUSTER_DIR/asan")
    fi
    # A port free when checked can be taken before the postmaster binds it:
    # on "could not bind", pick another one and try again.
    local attempt
    for attempt in 1 2 3 4 5; do
        echo "port = $port" >"$KR_CLUSTER_DIR/data/port.conf"
        grep -q "^include_if_exists = 'port.conf'" "$KR_CLUSTER_DIR/data/postgresql.conf" ||
            echo "include_if_exists = 'port.conf'" >>"$KR_CLUSTER_DIR/data/postgresql.conf"
        chown --reference="$KR_CLUSTER_DIR/data" "$KR_CLUSTER_DIR/data/port.conf" 2>/dev/null || true
        if kr_as_postgres "${env[@]}" "$KR_PGBIN/pg_ctl" -D "$KR_CLUSTER_DIR/data" -l "$KR_CLUSTER_DIR/server.log" \
            -w -t 60 start >"$KR_CLUSTER_DIR/pg_ctl.log" 2>&1; then
            break
        fi
        if [ "$attempt" -lt 5 ] && grep -q 'could not bind' "$KR_CLUSTER_DIR/server.log"; then
            port=$(kr_free_port) || return 1
            continue
        fi
        cat "$KR_CLUSTER_DIR/server.log" >&2
        return 1
    done
    export PGHOST="$KR_CLUSTER_DIR" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
    echo "kaireon: cluster on port $port in $KR_CLUSTER_DIR"
}

kr_cluster_restart() {
    # Sourcing this file empties KR_CLUSTER_DIR: say so rather than restart nothing.
    if [ -z "$KR_CLUSTER_DIR" ]; then
        echo "kr_cluster_restart: no cluster (KR_CLUSTER_DIR is empty; source this file before setting it)" >&2
        return 1
    fi
    kr_as_postgres "$KR_PGBIN/pg_ctl" -D "$KR_CLUSTER_DIR/data" -l "$KR_CLUSTER_DIR/server.log" -w -t 60 \
        -m fast restart >/dev/null
}

kr_cluster_stop() {
    if [ -n "$KR_CLUSTER_DIR" ] && [ -d "$KR_CLUSTER_DIR" ]; then
        kr_as_postgres "$KR_PGBIN/pg_ctl" -D "$KR_CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$KR_CLUSTER_DIR"
    fi
    KR_CLUSTER_DIR=""
}

# kr_node_start WORKDIR NAME PRELOAD [CONF_LINE...]: one cluster of several
# side by side (the scale-out test and benchmark: a router and its shards),
# in WORKDIR/NAME (data, logs), listening on 127.0.0.1 and a free port, which
# it writes to WORKDIR/NAME/port. PRELOAD is shared_preload_libraries ("" for
# none). The defaults are a test cluster's (no fsync); each CONF_LINE is
# appended after them to postgresql.conf, where the last setting wins
# (e.g. "fsync = on"). WORKDIR must be readable by postgres (chmod 755, and
# owned by postgres when run as root). Several may start in parallel.
kr_node_start() {
    if [ $# -lt 3 ]; then
        echo "usage: kr_node_start WORKDIR NAME PRELOAD [CONF_LINE...]" >&2
        return 2
    fi
    local dir="$1/$2" preload=$3 port attempt
    shift 3
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
    if [ $# -gt 0 ]; then printf '%s\n' "$@" >>"$dir/data/postgresql.conf"; fi
    # A port free when checked can be taken before the postmaster binds it:
    # on "could not bind", pick another one and try again.
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
