#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-daemon-scale - the daemon with many processes in matched cgroups, and how soon a new one
# becomes mergeable.
#
# Scale, for each N (arguments; default 1000 10000): N idle processes (bench-idle: forked, never
# exec'd, pause(); ~170 KiB RSS each) born in N/PER_CG cgroups of PER_CG under this benchmark's own
# cgroup, matched by one policy {"cgroups": ["/<ours>/scale/*"], "action": "merge"}.  Printed:
#   - reference (once): the daemon with that policy and nothing to track: CPU %, RSS, fds;
#   - baseline: one `ksmctl merge --cgroup` over N fresh processes (the engine without the
#     daemon): seconds, and how many reached ksm_merge_any: yes;
#   - daemon (rescan_interval SCALE_RESCAN, default 4s as the daemon): seconds from its start until status says processes.enabled == N
#     (control socket polled every 100 ms), the ratio to the baseline, the first status answer,
#     peak open fds;
#   - steady state over STEADY s with no control-socket traffic: CPU % of one core (schedstat ns,
#     and utime+stime ticks), rescans done, CPU per rescan, last_rescan_usec; VmRSS, VmHWM, fds;
#   - ksm_merge_any: yes counted in /proc for all N (the daemon's claim checked);
#   - cgroup churn: an unmatched cgroup made and removed CHURN_HZ times a second for CHURN_SECS s
#     (what systemd does for every transient unit): CPU %, rescans, cgroup events;
#   - all N killed (and reaped by their parent): seconds until status says tracked == 0 and the
#     daemon's CPU seconds meanwhile, RSS and fds afterwards; SIGTERM: exit status and seconds.
#   Goals (issue 4): steady CPU < 0.5 % and RSS < 32 MiB at 10,000; all 10,000 enabled < 30 s.
#   The daemon starts with RLIMIT_NOFILE DAEMON_NOFILE (soft:hard, default 1024:524288, what
#   systemd gives a service without LimitNOFILE=; a hard limit above ours needs CAP_SYS_RESOURCE,
#   best effort): it needs one pidfd per tracked process.  If enabling stalls (no progress for
#   STALL s) that is reported, and if the daemon's soft limit is below its hard one the same N runs
#   again with the soft limit raised to the hard one.  DAEMON_NOFILE=1024:1024 shows what happens
#   when the daemon cannot get enough descriptors.
#
# Latency, for each rescan interval in LAT_INTERVALS (default "2s 500ms"), with LAT_BG background
# processes already enabled: LAT_COUNT processes started one at a time (random gaps uniform in
# 0..2*LAT_GAP_MS ms), (a) each born in a matched cgroup that is already populated (a service
# forking a worker: only the periodic rescan finds it), (b) each born in a new matched cgroup made
# just before it (a VM or container starting: inotify sees the cgroup).  For each, the time from
# just before clone3 to the first read of "ksm_merge_any: yes" in /proc/PID/ksm_stat (polled every
# LAT_POLL_MS ms).  Printed: p50, p90, p99, max.  Baseline: the same without the daemon, each
# process made mergeable by `ksmctl merge --pid` right after its start.
#
# Nothing is failed on: numbers and "goal met/NOT met" are printed, "FINDING:" marks misbehaviour.
# Exit status 1 only if the daemon crashed or a step could not be set up; 77 (skip) without root,
# cgroup2 or ksm_stat.  KSM knobs are not touched (the daemon's tuner is off; a change by anyone
# else meanwhile is warned about at the end); flock /sys/kernel/mm/ksm keeps other KSM tests
# and benchmarks out (tests that only run daemons do not take it: other load shows up as noise).
# Every exit path kills every process started, stops the daemon and removes the cgroups and files.
#
# Environment: KSMTUNED_NG, KSMCTL, BENCH_IDLE (set by bench/meson.build); optional PER_CG (100),
# STEADY (30), ENABLE_TIMEOUT (300), STALL (20), DAEMON_NOFILE (1024:524288), CHURN_HZ (10, 0 = no
# churn), CHURN_SECS (10), LAT_INTERVALS ("2s 500ms"), LAT_COUNT (200, 0 = no latency), LAT_BG
# (500), LAT_GAP_MS (100), LAT_POLL_MS (5), KSM_LOCK, DAEMON_STATISTICS (the daemon's
# "statistics": auto, bpf or ksm_stat; unset: its default).  About 5 minutes with the defaults.
#
#   bench-daemon-scale.sh [N...]          e.g. 1000, or 1000 10000 (default); 0 skips scale

