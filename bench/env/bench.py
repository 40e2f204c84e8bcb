#!/usr/bin/env python3
"""Env benchmark: `holdfast env check` on a generated cdk.out of N Lambda functions against the
nearest peers on the same files — checkov's Lambda-environment check (CKV_AWS_45, "no hard-coded
secrets in Lambda environment") and detect-secrets (a scan of the template files); medians of
interleaved repetitions and each tool's findings side by side; writes BENCHMARKS.md's
`## Environment and secrets` section. Run through bench/env/run.sh, which installs the peers.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from benchtext import cell, fmt_ms, machine_facts, reflow, write_section  # noqa: E402

SECTION_HEADING = "## Environment and secrets"

SCHEMA = """[stages.staging]
[stages.prod]

[env.keys.LOG_LEVEL]
type = "enum"
values = ["debug", "info", "warn", "error"]
[env.keys.TIMEOUT]
type = "duration"
[env.keys.API_URL]
type = "url"
required = true
[env.keys.FEATURE_CHECKOUT]
type = "bool"
[env.keys.ORDERS_TABLE]
type = "table"
required = true
[env.keys.USERS_TABLE]
type = "table"
[env.keys.QUEUE_URL]
type = "url"
[env.keys.POWERTOOLS_SERVICE_NAME]
"""


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def capture(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return (proc.stdout.strip() or proc.stderr.strip()).splitlines()[0]


def timed(cmd, cwd, expect_codes):
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode not in expect_codes:
        raise BenchError(f"{' '.join(cmd)} exited {proc.returncode} (expected {expect_codes})")
    return elapsed


def holdfast_findings(cmd, cwd):
    proc = subprocess.run(cmd + ["--json"], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 3:
        raise BenchError(f"holdfast env check exited {proc.returncode}: {proc.stderr}")
    report = json.loads(proc.stdout)
    rules = {}
    for f in report["findings"]:
        rules[f["rule"]] = rules.get(f["rule"], 0) + 1
    return report, rules


def checkov_findings(cmd, cwd):
    proc = subprocess.run(cmd + ["--output", "json"], cwd=cwd, capture_output=True, text=True)
    data = json.loads(proc.stdout or "{}")
    reports = data if isinstance(data, list) else [data]
    failed = 0
    for r in reports:
        failed += len(r.get("results", {}).get("failed_checks", []))
    return failed


def detect_secrets_findings(cmd, cwd):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    data = json.loads(proc.stdout or "{}")
    kinds = {}
    for hits in data.get("results", {}).values():
        for h in hits:
            kinds[h["type"]] = kinds.get(h["type"], 0) + 1
    return kinds


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", required=True)
    p.add_argument("--holdfast", required=True)
    p.add_argument("--checkov", required=True)
    p.add_argument("--detect-secrets", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--functions", type=int, default=2000)
    p.add_argument("--no-write", action="store_true")
    a = p.parse_args()
    began = time.perf_counter()
    os.makedirs(a.work, exist_ok=True)
    out = os.path.join(a.work, "cdk.out")
    subprocess.run(["rm", "-rf", out], check=True)
    gen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen.py")
    planted = json.loads(subprocess.run([sys.executable, gen, out, "--functions", str(a.functions)],
                                        check=True, capture_output=True, text=True).stdout)
    with open(os.path.join(a.work, "holdfast.toml"), "w") as f:
        f.write(SCHEMA)
    templates = sorted(t for t in os.listdir(out) if t.endswith(".template.json"))
    size = sum(os.path.getsize(os.path.join(out, t)) for t in templates)

    hf_version = capture([a.holdfast, "--version"])
    checkov_version = capture([a.checkov, "--version"])
    ds_version = capture([a.detect_secrets, "--version"])
    # The package's own version string can differ from the PyPI release installed.
    python = os.path.join(os.path.dirname(a.detect_secrets), "python")
    dist = capture([python, "-c", "import importlib.metadata as m; print(m.version('detect-secrets'))"])
    if dist and dist != ds_version:
        ds_version = f"{dist} (PyPI; `--version` says {ds_version})"
    facts = machine_facts()
    log(f"{hf_version}; checkov {checkov_version}; detect-secrets {ds_version}")

    tools = {
        "holdfast": [a.holdfast, "env", "check", "cdk.out", "--stage", "staging"],
        "checkov": [a.checkov, "-d", "cdk.out", "--framework", "cloudformation", "--check", "CKV_AWS_45",
                    "--quiet", "--compact", "--skip-download"],
        "detect-secrets": [a.detect_secrets, "scan", "--all-files", "cdk.out"],
    }
    expect = {"holdfast": (3,), "checkov": (0, 1), "detect-secrets": (0,)}
    env = dict(os.environ)
    try:
        report, rules = holdfast_findings(tools["holdfast"], a.work)
        checkov_failed = checkov_findings(tools["checkov"], a.work)
        ds_kinds = detect_secrets_findings(tools["detect-secrets"], a.work)
    except (BenchError, ValueError, OSError) as e:
        print(f"[bench] ERROR: {e}", file=sys.stderr)
        return 1
    log(f"holdfast {rules}; checkov {checkov_failed} failed checks; detect-secrets {ds_kinds}")

    times = {k: [] for k in tools}
    order = list(tools)
    try:
        for i in range(a.runs):
            rotated = order[i % len(order):] + order[:i % len(order)]
            for name in rotated:
                times[name].append(timed(tools[name], a.work, expect[name]))
            log(f"round {i + 1}/{a.runs}: " + ", ".join(f"{k} {fmt_ms(v[-1])}" for k, v in times.items() if v))
    except (BenchError, OSError) as e:
        print(f"[bench] ERROR: {e}", file=sys.stderr)
        return 1
    med = {k: statistics.median(v) for k, v in times.items()}
    elapsed = time.perf_counter() - began
    today = datetime.date.today().isoformat()
    credentials = planted["stripe_live"] + planted["github"] + planted["aws_key"] * 2
    ds_total = sum(ds_kinds.values())
    ds_list = ", ".join(f"{v} {k}" for k, v in sorted(ds_kinds.items())) or "none"
    rule_list = ", ".join(f"{v} `{k}`" for k, v in sorted(rules.items()) if k != "env-unknown")
    if rules.get("env-unknown"):
        rule_list += f"; and {report['summary']['warnings']} warnings ({rules['env-unknown']} `env-unknown`)"
    section = f"""{SECTION_HEADING}

