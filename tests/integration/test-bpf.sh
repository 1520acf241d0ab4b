#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The eBPF statistics library (include/ksm-bpf.h) on the real kernel, through
# tests/helpers/bpf-stats-dump: per-process merged pages from BPF against /proc/PID/ksm_stat
# ksm_merging_pages (within 2 %) for two fillers, nothing for a process that does not opt in, full
# scans recorded, removals counted when a process unmerges (prctl PR_SET_MEMORY_MERGE 0), the exit
# seen and the entry forgotten, the advisor's decisions, and exec events through the ring buffer
# with the right tgid and cgroup id, filtered to a watched cgroup and its descendants.  In a build
# without BPF (-Dbpf=disabled) the helper must report the stub's reason instead.
source "$(dirname "$0")/lib.sh"
require_root

# jqcheck DESCRIPTION JSON FILTER [JQ-ARGS...]: check that FILTER is true for JSON.
jqcheck() {
    local what=$1 json=$2 filter=$3
    shift 3
    check "$what" _jq_true "$json" "$filter" "$@"
}
_jq_true() { local json=$1 filter=$2; shift 2; jq -e "$@" "$filter" <<<"$json" >/dev/null; }

if [ "${HAVE_BPF:-0}" != 1 ]; then
    out=$("$BPF_STATS_DUMP" </dev/null)
    rc=$?
    check "stub: helper exits 3 when the library cannot be opened" test "$rc" = 3
    jqcheck "stub: reason is 'built without BPF support', errno EOPNOTSUPP" "$out" '.ready == false and .reason == "built without BPF support" and .errno == 95'
    exit 0
fi

[ -r /sys/kernel/btf/vmlinux ] || skip "no BTF at /sys/kernel/btf/vmlinux"
require_ksm
[ -r /proc/self/ksm_stat ] || skip "kernel has no /proc/PID/ksm_stat (< 6.1)"

ksm_save_knobs

# The helper: commands on a FIFO we hold open, JSON lines in $T/dump.out.
mkfifo "$T/dump.in"
"$BPF_STATS_DUMP" --exec <"$T/dump.in" >"$T/dump.out" 2>"$T/dump.err" &
dump_pid=$!
exec {dump_fd}>"$T/dump.in"
on_exit "kill -TERM $dump_pid 2>/dev/null; wait $dump_pid 2>/dev/null"
wait_for 30 grep -q '"ready"' "$T/dump.out" || fail "bpf-stats-dump printed nothing: $(cat "$T/dump.err")"
if grep -q '"ready":false' "$T/dump.out"; then
    reason=$(jq -r .reason "$T/dump.out")
    case $reason in
        "tracepoint "*|"no BTF"*) skip "BPF statistics unavailable on this kernel: $reason" ;;
    esac
    fail "the BPF statistics did not load: $reason"
fi
jqcheck "programs loaded and attached, with the end-of-scan resync" "$(head -1 "$T/dump.out")" \
    '.features | any(.[]; . == "sync") and any(.[]; . == "exec")'

# cmd COMMAND: send a command to the helper, print the JSON line it answered with.
n_answers() { grep -c -v '"exec"' "$T/dump.out"; }
_answered() { [ "$(n_answers)" -ge "$_answer_n" ]; }
cmd() {
    _answer_n=$(($(n_answers) + 1))
    echo "$*" >&"$dump_fd"
    wait_for 10 _answered || fail "no answer to '$*'"
    grep -v '"exec"' "$T/dump.out" | sed -n "${_answer_n}p"
}

full_scans() { cat "$KSM_DIR/full_scans"; }
wait_scans() {   # wait_scans N: until N more full scans have ended
    _scan_target=$(($(full_scans) + $1))
    wait_for 60 _scans_reached
}
# wait_sync: until an end-of-scan resync has surely run (they are at least 500 ms apart).
wait_sync() { sleep 0.6; wait_scans 2; }
_scans_reached() { [ "$(full_scans)" -ge "$_scan_target" ]; }
# within2 A B: |A - B| <= 2 % of max(A, B) (both 0 is fine)
within2() { awk -v a="$1" -v b="$2" 'BEGIN { m = a > b ? a : b; d = a - b; if (d < 0) d = -d; exit !(d <= 0.02 * m) }'; }
proc_field() { jq -r --argjson p "$2" ".processes[] | select(.tgid == \$p) | .$3" <<<"$1"; }

