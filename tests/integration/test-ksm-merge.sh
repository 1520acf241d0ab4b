#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real KSM end to end: a process opts in with prctl(PR_SET_MEMORY_MERGE) and fills 64 MiB with 4
# distinct pages; ksmd merges them; `ksmctl ps --json` must report that process with merge_any
# true and merging pages > 0, a control process without prctl must show merge_any false, and
# `ksmctl status --json` must agree with every file in /sys/kernel/mm/ksm.
source "$(dirname "$0")/lib.sh"
require_root
require_ksm
[ -r /proc/self/ksm_stat ] || skip "kernel has no /proc/PID/ksm_stat (< 6.1)"

ksm_save_knobs
start_filler merged --prctl 64
start_filler control --none 16
pid=$FILLER_PID_merged
ctl=$FILLER_PID_control

check "filler has merge_any yes before ksmd runs" test "$(ksm_stat_field "$pid" ksm_merge_any)" = yes

# Fast scanning for a few seconds: 64 MiB is 16384 pages, two passes merge them.
[ "$(sed -n 's/.*\[\(.*\)\].*/\1/p' $KSM_DIR/advisor_mode 2>/dev/null)" = scan-time ] && ksm_set advisor_mode none
ksm_set pages_to_scan 20000
ksm_set sleep_millisecs 10
ksm_set run 1
merging() { [ "$(ksm_stat_field "$pid" ksm_merging_pages)" -gt 1000 ]; }
check "ksmd merged the filler's pages within 60 s" wait_for 60 merging

"$KSMCTL" ps --json >"$T/ps.json" 2>"$T/ps.err" || fail "ksmctl ps --json failed: $(cat "$T/ps.err")"
check "ps --json is valid JSON" jq -e . "$T/ps.json" >/dev/null
entry=$(jq -c --argjson p "$pid" '.processes[] | select(.pid == $p)' "$T/ps.json")
check "ps lists the filler" test -n "$entry"
check "ps: merge_any true" test "$(jq -r .merge_any <<<"$entry")" = true
check "ps: mergeable true" test "$(jq -r .mergeable <<<"$entry")" = true
check "ps: merging_pages > 0" test "$(jq -r .merging_pages <<<"$entry")" -gt 0
check "ps: comm is ksm-filler" test "$(jq -r .comm <<<"$entry")" = ksm-filler
cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
check "ps: cgroup is the 0:: path" test "$(jq -r .cgroup <<<"$entry")" = "$cg"
check "ps: profit matches ksm_stat sign (positive after merging)" test "$(jq -r .profit_bytes <<<"$entry")" -gt 0
first=$(jq -r '.processes[0].pid' "$T/ps.json")
check "ps: sorted by profit, the filler (largest) first" test "$first" = "$pid"
check "ps: control process without KSM state is hidden by default" \
    test -z "$(jq -c --argjson p "$ctl" '.processes[] | select(.pid == $p)' "$T/ps.json")"
"$KSMCTL" ps --all --json >"$T/psall.json" || fail "ksmctl ps --all --json failed"
check "ps --all: control process shown with merge_any false" \
    test "$(jq -r --argjson p "$ctl" '.processes[] | select(.pid == $p) | .merge_any' "$T/psall.json")" = false
"$KSMCTL" ps >"$T/ps.txt" || fail "ksmctl ps failed"
check "ps table shows the filler with merge_any yes" grep -Eq "^ *$pid +ksm-filler +yes +yes" "$T/ps.txt"

# Freeze ksmd so the counters hold still, then compare status --json with sysfs, file by file.
ksm_set run 0
sleep 0.2
"$KSMCTL" status --json --sample-time=200ms >"$T/status.json" || fail "ksmctl status --json failed"
check "status --json is valid JSON" jq -e . "$T/status.json" >/dev/null
check "status: run_mode stop" test "$(jq -r .run_mode "$T/status.json")" = stop
for f in "$KSM_DIR"/*; do
    name=$(basename "$f")
    want=$(cat "$f")
    got=$(jq -r --arg k "$name" '(if (.knobs | has($k)) then .knobs[$k] else .counters[$k] end) | if . == true then 1 elif . == false then 0 else . end' "$T/status.json")
    if [ "$name" = advisor_mode ]; then
        want=$(sed -n 's/.*\[\(.*\)\].*/\1/p' <<<"$want")
    fi
    check "status agrees with sysfs: $name=$want" test "$got" = "$want"
done
sharing=$(cat $KSM_DIR/pages_sharing)
zero=$(cat $KSM_DIR/ksm_zero_pages 2>/dev/null || echo 0)
page=$(getconf PAGESIZE)
check "status: saved_bytes = (pages_sharing + ksm_zero_pages) * page size" \
    test "$(jq -r .derived.saved_bytes "$T/status.json")" = $(((sharing + zero) * page))
check "status: profit_bytes = general_profit" \
    test "$(jq -r .derived.profit_bytes "$T/status.json")" = "$(cat $KSM_DIR/general_profit)"
check "status: sharing ratio > 1 (many pages share few)" \
    jq -e '.derived.sharing_ratio > 1' "$T/status.json" >/dev/null
check "status: ksmd CPU measured" jq -e '.derived.ksmd_cpu_percent >= 0 and .derived.ksmd_cpu_sample_usec >= 200000' "$T/status.json" >/dev/null
"$KSMCTL" status --sample-time=0 >"$T/status.txt" || fail "ksmctl status failed"
check "status text names the run mode" grep -q '^KSM: *stop' "$T/status.txt"
check "status text lists pages_sharing" grep -Eq "^  pages_sharing +$sharing pages" "$T/status.txt"

