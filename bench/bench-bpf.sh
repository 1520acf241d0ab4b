#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-bpf - accuracy and cost of the eBPF statistics (include/ksm-bpf.h, bpf/ksm-stats.bpf.c).
#
# Workload: N bench-dup-filler processes of MIB MiB each (75 % duplicate pages), opted in with
# prctl before their memory exists.  Each run starts from an empty KSM (run=2, then run=0), fills,
# switches ksmd on at a fixed pace and samples every 50 ms: ksmd's CPU time (/proc/<ksmd>/schedstat)
# and the sum of the fillers' ksm_merging_pages.  The run's cost is ksmd CPU-seconds from run=1 to
# the first sample at >= 99 % of the converged total.  Runs alternate "off" (no BPF) and "on"
# (bpf-stats-dump attached, exec events on), REPS of each, and the medians are compared:
#   (1) accuracy: in every "on" run, after convergence and one more full scan, per-process
#       merged_pages from BPF vs ksm_stat ksm_merging_pages; max deviation in % (goal <= 2 %);
#   (2) cost: median ksmd CPU-s on / median off (goal <= 1.03).
# Needs root.  Holds flock on /sys/kernel/mm/ksm; saves every KSM knob and restores it on every
# exit path (after unmerging what the workload left).  About 2 minutes with the defaults.
#
# Environment: BPF_STATS_DUMP, DUP_FILLER (set by meson), HAVE_BPF; N (8), MIB (64), REPS (5),
# PAGES_TO_SCAN (20000), SLEEP_MS (10).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
RESET_UNSHARED=1

N=${N:-8}
MIB=${MIB:-64}
REPS=${REPS:-5}
PAGES_TO_SCAN=${PAGES_TO_SCAN:-20000}
SLEEP_MS=${SLEEP_MS:-10}
: "${BPF_STATS_DUMP:?set BPF_STATS_DUMP to tests/helpers/bpf-stats-dump}" "${DUP_FILLER:?set DUP_FILLER to bench-dup-filler}"

[ "${HAVE_BPF:-1}" = 1 ] || skip "built without BPF support"
[ "$(id -u)" -eq 0 ] || skip "needs root (KSM knobs, BPF)"
[ -w "$KSM_DIR/run" ] || skip "needs a writable $KSM_DIR (CONFIG_KSM)"
ksmd=$(pgrep -x ksmd | head -1)
[ -n "$ksmd" ] || skip "no ksmd kernel thread"

ksm_lock

T=$(mktemp -d /tmp/ksmt-bb.XXXXXX)
pids=()
dump_pid=

knobs_save

scans_reached() { [ "$(rd full_scans)" -ge "$scans_target" ]; }

