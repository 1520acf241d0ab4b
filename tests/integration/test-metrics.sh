#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Metrics on the real kernel, with the polling statistics source ("statistics": "ksm_stat"; the
# eBPF source is checked by test-daemon-bpf.sh): three ksm-fillers with identical pages in a test cgroup that a merge
# policy selects, the daemon (tuner off; this test sets pages_to_scan/sleep/run itself and restores
# them) sampling every 100 ms under a private journald.  Checks: the host and per-cgroup records
# reach the journal with the documented fields and plausible values (saved bytes > 0 once merged,
# totals that never go down, also across a filler's exit); the Prometheus file parses with a
# strict parser (and promtool when installed), is never seen half-written by a reader looping over
# it while the daemon rewrites it, and is removed at exit; GetStatus names the statistics source;
# a bad metrics_file is refused at start-up and on reload, naming the key.
source "$(dirname "$0")/lib.sh"
require_root
require_ksm
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"
[ -x /lib/systemd/systemd-journald ] || skip "systemd-journald not installed"
command -v unshare >/dev/null || skip "unshare not installed"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"

id_of() { sed -n "s/.*KSMT_MESSAGE_ID_$1 *\"\([0-9a-f]*\)\".*/\1/p" "$INCLUDE_DIR/log.h"; }
host_id=$(id_of METRICS_HOST)
cgroup_id=$(id_of METRICS_CGROUP)
rejected_id=$(id_of CONFIG_REJECTED)
[ ${#host_id} -eq 32 ] && [ ${#cgroup_id} -eq 32 ] || fail "cannot read the metrics MESSAGE_IDs from log.h"
PROM_CHECK="$HELPERS_DIR/prom-check.py"
jqt() { jq "$@" >/dev/null; }     # jq as a test: exit status only

# A bad metrics_file is refused, naming the key (start-up).
printf '{ "metrics_file": "metrics.prom" }\n' >"$T/rel.json"
"$KSMTUNED_NG" --config "$T/rel.json" --check-config 2>"$T/rel.err" && fail "a relative metrics_file was accepted"
check "a relative metrics_file is refused at start-up, naming the key ($(head -c 150 "$T/rel.err"))" \
    grep -q "metrics_file: expected an absolute path" "$T/rel.err"
printf '{ "metrics_file": "%s/no-such-dir/m.prom" }\n' "$T" >"$T/nodir.json"
"$KSMTUNED_NG" --config "$T/nodir.json" --check-config 2>"$T/nodir.err" && fail "a metrics_file in a missing directory was accepted"
check "a metrics_file in a missing directory is refused" grep -q "metrics_file: cannot use directory '$T/no-such-dir'" "$T/nodir.err"

ksm_save_knobs
CGN=ksmt-metrics-$$
CG="$cg2/$CGN"
mkdir "$CG" || fail "cannot create $CG"
on_exit "rmdir '$CG' 2>/dev/null"
on_exit "for p in \$(cat '$CG/cgroup.procs' 2>/dev/null); do kill -KILL \$p 2>/dev/null; done; sleep 0.2"
mkdir "$T/p" "$T/prom"
printf '{ "cgroups": ["/%s"] }\n' "$CGN" >"$T/p/50-metrics.json"
PROM="$T/prom/ksmtuned-ng.prom"
cat >"$T/c.json" <<JSON
{ "sample_interval": "100ms", "rescan_interval": "300ms", "control_socket": "$T/s",
  "metrics_file": "$PROM", "statistics": "ksm_stat", "tuner": { "mode": "off" } }
JSON
for i in 1 2 3; do
    start_filler "f$i" --none --distinct=4 16
    v="FILLER_PID_f$i"; echo "${!v}" >"$CG/cgroup.procs"
done
ksm_set pages_to_scan 20000
ksm_set sleep_millisecs 10
ksm_set run 1

cat >"$T/inside.sh" <<INNER
set -u
"$KSMTUNED_NG" --config "$T/c.json" --policy-dir "$T/p" >"$T/stdout" 2>"$T/stderr" &
pid=\$!
enabled3() { grep -q '^ksmtuned_ng_processes_enabled{cgroup="/$CGN"} 3\$' "$PROM" 2>/dev/null; }
saved() { grep -Eq '^ksmtuned_ng_saved_bytes\{cgroup="/$CGN"\} [1-9]' "$PROM" 2>/dev/null; }
for i in \$(seq 300); do enabled3 && saved && break; sleep 0.1; done
# A reader loops over the file for 4 s while the daemon replaces it 10 times a second; a filler
# exits in the middle: its merges must stay in the totals.
python3 "$PROM_CHECK" --loop 4 "$PROM" >"$T/reader.out" 2>&1 &
reader=\$!
sleep 2
cp "$PROM" "$T/before-exit.prom"
kill -TERM $FILLER_PID_f3
sleep 1
cp "$PROM" "$T/after-exit.prom"
wait \$reader; echo "reader exit \$?" >>"$T/reader.out"
"$KSMCTL" --socket "$T/s" status --json >"$T/status.json" 2>"$T/status.err"
# Reload with a bad metrics_file: refused, the old one stays in force.
cp "$T/c.json" "$T/c.good"
printf '{ "metrics_file": "relative.prom", "control_socket": "$T/s", "statistics": "ksm_stat", "tuner": { "mode": "off" } }\n' >"$T/c.json"
"$KSMCTL" --socket "$T/s" reload >"$T/reload.out" 2>&1; echo "reload exit \$?" >>"$T/reload.out"
cp "$T/c.good" "$T/c.json"
before=\$(stat -c %i "$PROM" 2>/dev/null)
# a sample every 100 ms: the file is replaced within a few; give a slow (sanitized, loaded) run 5 s
for i in \$(seq 50); do
    sleep 0.1
    [ "\$before" != "\$(stat -c %i "$PROM" 2>/dev/null)" ] && { echo rewritten >"$T/after-reload"; break; }
done
kill -TERM \$pid
wait \$pid; echo \$? >"$T/daemon.rc"
[ -e "$PROM" ] && echo present >"$T/prom-after-exit"
journalctl --no-pager -o json MESSAGE_ID=$host_id >"$T/host.json"
journalctl --no-pager -o json MESSAGE_ID=$cgroup_id >"$T/cgroup.json"
journalctl --no-pager -o json MESSAGE_ID=$rejected_id >"$T/rejected.json"
true
INNER
"$HELPERS_DIR/journal-sandbox.sh" bash "$T/inside.sh" || fail "daemon in the journal sandbox failed: $(cat "$T/stderr" 2>/dev/null)"
check "the daemon exited cleanly" test "$(cat "$T/daemon.rc")" = 0
check "nothing went to stderr while the journal was reachable ($(head -c 300 "$T/stderr"))" test ! -s "$T/stderr"

# ---- journal: host records
n_host=$(jq -s length "$T/host.json")
check "host metrics records reached the journal (got $n_host)" test "$n_host" -ge 20
check "every host record has the documented fields" \
    jqt -se 'all(.[]; .KSMT_SOURCE == "ksm_stat polling" and (.KSMT_SAVED_BYTES|tonumber) >= 0
                and .KSMT_PAGES_SHARING != null and .KSMT_PAGES_SHARED != null and .KSMT_PAGES_UNSHARED != null
                and .KSMT_PAGES_VOLATILE != null and .KSMT_FULL_SCANS != null and .KSMT_RUN == "1"
                and .KSMT_MERGES != null and .KSMT_UNMERGES != null and .KSMT_MERGES_TOTAL != null
                and .KSMT_UNMERGES_TOTAL != null and .KSMT_PROCESSES_TRACKED != null
                and .KSMT_PROCESSES_ENABLED != null and .KSMT_CGROUPS != null and .KSMT_KSMD_CPU_NSEC != null
                and .PRIORITY == "6" and .SYSLOG_IDENTIFIER == "ksmtuned-ng")' "$T/host.json"
check "host records after the first carry KSMT_INTERVAL_USEC (about 100 ms) and KSMT_KSMD_CPU_PMY" \
    jqt -se '.[1:] | all(.[]; (.KSMT_INTERVAL_USEC|tonumber) > 50000 and (.KSMT_INTERVAL_USEC|tonumber) < 2000000
                     and .KSMT_KSMD_CPU_PMY != null)' "$T/host.json"
