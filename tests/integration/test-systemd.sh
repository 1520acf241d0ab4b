#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The installed service under a real systemd: the host's own systemd booted in systemd-nspawn
# (tests/helpers/ct.sh, TESTING.md §1) with this build installed into it (meson install
# --destdir, laid over /usr and /etc).  Checks: systemd-analyze verify and security (<= 2.5),
# socket activation (ksmctl status starts the service), the service without the socket,
# Type=notify readiness, restart, reload with a changed policy, the hardened daemon writing
# /sys/kernel/mm/ksm and injecting into a process of another unit run by another user, the
# capabilities it keeps, journal fields, the watchdog restarting a hung daemon
# ($KSMTUNED_NG_DEBUG_HANG_AFTER), BPF when the daemon reports it, and ksmctl enable-unit /
# disable-unit (offline with --root, and live: the unit's process is mergeable from its start).
#
# Environment (meson): BUILD_ROOT (the build to install), KSMCTL, KSM_FILLER, HELPERS_DIR.
source "$(dirname "$0")/lib.sh"
require_root
require_ksm
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (package systemd-container)"
[ -x /lib/systemd/systemd ] || skip "systemd is not installed"
command -v jq >/dev/null || skip "jq is not installed"
[ -n "${BUILD_ROOT:-}" ] || fail "BUILD_ROOT is not set (run through meson test)"

CT="$HELPERS_DIR/ct.sh"
export CT_STATE=$T/ct
CTNAME=ksmt-sd-$$
UNIT=ksmtuned-ng.service
ct() { "$CT" exec "$CTNAME" "$@"; }
show() { ct systemctl show -p "$1" --value "${2:-$UNIT}"; }
# merge_any PID: ksm_merge_any of a process in the container (yes/no)
merge_any() { ct cat /proc/"$1"/ksm_stat 2>/dev/null | sed -n 's/^ksm_merge_any: //p'; }
msgid() { sed -n "s/.*KSMT_MESSAGE_ID_$1 *\"\([0-9a-f]*\)\".*/\1/p" "$INCLUDE_DIR/log.h"; }

# ---------------------------------------------------------------------------------------------
# ksmctl enable-unit offline (--root): what the drop-in says, before any container.
R=$T/root
mkdir -p "$R/usr/lib/systemd/system" "$R/etc/systemd/system/off.service.d"
cat >"$R/usr/lib/systemd/system/off.service" <<'EOF'
[Service]
ExecStart=/usr/bin/false
ExecStart=-/usr/bin/sleep "1 s" \
  %n ${FOO}
EOF
printf '[Service]\nExecStart=\nExecStart=-/usr/bin/sleep "60 s" %%i $FOO\n' >"$R/etc/systemd/system/off.service.d/10-x.conf"
dropin=$R/etc/systemd/system/off.service.d/ksmtuned-ng.conf
check "enable-unit --root --method=exec writes the drop-in" "$KSMCTL" enable-unit --root="$R" --method=exec off.service
check "the drop-in resets ExecStart= and wraps the effective command verbatim (prefix, quotes, specifiers, variables)" \
    test "$(grep '^ExecStart=' "$dropin" | sed 's|^ExecStart=-/[^ ]*/ksmctl exec -- |ExecStart=-KSMCTL|')" = "$(printf 'ExecStart=\nExecStart=-KSMCTL/usr/bin/sleep "60 s" %%i $FOO')"
rm "$R/etc/systemd/system/off.service.d/10-x.conf"
"$KSMCTL" enable-unit --root="$R" --method=exec off.service >/dev/null
check "without the override: both ExecStart= of the fragment, continuation joined" \
    test "$(grep -c '^ExecStart=.*ksmctl exec -- /usr/bin/' "$dropin")" -eq 2
