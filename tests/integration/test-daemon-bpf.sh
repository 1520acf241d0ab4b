#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon with its eBPF statistics (statistics "auto") against the same daemon polling ksm_stat
# (statistics "ksm_stat"), on the real kernel:
#   - GetStatus says which source is in use (eBPF loaded, or why not);
#   - a process that execs in a cgroup a policy selects, which already has processes (so no
#     cgroup.events change) and with the rescan an hour away, is found through the exec ring
#     buffer and made mergeable within seconds; with "ksm_stat" it is not (rescan only);
#   - ListProcesses carries per-process merges/unmerges from eBPF that agree with
#     /proc/PID/ksm_stat ksm_merging_pages within 2 % (no unmerges happened);
#   - the metrics record names the exact source, and reuses ksm_stat readings of steady processes;
#   - rescan_interval "auto" is 10 s with exec events and 4 s without;
#   - statistics "bpf" refuses to start where eBPF cannot load (checked through a build without
#     BPF only: here it loads, so the daemon starts).
source "$(dirname "$0")/lib.sh"
require_root
require_ksm
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"
[ -r /proc/self/ksm_stat ] || skip "kernel has no /proc/PID/ksm_stat"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"

ksm_save_knobs
ksm_set run 1
ksm_set pages_to_scan 5000
ksm_set sleep_millisecs 10

base="ksmt-dbpf-$$"
CG="$cg2/$base"
mkdir "$CG" || fail "cannot create cgroup $CG"
on_exit "rmdir '$CG' 2>/dev/null"
on_exit "for p in \$(cat '$CG'/cgroup.procs 2>/dev/null); do kill -KILL \$p 2>/dev/null; done; sleep 0.3"

mkdir "$T/p"
echo "{ \"cgroups\": [\"/$base\"], \"action\": \"merge\" }" >"$T/p/50-t.json"

# run_daemon STATISTICS: the daemon with the rescan an hour away, tuner off, no metrics file.
run_daemon() {
    cat >"$T/cfg-$1.json" <<JSON
{ "sample_interval": "1s", "rescan_interval": "1h", "control_socket": "$T/ctl.sock", "metrics_file": null,
  "statistics": "$1", "tuner": { "mode": "off" } }
JSON
    "$KSMTUNED_NG" --config "$T/cfg-$1.json" --policy-dir "$T/p" --log-target=stderr 2>"$T/daemon-$1.err" &
    daemon=$!
    on_exit "kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null"
    wait_for 10 test -S "$T/ctl.sock" || { cat "$T/daemon-$1.err" >&2; fail "daemon ($1) did not start"; }
}
stop_daemon() { kill -TERM "$daemon"; wait "$daemon"; }
K() { "$KSMCTL" --socket "$T/ctl.sock" "$@"; }
status() { K status --json | jq -c "$1"; }
merged() { [ "$(ksm_stat_field "$1" ksm_merge_any)" = yes ]; }
# in_cg NAME: a ksm-filler (--none: it does not opt in) that moves into the cgroup, then execs.
in_cg() {
    start_proc "$1" bash -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --none --distinct=16 8' _ "$CG" "$KSM_FILLER"
}

# 1. eBPF.
in_cg first                 # populates the cgroup before the daemon starts: found by the first walk
run_daemon auto
check "first process made mergeable by the start-up walk" wait_for 10 merged "$PID_first"
src=$(status '.daemon.statistics')
if [ "$(jq -r .bpf <<<"$src")" != true ]; then
    # The machines this runs on have BTF, the ksm tracepoints and root: only a build without BPF
    # may get here, and then the reason must say so.
    jq -e '.why_not | test("built without BPF")' <<<"$src" >/dev/null ||
        skip "eBPF did not load: $(jq -r .why_not <<<"$src")"
    pass "built without BPF: status says why ($(jq -r .why_not <<<"$src"))"
    exit 0
