#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon skeleton under a fake service manager: READY=1, STATUS=, WATCHDOG=1 at half of
# WATCHDOG_USEC, a status line per sample interval, SIGHUP reload (RELOADING=1 then READY=1) that
# keeps the old config when the new one is invalid, and a clean exit on SIGTERM.
source "$(dirname "$0")/lib.sh"
[ -d /sys/kernel/mm/ksm ] || skip "kernel without KSM"

cfg=$T/ksmtuned-ng.json
printf '{ "sample_interval": "200ms", "log_level": "info", "tuner": { "mode": "off" } }\n' >"$cfg"

WD_USEC=400000 python3 "$HELPERS_DIR/notify-listen.py" "$T/notify.log" "$T/notify.sock" -- \
    "$KSMTUNED_NG" --config "$cfg" --log-target=stderr 2>"$T/daemon.err" &
listener=$!
on_exit "kill -TERM $listener 2>/dev/null; wait $listener 2>/dev/null"

has() { grep -q -- "$1" "$T/notify.log" 2>/dev/null; }
count() { grep -c -- "$1" "$T/notify.log" 2>/dev/null || true; }
status_lines() { grep -c 'KSM [a-z]*: saved' "$T/daemon.err" || true; }

check "READY=1 sent" wait_for 10 has 'READY=1'
check "STATUS= sent" wait_for 10 has 'STATUS='
check "WATCHDOG=1 sent" wait_for 5 has 'WATCHDOG=1'
sleep 1
check "WATCHDOG=1 repeats at about half of WATCHDOG_USEC (>= 3 in 1 s)" test "$(count 'WATCHDOG=1')" -ge 3
check "notifications come from the daemon's own pid (NotifyAccess=main)" \
    test "$(awk '/WATCHDOG=1/ {print $2}' "$T/notify.log" | sort -u | wc -l)" -eq 1
check "one status line per 200 ms interval (>= 4 after ~1.2 s)" wait_for 5 sh -c "[ \$(grep -c 'KSM [a-z]*: saved' '$T/daemon.err') -ge 4 ]"
check "status line names ksmd CPU" grep -q 'ksmd CPU [0-9.]*%' "$T/daemon.err"
check "STATUS carries the KSM summary" wait_for 5 has 'STATUS=KSM'

# Reload with a valid, slower interval.
printf '{ "sample_interval": "2s", "tuner": { "mode": "off" } }\n' >"$cfg"
kill -HUP $listener
check "RELOADING=1 after SIGHUP" wait_for 5 has 'RELOADING=1'
check "READY=1 again after reload" wait_for 5 sh -c "[ \$(grep -c 'READY=1' '$T/notify.log') -ge 2 ]"
check "reload logged with the new interval" wait_for 5 grep -q "Configuration reloaded from '$cfg'.*sample interval 2s" "$T/daemon.err"
before=$(status_lines)
sleep 1
check "new interval in force (no status line within 1 s of a 2 s interval)" test "$(status_lines)" -le $((before + 1))

# Reload with a broken file: rejected, old config kept, daemon keeps running.
printf '{ "sample_interval": \n' >"$cfg"
kill -HUP $listener
check "invalid config rejected with file:line:column" wait_for 5 grep -Eq "Configuration rejected, keeping the previous one: $cfg:[0-9]+:[0-9]+:" "$T/daemon.err"
check "READY=1 after the rejected reload too" wait_for 5 sh -c "[ \$(grep -c 'READY=1' '$T/notify.log') -ge 3 ]"
check "daemon still running after a bad reload" kill -0 $listener

kill -TERM $listener
wait $listener
rc=$?
check "clean exit 0 on SIGTERM" test $rc -eq 0
check "STOPPING=1 sent" has 'STOPPING=1'
check "no sanitizer or error reports on stderr" sh -c "! grep -Eq 'runtime error|AddressSanitizer|LeakSanitizer' '$T/daemon.err'"

