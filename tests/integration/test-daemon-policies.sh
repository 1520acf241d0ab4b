#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon end to end: its own cgroups under the cgroup2 mount, processes inside and outside,
# a test policy directory.  Matching processes become mergeable, others never do; an opt-out beats
# a merge; processes started later are picked up; exited ones are forgotten; saving a policy file
# takes effect; a process that stops matching is unmerged when its policy says so; malformed
# policy files are refused precisely while the previous policies stay; the control socket rejects
# oversized and malformed messages and non-root writes; SIGTERM ends it cleanly.
source "$(dirname "$0")/lib.sh"
require_root
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"
[ -r /proc/self/ksm_stat ] || skip "kernel has no /proc/PID/ksm_stat"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"

base="ksmt-pol-$$"
CG="$cg2/$base"
for c in "" /merge /both /other /moved; do   # (/fresh is created later, while the daemon runs)
    mkdir "$CG$c" || fail "cannot create cgroup $CG$c"
done
# Cleanup runs last-registered first: kill everything in our cgroups, then remove them.
on_exit "for c in merge both other moved fresh ''; do rmdir '$CG'/\$c 2>/dev/null; done; rmdir '$CG' 2>/dev/null"
on_exit "for p in \$(cat '$CG'/*/cgroup.procs 2>/dev/null); do kill -KILL \$p 2>/dev/null; done; sleep 0.2"

P=$T/policy.d
mkdir "$P"
cat >"$P/50-merge.json" <<JSON
{ "description": "test: merge everything in merge/ and both/",
  "cgroups": ["/$base/merge", "/$base/both", "/$base/moved", "/$base/fresh"], "action": "merge" }
JSON
cat >"$P/40-optout.json" <<JSON
{ "description": "test: opt-out wins even at the lowest priority",
  "cgroups": ["/$base/both"], "action": "never", "priority": -1000 }
JSON
cat >"$T/cfg.json" <<JSON
{ "sample_interval": "10s", "rescan_interval": "4s", "control_socket": "$T/ctl.sock", "tuner": { "mode": "off" } }
JSON

# in_cgroup NAME CG MODE...: start an inject-target and move it into cgroup CG.
in_cgroup() {
    local name=$1 cg=$2 v
    shift 2
    start_proc "$name" "$INJECT_TARGET" "$@"
    v="PID_$name"
    [ -n "$cg" ] && { echo "${!v}" >"$CG/$cg/cgroup.procs" || fail "cannot move $name into $cg"; }
}
merged() { [ "$(ksm_stat_field "$1" ksm_merge_any)" = yes ]; }
unmerged() { [ "$(ksm_stat_field "$1" ksm_merge_any)" = no ]; }

in_cgroup a merge sleep 60 1
in_cgroup b both sleep 60 1
in_cgroup c other sleep 60 1
in_cgroup d "" sleep 60 1                  # outside our cgroups

"$KSMTUNED_NG" --config "$T/cfg.json" --policy-dir "$P" --log-target=stderr 2>"$T/daemon.err" &
daemon=$!
on_exit "kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null"
K() { "$KSMCTL" --socket "$T/ctl.sock" "$@"; }

check "process in a merge cgroup becomes mergeable" wait_for 10 merged "$PID_a"
sleep 1
check "opt-out wins over merge (both/)" unmerged "$PID_b"
check "process in an unmatched cgroup is left alone" unmerged "$PID_c"
check "process outside every cgroup is left alone" unmerged "$PID_d"

in_cgroup e merge sleep 60 1
check "a process started after the daemon is picked up" wait_for 10 merged "$PID_e"

# Another user's process: ksm_stat is 0400 for its owner, so the daemon needs CAP_DAC_READ_SEARCH
# besides CAP_SYS_PTRACE after dropping the rest.
chmod 755 "$T"
setpriv --reuid=65534 --regid=65534 --clear-groups "$INJECT_TARGET" sleep 60 1 </dev/null >"$T/nb.out" 2>&1 &
nb=$!
on_exit "kill -KILL $nb 2>/dev/null; wait $nb 2>/dev/null"
wait_for 10 grep -q '^ready' "$T/nb.out" || fail "nobody's target did not start"
echo "$nb" >"$CG/merge/cgroup.procs"
check "a process of another user (nobody) is merged too" wait_for 10 merged "$nb"
kill -KILL "$nb"; wait "$nb" 2>/dev/null

# A new cgroup that gets its first process is seen through inotify (cgroup directory created,
# cgroup.events "populated" changed), well before the 4 s rescan.
sleep 4.2      # just after a periodic rescan, so only an event can explain a quick pick-up
mkdir "$CG/fresh"
in_cgroup g fresh sleep 60 1
start_ms=$(date +%s%3N)
check "a process in a new cgroup is picked up by cgroup events" wait_for 10 merged "$PID_g"
elapsed=$(( $(date +%s%3N) - start_ms ))
check "… before the next periodic rescan (${elapsed} ms < 3000 ms)" test "$elapsed" -lt 3000
kill -KILL "$PID_g"; wait "$PID_g" 2>/dev/null

K ps --json >"$T/ps.json" || fail "ksmctl ps failed"
check "ps: the daemon reports a as enabled by 50-merge" \
    jq -e --argjson p "$PID_a" '.processes[] | select(.pid == $p) | .daemon | .state == "enabled" and .policy == "50-merge" and .backend == "inject"' "$T/ps.json" >/dev/null
K ps --all --json >"$T/psall.json"
check "ps --all: b is tracked as never (40-optout)" \
    jq -e --argjson p "$PID_b" '.processes[] | select(.pid == $p) | .daemon | .state == "never" and .policy == "40-optout"' "$T/psall.json" >/dev/null
