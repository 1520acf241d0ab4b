#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `ksmctl ps` as an unprivileged user: it still lists what it can read and says clearly, on stderr,
# which processes it could not read and why.
source "$(dirname "$0")/lib.sh"
require_root
command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
[ -r /proc/self/ksm_stat ] || skip "kernel has no /proc/PID/ksm_stat (< 6.1)"

# A root-owned process with KSM state that nobody else may read.
start_filler rootproc --prctl 4
pid=$FILLER_PID_rootproc
chmod 755 "$T"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$KSMCTL" ps --json >"$T/ps.json" 2>"$T/ps.err"
rc=$?
check "ps as nobody succeeds" test $rc -eq 0
check "ps as nobody: valid JSON" jq -e . "$T/ps.json" >/dev/null
check "ps as nobody: the root process is in .unreadable" \
    jq -e --argjson p "$pid" '.unreadable[] | select(.pid == $p and .comm == "ksm-filler")' "$T/ps.json" >/dev/null
check "ps as nobody: stderr names the unreadable processes and says root is needed" \
    grep -Eq "could not read the KSM state of [0-9]+ process(es)? \\(reading another user's ksm_stat needs root\\):.* $pid \\(ksm-filler\\): Permission denied" "$T/ps.err"
check "ps as nobody: the root process is not in .processes" \
    test -z "$(jq -c --argjson p "$pid" '.processes[] | select(.pid == $p)' "$T/ps.json")"
"$KSMCTL" ps --json >"$T/root.json" 2>"$T/root.err"
check "ps as root reads every process (nothing unreadable)" jq -e '.unreadable | length == 0' "$T/root.json" >/dev/null
check "ps as root lists the filler with merge_any true" \
    jq -e --argjson p "$pid" '.processes[] | select(.pid == $p and .merge_any == true)' "$T/root.json" >/dev/null

