#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Making running processes mergeable by ptrace injection, and back, without them noticing.
# Six targets that check themselves (tick rate, pipe data, EINTR, woken threads, memory checksum):
# sleeping in clock_nanosleep, blocked in read(), in poll(), busy looping, multi-threaded with
# futex waits, and an epoll loop (which may see one EINTR, and the result must say so).
# Each is made mergeable with `ksmctl merge`, merged by ksmd, unmerged with `ksmctl unmerge`, and
# must then finish with an unchanged memory checksum and no anomaly.
source "$(dirname "$0")/lib.sh"
require_root
require_ksm
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"

modes=(sleep read poll busy threads epoll)
pids=()
for m in "${modes[@]}"; do
    start_proc "$m" "$INJECT_TARGET" "$m" 12 8
    v="PID_$m"
    pids+=("${!v}")
done
sleep 0.3   # let each settle into its blocking call

"$KSMCTL" merge --json "${pids[@]}" >"$T/merge.json" 2>"$T/merge.err"
rc=$?
check "ksmctl merge exits 0 when every target is done" test $rc -eq 0
for m in "${modes[@]}"; do
    v="PID_$m"
    pid=${!v}
    r=$(jq -c --argjson p "$pid" '.results[] | select(.pid == $p)' "$T/merge.json")
    check "merge $m: outcome done via inject" test "$(jq -r '.outcome + "/" + .backend' <<<"$r")" = done/inject
    check "merge $m: stop time reported" test "$(jq -r .stopped_usec <<<"$r")" -gt 0
    check "merge $m: ksm_stat shows merge_any yes" test "$(ksm_stat_field "$pid" ksm_merge_any)" = yes
    if [ "$m" = epoll ]; then
        check "merge epoll: result warns that the thread sees one EINTR" test "$(jq -r .eintr <<<"$r")" = true
    else
        check "merge $m: no EINTR for this target" test "$(jq -r .eintr <<<"$r")" = false
    fi
done
check "threads: the stopped thread is not the main thread in pthread_join's futex only if a better one exists" \
    test "$(jq -r --argjson p "$PID_threads" '.results[] | select(.pid == $p) | .tid' "$T/merge.json")" -gt 0

# Merge for real: every target holds 8 MiB of 4 distinct pages.
ksm_save_knobs
[ "$(sed -n 's/.*\[\(.*\)\].*/\1/p' $KSM_DIR/advisor_mode 2>/dev/null)" = scan-time ] && ksm_set advisor_mode none
ksm_set pages_to_scan 20000
ksm_set sleep_millisecs 10
ksm_set run 1
all_merged() {
    local p
    for p in "${pids[@]}"; do
        [ "$(ksm_stat_field "$p" ksm_merging_pages)" -gt 1000 ] || return 1
    done
}
check "ksmd merged every target's pages" wait_for 60 all_merged
ksm_set run 0

"$KSMCTL" merge "${pids[@]}" >"$T/again.txt"
check "a second merge says already enabled for each" test "$(grep -c 'already enabled' "$T/again.txt")" -eq ${#pids[@]}

"$KSMCTL" unmerge --json "${pids[@]}" >"$T/unmerge.json" 2>"$T/unmerge.err"
rc=$?
check "ksmctl unmerge exits 0 ($(jq -c "[.results[] | select(.outcome != \"done\") | {pid, outcome, reason, detail}]" "$T/unmerge.json" 2>&1) $(cat "$T/unmerge.err"))" test $rc -eq 0
for m in "${modes[@]}"; do
    v="PID_$m"
    pid=${!v}
    check "unmerge $m: done" test "$(jq -r --argjson p "$pid" '.results[] | select(.pid == $p) | .outcome' "$T/unmerge.json")" = done
    check "unmerge $m: merge_any no" test "$(ksm_stat_field "$pid" ksm_merge_any)" = no
    check "unmerge $m: no VMA is mergeable any more" test "$(ksm_stat_field "$pid" ksm_mergeable)" = no
done
# prctl(…, 0) breaks the sharing at once, but ksm_merging_pages is only brought up to date when
# ksmd next walks the process; let it.
ksm_set run 1
none_merging() {
    local p
    for p in "${pids[@]}"; do
        [ "$(ksm_stat_field "$p" ksm_merging_pages)" -eq 0 ] || return 1
    done
}
check "after unmerge no target has merging pages left" wait_for 30 none_merging
ksm_set run 0

# The read/poll/epoll targets still receive data written after the injections.
for m in read poll epoll; do
    echo ping >&"$(proc_fd $m)"
done
for m in read poll epoll; do
    check "$m: received the data written after injection" wait_for 10 grep -qx 'got ping' "$T/$m.out"
    echo quit >&"$(proc_fd $m)"
done

for m in "${modes[@]}"; do
    v="PID_$m"
    wait "${!v}"
    rc=$?
    check "$m: finished without anomalies (exit $rc): $(grep '^report' "$T/$m.out")" test $rc -eq 0
    check "$m: memory checksum unchanged after merge, ksmd merging and unmerge" grep -q 'checksum=ok' "$T/$m.out"
done
check "sleep: kept its tick rate (no anomaly reported)" grep -q 'anomalies=0' "$T/sleep.out"
