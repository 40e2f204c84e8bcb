# shellcheck shell=bash
#
# The tools some tests run, besides the services of services.sh: Node.js and the node_modules of
# the two CDK apps, cfn-lint, and zig for the Lambda packaging. Sourced (after services.sh) by
# scripts/test, which calls ensure_test_tools before any test runs, and by scripts/package-lambda
# and bench/guard/run.sh for the one each needs; not meant to be run on its own.
#
# Every function checks first and installs only what is missing or not current, saying on one
# line what it installs, where and for which test. The tests themselves install nothing: they
# check that their tool is there and otherwise fail, naming it and this script
# (holdfast_testkit::tools).
#
#   Node.js       the machine's `node`, at least the major version aws-cdk-lib's "engines" asks
#                 for in the CDK apps' package-lock.json; apt-get install nodejs npm when there is
#                 none (Debian 12's is too old: then it stops and says so)
#   npm ci        in examples/cdk and crates/holdfast-guard/tests/cdk (their node_modules/, ignored
#                 by git), when package-lock.json changed since the last install: the lock's
#                 SHA-256 is recorded in node_modules/.holdfast-npm-ci
#   cfn-lint      the version scripts/gen-guard-schemas pins, from PyPI into the virtualenv
#                 TARGET/guard-tools/cfn-lint-VERSION
#   zig           ziglang and cargo-zigbuild from PyPI into TARGET/zig-venv
#
# TARGET is cargo's target folder (hf_target_dir). A virtualenv is current when its stamp
# (.holdfast-requirements) lists the same requirements and its program runs.

# Where each CDK app is, and the test that synthesizes it.
HF_CDK_APPS=(examples/cdk crates/holdfast-guard/tests/cdk)
declare -A HF_CDK_APP_TEST=(
	[examples/cdk]="the CDK example's test, crates/holdfast-cli/tests/cdk_example.rs"
	[crates/holdfast-guard/tests/cdk]="the guard's real cdk synth test, crates/holdfast-guard/tests/guard_cdk.rs"
)

# Read by scripts/package-lambda too.
HF_ZIG_REQUIREMENTS=('ziglang>=0.13,<0.16' 'cargo-zigbuild>=0.19,<0.21')

# The Node.js major version aws-cdk-lib asks for in LOCK (its "engines": ">= 20.0.0" -> 20).
_hf_node_major_needed() {
	awk '
		/^    "node_modules\/aws-cdk-lib": \{/ { inside = 1; next }
		inside && /^    \}/ { exit }
		inside && /"node": *"/ { if (match($0, /[0-9]+/)) print substr($0, RSTART, RLENGTH); exit }
	' "$1"
}

# The version of aws-cdk-lib in LOCK.
_hf_cdk_lib_version() {
	awk '
		/^    "node_modules\/aws-cdk-lib": \{/ { inside = 1; next }
		inside && /^    \}/ { exit }
		inside && /"version": *"/ { split($0, f, "\""); print f[4]; exit }
	' "$1"
}

