#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `ksmctl top` on the real kernel.  Three ksm-filler processes in a cgroup of their own merge;
# `top --json` shows them with plausible savings and a cgroup roll-up that is the sum of its
# processes; `--once` prints the header and rows; the live view on a pseudo-terminal draws,
# switches to cgroups on `c` and back, sorts, quits on `q` within a second with the terminal
# restored (also on Ctrl-C, SIGTERM, after a resize and after Ctrl-Z); without a terminal it prints
# one plain snapshot.  All of it without the daemon, then with it (tuner off), then against a fake
# daemon whose ListProcesses carries merges/unmerges counters (what eBPF statistics will give).
source "$(dirname "$0")/lib.sh"
require_root
require_ksm
[ -r /proc/self/ksm_stat ] || skip "kernel has no /proc/PID/ksm_stat (< 6.1)"
command -v python3 >/dev/null || skip "python3 not installed"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"
ksm_save_knobs

CGNAME=ksmt-top-$$
CG=$cg2/$CGNAME
mkdir "$CG" || fail "cannot create $CG"
on_exit "rmdir '$CG' 2>/dev/null"
on_exit "for p in \$(cat '$CG/cgroup.procs' 2>/dev/null); do kill -KILL \$p 2>/dev/null; done; sleep 0.2"
for i in 1 2 3; do
    start_filler "f$i" --prctl --distinct=4 16
    v="FILLER_PID_f$i"
    echo "${!v}" >"$CG/cgroup.procs" || fail "cannot move f$i into $CG"
done
fillers="$FILLER_PID_f1 $FILLER_PID_f2 $FILLER_PID_f3"

[ "$(sed -n 's/.*\[\(.*\)\].*/\1/p' $KSM_DIR/advisor_mode 2>/dev/null)" = scan-time ] && ksm_set advisor_mode none
ksm_set pages_to_scan 20000
ksm_set sleep_millisecs 10
ksm_set run 1
merged() { for p in $fillers; do [ "$(ksm_stat_field "$p" ksm_merging_pages)" -gt 3000 ] || return 1; done; }
check "ksmd merged the three fillers (16 MiB of 4 distinct pages each) within 60 s" wait_for 60 merged

# ---- the pseudo-terminal driver ---------------------------------------------------------------
cat >"$T/pty-top.py" <<'PY'
# pty-top.py SCENARIO CMD...: runs CMD on a 30x120 pseudo-terminal and drives it.  SCENARIO: keys
# (c, c, m, then q), sigint (Ctrl-C typed), sigterm, winch (resized to 20x60, then q), tstp (Ctrl-Z,
# SIGCONT, q).  Prints one "finding value" line per check.
import fcntl, os, re, select, signal, struct, sys, termios, time

scenario, cmd = sys.argv[1], sys.argv[2:]
master, slave = os.openpty()

def setsize(rows, cols):
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

setsize(30, 120)
before = termios.tcgetattr(slave)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(master)
    os.execvp(cmd[0], cmd)
out = b""

def pump(seconds):
    global out
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([master], [], [], 0.02)
        if r:
            try:
                out += os.read(master, 65536)
            except OSError:
                return

def read_until(pattern, timeout=10.0):
    global out
    start, end = len(out), time.time() + timeout
    while time.time() < end:
        pump(0.02)
        if re.search(pattern, out[start:]):
            return True
    return False

def yn(b):
    return "yes" if b else "no"

print("drew", yn(read_until(rb"PID COMM")))
print("raw", yn(not (termios.tcgetattr(slave)[3] & (termios.ICANON | termios.ECHO))))
print("alternate-screen", yn(b"\x1b[?1049h" in out))
if scenario == "keys":
    os.write(master, b"c")
    print("cgroups", yn(read_until(rb"PROCS +SAVED")))
    os.write(master, b"c")
    print("processes-again", yn(read_until(rb"PID COMM")))
    os.write(master, b"m")
    print("sort-merges", yn(read_until(rb"sorted by merges")))
    os.write(master, b"q")
elif scenario == "sigint":
    os.write(master, b"\x03")
elif scenario == "sigterm":
    os.kill(pid, signal.SIGTERM)
