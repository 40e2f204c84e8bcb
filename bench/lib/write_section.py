"""Replaces (or appends) one `## HEADING` section of BENCHMARKS.md with a benchmark's output.

    python3 bench/lib/write_section.py BENCHMARKS.md "## DynamoDB copy" SECTION_FILE
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchtext import write_section  # noqa: E402

path, heading, section_path = sys.argv[1], sys.argv[2], sys.argv[3]
if os.path.basename(path) != "BENCHMARKS.md":
    sys.exit(f"write_section.py: {path} is not a BENCHMARKS.md")
write_section(os.path.dirname(os.path.abspath(path)), heading,
              open(section_path).read().rstrip("\n") + "\n")