set -uo pipefail

: "${KSMTUNED_NG:?set KSMTUNED_NG to the ksmtuned-ng binary}" "${KSMCTL:?set KSMCTL to the ksmctl binary}"
: "${BENCH_IDLE:?set BENCH_IDLE to the bench-idle binary}"
PER_CG=${PER_CG:-100}
STEADY=${STEADY:-30}
ENABLE_TIMEOUT=${ENABLE_TIMEOUT:-300}
STALL=${STALL:-20}
DAEMON_NOFILE=${DAEMON_NOFILE:-1024:524288}
LAT_INTERVALS=${LAT_INTERVALS:-4s 500ms}
SCALE_RESCAN=${SCALE_RESCAN:-4s}     # the daemon's default rescan_interval
LAT_COUNT=${LAT_COUNT:-200}
LAT_BG=${LAT_BG:-500}
LAT_GAP_MS=${LAT_GAP_MS:-100}
LAT_POLL_MS=${LAT_POLL_MS:-5}
CHURN_HZ=${CHURN_HZ:-10}
CHURN_SECS=${CHURN_SECS:-10}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 10000)

skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || skip "needs root (cgroups, ptrace)"
[ "$(uname -m)" = x86_64 ] || skip "injection is implemented for x86_64 only"
[ -r /proc/self/ksm_stat ] || skip "kernel has no /proc/PID/ksm_stat (< 6.1)"
command -v jq >/dev/null || skip "needs jq"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"
for n in "${SIZES[@]}"; do
    [[ $n =~ ^[0-9]+$ ]] || die "N must be a number: '$n'"
    [ "$n" -eq 0 ] || [ "$n" -le "$PER_CG" ] || [ $((n % PER_CG)) -eq 0 ] || die "N=$n is not a multiple of PER_CG=$PER_CG"
done

T=$(mktemp -d /tmp/ksmt-bench-scale.XXXXXX) || exit 1
base="ksmt-bench-scale-$$"
CG="$cg2/$base"
DPID=""                 # the running daemon
SPAWNERS=()             # bench-idle spawn processes (they kill and reap their children)
LATPID=""               # the running bench-idle latency
FLOCKPID=""             # flock while it waits
SOCK="$T/ctl.sock"
crashed=0

# ---- cleanup -------------------------------------------------------------------------------

# wait_gone PID SECONDS: waits for a child to exit; 0 if it did.
wait_gone() {
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        [ $SECONDS -ge $deadline ] && return 1
        # A zombie counts as gone: our own children are reaped by wait below.
        [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ] && break
        sleep 0.05
    done
    wait "$1" 2>/dev/null
    return 0
}

cg_procs() { [ -d "$1" ] && find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null; }