fi
pass "status: eBPF statistics loaded ($src)"
check "status: exec events attached" jq -e '.features.exec == true' <<<"$src"
check "metrics name the eBPF source as exact" \
    test "$(status '.daemon.metrics | [.source, .exact]')" = '["eBPF (ksm tracepoints)",true]'

t0=$EPOCHREALTIME
in_cg second                # execs into a populated cgroup: only the exec event can find it now
check "process exec'ing in a watched cgroup found through the ring buffer and made mergeable" \
    wait_for 5 merged "$PID_second"
log "second process mergeable $(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.2f", a - b }') s after its start (rescan: 1 h)"
check "status counts the exec event as considered" \
    jq -e '.exec_considered >= 1' <<<"$(status '.daemon.statistics')"

# Merges attributed per process: wait until ksmd has merged both, then compare with ksm_stat.
settled() {
    local p
    for p in "$PID_first" "$PID_second"; do
        [ "$(ksm_stat_field "$p" ksm_merging_pages)" -ge 2000 ] || return 1
    done
}
check "both processes merged by ksmd" wait_for 60 settled
sleep 2                     # one more full scan (the end-of-scan resync)
for name in first second; do
    v="PID_$name"
    pid=${!v}
    got=$("$KSMCTL" --socket "$T/ctl.sock" top --json --interval 0 | jq --argjson p "$pid" '.processes[] | select(.pid == $p) | .merges')
    kernel=$(ksm_stat_field "$pid" ksm_merging_pages)
    check "$name: eBPF merges ($got) within 2 % of ksm_merging_pages ($kernel)" \
        awk -v a="$got" -v b="$kernel" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= b * 0.02) }'
done
# Steady processes: their ksm_stat is reused while eBPF sees no merge or removal of them.
sleep 3
check "metrics reuse ksm_stat readings of steady processes (eBPF saw no change)" \
    jq -e '.ksm_stat_reused > 0' <<<"$(status '.daemon.metrics')"
stop_daemon

# 2. The fallback: polling ksm_stat, new processes only by the rescan.
run_daemon ksm_stat
check "fallback: status says eBPF is off because the config says so" \
    jq -e '.bpf == false and (.why_not | test("ksm_stat"))' <<<"$(status '.daemon.statistics')"
check "fallback: metrics source is ksm_stat polling" test "$(status '.daemon.metrics.source')" = '"ksm_stat polling"'
sleep 2
check "fallback: every sample reads ksm_stat (nothing to tell a steady process from a changed one)" \
    jq -e '.ksm_stat_reused == 0 and .ksm_stat_reads > 0' <<<"$(status '.daemon.metrics')"
in_cg third
sleep 3
check "fallback: a process exec'ing in a populated cgroup waits for the rescan" \
    test "$(ksm_stat_field "$PID_third" ksm_merge_any)" = no
check "fallback: ListProcesses has no merge counters" \
    test "$("$KSMCTL" --socket "$T/ctl.sock" top --json --interval 0 | jq '[.processes[] | select(.merges != null)] | length')" = 0
stop_daemon

# 3. rescan_interval "auto" (the default): 10 s with exec events, 4 s without.
for s in auto ksm_stat; do
    printf '{ "control_socket": "%s", "metrics_file": null, "statistics": "%s", "tuner": { "mode": "off" } }\n' \
        "$T/ctl.sock" "$s" >"$T/cfg-auto-$s.json"
    "$KSMTUNED_NG" --config "$T/cfg-auto-$s.json" --policy-dir "$T/p" --log-target=stderr 2>"$T/daemon-auto-$s.err" &
    daemon=$!
    on_exit "kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null"
    wait_for 10 test -S "$T/ctl.sock" || { cat "$T/daemon-auto-$s.err" >&2; fail "daemon (auto, $s) did not start"; }
    want=$([ $s = auto ] && echo 10000000 || echo 4000000)
    check "rescan_interval auto with statistics $s: $((want / 1000000)) s" test "$(status '.daemon.rescan_interval_usec')" = "$want"
    stop_daemon
done
