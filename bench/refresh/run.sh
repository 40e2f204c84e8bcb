#!/usr/bin/env bash
# Staging refresh benchmark (PostgreSQL): `holdfast refresh copy` (copy and sanitize in one
# pass, then the leak proof) against the floor `pg_dump -Fd -j N | pg_restore -j N` (a plain
# copy, nothing sanitized) and against the usual two-step pipeline, that floor followed by
# pganonymize (PyPI) on the copy, with the same columns sanitized. Then in place:
# `holdfast refresh sanitize --in-place` against the floor of one server-side
# `UPDATE … SET c = md5(c)` per table and against pganonymize, each on a fresh image of the source.
#
#   bench/refresh/run.sh                 # install pganonymize (once, cached), build, measure, write BENCHMARKS.md
#   bench/refresh/run.sh --install-only  # only install the peer into the cache folder
#
# Environment:
#   HOLDFAST_BENCH_POSTGRES_URL  server (default postgres://postgres@127.0.0.1:5432/postgres;
#                                trust auth, a user that may CREATE DATABASE)
#   HOLDFAST_BENCH_ROWS          rows over the 6 tables (default 1000000; 10000000 is ~1 GB)
#   HOLDFAST_BENCH_JOBS          N: tables in parallel for every tool (default 2)
#   HOLDFAST_BENCH_RUNS          repetitions (default 3)
#   HOLDFAST_BENCH_MEMORY_ROWS   a second size, for holdfast's peak memory (default a quarter of the rows)
#   HOLDFAST_BENCH_TOOLS_DIR     cache folder for the peer (default target/bench-tools)
#   HOLDFAST_BENCH_NO_WRITE=1    print the table but leave BENCHMARKS.md alone
#
# Generating the data, installing and building are not timed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tools="${HOLDFAST_BENCH_TOOLS_DIR:-$root/target/bench-tools}"
mkdir -p "$tools"
tools="$(cd "$tools" && pwd)"

PGANONYMIZE_VERSION=0.13.0

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not on PATH"; }

install_pganonymize() {
    if [[ -x "$tools/refresh-venv/bin/pganonymize" ]] \
        && "$tools/refresh-venv/bin/pip" show pganonymize 2>/dev/null | grep -q "^Version: $PGANONYMIZE_VERSION"; then
        return
    fi
    log "installing pganonymize $PGANONYMIZE_VERSION into $tools/refresh-venv"
    {
        python3 -m venv "$tools/refresh-venv" &&
        "$tools/refresh-venv/bin/pip" install --disable-pip-version-check -q \
            "pganonymize==$PGANONYMIZE_VERSION" psycopg2-binary
    } >"$tools/install-pganonymize.log" 2>&1 || die "pganonymize install failed, see $tools/install-pganonymize.log"
}

main() {
    case "${1:-}" in
        --install-only) install_pganonymize; log "tools ready in $tools"; return ;;
        "") ;;
        -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return ;;
        *) die "unknown argument: $1 (try --help)" ;;
    esac
    need psql; need pg_dump; need pg_restore; need python3
    install_pganonymize
    log "building holdfast (cargo build --release -p holdfast-cli)"
    (cd "$root" && nice -n 19 cargo build --release -p holdfast-cli >"$tools/build-holdfast.log" 2>&1) \
        || die "holdfast build failed, see $tools/build-holdfast.log"
    exec python3 "$here/bench.py" \
        --root "$root" \
        --holdfast "$root/target/release/holdfast" \
        --pganonymize "$tools/refresh-venv/bin/pganonymize" \
        --url "${HOLDFAST_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
        --rows "${HOLDFAST_BENCH_ROWS:-1000000}" \
        --jobs "${HOLDFAST_BENCH_JOBS:-2}" \
        --runs "${HOLDFAST_BENCH_RUNS:-3}" \
        --memory-rows "${HOLDFAST_BENCH_MEMORY_ROWS:-$(( ${HOLDFAST_BENCH_ROWS:-1000000} / 4 ))}" \
        ${HOLDFAST_BENCH_NO_WRITE:+--no-write}
}

main "$@"
