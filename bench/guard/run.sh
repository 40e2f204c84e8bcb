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
# comes from (scripts/gen-guard-schemas) and shares its virtualenv with tests/guard_cfn_lint.rs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
CFN_LINT_VERSION=1.58.0
venv="$root/target/guard-tools/cfn-lint-$CFN_LINT_VERSION"
work="$root/target/bench-guard"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || die "python3 is required"
command -v cargo >/dev/null 2>&1 || die "cargo is required"

grep -q "CFN_LINT_VERSION = \"$CFN_LINT_VERSION\"" "$root/scripts/gen-guard-schemas" ||
    die "scripts/gen-guard-schemas pins another cfn-lint than $CFN_LINT_VERSION: update this script"

if [[ ! -f "$venv/.installed" ]]; then
    log "installing cfn-lint $CFN_LINT_VERSION into $venv"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --disable-pip-version-check -q "cfn-lint==$CFN_LINT_VERSION" ||
        die "pip install cfn-lint==$CFN_LINT_VERSION failed"
    printf '%s' "$CFN_LINT_VERSION" >"$venv/.installed"
fi

log "building holdfast (release)"
(cd "$root" && nice -n 19 cargo build --release -p holdfast-cli --quiet) || die "cargo build failed"

args=(--root "$root" --holdfast "$root/target/release/holdfast" --cfn-lint "$venv/bin/cfn-lint"
      --work "$work" --runs "${HOLDFAST_BENCH_RUNS:-5}" --resources "${HOLDFAST_BENCH_RESOURCES:-2000}")
[[ "${HOLDFAST_BENCH_NO_WRITE:-}" == 1 ]] && args+=(--no-write)
exec python3 "$here/bench.py" "${args[@]}"
