#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# journal-sandbox.sh CMD...: runs CMD with a private, throw-away systemd-journald (no systemd as
# PID 1 needed).  Inside, sd_journal_send() works and journalctl reads what was sent.  The host's
# /run/systemd, /run/log and /var/log/journal are hidden behind tmpfs mounts in a private mount
# namespace, so nothing reaches the host journal; mount points we had to create are removed again.
set -eu
created=""
for d in /run/systemd /run/log; do
    [ -d "$d" ] || { mkdir -p "$d"; created="$created $d"; }
done
rc=0
unshare -m --propagation private sh -ec '
  mount -t tmpfs tmpfs /run/systemd
  mount -t tmpfs tmpfs /run/log
  [ -d /var/log/journal ] && mount -t tmpfs tmpfs /var/log/journal
  mkdir -p /run/systemd/journal /run/systemd/journald.conf.d
  printf "[Journal]\nStorage=volatile\nForwardToSyslog=no\nForwardToWall=no\nReadKMsg=no\nRateLimitBurst=0\n" \
      > /run/systemd/journald.conf.d/test.conf
  /lib/systemd/systemd-journald >/dev/null 2>&1 & jpid=$!
  i=0; while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
  [ -S /run/systemd/journal/socket ] || { echo "journal-sandbox: journald did not start" >&2; exit 1; }
  rc=0; "$@" || rc=$?
  kill $jpid; wait $jpid 2>/dev/null || true
  exit $rc' sh "$@" || rc=$?
for d in $created; do rmdir "$d" 2>/dev/null || true; done
exit $rc