check "the host saves memory once merged (KSMT_SAVED_BYTES > 0) with 3 processes enabled" \
    jqt -se 'any(.[]; (.KSMT_SAVED_BYTES|tonumber) > 0 and .KSMT_PROCESSES_ENABLED == "3")' "$T/host.json"
check "host merge totals never go down and add up the intervals" \
    jqt -se '[.[] | {t: (.KSMT_MERGES_TOTAL|tonumber), u: (.KSMT_UNMERGES_TOTAL|tonumber), m: (.KSMT_MERGES|tonumber), n: (.KSMT_UNMERGES|tonumber)}]
            | (. as $a | all(range(1; length); $a[.].t == $a[. - 1].t + $a[.].m and $a[.].u == $a[. - 1].u + $a[.].n))
              and (last.t > 0)' "$T/host.json"
check "the host message reads well ($(jq -rs '.[-1].MESSAGE' "$T/host.json"))" \
    jqt -se '.[-1].MESSAGE | test("^Metrics: saved [0-9.]+ [KMG]?i?B, [0-9]+ pages merged and [0-9]+ unmerged in [0-9.]+m?s, ksmd CPU [0-9.]+%, [0-9]+ of [0-9]+ processes enabled, 1 cgroups \\(ksm_stat polling\\)$")' "$T/host.json"

# ---- journal: per-cgroup records
check "per-cgroup records name the cgroup and the policy" \
    jqt -se --arg cg "/$CGN" 'length >= 20 and all(.[]; .KSMT_CGROUP == $cg and .KSMT_POLICY == "50-metrics")' "$T/cgroup.json"