check "ps --all: c (unmatched cgroup) is not tracked" \
    jq -e --argjson p "$PID_c" '.processes[] | select(.pid == $p) | .daemon == null' "$T/psall.json" >/dev/null
K status --json --sample-time=0 >"$T/st.json" || fail "ksmctl status failed"
check "status: two policies loaded" jq -e '.daemon.policies | length == 2' "$T/st.json" >/dev/null
check "status: two processes enabled, three tracked" jq -e '.daemon.processes.enabled == 2 and .daemon.tracked == 3' "$T/st.json" >/dev/null
K status --sample-time=0 >"$T/st.txt"
check "status text shows the daemon section" grep -q '^Daemon:' "$T/st.txt"

kill -KILL "$PID_e"; wait "$PID_e" 2>/dev/null
tracked() { [ "$(K status --json --sample-time=0 | jq .daemon.tracked)" -eq "$1" ]; }
check "an exited process is forgotten" wait_for 5 tracked 2

# Saving a policy file is enough: extend 50-merge to other/.
cat >"$P/50-merge.json" <<JSON
{ "description": "test: merge everything in merge/, both/, moved/, fresh/ and now other/",
  "cgroups": ["/$base/merge", "/$base/both", "/$base/moved", "/$base/fresh", "/$base/other"], "action": "merge" }
JSON
check "a saved policy change takes effect (c becomes mergeable)" wait_for 10 merged "$PID_c"

# when_unmatched: a policy that unmerges what stops matching.
cat >"$P/60-moved.json" <<JSON
{ "cgroups": ["/$base/moved"], "priority": 10, "when_unmatched": "unmerge" }
JSON
in_cgroup f moved sleep 60 1
check "f in moved/ is merged by 60-moved" wait_for 10 sh -c "'$KSMCTL' --socket '$T/ctl.sock' ps --json | jq -e --argjson p $PID_f '.processes[] | select(.pid == \$p) | .daemon.policy == \"60-moved\" and .daemon.state == \"enabled\"' >/dev/null"
echo "$PID_f" >"$cg2/cgroup.procs"       # out of every watched cgroup
check "when it stops matching, when_unmatched=unmerge unmerges it" wait_for 10 unmerged "$PID_f"

# Malformed policy files: each refused with its file named, previous policies kept, daemon alive.
n_bad=0
for bad in "$FIXTURES_DIR"/policies/invalid/*.json; do
    [ -e "$bad" ] || continue
    name=$(basename "$bad")     # some cases are about the file name itself
    cp "$bad" "$P/$name"
    K reload >"$T/reload.out" 2>&1
    rc=$?
    rm -f "$P/$name"
    if [ $rc -ne 1 ] || ! grep -qF "$name" "$T/reload.out"; then
        fail "reload with $name should be refused naming the file: rc=$rc $(cat "$T/reload.out")"
    fi
    n_bad=$((n_bad + 1))
done
check "$n_bad malformed policy files were each refused with the file named (>= 20)" test $n_bad -ge 20
check "the daemon survived them all" kill -0 "$daemon"
K status --json --sample-time=0 >"$T/st2.json"
check "the previous three policies stayed in force" jq -e '.daemon.policies | length == 3' "$T/st2.json" >/dev/null
K reload >/dev/null
check "a good reload clears the error" sh -c "'$KSMCTL' --socket '$T/ctl.sock' status --json --sample-time=0 | jq -e '.daemon.last_reload.ok' >/dev/null"

# The control socket: limits and permissions.
check "oversized message: MessageTooLarge" sh -c "python3 '$HELPERS_DIR/varlink-raw.py' '$T/ctl.sock' big | grep -q MessageTooLarge"
check "not JSON: InvalidRequest" sh -c "python3 '$HELPERS_DIR/varlink-raw.py' '$T/ctl.sock' garbage | grep -q InvalidRequest"
check "unknown method: MethodNotFound" sh -c "python3 '$HELPERS_DIR/varlink-raw.py' '$T/ctl.sock' nomethod | grep -q MethodNotFound"
check "bad parameters: InvalidParameter" sh -c "python3 '$HELPERS_DIR/varlink-raw.py' '$T/ctl.sock' badparams | grep -q InvalidParameter"
python3 "$HELPERS_DIR/varlink-raw.py" "$T/ctl.sock" many >"$T/many.out"
check "client limit: at most 64 of 100 concurrent connections are served ($(cat "$T/many.out"))" \
    sh -c "grep -Eq 'answered=(6[0-4]|[1-5][0-9]|[1-9]) ' '$T/many.out'"
chmod 755 "$T"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all)
"${nobody[@]}" "$KSMCTL" --socket "$T/ctl.sock" reload >"$T/nr.out" 2>&1
check "non-root reload is refused: PermissionDenied" sh -c "[ $? -eq 1 ] && grep -q PermissionDenied '$T/nr.out'"
"${nobody[@]}" "$KSMCTL" --socket "$T/ctl.sock" ps --json >"$T/nps.json" 2>/dev/null
check "non-root ps sees none of root's tracked processes" \
    jq -e '[.processes[] | select(.daemon != null)] | length == 0' "$T/nps.json" >/dev/null
check "daemon still alive after the abuse" kill -0 "$daemon"

kill -TERM "$daemon"
wait "$daemon"
rc=$?
check "SIGTERM: clean exit 0" test $rc -eq 0
check "the control socket file is removed" test ! -e "$T/ctl.sock"
check "no errors or sanitizer reports in the daemon's log" sh -c "! grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' '$T/daemon.err'"
