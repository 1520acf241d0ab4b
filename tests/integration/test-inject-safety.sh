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

# Without CAP_SYS_PTRACE: another user's process is refused with a message that says why; the
# caller's own processes still work.
command -v setpriv >/dev/null || fail "setpriv (util-linux) is required"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all)
as_nobody() { "${nobody[@]}" "$@"; }
start_proc rootowned "$INJECT_TARGET" sleep 10 1
chmod 755 "$T"
as_nobody "$KSMCTL" merge --json "$PID_rootowned" >"$T/nobody.json" 2>"$T/nobody.err"
check "as nobody, a root process: failed/no-permission" \
    test "$(jq -r '.results[0] | .outcome + "/" + .reason' "$T/nobody.json")" = failed/no-permission
check "as nobody: the message names CAP_SYS_PTRACE" grep -q 'CAP_SYS_PTRACE' "$T/nobody.json"
as_nobody "$KSMCTL" status --json --sample-time=0 >"$T/nobody-status.json"
check "as nobody: status says inject works for own processes only" \
    jq -e '.merge_backends.inject.note | test("own processes only")' "$T/nobody-status.json" >/dev/null
"${nobody[@]}" "$INJECT_TARGET" sleep 10 1 </dev/null >"$T/own.out" 2>&1 &   # $! must be the target itself
own=$!
on_exit "kill -KILL $own 2>/dev/null; wait $own 2>/dev/null"
wait_for 10 grep -q '^ready' "$T/own.out" || fail "nobody's target did not start"
as_nobody "$KSMCTL" merge --json "$own" >"$T/own.json" 2>"$T/own.err"
check "as nobody, its own process: done" test "$(jq -r '.results[0].outcome' "$T/own.json")" = done
check "and it is mergeable" test "$(ksm_stat_field "$own" ksm_merge_any)" = yes

# A signal that arrives while the target is stopped is delivered afterwards, exactly once.
# (6 s run: the deliberate 1 s hold must not push the tick rate under the target's 70 % floor.)
start_proc sig "$INJECT_TARGET" signal 6 1
"$KSMCTL" merge --json --hold-stopped=1s "$PID_sig" >"$T/sig.json" 2>"$T/sig.err" &
merger=$!
sleep 0.4
kill -USR1 "$PID_sig"
wait $merger
check "merge with a signal arriving meanwhile: done" test "$(jq -r '.results[0].outcome' "$T/sig.json")" = done
wait "$PID_sig"
rc=$?
check "target finished cleanly: $(grep '^report' "$T/sig.out")" test $rc -eq 0
check "the signal sent during the stop was delivered exactly once" grep -q 'signals=1 ' "$T/sig.out"

# An injected call that runs too long is interrupted, changing nothing, and the target lives on.
# prctl(…, 0) unmerges page by page over every mergeable mapping, so 512 GiB of sparse reserved
# memory (like an ASan shadow) takes the kernel far longer than the 300 ms allowed here.
start_proc sparse "$INJECT_TARGET" sleep 6 1 512
"$KSMCTL" merge --json "$PID_sparse" >"$T/sp1.json"
check "sparse target: merge done (enabling only sets flags, fast)" test "$(jq -r '.results[0].outcome' "$T/sp1.json")" = done
start=$SECONDS
"$KSMCTL" unmerge --json --call-timeout=300ms "$PID_sparse" >"$T/sp2.json"
rc=$?
check "sparse target: unmerge ends as failed/call-timeout" \
    test "$(jq -r '.results[0] | .outcome + "/" + .reason' "$T/sp2.json")" = failed/call-timeout
check "and ksmctl exits 1" test $rc -eq 1
check "and it returned promptly" test $((SECONDS - start)) -le 3
check "nothing changed: still merge_any yes" test "$(ksm_stat_field "$PID_sparse" ksm_merge_any)" = yes
check "nothing changed: VMAs still mergeable" test "$(ksm_stat_field "$PID_sparse" ksm_mergeable)" = yes
wait "$PID_sparse"
rc=$?
check "the target lived on without anomalies (no stray SIGTRAP): $(grep '^report' "$T/sparse.out")" test $rc -eq 0
