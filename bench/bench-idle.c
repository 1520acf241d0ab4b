/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-idle - tiny idle processes for bench-daemon-scale.sh, and the clock for its latency part.
 *
 *   bench-idle spawn DIR NCG PER
 *       Starts NCG * PER children; child i is born in the cgroup DIR/gNNNN (NNNN = i / PER, the
 *       directories must exist) by clone3(CLONE_INTO_CGROUP), so it is in a matched cgroup from
 *       its first instruction.  Each child only pause()s.  Prints "ready N" once all are
 *       running, then waits; SIGTERM/SIGINT make it SIGKILL every child, reap them all and exit.
 *       If it dies otherwise, the children die with it (PR_SET_PDEATHSIG), reaped by init.
 *       Children are forked, never exec'd: a few pages of private memory each.
 *
 *   bench-idle count DIR
 *       Prints "MERGE_ANY TOTAL": how many processes in DIR and the cgroups directly below it have
 *       "ksm_merge_any: yes" in /proc/PID/ksm_stat, of how many.
 *
 *   bench-idle latency DIR COUNT GAP_MS POLL_MS TIMEOUT_MS same|fresh [KSMCTL]
 *       Starts COUNT children one at a time, each born in cgroup DIR ("same"), or in a new cgroup
 *       DIR/fNNNN made just before it ("fresh": a VM or container starting; the caller removes
 *       them), with random gaps uniform in
 *       [0, 2 * GAP_MS] ms, and polls /proc/PID/ksm_stat of every child not yet mergeable every
 *       POLL_MS ms.  Latency = CLOCK_MONOTONIC from just before clone3 to the first poll that
 *       reads "ksm_merge_any: yes" (at most POLL_MS late).  With KSMCTL, each child is made
 *       mergeable right after its start by `KSMCTL merge --pid PID` (the baseline: the engine
 *       without the daemon).  Prints one line
 *         latency n=.. ok=.. timeout=.. min=.. p50=.. p90=.. p99=.. max=.. mean=..   (ms)
 *       then kills every child.
 *
 * Exit status: 0, or 1 on a setup error (message on stderr).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sched.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct clone_args_v2 {                 /* clone3's struct up to .cgroup (CLONE_ARGS_SIZE_VER2) */
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                set_tid_size, cgroup;
};

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms) {
        struct timespec ts = { .tv_sec = (time_t) (ms / 1e3), .tv_nsec = (long) ((ms - (time_t) (ms / 1e3) * 1e3) * 1e6) };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* The child's whole life: raw system calls only (it runs on a copy of the parent's memory). */
static void __attribute__((noreturn)) idle_child(pid_t parent) {
        syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (syscall(SYS_getppid) != parent)
                syscall(SYS_exit_group, 0);
        for (;;)
                syscall(SYS_pause);
}

/* Starts one idle child born in the cgroup open at @cgfd.  Returns its PID or -1. */
static pid_t spawn_into(int cgfd) {
        struct clone_args_v2 a = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t) cgfd };
        pid_t parent = getpid();
        long r;

        r = syscall(SYS_clone3, &a, sizeof(a));
        if (r == 0)
                idle_child(parent);
        return (pid_t) r;
}

