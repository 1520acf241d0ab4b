#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-tuner - time to merge and ksmd CPU cost of the tuner against the kernel's own settings.
#
# One workload (bench-dup-filler: PROCS processes x MIB MiB, 75 % duplicate pages from 1024 shared
# patterns) is merged under each configuration in turn, in one run:
#   kernel-defaults   pages_to_scan 100, sleep 20 ms, run 1, advisor none; fillers opt in (prctl)
#   kernel-advisor    advisor_mode scan-time (default target), switched on with the workload
#   full-speed        pages_to_scan 100000, sleep 0: the physical limit
#   ksmtuned          the daemon, tuner.mode ksmtuned, distribution ksmtuned.conf but
#                     KSM_THRES_COEF=100 (so it runs on a big host) and KSM_MONITOR_INTERVAL=5
#   adaptive          the daemon, tuner.mode adaptive (defaults)
# For the daemon configurations the fillers start in a cgroup without opting in; a policy makes
# them mergeable (as in production).  The clock starts when every filler has filled its memory.
# Measured: seconds to 50/90/99 % of the theoretical saving (pages_sharing against the known
# number of duplicate pages minus one per pattern), ksmd CPU-seconds (/proc/PID/schedstat) until
# 90 %, ksmd CPU-seconds per GiB saved (at 99 % or at the end of the wait), the settling tail
# (adaptive: seconds and ksmd CPU-seconds until it is back at its maintenance pace), and ksmd CPU %
# in an IDLE s window after that; then a second wave of PROCS processes started after convergence
# (seconds and ksmd CPU-seconds to 90 % of its saving).  A configuration that does not get there
# within MAX_WAIT s is reported as "-".  With REPEAT > 1 every figure is the median of the runs.
# Then (CHURN=1) the workload rewrites CHURN_PCT % of its pages every second: ksmd CPU % and the
# mean saving kept over CHURN_WINDOW s, for CHURN_CONFIGS ("adaptive-bNN": adaptive with
# tuner.cpu_budget NN).  Between configurations the daemon and the fillers are stopped and KSM
# reset (run=2 until pages_shared and pages_sharing are 0).
#
# Every KSM knob is saved first and restored on every exit path; cgroups and temp files are
# removed.  Holds flock on /sys/kernel/mm/ksm while it runs.
#
# Environment: KSMTUNED_NG, DUP_FILLER (set by bench/meson.build); optional PROCS (8), MIB (128),
# MAX_WAIT (180), IDLE (30), SETTLE (60), REPEAT (1), WAVE2 (1), CHURN (1), CHURN_PCT (10),
# CHURN_WARM (30), CHURN_WINDOW (60), CONFIGS and CHURN_CONFIGS (space-separated), KEEP_LOGS (a
# directory to copy the daemons' time-stamped logs to), DAEMON_LOG_LEVEL (info).  Exit 77 (skip)
# without root/KSM.

set -uo pipefail
source "$(dirname "$0")/lib.sh"
WAIT_POLL=0.2

PROCS=${PROCS:-8}
MIB=${MIB:-128}
MAX_WAIT=${MAX_WAIT:-180}
IDLE=${IDLE:-30}
SETTLE=${SETTLE:-60}
REPEAT=${REPEAT:-1}
CHURN=${CHURN:-1}
CHURN_PCT=${CHURN_PCT:-10}
CHURN_WARM=${CHURN_WARM:-30}
CHURN_WINDOW=${CHURN_WINDOW:-60}
CHURN_CONFIGS=${CHURN_CONFIGS:-"kernel-defaults full-speed adaptive adaptive-b20"}
CONFIGS=${CONFIGS:-"kernel-defaults kernel-advisor full-speed ksmtuned adaptive"}
: "${KSMTUNED_NG:?set KSMTUNED_NG to the ksmtuned-ng binary}" "${DUP_FILLER:?set DUP_FILLER to bench-dup-filler}"

