# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# bench/lib.sh - what the KSM benchmarks share (sourced by bench-tuner.sh and bench-bpf.sh): the
# lock on /sys/kernel/mm/ksm, saving every KSM knob and restoring it, resetting KSM between runs,
# small readers.  Expects $ksmd (the ksmd PID) for ksmd_ns and the array pids for kill_fillers.

KSM_DIR=/sys/kernel/mm/ksm

skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }

# ksm_lock: the flock every user of the KSM knobs here agrees on (tests, benchmarks), held on
# $lock_fd until the benchmark exits.
ksm_lock() {
    exec {lock_fd}<"$KSM_DIR" || exit 1
    if ! flock -w 600 "$lock_fd"; then
        printf 'FAIL: could not take %s within 600 s\n' "$KSM_DIR" >&2
        exit 1
    fi
}

# wait_for SECONDS COMMAND...: polls COMMAND every $WAIT_POLL s (0.1).
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep "${WAIT_POLL:-0.1}"
    done
}
rd() { local v; read -r v <"$KSM_DIR/$1"; echo "$v"; }
ksmd_ns() { local a; read -r a _ <"/proc/$ksmd/schedstat"; echo "$a"; }
advisor() { sed -n 's/.*\[\(.*\)\].*/\1/p' "$KSM_DIR/advisor_mode" 2>/dev/null; }

# knobs_save: every knob in KNOBS (and the advisor's) into saved[], and start_knobs.
declare -A saved
KNOBS="run pages_to_scan sleep_millisecs use_zero_pages smart_scan max_page_sharing merge_across_nodes"
knobs_save() {
    local f k
    for f in "$KSM_DIR"/advisor_*; do
        [ -e "$f" ] && [ "${f##*/}" != advisor_mode ] && KNOBS+=" ${f##*/}"
    done
    saved[advisor_mode]=$(advisor)
    for k in $KNOBS; do [ -e "$KSM_DIR/$k" ] && saved[$k]=$(cat "$KSM_DIR/$k"); done
    start_knobs=$(knobs_now)
}
knobs_now() {
    local k
    printf 'advisor_mode=%s' "$(advisor)"
    for k in $KNOBS; do [ -e "$KSM_DIR/$k" ] && printf ' %s=%s' "$k" "$(cat "$KSM_DIR/$k")"; done
    echo
}
# knobs_restore: advisor_mode first (switching it resets pages_to_scan), run last; says whether
# every knob is back, and returns 1 if not.
knobs_restore() {
    local k
    [ "$(advisor)" = "${saved[advisor_mode]}" ] || echo "${saved[advisor_mode]}" >"$KSM_DIR/advisor_mode" 2>/dev/null
    for k in $KNOBS; do
        [ "$k" = run ] && continue
        [ -n "${saved[$k]+x}" ] || continue
        [ "$k" = pages_to_scan ] && [ "${saved[advisor_mode]}" = scan-time ] && continue
        [ "$(cat "$KSM_DIR/$k")" = "${saved[$k]}" ] || echo "${saved[$k]}" >"$KSM_DIR/$k" 2>/dev/null ||
            printf 'WARNING: cannot restore %s=%s\n' "$k" "${saved[$k]}" >&2
    done
    echo "${saved[run]}" >"$KSM_DIR/run"
    if [ "$(knobs_now)" = "$start_knobs" ]; then
        printf 'KSM knobs restored: yes\n'
    else
        printf 'KSM knobs restored: NO\n  start: %s\n  now:   %s\n' "$start_knobs" "$(knobs_now)"
        return 1
    fi
}

kill_fillers() {
    local p
    [ ${#pids[@]} -gt 0 ] || return 0
    kill "${pids[@]}" 2>/dev/null
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    pids=()
}

# reset_ksm: unmerge everything KSM holds (run=2), wait until pages_shared and pages_sharing (and
# with RESET_UNSHARED=1 pages_unshared) are 0, stop ksmd (run=0).
ksm_empty() {
    [ "$(rd pages_shared)" = 0 ] && [ "$(rd pages_sharing)" = 0 ] &&
        { [ "${RESET_UNSHARED:-0}" != 1 ] || [ "$(rd pages_unshared)" = 0 ]; }
}
reset_ksm() {
    echo none >"$KSM_DIR/advisor_mode" 2>/dev/null
    echo 2 >"$KSM_DIR/run"
    wait_for 120 ksm_empty || printf 'WARNING: KSM counters not 0 after run=2: shared %s, sharing %s, unshared %s\n' \
        "$(rd pages_shared)" "$(rd pages_sharing)" "$(rd pages_unshared)" >&2
    echo 0 >"$KSM_DIR/run"
}
