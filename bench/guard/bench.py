#!/usr/bin/env python3
"""Deploy guard benchmark: `holdfast guard diff OLD NEW` against `cfn-lint NEW`, on a generated
pair of N-resource templates; medians of interleaved repetitions; writes BENCHMARKS.md's
`## Deploy guard` section. Run through bench/guard/run.sh, which installs cfn-lint and builds.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from benchtext import cell, fmt_ms, machine_facts, reflow, write_section  # noqa: E402

SECTION_HEADING = "## Deploy guard"


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def capture(cmd):
    return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()


def timed(cmd, expect_codes):
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode not in expect_codes:
        raise BenchError(f"{' '.join(cmd)} exited {proc.returncode} (expected {expect_codes})")
    return elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", required=True)
    p.add_argument("--holdfast", required=True)
    p.add_argument("--cfn-lint", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--resources", type=int, default=2000)
    p.add_argument("--no-write", action="store_true")
    a = p.parse_args()
    if a.runs < 1 or a.resources < 5:
        p.error("--runs must be at least 1 and --resources at least 5")
    began = time.perf_counter()
    os.makedirs(a.work, exist_ok=True)
    old_t = gen.template(a.resources, 7, new=False)
    new_t = gen.template(a.resources, 7, new=True)
    old, new = os.path.join(a.work, "old.json"), os.path.join(a.work, "new.yaml")
    with open(old, "w") as f:
        json.dump(old_t, f, indent=1)
    with open(new, "w") as f:
        f.write(gen.to_yaml(new_t))
    sizes = {k: os.path.getsize(v) for k, v in (("old", old), ("new", new))}

    hf_version = capture([a.holdfast, "--version"])
    lint_version = capture([a.cfn_lint, "--version"])
    facts = machine_facts()
    log(f"{hf_version}; {lint_version}; {facts['nproc']} cores, {facts['cpu']}")

    tools = {
        "diff": [a.holdfast, "guard", "diff", old, new, "--stage", "prod"],
        "check": [a.holdfast, "guard", "check", new, "--stage", "prod"],
        "cfn-lint": [a.cfn_lint, new],
    }
    expect = {"diff": (3,), "check": (3,), "cfn-lint": (0, 2, 4, 6, 8, 10, 12, 14)}

    # Untimed: check what each one finds (also the warm-up round).
    try:
        proc = subprocess.run(tools["diff"] + ["--json"], capture_output=True, text=True)
        if proc.returncode != 3:
            raise BenchError(f"guard diff exited {proc.returncode}: {proc.stderr}")
        report = json.loads(proc.stdout)
        rules = {}
        for f in report["findings"]:
            rules[f["rule"]] = rules.get(f["rule"], 0) + 1
        actions = {}
        for c in report["changes"]:
            actions[c["action"]] = actions.get(c["action"], 0) + 1
        renamed = gen.renames(old_t, new_t)
        if rules.get("stateful-rename", 0) != renamed:
            raise BenchError(f"guard diff found {rules.get('stateful-rename', 0)} renames, the generator made {renamed}")
        timed(tools["check"], expect["check"])
        proc = subprocess.run([a.cfn_lint, "--format", "json", new], capture_output=True, text=True)
        lint_matches = json.loads(proc.stdout or "[]")
        lint_rules = sorted({m["Rule"]["Id"] for m in lint_matches})
    except (BenchError, ValueError, OSError) as e:
        print(f"[bench] ERROR: {e}", file=sys.stderr)
        return 1

    times = {k: [] for k in tools}
    order = list(tools)
    try:
        for i in range(a.runs):
            rotated = order[i % len(order):] + order[:i % len(order)]
            for name in rotated:
                times[name].append(timed(tools[name], expect[name]))
            log(f"round {i + 1}/{a.runs}: " + ", ".join(f"{k} {fmt_ms(v[-1])}" for k, v in times.items()))
    except (BenchError, OSError) as e:
        print(f"[bench] ERROR: {e}", file=sys.stderr)
        return 1
    med = {k: statistics.median(v) for k, v in times.items()}
    elapsed = time.perf_counter() - began
    today = datetime.date.today().isoformat()
    cmd_old = "old.json"
    limits = ""
    if {"E1002", "E3010"} & set(lint_rules):
        limits = ": a real stack is limited to 500 resources and a 1 MB template, which it rightly flags"
    section = f"""{SECTION_HEADING}