"$KSMCTL" enable-unit --root="$R" --method=memory-ksm off.service >/dev/null
check "--method=memory-ksm writes MemoryKSM=yes" grep -qx 'MemoryKSM=yes' "$dropin"
check "disable-unit removes the drop-in and its empty directory" \
    sh -c "'$KSMCTL' disable-unit --root='$R' off.service >/dev/null && ! [ -e '$R/etc/systemd/system/off.service.d' ]"
printf '[Service]\nExecStart=@/usr/bin/sleep sleeper 60\n' >"$R/usr/lib/systemd/system/at.service"
check "an ExecStart= with the '@' prefix is refused" sh -c "! '$KSMCTL' enable-unit --root='$R' --method=exec at.service 2>/dev/null"
check "an unknown unit is refused" sh -c "! '$KSMCTL' enable-unit --root='$R' --method=exec nope.service 2>/dev/null"
check "a name that is not NAME.service is a usage error (2)" sh -c "'$KSMCTL' enable-unit foo 2>/dev/null; [ \$? -eq 2 ]"

# ---------------------------------------------------------------------------------------------
# Install the build into a staging tree, add the test's configuration and workload.
S=$T/stage
meson install -C "$BUILD_ROOT" --no-rebuild --quiet --destdir "$S" >"$T/install.log" 2>&1 ||
    { cat "$T/install.log" >&2; fail "meson install --destdir failed"; }
# Merged /usr: /lib, /bin and /sbin are symlinks into /usr, so the /usr overlay must hold them.
for d in lib bin sbin; do
    if [ -d "$S/$d" ]; then
        mkdir -p "$S/usr/$d"
        cp -a "$S/$d/." "$S/usr/$d/"
        rm -rf "${S:?}/$d"
    fi
