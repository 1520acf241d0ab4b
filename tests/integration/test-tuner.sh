#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The tuner on the real kernel.
#  adaptive: the daemon makes a small workload mergeable, sprints until 90 % of the theoretical
#            saving is reached, then lowers ksmd's pace (maintain); a process that execs into the
#            cgroup then and fills 96 MiB starts a sprint again and is merged; knobs restored at exit.
#  ksmtuned: with a ksmtuned.conf, after one monitor interval the daemon writes exactly the values
#            the 2009 script computes from the same /proc/meminfo.
source "$(dirname "$0")/lib.sh"
require_root
require_ksm
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"

ksm_save_knobs          # the daemon restores them itself; this is the safety net and the lock
# (checked under the lock: another test or benchmark may be merging right now)
[ "$(cat $KSM_DIR/pages_sharing)" -eq 0 ] || skip "KSM already shares pages here; the saving would not be exact"
knobs() { grep . $KSM_DIR/{run,pages_to_scan,sleep_millisecs} | tr '\n' ' '; }
before=$(knobs)

CG="$cg2/ksmt-tuner-$$"
mkdir "$CG" || fail "cannot create $CG"
on_exit "rmdir '$CG' 2>/dev/null"
on_exit "for p in \$(cat '$CG/cgroup.procs' 2>/dev/null); do kill -KILL \$p 2>/dev/null; done; sleep 0.2"
mkdir "$T/p"
echo "{ \"cgroups\": [\"/ksmt-tuner-$$\"], \"action\": \"merge\" }" >"$T/p/50-t.json"

# --- adaptive ---------------------------------------------------------------------------------
cat >"$T/a.json" <<JSON
{ "sample_interval": "10s", "rescan_interval": "500ms", "control_socket": "$T/a.sock",
  "tuner": { "mode": "adaptive", "interval": "500ms", "at_exit": "restore" } }
JSON
"$KSMTUNED_NG" --config "$T/a.json" --policy-dir "$T/p" --log-target=stderr 2>"$T/a.err" &
daemon=$!
on_exit "kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null"
n=4 mib=32 distinct=16
for i in $(seq 1 $n); do
    start_filler "f$i" --none --distinct=$distinct $mib
    v="FILLER_PID_f$i"
    echo "${!v}" >"$CG/cgroup.procs"
done
page=$(getconf PAGESIZE)
theory=$((n * mib * 1024 * 1024 / page - distinct))     # every page but one per pattern shares
sharing90() { [ "$(cat $KSM_DIR/pages_sharing)" -ge $((theory * 90 / 100)) ]; }
check "adaptive: 90 % of the theoretical saving ($theory pages) reached" wait_for 60 sharing90
maintaining() {
    "$KSMCTL" --socket "$T/a.sock" status --json --sample-time=0 | jq -e '.daemon.tuner.phase == "maintain"' >/dev/null
}
check "adaptive: then it lowers ksmd's pace (phase maintain)" wait_for 30 maintaining
check "adaptive: maintain pace written (pages_to_scan 100, sleep 500 ms)" \
    test "$(cat $KSM_DIR/pages_to_scan)/$(cat $KSM_DIR/sleep_millisecs)" = 100/500
check "adaptive: the journal/stderr names the phase change and its reason" \
    grep -q "Tuner adaptive, maintain: maintain: .* full scans without yield" "$T/a.err"
# A process that execs into the populated cgroup (found at its exec through eBPF, or by the
# rescan) and fills 96 MiB: more than sprint_trigger (64 MiB) of new mergeable memory, whether it
# was made mergeable before or after filling it: a sprint again, then its pages merge.
start_proc late bash -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --none --distinct=16 96' _ "$CG" "$KSM_FILLER"
late_merged() { [ "$(ksm_stat_field "$PID_late" ksm_merging_pages)" -ge $((96 * 1024 * 1024 / page * 90 / 100)) ]; }
check "adaptive: a process filling 96 MiB after maintain began starts a sprint" \
    wait_for 20 grep -q "Tuner adaptive, sprint: sprint: .* of new mergeable memory" "$T/a.err"
check "adaptive: ... and 90 % of its pages merge" wait_for 30 late_merged
kill "$PID_late"; wait "$PID_late" 2>/dev/null
kill -TERM $daemon
wait $daemon
check "adaptive: clean exit" test $? -eq 0
check "adaptive: knobs restored at exit (at_exit restore)" test "$(knobs)" = "$before"
for i in $(seq 1 $n); do v="FILLER_PID_f$i"; kill "${!v}"; wait "${!v}" 2>/dev/null; done

# --- ksmtuned ---------------------------------------------------------------------------------
cat >"$T/ksmtuned.conf" <<'CONF'
# /etc/ksmtuned.conf as shipped by distributions, with a short interval for the test
KSM_MONITOR_INTERVAL=1
KSM_SLEEP_MSEC=10
KSM_NPAGES_BOOST=300
KSM_NPAGES_DECAY=-50
KSM_NPAGES_MIN=64
KSM_NPAGES_MAX=1250
KSM_THRES_COEF=100       # 100 %: thres >= total, so free < thres: the script starts KSM and boosts
KSM_THRES_CONST=2048
# LOGFILE=/var/log/ksmtuned
# DEBUG=1
CONF
cat >"$T/k.json" <<JSON
{ "sample_interval": "10s", "control_socket": "$T/k.sock",
  "tuner": { "mode": "ksmtuned", "interval": "200ms", "ksmtuned_conf": "$T/ksmtuned.conf", "at_exit": "restore" } }
JSON
"$KSMTUNED_NG" --config "$T/k.json" --policy-dir "$T/p" --log-target=stderr 2>"$T/k.err" &
daemon=$!
total=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
# The script's numbers for this host: thres = max(total * 100 / 100, 2048) = total; free < thres
# always, so every interval boosts: npages 300, 600, 900, 1200, 1250 (max); sleep = max(10 * 16 GiB
# in kB / total, 10).
sleep_expected=$((10 * 16 * 1024 * 1024 / total)); [ $sleep_expected -le 10 ] && sleep_expected=10
running_with() { [ "$(cat $KSM_DIR/run)/$(cat $KSM_DIR/pages_to_scan)/$(cat $KSM_DIR/sleep_millisecs)" = "1/$1/$sleep_expected" ]; }
check "ksmtuned: first adjustment writes run 1, npages 300, sleep $sleep_expected (as the script)" wait_for 5 running_with 300
check "ksmtuned: then 600 (boost 300 per interval)" wait_for 5 running_with 600
check "ksmtuned: clamped at KSM_NPAGES_MAX 1250" wait_for 10 running_with 1250
sleep 1.5
check "ksmtuned: stays at 1250" running_with 1250
kill -TERM $daemon
wait $daemon
check "ksmtuned: knobs restored at exit" test "$(knobs)" = "$before"
