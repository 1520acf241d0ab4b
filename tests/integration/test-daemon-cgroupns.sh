#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon in a cgroup namespace of its own (as in a Kubernetes pod on cgroup v2), with the
# rescan an hour away so that only an exec event can find a new process: a process that execs in a
# policy cgroup is made mergeable only when the daemon entered the host's cgroup namespace first
# (--cgroup-namespace=PATH); without the option /proc/PID/cgroup shows it relative to
# the daemon's namespace ("/../work") and no policy matches.  A path that is not a namespace is
# refused with a clear error.
source "$(dirname "$0")/lib.sh"
require_root
require_ksm
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"
[ -r /proc/self/ksm_stat ] || skip "kernel has no /proc/PID/ksm_stat"
[ -e /proc/self/ns/cgroup ] || skip "no cgroup namespaces"
command -v unshare >/dev/null || skip "unshare (util-linux) missing"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"

ksm_save_knobs            # the lock; the tuner is off and nothing here changes a knob

base="ksmt-cgns-$$"
CG="$cg2/$base"
mkdir "$CG" "$CG/daemon" "$CG/work" || fail "cannot create cgroups under $CG"
on_exit "rmdir '$CG/daemon' '$CG/work' '$CG' 2>/dev/null"
on_exit "for p in \$(cat '$CG'/*/cgroup.procs 2>/dev/null); do kill -KILL \$p 2>/dev/null; done; sleep 0.3"

mkdir "$T/p"
echo "{ \"cgroups\": [\"/$base/work\"], \"action\": \"merge\" }" >"$T/p/50-t.json"
cat >"$T/cfg.json" <<JSON
{ "sample_interval": "10s", "rescan_interval": "1h", "control_socket": "$T/ctl.sock", "metrics_file": null,
  "tuner": { "mode": "off" } }
JSON

# run_daemon NAME [OPTION...]: the daemon moved into $CG/daemon, then in a new cgroup namespace
# rooted there (unshare -C), as a container runtime would start it.
run_daemon() {
    local name=$1
    shift
    bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec unshare -C "$@"' _ "$CG/daemon" \
        "$KSMTUNED_NG" --config "$T/cfg.json" --policy-dir "$T/p" --log-target=stderr "$@" 2>"$T/$name.err" &
    daemon=$!
    on_exit "kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null"
    wait_for 10 test -S "$T/ctl.sock" || { cat "$T/$name.err" >&2; fail "daemon ($name) did not start"; }
}
stop_daemon() { kill -TERM "$daemon"; wait "$daemon"; }
bpf_loaded() { "$KSMCTL" --socket "$T/ctl.sock" status --json --sample-time=0 | jq -e '.daemon.statistics.bpf' >/dev/null; }
in_work() { start_proc "$1" bash -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --none --distinct=16 4' _ "$CG/work" "$KSM_FILLER"; }
merged() { [ "$(ksm_stat_field "$1" ksm_merge_any)" = yes ]; }

in_work seed              # populates the cgroup: later arrivals change no cgroup.events

run_daemon plain
bpf_loaded || skip "the eBPF exec events did not load: $(cat "$T/plain.err" | grep -m1 'eBPF' || true)"
check "without the option: the daemon runs in a cgroup namespace of its own" \
    test "$(readlink /proc/$daemon/ns/cgroup)" != "$(readlink /proc/$$/ns/cgroup)"
in_work first
sleep 3
check "without the option: a process that execs in the policy cgroup is not matched (its path reads /../work)" \
    test "$(ksm_stat_field "$PID_first" ksm_merge_any)" = no
stop_daemon

# In a pod the option names /proc/1/ns/cgroup (hostPID: the node's init).  Here PID 1 may hold
# capabilities this test lacks (then its ns files cannot be opened), so the namespace this test
# runs in, the host's, stands in for it.
run_daemon entered --cgroup-namespace=/proc/$$/ns/cgroup
check "with --cgroup-namespace: the daemon logs that it entered it" \
    grep -q "Entered the cgroup namespace /proc/$$/ns/cgroup" "$T/entered.err"
check "... and is in the host's cgroup namespace" \
    test "$(readlink /proc/$daemon/ns/cgroup)" = "$(readlink /proc/$$/ns/cgroup)"
in_work second
check "... and a process that execs in the policy cgroup is made mergeable" wait_for 10 merged "$PID_second"
capeff=$(awk '/^CapEff/ { print $2 }' "/proc/$daemon/status")
check "... without keeping CAP_SYS_ADMIN (CapEff $capeff: dropped after start-up)" test $(( 0x$capeff >> 21 & 1 )) = 0
stop_daemon

"$KSMTUNED_NG" --config "$T/cfg.json" --policy-dir "$T/p" --log-target=stderr --cgroup-namespace="$T/cfg.json" \
    >"$T/bad.out" 2>&1
rc=$?
check "a path that is not a cgroup namespace is refused (exit 1, the path named)" \
    sh -c "[ $rc = 1 ] && grep -q 'Cannot enter the cgroup namespace $T/cfg.json' '$T/bad.out'"
