"""Replaces (or appends) one `## HEADING` section of BENCHMARKS.md with a benchmark's output.

    python3 bench/lib/write_section.py BENCHMARKS.md "## DynamoDB copy" SECTION_FILE
"""
import sys

path, heading, section_path = sys.argv[1], sys.argv[2], sys.argv[3]
section = open(section_path).read().rstrip("\n") + "\n"
text = open(path).read()
start = text.find("\n" + heading + "\n")
if start < 0:
    text = text.rstrip("\n") + "\n\n" + section
else:
    start += 1
    nxt = text.find("\n## ", start + len(heading))
    rest = text[nxt + 1:] if nxt >= 0 else ""
    text = text[:start] + section + ("\n" + rest if rest else "")
open(path, "w").write(text)
