#!/usr/bin/env python3
"""Writes the golden case that dev.bandlimit.SelfCheck runs from the jar alone.

The product jar carries no JSON library, so one case of cpp/tests/data/golden_bandlimited_conv.json
is copied into java/lib/src/main/resources/dev/bandlimit/selfcheck-case.txt in a line format
SelfCheck reads with the JDK alone: `key value value ...`, one key a line, numbers as Python's
shortest round-trip decimals (Double.parseDouble gives back the same doubles). SelfCheckTest
fails when the file and the golden case disagree; rerun this script then.
Usage: scripts/selfcheck_case.py [CASE]   (default rho050_stride3_asym; fixed-rho cases only)
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "cpp", "tests", "data", "golden_bandlimited_conv.json")
OUT = os.path.join(ROOT, "java", "lib", "src", "main", "resources", "dev", "bandlimit", "selfcheck-case.txt")
GEOMETRY = ["N", "C", "H", "W", "F", "KH", "KW", "pad", "stride", "rho"]
CASE = ["fft_lengths", "box", "x", "w", "b", "dy", "y", "dx", "dw", "db"]


def line(key, value):
    values = value if isinstance(value, list) else [value]
    return " ".join([key] + [repr(v) for v in values])


def main(name):
    case = json.load(open(GOLDEN))["cases"][name]
    geometry = case["geometry"]
    if "rho" not in geometry:
        sys.exit(f"{name} is an energy case; SelfCheck runs a fixed-rho one")
    lines = [
        "# The golden case dev.bandlimit.SelfCheck runs: case " + name + " of",
        "# cpp/tests/data/golden_bandlimited_conv.json, written by scripts/selfcheck_case.py (do not edit).",
        "case " + name,
    ]
    lines += [line(k, geometry[k]) for k in GEOMETRY]
    lines += [line(k, case[k]) for k in CASE]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({name})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "rho050_stride3_asym")
