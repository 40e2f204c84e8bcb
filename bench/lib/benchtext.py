"""What the benchmark scripts share: times as text, table cells, prose reflowed for
BENCHMARKS.md, the machine's facts, and writing one section of BENCHMARKS.md.

    sys.path.insert(0, os.path.join(HERE, "..", "lib")); import benchtext
"""

import os
import platform
import statistics
import subprocess
import sys
import textwrap


def fmt_ms(seconds):
    ms = seconds * 1000
    if ms >= 10000:
        return f"{ms:,.0f} ms"
    if ms >= 100:
        return f"{ms:.0f} ms"
    return f"{ms:.1f} ms"


def cell(times):
    """Median <sub>(fastest–slowest)</sub>."""
    return f"{fmt_ms(statistics.median(times))} <sub>({fmt_ms(min(times))}–{fmt_ms(max(times))})</sub>"


def reflow(section):
    """Wraps prose paragraphs at 100 columns; headings, tables and lists stay as they are."""
    out = []
    for para in section.strip("\n").split("\n\n"):
        if para.startswith(("#", "|", "-")):
            out.append(para)
        else:
            out.append(textwrap.fill(" ".join(para.split()), width=100, break_on_hyphens=False,
                                     break_long_words=False))
    return "\n\n".join(out) + "\n"


def machine_facts():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return {"nproc": nproc, "cpu": cpu, "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version()}


def write_section(root, heading, section):
    """Replaces (or appends) the `heading` section of ROOT/BENCHMARKS.md."""
    path = os.path.join(root, "BENCHMARKS.md")
    text = open(path).read()
    start = text.find("\n" + heading + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        start += 1
        nxt = text.find("\n## ", start + len(heading))
        rest = text[nxt + 1:] if nxt >= 0 else ""
        text = text[:start] + section + ("\n" + rest if rest else "")
    with open(path, "w") as f:
        f.write(text)
    print(f"[bench] wrote {path}", file=sys.stderr)