Reproduce: `bench/env/run.sh` (repetitions: `HOLDFAST_BENCH_RUNS`, default 5; functions:
`HOLDFAST_BENCH_FUNCTIONS`, default 2000; installs checkov and detect-secrets from PyPI into
`target/bench-tools/env-venv` and builds holdfast in release mode, untimed).

A CDK cloud assembly made by `bench/env/gen.py` (seed 7): {a.functions:,} Lambda functions with their
roles in {len(templates)} stacks ({size:,} bytes of templates), each function with eight to eleven variables.
Planted: {planted['stripe_live']} literal Stripe live keys, {planted['github']} GitHub tokens,
{planted['aws_key']} AWS access key pairs ({credentials} literal credentials in all), {planted['unresolved']}
`${{env:SECRET_KEY}}` left literal, {planted['cross_stage']} staging functions naming `/prod/…` parameters.
`holdfast env check cdk.out --stage staging` applies the whole rule set and a schema of the
application's eight keys (`bench/env/bench.py`; the planted keys are not in it, so each is also an
`env-unknown` warning); checkov runs only its Lambda-environment check CKV_AWS_45 on the same
folder (`--framework cloudformation`); detect-secrets scans the template files with its default
plugins. Each time is one process from spawn to exit; median of {a.runs} repetitions, tools
interleaved (order rotated each repetition) after one untimed round that also counted the findings.
Ratio = the tool's median / holdfast's: above 1 means holdfast is faster.

Measured {today}: {facts['nproc']} cores ({facts['cpu']}), {facts['os']}, Python {facts['python']};
the whole run took {elapsed / 60:.1f} minutes. Cells: median <sub>(fastest–slowest)</sub>.

| tool | version | command | time | ratio to holdfast | findings |
| --- | --- | --- | ---: | ---: | --- |
| holdfast | {hf_version} | `holdfast env check cdk.out --stage staging` | {cell(times['holdfast'])} | 1.00× | {report['summary']['blocking']} blocking: {rule_list} |
| checkov | {checkov_version} | `checkov -d cdk.out --framework cloudformation --check CKV_AWS_45` | {cell(times['checkov'])} | {med['checkov'] / med['holdfast']:.1f}× | {checkov_failed} functions failed CKV_AWS_45 |
| detect-secrets | {ds_version} | `detect-secrets scan --all-files cdk.out` | {cell(times['detect-secrets'])} | {med['detect-secrets'] / med['holdfast']:.1f}× | {ds_total} hits: {ds_list} |

holdfast env check on {a.functions:,} functions: **{fmt_ms(med['holdfast'])}** (aim: under 300 ms).
The peers look for credentials only: neither reports the unresolved Serverless variables, the
other stage's parameters or a live key in a staging stage, and their counts are per function
(checkov) or per line (detect-secrets, whose entropy plugins also flag random-looking non-secrets
such as the asset keys), where holdfast's are per variable and rule (a live Stripe key is both
`env-plaintext-secret` and `env-live-key`).
"""
    section = reflow(section)
    print(section)
    if a.no_write:
        log("BENCHMARKS.md left alone (--no-write)")
    else:
        write_section(a.root, SECTION_HEADING, section)
    log(f"whole run: {elapsed:.0f} s; input in {a.work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
