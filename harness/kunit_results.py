#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""One "STATUS prefix.suite.case" line per test case of a kunit.py JSON
file (kunit.py parse --json).

  kunit_results.py JSON PREFIX [noskip]

Exits 1 if a case failed, or with "noskip" was skipped or a suite ran no
case (its suite_init failed).
"""
import json
import sys

ok = {"PASS": "PASS"} if sys.argv[3:] == ["noskip"] else \
     {"PASS": "PASS", "SKIP": "SKIP"}
bad = 0


def walk(group, prefix):
    global bad
    if "SKIP" not in ok and not group.get("test_cases") and \
       not group.get("sub_groups"):
        # A suite that ran no case (its suite_init failed) has none.
        bad += 1
        print("FAIL", prefix + group["name"])
    for case in group.get("test_cases", []):
        status = ok.get(case["status"], "FAIL")
        bad += status == "FAIL"
        print(status, prefix + group["name"] + "." + case["name"])
    for sub in group.get("sub_groups", []):
        walk(sub, prefix if group["name"] == "KUnit Test Group"
             else prefix + group["name"] + ".")


walk(json.load(open(sys.argv[1])), sys.argv[2])
sys.exit(1 if bad else 0)
