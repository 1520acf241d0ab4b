#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Send raw bytes to the daemon's control socket and print the first reply (or EOF).

usage: varlink-raw.py SOCKET MODE
MODE: big (70 KiB without a NUL), garbage (not JSON), nomethod (valid JSON, unknown method),
      badparams (parameters not an object), many (open 100 connections, report how many got a reply)
"""
import socket
import sys


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def read_reply(s):
    buf = b''
    while not buf.endswith(b'\0'):
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        buf += chunk
    return buf.rstrip(b'\0').decode(errors='replace')


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == 'many':
        conns, answered = [], 0
        for _ in range(100):
            try:
                conns.append(connect(path))
            except OSError:
                pass
        for c in conns:
            try:
                c.sendall(b'{"method":"io.ksmtuned.Manager.GetStatus"}\0')
                if read_reply(c).startswith('{"parameters"'):
                    answered += 1
            except OSError:
                pass
        print(f'answered={answered} connections={len(conns)}')
        return 0
    s = connect(path)
    payload = {
        'big': b'{"method":"' + b'x' * (70 * 1024),
        'garbage': b'this is not json\0',
        'nomethod': b'{"method":"io.ksmtuned.Manager.Explode","parameters":{}}\0',
        'badparams': b'{"method":"io.ksmtuned.Manager.GetStatus","parameters":[]}\0',
    }[mode]
    try:
        s.sendall(payload)
    except OSError:
        pass
    print(read_reply(s) or 'EOF')
    return 0


if __name__ == '__main__':
    sys.exit(main())
