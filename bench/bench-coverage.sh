#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-coverage - does a process made mergeable after start save as much as one that opted in?
#
# The same duplicate-page workload (bench-dup-filler: PROCS processes x MIB MiB, 75 % duplicate
# pages) runs twice at the same KSM settings (pages_to_scan 20000, sleep_millisecs 10, no advisor):
#   1. opted in at start (prctl(PR_SET_MEMORY_MERGE) before the memory exists);
#   2. started without opt-in, filled, then made mergeable with `ksmctl merge --pid ...`.
# Each time ksmd starts only once the workload is in place, and runs until pages_sharing has not
# grown for STABLE_SCANS full scans (at most TIMEOUT s).  Printed: pages_sharing gained by each run,
# the sum of the processes' ksm_merging_pages, seconds to converge, and the ratio run 2 / run 1
# (goal >= 0.98; printed, never failed on).
#
# Between the runs and at the end the fillers are killed and ksmd keeps running until the page
# counters are back at their values from before the benchmark.  Every knob changed is saved first
# and restored on every exit path (run last); the end compares the KSM state with the start, and
# the exit status is 1 if a knob could not be restored.
#
# Other KSM users running meanwhile (e.g. the integration tests, which change the same knobs) make
# the result meaningless: the benchmark holds flock KSM_LOCK while it runs, and fails if the knobs
# change under it.
#
# Environment: KSMCTL, DUP_FILLER (set by bench/meson.build); optional PROCS (8), MIB (128),
# TIMEOUT (120), STABLE_SCANS (3), KSM_LOCK.  Exit status 77 (skip) without root or KSM.

set -uo pipefail

KSM_DIR=/sys/kernel/mm/ksm
PROCS=${PROCS:-8}
MIB=${MIB:-128}
TIMEOUT=${TIMEOUT:-120}
STABLE_SCANS=${STABLE_SCANS:-3}
: "${KSMCTL:?set KSMCTL to the ksmctl binary}" "${DUP_FILLER:?set DUP_FILLER to bench-dup-filler}"

skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (KSM knobs, ptrace)"
[ -w "$KSM_DIR/run" ] || skip "needs a writable $KSM_DIR (CONFIG_KSM)"
[ -r /proc/self/ksm_stat ] || skip "kernel has no /proc/PID/ksm_stat (< 6.1)"

# KSM knobs are global: wait for anything else that holds this lock (tests can take it too).
# The lock is the KSM sysfs directory itself (flock works on a directory fd): nothing to create,
# nothing left behind, and every user of the knobs agrees on it without configuration.
KSM_LOCK=${KSM_LOCK:-/sys/kernel/mm/ksm}
exec {lock_fd}<"$KSM_LOCK" || exit 1
if ! flock -w 600 "$lock_fd"; then
    printf 'FAIL: could not take %s within 600 s\n' "$KSM_LOCK" >&2
    exit 1
fi

T=$(mktemp -d /tmp/ksmt-bench.XXXXXX)
pids=()
saved=()                # knob=value, in the order they are restored
restore_failed=0

advisor() { sed -n 's/.*\[\(.*\)\].*/\1/p' "$KSM_DIR/advisor_mode" 2>/dev/null; }
knob() { if [ "$1" = advisor_mode ]; then advisor; else cat "$KSM_DIR/$1"; fi; }
counters() { cat "$KSM_DIR/pages_shared" "$KSM_DIR/pages_sharing" "$KSM_DIR/pages_unshared" | tr '\n' ' '; }
knobs() { grep -H . "$KSM_DIR"/{run,pages_to_scan,sleep_millisecs,advisor_mode} 2>/dev/null; }
state() { knobs; grep -H . "$KSM_DIR"/{pages_shared,pages_sharing,pages_unshared}; }

# set_knob NAME VALUE: saves NAME's value the first time, then writes VALUE.
set_knob() {
    local kv
    for kv in "${saved[@]}"; do
        [ "${kv%%=*}" = "$1" ] && { echo "$2" >"$KSM_DIR/$1"; return; }
    done
    saved+=("$1=$(knob "$1")")
    echo "$2" >"$KSM_DIR/$1"
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}

