/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inject-target - a process for injection tests that checks its own behaviour.
 *
 *   inject-target MODE SECONDS [MIB [SPARSE_GIB]]
 *
 * SPARSE_GIB reserves that much more anonymous memory (MAP_NORESERVE, one page touched), like the
 * shadow of an AddressSanitizer process: unmerging it page by page takes the kernel a long time.
 *
 * Fills MIB MiB (default 8) with duplicate pages (4 patterns) and checksums them, prints
 * "ready PID", runs MODE for SECONDS (or until "quit" on stdin where MODE reads it), checksums
 * again and prints one line:
 *   report mode=M ticks=N eintr=E lines=L checksum=ok|BAD anomalies=A
 * and exits 0 only if there was no anomaly.  An anomaly is anything an injection must not cause:
 * a syscall failing with EINTR where it must not (every mode but epoll, which counts them), a
 * clock_nanosleep tick rate below 70 % of nominal, a worker thread not woken, changed memory.
 *
 * MODE: sleep (clock_nanosleep 10 ms ticks), read (blocking read() on stdin; echoes "got LINE"),
 * poll (poll() on stdin with a timeout), busy (spins, no syscalls), threads (main thread in
 * pthread_join, a timer thread in clock_nanosleep, two workers in futex waits), epoll (one thread
 * in epoll_wait on stdin; EINTR is tolerated and counted), seccomp (an allow-all seccomp filter,
 * then sleep), signal (sleep with a SIGUSR1 handler that counts deliveries; the EINTR a handler
 * causes in clock_nanosleep is expected there and counted, not an anomaly).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static unsigned long ticks, eintr, lines, anomalies;
static volatile sig_atomic_t signals_received;
static int count_signal_eintr;

static void on_usr1(int sig) {
        signals_received++;
}
static struct timespec deadline;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static uint64_t deadline_ns(void) {
        return (uint64_t) deadline.tv_sec * 1000000000ULL + (uint64_t) deadline.tv_nsec;
}

static int remaining_ms(void) {
        uint64_t n = now_ns(), d = deadline_ns();

        return n >= d ? 0 : (int) ((d - n) / 1000000ULL) + 1;
}

static uint64_t checksum(const unsigned char *p, size_t len) {
        uint64_t h = 1469598103934665603ULL;

        for (size_t i = 0; i < len; i += 8) {
                h ^= *(const uint64_t *) (p + i);
                h *= 1099511628211ULL;
        }
        return h;
}

static void anomaly(const char *what) {
        fprintf(stderr, "inject-target: anomaly: %s\n", what);
        anomalies++;
}

/* Handles one line from stdin; returns 1 on "quit" or EOF. */
static int handle_input(int fd) {
        char buf[256];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);

        if (n < 0) {
                if (errno == EINTR)
                        anomaly("read() returned EINTR");
                else
                        anomaly("read() failed");
                return errno == EINTR ? 0 : 1;
        }
        if (n == 0)
                return 1;
        buf[n] = 0;
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                lines++;
                if (strcmp(line, "quit") == 0)
                        return 1;
                printf("got %s\n", line);
                fflush(stdout);
        }
        return 0;
}

static void run_sleep(void) {
        const struct timespec tick = { 0, 10 * 1000000L };
        uint64_t t0 = now_ns(), seconds;

        while (now_ns() < deadline_ns()) {
                int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &tick, NULL);

                if (r == EINTR && count_signal_eintr)
                        eintr++;
                else if (r == EINTR)
                        anomaly("clock_nanosleep() returned EINTR");
                else if (r != 0)
                        anomaly("clock_nanosleep() failed");
                ticks++;
        }
        seconds = (now_ns() - t0) / 1000000ULL;
        if (ticks * 10 < seconds * 70 / 100)
                anomaly("tick rate below 70 % of 100 Hz");
}

static void run_read(void) {
        while (!handle_input(STDIN_FILENO))
                ;
}

static void run_poll(void) {
        while (remaining_ms() > 0) {
                struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
                int r = poll(&p, 1, remaining_ms());

                if (r < 0) {
                        anomaly(errno == EINTR ? "poll() returned EINTR" : "poll() failed");
                        continue;
                }
                if (r > 0 && handle_input(STDIN_FILENO))
                        break;
        }
}

static void run_busy(void) {
        volatile unsigned long spin = 0;

        while (now_ns() < deadline_ns())
                for (int i = 0; i < 10000; i++)
                        spin++;
        ticks = spin / 10000;
}