cleanup() {
    local rc=$? p i
    trap '' INT TERM
    trap - EXIT
    if [ -n "$DPID" ]; then
        kill -TERM "$DPID" 2>/dev/null
        wait_gone "$DPID" 10 || { kill -KILL "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
    fi
    for p in ${FLOCKPID:+"$FLOCKPID"} ${LATPID:+"$LATPID"} ${SPAWNERS[@]+"${SPAWNERS[@]}"}; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in ${LATPID:+"$LATPID"} ${SPAWNERS[@]+"${SPAWNERS[@]}"}; do
        wait_gone "$p" 10 || { kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; }
    done
    # Whatever is still in our cgroups (nothing, normally): SIGKILL until they are empty.
    for ((i = 0; i < 100; i++)); do
        p=$(cg_procs "$CG")
        [ -z "$p" ] && break
        # shellcheck disable=SC2086
        kill -KILL $p 2>/dev/null
        sleep 0.1
    done
    [ -n "$(cg_procs "$CG")" ] && printf 'WARNING: processes left in %s: %s\n' "$CG" "$(cg_procs "$CG" | head -5 | tr '\n' ' ')" >&2
    if [ -d "$CG" ]; then
        find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
        [ -d "$CG" ] && { printf 'WARNING: could not remove cgroup %s\n' "$CG" >&2; [ $rc -eq 0 ] && rc=1; }
    fi
    if [ -n "${start_knobs:-}" ] && [ "$(knobs)" != "$start_knobs" ]; then
        printf 'WARNING: KSM knobs changed during the benchmark (other KSM users?); at the start:\n%s\nnow:\n%s\n' \
            "$start_knobs" "$(knobs)" >&2
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Other KSM tests/benchmarks hold this lock while they run (bench-coverage.sh, integration tests).
# flock runs in the background so that a signal while waiting ends the benchmark at once.
KSM_LOCK=${KSM_LOCK:-/sys/kernel/mm/ksm}
exec {lock_fd}<"$KSM_LOCK" || exit 1
flock -w 600 "$lock_fd" &
FLOCKPID=$!
wait "$FLOCKPID" || die "could not take $KSM_LOCK within 600 s"
FLOCKPID=""

# The daemon's tuner (in builds that have one) drives ksmd: off, this benchmark changes no knob.
printf '{ "tuner": { "mode": "off" } }\n' >"$T/probe.json"
TUNER_OFF=""
"$KSMTUNED_NG" --check-config --config "$T/probe.json" >/dev/null 2>&1 && TUNER_OFF=', "tuner": { "mode": "off" }'
knobs() { grep -H . /sys/kernel/mm/ksm/{run,pages_to_scan,sleep_millisecs,advisor_mode} 2>/dev/null; }
start_knobs=$(knobs)

# ---- helpers -------------------------------------------------------------------------------

# nap SECONDS: a sleep that a signal interrupts (the trap runs at once, not after the sleep).
nap() { sleep "$1" {lock_fd}<&- & wait $!; }

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
goal() { if lt "$1" "$2"; then echo "met"; else echo "NOT met"; fi; }

# make_cgroups NAME NCG: $CG/NAME and NCG cgroups g0000... below it.
make_cgroups() {
    local i
    mkdir -p "$CG/$1" || die "cannot create cgroup $CG/$1"
    for ((i = 0; i < $2; i++)); do
        mkdir "$(printf '%s/%s/g%04d' "$CG" "$1" "$i")" || die "cannot create cgroups under $CG/$1"
    done
}
remove_cgroups() { find "$CG/$1" -depth -type d -exec rmdir {} \; 2>/dev/null; }

# spawn NAME NCG PER: NCG*PER idle processes in $CG/NAME/g*; sets SPAWNER.
spawn() {
    local out="$T/spawn.$1.out" deadline=$((SECONDS + 120))
    "$BENCH_IDLE" spawn "$CG/$1" "$2" "$3" >"$out" 2>"$T/spawn.err" {lock_fd}<&- &
    SPAWNER=$!
    SPAWNERS+=("$SPAWNER")
    until grep -q '^ready' "$out" 2>/dev/null; do
        kill -0 "$SPAWNER" 2>/dev/null || die "bench-idle spawn failed: $(cat "$T/spawn.err")"
        [ $SECONDS -ge $deadline ] && die "bench-idle spawn did not finish in 120 s"
        sleep 0.05
    done
}

# unspawn PID NAME: ends a spawner (its children die with it), waits until $CG/NAME is empty.
unspawn() {
    local i a=()
    kill -TERM "$1" 2>/dev/null
    wait_gone "$1" 30 || die "spawner $1 did not exit"
    for i in ${SPAWNERS[@]+"${SPAWNERS[@]}"}; do [ "$i" = "$1" ] || a+=("$i"); done
    SPAWNERS=(${a[@]+"${a[@]}"})
    for ((i = 0; i < 600; i++)); do
        [ -z "$(cg_procs "$CG/$2")" ] && return 0
        sleep 0.05
    done
    die "processes left in $CG/$2 after their spawner exited"
}

# start_daemon NAME RESCAN NOFILE: a daemon with one merge policy for $CG/NAME/*; sets DPID.
start_daemon() {
    local p="$T/policy.d"
    rm -rf "$p" "$SOCK" "$T/limits"
    mkdir "$p"
    printf '{ "cgroups": ["/%s/%s/*"], "action": "merge" }\n' "$base" "$1" >"$p/50-bench.json"
    printf '{ "sample_interval": "10s", "rescan_interval": "%s", "control_socket": "%s"%s%s }\n' "$2" "$SOCK" "$TUNER_OFF" \
        "${DAEMON_STATISTICS:+, \"statistics\": \"$DAEMON_STATISTICS\"}" >"$T/cfg.json"
    DLOG="$T/daemon.$1.$2.$3.log"
    (
        ulimit -S -n "${3%%:*}" || exit 126
        # Raising the hard limit needs CAP_SYS_RESOURCE (not in every container): best effort.
        [ "${3#*:}" = "$3" ] || ulimit -H -n "${3#*:}" 2>/dev/null
        echo "$(ulimit -S -n) $(ulimit -H -n)" >"$T/limits"
        exec "$KSMTUNED_NG" --config "$T/cfg.json" --policy-dir "$p" --log-target=stderr
    ) 2>"$DLOG" {lock_fd}<&- &
    DPID=$!
    # Until the exec, /proc/PID is still the subshell's.
    local i exe
    exe=$(readlink -f "$KSMTUNED_NG")
    for ((i = 0; i < 200; i++)); do
        [ "$(readlink "/proc/$DPID/exe" 2>/dev/null)" = "$exe" ] && break
        sleep 0.01
    done
    read -r D_SOFT D_HARD <"$T/limits" 2>/dev/null
}

# stop_daemon: SIGTERM; sets STOP_RC and STOP_SECONDS.
stop_daemon() {
    local t0
    t0=$(now)
    kill -TERM "$DPID" 2>/dev/null
    if wait_gone "$DPID" 60; then
        wait "$DPID" 2>/dev/null
        STOP_RC=$?
    else
        kill -KILL "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
        STOP_RC="killed (did not exit within 60 s of SIGTERM)"
    fi
    STOP_SECONDS=$(since "$t0")
    DPID=""
}

# daemon_alive: if the daemon died, says so with its log and marks the run.
daemon_alive() {
    kill -0 "$DPID" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$DPID/stat" 2>/dev/null)" != Z ] && return 0
    wait "$DPID" 2>/dev/null
    printf 'FINDING: the daemon (PID %s) died, exit status %s; last log lines:\n' "$DPID" "$?"
    tail -20 "$DLOG" | sed 's/^/    /'
    DPID=""
    crashed=1
    return 1
}

# dstatus: "enabled tracked last_rescan_usec rescans cgroup_events", or nothing if the daemon does not answer.
dstatus() {
    "$KSMCTL" --socket "$SOCK" status --json --sample-time=0 2>/dev/null |
        jq -r 'if .daemon then "\(.daemon.processes.enabled) \(.daemon.tracked) \(.daemon.last_rescan_usec) \(.daemon.rescans) \(.daemon.cgroup_events // "n/a")" else empty end' 2>/dev/null
}

cpu_ns() { awk '{ print $1 }' "/proc/$DPID/schedstat"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DPID/stat"; }        # comm has no spaces
mem_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DPID/status"; }
nfds() { find "/proc/$DPID/fd" -mindepth 1 2>/dev/null | wc -l; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
log_summary() {
    # Distinct messages above info in the daemon's log, with counts (PIDs and numbers folded).
    grep -Ei 'warn|error|fail|cannot|too many|refus|sanitizer' "$DLOG" 2>/dev/null |
        sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -8 | sed 's/^/    log: /'
}

# wait_enabled N: polls every 100 ms until processes.enabled == N, a stall (no progress for STALL s
# after at least two rescans) or ENABLE_TIMEOUT.  Sets E_* .
wait_enabled() {
    local n=$1 st f enabled=0 tracked=0 last=-1 progress_t start=$SECONDS rescans=0 rescans_at_progress=0 lr=0
    E_STALLED=0 E_FIRST="" E_SECONDS="" E_PEAK_FDS=0
    progress_t=$SECONDS
    while :; do
        daemon_alive || { E_SECONDS="crashed"; return 1; }
        st=$(dstatus)
        if [ -n "$st" ]; then
            read -r enabled tracked lr rescans _ <<<"$st"
            [ -z "$E_FIRST" ] && E_FIRST=$(since "$T0")
            if [ "$enabled" -ge "$n" ]; then
                E_SECONDS=$(since "$T0")
                break
            fi
        fi
        f=$(nfds)
        [ "$f" -gt "$E_PEAK_FDS" ] && E_PEAK_FDS=$f
        if [ "$enabled" != "$last" ]; then
            last=$enabled progress_t=$SECONDS rescans_at_progress=$rescans
        elif [ $((SECONDS - progress_t)) -ge "$STALL" ] && [ "$rescans" -ge $((rescans_at_progress + 2)) ]; then
            E_STALLED=1
            break
        fi
        if [ $((SECONDS - start)) -ge "$ENABLE_TIMEOUT" ]; then
            E_STALLED=2
            break
        fi
        sleep 0.1
    done
    E_ENABLED=$enabled E_TRACKED=$tracked E_RESCANS=$rescans E_LAST_RESCAN=$lr
    f=$(nfds)
    [ "$f" -gt "$E_PEAK_FDS" ] && E_PEAK_FDS=$f
    return 0
}

# ---- scale ---------------------------------------------------------------------------------

RESULTS=()

# run_scale N NOFILE WITH_BASELINE: one scale run.  Sets S_STALLED.
run_scale() {
    local n=$1 nofile=$2 ncg per st c0 c1 k0 k1 t0 r0 r1 cpu cpu_t yes total
    local b_secs="" b_yes="" rss hwm fds steady_rescans lr forget="" forget_cpu="" rss_after="" label churn_cpu=
    if [ "$n" -le "$PER_CG" ]; then ncg=1 per=$n; else ncg=$((n / PER_CG)) per=$PER_CG; fi
    printf '\n=== scale: N=%d (%d cgroups x %d), daemon RLIMIT_NOFILE %s ===\n' "$n" "$ncg" "$per" "$nofile"
    make_cgroups scale "$ncg"

    if [ "$3" = 1 ]; then
        spawn scale "$ncg" "$per"
        t0=$(now)
        "$KSMCTL" merge --cgroup "/$base/scale" >"$T/merge.out" 2>&1
        st=$?
        b_secs=$(since "$t0")
        read -r b_yes total < <("$BENCH_IDLE" count "$CG/scale")
        printf 'baseline: ksmctl merge --cgroup over %d fresh processes: %s s (exit %d), %d/%d have ksm_merge_any: yes\n' \
            "$n" "$b_secs" "$st" "$b_yes" "$total"
        [ "$st" -eq 0 ] || sed -n '1,5p' "$T/merge.out" | sed 's/^/    ksmctl: /'
        BASE_SECS[$n]=$b_secs
        unspawn "$SPAWNER" scale
    fi
    b_secs=${BASE_SECS[$n]:-}

    spawn scale "$ncg" "$per"
    T0=$(now)
    start_daemon scale "$SCALE_RESCAN" "$nofile"
    wait_enabled "$n" || { unspawn "$SPAWNER" scale; remove_cgroups scale; S_STALLED=0; return; }
    S_STALLED=$E_STALLED
    read -r R_SOFT R_HARD < <(awk '/^Max open files/ { print $4, $5 }' "/proc/$DPID/limits" 2>/dev/null)
    printf 'daemon PID %s: started with RLIMIT_NOFILE soft %s, hard %s; runs with soft %s, hard %s\n' \
        "$DPID" "$D_SOFT" "$D_HARD" "$R_SOFT" "$R_HARD"
    if [ "$E_STALLED" = 0 ]; then
        printf 'daemon: all %d enabled after %s s (first status answer after %s s); baseline %s s, ratio %s; goal < 30 s at 10,000: %s\n' \
            "$n" "$E_SECONDS" "$E_FIRST" "${b_secs:-n/a}" "$(ratio "$E_SECONDS" "${b_secs:-0}")" "$(goal "$E_SECONDS" 30)"
    else
        printf 'FINDING: enabling %s: %s of %d enabled, %s tracked, after %s s (rescans %s, last_rescan_usec %s); daemon fds %s; first status answer after %s s\n' \
            "$([ "$E_STALLED" = 1 ] && echo "stalled (no progress for $STALL s)" || echo "timed out (${ENABLE_TIMEOUT} s)")" \
            "$E_ENABLED" "$n" "$E_TRACKED" "$(since "$T0")" "$E_RESCANS" "$E_LAST_RESCAN" "$(nfds)" "${E_FIRST:-never}"
        log_summary
    fi
    printf 'peak open fds while enabling: %s; VmHWM %s MiB\n' "$E_PEAK_FDS" "$(mib "$(mem_kib VmHWM)")"

    # Steady state: let the in-flight rescan finish, then measure with no control-socket traffic.
    nap 4
    daemon_alive || { unspawn "$SPAWNER" scale; remove_cgroups scale; return; }
    c0=$(cpu_ns) k0=$(cpu_ticks) t0=$(now)
    r0=$(dstatus | awk '{ print $4 }')
    nap "$STEADY"
    c1=$(cpu_ns) k1=$(cpu_ticks)
    local secs
    secs=$(since "$t0")
    daemon_alive || { unspawn "$SPAWNER" scale; remove_cgroups scale; return; }
    read -r _ _ lr r1 _ <<<"$(dstatus)"
    cpu=$(awk -v a="$c0" -v b="$c1" -v s="$secs" 'BEGIN { printf "%.3f", (b - a) / (s * 1e9) * 100 }')
    cpu_t=$(awk -v a="$k0" -v b="$k1" -v s="$secs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", (b - a) / hz / s * 100 }')
    steady_rescans=$((${r1:-0} - ${r0:-0}))
    rss=$(mem_kib VmRSS) hwm=$(mem_kib VmHWM) fds=$(nfds)
    printf 'steady state over %s s: CPU %s %% of one core (utime+stime: %s %%), %s rescans, %s ms CPU per rescan, last_rescan_usec %s; goal < 0.5 %%: %s\n' \
        "$secs" "$cpu" "$cpu_t" "$steady_rescans" \
        "$(awk -v a="$c0" -v b="$c1" -v r="$steady_rescans" 'BEGIN { if (r > 0) printf "%.2f", (b - a) / r / 1e6; else print "n/a" }')" \
        "$lr" "$(goal "$cpu" 0.5)"
    printf 'memory: VmRSS %s MiB, VmHWM %s MiB; open fds %s; goal RSS < 32 MiB: %s\n' \
        "$(mib "$rss")" "$(mib "$hwm")" "$fds" "$(goal "$rss" 32768)"
    read -r yes total < <("$BENCH_IDLE" count "$CG/scale")
    printf 'check: %d/%d processes have ksm_merge_any: yes\n' "$yes" "$total"

    # Cgroup churn elsewhere on the host (unmatched cgroups created and removed, as systemd does
    # for every transient unit): what does it cost the daemon with N tracked?
    if [ "$CHURN_HZ" -gt 0 ]; then
        local e0 e1 i gap
        gap=$(awk -v h="$CHURN_HZ" 'BEGIN { printf "%.3f", 1 / h }')
        mkdir -p "$CG/churn"
        c0=$(cpu_ns) t0=$(now)
        read -r _ _ _ r0 e0 <<<"$(dstatus)"
        for ((i = 0; i < CHURN_SECS * CHURN_HZ; i++)); do
            mkdir "$CG/churn/c" && rmdir "$CG/churn/c"
            sleep "$gap"
        done
        c1=$(cpu_ns) secs=$(since "$t0")
        read -r _ _ _ r1 e1 <<<"$(dstatus)"
        rmdir "$CG/churn"
        churn_cpu=$(awk -v a="$c0" -v b="$c1" -v s="$secs" 'BEGIN { printf "%.3f", (b - a) / (s * 1e9) * 100 }')
        printf 'with an unmatched cgroup made and removed %s times/s for %s s: CPU %s %% of one core, %s rescans, %s cgroup events (x%s the steady state)\n' \
            "$CHURN_HZ" "$secs" "$churn_cpu" "$((r1 - r0))" "$([ "$e0" = n/a ] && echo n/a || echo $((e1 - e0)))" "$(ratio "$churn_cpu" "$cpu")"
    fi

    # Forgetting: the spawner kills and reaps every process; wait until the daemon tracks none.
    c0=$(cpu_ns) t0=$(now)
    kill -TERM "$SPAWNER"
    local tr=-1 deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
        tr=$(dstatus | awk '{ print $2 }')
        [ "${tr:-x}" = 0 ] && break
        sleep 0.1
    done
    forget=$(since "$t0") c1=$(cpu_ns)
    forget_cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    rss_after=$(mem_kib VmRSS)
    unspawn "$SPAWNER" scale
    printf 'all %d killed: tracked == %s after %s s, daemon CPU meanwhile %s s (all gone from the cgroups after %s s); VmRSS then %s MiB, open fds %s\n' \
        "$n" "${tr:-?}" "$forget" "$forget_cpu" "$(since "$t0")" \
        "$(mib "$rss_after")" "$(nfds)"
    daemon_alive || { remove_cgroups scale; return; }
    stop_daemon
    printf 'SIGTERM: exit status %s after %s s\n' "$STOP_RC" "$STOP_SECONDS"
    log_summary
    remove_cgroups scale

    label="N=$n nofile=$R_SOFT"
    if [ "$E_STALLED" = 0 ]; then
        RESULTS+=("$(printf '%-28s enable %7ss (baseline %ss, x%s)  CPU %6s%%  RSS %6s MiB  HWM %6s MiB  fds %5s  churn CPU %s%%  all exit: %ss, CPU %ss' \
            "$label" "$E_SECONDS" "${b_secs:-n/a}" "$(ratio "$E_SECONDS" "${b_secs:-0}")" "$cpu" "$(mib "$rss")" "$(mib "$hwm")" "$fds" \
            "${churn_cpu:-n/a}" "$forget" "$forget_cpu")")
    else
        RESULTS+=("$(printf '%-28s STALLED at %s/%s enabled  CPU %6s%%  RSS %6s MiB  HWM %6s MiB  fds %5s' \
            "$label" "$E_ENABLED" "$n" "$cpu" "$(mib "$rss")" "$(mib "$hwm")" "$fds")")
    fi
}

declare -A BASE_SECS
printf 'ksmtuned-ng scale benchmark: %s processes; cgroup2 at %s; %s CPUs; %s; daemon tuner %s\n' \
    "${SIZES[*]}" "$cg2" "$(nproc)" "$(uname -r)" "$([ -n "$TUNER_OFF" ] && echo off || echo 'absent (older build)')"
mkdir "$CG" || die "cannot create $CG"
others=$(pgrep -d ' ' -x ksmtuned-ng)
[ -z "$others" ] || printf 'NOTE: other ksmtuned-ng processes are running (PIDs %s): they compete for the CPUs\n' "$others"

# Reference: the daemon with its policy and no process to track.
if [ "${SIZES[*]}" != 0 ]; then
    make_cgroups scale 1
    start_daemon scale "$SCALE_RESCAN" "$DAEMON_NOFILE"
    nap 4
    if daemon_alive; then
        c0=$(cpu_ns) t0=$(now)
        nap "$STEADY"
        c1=$(cpu_ns)
        secs=$(since "$t0")
        idle_cpu=$(awk -v a="$c0" -v b="$c1" -v s="$secs" 'BEGIN { printf "%.3f", (b - a) / (s * 1e9) * 100 }')
        printf '\nreference: the daemon tracking nothing: CPU %s %% over %s s, VmRSS %s MiB, open fds %s\n' \
            "$idle_cpu" "$secs" "$(mib "$(mem_kib VmRSS)")" "$(nfds)"
        RESULTS+=("$(printf '%-28s                                           CPU %6s%%  RSS %6s MiB  HWM %6s MiB  fds %5s' \
            "N=0 (reference)" "$idle_cpu" "$(mib "$(mem_kib VmRSS)")" "$(mib "$(mem_kib VmHWM)")" "$(nfds)")")
        stop_daemon
    fi
    remove_cgroups scale
fi

for n in "${SIZES[@]}"; do
    [ "$n" -gt 0 ] || continue
    run_scale "$n" "$DAEMON_NOFILE" 1
    if [ "$S_STALLED" != 0 ] && [ "${R_SOFT:-0}" -lt "${R_HARD:-0}" ] 2>/dev/null; then
        printf '\nThe run above stalled with RLIMIT_NOFILE soft %s; again with the soft limit raised to the hard one (%s),\n' \
            "$R_SOFT" "$R_HARD"
        printf 'as the daemon could do itself at start:\n'
        run_scale "$n" "$R_HARD" 0
    fi
done

# ---- latency -------------------------------------------------------------------------------

# latency TIMEOUT_MS DIR same|fresh [KSMCTL]: runs bench-idle latency; sets LAT_LINE.
latency() {
    "$BENCH_IDLE" latency "$2" "$LAT_COUNT" "$LAT_GAP_MS" "$LAT_POLL_MS" "$1" "$3" ${4:+"$4"} \
        >"$T/lat.out" 2>"$T/lat.err" {lock_fd}<&- &
    LATPID=$!
    wait "$LATPID"
    LATPID=""
    LAT_LINE=$(grep '^latency' "$T/lat.out")
    [ -n "$LAT_LINE" ] || die "bench-idle latency failed: $(cat "$T/lat.err")"
}
lat_field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }

if [ "$LAT_COUNT" -gt 0 ]; then
    printf '\n=== latency: %d processes started one at a time (gaps 0..%d ms), start -> ksm_merge_any: yes (polled every %d ms) ===\n' \
        "$LAT_COUNT" $((2 * LAT_GAP_MS)) "$LAT_POLL_MS"
    printf '"existing": each born in a matched cgroup that is already populated (a service forking a worker);\n'
    printf '"new cgroup": each born in a matched cgroup made just before it (a VM or container starting).\n'
    if [ "$LAT_BG" -le "$PER_CG" ]; then bg_ncg=1 bg_per=$LAT_BG; else bg_ncg=$((LAT_BG / PER_CG)) bg_per=$PER_CG; fi
    [ "$LAT_BG" -gt 0 ] || bg_ncg=1
    make_cgroups lat "$bg_ncg"

    latency 10000 "$CG/lat/g0000" same "$KSMCTL"
    base_line=$LAT_LINE
    printf 'baseline (no daemon, ksmctl merge --pid right after each start): %s (ms)\n' "${base_line#latency }"
    RESULTS+=("$(printf 'latency baseline (ksmctl merge --pid)    p50 %7s ms  p99 %7s ms  max %7s ms' \
        "$(lat_field p50 "$base_line")" "$(lat_field p99 "$base_line")" "$(lat_field max "$base_line")")")

    for iv in $LAT_INTERVALS; do
        ms=$(awk -v s="$iv" 'BEGIN { v = s + 0; if (s ~ /ms$/) print v; else if (s ~ /s$/) print v * 1000; else print v / 1000 }')
        [ "$LAT_BG" -gt 0 ] && spawn lat "$bg_ncg" "$bg_per"
        T0=$(now)
        start_daemon lat "$iv" "$DAEMON_NOFILE"
        wait_enabled "$LAT_BG" || die "the daemon died"
        [ "$E_STALLED" = 0 ] || die "the daemon did not enable the $LAT_BG background processes ($E_ENABLED)"
        for mode in same fresh; do
            if [ $mode = same ]; then dir=$CG/lat/g0000 what="existing"; else dir=$CG/lat what="new cgroup"; fi
            latency "$(awk -v m="$ms" 'BEGIN { printf "%d", 4 * m + 5000 }')" "$dir" $mode
            daemon_alive || break
            printf 'daemon, rescan_interval %s, %d background processes, %s: %s (ms); p50 %s x baseline\n' \
                "$iv" "$LAT_BG" "$what" "${LAT_LINE#latency }" "$(ratio "$(lat_field p50 "$LAT_LINE")" "$(lat_field p50 "$base_line")")"
            RESULTS+=("$(printf 'latency rescan %-6s %-12s      p50 %7s ms  p99 %7s ms  max %7s ms  timeouts %s' \
                "$iv" "$what" "$(lat_field p50 "$LAT_LINE")" "$(lat_field p99 "$LAT_LINE")" "$(lat_field max "$LAT_LINE")" \
                "$(lat_field timeout "$LAT_LINE")")")
        done
        read -r _ _ _ rescans events <<<"$(dstatus)"
        printf 'daemon: %s rescans, %s cgroup events\n' "${rescans:-?}" "${events:-?}"
        [ -n "$DPID" ] && daemon_alive && stop_daemon
        log_summary
        [ "$LAT_BG" -gt 0 ] && unspawn "$SPAWNER" lat
        find "$CG/lat" -mindepth 1 -maxdepth 1 -name 'f*' -type d -exec rmdir {} \;
    done
    remove_cgroups lat
fi

printf '\n=== summary ===\n'
printf '  %s\n' "${RESULTS[@]}"
[ $crashed -eq 0 ] || die "the daemon crashed (see above)"
exit 0
