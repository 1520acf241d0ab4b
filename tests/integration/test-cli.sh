#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad arguments, unknown options, missing and broken config files: a one-line error that names the
# problem (file, line and column where they apply), exit status 2 for usage errors, never a crash.
source "$(dirname "$0")/lib.sh"

# expect RC PATTERN CMD...: CMD exits with RC and its stderr is one line matching PATTERN.
expect() {
    local rc=$1 pattern=$2 got
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    [ "$got" -eq "$rc" ] || fail "'$*' exited $got, expected $rc; stderr: $(cat "$T/err")"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "'$*' should print exactly one error line, got: $(cat "$T/err")"
    grep -Eq -- "$pattern" "$T/err" || fail "'$*' stderr does not match /$pattern/: $(cat "$T/err")"
    pass "$* -> exit $rc: $(cat "$T/err")"
}

expect 2 "missing command" "$KSMCTL"
expect 2 "unknown command 'frobnicate'" "$KSMCTL" frobnicate
expect 2 "unknown option '--bogus'" "$KSMCTL" --bogus status
expect 2 "unknown option '-z'" "$KSMCTL" -z status
expect 2 "option '--sample-time' needs an argument" "$KSMCTL" status --sample-time
expect 2 "invalid --sample-time 'soon'" "$KSMCTL" status --sample-time=soon
expect 2 "invalid --sample-time '2h'" "$KSMCTL" status --sample-time=2h
expect 2 "--all applies to 'ps' only" "$KSMCTL" status --all
expect 2 "--sample-time applies to 'status' only" "$KSMCTL" ps --sample-time=1s
expect 2 "unexpected argument 'extra'" "$KSMCTL" ps extra
expect 1 "KSM is not available: '$T/none'" "$KSMCTL" status --ksm-dir="$T/none"
expect 1 "cannot open '$T/none'" "$KSMCTL" ps --proc-dir="$T/none"

expect 2 "merge needs --pid PID or --cgroup PATH" "$KSMCTL" merge
expect 2 "invalid PID 'abc'" "$KSMCTL" merge abc
expect 2 "invalid PID '0'" "$KSMCTL" merge --pid 0
expect 2 "invalid --cgroup 'system.slice'" "$KSMCTL" merge --cgroup system.slice
expect 2 "invalid --backend 'magic'" "$KSMCTL" merge --backend=magic 1
expect 2 "invalid --stop-timeout '0'" "$KSMCTL" merge --stop-timeout=0 1
expect 2 "invalid --call-timeout 'forever'" "$KSMCTL" unmerge --call-timeout=forever 1
expect 2 "--pid, --cgroup, .* apply to 'merge' and 'unmerge' only" "$KSMCTL" status --pid 1
expect 2 "exec needs a command to run" "$KSMCTL" exec
expect 2 "exec needs a command to run" "$KSMCTL" exec --
expect 2 "exec takes no options" "$KSMCTL" --json exec true
expect 127 "cannot run 'no-such-program-ksmt': No such file or directory" "$KSMCTL" exec no-such-program-ksmt
printf 'data\n' >"$T/noexec"
chmod 644 "$T/noexec"
expect 126 "cannot run '$T/noexec': Permission denied" "$KSMCTL" exec "$T/noexec"

# Options may follow PIDs; exec passes the program's own options through untouched.
sleep 30 &
sleeper=$!
on_exit "kill $sleeper 2>/dev/null; wait $sleeper 2>/dev/null"
if [ "$(id -u)" -eq 0 ] && [ -r /proc/self/ksm_stat ]; then
    "$KSMCTL" merge "$sleeper" --json >"$T/m.json" 2>"$T/m.err"
    check "merge PID --json: options after a PID are options (JSON output)" jq -e '.summary.done == 1' "$T/m.json" >/dev/null
    "$KSMCTL" unmerge -j "$sleeper" >/dev/null || fail "unmerge failed"