# Makes sure `node` and `npm` run and node is recent enough for every CDK app's aws-cdk-lib.
ensure_node() {
	local need=0 needed_by=aws-cdk-lib app lock major
	for app in "${HF_CDK_APPS[@]}"; do
		lock=$HF_ROOT/$app/package-lock.json
		major=$(_hf_node_major_needed "$lock")
		[[ -n $major ]] || hf_die "cannot read aws-cdk-lib's Node.js version from $app/package-lock.json"
		if ((major > need)); then
			need=$major
			needed_by="aws-cdk-lib $(_hf_cdk_lib_version "$lock") in $app/package-lock.json"
		fi
	done
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		hf_log "Node.js $need+ and npm are needed ($needed_by) and are not on PATH"
		hf_apt_install nodejs npm
	fi
	local have
	have=$(node --version 2>/dev/null) || hf_die "node does not run ($(command -v node))"
	major=${have#v}
	major=${major%%.*}
	((major >= need)) ||
		hf_die "Node.js $have ($(command -v node)) is too old: $needed_by needs Node.js $need" \
			"or newer. Install it (Debian 13: apt-get install nodejs npm; Debian 12's is 18: use" \
			"NodeSource or nvm), put it first on PATH and run scripts/test again"
	HF_NODE_VERSION=$have
}

# hf_npm_ci APP: `npm ci` in APP (a folder of the repository) unless its node_modules was installed
# from the same package-lock.json (the stamp node_modules/.holdfast-npm-ci holds the lock's SHA-256;
# npm ci removes node_modules first, stamp included).
hf_npm_ci() {
	local app=$1 dir=$HF_ROOT/$1 sum
	local stamp=$dir/node_modules/.holdfast-npm-ci log=$HF_LOG_DIR/holdfast-npm-ci.log
	sum=$(sha256sum "$dir/package-lock.json") || hf_die "cannot read $app/package-lock.json"
	sum=${sum%% *}
	[[ -f $stamp && $(<"$stamp") == "$sum" ]] && return 0
	hf_may_install "the npm packages of $app" "$dir/node_modules"
	local packages
	packages=$(cd "$dir" && node -p 'const p = require("./package.json");
		Object.entries({...p.dependencies, ...p.devDependencies}).map(([n, v]) => n + "@" + v).join(" ")') ||
		hf_die "cannot read $app/package.json"
	hf_log "installing $packages from npm into $app/node_modules with npm ci, as its" \
		"package-lock.json pins them (${HF_CDK_APP_TEST[$app]:-$app}; output in $log)"
	(cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error </dev/null) \
		>>"$log" 2>&1 || {
		tail -n 20 "$log" >&2 2>/dev/null || true
		hf_die "npm ci in $app failed (is the npm registry reachable?); see $log"
	}
	printf '%s\n' "$sum" >"$stamp"
}

# Installs the cfn-lint that scripts/gen-guard-schemas pins; sets HF_CFN_LINT (its executable).
ensure_cfn_lint() {
	local version
	version=$(sed -n 's/^CFN_LINT_VERSION = "\(.*\)"$/\1/p' "$HF_ROOT/scripts/gen-guard-schemas")
	[[ -n $version ]] || hf_die "cannot read CFN_LINT_VERSION from scripts/gen-guard-schemas"
	local venv
	venv=$(hf_target_dir)/guard-tools/cfn-lint-$version
	hf_venv_install "$venv" \
		"the guard's parity test with cfn-lint's I3011, crates/holdfast-guard/tests/guard_cfn_lint.rs" \
		cfn-lint "cfn-lint==$version"
	HF_CFN_LINT=$venv/bin/cfn-lint
}

# Installs ziglang and cargo-zigbuild; sets HF_ZIG_VENV. Its bin/python-zig runs the venv's zig
# (cargo-zigbuild looks for `python -m ziglang` when there is no zig on PATH; the wrapper makes the
# venv's explicit, for CARGO_ZIGBUILD_ZIG_PATH).
ensure_zig() {
	HF_ZIG_VENV=$(hf_target_dir)/zig-venv
	hf_venv_install "$HF_ZIG_VENV" \
		"scripts/package-lambda links the Lambda function for glibc 2.34 with zig; the packaging test, crates/holdfast-lambda/tests/package.rs" \
		cargo-zigbuild "${HF_ZIG_REQUIREMENTS[@]}"
	local wrapper=$HF_ZIG_VENV/bin/python-zig
	if [[ ! -x $wrapper ]]; then
		{
			printf '#!/bin/sh\nexec "%s/bin/python" -m ziglang "$@"\n' "$HF_ZIG_VENV" >"$wrapper" &&
				chmod +x "$wrapper"
		} || hf_die "cannot write $wrapper"
	fi
}

# Everything above, for scripts/test.
ensure_test_tools() {
	ensure_node
	local app
	for app in "${HF_CDK_APPS[@]}"; do
		hf_npm_ci "$app"
	done
	ensure_cfn_lint
	ensure_zig
	hf_log "test tools ready: Node.js $HF_NODE_VERSION; node_modules of ${HF_CDK_APPS[*]};" \
		"$(hf_show "$HF_CFN_LINT"); $(hf_show "$HF_ZIG_VENV")"
}
