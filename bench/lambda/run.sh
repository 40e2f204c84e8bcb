#!/usr/bin/env bash
# Lambda function benchmark: the stripped size of the packaged `bootstrap` and its start-up time
# to the first `next` request against the test kit's local Lambda Runtime API. The benchmark
# itself is crates/holdfast-lambda/benches/startup.rs.
#
#   bench/lambda/run.sh      # package the function (untimed), measure, write BENCHMARKS.md
#
# Environment:
#   HOLDFAST_BENCH_RUNS        start-ups to measure (default 50)
#   HOLDFAST_BENCH_NO_WRITE=1  print the section but leave BENCHMARKS.md alone
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
    "") ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
esac

log "packaging the function (scripts/package-lambda)"
"$root/scripts/package-lambda" >"$target/bench-lambda-build.log" 2>&1 ||
    die "packaging failed, see $target/bench-lambda-build.log"
(cd "$root" && cargo bench -p holdfast-lambda --bench startup --no-run >>"$target/bench-lambda-build.log" 2>&1) ||
    die "build failed, see $target/bench-lambda-build.log"

section="$(mktemp)"
trap 'rm -f "$section"' EXIT
export HOLDFAST_BENCH_BOOTSTRAP="$target/x86_64-unknown-linux-gnu/lambda/bootstrap"
export HOLDFAST_BENCH_ZIP="$target/lambda-package/bootstrap.zip"
export HOLDFAST_BENCH_OUT="$section"
(cd "$root" && cargo bench -q -p holdfast-lambda --bench startup) >/dev/null || die "the benchmark failed"
cat "$section"

if [[ -n "${HOLDFAST_BENCH_NO_WRITE:-}" ]]; then
    log "BENCHMARKS.md left alone (HOLDFAST_BENCH_NO_WRITE)"
    exit 0
fi
python3 "$root/bench/lib/write_section.py" "$root/BENCHMARKS.md" "## Lambda function" "$section"
log "wrote the Lambda function section of BENCHMARKS.md"
