#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Summarise meson testlog.json files as one closing line: "N passed, N failed[, N skipped]".

TAP tests (CMocka with CMOCKA_MESSAGE_OUTPUT=TAP) count per test case; other tests count once.
With CI=true a skipped test is a failure: our CI machines have root, KSM, BTF and nspawn, so a
skip there hides a broken test.
"""
import json
import os
import re
import sys

TAP = re.compile(r'^(not )?ok\b[^#]*(#\s*(SKIP|TODO)\b)?', re.I)
PLAN = re.compile(r'^1\.\.\d+', re.M)


def count(entry):
    result = entry.get('result', '')
    p = f = s = 0
    # meson 1.0's testlog.json does not record the protocol: recognise TAP by its plan line.
    if entry.get('stdout') and PLAN.search(entry['stdout']):
        for line in entry['stdout'].splitlines():
            m = TAP.match(line.strip())
            if not m:
                continue
            if m.group(3) and m.group(3).upper() == 'SKIP':
                s += 1
            elif m.group(1):
                f += 1
            else:
                p += 1
        if result in ('FAIL', 'TIMEOUT', 'ERROR') and f == 0:
            f = 1   # the binary itself failed (crash, sanitizer report, bad plan)
        if p + f + s:
            return p, f, s
    if result in ('OK', 'EXPECTEDFAIL'):
        return 1, 0, 0
    if result == 'SKIP':
        return 0, 0, 1
    return 0, 1, 0


def main(paths):
    passed = failed = skipped = 0
    skipped_names = []
    for path in paths:
        if not os.path.exists(path):
            print(f'test-summary: {path} missing (build or test run failed)', file=sys.stderr)
            failed += 1
            continue
        with open(path) as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                e = json.loads(line)
                p, f, s = count(e)
                passed += p
                failed += f
                skipped += s
                if s:
                    skipped_names.append(f"{os.path.dirname(os.path.dirname(path))}:{e.get('name')}")
    ci = os.environ.get('CI', '').lower() == 'true'
    if ci and skipped:
        print('test-summary: CI=true and tests were skipped (a skip on CI is a failure): '
              + ', '.join(skipped_names), file=sys.stderr)
    line = f'{passed} passed, {failed} failed'
    if skipped:
        line += f', {skipped} skipped'
    print(line)
    return 1 if failed or (ci and skipped) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