fi
"$KSMCTL" exec grep -c 'ksm_merge_any: yes' /proc/self/ksm_stat >"$T/exec.out" 2>"$T/exec.err"
check "exec: the program's own options pass through and it runs with merge_any yes" test "$(cat "$T/exec.out")" = 1
"$KSMCTL" exec -- sh -c 'sh -c "grep -c \"ksm_merge_any: yes\" /proc/self/ksm_stat"' >"$T/exec2.out"
check "exec: grandchildren inherit merging (fork + execve)" test "$(cat "$T/exec2.out")" = 1
sh -c 'exit 7'
"$KSMCTL" exec sh -c 'exit 7'
check "exec: the program's exit status is ksmctl's" test $? -eq 7

"$KSMCTL" --help >"$T/help" || fail "ksmctl --help failed"
check "ksmctl --help lists status and ps" grep -q 'status' "$T/help"
check "ksmctl --version prints the version" sh -c "'$KSMCTL' --version | grep -Eq '^ksmctl [0-9]'"

expect 2 "unknown option '--bogus'" "$KSMTUNED_NG" --bogus
expect 2 "unexpected argument 'extra'" "$KSMTUNED_NG" extra
expect 2 "invalid --log-target 'syslog'" "$KSMTUNED_NG" --log-target=syslog
expect 2 "invalid --log-level 'loud'" "$KSMTUNED_NG" --log-level=loud
expect 2 "option '--config' needs an argument" "$KSMTUNED_NG" --config
"$KSMTUNED_NG" --help >"$T/help" || fail "ksmtuned-ng --help failed"
check "ksmtuned-ng --help documents --config" grep -q -- '--config' "$T/help"

# Config files: missing, not JSON, duplicate key, unknown key, wrong type, out of range.
expect 1 "$T/missing.json: cannot open: No such file or directory" "$KSMTUNED_NG" --log-target=stderr --config "$T/missing.json"
printf '{\n  "sample_interval": "10s",\n  oops\n}\n' >"$T/notjson.json"
expect 1 "$T/notjson.json:3:[0-9]+: " "$KSMTUNED_NG" --log-target=stderr --config "$T/notjson.json"
printf '{"sample_interval": "10s", "sample_interval": "20s"}' >"$T/dup.json"
expect 1 "$T/dup.json:1:[0-9]+: duplicate object key" "$KSMTUNED_NG" --log-target=stderr --config "$T/dup.json"
printf '{"sample_intervall": "10s"}' >"$T/unknown.json"
expect 1 "$T/unknown.json: sample_intervall: unknown key \\(known keys: sample_interval, log_level, rescan_interval, merge_backend, control_socket, max_tracked, merge_attempts, tuner, metrics_file, statistics\\)" "$KSMTUNED_NG" --log-target=stderr --config "$T/unknown.json"
printf '{"sample_interval": 10}' >"$T/type.json"
expect 1 "$T/type.json: sample_interval: expected a duration string" "$KSMTUNED_NG" --log-target=stderr --config "$T/type.json"
printf '{"sample_interval": "1ms"}' >"$T/range.json"
expect 1 "$T/range.json: sample_interval: duration \"1ms\" out of range, expected 100ms to 60min" "$KSMTUNED_NG" --log-target=stderr --config "$T/range.json"
printf '[1, 2]' >"$T/array.json"
expect 1 "$T/array.json: expected a JSON object at the top level, got an array" "$KSMTUNED_NG" --log-target=stderr --config "$T/array.json"
: >"$T/empty.json"
expect 1 "$T/empty.json:1:[0-9]+: " "$KSMTUNED_NG" --log-target=stderr --config "$T/empty.json"
expect 1 "$T/notjson.json:3:[0-9]+: " "$KSMTUNED_NG" --check-config --config "$T/notjson.json"
check "--check-config accepts the shipped config" "$KSMTUNED_NG" --check-config --config "$CONF_DIR/ksmtuned-ng.json"

