#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Effort where it pays: a process whose pages are all unique (zero yield) next to processes with
# identical pages.  After the configured full scans the unique one is reported as wasted effort
# and, as its policy asks, made unmergeable again; the others keep their savings.
source "$(dirname "$0")/lib.sh"
require_root
require_ksm
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"
ksm_save_knobs

CG="$cg2/ksmt-wasted-$$"
mkdir "$CG" || fail "cannot create $CG"
on_exit "rmdir '$CG' 2>/dev/null"
on_exit "for p in \$(cat '$CG/cgroup.procs' 2>/dev/null); do kill -KILL \$p 2>/dev/null; done; sleep 0.2"
mkdir "$T/p"
cat >"$T/p/50-w.json" <<JSON
{ "cgroups": ["/ksmt-wasted-$$"],
  "effort": { "min_yield": 10, "after_scans": 2, "when_wasted": "unmerge" } }
JSON
cat >"$T/c.json" <<JSON
{ "sample_interval": "10s", "rescan_interval": "300ms", "control_socket": "$T/s",
  "tuner": { "mode": "static", "static_pages_to_scan": 20000, "static_sleep": "10ms", "at_exit": "restore" } }
JSON
for i in 1 2 3; do
    start_filler "dup$i" --none --distinct=4 16
    v="FILLER_PID_dup$i"; echo "${!v}" >"$CG/cgroup.procs"
done
start_filler uniq --none --unique 16
echo "$FILLER_PID_uniq" >"$CG/cgroup.procs"

"$KSMTUNED_NG" --config "$T/c.json" --policy-dir "$T/p" --log-target=stderr 2>"$T/d.err" &
daemon=$!
on_exit "kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null"

state_of() { "$KSMCTL" --socket "$T/s" ps --all --json | jq -r --argjson p "$1" '.processes[] | select(.pid == $p) | .daemon.state'; }
wasted_now() { [ "$(state_of "$FILLER_PID_uniq")" = wasted ]; }
check "the all-unique process is judged wasted and made unmergeable" wait_for 60 wasted_now
check "… ksm_stat shows it unmergeable again" test "$(ksm_stat_field "$FILLER_PID_uniq" ksm_merge_any)" = no
check "… with a wasted-effort record naming its yield ($(grep -o "merging is wasted effort: [0-9.]* %" "$T/d.err" | head -1))" grep -Eq "^<5>$FILLER_PID_uniq \(ksm-filler\): merging is wasted effort: [0-9]+\.[0-9]{2} % of its scanned pages merged \(policy .50-w. wants 10 %\)" "$T/d.err"
for i in 1 2 3; do
    v="FILLER_PID_dup$i"
    check "dup$i keeps merging (enabled, merge_any yes)" \
        sh -c "[ \"\$('$KSMCTL' --socket '$T/s' ps --all --json | jq -r --argjson p ${!v} '.processes[] | select(.pid == \$p) | .daemon.state + \"/\" + (.merge_any|tostring)')\" = enabled/true ]"
    check "dup$i keeps its savings (merging pages > 0)" test "$(ksm_stat_field "${!v}" ksm_merging_pages)" -gt 0
    check "dup$i is not reported as wasted" \
        test "$("$KSMCTL" --socket "$T/s" ps --json | jq -r --argjson p "${!v}" '.processes[] | select(.pid == $p) | .daemon.wasted')" = false
done
"$KSMCTL" --socket "$T/s" ps --all >"$T/ps.txt"
check "ps shows the state wasted" grep -Eq "^ *$FILLER_PID_uniq .*50-w/wasted" "$T/ps.txt"
kill -TERM $daemon
wait $daemon
check "clean exit" test $? -eq 0