stop_dump() {
    [ -n "$dump_pid" ] || return 0
    kill -TERM "$dump_pid" 2>/dev/null
    wait "$dump_pid" 2>/dev/null
    dump_pid=
}
cleanup() {
    local rc=$?
    trap '' INT TERM
    trap - EXIT
    stop_dump
    kill_fillers
    reset_ksm
    knobs_restore
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

total_merging() {
    local p s=0 v
    for p in "${pids[@]}"; do
        v=$(sed -n 's/^ksm_merging_pages //p' "/proc/$p/ksm_stat" 2>/dev/null)
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# one_run MODE (on|off): prints "cpu_seconds seconds max_dev_percent"
one_run() {
    local mode=$1 i p line t0 c0 samples=() final prev stable=0 fs target cpu secs dev=-
    reset_ksm
    echo "$PAGES_TO_SCAN" >"$KSM_DIR/pages_to_scan"
    echo "$SLEEP_MS" >"$KSM_DIR/sleep_millisecs"
    if [ "$mode" = on ]; then
        mkfifo "$T/dump.in"
        "$BPF_STATS_DUMP" --exec <"$T/dump.in" >"$T/dump.out" 2>"$T/dump.err" &
        dump_pid=$!
        exec {dfd}>"$T/dump.in"
        wait_for 30 grep -q '"ready"' "$T/dump.out"
        if ! grep -q '"ready":true' "$T/dump.out"; then
            printf 'FAIL: BPF statistics did not load: %s %s\n' "$(cat "$T/dump.out")" "$(cat "$T/dump.err")" >&2
            exit 1
        fi
    fi
    for i in $(seq 1 "$N"); do
        "$DUP_FILLER" prctl "$i" "$MIB" >"$T/f$i.out" 2>&1 &
        pids+=($!)
    done
    for i in $(seq 1 "$N"); do
        wait_for 60 grep -q '^ready' "$T/f$i.out" || { printf 'FAIL: filler %s did not start\n' "$i" >&2; exit 1; }
    done

    t0=$EPOCHREALTIME c0=$(ksmd_ns)
    echo 1 >"$KSM_DIR/run"
    # Sample until the total has not grown for 2 full scans (and at least one scan merged).
    prev=-1 fs=$(rd full_scans)
    while :; do
        sleep 0.05
        line="$EPOCHREALTIME $(ksmd_ns) $(total_merging)"
        samples+=("$line")
        set -- $line
        if [ "$3" -gt 0 ] && [ "$3" = "$prev" ]; then
            [ "$(rd full_scans)" -ge $((fs + 2)) ] && break
        else
            prev=$3 fs=$(rd full_scans)
        fi
        [ "${#samples[@]}" -gt 2400 ] && { printf 'FAIL: no convergence in 120 s\n' >&2; exit 1; }
    done
    final=$3
    target=$(( final * 99 / 100 ))
    for line in "${samples[@]}"; do
        set -- $line
        if [ "$3" -ge "$target" ]; then
            cpu=$(awk -v a="$2" -v b="$c0" 'BEGIN { printf "%.3f", (a - b) / 1e9 }')
            secs=$(awk -v a="$1" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
            break
        fi
    done

    if [ "$mode" = on ]; then
        # One more full scan, so that the end-of-scan resync has run after the last merge.
        scans_target=$(($(rd full_scans) + 2))
        wait_for 30 scans_reached || printf 'WARNING: ksmd did not finish another full scan\n' >&2
        echo 0 >"$KSM_DIR/run"
        echo dump >&"$dfd"
        wait_for 10 grep -q '"processes"' "$T/dump.out"
        dev=0
        for p in "${pids[@]}"; do
            local want got d
            want=$(sed -n 's/^ksm_merging_pages //p' "/proc/$p/ksm_stat")
            got=$(grep '"processes"' "$T/dump.out" | head -1 |
                  jq -r --argjson p "$p" '.processes[] | select(.tgid == $p) | .merged_pages')
            d=$(awk -v a="${got:-0}" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "%.3f", (b > 0) ? 100 * d / b : ((a > 0) ? 100 : 0) }')
            printf '    pid %s: BPF merged_pages %s, ksm_stat %s, deviation %s %%\n' "$p" "${got:-none}" "$want" "$d" >&2
            dev=$(awk -v a="$dev" -v b="$d" 'BEGIN { print (b > a ? b : a) }')
        done
        exec {dfd}>&-
        stop_dump
        rm -f "$T/dump.in" "$T/dump.out"
    fi
    echo 0 >"$KSM_DIR/run"
    kill_fillers
    echo "$cpu $secs $dev $final"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf 'bench-bpf: %s x %s MiB (75 %% duplicate), pages_to_scan %s, sleep %s ms, %s runs per mode; ksmd PID %s\n' \
    "$N" "$MIB" "$PAGES_TO_SCAN" "$SLEEP_MS" "$REPS" "$ksmd"
cpus_off=() cpus_on=() devs=()
for r in $(seq 1 "$REPS"); do
    for mode in off on; do
        # Alternate which mode goes first, so that drift (page cache, THP, other load) cancels.
        [ $((r % 2)) -eq 0 ] && mode=$([ "$mode" = off ] && echo on || echo off)
        one_run "$mode" >"$T/result"
        read -r cpu secs dev final <"$T/result"
        printf '  run %s %-3s: ksmd %s CPU-s to 99 %% of %s merged pages in %s s%s\n' "$r" "$mode" "$cpu" "$final" "$secs" \
            "$([ "$mode" = on ] && echo ", max deviation BPF vs ksm_stat $dev %")"
        if [ "$mode" = on ]; then cpus_on+=("$cpu"); devs+=("$dev"); else cpus_off+=("$cpu"); fi
    done
done

m_off=$(printf '%s\n' "${cpus_off[@]}" | median)
m_on=$(printf '%s\n' "${cpus_on[@]}" | median)
max_dev=$(printf '%s\n' "${devs[@]}" | sort -g | tail -1)
ratio=$(awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "%.3f", a / b }')
printf '\nResults\n'
printf '  accuracy: max deviation of per-process merged pages, BPF vs ksm_stat: %s %% (goal <= 2 %%): %s\n' \
    "$max_dev" "$(awk -v d="$max_dev" 'BEGIN { print d <= 2 ? "met" : "NOT met" }')"
printf '  cost: median ksmd CPU-s to merge, attached %s vs not attached %s: ratio %s (goal <= 1.03): %s\n' \
    "$m_on" "$m_off" "$ratio" "$(awk -v r="$ratio" 'BEGIN { print r <= 1.03 ? "met" : "NOT met" }')"
printf '  (all runs, off: %s; on: %s)\n' "${cpus_off[*]}" "${cpus_on[*]}"