done
unitdir=$(find "$S" -name ksmtuned-ng.service -path '*/systemd/system/*' | head -1)
[ -n "$unitdir" ] || fail "meson install put no ksmtuned-ng.service in the stage"
# The build's own paths (prefix /usr, or meson's default /usr/local), as seen in the container.
DAEMON_C=$(find "$S/usr" -type f -path '*/sbin/ksmtuned-ng' | head -1); DAEMON_C=${DAEMON_C#"$S"}
KSMCTL_C=$(find "$S/usr" -type f -path '*/bin/ksmctl' | head -1); KSMCTL_C=${KSMCTL_C#"$S"}
CONFIG_C=$(sed -n 's/^ExecStart=.* --config=\([^ ]*\).*/\1/p' "$unitdir")
log "installed: $DAEMON_C $KSMCTL_C $CONFIG_C ${unitdir#"$S"}"
check "meson install: daemon, ksmctl, both units, config, vendor policy, man pages" \
    sh -c "[ -n '$DAEMON_C' ] && [ -n '$KSMCTL_C' ] && [ -f '$(dirname "$unitdir")/ksmtuned-ng.socket' ] &&
           grep -q '^ExecStart=$DAEMON_C ' '$unitdir' && [ -f '$S$CONFIG_C' ] &&
           [ -n \"\$(find '$S/usr' -path '*/lib/ksmtuned-ng/policy.d/50-default.json')\" ] &&
           { ! command -v scdoc >/dev/null || [ -n \"\$(find '$S/usr' -path '*/man8/ksmtuned-ng.8')\" ]; }"
check "the socket unit listens on the daemon's default control socket" \
    grep -qx "ListenStream=$("$KSMCTL" --help | sed -n 's/.*--socket=PATH.*(default \(.*\))/\1/p')" "$(dirname "$unitdir")/ksmtuned-ng.socket"

mkdir -p "$S/usr/libexec/ksmt-test" "$S/etc/systemd/system"
cp "$KSM_FILLER" "$S/usr/libexec/ksmt-test/ksm-filler"

# Static tuner: fixed knob values, a pages_to_scan different from now, so that the hardened
# daemon must write /sys/kernel/mm/ksm; it restores the knobs at exit (and lib.sh after us).
ksm_save_knobs
old_pts=$(cat "$KSM_DIR/pages_to_scan")
new_pts=$((old_pts == 123 ? 124 : 123))
cat >"$S$CONFIG_C" <<EOF
{ "sample_interval": "1s", "rescan_interval": "1s", "log_level": "info",
  "tuner": { "mode": "static", "static_run": 1, "static_pages_to_scan": $new_pts, "static_sleep": "200ms" } }
EOF
# A workload unit run by another user (nobody): the daemon needs CAP_SYS_PTRACE and
# CAP_DAC_READ_SEARCH for it, and must see it through ProtectProc=invisible.
cat >"$S/etc/systemd/system/ksmt-target.service" <<'EOF'
[Service]
User=nobody
PrivateTmp=yes
# ksm-filler runs until its stdin closes: a FIFO opened read-write never does.
ExecStart=/bin/sh -c 'mkfifo /tmp/in && exec /usr/libexec/ksmt-test/ksm-filler --none 4 <>/tmp/in'
EOF
# A plain service for enable-unit: quoting must survive the ExecStart= rewrite.
cat >"$S/etc/systemd/system/ksmt-plain.service" <<'EOF'
[Service]
ExecStart=/bin/sh -c "exec sleep 600"
EOF

# ---------------------------------------------------------------------------------------------
# Boot.
on_exit "'$CT' down '$CTNAME' >/dev/null"
CT_ETC_OVERLAY= CT_INIT_ARGS=systemd.unit=multi-user.target "$CT" up "$CTNAME" \
    --overlay-ro=/usr:"$S/usr":/usr --overlay=/etc:"$S/etc"::/etc \
    --bind=/sys/kernel/mm/ksm:/mnt/host-ksm \
    --capability=CAP_BPF,CAP_PERFMON --system-call-filter='bpf perf_event_open' >"$T/up.log" 2>&1 ||
    { cat "$T/up.log" >&2; skip_or_fail=1; }
if [ -n "${skip_or_fail:-}" ]; then
    grep -qiE 'not supported|operation not permitted|permission denied' "$CT_STATE/$CTNAME.log" 2>/dev/null &&
        skip "systemd-nspawn cannot boot a container here"
    fail "the container did not boot"
fi
log "$(cat "$T/up.log")"
# On failure, the daemon's side of the story (lib.sh's cleanup runs with $rc set).
on_exit '[ "$rc" -eq 0 ] || "$CT" exec "$CTNAME" journalctl -b --no-pager -n 60 -u $UNIT -u ksmt-target.service -u ksmt-plain.service >&2'
"$CT" sysfix "$CTNAME" || fail "sysfix failed"
check "/sys/kernel/mm/ksm is writable in the container" ct test -w /sys/kernel/mm/ksm/run

# ---------------------------------------------------------------------------------------------
check "systemd-analyze verify passes for both units" ct systemd-analyze verify $UNIT ksmtuned-ng.socket
score=$(ct systemd-analyze security $UNIT 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
log "systemd-analyze security $UNIT: $score"
check "systemd-analyze security scores $score <= 2.5" awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.5) }'

# Socket activation: only the socket runs; ksmctl status reaches the daemon and starts it.
ct systemctl start ksmtuned-ng.socket || fail "cannot start ksmtuned-ng.socket"
check "socket active, service not started yet" \
    sh -c "[ \"\$('$CT' exec $CTNAME systemctl is-active ksmtuned-ng.socket)\" = active ] && ! '$CT' exec $CTNAME systemctl -q is-active $UNIT"
check "the socket is mode 0666 (unprivileged ksmctl)" test "$(ct stat -c %a /run/ksmtuned-ng/io.ksmtuned.Manager)" = 666
ct "$KSMCTL_C" status --sample-time=0 >"$T/status.txt" 2>&1
check "ksmctl status through the socket unit answers with the daemon's view" grep -q '^Daemon' "$T/status.txt"
check "... and started the service" test "$(show ActiveState)" = active
check "unprivileged ksmctl ps works through the socket" ct setpriv --reuid=nobody --regid=nogroup --clear-groups "$KSMCTL_C" ps
ct systemctl stop $UNIT
check "service stopped, the socket stays (file and unit)" \
    sh -c "'$CT' exec $CTNAME test -S /run/ksmtuned-ng/io.ksmtuned.Manager && [ \"\$('$CT' exec $CTNAME systemctl is-active ksmtuned-ng.socket)\" = active ]"
check "the next ksmctl starts it again" sh -c "'$CT' exec $CTNAME $KSMCTL_C status --sample-time=0 | grep -q '^Daemon' &&
    [ \"\$('$CT' exec $CTNAME systemctl show -p ActiveState --value $UNIT)\" = active ]"

# Without the socket unit: the daemon binds the socket itself.
ct systemctl stop ksmtuned-ng.socket $UNIT
ct systemctl enable $UNIT >/dev/null 2>&1 || fail "systemctl enable failed"
check "systemctl enable also enables the socket (Also=)" test "$(ct systemctl is-enabled ksmtuned-ng.socket)" = enabled
ct systemctl disable ksmtuned-ng.socket >/dev/null 2>&1
ct systemctl start $UNIT || fail "systemctl start failed"
check "started without the socket unit: active" test "$(show ActiveState)" = active
check "... and ksmctl status reaches it on the socket it bound" sh -c "'$CT' exec $CTNAME $KSMCTL_C status --sample-time=0 | grep -q '^Daemon'"
pid1=$(show MainPID)

# Type=notify: systemd logs "Started" only after READY=1, which follows the daemon's started record.
ready_order() {
    local started done_
    started=$(ct journalctl -b -o json --no-pager _PID="$pid1" MESSAGE_ID=$(msgid STARTED) | tail -1 | jq -r .__MONOTONIC_TIMESTAMP)
    done_=$(ct journalctl -b -o json --no-pager _PID=1 UNIT=$UNIT JOB_TYPE=start JOB_RESULT=done | tail -1 | jq -r .__MONOTONIC_TIMESTAMP)
    [ -n "$started" ] && [ -n "$done_" ] && [ "$started" -lt "$done_" ]
}
check "Type=notify: systemd's 'Started' comes after the daemon's start-up record" ready_order
check "STATUS= reaches systemd (StatusText)" wait_for 10 sh -c "'$CT' exec $CTNAME systemctl show -p StatusText --value $UNIT | grep -q '^KSM '"

# Capabilities after start-up.
capeff=$(ct grep CapEff /proc/"$pid1"/status | awk '{print $2}')
check "the daemon keeps CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH only (CapEff $capeff)" test "$capeff" = 0000000000080004
check "its bounding set is the unit's: SYS_PTRACE DAC_READ_SEARCH PERFMON BPF" \
    test "$(ct grep CapBnd /proc/"$pid1"/status | awk '{print $2}')" = 000000c000080004

# The hardened daemon writes /sys/kernel/mm/ksm (the host's, bound in).
check "the static tuner wrote pages_to_scan $new_pts through ProtectKernelTunables+ReadWritePaths" \
    wait_for 10 sh -c "[ \$(cat $KSM_DIR/pages_to_scan) = $new_pts ]"

# Injection into another unit's process, found by policy after a reload.
ct systemctl start ksmt-target.service || fail "cannot start ksmt-target.service"
tpid=$(show MainPID ksmt-target.service)
check "the target runs as nobody, without KSM" \
    sh -c "[ \"\$('$CT' exec $CTNAME stat -c %U /proc/$tpid)\" = nobody ] && '$CT' exec $CTNAME grep -q 'ksm_merge_any: no' /proc/$tpid/ksm_stat"
reloads0=$(ct journalctl -b -o json --no-pager -u $UNIT MESSAGE_ID=$(msgid CONFIG_LOADED) | wc -l)
# allow_seccomp: nspawn runs every process of the container under its own seccomp filter.
printf '{"cgroups": ["/system.slice/ksmt-target.service"], "action": "merge", "allow_seccomp": true}\n' |
    ct sh -c 'mkdir -p /run/ksmtuned-ng/policy.d && cat > /run/ksmtuned-ng/policy.d/50-target.json'
ct systemctl reload $UNIT || fail "systemctl reload failed"
check "reload: the daemon logged a configuration reload" \
    wait_for 10 sh -c "[ \$('$CT' exec $CTNAME journalctl -b -o json --no-pager -u $UNIT MESSAGE_ID=$(msgid CONFIG_LOADED) | wc -l) -gt $reloads0 ]"
check "reload: the new policy is in force (ksmctl status --json)" \
    wait_for 10 sh -c "'$CT' exec $CTNAME $KSMCTL_C status --json --sample-time=0 | jq -c '.daemon.policies[] | select(.name == \"50-target\")' | grep -q ."
check "the same MainPID after the reload" test "$(show MainPID)" = "$pid1"
check "the daemon injected into the other unit's process (ksm_merge_any: yes)" \
    wait_for 20 ct grep -q 'ksm_merge_any: yes' /proc/"$tpid"/ksm_stat
check "... and logged it in the journal with the target's PID" \
    wait_for 10 sh -c "'$CT' exec $CTNAME journalctl -b -o json --no-pager -u $UNIT MESSAGE_ID=$(msgid PROCESS_MERGED) | jq -r .KSMT_PID | grep -qx '$tpid'"

# Journal: structured fields, attributed to the unit.
ct journalctl -b -o json --no-pager -u $UNIT >"$T/journal.json"
check "journal: status records with MESSAGE_ID and KSMT_ fields under _SYSTEMD_UNIT=$UNIT" \
    sh -c "jq -c 'select(.MESSAGE_ID == \"$(msgid STATUS)\" and ._SYSTEMD_UNIT == \"$UNIT\" and .KSMT_SAVED_BYTES != null and .KSMT_PAGES_SHARING != null)' '$T/journal.json' | grep -q ."
check "journal: the started record carries KSMT_CONFIG" \
    sh -c "jq -c 'select(.MESSAGE_ID == \"$(msgid STARTED)\" and .KSMT_CONFIG == \"$CONFIG_C\")' '$T/journal.json' | grep -q ."
check "journal: no seccomp or permission failures of the daemon" \
    sh -c "! jq -r .MESSAGE '$T/journal.json' | grep -Ei 'Operation not permitted|Permission denied|Bad system call|SIGSYS'"

# BPF statistics under the hardening: loaded at start-up (CAP_BPF, CAP_PERFMON, bpf and
# perf_event_open allowed), then the capabilities dropped; the programs stay attached.
stats=$(ct "$KSMCTL_C" status --json --sample-time=0 | jq -c '.daemon.statistics // empty')
if jq -e '.bpf == false and (.why_not // "" | test("built without BPF"))' <<<"$stats" >/dev/null 2>&1; then
    n_checks=$((n_checks + 1))
    printf 'ok %d - BPF programs loaded # SKIP this build has no BPF support\n' "$n_checks"
else
    check "the daemon loaded its eBPF statistics under the hardened unit ($stats)" \
        jq -e '.bpf == true and .features.exec == true' <<<"$stats"
    check "the daemon holds BPF programs" \
        sh -c "'$CT' exec $CTNAME ls -l /proc/$(show MainPID)/fd | grep -q 'bpf-prog'"
fi

# Restart: a new process, active again, knobs restored by the old one at exit.
ct systemctl restart $UNIT || fail "systemctl restart failed"
check "restart: active with a new MainPID" sh -c "[ \"\$('$CT' exec $CTNAME systemctl show -p ActiveState --value $UNIT)\" = active ] &&
    [ \"\$('$CT' exec $CTNAME systemctl show -p MainPID --value $UNIT)\" != $pid1 ]"

# Watchdog: the debug switch hangs the loop; systemd kills (SIGABRT) and restarts the daemon.  The
# hanging instances run with the tuner off: a killed daemon cannot restore the knobs at exit.
ct mkdir -p /run/systemd/system/$UNIT.d
printf '{ "tuner": { "mode": "off" } }\n' | ct sh -c 'mkdir -p /etc/ksmtuned-ng && cat > /etc/ksmtuned-ng/tuner-off.json'
printf '[Service]\nEnvironment=KSMTUNED_NG_DEBUG_HANG_AFTER=1s\nWatchdogSec=2s\nLimitCORE=0\nExecStart=\nExecStart=%s --config=/etc/ksmtuned-ng/tuner-off.json\n' "$DAEMON_C" |
    ct sh -c "cat > /run/systemd/system/$UNIT.d/50-hang.conf"
ct systemctl daemon-reload
ct systemctl restart $UNIT
check "watchdog: a hung daemon is killed (result watchdog) and restarted (NRestarts >= 1)" \
    wait_for 20 sh -c "[ \"\$('$CT' exec $CTNAME systemctl show -p NRestarts --value $UNIT)\" -ge 1 ] &&
        '$CT' exec $CTNAME journalctl -b -u $UNIT --no-pager -o cat | grep -q 'Watchdog timeout'"
check "... the daemon said why it hangs (debug switch)" \
    sh -c "'$CT' exec $CTNAME journalctl -b -u $UNIT --no-pager -o cat | grep -q 'KSMTUNED_NG_DEBUG_HANG_AFTER is set: the event loop hangs now'"
ct rm -r /run/systemd/system/$UNIT.d
ct systemctl daemon-reload
ct systemctl kill --signal=SIGKILL $UNIT     # a hung instance would wait for TimeoutStopSec
ct systemctl restart $UNIT
check "after removing the switch: active again" test "$(show ActiveState)" = active

# enable-unit on the live systemd 252: ExecStart= under ksmctl exec, from the next start.
ct systemctl start ksmt-plain.service
ppid_=$(show MainPID ksmt-plain.service)
check "ksmt-plain runs without KSM" test "$(merge_any "$ppid_")" = no
ct "$KSMCTL_C" enable-unit ksmt-plain.service >"$T/enable.txt" 2>&1
check "enable-unit succeeds and says the change applies at the next start" \
    sh -c "grep -q 'ExecStart= under ksmctl exec, systemd < 254' '$T/enable.txt' && grep -q 'next started' '$T/enable.txt' && ! grep -q warning '$T/enable.txt'"
check "systemd runs it under ksmctl exec, quoting intact" \
    sh -c "'$CT' exec $CTNAME systemctl show -p ExecStart --value ksmt-plain.service | grep -qF 'argv[]=$KSMCTL_C exec -- /bin/sh -c exec sleep 600 '"
ct systemctl restart ksmt-plain.service
ppid_=$(show MainPID ksmt-plain.service)
check "after a restart the same kind of process has ksm_merge_any: yes from its start" \
    sh -c "[ '$(merge_any "$ppid_")' = yes ] && [ \"\$('$CT' exec $CTNAME cat /proc/$ppid_/comm)\" = sleep ]"
ct "$KSMCTL_C" disable-unit ksmt-plain.service >/dev/null
ct systemctl restart ksmt-plain.service
ppid_=$(show MainPID ksmt-plain.service)
check "disable-unit: back to the plain command at the next start" test "$(merge_any "$ppid_")" = no

# Stop: the daemon puts the knobs back (at_exit restore).
ct systemctl stop $UNIT ksmt-target.service ksmt-plain.service
check "stop: inactive" test "$(show ActiveState)" = inactive
check "stop: the daemon restored pages_to_scan $old_pts" test "$(cat $KSM_DIR/pages_to_scan)" = "$old_pts"