check "every cgroup record has the documented fields" \
    jqt -se 'all(.[]; .KSMT_SOURCE == "ksm_stat polling" and .KSMT_SAVED_BYTES != null and .KSMT_MERGING_PAGES != null
                and .KSMT_ZERO_PAGES != null and .KSMT_RMAP_ITEMS != null and .KSMT_PROFIT_BYTES != null
                and .KSMT_MERGES != null and .KSMT_UNMERGES != null and .KSMT_MERGES_TOTAL != null
                and .KSMT_UNMERGES_TOTAL != null and .KSMT_PROCESSES_TRACKED != null and .KSMT_PROCESSES_ENABLED != null)' \
    "$T/cgroup.json"
max_saved=$(jq -s 'map(.KSMT_SAVED_BYTES|tonumber) | max' "$T/cgroup.json")
check "the cgroup saves memory once merged (max KSMT_SAVED_BYTES $max_saved > 32 MiB of 48 MiB of duplicates)" \
    test "$max_saved" -gt $((32 * 1024 * 1024))
check "cgroup saved bytes = (merging + zero pages) x page size" \
    jqt -se --argjson pg "$(getconf PAGESIZE)" 'all(.[]; (.KSMT_SAVED_BYTES|tonumber) == ((.KSMT_MERGING_PAGES|tonumber) + (.KSMT_ZERO_PAGES|tonumber)) * $pg)' \
    "$T/cgroup.json"
check "cgroup merges total > 0 and never goes down, also when a filler exits (3 then 2 processes)" \
    jqt -se '(map(.KSMT_MERGES_TOTAL|tonumber) | . as $a | all(range(1; length); $a[.] >= $a[. - 1]) and last > 0)
            and any(.[]; .KSMT_PROCESSES_TRACKED == "3") and (last.KSMT_PROCESSES_TRACKED == "2")' "$T/cgroup.json"

# ---- the Prometheus file
check "the reader parsed every read completely and no counter went down ($(head -1 "$T/reader.out"))" \
    grep -q '^reader exit 0$' "$T/reader.out"
reads=$(sed -n 's/^reads \([0-9]*\) distinct \([0-9]*\)$/\1 \2/p' "$T/reader.out")
check "… over many reads of many versions ($reads)" test "${reads% *}" -ge 200 -a "${reads#* }" -ge 20
"$PROM_CHECK" "$T/after-exit.prom" >"$T/after.json" || fail "the file after the exit does not parse: $(cat "$T/after-exit.prom")"
"$PROM_CHECK" "$T/before-exit.prom" >"$T/before.json" || fail "the file before the exit does not parse"
series() { jq -r --arg k "$2" '.[$k] // empty' "$1"; }
s_saved=$(series "$T/before.json" "ksmtuned_ng_saved_bytes{cgroup=\"/$CGN\"}")
check "ksmtuned_ng_saved_bytes{cgroup=\"/$CGN\"} is > 0 ($s_saved)" python3 -c "import sys; sys.exit(not float('$s_saved') > 0)"
check "host figures without a label: saved bytes, pages sharing, ksmd CPU seconds, processes enabled" \
    jqt -e 'has("ksmtuned_ng_saved_bytes") and has("ksmtuned_ng_pages_sharing") and has("ksmtuned_ng_ksmd_cpu_seconds_total")
           and .ksmtuned_ng_processes_enabled == 3 and has("ksmtuned_ng_merges_total")' "$T/before.json"
m_before=$(series "$T/before.json" "ksmtuned_ng_merges_total{cgroup=\"/$CGN\"}")
m_after=$(series "$T/after.json" "ksmtuned_ng_merges_total{cgroup=\"/$CGN\"}")
check "the cgroup's merges_total does not drop when a filler exits ($m_before -> $m_after)" \
    python3 -c "import sys; sys.exit(not (float('$m_after') >= float('$m_before') > 0))"
check "the source is named in the file" \
    jqt -e 'has("ksmtuned_ng_statistics_source_info{source=\"ksm_stat polling\",exact=\"false\"}")' "$T/after.json"
if command -v promtool >/dev/null; then
    check "promtool check metrics accepts the file" sh -c "promtool check metrics <'$T/after-exit.prom'"
fi
check "the file is removed when the daemon stops" test ! -e "$T/prom-after-exit"
check "no temporary file is left in the directory" test -z "$(ls -A "$T/prom")"

# ---- status and reload
check "GetStatus names the statistics source and the file" \
    jqt -e --arg f "$PROM" '.daemon.metrics.source == "ksm_stat polling" and .daemon.metrics.exact == false
                           and .daemon.metrics.file == $f and .daemon.metrics.file_written == true
                           and .daemon.metrics.writes > 10' "$T/status.json"
check "a reload with a relative metrics_file is refused ($(head -1 "$T/reload.out"))" grep -q 'metrics_file: expected an absolute path' "$T/reload.out"
check "… and logged as configuration rejected" jqt -se 'any(.[]; .MESSAGE | test("metrics_file: expected an absolute path"))' "$T/rejected.json"
check "… and the file keeps being written" test -e "$T/after-reload"
