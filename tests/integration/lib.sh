# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for integration tests (sourced).  Each test runs on the real kernel and must
# leave the machine as it found it: KSM knobs are saved before any change and restored on every
# exit path (trap), scratch files live in a private temp dir, children are killed.
#
# Environment (set by tests/integration/meson.build): KSMCTL, KSMTUNED_NG, KSM_FILLER, HELPERS_DIR,
# CONF_DIR.

set -uo pipefail

KSM_DIR=/sys/kernel/mm/ksm
T=$(mktemp -d /tmp/ksmt-test.XXXXXX)
_cleanups=()
_saved_knobs=()
n_checks=0

log() { printf '# %s\n' "$*"; }

# Output is TAP: "ok N - what" per check, "not ok N - what" for the failing one, the plan at the
# end; tools/test-summary.py counts the cases.
fail() {
    n_checks=$((n_checks + 1))
    printf 'not ok %d - %s\n' "$n_checks" "$*"
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

# skip REASON: exit 77 (meson: SKIP), except on CI where the feature must be present.
skip() {
    if [ "${CI:-}" = true ]; then
        printf 'FAIL: would skip on CI, where it must run: %s\n' "$*" >&2
        exit 1
    fi
    printf 'SKIP: %s\n' "$*" >&2
    exit 77
}

check() {   # check DESCRIPTION COMMAND...: run COMMAND, fail with DESCRIPTION unless it succeeds
    local what=$1
    shift
    if ! "$@"; then
        fail "$what"
    fi
    n_checks=$((n_checks + 1))
    printf 'ok %d - %s\n' "$n_checks" "$what"
}

# pass WHAT: record a check that the caller verified itself.
pass() {
    n_checks=$((n_checks + 1))
    printf 'ok %d - %s\n' "$n_checks" "$*"
}

on_exit() { _cleanups+=("$*"); }

_run_cleanups() {
    local rc=$? i
    for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
        eval "${_cleanups[$i]}" || true
    done
    ksm_restore_knobs
    rm -rf "$T"
    [ $n_checks -gt 0 ] && printf '1..%d\n' "$n_checks"
    exit $rc
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
require_ksm() { [ -w "$KSM_DIR/run" ] || skip "needs a writable $KSM_DIR (CONFIG_KSM, root)"; }

# Saves the writable KSM knobs once; ksm_restore_knobs writes them back (run last, so ksmd stops
# with everything else already in its old state).
ksm_save_knobs() {
    local f v
    # KSM knobs are global: hold the lock every user of them here agrees on (tests, benchmarks),
    # the KSM sysfs directory itself, until this test exits.
    exec {_ksm_lock_fd}<"$KSM_DIR"
    flock -w 600 "$_ksm_lock_fd" || fail "could not lock $KSM_DIR (another test or benchmark holds it)"
    _saved_counters=$(_ksm_counters)
    for f in pages_to_scan sleep_millisecs use_zero_pages smart_scan max_page_sharing \
             stable_node_chains_prune_millisecs advisor_mode advisor_max_cpu \
             advisor_min_pages_to_scan advisor_max_pages_to_scan advisor_target_scan_time run; do
        [ -e "$KSM_DIR/$f" ] || continue
        v=$(cat "$KSM_DIR/$f")
        [ "$f" = advisor_mode ] && v=$(sed -n 's/.*\[\(.*\)\].*/\1/p' <<<"$v")
        _saved_knobs+=("$f=$v")
    done
}

# After a test's KSM processes have exited, their KSM pages and rmap_items stay until ksmd walks
# its mm list again: with run=0 they would linger (and pages_shared/pages_sharing with them).  Let
# ksmd run until the page counters are back at their values from before the test (or, if other
# KSM users changed them meanwhile, two more full scans), then put the saved knobs back.
_ksm_counters() { cat "$KSM_DIR/pages_shared" "$KSM_DIR/pages_sharing" "$KSM_DIR/pages_unshared" | tr '\n' ' '; }

_ksm_settled() {
    [ "$(_ksm_counters)" = "$_saved_counters" ] || [ "$(cat "$KSM_DIR/full_scans")" -ge $((_settle_start + 2)) ]
}

ksm_settle() {
    local advisor
    [ ${#_saved_knobs[@]} -gt 0 ] || return 0
    _settle_start=$(cat "$KSM_DIR/full_scans")
    advisor=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$KSM_DIR/advisor_mode" 2>/dev/null)
    [ "$advisor" = scan-time ] || echo 20000 >"$KSM_DIR/pages_to_scan"
    echo 10 >"$KSM_DIR/sleep_millisecs"
    echo 1 >"$KSM_DIR/run"
    wait_for 30 _ksm_settled ||
        printf 'WARNING: KSM counters did not return to their pre-test values (%s), now %s\n' \
            "$_saved_counters" "$(_ksm_counters)" >&2
}

ksm_restore_knobs() {
    local kv f v cur
    ksm_settle
    for kv in "${_saved_knobs[@]}"; do
        f=${kv%%=*}
        v=${kv#*=}
        cur=$(cat "$KSM_DIR/$f" 2>/dev/null)
        [ "$f" = advisor_mode ] && cur=$(sed -n 's/.*\[\(.*\)\].*/\1/p' <<<"$cur")
        [ "$cur" = "$v" ] && continue
        echo "$v" >"$KSM_DIR/$f" 2>/dev/null || printf 'WARNING: could not restore %s=%s\n' "$f" "$v" >&2
    done
    _saved_knobs=()
}

ksm_set() { echo "$2" >"$KSM_DIR/$1" || fail "cannot write $2 to $KSM_DIR/$1"; }

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds or time runs out.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    while ! "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
}

# start_proc NAME CMD...: starts CMD with stdin on a FIFO we hold open (write to it with
# `echo x >&"$(proc_fd NAME)"`, close it with proc_close NAME), stdout/stderr in $T/NAME.{out,err};
# waits for a line starting with "ready" on stdout; sets PID_<NAME>.  Killed at exit.
start_proc() {
    local name=$1 pid fd
    shift
    mkfifo "$T/$name.in"
    "$@" <"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" &
    pid=$!
    exec {fd}>"$T/$name.in"
    printf -v "FD_$name" '%s' "$fd"
    printf -v "PID_$name" '%s' "$pid"
    on_exit "kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null"
    wait_for 30 grep -q '^ready' "$T/$name.out" || { cat "$T/$name.err" >&2; fail "$name did not start"; }
}

proc_fd() { local v="FD_$1"; echo "${!v}"; }
proc_close() { local fd; fd=$(proc_fd "$1"); eval "exec $fd>&-"; }

# start_filler NAME ARGS...: a ksm-filler; sets FILLER_PID_<NAME> too.
start_filler() {
    local name=$1 v
    shift
    start_proc "$name" "$KSM_FILLER" "$@"
    v="PID_$name"
    printf -v "FILLER_PID_$name" '%s' "${!v}"
}

ksm_stat_field() {   # ksm_stat_field PID KEY -> value
    sed -n "s/^$2:\{0,1\} \{1,\}//p" "/proc/$1/ksm_stat"
}
