#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print the kmemleak reports of a console log and fail if one of them has
a frame of ours in its backtrace.

  kmemleak_report.py LOG SYMBOLS

SYMBOLS lists the function names of our objects, whitespace separated.
"""
import re
import sys

log, syms = sys.argv[1:3]
ours = {s.split(".")[0] for s in open(syms).read().split()}
if not ours:
    sys.exit("no symbols of ours found in the build directory")
blocks, block = [], None
for line in open(log, errors="replace"):
    if "unreferenced object" in line:
        block = [line]
        blocks.append(block)
    elif block is not None and line.startswith(" "):
        block.append(line)
    else:
        block = None
bad = 0
for b in blocks:
    frames = [m.group(1).split(".")[0] for m in
              (re.match(r"\s+([\w.]+)\+0x", line) for line in b) if m]
    mine = [f for f in frames if f in ours]
    print(("leak of ours (" + ", ".join(mine) + "):" if mine
           else "kernel leak, no frame of ours:"))
    sys.stdout.write("".join(b))
    bad += bool(mine)
print(f"{len(blocks)} unreferenced objects, {bad} with a frame of ours")
sys.exit(1 if bad else 0)
