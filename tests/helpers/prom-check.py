#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Strict parser of the Prometheus text exposition format 0.0.4, for the tests.

    prom-check.py FILE                     parse FILE, print its samples as JSON {"name{labels}": value}
    prom-check.py --loop SECONDS FILE      read FILE over and over for SECONDS while something rewrites
                                           it; every read must parse completely; counters (TYPE counter)
                                           must never decrease from one read to the next; prints
                                           "reads N distinct M" and exits 0, or the first problem and 1

Stricter than Prometheus itself where that catches our bugs: every family needs HELP and TYPE
before its samples; a family's samples are contiguous; no duplicate series; label values use only
the escapes \\\\, \\" and \\n; counters end in _total and are >= 0; no timestamps (node_exporter's
textfile collector refuses them); the file ends with a newline; and, to tell a complete file from
a truncated one that happens to end on a line boundary, its last sample must be
ksmtuned_ng_statistics_source_info (--no-complete turns that off).
"""
import json
import math
import re
import sys
import time

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}
LAST = 'ksmtuned_ng_statistics_source_info'


class ParseError(Exception):
    pass


def parse_value(s, where):
    if s in ('NaN', '+Inf', '-Inf', 'Inf'):
        return float(s.replace('Inf', 'inf'))
    if not re.fullmatch(r'[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?', s):
        raise ParseError(f'{where}: bad value {s!r}')
    return float(s)


def parse_labels(s, i, where):
    """s[i] is '{'; returns (labels as a tuple of pairs, index after '}')."""
    labels = []
    i += 1
    while True:
        if s.startswith('}', i):
            return tuple(labels), i + 1
        m = LABEL.match(s, i)
        if not m:
            raise ParseError(f'{where}: bad label name at column {i + 1}')
        name = m.group(0)
        i = m.end()
        if not s.startswith('="', i):
            raise ParseError(f'{where}: expected =" after label {name}')
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ParseError(f'{where}: unterminated label value')
            c = s[i]
            if c == '\\':
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    raise ParseError(f'{where}: bad escape in label value at column {i + 1}')
                val.append({'\\': '\\', '"': '"', 'n': '\n'}[s[i + 1]])
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise ParseError(f'{where}: newline in label value')
            else:
                val.append(c)
                i += 1
        if name in (n for n, _ in labels):
            raise ParseError(f'{where}: duplicate label {name}')
        labels.append((name, ''.join(val)))
        if s.startswith(',', i):
            i += 1
            if s.startswith('}', i):        # a trailing comma is allowed by the format
                return tuple(labels), i + 1
        elif not s.startswith('}', i):
            raise ParseError(f'{where}: expected , or }} after a label value')


def series_key(name, labels):
    if not labels:
        return name
    inner = ','.join('%s="%s"' % (n, v.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n'))
                     for n, v in labels)
    return name + '{' + inner + '}'


def parse(text, complete=True):
    """Returns ({series: value}, {family: type})."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError as e:
        raise ParseError(f'not UTF-8: {e}')
    if not text:
        raise ParseError('empty file')
    if not text.endswith('\n'):
        raise ParseError('does not end with a newline (truncated?)')
    helps, types, samples, done = {}, {}, {}, set()
    current = None
    last_name = None
    for no, line in enumerate(text[:-1].split('\n'), 1):
        where = f'line {no}'
        if line == '':
            continue
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not NAME.fullmatch(name):
                    raise ParseError(f'{where}: bad metric name {name!r}')
                if name in done:
                    raise ParseError(f'{where}: {parts[1]} for {name} after its samples ended')
                if parts[1] == 'HELP':
                    if name in helps:
                        raise ParseError(f'{where}: second HELP for {name}')
                    h = parts[3] if len(parts) > 3 else ''
                    if re.search(r'\\[^\\n]', h.replace('\\\\', '')):
                        raise ParseError(f'{where}: bad escape in HELP')
                    helps[name] = h
                else:
                    if name in types:
                        raise ParseError(f'{where}: second TYPE for {name}')
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ParseError(f'{where}: bad TYPE line')
                    if any(k == name or k.startswith(name + '{') for k in samples):
                        raise ParseError(f'{where}: TYPE for {name} after its samples')
                    types[name] = parts[3]
                if current and current != name:
                    done.add(current)
                current = name
            continue
        m = NAME.match(line)
        if not m:
            raise ParseError(f'{where}: bad metric name')
        name = m.group(0)
        i = m.end()
        labels = ()
        if line.startswith('{', i):
            labels, i = parse_labels(line, i, where)
        if not line.startswith(' ', i):
            raise ParseError(f'{where}: expected a space before the value')
        rest = line[i + 1:].split(' ')
        if len(rest) != 1:
            raise ParseError(f'{where}: timestamp or trailing text after the value (node_exporter refuses timestamps)')
        value = parse_value(rest[0], where)
        if name in done:
            raise ParseError(f'{where}: samples of {name} are not contiguous')
        if name not in types or name not in helps:
            raise ParseError(f'{where}: {name} without HELP and TYPE before it')
        if current and current != name:
            done.add(current)
        current = name
        if types[name] == 'counter':
            if not name.endswith('_total'):
                raise ParseError(f'{where}: counter {name} does not end in _total')
            if not value >= 0 or math.isinf(value):
                raise ParseError(f'{where}: counter {name} is {value}')
        key = series_key(name, labels)
        if key in samples:
            raise ParseError(f'{where}: duplicate series {key}')
        samples[key] = value
        last_name = name
    if complete and last_name != LAST:
        raise ParseError(f'incomplete: the last sample is {last_name}, not {LAST}')
    return samples, types


def loop(seconds, path):
    deadline = time.monotonic() + seconds
    reads, distinct, prev, seen = 0, 0, None, None
    while time.monotonic() < deadline:
        try:
            with open(path, encoding='utf-8', errors='strict') as f:
                text = f.read()
        except FileNotFoundError:
            print(f'read {reads + 1}: the file does not exist (a reader must never see it missing)')
            return 1
        reads += 1
        try:
            samples, types = parse(text)
        except ParseError as e:
            print(f'read {reads}: {e}')
            return 1
        if text != seen:
            distinct += 1
            seen = text
        if prev is not None:
            for k, v in samples.items():
                fam = k.split('{', 1)[0]
                if types.get(fam) == 'counter' and k in prev and v < prev[k]:
                    print(f'read {reads}: counter {k} went down from {prev[k]} to {v}')
                    return 1
        prev = samples
    print(f'reads {reads} distinct {distinct}')
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == '--loop':
        return loop(float(argv[2]), argv[3])
    complete = True
    if len(argv) == 3 and argv[1] == '--no-complete':
        complete = False
        argv = argv[1:]
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding='utf-8', errors='strict') as f:
        text = f.read()
    try:
        samples, _ = parse(text, complete)
    except ParseError as e:
        print(f'{argv[1]}: {e}', file=sys.stderr)
        return 1
    json.dump(samples, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
