# deps.sh - installs the Debian 12 packages kaireon needs, only those missing.
# Sourced by scripts/test.sh and scripts/demo.sh; runs as root.

KAIREON_PACKAGES=(
    # toolchain
    g++ make cmake pkg-config ca-certificates openssl
    # PostgreSQL 15 and its companions
    postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgtap postgresql-15-plproxy
    postgresql-15-partman
    libtap-parser-sourcehandler-pgtap-perl
    # libraries
    libssl-dev nlohmann-json3-dev
    # the webhook deliverer (src/webhookd): libpq and libcurl
    libpq-dev libcurl4-openssl-dev
    # test oracles (run with /usr/bin/python3), and the browser that renders the usage report
    python3-jwt python3-cryptography python3-xgboost python3-scipy python3-numpy chromium
    # tests, benchmarks, fuzzing, sanitizers
    libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev
)

kr_install_deps() {
    local missing=()
    local pkg
    for pkg in "${KAIREON_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "kaireon: missing packages (${missing[*]}); run as root to install them" >&2
        return 1
    fi
    echo "kaireon: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # postgresql-common must not create its default cluster: the scripts make
    # their own throw-away clusters.
    mkdir -p /etc/postgresql-common
    if [ ! -f /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
        echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