kill_fillers() {
    local p
    [ ${#pids[@]} -gt 0 ] || return 0
    kill "${pids[@]}" 2>/dev/null
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    pids=()
}

# With ksmd running, waits until the page counters are back at their values from before the
# benchmark (the exited fillers' KSM pages and rmap_items go only when ksmd walks its mm list).
counters_back() { [ "$(counters)" = "$start_counters" ]; }
reap() {
    [ "$(cat "$KSM_DIR/run")" = 1 ] || set_knob run 1
    wait_for 60 counters_back ||
        printf 'WARNING: KSM counters not back to their pre-run values (%s) after 60 s: %s\n' \
            "$start_counters" "$(counters)" >&2
}

cleanup() {
    local rc=$? kv f v
    trap '' INT TERM            # restoring must not be cut short
    trap - EXIT
    kill_fillers
    if [ ${#saved[@]} -gt 0 ]; then
        reap
        # advisor_mode first (switching it resets pages_to_scan), run last.
        for f in advisor_mode pages_to_scan sleep_millisecs run; do
            for kv in "${saved[@]}"; do
                [ "${kv%%=*}" = "$f" ] || continue
                v=${kv#*=}
                [ "$(knob "$f")" = "$v" ] && continue
                [ "$f" = pages_to_scan ] && [ "$(advisor)" = scan-time ] && continue   # advisor owns it
                echo "$v" >"$KSM_DIR/$f" 2>/dev/null || { printf 'WARNING: cannot restore %s=%s\n' "$f" "$v" >&2; restore_failed=1; }
            done
        done
    fi
    printf '\nKSM state at the end:\n'
    state | sed 's/^/  /'
    if [ "$(state)" = "$start_state" ]; then
        printf 'KSM state restored: yes (knobs and page counters identical to the start)\n'
    elif [ "$(knobs)" = "$start_knobs" ]; then
        printf 'KSM knobs restored: yes; page counters differ from the start (other KSM users?)\n'
    else
        printf 'KSM knobs restored: NO; at the start they were:\n'
        printf '%s\n' "$start_knobs" | sed 's/^/  /'
        restore_failed=1
    fi
    rm -rf "$T"
    [ $rc -eq 0 ] && [ $restore_failed -ne 0 ] && rc=1
    exit $rc
}

start_state=$(state)
start_knobs=$(knobs)
start_counters=$(counters)
trap cleanup EXIT
trap 'exit 130' INT TERM

printf 'KSM state at the start:\n'
printf '%s\n' "$start_state" | sed 's/^/  /'
if [ "$(cat "$KSM_DIR/pages_sharing")" != 0 ] || [ "$(cat "$KSM_DIR/pages_unshared")" != 0 ]; then
    printf 'NOTE: other KSM users are active; pages_sharing is measured as the gain over %s\n' \
        "$(cat "$KSM_DIR/pages_sharing")"
fi

[ "$(advisor)" = none ] || set_knob advisor_mode none
set_knob pages_to_scan 20000
set_knob sleep_millisecs 10

# start_fillers prctl|none: PROCS fillers; waits until each printed "ready".
start_fillers() {
    local i p
    for ((i = 0; i < PROCS; i++)); do
        "$DUP_FILLER" "$1" "$i" "$MIB" >"$T/$i.out" 2>"$T/$i.err" </dev/null {lock_fd}>&- &
        pids+=($!)
    done
    for ((i = 0; i < PROCS; i++)); do
        if ! wait_for 60 grep -q '^ready' "$T/$i.out"; then
            cat "$T/$i.err" >&2
            grep -q 'PR_SET_MEMORY_MERGE' "$T/$i.err" && skip "kernel lacks PR_SET_MEMORY_MERGE (6.4+)"
            printf 'FAIL: filler %d did not start\n' "$i" >&2
            exit 1
        fi
    done
}

merging_sum() {
    local p s=0 v
    for p in "${pids[@]}"; do
        v=$(sed -n 's/^ksm_merging_pages \([0-9]*\)$/\1/p' "/proc/$p/ksm_stat" 2>/dev/null)
        s=$((s + ${v:-0}))
    done
    echo $s
}

# converge NAME: starts ksmd and polls until pages_sharing has not grown for STABLE_SCANS full
# scans.  Sets R_SHARING (pages_sharing gained), R_MERGING (sum of ksm_merging_pages), R_SECONDS.
converge() {
    local name=$1 base sharing best=-1 best_scan best_t scan0 scanned0 t0 now scans p converged=0
    base=$(cat "$KSM_DIR/pages_sharing")
    scanned0=$(cat "$KSM_DIR/pages_scanned")
    scan0=$(cat "$KSM_DIR/full_scans")
    best_scan=$scan0
    t0=$(date +%s.%N)
    best_t=$t0
    set_knob run 1
    while :; do
        sleep 0.25
        if [ "$(cat "$KSM_DIR/run") $(cat "$KSM_DIR/pages_to_scan") $(cat "$KSM_DIR/sleep_millisecs")" != "1 20000 10" ]; then
            printf 'FAIL: %s: someone else changed the KSM knobs meanwhile (run=%s pages_to_scan=%s sleep_millisecs=%s); '\
'the result would be meaningless\n' "$name" "$(cat "$KSM_DIR/run")" "$(cat "$KSM_DIR/pages_to_scan")" \
                "$(cat "$KSM_DIR/sleep_millisecs")" >&2
            exit 1
        fi
        now=$(date +%s.%N)
        sharing=$(($(cat "$KSM_DIR/pages_sharing") - base))
        scans=$(cat "$KSM_DIR/full_scans")
        if [ "$sharing" -gt "$best" ]; then
            best=$sharing best_scan=$scans best_t=$now
        elif [ "$sharing" -gt 0 ] && [ "$scans" -ge $((best_scan + STABLE_SCANS)) ]; then
            converged=1
            break
        fi
        awk -v a="$now" -v b="$t0" -v l="$TIMEOUT" 'BEGIN { exit !(a - b > l) }' && break
    done
    if [ $converged -eq 0 ]; then
        printf 'WARNING: %s: no stable pages_sharing after %s s (run=%s, %s full scans, %s pages scanned meanwhile)\n' \
            "$name" "$TIMEOUT" "$(cat "$KSM_DIR/run")" "$((scans - scan0))" \
            "$(($(cat "$KSM_DIR/pages_scanned") - scanned0))" >&2
        for p in "${pids[@]}"; do
            printf '  PID %s: %s\n' "$p" "$(tr '\n' ' ' <"/proc/$p/ksm_stat" 2>/dev/null)" >&2
        done
    fi
    R_SHARING=$best
    R_MERGING=$(merging_sum)
    R_SECONDS=$(awk -v a="$best_t" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
    printf '%s: pages_sharing +%s, sum of ksm_merging_pages %s, converged after %s s (%s full scans)\n' \
        "$name" "$R_SHARING" "$R_MERGING" "$R_SECONDS" "$((best_scan - scan0))"
}

pages_per_proc=$((MIB * 1024 * 1024 / $(getconf PAGESIZE)))
dup_pages=$((PROCS * (pages_per_proc - pages_per_proc / 4)))
printf '\nworkload: %d processes x %d MiB, %d pages each, %d duplicate pages in all (1024 patterns)\n' \
    "$PROCS" "$MIB" "$pages_per_proc" "$dup_pages"

# Run 1: opted in at start.
set_knob run 0
start_fillers prctl
converge "opted in at start"
optin_sharing=$R_SHARING optin_merging=$R_MERGING optin_seconds=$R_SECONDS
kill_fillers
reap

# Run 2: started without opt-in, made mergeable afterwards by ksmctl merge.
set_knob run 0
start_fillers none
if ! "$KSMCTL" merge --pid "${pids[@]}" >"$T/merge.out" 2>&1; then
    cat "$T/merge.out" >&2
    printf 'FAIL: ksmctl merge did not make every filler mergeable\n' >&2
    exit 1
fi
sed 's/^/  ksmctl merge: /' "$T/merge.out"
converge "made mergeable after start"
kill_fillers
reap

ratio=$(awk -v a="$R_SHARING" -v b="$optin_sharing" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')
mratio=$(awk -v a="$R_MERGING" -v b="$optin_merging" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')
printf '\nsavings coverage (made mergeable after start / opted in at start):\n'
printf '  pages_sharing:          %8s / %8s = %s\n' "$R_SHARING" "$optin_sharing" "$ratio"
printf '  sum ksm_merging_pages:  %8s / %8s = %s\n' "$R_MERGING" "$optin_merging" "$mratio"
printf '  seconds to converge:    %8s / %8s\n' "$R_SECONDS" "$optin_seconds"
printf '  goal ratio >= 0.98: %s\n' "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.98 ? "met" : "NOT met") }')"
