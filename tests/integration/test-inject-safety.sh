#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Processes the merge engine must not touch, or must handle cleanly: seccomp-filtered (skipped
# unless allowed), already traced, a zombie, a job-control-stopped process, a kernel thread, the
# caller's parent, a PID that does not exist, and a target that dies while it is stopped.
source "$(dirname "$0")/lib.sh"
require_root
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"

# expect_merge PID OUTCOME REASON [ARGS...]: one result with that outcome and reason.
expect_merge() {
    local pid=$1 outcome=$2 reason=$3 got
    shift 3
    "$KSMCTL" merge --json "$@" "$pid" >"$T/r.json" 2>"$T/r.err"
    got=$(jq -r '.results[0] | .outcome + "/" + .reason' "$T/r.json")
    check "pid $pid: $outcome/$reason ($(jq -r '.results[0].detail' "$T/r.json"))" test "$got" = "$outcome/$reason"
}

start_proc seccomp "$INJECT_TARGET" seccomp 10 1
expect_merge "$PID_seccomp" skipped seccomp
check "seccomp target untouched" test "$(ksm_stat_field "$PID_seccomp" ksm_merge_any)" = no
"$KSMCTL" merge "$PID_seccomp" >/dev/null 2>&1
check "ksmctl merge exits 1 when a process was skipped" test $? -eq 1
expect_merge "$PID_seccomp" done none --allow-seccomp
check "seccomp target merged with --allow-seccomp" test "$(ksm_stat_field "$PID_seccomp" ksm_merge_any)" = yes

start_proc traced "$INJECT_TARGET" sleep 10 1
start_proc holder "$PTRACE_HOLD" "$PID_traced"
wait_for 5 grep -q holding "$T/holder.out" || fail "ptrace-hold did not attach"
expect_merge "$PID_traced" skipped traced
check "skip reason names the tracer" grep -q "being traced by PID $PID_holder" "$T/r.json"
proc_close holder
wait "$PID_holder"

sh -c 'sleep 0 & exec sleep 20' &
parent=$!
on_exit "kill $parent 2>/dev/null; wait $parent 2>/dev/null"
zombie_state() { z=$(pgrep -P "$parent" | head -1); [ -n "$z" ] && [ "$(awk '{print $3}' /proc/$z/stat 2>/dev/null)" = Z ]; }
check "a zombie exists to test with" wait_for 5 zombie_state
expect_merge "$z" skipped zombie

sleep 20 &
stopped=$!
on_exit "kill -KILL $stopped 2>/dev/null; wait $stopped 2>/dev/null"
kill -STOP $stopped
wait_for 5 sh -c "grep -q '^State:.*T' /proc/$stopped/status" || fail "could not stop the sleep"
expect_merge "$stopped" skipped stopped
check "stopped process is still stopped afterwards" grep -q '^State:.*T (stopped)' /proc/$stopped/status

expect_merge 2 skipped kernel-thread
expect_merge $$ skipped self
expect_merge 2147483646 skipped gone

# A target killed while it is stopped: a clean "gone", no hang, no stray stop.
start_proc dying "$INJECT_TARGET" sleep 30 1
( sleep 0.5; kill -KILL "$PID_dying" ) &
killer=$!
start=$SECONDS
"$KSMCTL" merge --json --hold-stopped=3s "$PID_dying" >"$T/dying.json" 2>"$T/dying.err"
wait $killer
check "merge of a target that died while stopped ends as skipped/gone" \
    test "$(jq -r '.results[0] | .outcome + "/" + .reason' "$T/dying.json")" = skipped/gone
check "and ksmctl returned within the hold time (no hang)" test $((SECONDS - start)) -le 5
wait "$PID_dying" 2>/dev/null
check "the target really died of SIGKILL (exit 137)" test $? -eq 137