elif scenario == "winch":
    setsize(20, 60)
    os.kill(pid, signal.SIGWINCH)
    mark = len(out)
    read_until(rb"\x1b\[J", 5)
    pump(0.3)
    frame = out[mark:]
    frame = frame[frame.rfind(b"\x1b[H"):]
    lines = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", frame).replace(b"\r", b"").split(b"\n")
    print("max-width", max(len(l) for l in lines))
    print("rows", len(lines))
    os.write(master, b"q")
elif scenario == "tstp":
    os.write(master, b"\x1a")
    stopped = False
    for _ in range(100):
        p, st = os.waitpid(pid, os.WUNTRACED | os.WNOHANG)
        if p == pid and os.WIFSTOPPED(st):
            stopped = True
            break
        time.sleep(0.01)
    print("stopped", yn(stopped))
    print("restored-while-stopped", yn(termios.tcgetattr(slave) == before))
    os.kill(pid, signal.SIGCONT)
    print("redrew-after-cont", yn(read_until(rb"PID COMM", 5)))
    os.write(master, b"q")
t0 = time.time()
while True:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p == pid:
        break
    if time.time() - t0 > 5:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("exit timeout")
        sys.exit(0)
    pump(0.01)
print("exit", os.waitstatus_to_exitcode(st))
print("took-ms", int((time.time() - t0) * 1000))
pump(0.1)
print("termios-restored", yn(termios.tcgetattr(slave) == before))
print("screen-restored", yn(out.rfind(b"\x1b[?1049l") > out.rfind(b"\x1b[?1049h") and
                            out.rfind(b"\x1b[?25h") > out.rfind(b"\x1b[?25l")))
PY

jqe() { jq -e "$@" >/dev/null; }

# found FILE KEY VALUE: the driver printed "KEY VALUE"
found() { grep -qx "$2 $3" "$1"; }

# interactive WHAT ARGS...: every pty scenario against `ksmctl ARGS top -d 0.5`
interactive() {
    local what=$1 s f ms
    shift
    for s in keys sigint sigterm winch tstp; do
        f=$T/pty-$what-$s
        python3 "$T/pty-top.py" $s "$KSMCTL" "$@" top -d 0.5 >"$f" 2>&1
        found "$f" drew yes || fail "$what, $s: the live view did not draw: $(tr '\n' ' ' <"$f")"
        found "$f" raw yes || fail "$what, $s: the terminal was not in non-canonical mode without echo"
        found "$f" alternate-screen yes || fail "$what, $s: no alternate screen"
        case $s in
        keys)
            found "$f" cgroups yes || fail "$what: 'c' did not switch to the cgroup view"
            found "$f" processes-again yes || fail "$what: a second 'c' did not switch back"
            found "$f" sort-merges yes || fail "$what: 'm' did not sort by merges" ;;
        winch)
            [ "$(sed -n 's/^max-width //p' "$f")" -le 60 ] || fail "$what: after a resize to 60 columns a line is wider: $(grep max-width "$f")"
            [ "$(sed -n 's/^rows //p' "$f")" -le 20 ] || fail "$what: after a resize to 20 rows the frame has more: $(grep rows "$f")" ;;
        tstp)
            found "$f" stopped yes || fail "$what: Ctrl-Z did not stop it"
            found "$f" restored-while-stopped yes || fail "$what: the terminal was not restored while stopped"
            found "$f" redrew-after-cont yes || fail "$what: no redraw after SIGCONT" ;;
        esac
        found "$f" exit 0 || fail "$what, $s: exit status not 0: $(tr '\n' ' ' <"$f")"
        ms=$(sed -n 's/^took-ms //p' "$f")
        [ "$ms" -lt 1000 ] || fail "$what, $s: took $ms ms to quit"
        found "$f" termios-restored yes || fail "$what, $s: terminal settings not restored"
        found "$f" screen-restored yes || fail "$what, $s: cursor or main screen not restored"
        pass "$what, live view on a pty, $s: drew, exit 0 after $ms ms, terminal restored"
    done
}