[ "$(sed -n 's/.*\[\(.*\)\].*/\1/p' $KSM_DIR/advisor_mode 2>/dev/null)" = scan-time ] && ksm_set advisor_mode none
[ -e $KSM_DIR/use_zero_pages ] && ksm_set use_zero_pages 0
ksm_set pages_to_scan 20000
ksm_set sleep_millisecs 10
ksm_set run 1

start_filler a --prctl 32
start_filler b --prctl --distinct=16 16
start_filler c --none 8
a=$FILLER_PID_a b=$FILLER_PID_b c=$FILLER_PID_c

# Converged: both fillers' ksm_merging_pages unchanged over two full scans.
merging() { ksm_stat_field "$1" ksm_merging_pages; }
converged() {
    local ma mb
    ma=$(merging "$a") mb=$(merging "$b")
    wait_scans 2 || return 1
    [ "$ma" -gt 1000 ] && [ "$ma" = "$(merging "$a")" ] && [ "$mb" = "$(merging "$b")" ]
}
wait_for 90 converged ||
    fail "ksmd did not merge both fillers in 90 s: ksm_merging_pages $(merging "$a") and $(merging "$b"), full_scans $(full_scans), run $(cat $KSM_DIR/run)"
pass "ksmd merged both fillers (ksm_stat stable over two full scans)"
wait_sync

snap=$(cmd dump)
for p in "$a" "$b"; do
    got=$(proc_field "$snap" "$p" merged_pages)
    want=$(merging "$p")
    log "pid $p: BPF merged_pages ${got:-none}, ksm_stat ksm_merging_pages $want, merges $(proc_field "$snap" "$p" merges)"
    check "pid $p: BPF merged pages $got within 2 % of ksm_stat $want" within2 "${got:-0}" "$want"
    check "pid $p: merges >= merged pages" test "$(proc_field "$snap" "$p" merges)" -ge "${got:-0}"
done
check "the process that did not opt in has no entry" test -z "$(proc_field "$snap" "$c" tgid)"
jqcheck "'pid' reads one process" "$(cmd pid "$a")" '.process.tgid == $p and .process.merged_pages > 1000' --argjson p "$a"
jqcheck "full scans recorded: newest has a duration and rmap entries" "$snap" '.scans_total >= 3 and (.scans[0].duration_usec > 0) and (.scans[0].rmap_entries > 0) and (.scans[0].seq > .scans[1].seq)'
jqcheck "end-of-scan resyncs ran" "$snap" '.counters.syncs > 0'
jqcheck "no process was turned away (map not full)" "$snap" '.counters.map_full == 0'

# Unmerge: a process that opted in with prctl turns it off again; its merged pages must go to 0 in
# BPF as in ksm_stat, and the pages it lost must show up as removals.
cat >"$T/unmerger.py" <<'EOF'
import ctypes, mmap, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(67, 1, 0, 0, 0) != 0:
    sys.exit(77)
