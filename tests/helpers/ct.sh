#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ct.sh - the host's own systemd booted in systemd-nspawn, for tests that need a real service
# manager (this machine's PID 1 is not systemd).  The recipe and its pitfalls: TESTING.md §1.
#
#   ct.sh up NAME [NSPAWN-ARGS...]  boot in the background, wait until the system is running
#   ct.sh sysfix NAME               inside: /sys/kernel/mm/ksm writable (needs
#                                   --bind=/sys/kernel/mm/ksm:/mnt/host-ksm), tracefs, bpffs
#   ct.sh exec NAME CMD...          run CMD in all namespaces of the container's PID 1
#   ct.sh leader NAME               print the host PID of the container's PID 1
#   ct.sh down NAME                 power off (SIGRTMIN+4), wait, force if needed, remove what
#                                   nspawn leaves behind (its cgroups); safe to call twice
#
# Environment: CT_STATE (state and log directory, default /tmp/ksmt-ct), CT_INIT_ARGS (extra
# arguments for the container's systemd, e.g. systemd.unit=multi-user.target), CT_ETC_OVERLAY
# (the /etc option, default --overlay=/etc::/etc).  The root is a tmpfs with the host's /usr
# read-only (--volatile=yes): nothing the container writes reaches the host, except through
# what the caller binds in.  /run and /dev of this host are on disk and shared, so nothing here
# creates files there.
set -u
STATE=${CT_STATE:-/tmp/ksmt-ct}
cmd=${1:?usage: ct.sh up|sysfix|exec|leader|down NAME ...}
name=${2:?missing container name}
shift 2
mkdir -p "$STATE"

# The container's PID 1 is the child of systemd-nspawn whose innermost NSpid is 1 (nspawn's first
# child is an intermediate process).
leader() {
    local ns p
    ns=$(cat "$STATE/$name.pid" 2>/dev/null) || return 1
    for p in $(pgrep -P "$ns") $(pgrep -P "$(pgrep -P "$ns" | head -1)" 2>/dev/null); do
        grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null && { echo "$p"; return 0; }
    done
    return 1
}

case $cmd in
up)
    t0=$(date +%s%N)
    # nspawn creates these in the host's /run (on disk here) and leaves them: note which are ours.
    : >"$STATE/$name.rundirs"
    for d in /run/systemd/nspawn /run/systemd/nspawn-root; do
        [ -e "$d" ] || echo "$d" >>"$STATE/$name.rundirs"
    done
    # Each container gets its own cgroup parent: with --keep-unit nspawn creates payload/ and
    # supervisor/ under the caller's cgroup (cgroup2 and name=systemd) and never removes them.
    for h in unified systemd; do
        [ -d /sys/fs/cgroup/$h ] && mkdir -p /sys/fs/cgroup/$h/ksmct-$name
    done
    setsid sh -c 'for h in unified systemd; do [ -d /sys/fs/cgroup/$h/ksmct-$0 ] && echo $$ > /sys/fs/cgroup/$h/ksmct-$0/cgroup.procs; done; exec "$@"' "$name" \
        systemd-nspawn -q -D / --volatile=yes -M "$name" --register=no --keep-unit \
            --console=read-only --link-journal=no --private-network \
            ${CT_ETC_OVERLAY---overlay=/etc::/etc} "$@" \
            -b systemd.firstboot=off systemd.mask=postgresql.service ${CT_INIT_ARGS-} \
            </dev/null >"$STATE/$name.log" 2>&1 &
    echo $! >"$STATE/$name.pid"
    l=
    for _ in $(seq 1 300); do
        l=$(leader) && break
        kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$l" ]; then
        echo "ct.sh: systemd-nspawn failed:" >&2
        cat "$STATE/$name.log" >&2
        exit 1
    fi
    # systemctl fails with "Failed to connect to bus" until the private socket exists.
    for _ in $(seq 1 300); do
        [ -S "/proc/$l/root/run/systemd/private" ] && break
        sleep 0.1
    done
    state=$(timeout 60 nsenter -t "$l" -a env -i PATH=/usr/sbin:/usr/bin systemctl is-system-running --wait)
    echo "ct.sh: container $name leader=$l state=$state boot_ms=$(( ($(date +%s%N) - t0) / 1000000 ))"
    ;;
sysfix)
    l=$(leader) || { echo "ct.sh: container $name is not running" >&2; exit 1; }
    # nspawn mounts its own read-only /sys sub-mounts after custom binds: move the host's KSM
    # directory (staged at /mnt/host-ksm) into place from inside.
    nsenter -t "$l" -m sh -ec '
        if [ -d /mnt/host-ksm ] && ! [ -w /sys/kernel/mm/ksm/run ]; then mount --bind /mnt/host-ksm /sys/kernel/mm/ksm; fi
        mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
        if ! mountpoint -q /sys/fs/bpf; then
            mount -o remount,rw /sys && { mkdir -p /sys/fs/bpf; mount -t bpf bpf /sys/fs/bpf || true; mount -o remount,ro /sys; }
        fi'
    ;;
exec)
    l=$(leader) || { echo "ct.sh: container $name is not running" >&2; exit 1; }
    exec nsenter -t "$l" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
    ;;
leader)
    leader
    ;;
down)
    [ -f "$STATE/$name.pid" ] || exit 0
    ns=$(cat "$STATE/$name.pid")
    if l=$(leader); then
        kill -RTMIN+4 "$l"      # poweroff, as 'systemctl poweroff' inside
    fi
    for _ in $(seq 1 150); do
        kill -0 "$ns" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$ns" 2>/dev/null; then
        echo "ct.sh: container $name did not power off in 15 s, killing it" >&2
        kill -KILL "$ns"
        for _ in $(seq 1 50); do kill -0 "$ns" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$STATE/$name.pid"
    for h in unified systemd; do
        d=/sys/fs/cgroup/$h/ksmct-$name
        [ -d "$d" ] || continue
        # Anything left in there (it should not be) goes first, then the directories, deepest first.
        find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        for _ in $(seq 1 20); do
            find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
            [ -d "$d" ] || break
            sleep 0.1
        done
        [ -d "$d" ] && echo "ct.sh: could not remove $d" >&2
    done
    # Directories nspawn made in /run for this container, if they did not exist before and no
    # other container uses them now (rmdir only removes empty ones).
    if [ -f "$STATE/$name.rundirs" ]; then
        while read -r d; do
            rmdir "$d/propagate" 2>/dev/null
            rmdir "$d" 2>/dev/null
        done <"$STATE/$name.rundirs"
        rm -f "$STATE/$name.rundirs"
    fi
    echo "ct.sh: container $name down"
    ;;
*)
    echo "ct.sh: unknown command '$cmd'" >&2
    exit 2
    ;;
esac
