#!/usr/bin/env bash
# Deploy guard benchmark: `holdfast guard diff OLD NEW` on a pair of 2,000-resource templates
# against `cfn-lint NEW` (one template at a time, its default rules).
#
#   bench/guard/run.sh            # install cfn-lint (once, cached), build, measure, write BENCHMARKS.md
#
# Environment:
#   HOLDFAST_BENCH_RUNS        repetitions (default 5; cfn-lint takes about a minute each)
#   HOLDFAST_BENCH_RESOURCES   resources per template (default 2000)
#   HOLDFAST_BENCH_NO_WRITE=1  print the table but leave BENCHMARKS.md alone
#
# Installing and building are not timed. cfn-lint is pinned to the version the guard's schema data
# comes from (scripts/gen-guard-schemas) and installed by scripts/lib/tools.sh's ensure_cfn_lint,
# into the virtualenv that scripts/test installs for tests/guard_cfn_lint.rs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/target/bench-guard"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || die "python3 is required"
command -v cargo >/dev/null 2>&1 || die "cargo is required"

# The same function and virtualenv as scripts/test (TARGET/guard-tools/cfn-lint-VERSION).
HF_LOG_NAME=bench
# shellcheck source=scripts/lib/services.sh
source "$root/scripts/lib/services.sh"
# shellcheck source=scripts/lib/tools.sh
source "$root/scripts/lib/tools.sh"
ensure_cfn_lint

log "building holdfast (release)"
(cd "$root" && nice -n 19 cargo build --release -p holdfast-cli --quiet) || die "cargo build failed"

args=(--root "$root" --holdfast "$root/target/release/holdfast" --cfn-lint "$HF_CFN_LINT"
      --work "$work" --runs "${HOLDFAST_BENCH_RUNS:-5}" --resources "${HOLDFAST_BENCH_RESOURCES:-2000}")
[[ "${HOLDFAST_BENCH_NO_WRITE:-}" == 1 ]] && args+=(--no-write)
exec python3 "$here/bench.py" "${args[@]}"
