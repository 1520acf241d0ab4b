#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The OCI hook with real runc (and podman through hooks.d, where podman is installed): bundles
# whose root file system is the host's /usr bound read-only (no image).  A container annotated
# io.ksmtuned.group starts its workload with ksm_merge_any: yes and gets a runtime policy that the
# running daemon loads; one without annotations is untouched; a container of a second group is
# refused while the first runs (a "never" policy instead); io.ksmtuned.merge=false writes a
# "never" policy; poststop removes every file; a hook given garbage, bad options, an unreachable
# daemon or a lock it cannot get within its deadline still lets the container run.
source "$(dirname "$0")/lib.sh"
require_root
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"
command -v runc >/dev/null || skip "runc is not installed (tools/dev installs it)"
[ -r /proc/self/ksm_stat ] || skip "no /proc/PID/ksm_stat (Linux 6.1+ with CONFIG_KSM)"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"

# The workloads are mergeable: hold the KSM lock so that no exact-count test runs meanwhile.
ksm_save_knobs
log "KSM lock taken after ${SECONDS} s"

HOOK=${OCI_HOOK:?}
P=$T/policy.d           # runtime policies (the daemon's --policy-dir)
S=$T/oci                # the hook's records and lock
OUT=$T/out              # bound into every container at /out
mkdir -p "$P" "$S" "$OUT"
chmod 755 "$T"
prefix=ksmt-oci-$$
containers=()
[ -e /run/runc ] || on_exit 'rmdir /run/runc 2>/dev/null; true'

# Every container is deleted (poststop runs then), whatever happens.
on_exit 'for c in "${containers[@]}"; do runc delete -f "$c" >/dev/null 2>&1; done'
on_exit "for d in '$cg2'/$prefix-*; do [ -d \"\$d\" ] && rmdir \"\$d\" 2>/dev/null; done; true"

# hook_wrapper NAME ARGS...: a script that runs the hook with ARGS, timing it, stderr to $T/hook.log.
hook_wrapper() {
    local name=$1
    shift
    cat >"$T/$name" <<EOF
#!/bin/sh
t0=\$(date +%s%N)
"$HOOK" $* 2>>"$T/hook.log"
rc=\$?
echo "\$((\$(date +%s%N) - t0))" >>"$T/hook-times"
exit \$rc
EOF
    chmod +x "$T/$name"
}
hook_wrapper hook.sh --policy-dir="$P" --state-dir="$S" --socket="$T/ctl.sock"