static int open_cgroup(const char *dir, const char *sub) {
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                fprintf(stderr, "bench-idle: cannot open cgroup %s: %m\n", path);
        return fd;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

static int do_spawn(const char *dir, long ncg, long per) {
        struct sigaction sa = { .sa_handler = on_signal };
        pid_t *pids = calloc(ncg > 0 && per > 0 ? ncg * per : 1, sizeof(pid_t));
        long n = 0;

        if (ncg <= 0 || per <= 0 || !pids) {
                fprintf(stderr, "bench-idle: NCG and PER must be positive\n");
                return 1;
        }
        /* Default-kill until every child exists; the handler is for the waiting phase. */
        for (long g = 0; g < ncg; g++) {
                char sub[32];
                int fd;

                snprintf(sub, sizeof(sub), "g%04ld", g);
                fd = open_cgroup(dir, sub);
                if (fd < 0)
                        return 1;
                for (long i = 0; i < per; i++) {
                        if ((pids[n] = spawn_into(fd)) < 0) {
                                fprintf(stderr, "bench-idle: clone3 into %s/%s failed after %ld children: %m\n", dir, sub, n);
                                return 1;
                        }
                        n++;
                }
                close(fd);
        }
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        printf("ready %ld\n", n);
        fflush(stdout);
        while (!stop)
                pause();
        /* Like a service stopping: its parent reaps every child (init may be slow at 10,000). */
        for (long i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        while (wait(NULL) > 0 || errno == EINTR)
                ;
        free(pids);
        return 0;
}

/* 1: ksm_merge_any yes, 0: no, -1: gone/unreadable. */
static int merge_any(pid_t pid) {
        char path[64], buf[512];
        ssize_t l;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/ksm_stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        l = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (l <= 0)
                return -1;
        buf[l] = 0;
        return strstr(buf, "ksm_merge_any: yes") != NULL;
}

static void count_procs(const char *path, long *yes, long *total) {
        char *line = NULL;
        size_t sz = 0;
        FILE *f = fopen(path, "re");

        if (!f)
                return;
        while (getline(&line, &sz, f) > 0) {
                pid_t pid = (pid_t) atol(line);

                if (pid <= 0)
                        continue;
                (*total)++;
                if (merge_any(pid) == 1)
                        (*yes)++;
        }
        free(line);
        fclose(f);
}

static int do_count(const char *dir) {
        char path[4096];
        long yes = 0, total = 0;
        struct dirent *de;
        DIR *d = opendir(dir);

        if (!d) {
                fprintf(stderr, "bench-idle: cannot open %s: %m\n", dir);
                return 1;
        }
        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        count_procs(path, &yes, &total);
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        snprintf(path, sizeof(path), "%s/%s/cgroup.procs", dir, de->d_name);
                        count_procs(path, &yes, &total);
                }
        closedir(d);
        printf("%ld %ld\n", yes, total);
        return 0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return x < y ? -1 : x > y;
}

static double pct(const double *s, long n, double p) {
        long k = (long) (p * n + 0.999999) - 1;         /* nearest rank */

        return s[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static int run_ksmctl(const char *ksmctl, pid_t pid) {
        char arg[32];
        pid_t c;
        int st;

        snprintf(arg, sizeof(arg), "%d", (int) pid);
        c = fork();
        if (c < 0)
                return -1;
        if (c == 0) {
                int null = open("/dev/null", O_WRONLY);

                if (null >= 0) {
                        dup2(null, 1);
                        dup2(null, 2);
                }
                execl(ksmctl, ksmctl, "merge", "--pid", arg, (char *) NULL);
                _exit(127);
        }
        if (waitpid(c, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int do_latency(const char *dir, long count, double gap_ms, double poll_ms, double timeout_ms, bool fresh,
                      const char *ksmctl) {
        pid_t *pid = calloc(count, sizeof(pid_t));
        double *t0 = calloc(count, sizeof(double)), *lat = calloc(count, sizeof(double)), *s = calloc(count, sizeof(double));
        int *state = calloc(count, sizeof(int));       /* 0 pending, 1 done, 2 timed out/gone */
        long started = 0, ok = 0, failed = 0, ctl_errors = 0;
        double next, sum = 0;
        int cgfd;

        if (!pid || !t0 || !lat || !s || !state || count <= 0 || poll_ms <= 0) {
                fprintf(stderr, "bench-idle: bad arguments or out of memory\n");
                return 1;
        }
        cgfd = open_cgroup(dir, NULL);
        if (cgfd < 0)
                return 1;
        srand48((long) getpid() ^ (long) now_ms());
        next = now_ms() + drand48() * 2 * gap_ms;

        while (ok + failed < count) {
                double t = now_ms();

                if (started < count && t >= next) {
                        int fd = cgfd;

                        if (fresh) {
                                char sub[32];

                                snprintf(sub, sizeof(sub), "f%04ld", started);
                                if (mkdirat(cgfd, sub, 0755) < 0 || (fd = openat(cgfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                                        fprintf(stderr, "bench-idle: cannot make cgroup %s/%s: %m\n", dir, sub);
                                        count = started;
                                        break;
                                }
                        }
                        t0[started] = now_ms();
                        pid[started] = spawn_into(fd);
                        if (fd != cgfd)
                                close(fd);
                        if (pid[started] < 0) {
                                fprintf(stderr, "bench-idle: clone3 failed: %m\n");
                                count = started;
                                break;
                        }
                        if (ksmctl && run_ksmctl(ksmctl, pid[started]) != 0)
                                ctl_errors++;
                        started++;
                        next = t + drand48() * 2 * gap_ms;
                }
                t = now_ms();
                for (long i = 0; i < started; i++) {
                        int r;

                        if (state[i] != 0)
                                continue;
                        r = merge_any(pid[i]);
                        if (r == 1) {
                                lat[i] = now_ms() - t0[i];
                                state[i] = 1;
                                ok++;
                        } else if (r < 0 || t - t0[i] > timeout_ms) {
                                state[i] = 2;
                                failed++;
                        }
                }
                if (ok + failed < count)
                        sleep_ms(poll_ms);
        }

        for (long i = 0; i < started; i++)
                kill(pid[i], SIGKILL);
        for (long i = 0; i < started; i++)
                waitpid(pid[i], NULL, 0);

        for (long i = 0, k = 0; i < count; i++)
                if (state[i] == 1) {
                        s[k++] = lat[i];
                        sum += lat[i];
                }
        qsort(s, ok, sizeof(double), cmp_double);
        if (ok == 0)
                printf("latency n=%ld ok=0 timeout=%ld\n", count, failed);
        else
                printf("latency n=%ld ok=%ld timeout=%ld min=%.1f p50=%.1f p90=%.1f p99=%.1f max=%.1f mean=%.1f ksmctl_errors=%ld\n",
                       count, ok, failed, s[0], pct(s, ok, 0.50), pct(s, ok, 0.90), pct(s, ok, 0.99), s[ok - 1],
                       sum / ok, ctl_errors);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc == 5 && strcmp(argv[1], "spawn") == 0)
                return do_spawn(argv[2], atol(argv[3]), atol(argv[4]));
        if (argc == 3 && strcmp(argv[1], "count") == 0)
                return do_count(argv[2]);
        if ((argc == 8 || argc == 9) && strcmp(argv[1], "latency") == 0 &&
            (strcmp(argv[7], "same") == 0 || strcmp(argv[7], "fresh") == 0))
                return do_latency(argv[2], atol(argv[3]), atof(argv[4]), atof(argv[5]), atof(argv[6]),
                                  strcmp(argv[7], "fresh") == 0, argc == 9 ? argv[8] : NULL);
        fprintf(stderr, "usage: bench-idle spawn DIR NCG PER | count DIR |\n"
                        "       latency DIR COUNT GAP_MS POLL_MS TIMEOUT_MS same|fresh [KSMCTL]\n");
        return 1;
}
