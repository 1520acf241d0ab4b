#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: four processes started without any opt-in, in a cgroup of their own, each holding
# 16 MiB of 4 distinct pages, are made mergeable with `ksmctl merge --cgroup` and merged by ksmd.
# pages_sharing must reach exactly what the same processes reach when they opt in themselves at
# start (all pages but the 4 distinct ones).
source "$(dirname "$0")/lib.sh"
require_root
require_ksm
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"

cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"

ksm_save_knobs
# (checked under the lock: another test or benchmark may be merging right now)
[ "$(cat $KSM_DIR/pages_sharing)" -eq 0 ] || skip "KSM already shares pages on this host; the count would not be exact"
[ "$(sed -n 's/.*\[\(.*\)\].*/\1/p' $KSM_DIR/advisor_mode 2>/dev/null)" = scan-time ] && ksm_set advisor_mode none
ksm_set pages_to_scan 20000
ksm_set sleep_millisecs 10
page=$(getconf PAGESIZE)
n_procs=4
mib=16
total=$((n_procs * mib * 1024 * 1024 / page))
# Each of the 4 patterns has total/4 copies; a KSM page serves at most max_page_sharing mappings,
# so each pattern needs ceil(total/4/max) KSM pages.  The rest of the buffer must be sharing.
# (Other identical anonymous pages of the processes, e.g. zeroed heap, may add a few more.)
max_sharing=$(cat $KSM_DIR/max_page_sharing)
expected=$((total - 4 * ((total / 4 + max_sharing - 1) / max_sharing)))

# run_round NAME MODE: start the fillers, (merge them), run ksmd until pages_sharing settles.
run_round() {
    local name=$1 mode=$2 i cg="$cg2/ksmt-e2e-$$-$1" last=-1 now stable=0
    mkdir "$cg" || fail "cannot create cgroup $cg"
    on_exit "rmdir '$cg' 2>/dev/null"
    for i in $(seq 1 $n_procs); do
        start_filler "$name$i" "$mode" --distinct=4 "$mib"
        v="FILLER_PID_$name$i"
        echo "${!v}" >"$cg/cgroup.procs" || fail "cannot move ${!v} into $cg"
    done
    if [ "$mode" = --none ]; then
        "$KSMCTL" merge --json --cgroup "/ksmt-e2e-$$-$name" >"$T/$name.json" || fail "ksmctl merge --cgroup failed: $(cat "$T/$name.json")"
        check "$name: merge --cgroup made all $n_procs processes mergeable" \
            test "$(jq -r .summary.done "$T/$name.json")" -eq $n_procs
    fi
    ksm_set run 1
    for i in $(seq 1 600); do
        now=$(cat $KSM_DIR/pages_sharing)
        if [ "$now" -eq "$last" ]; then stable=$((stable + 1)); else stable=0; fi
        [ "$now" -ge "$expected" ] && [ $stable -ge 10 ] && break
        last=$now
        sleep 0.1
    done
    eval "sharing_$name=$now"
    ksm_set run 0
    for i in $(seq 1 $n_procs); do
        v="FILLER_PID_$name$i"
        kill "${!v}"
        wait "${!v}" 2>/dev/null
    done
    rmdir "$cg"
    # Let ksmd reap the exited processes' pages before the next round.
    ksm_set run 1
    wait_for 30 sh -c "[ \$(cat $KSM_DIR/pages_shared) -eq 0 ] && [ \$(cat $KSM_DIR/pages_sharing) -eq 0 ]" ||
        fail "KSM pages of round $name were not reaped"
    ksm_set run 0
}

run_round optin --prctl
run_round injected --none
log "pages_sharing: opted in at start $sharing_optin, made mergeable after start $sharing_injected, buffer alone $expected"
check "opted-in processes share at least every buffer page but the KSM pages themselves ($sharing_optin >= $expected)" \
    test "$sharing_optin" -ge "$expected"
check "processes made mergeable by ksmctl merge reach it too ($sharing_injected >= $expected)" \
    test "$sharing_injected" -ge "$expected"
# The same memory, so the same sharing, within a page or two of process-private noise (stack, heap).
check "and within 0.1 % of the opted-in count" \
    test $((sharing_injected * 1000)) -ge $((sharing_optin * 999))