[ "$(id -u)" -eq 0 ] || skip "needs root (KSM knobs, cgroups, ptrace)"
[ -w "$KSM_DIR/run" ] || skip "needs a writable $KSM_DIR (CONFIG_KSM)"
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"
ksmd=$(pgrep -x ksmd | head -1)
[ -n "$ksmd" ] || skip "no ksmd kernel thread"

ksm_lock

T=$(mktemp -d /tmp/ksmt-bt.XXXXXX)
CGNAME=ksmt-bt-$$
CG=$cg2/$CGNAME
pids=()
daemon=

knobs_save

stop_daemon() {
    [ -n "$daemon" ] || return 0
    kill -TERM "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null
    daemon=
}
cleanup() {
    local rc=$?
    trap '' INT TERM
    trap - EXIT
    stop_daemon
    kill_fillers
    reset_ksm
    knobs_restore || { [ $rc -eq 0 ] && rc=1; }
    rmdir "$CG" 2>/dev/null
    if [ -n "${KEEP_LOGS:-}" ]; then
        mkdir -p "$KEEP_LOGS" && cp "$T"/*.err "$KEEP_LOGS"/ 2>/dev/null
        printf 'daemon logs kept in %s\n' "$KEEP_LOGS"
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$CG" || { printf 'FAIL: cannot create %s\n' "$CG" >&2; exit 1; }
mkdir "$T/p"
echo "{ \"cgroups\": [\"/$CGNAME\"], \"action\": \"merge\" }" >"$T/p/50-bt.json"
cat >"$T/ksmtuned.conf" <<'CONF'
# /etc/ksmtuned.conf as shipped by distributions, but KSM_THRES_COEF=100 (runs on a big host)
# and a 5 s monitor interval
KSM_MONITOR_INTERVAL=5
KSM_SLEEP_MSEC=10
KSM_NPAGES_BOOST=300
KSM_NPAGES_DECAY=-50
KSM_NPAGES_MIN=64
KSM_NPAGES_MAX=1250
KSM_THRES_COEF=100
KSM_THRES_CONST=2048
CONF
cat >"$T/ksmtuned.json" <<JSON
{ "sample_interval": "10s", "rescan_interval": "500ms", "control_socket": "$T/d.sock",
  "tuner": { "mode": "ksmtuned", "ksmtuned_conf": "$T/ksmtuned.conf", "at_exit": "restore" } }
JSON
cat >"$T/adaptive.json" <<JSON
{ "sample_interval": "10s", "rescan_interval": "500ms", "control_socket": "$T/d.sock",
  "log_level": "${DAEMON_LOG_LEVEL:-info}", "tuner": { "mode": "adaptive", "at_exit": "restore" } }
JSON

page=$(getconf PAGESIZE)
pages_per_proc=$((MIB * 1024 * 1024 / page))
dup_pages=$((PROCS * (pages_per_proc - pages_per_proc / 4)))
patterns=1024
theory=$((dup_pages - patterns))        # every duplicate page but one per pattern shares
t50=$((theory * 50 / 100)) t90=$((theory * 90 / 100)) t99=$((theory * 99 / 100))

# start_fillers prctl|none [CGROUP]: waits until each printed "ready".  WAVE_OFFSET numbers the
# processes of a second wave after the first (their unique pages differ, the patterns are shared).
WAVE_OFFSET=0 REWRITE=
start_fillers() {
    local i
    for ((i = WAVE_OFFSET; i < WAVE_OFFSET + PROCS; i++)); do
        if [ -n "${2:-}" ]; then
            bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$2" "$DUP_FILLER" "$1" "$i" "$MIB" $REWRITE \
                >"$T/$i.out" 2>"$T/$i.err" </dev/null {lock_fd}>&- &
        else
            "$DUP_FILLER" "$1" "$i" "$MIB" $REWRITE >"$T/$i.out" 2>"$T/$i.err" </dev/null {lock_fd}>&- &
        fi
        pids+=($!)
    done
    for ((i = WAVE_OFFSET; i < WAVE_OFFSET + PROCS; i++)); do
        if ! wait_for 60 grep -q '^ready' "$T/$i.out"; then
            cat "$T/$i.err" >&2
            grep -q 'PR_SET_MEMORY_MERGE' "$T/$i.err" && skip "kernel lacks PR_SET_MEMORY_MERGE (6.4+)"
            printf 'FAIL: filler %d did not start\n' "$i" >&2
            exit 1
        fi
    done
}

set_defaults() {
    echo none >"$KSM_DIR/advisor_mode" 2>/dev/null
    echo 100 >"$KSM_DIR/pages_to_scan"
    echo 20 >"$KSM_DIR/sleep_millisecs"
}

declare -A R
# measure NAME: polls from now (t0) until 99 % or MAX_WAIT; then, for adaptive, waits until the
# tuner is back at its maintenance pace (at most SETTLE s: the time and ksmd CPU of that tail are
# reported, not hidden); then the IDLE s window.
measure() {
    local name=$1 t0 c0 now s c r50= r90= r99= cpu90= end_s end_c last=0 i0 i1 ti0 ti1 st0 sc0
    t0=$EPOCHREALTIME c0=$(ksmd_ns)
    while :; do
        read -r s <"$KSM_DIR/pages_sharing"
        now=$EPOCHREALTIME
        c=$(ksmd_ns)
        dt=$(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
        [ -z "$r50" ] && [ "$s" -ge $t50 ] && r50=$dt
        [ -z "$r90" ] && [ "$s" -ge $t90 ] && { r90=$dt; cpu90=$(awk -v a="$c" -v b="$c0" 'BEGIN { printf "%.2f", (a - b) / 1e9 }'); }
        if [ "$s" -ge $t99 ]; then r99=$dt; break; fi
        awk -v d="$dt" -v m="$MAX_WAIT" 'BEGIN { exit !(d >= m) }' && break
        if [ "${dt%.*}" -ge $((last + 10)) ]; then
            last=${dt%.*}
            printf '  %s: %s s, pages_sharing %s of %s, pages_to_scan %s, sleep %s\n' "$name" "$dt" "$s" "$theory" \
                "$(rd pages_to_scan)" "$(rd sleep_millisecs)"
        fi
        sleep 0.05
    done
    end_s=$s
    end_c=$(awk -v a="$c" -v b="$c0" 'BEGIN { printf "%.3f", (a - b) / 1e9 }')
    R[$name.t50]=${r50:-"-"} R[$name.t90]=${r90:-"-"} R[$name.t99]=${r99:-"-"}
    R[$name.cpu90]=${cpu90:-"-"}
    R[$name.perGiB]=$(awk -v c="$end_c" -v s="$end_s" -v p="$page" 'BEGIN { g = s * p / 1073741824; printf (g > 0 ? "%.2f" : "-"), (g > 0 ? c / g : 0) }')
    printf '  %s: at the end %s s, pages_sharing %s (%.1f %%), ksmd %s CPU-s; knobs run %s pages_to_scan %s sleep %s advisor %s\n' \
        "$name" "$dt" "$end_s" "$(awk -v a="$end_s" -v b="$theory" 'BEGIN { print 100 * a / b }')" "$end_c" \
        "$(rd run)" "$(rd pages_to_scan)" "$(rd sleep_millisecs)" "$(advisor)"
    st0=$EPOCHREALTIME sc0=$(ksmd_ns)
    case $name in
    adaptive*)
        maintaining() { [ "$(rd sleep_millisecs)" = 500 ] && [ "$(rd pages_to_scan)" = 100 ]; }
        wait_for "$SETTLE" maintaining || printf '  %s: not at the maintenance pace after %s s\n' "$name" "$SETTLE" ;;
    *) sleep 2 ;;
    esac
    R[$name.settle]=$(awk -v a="$EPOCHREALTIME" -v b="$st0" 'BEGIN { printf "%.1f", a - b }')
    R[$name.settlecpu]=$(awk -v a="$(ksmd_ns)" -v b="$sc0" 'BEGIN { printf "%.2f", (a - b) / 1e9 }')
    ti0=$EPOCHREALTIME i0=$(ksmd_ns)
    sleep "$IDLE"
    ti1=$EPOCHREALTIME i1=$(ksmd_ns)
    R[$name.idle]=$(awk -v a="$i1" -v b="$i0" -v x="$ti1" -v y="$ti0" 'BEGIN { printf "%.3f", 100 * (a - b) / 1e9 / (x - y) }')
    printf '  %s: settled after %s s (ksmd %s CPU-s); idle ksmd %s %% of a CPU (knobs then: pages_to_scan %s sleep %s)\n' \
        "$name" "${R[$name.settle]}" "${R[$name.settlecpu]}" "${R[$name.idle]}" "$(rd pages_to_scan)" "$(rd sleep_millisecs)"
}

# second_wave NAME prctl|none [CGROUP]: after convergence, PROCS more of the same processes start;
# seconds until 90 % of their theoretical saving (their duplicate pages now merge into the KSM pages
# the first wave made) and ksmd CPU-seconds meanwhile.
WAVE2=${WAVE2:-1}
second_wave() {
    local name=$1 base t0 c0 s dt c target
    read -r base <"$KSM_DIR/pages_sharing"
    target=$((base + theory * 90 / 100))
    WAVE_OFFSET=$PROCS
    start_fillers "$2" "${3:-}"
    WAVE_OFFSET=0
    t0=$EPOCHREALTIME c0=$(ksmd_ns)
    [ -n "${KEEP_LOGS:-}" ] && printf '  %s: second wave ready at %s\n' "$name" "$t0"
    while :; do
        read -r s <"$KSM_DIR/pages_sharing"
        dt=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
        if [ "$s" -ge "$target" ]; then
            c=$(ksmd_ns)
            R[$name.w2t90]=$dt
            R[$name.w2cpu]=$(awk -v a="$c" -v b="$c0" 'BEGIN { printf "%.2f", (a - b) / 1e9 }')
            break
        fi
        awk -v d="$dt" -v m="$MAX_WAIT" 'BEGIN { exit !(d >= m) }' && { R[$name.w2t90]="-"; R[$name.w2cpu]="-"; break; }
        sleep 0.05
    done
    printf '  %s: second wave: 90 %% of its saving after %s s, ksmd %s CPU-s\n' "$name" "${R[$name.w2t90]}" "${R[$name.w2cpu]}"
}

# churn NAME: the workload rewrites CHURN_PCT % of its pages every second; after CHURN_WARM s, the
# ksmd CPU % and the mean pages_sharing (as % of the theoretical saving) over CHURN_WINDOW s.
churn() {
    local name=$1 t0 c0 sum=0 n=0 s end
    sleep "$CHURN_WARM"
    t0=$EPOCHREALTIME c0=$(ksmd_ns)
    end=$((SECONDS + CHURN_WINDOW))
    while [ $SECONDS -lt $end ]; do
        read -r s <"$KSM_DIR/pages_sharing"
        sum=$((sum + s)) n=$((n + 1))
        sleep 1
    done
    R[$name.ccpu]=$(awk -v a="$(ksmd_ns)" -v b="$c0" -v x="$EPOCHREALTIME" -v y="$t0" 'BEGIN { printf "%.1f", 100 * (a - b) / 1e9 / (x - y) }')
    R[$name.csave]=$(awk -v s="$sum" -v n="$n" -v t="$theory" 'BEGIN { printf "%.1f", 100 * s / n / t }')
    printf '  %s: %s %% of pages rewritten a second: ksmd %s %% of a CPU, mean saving %s %% of the theoretical (knobs then: pages_to_scan %s sleep %s)\n' \
        "$name" "$CHURN_PCT" "${R[$name.ccpu]}" "${R[$name.csave]}" "$(rd pages_to_scan)" "$(rd sleep_millisecs)"
}

# run_config CFG [churn]: one configuration from a reset KSM to a reset KSM.
run_config() {
    local cfg=$1 mode=${2:-} budget
    set_defaults
    REWRITE=
    [ "$mode" = churn ] && REWRITE=$CHURN_PCT
    case $cfg in
    kernel-defaults)
        start_fillers prctl
        echo 1 >"$KSM_DIR/run" ;;
    kernel-advisor)
        start_fillers prctl
        echo scan-time >"$KSM_DIR/advisor_mode"
        echo 1 >"$KSM_DIR/run" ;;
    full-speed)
        echo 100000 >"$KSM_DIR/pages_to_scan"
        echo 0 >"$KSM_DIR/sleep_millisecs"
        start_fillers prctl
        echo 1 >"$KSM_DIR/run" ;;
    ksmtuned|adaptive|adaptive-b*)
        if [[ $cfg == adaptive-b* ]]; then
            budget=${cfg#adaptive-b}
            jq --argjson b "$budget" '.tuner.cpu_budget = $b' "$T/adaptive.json" >"$T/$cfg.json"
        fi
        echo 1 >"$KSM_DIR/run"
        if [ -n "${KEEP_LOGS:-}" ]; then   # time-stamped, to line up with the bench's own times
            "$KSMTUNED_NG" --config "$T/$cfg.json" --policy-dir "$T/p" --log-target=stderr {lock_fd}>&- \
                2> >(while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done >"$T/$cfg.err") &
        else
            "$KSMTUNED_NG" --config "$T/$cfg.json" --policy-dir "$T/p" --log-target=stderr 2>"$T/$cfg.err" {lock_fd}>&- &
        fi
        daemon=$!
        sleep 1
        kill -0 "$daemon" 2>/dev/null || { cat "$T/$cfg.err" >&2; printf 'FAIL: daemon did not start\n' >&2; exit 1; }
        start_fillers none "$CG" ;;
    *) printf 'FAIL: unknown configuration %s\n' "$cfg" >&2; exit 1 ;;
    esac
    if [ "$mode" = churn ]; then
        churn "$cfg"
    else
        measure "$cfg"
        if [ "$WAVE2" = 1 ]; then
            case $cfg in
            ksmtuned|adaptive*) second_wave "$cfg" none "$CG" ;;
            *) second_wave "$cfg" prctl ;;
            esac
        fi
    fi
    stop_daemon
    kill_fillers
    reset_ksm
}

METRICS="t50 t90 t99 cpu90 perGiB settle settlecpu idle w2t90 w2cpu"
# median V...: of the numbers among the arguments ("-" when none).
median() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

printf 'workload: %d processes x %d MiB, 75 %% duplicate pages (%d patterns): %d duplicate pages, theoretical pages_sharing %d\n' \
    "$PROCS" "$MIB" "$patterns" "$dup_pages" "$theory"
printf 'ksmd PID %s; wait at most %s s per configuration; idle window %s s; %s run(s) of each, medians reported\n' \
    "$ksmd" "$MAX_WAIT" "$IDLE" "$REPEAT"
reset_ksm
declare -A ALL
for ((rep = 1; rep <= REPEAT; rep++)); do
    for cfg in $CONFIGS; do
        printf '\n== %s (run %d of %d)\n' "$cfg" "$rep" "$REPEAT"
        run_config "$cfg"
        for m in $METRICS; do ALL[$cfg.$m]+="${R[$cfg.$m]:-} "; done
    done
done
for cfg in $CONFIGS; do
    for m in $METRICS; do
        # shellcheck disable=SC2086
        R[$cfg.$m]=$(median ${ALL[$cfg.$m]})
    done
done
if [ "$CHURN" = 1 ]; then
    for cfg in $CHURN_CONFIGS; do
        printf '\n== %s, %s %% of the pages rewritten every second\n' "$cfg" "$CHURN_PCT"
        run_config "$cfg" churn
    done
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 == a && b + 0 == b && a != "" && b != "" && b > 0) printf "%.2f", a / b; else printf "-" }'; }
printf '\nbench-tuner: %d x %d MiB, 75 %% identical, theoretical saving %d pages (%.2f GiB); medians of %d run(s); ratios: /full = to full speed, /def = to kernel defaults\n' \
    "$PROCS" "$MIB" "$theory" "$(awk -v t="$theory" -v p="$page" 'BEGIN { print t * p / 1073741824 }')" "$REPEAT"
printf '%-16s %7s %7s %7s %9s %9s %7s %8s %7s | %8s %8s %8s %8s | %8s %8s\n' configuration \
    "t50 s" "t90 s" "t99 s" "CPU-s@90" "CPU-s/GiB" "settle" "settleCPU" "idle %" \
    "t90/full" "cpu/full" "GiB/full" "idle/def" "t90/def" "GiB/def"
for cfg in $CONFIGS; do
    printf '%-16s %7s %7s %7s %9s %9s %7s %8s %7s | %8s %8s %8s %8s | %8s %8s\n' "$cfg" \
        "${R[$cfg.t50]}" "${R[$cfg.t90]}" "${R[$cfg.t99]}" "${R[$cfg.cpu90]}" "${R[$cfg.perGiB]}" \
        "${R[$cfg.settle]}" "${R[$cfg.settlecpu]}" "${R[$cfg.idle]}" \
        "$(ratio "${R[$cfg.t90]}" "${R[full-speed.t90]:-}")" "$(ratio "${R[$cfg.cpu90]}" "${R[full-speed.cpu90]:-}")" \
        "$(ratio "${R[$cfg.perGiB]}" "${R[full-speed.perGiB]:-}")" "$(ratio "${R[$cfg.idle]}" "${R[kernel-defaults.idle]:-}")" \
        "$(ratio "${R[$cfg.t90]}" "${R[kernel-defaults.t90]:-}")" "$(ratio "${R[$cfg.perGiB]}" "${R[kernel-defaults.perGiB]:-}")"
done
if [ "$WAVE2" = 1 ]; then
    printf '\nsecond wave (%d more processes started after convergence):\n%-16s %7s %9s | %8s %8s\n' "$PROCS" configuration \
        "t90 s" "CPU-s@90" "t90/full" "cpu/full"
    for cfg in $CONFIGS; do
        printf '%-16s %7s %9s | %8s %8s\n' "$cfg" "${R[$cfg.w2t90]:-}" "${R[$cfg.w2cpu]:-}" \
            "$(ratio "${R[$cfg.w2t90]:-}" "${R[full-speed.w2t90]:-}")" "$(ratio "${R[$cfg.w2cpu]:-}" "${R[full-speed.w2cpu]:-}")"
    done
fi
if [ "$CHURN" = 1 ]; then
    printf '\nchurn (%s %% of the pages rewritten every second; %s s window after %s s):\n%-16s %9s %9s %12s\n' \
        "$CHURN_PCT" "$CHURN_WINDOW" "$CHURN_WARM" configuration "ksmd %" "budget %" "saving %"
    for cfg in $CHURN_CONFIGS; do
        case $cfg in
        adaptive) budget=50 ;;
        adaptive-b*) budget=${cfg#adaptive-b} ;;
        *) budget=- ;;
        esac
        printf '%-16s %9s %9s %12s\n' "$cfg" "${R[$cfg.ccpu]:-}" "$budget" "${R[$cfg.csave]:-}"
    done
fi
printf 'CPU-s@90 = ksmd CPU-seconds from workload ready to 90 %%; CPU-s/GiB = ksmd CPU-seconds per GiB saved at 99 %% (or at the end of the wait);\n'
printf 'settle = s after 99 %% until adaptive is at its maintenance pace (2 s for the others), settleCPU its ksmd CPU-s;\n'
printf 'idle %% = ksmd CPU %% of one CPU in the %s s window after that; saving %% = mean pages_sharing / theoretical.\n' "$IDLE"