Reproduce: `bench/guard/run.sh` (repetitions: `HOLDFAST_BENCH_RUNS`, default 5; resources per
template: `HOLDFAST_BENCH_RESOURCES`, default 2000; installs cfn-lint {lint_version.split()[-1]} from PyPI into
`target/guard-tools/` and builds holdfast in release mode, untimed).

A pair of {a.resources:,}-resource templates made by `bench/guard/gen.py` (seed 7): units of a DynamoDB
table, an S3 bucket, an SQS queue, an IAM role and a Lambda function that reads the other three
through `Ref` / `GetAtt` / `Sub`. OLD is JSON ({sizes['old']:,} bytes, as a deployed template is
read back), NEW is YAML with short-form tags ({sizes['new']:,} bytes) and differs as a release does:
table logical IDs renamed, table names changed (replacements that cascade into functions and
roles), functions and buckets updated in place, queues removed, units added. `holdfast guard diff`
compares the two and checks NEW's settings (strict policy); cfn-lint, which looks at one
template at a time, lints NEW alone with its default rules. `holdfast guard check NEW` is the
like-for-like single-template row. Each time is one process from spawn to exit (start-up
included); median of {a.runs} repetitions, tools interleaved (order rotated each repetition) after
one untimed round that also checked the results: guard diff found {rules.get('stateful-rename', 0)}
renames (as generated), {rules.get('stateful-replace', 0)} replacements, {rules.get('stateful-delete', 0)}
deletes, {report['summary']['blocking']} blocking findings in all, over {len(report['changes'])} changes
({', '.join(f'{v} {k}' for k, v in sorted(actions.items()))}); cfn-lint reported
{len(lint_matches)} matches ({', '.join(lint_rules) or 'none'}{limits}). Ratio = the tool's median / holdfast
guard diff's median: above 1 means holdfast is faster.

Measured {today}: {facts['nproc']} cores ({facts['cpu']}), {facts['os']}, Python {facts['python']};
the whole run took {elapsed / 60:.1f} minutes. Cells: median <sub>(fastest–slowest)</sub>.

| tool | version | command | time | ratio to holdfast guard diff |
| --- | --- | --- | ---: | ---: |
| holdfast | {hf_version} | `holdfast guard diff {cmd_old} new.yaml --stage prod` | {cell(times['diff'])} | 1.00× |
| holdfast | {hf_version} | `holdfast guard check new.yaml --stage prod` | {cell(times['check'])} | {med['check'] / med['diff']:.2f}× |
| cfn-lint | {lint_version} | `cfn-lint new.yaml` | {cell(times['cfn-lint'])} | {med['cfn-lint'] / med['diff']:.1f}× |

holdfast guard diff on {a.resources:,} resources: **{fmt_ms(med['diff'])}** (aim: under 200 ms); cfn-lint on the
new template alone takes **{med['cfn-lint'] / med['diff']:.0f}×** as long. The two do different work
(cfn-lint validates every property against the provider schemas; the guard reads both templates,
evaluates them, and classifies every change): the ratio says what a CI step costs, not that one
replaces the other.
"""
    section = reflow(section)
    print(section)
    if a.no_write:
        log("BENCHMARKS.md left alone (--no-write)")
    else:
        write_section(a.root, SECTION_HEADING, section)
    log(f"whole run: {elapsed:.0f} s; templates in {a.work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