n = 24 << 20
m = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
pats = [bytes([i + 1]) * 4096 for i in range(4)]
for i in range(n // 4096):
    m[i * 4096:(i + 1) * 4096] = pats[i % 4]
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "unmerge":
        r = libc.prctl(67, 0, 0, 0, 0)
        print("unmerged", r, flush=True)
EOF
start_proc unm python3 "$T/unmerger.py"
u=$PID_unm
unm_merged() { [ "$(merging "$u")" -gt 4000 ]; }
check "the unmerger's pages merged" wait_for 60 unm_merged
stable_u() { local m; m=$(merging "$u"); wait_scans 2 && [ "$m" = "$(merging "$u")" ]; }
wait_for 60 stable_u
wait_sync
snap=$(cmd dump)
before_merged=$(proc_field "$snap" "$u" merged_pages)
before_removals=$(proc_field "$snap" "$u" removals)
check "unmerger: BPF merged pages ${before_merged:-none} within 2 % of ksm_stat $(merging "$u")" within2 "${before_merged:-0}" "$(merging "$u")"
echo unmerge >&"$(proc_fd unm)"
wait_for 10 grep -q '^unmerged 0' "$T/unm.out" || fail "prctl(PR_SET_MEMORY_MERGE, 0) failed: $(cat "$T/unm.out")"
unm_zero() { [ "$(merging "$u")" -eq 0 ]; }
check "ksm_stat of the unmerger drops to 0" wait_for 60 unm_zero
wait_sync
snap=$(cmd dump)
after_merged=$(proc_field "$snap" "$u" merged_pages)
after_removals=$(proc_field "$snap" "$u" removals)
log "unmerger: merged $before_merged -> $after_merged, removals $before_removals -> $after_removals"
check "unmerge: BPF merged pages back to 0" test "$after_merged" = 0
check "unmerge: every page it had merged counted as a removal" \
    test $((after_removals - before_removals)) -ge "$before_merged"

# Exit: the entry is flagged once the process is gone, and forgotten on request.
kill -TERM "$b"
wait "$b" 2>/dev/null
wait_sync
snap=$(cmd dump)
check "exit: the entry of the exited process is flagged exited" test "$(proc_field "$snap" "$b" exited)" = true
check "exit: the running one is not" test "$(proc_field "$snap" "$a" exited)" = false
jqcheck "forget: 0" "$(cmd forget "$b")" '.result == 0'
jqcheck "forget: the entry is gone" "$(cmd pid "$b")" '.process == null'
jqcheck "forget: a second time is -ENOENT" "$(cmd forget "$b")" '.result == -2'

# The advisor (6.9+): its decisions at the end of each scan.
if [ -e $KSM_DIR/advisor_mode ]; then
    ksm_set advisor_mode scan-time
    wait_scans 2
    snap=$(cmd dump)
    jqcheck "advisor: decisions seen, pages_to_scan as in sysfs" "$snap" \
        '.advisor.n_decisions > 0 and .advisor.pages_to_scan == $pts' --argjson pts "$(cat $KSM_DIR/pages_to_scan)"
    ksm_set advisor_mode none
fi

# Exec events, filtered to a watched cgroup and its descendants.
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || fail "no cgroup2 mount"
cg="$cg2/ksmt-bpf-test.$$"
mkdir "$cg" "$cg/sub" || fail "cannot create $cg"
on_exit "rmdir '$cg/sub' '$cg' 2>/dev/null"
cg_id=$(stat -c %i "$cg")
sub_id=$(stat -c %i "$cg/sub")
jqcheck "watch the test cgroup" "$(cmd watch "$cg")" '.result == 0 and .cgroup_id == $id' --argjson id "$cg_id"

run_in() {   # run_in CGROUP: a shell moves itself into CGROUP, then execs true; prints its pid and its parent's
    sh -c "echo \$\$ >'$1/cgroup.procs' && exec /bin/true" &
    echo "$! $BASHPID"
    wait $! 2>/dev/null
}
exec_line() { grep "\"exec\":{\"tgid\":$1," "$T/dump.out" | head -1; }

read -r p1 parent1 <<<"$(run_in "$cg")"
seen() { [ -n "$(exec_line "$1")" ]; }
check "exec in the watched cgroup is seen" wait_for 10 seen "$p1"
jqcheck "exec event: tgid $p1, cgroup id $cg_id, comm true" "$(exec_line "$p1")" '.exec.cgroup_id == $id and .exec.comm == "true"' --argjson id "$cg_id"
check "exec event: ppid is the shell that started it" test "$(jq -r .exec.ppid <<<"$(exec_line "$p1")")" = "$parent1"
read -r p2 _ <<<"$(run_in "$cg/sub")"
check "exec in a descendant cgroup is seen, with its own cgroup id" \
    wait_for 10 sh -c "grep -q '\"exec\":{\"tgid\":$p2,.*\"cgroup_id\":$sub_id,' '$T/dump.out'"
/bin/true &
p3=$!
wait $p3
read -r p4 _ <<<"$(run_in "$cg")"         # a later event, so that p3 would have arrived before it
wait_for 10 seen "$p4"
check "exec outside the watched cgroups is filtered out" test -z "$(exec_line "$p3")"
snap=$(cmd dump)
jqcheck "filtered execs are counted" "$snap" '.counters.exec_filtered > 0 and .counters.exec_dropped == 0'

# Detach: nothing of ours stays in the kernel.
kill -TERM "$dump_pid"
wait "$dump_pid"
check "helper exits 0 on SIGTERM" test $? = 0
check "nothing pinned in /sys/fs/bpf" test -z "$(find /sys/fs/bpf -name '*ksm*' 2>/dev/null)"
check "programs detached" sh -c "! bpftool prog show 2>/dev/null | grep -q 'name ksm_merge_with'"