# snapshots WHAT ARGS...: --json, --once and a pipe, checked against ksm_stat
snapshots() {
    local what=$1 j=$T/$1.json p
    shift
    "$KSMCTL" "$@" top --json -d 0.5 >"$j" 2>"$T/$what.err" || fail "$what: top --json failed: $(cat "$T/$what.err")"
    check "$what: top --json is one valid JSON object" jqe 'type == "object"' "$j"
    check "$what: measured over about 0.5 s" jqe '.interval_usec >= 450000 and .interval_usec < 5000000' "$j"
    for p in $fillers; do
        local m
        m=$(ksm_stat_field "$p" ksm_merging_pages)
        jq -e --argjson p "$p" --argjson m "$m" '.page_size as $ps | .processes[] | select(.pid == $p) |
            .comm == "ksm-filler" and .cgroup == "/'"$CGNAME"'" and
            (.merging_pages - $m | fabs) <= ($m / 100 + 8) and .merging_pages > 3000 and .merging_pages <= 4096 + 512 and
            .saved_bytes == (.merging_pages + .zero_pages) * $ps and .profit_bytes > 0 and
            (.merges_per_sec | type) == "number" and .merges_per_sec >= 0 and .unmerges_per_sec >= 0' \
            "$j" >/dev/null || fail "$what: PID $p (ksm_merging_pages $m) missing or implausible: $(jq -c --argjson p "$p" '.processes[] | select(.pid == $p)' "$j")"
    done
    pass "$what: the three fillers with 3000-4608 merging pages (16 MiB plus a few pages of their own) (agreeing with ksm_stat), saved = merging pages x page size, rates >= 0"
    check "$what: the cgroup roll-up of $CGNAME: 3 processes, saved and merging the sums of theirs" \
        jqe '(.processes | map(select(.cgroup == "/'"$CGNAME"'"))) as $ps | .cgroups[] | select(.cgroup == "/'"$CGNAME"'") |
            .processes == 3 and .saved_bytes == ($ps | map(.saved_bytes) | add) and
            .merging_pages == ($ps | map(.merging_pages) | add) and .profit_bytes == ($ps | map(.profit_bytes) | add)' "$j"
    check "$what: every cgroup row is the sum of its processes" \
        jqe '. as $r | all(.cgroups[]; . as $g | ($r.processes | map(select(.cgroup == $g.cgroup))) as $ps |
            $g.processes == ($ps | length) and $g.saved_bytes == ($ps | map(.saved_bytes) | add))' "$j"
    check "$what: processes sorted by saved bytes, largest first" jqe '[.processes[].saved_bytes] | . == (sort | reverse)' "$j"
    check "$what: host figures (KSM merge, pages sharing, ksmd CPU, scan rate, full scans)" \
        jqe '.host | .run_mode == "merge" and .pages_sharing > 0 and .saved_bytes >= .pages_sharing * 4096 and
            (.ksmd_cpu_percent | type) == "number" and .pages_scanned_per_sec >= 0 and .full_scans > 0' "$j"

    "$KSMCTL" "$@" top --json -d 0 --sort=pid >"$T/$what-0.json" || fail "$what: top --json -d 0 failed"
    check "$what: -d 0 takes one sample: no interval, no rates" \
        jqe '.interval_usec == 0 and all(.processes[]; .merges_per_sec == null and .rate_source == null) and .host.ksmd_cpu_percent == null' "$T/$what-0.json"
    check "$what: --sort=pid sorts by PID" jqe '.sort == "pid" and ([.processes[].pid] | . == sort)' "$T/$what-0.json"

    "$KSMCTL" "$@" top --once -d 0.3 >"$T/$what.once" 2>&1 || fail "$what: top --once failed: $(cat "$T/$what.once")"
    check "$what: --once prints the header" grep -q '^ksmctl top - .*over .*KSM merge' "$T/$what.once"
    check "$what: --once prints ksmd's CPU and the time per full scan" grep -q '^ksmd CPU [0-9.]* %; scanning [0-9]* pages/s; time per full scan' "$T/$what.once"
    check "$what: --once prints the process table with the fillers" \
        sh -c "grep -q '^ *PID COMM .*SAVED .*MERGES/s' '$T/$what.once' && [ \$(grep -Ec '^ *($(tr ' ' '|' <<<"$fillers")) ksm-filler ' '$T/$what.once') -eq 3 ]"
    check "$what: --once prints the cgroup table with $CGNAME" \
        sh -c "grep -q '^ PROCS ' '$T/$what.once' && grep -Eq '^ +3 .*/$CGNAME\$' '$T/$what.once'"
    check "$what: --once writes no terminal escapes" sh -c "! grep -q \$'\\033' '$T/$what.once'"

    "$KSMCTL" "$@" top -d 0.3 </dev/null >"$T/$what.pipe" 2>"$T/$what.pipe.err"
    check "$what: not a terminal: exit 0, one plain snapshot like --once" \
        sh -c "[ $? -eq 0 ] && grep -q '^ *PID COMM' '$T/$what.pipe' && ! grep -q \$'\\033' '$T/$what.pipe'"
}

