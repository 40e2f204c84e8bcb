#!/usr/bin/env bash
# Env benchmark: `holdfast env check` on a 2,000-function cdk.out against checkov's
# Lambda-environment check (CKV_AWS_45) and detect-secrets on the same templates.
#
#   bench/env/run.sh            # install the peers (once, cached), build, measure, write BENCHMARKS.md
#
# Environment:
#   HOLDFAST_BENCH_RUNS        repetitions (default 5)
#   HOLDFAST_BENCH_FUNCTIONS   functions in the cdk.out (default 2000)
#   HOLDFAST_BENCH_TOOLS_DIR   cache folder for the peers (default target/bench-tools)
#   HOLDFAST_BENCH_NO_WRITE=1  print the section but leave BENCHMARKS.md alone
#
# Installing and building are not timed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# Pinned peer versions: bump deliberately, the table records them.
CHECKOV_VERSION=3.3.30
DETECT_SECRETS_VERSION=1.5.0

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
case "${1:-}" in
    "") ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
esac
command -v python3 >/dev/null 2>&1 || die "python3 is required"
command -v cargo >/dev/null 2>&1 || die "cargo is required"

HF_LOG_NAME=bench
# shellcheck source=scripts/lib/services.sh
source "$root/scripts/lib/services.sh"
tools="${HOLDFAST_BENCH_TOOLS_DIR:-$(hf_target_dir)/bench-tools}"
venv="$tools/env-venv"
hf_venv_install "$venv" "the env benchmark's peers" checkov \
    "checkov==$CHECKOV_VERSION" "detect-secrets==$DETECT_SECRETS_VERSION"

log "building holdfast (release)"
(cd "$root" && nice -n 19 cargo build --release -p holdfast-cli --quiet) || die "cargo build failed"

args=(--root "$root" --holdfast "$(hf_target_dir)/release/holdfast" --checkov "$venv/bin/checkov"
      --detect-secrets "$venv/bin/detect-secrets" --work "$(hf_target_dir)/bench-env"
      --runs "${HOLDFAST_BENCH_RUNS:-5}" --functions "${HOLDFAST_BENCH_FUNCTIONS:-2000}")
[[ "${HOLDFAST_BENCH_NO_WRITE:-}" == 1 ]] && args+=(--no-write)
exec python3 "$here/bench.py" "${args[@]}"
