#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A fake service manager for sd_notify tests (no systemd as PID 1 on our machines).

usage: notify-listen.py LOGFILE SOCKETPATH -- CMD ARGS...

Binds an AF_UNIX datagram socket at SOCKETPATH, starts CMD with NOTIFY_SOCKET set (and, if the
environment has WD_USEC, with WATCHDOG_USEC and WATCHDOG_PID equal to the daemon's own pid, as
systemd does), and appends every received line to LOGFILE as "<monotonic seconds> pid=<sender> <line>".
Forwards SIGHUP/SIGTERM/SIGINT it receives to the daemon.  Exits with the daemon's exit status.
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import time


def main():
    log_path, sock_path = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index('--') + 1:]
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.settimeout(0.05)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    if os.environ.get('WD_USEC'):
        env['WATCHDOG_USEC'] = os.environ['WD_USEC']
        cmd = ['/bin/sh', '-c', 'WATCHDOG_PID=$$ exec "$0" "$@"'] + cmd
    p = subprocess.Popen(cmd, env=env)

    def forward(sig, _frame):
        p.send_signal(sig)

    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    t0 = time.monotonic()
    with open(log_path, 'a', buffering=1) as log:
        while True:
            try:
                data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                if p.poll() is not None:
                    break
                continue
            except InterruptedError:
                continue
            pid = next((struct.unpack('iII', d)[0] for lvl, t, d in anc
                        if lvl == socket.SOL_SOCKET and t == socket.SCM_CREDENTIALS), None)
            for line in data.decode(errors='replace').splitlines():
                log.write(f'{time.monotonic() - t0:.3f} pid={pid} {line}\n')
    s.close()
    os.unlink(sock_path)
    return p.returncode if p.returncode >= 0 else 128 - p.returncode


if __name__ == '__main__':
    sys.exit(main())