# ---- usage errors -----------------------------------------------------------------------------
usage() {   # usage PATTERN ARGS...: exit 2 and one line on stderr matching PATTERN
    local pattern=$1 rc
    shift
    "$KSMCTL" "$@" >"$T/u.out" 2>"$T/u.err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$T/u.err")" -eq 1 ] && grep -Eq -- "$pattern" "$T/u.err" ||
        fail "'ksmctl $*': exit $rc, stderr: $(cat "$T/u.err")"
    pass "ksmctl $* -> exit 2: $(cat "$T/u.err")"
}
usage "invalid --interval 'soon'" top --interval=soon
usage "invalid --interval '2h'" top -d 2h
usage "invalid --sort 'cpu', expected saved, profit, merges, unmerges, pid or name" top --sort=cpu
usage "top takes --once or --json, not both" top --once --json
usage "--interval, --once and --sort apply to 'top' only" ps --once
usage "unexpected argument 'extra' after 'top'" top extra
python3 -c 'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))' \
    "$KSMCTL" top -d 50ms >"$T/short.out" 2>&1
check "-d 50ms on a terminal: exit 2, at least 100ms for the live view" \
    sh -c "[ $? -eq 2 ] && grep -q 'interval must be at least 100ms for the live view' '$T/short.out'"
"$KSMCTL" --help >"$T/help"
check "--help lists top and its options" sh -c "grep -q '^  top ' '$T/help' && grep -q -- '--interval=TIME' '$T/help' && grep -q -- '--once' '$T/help'"

# ---- without the daemon -----------------------------------------------------------------------
snapshots nodaemon --socket "$T/none.sock"
check "no daemon: daemon_reachable false, rates from ksm_merging_pages, no tuner" \
    jqe '.daemon_reachable == false and .rate_source == "merging_pages" and .tuner == null and
           all(.processes[]; .daemon == null and .merges == null)' "$T/nodaemon.json"
check "no daemon: --once says so and names the rate source" \
    grep -q 'daemon not reachable; rates from changes of ksm_merging_pages' "$T/nodaemon.once"
interactive nodaemon --socket "$T/none.sock"

# ---- with the daemon (tuner off: it leaves the knobs alone) -------------------------------------
mkdir "$T/p"
printf '{ "cgroups": ["/%s"] }\n' "$CGNAME" >"$T/p/50-top.json"
printf '{ "sample_interval": "10s", "rescan_interval": "300ms", "control_socket": "%s", "tuner": { "mode": "off" } }\n' \
    "$T/ctl.sock" >"$T/cfg.json"
"$KSMTUNED_NG" --config "$T/cfg.json" --policy-dir "$T/p" --log-target=stderr 2>"$T/daemon.err" &
daemon=$!
on_exit "kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null"
tracked() { "$KSMCTL" --socket "$T/ctl.sock" ps --json 2>/dev/null | jq -e --argjson p "$FILLER_PID_f1" \
    '.processes[] | select(.pid == $p) | .daemon.policy == "50-top"' >/dev/null; }