# bundle NAME ANNOTATIONS-JSON [HOOK-SCRIPT]: a bundle whose workload records its KSM state and
# cgroup in /out, then waits for /out/NAME.stop.
bundle() {
    local name=$1 ann=$2 hook=${3:-$T/hook.sh} b=$T/b-$1
    mkdir -p "$b/rootfs"
    (cd "$b/rootfs" && mkdir -p usr proc dev sys tmp etc out && ln -s usr/bin bin && ln -s usr/lib lib &&
        ln -s usr/lib64 lib64 && ln -s usr/sbin sbin)
    (cd "$b" && runc spec) || fail "runc spec failed"
    jq --arg h "$hook" --arg out "$OUT" --arg n "$name" --argjson ann "$ann" '
        .process.terminal = false
        | .process.args = ["/bin/sh", "-c",
            "grep ksm_merge_any /proc/self/ksm_stat >/out/\($n).stat; sed -n \"s/^0:://p\" /proc/self/cgroup >/out/\($n).cg; echo ready >/out/\($n).ready; while [ ! -e /out/\($n).stop ]; do sleep 0.05; done"]
        | .mounts += [{"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]},
                      {"destination": "/out", "type": "bind", "source": $out, "options": ["rbind", "rw"]}]
        | .annotations = $ann
        | .hooks = {"createRuntime": [{"path": $h, "args": ["hook", "createRuntime"], "timeout": 10}],
                    "poststop": [{"path": $h, "args": ["hook", "poststop"], "timeout": 10}]}' \
        "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json" || fail "cannot write $b/config.json"
}

# start NAME: runs the container in the background (runc run: poststop when it ends).
start() {
    local name=$1 id=$prefix-$1
    containers+=("$id")
    runc run --bundle "$T/b-$name" "$id" </dev/null >"$T/$name.out" 2>"$T/$name.err" &
    printf -v "RUNC_$name" '%s' $!
    wait_for 20 test -e "$OUT/$name.ready" || { cat "$T/$name.err" "$T/hook.log" >&2; fail "container $name did not start"; }
}

# stop NAME: lets the workload finish and waits for runc (and so poststop).
stop() {
    local v="RUNC_$1"
    touch "$OUT/$1.stop"
    wait "${!v}"
    local rc=$?
    [ $rc -eq 0 ] || { cat "$T/$1.err" >&2; fail "runc run $1 exited with $rc"; }
}

policy() { echo "$P/oci-$prefix-$1.json"; }
jqe() { jq -e "$@" >/dev/null; }

# --- without a daemon: the socket path points nowhere -------------------------------------------
bundle a '{"io.ksmtuned.group": "tenant-a", "org.example": "x"}'
bundle plain '{"org.example": "x"}'
start a
start plain
check "annotated container: the workload starts with ksm_merge_any: yes" grep -qx 'ksm_merge_any: yes' "$OUT/a.stat"
check "container without annotations: ksm_merge_any: no" grep -qx 'ksm_merge_any: no' "$OUT/plain.stat"
check "runtime policy written for the annotated container" test -f "$(policy a)"
check "  it selects exactly the container's cgroup ($(cat "$OUT/a.cg")), merge, descendants" \
    jqe --arg cg "$(cat "$OUT/a.cg")" '.cgroups == [$cg] and .action == "merge" and .descendants == true' "$(policy a)"
check "  and a sharing-group record" jqe '.group == "tenant-a"' "$S/oci-$prefix-a.json"
check "no policy for the container without annotations" test ! -e "$(policy plain)"
check "the hook reported an unreachable daemon, and nothing worse" \
    grep -q "createRuntime $prefix-a: merged: init [0-9]* made mergeable (ksm_merge_any: yes, stopped [0-9]* us) (daemon not told: No such file or directory)" "$T/hook.log"

# A second group while tenant-a runs: refused, with a "never" policy.
bundle b '{"io.ksmtuned.group": "tenant-b"}'
start b
check "second sharing group refused while the first runs: ksm_merge_any: no" grep -qx 'ksm_merge_any: no' "$OUT/b.stat"
check "  its policy says never" jqe '.action == "never"' "$(policy b)"
check "  the hook says why" grep -q "refused: sharing group \"tenant-b\" refused: group \"tenant-a\" is mergeable on this host" "$T/hook.log"
# A second container of the same group is welcome.
bundle a2 '{"io.ksmtuned.merge": "true", "io.ksmtuned.group": "tenant-a"}'
start a2
check "same group: the second container is mergeable too" grep -qx 'ksm_merge_any: yes' "$OUT/a2.stat"
# An explicit opt-out.
bundle n '{"io.ksmtuned.merge": "false"}'
start n
check "io.ksmtuned.merge=false: ksm_merge_any: no and a never policy" \
    sh -c "grep -qx 'ksm_merge_any: no' '$OUT/n.stat' && jq -e '.action == \"never\"' '$(policy n)' >/dev/null"

for c in a plain b a2 n; do stop $c; done
check "poststop removed every policy and record" sh -c "[ -z \"\$(ls -A '$P')\" ] && [ -z \"\$(ls '$S')\" ]"
check "runc removed its containers" sh -c "! ls /run/runc 2>/dev/null | grep -q '^$prefix-'"

# Once tenant-a has gone, tenant-b may have the host.
rm -f "$OUT"/*
start b
check "after the last tenant-a container stopped, tenant-b is mergeable" grep -qx 'ksm_merge_any: yes' "$OUT/b.stat"
stop b

# --- broken configurations: the container always runs -------------------------------------------
rm -f "$OUT"/*
# Garbage on the hook's stdin instead of the state.
cat >"$T/garbage.sh" <<EOF
#!/bin/sh
echo 'this is not JSON' | "$HOOK" --policy-dir="$P" --state-dir="$S" "\$1" 2>>"$T/hook.log"
EOF
chmod +x "$T/garbage.sh"
bundle g '{"io.ksmtuned.group": "tenant-a"}' "$T/garbage.sh"
start g
check "hook fed garbage: the container runs (unmerged)" grep -qx 'ksm_merge_any: no' "$OUT/g.stat"
grep "$prefix-g\|state: not valid" "$T/hook.log" | sed 's/^/# /'
check "  the error names the input" grep -q "error: state: not valid JSON at line 1, column [0-9]*: .* near .this" "$T/hook.log"
stop g
# Bad options.
hook_wrapper bad.sh --timeout=forever --policy-dir="$P"
bundle bad '{"io.ksmtuned.group": "tenant-a"}' "$T/bad.sh"
start bad
check "hook with a bad option: the container runs" grep -qx 'ksm_merge_any: no' "$OUT/bad.stat"
stop bad
# The lock is held by someone else: the hook gives up at its deadline, the container runs.
hook_wrapper slow.sh --policy-dir="$P" --state-dir="$S" --socket= --timeout=300ms
bundle l '{"io.ksmtuned.group": "tenant-a"}' "$T/slow.sh"
exec {lockfd}>"$S/.lock"
flock "$lockfd"
: >"$T/hook-times"
start l
exec {lockfd}>&-
check "lock held elsewhere: the container runs unmerged" grep -qx 'ksm_merge_any: no' "$OUT/l.stat"
check "  the hook gave up within its 300 ms deadline (took $(($(head -1 "$T/hook-times") / 1000000)) ms)" \
    test "$(head -1 "$T/hook-times")" -lt 1000000000
check "  and said why" grep -q "cannot lock $S/.lock: Connection timed out; not merging" "$T/hook.log"
check "  nothing was written" test ! -e "$(policy l)"
stop l

# --- with the daemon: the runtime policy is loaded on the hook's Reload ---------------------------
cat >"$T/cfg.json" <<JSON
{ "sample_interval": "10s", "rescan_interval": "60s", "control_socket": "$T/ctl.sock", "tuner": { "mode": "off" },
  "statistics": "ksm_stat" }
JSON
"$KSMTUNED_NG" --config "$T/cfg.json" --policy-dir "$P" --log-target=stderr 2>"$T/daemon.err" &
daemon=$!
on_exit "kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null"
wait_for 10 test -S "$T/ctl.sock" || { cat "$T/daemon.err" >&2; fail "the daemon did not start"; }
rm -f "$OUT"/*
: >"$T/hook-times"
start a
check "with the daemon: the hook's Reload succeeded (no 'daemon not told')" \
    sh -c "grep 'createRuntime $prefix-a: merged' '$T/hook.log' | tail -1 | grep -vq 'daemon not told'"
# (rescan_interval is 60 s: only the hook's Reload can have loaded it this fast)
check "  the daemon lists the runtime policy" \
    sh -c "'$KSMCTL' --socket '$T/ctl.sock' status --json --sample-time=0 | jq -e --arg n 'oci-$prefix-a' '[.daemon.policies[].name] | index(\$n) != null' >/dev/null"
check "  and tracks the container's workload under it" \
    wait_for 10 sh -c "'$KSMCTL' --socket '$T/ctl.sock' ps --json | jq -e --arg n 'oci-$prefix-a' '[.processes[] | select(.daemon.policy == \$n)] | length >= 1' >/dev/null"
stop a
check "  poststop removed it from the daemon too" \
    wait_for 5 sh -c "! '$KSMCTL' --socket '$T/ctl.sock' status --json --sample-time=0 | jq -e --arg n 'oci-$prefix-a' '[.daemon.policies[].name] | index(\$n) != null' >/dev/null"
ms=$(sort -n "$T/hook-times" | tail -1)
log "hook run time with the daemon: createRuntime and poststop, the slower took $((ms / 1000000)).$(( (ms / 100000) % 10 )) ms"
check "hook runs took under 1 s each" test "$ms" -lt 1000000000

# --- podman through the hooks.d file (only where podman is installed) -------------------------------
if command -v podman >/dev/null; then
    # podman leaves these behind even with --root/--runroot; remove what did not exist before.
    leftovers=(/var/lib/containers /run/containers /run/libpod /etc/containers/networks)
    for d in "${leftovers[@]}"; do [ -e "$d" ] || on_exit "rm -rf '$d'"; done
    [ -d "$cg2/libpod_parent" ] || on_exit 'for d in /sys/fs/cgroup/*/libpod_parent; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done; true'
    mkdir -p "$T/podman/hooks.d"
    jq --arg h "$HOOK" --arg p "$P" --arg s "$S" --arg sock "$T/ctl.sock" \
        '.hook.path = $h | .hook.args += ["--policy-dir=" + $p, "--state-dir=" + $s, "--socket=" + $sock]' \
        "$OCI_HOOKS_JSON" >"$T/podman/hooks.d/ksmtuned-ng.json"
    pm() { podman --root "$T/podman/root" --runroot "$T/podman/run" --hooks-dir "$T/podman/hooks.d" \
            --cgroup-manager cgroupfs "$@"; }
    prun() { pm run --rm --runtime runc --network=none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
            -v /usr:/usr:ro -v "$OUT:/out" "$@" --rootfs "$T/b-a/rootfs" /bin/sh -c \
            'grep ksm_merge_any /proc/self/ksm_stat; ls /out; sleep 0.5'; }
    rm -f "$OUT"/*
    prun --annotation io.ksmtuned.group=tenant-a >"$T/pa.out" 2>"$T/pa.err" &
    pa=$!
    check "podman: the hooks.d file wrote a policy for the annotated container" \
        wait_for 10 sh -c "ls '$P' | grep -q '^oci-[0-9a-f]\{64\}\.json$'"
    wait $pa || { cat "$T/pa.err" >&2; fail "podman run failed"; }
    check "podman: annotated container has ksm_merge_any: yes" grep -qx 'ksm_merge_any: yes' "$T/pa.out"
    check "podman: poststop removed the policy" sh -c "[ -z \"\$(ls -A '$P')\" ]"
    prun >"$T/pp.out" 2>"$T/pp.err" || { cat "$T/pp.err" >&2; fail "podman run failed"; }
    check "podman: container without annotations: ksm_merge_any: no" grep -qx 'ksm_merge_any: no' "$T/pp.out"
else
    # Not a skipped check: podman is optional and not installed by tools/dev (its units would start
    # in the nspawn container of test-systemd.sh, and it leaves state in /etc and /run).  The hook
    # itself is exercised above through runc's config.json hooks; the hooks.d file's "when"
    # selection only by podman/CRI-O.
    log "podman is not installed: the hooks.d path through podman was not exercised"
fi