static void run_epoll(void) {
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN };

        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) < 0) {
                anomaly("epoll setup failed");
                return;
        }
        while (remaining_ms() > 0) {
                int r = epoll_wait(ep, &ev, 1, remaining_ms());

                if (r < 0) {
                        if (errno == EINTR)
                                eintr++;        /* tolerated: the one EINTR the result warns about */
                        else
                                anomaly("epoll_wait() failed");
                        continue;
                }
                if (r > 0 && handle_input(STDIN_FILENO))
                        break;
        }
        close(ep);
}

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int released, woken;

static void *worker(void *arg) {
        pthread_mutex_lock(&mtx);
        while (!released)
                pthread_cond_wait(&cond, &mtx);
        woken++;
        pthread_mutex_unlock(&mtx);
        return NULL;
}

static void *timer_thread(void *arg) {
        run_sleep();
        pthread_mutex_lock(&mtx);
        released = 1;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&mtx);
        return NULL;
}

static void run_threads(void) {
        pthread_t w[2], t;

        for (int i = 0; i < 2; i++)
                pthread_create(&w[i], NULL, worker, NULL);
        pthread_create(&t, NULL, timer_thread, NULL);
        pthread_join(t, NULL);          /* the main thread waits in a futex */
        for (int i = 0; i < 2; i++)
                pthread_join(w[i], NULL);
        if (woken != 2)
                anomaly("a worker thread was not woken");
}

static int install_allow_all_seccomp(void) {
        struct sock_filter insns[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
        struct sock_fprog prog = { .len = 1, .filter = insns };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -1;
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

int main(int argc, char *argv[]) {
        const char *mode;
        unsigned long seconds, mib = 8;
        long page = sysconf(_SC_PAGESIZE);
        unsigned char *buf;
        uint64_t before, after;
        size_t len;

        if (argc < 3) {
                fprintf(stderr, "usage: inject-target MODE SECONDS [MIB]\n");
                return 2;
        }
        mode = argv[1];
        seconds = strtoul(argv[2], NULL, 10);
        if (argc > 3)
                mib = strtoul(argv[3], NULL, 10);
        if (argc > 4) {
                size_t sparse = (size_t) strtoul(argv[4], NULL, 10) << 30;
                char *p = mmap(NULL, sparse, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

                if (p == MAP_FAILED) {
                        perror("inject-target: sparse mmap");
                        return 1;
                }
                p[0] = 1;
        }
        if (seconds == 0 || mib == 0 || mib > 1024) {
                fprintf(stderr, "inject-target: bad SECONDS or MIB\n");
                return 2;
        }

        len = mib << 20;
        buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED)
                return 1;
        for (size_t i = 0; i < len / (size_t) page; i++)
                memset(buf + i * (size_t) page, (int) (i % 4) + 1, (size_t) page);
        before = checksum(buf, len);

        if (strcmp(mode, "seccomp") == 0 && install_allow_all_seccomp() < 0) {
                perror("inject-target: seccomp");
                return 1;
        }

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t) seconds;
        printf("ready %d\n", (int) getpid());
        fflush(stdout);

        if (strcmp(mode, "signal") == 0) {
                struct sigaction sa = { .sa_handler = on_usr1 };

                sigaction(SIGUSR1, &sa, NULL);
                count_signal_eintr = 1;
        }

        if (strcmp(mode, "sleep") == 0 || strcmp(mode, "seccomp") == 0 || strcmp(mode, "signal") == 0)
                run_sleep();
        else if (strcmp(mode, "read") == 0)
                run_read();
        else if (strcmp(mode, "poll") == 0)
                run_poll();
        else if (strcmp(mode, "busy") == 0)
                run_busy();
        else if (strcmp(mode, "threads") == 0)
                run_threads();
        else if (strcmp(mode, "epoll") == 0)
                run_epoll();
        else {
                fprintf(stderr, "inject-target: unknown mode '%s'\n", mode);
                return 2;
        }

        after = checksum(buf, len);
        if (after != before)
                anomaly("memory checksum changed");
        if (count_signal_eintr && eintr > (unsigned long) signals_received)
                anomaly("more EINTRs than signals");
        printf("report mode=%s ticks=%lu eintr=%lu lines=%lu signals=%d checksum=%s anomalies=%lu\n",
               mode, ticks, eintr, lines, (int) signals_received, after == before ? "ok" : "BAD", anomalies);
        fflush(stdout);
        return anomalies == 0 ? 0 : 1;
}