check "the daemon tracks the fillers under policy 50-top" wait_for 20 tracked
snapshots daemon --socket "$T/ctl.sock"
check "daemon: reachable, tuner off, each filler's POLICY/STATE from ListProcesses" \
    jqe '.daemon_reachable == true and .tuner.mode == "off" and
           ([.processes[] | select(.cgroup == "/'"$CGNAME"'") | .daemon | startswith("50-top/")] | length == 3)' "$T/daemon.json"
check "daemon: --once shows the POLICY/STATE column and the tuner" \
    sh -c "grep -q 'POLICY/STATE' '$T/daemon.once' && grep -q 'daemon answers, tuner off/' '$T/daemon.once' && grep -Eq '^ *$FILLER_PID_f1 ksm-filler .* 50-top/' '$T/daemon.once'"
interactive daemon --socket "$T/ctl.sock"
kill -TERM $daemon
wait $daemon
check "the daemon exits cleanly" test $? -eq 0

# ---- a daemon with merge counters (the eBPF statistics' place in ListProcesses) -----------------
cat >"$T/fake-daemon.py" <<'PY'
# A control socket that answers ListProcesses with the fillers and growing merges/unmerges
# counters (100 and 10 per second), and GetStatus with a tuner and a statistics source; everything
# else MethodNotFound.
import json, os, socket, sys, time
path, pids = sys.argv[1], [int(p) for p in sys.argv[2:]]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
t0 = time.monotonic()
while True:
    c, _ = s.accept()
    buf = b""
    while not buf.endswith(b"\0"):
        d = c.recv(65536)
        if not d:
            break
        buf += d
    method = json.loads(buf.rstrip(b"\0") or b"{}").get("method")
    k = time.monotonic() - t0
    if method == "io.ksmtuned.Manager.ListProcesses":
        reply = {"parameters": {"processes": [
            {"pid": p, "comm": "ksm-filler", "policy": "fake", "state": "enabled", "wasted": False,
             "merges": 1000 + int(k * 100), "unmerges": int(k * 10)} for p in pids]}}
    elif method == "io.ksmtuned.Manager.GetStatus":
        reply = {"parameters": {"tuner": {"mode": "adaptive", "phase": "maintain"}, "metrics": {"source": "bpf"}}}
    else:
        reply = {"error": "org.varlink.service.MethodNotFound", "parameters": {}}
    c.sendall(json.dumps(reply).encode() + b"\0")
    c.close()
PY
python3 "$T/fake-daemon.py" "$T/fake.sock" $fillers &
fake=$!
on_exit "kill $fake 2>/dev/null; wait $fake 2>/dev/null"
wait_for 10 test -S "$T/fake.sock" || fail "the fake daemon did not start"
"$KSMCTL" --socket "$T/fake.sock" top --json -d 1 >"$T/fake.json" || fail "top --json against the fake daemon failed"
check "counters: the rates come from the daemon's counters (100 merges/s, 10 unmerges/s, within 20 %)" \
    jqe '[.processes[] | select(.cgroup == "/'"$CGNAME"'")] | length == 3 and
           all(.[]; .rate_source == "counters" and .merges_per_sec >= 80 and .merges_per_sec <= 120 and
                    .unmerges_per_sec >= 8 and .unmerges_per_sec <= 12 and .merges >= 1000)' "$T/fake.json"
check "counters: rate_source says counters when every process has them, mixed otherwise" \
    jqe '.rate_source == (if all(.processes[]; .merges != null) then "counters" else "mixed" end)' "$T/fake.json"
check "counters: the roll-up adds the counter rates (3 x 100/s)" \
    jqe '.cgroups[] | select(.cgroup == "/'"$CGNAME"'") | .rate_source == "counters" and .merges_per_sec >= 240 and .merges_per_sec <= 360' "$T/fake.json"
"$KSMCTL" --socket "$T/fake.sock" top --once -d 0.5 >"$T/fake.once"
check "counters: the header names the source of the rates and the daemon's tuner and statistics" \
    grep -Eq "daemon answers, tuner adaptive/maintain, statistics bpf; rates from the daemon's (merge counters|counters and ksm_merging_pages)" "$T/fake.once"
check "counters: --json names the daemon's tuner and statistics source" jqe '.tuner.mode == "adaptive" and .daemon_statistics == "bpf"' "$T/fake.json"
