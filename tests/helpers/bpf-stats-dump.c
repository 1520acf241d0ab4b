/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bpf-stats-dump - opens the BPF statistics library (include/ksm-bpf.h) and prints what it sees,
 * as JSON, one object per line.  For tests and benchmarks.
 *
 *   bpf-stats-dump [--seconds=N] [--exec] [--no-sync] [--max-processes=N]
 *
 * Prints {"ready":true,"features":[...]} once attached, or {"ready":false,"errno":N,"reason":"..."}
 * and exits 3 when the library cannot be opened (e.g. "built without BPF support").  Then reads
 * commands from stdin, one per line:
 *   dump             {"processes":[{"tgid":..,"merges":..,...}],"scans":[...],"advisor":{...},"counters":{...}}
 *   pid PID          {"process":{...}} or {"process":null}
 *   forget PID       {"forgot":PID,"result":0|-errno}
 *   watch PATH       {"watch":"PATH","cgroup_id":N,"result":0|-errno}
 * With --exec every exec event is printed as it arrives: {"exec":{"tgid":..,"ppid":..,"cgroup_id":..,"comm":".."}}.
 * Exits after a final dump when stdin closes, on SIGTERM/SIGINT, or after --seconds.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ksm-bpf.h"

static void print_string(const char *s) {
        putchar('"');
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static void print_process(const KsmBpfProcess *p) {
        printf("{\"tgid\":%d,\"merges\":%" PRIu64 ",\"zero_merges\":%" PRIu64 ",\"removals\":%" PRIu64
               ",\"merged_pages\":%" PRIu64 ",\"last_event_usec\":%" PRIu64 ",\"last_sync_usec\":%" PRIu64
               ",\"exited\":%s}",
               (int) p->tgid, p->merges, p->zero_merges, p->removals, p->merged_pages,
               p->last_event_usec, p->last_sync_usec, p->exited ? "true" : "false");
}

static int print_process_cb(const KsmBpfProcess *p, void *userdata) {
        int *n = userdata;

        if ((*n)++ > 0)
                putchar(',');
        print_process(p);
        return 0;
}

static void dump(KsmBpf *b) {
        KsmBpfScan scans[KSM_BPF_SCAN_SLOTS];
        KsmBpfAdvisor a = {};
        KsmBpfCounters c = {};
        uint64_t total = 0;
        int n = 0, k;

        printf("{\"processes\":[");
        ksm_bpf_foreach_process(b, print_process_cb, &n);
        printf("],\"scans_total\":");
        k = ksm_bpf_scans(b, scans, KSM_BPF_SCAN_SLOTS, &total);
        printf("%" PRIu64 ",\"scans\":[", total);
        for (int i = 0; i < k; i++)
                printf("%s{\"seq\":%" PRIu64 ",\"start_usec\":%" PRIu64 ",\"duration_usec\":%" PRIu64
                       ",\"rmap_entries\":%" PRIu64 "}", i ? "," : "", scans[i].seq, scans[i].start_usec,
                       scans[i].duration_usec, scans[i].rmap_entries);
        printf("],\"advisor\":");
        if (ksm_bpf_advisor(b, &a) < 0)
                printf("null");
        else
                printf("{\"n_decisions\":%" PRIu64 ",\"time_usec\":%" PRIu64 ",\"scan_time_sec\":%" PRIu64
                       ",\"pages_to_scan\":%" PRIu64 ",\"cpu_percent\":%" PRIu64 "}",
                       a.n_decisions, a.time_usec, a.scan_time_sec, a.pages_to_scan, a.cpu_percent);
        ksm_bpf_counters(b, &c);
        printf(",\"counters\":{\"unattributed\":%" PRIu64 ",\"map_full\":%" PRIu64 ",\"exec_seen\":%" PRIu64
               ",\"exec_filtered\":%" PRIu64 ",\"exec_dropped\":%" PRIu64 ",\"syncs\":%" PRIu64
               ",\"pair_undone\":%" PRIu64 "}}\n",
               c.unattributed, c.map_full, c.exec_seen, c.exec_filtered, c.exec_dropped, c.syncs, c.pair_undone);
        fflush(stdout);
}

static int on_exec(const KsmBpfExecEvent *e, void *userdata) {
        printf("{\"exec\":{\"tgid\":%d,\"ppid\":%d,\"cgroup_id\":%" PRIu64 ",\"time_usec\":%" PRIu64 ",\"comm\":",
               (int) e->tgid, (int) e->ppid, e->cgroup_id, e->time_usec);
        print_string(e->comm);
        printf("}}\n");
        return 0;
}

static void command(KsmBpf *b, char *line) {
        char *arg;
        long v;

        line[strcspn(line, "\n")] = 0;
        arg = strchr(line, ' ');
        if (arg)
                *arg++ = 0;
        if (strcmp(line, "dump") == 0)
                dump(b);
        else if (strcmp(line, "pid") == 0 && arg && (v = strtol(arg, NULL, 10)) > 0) {
                KsmBpfProcess p;

                printf("{\"process\":");
                if (ksm_bpf_read_process(b, (pid_t) v, &p) < 0)
                        printf("null");
                else
                        print_process(&p);
                printf("}\n");
        } else if (strcmp(line, "forget") == 0 && arg && (v = strtol(arg, NULL, 10)) > 0)
                printf("{\"forgot\":%ld,\"result\":%d}\n", v, ksm_bpf_forget(b, (pid_t) v));
        else if (strcmp(line, "watch") == 0 && arg) {
                uint64_t id = 0;
                int r = ksm_bpf_cgroup_id(arg, &id);

                if (r >= 0)
                        r = ksm_bpf_watch_cgroup(b, id, true);
                printf("{\"watch\":");
                print_string(arg);
                printf(",\"cgroup_id\":%" PRIu64 ",\"result\":%d}\n", id, r);
        } else if (*line) {
                printf("{\"error\":\"unknown command\",\"command\":");
                print_string(line);
                printf("}\n");
        }
        fflush(stdout);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "seconds", required_argument, NULL, 's' },
                { "exec", no_argument, NULL, 'e' },
                { "no-sync", no_argument, NULL, 'n' },
                { "max-processes", required_argument, NULL, 'm' },
                {}
        };
        static const char *const feature_names[] = { "zero_pages", "removals", "sync", "advisor", "exec" };
        KsmBpfOptions opts = {};
        KsmBpf *b = NULL;
        char why[256], line[4096];
        size_t line_len = 0;
        long seconds = 0;
        struct epoll_event ev;
        struct timespec start, now;
        sigset_t mask;
        int c, r, ep, sfd, rbfd = -1;
        unsigned features;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 's': seconds = strtol(optarg, NULL, 10); break;
                case 'e': opts.exec_events = true; break;
                case 'n': opts.no_sync = true; break;
                case 'm': opts.max_processes = (uint32_t) strtoul(optarg, NULL, 10); break;
                default: return 2;
                }

        r = ksm_bpf_open(&opts, &b, why, sizeof(why));
        if (r < 0) {
                printf("{\"ready\":false,\"errno\":%d,\"error\":", -r);
                print_string(strerror(-r));
                printf(",\"reason\":");
                print_string(why);
                printf("}\n");
                return 3;
        }
        features = ksm_bpf_features(b);
        printf("{\"ready\":true,\"features\":[");
        for (unsigned i = 0, n = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
                if (features & (1U << i))
                        printf("%s\"%s\"", n++ ? "," : "", feature_names[i]);
        printf("]}\n");
        fflush(stdout);

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (sfd < 0 || ep < 0) {
                perror("bpf-stats-dump: signalfd/epoll");
                ksm_bpf_free(b);
                return 1;
        }
        ev = (struct epoll_event) { .events = EPOLLIN, .data.u32 = 0 };
        epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
        ev = (struct epoll_event) { .events = EPOLLIN, .data.u32 = 1 };
        epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev);        /* fails harmlessly on a regular file */
        if (opts.exec_events) {
                rbfd = ksm_bpf_exec_fd(b);
                ev = (struct epoll_event) { .events = EPOLLIN, .data.u32 = 2 };
                if (rbfd >= 0)
                        epoll_ctl(ep, EPOLL_CTL_ADD, rbfd, &ev);
        }

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                int timeout = -1, n;

                if (seconds > 0) {
                        long left;

                        clock_gettime(CLOCK_MONOTONIC, &now);
                        left = seconds * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
                                                 (now.tv_nsec - start.tv_nsec) / 1000000);
                        if (left <= 0)
                                break;
                        timeout = (int) left;
                }
                n = epoll_wait(ep, &ev, 1, timeout);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0)
                                continue;
                        break;
                }
                if (ev.data.u32 == 0)
                        break;
                if (ev.data.u32 == 2) {
                        ksm_bpf_exec_consume(b, on_exec, NULL);
                        fflush(stdout);
                        continue;
                }
                /* stdin: commands, line by line. */
                ssize_t k = read(STDIN_FILENO, line + line_len, sizeof(line) - 1 - line_len);
                if (k <= 0)
                        break;
                line_len += (size_t) k;
                line[line_len] = 0;
                for (char *nl; (nl = strchr(line, '\n')); ) {
                        size_t used = (size_t) (nl - line) + 1;

                        *nl = 0;
                        command(b, line);
                        memmove(line, line + used, line_len - used + 1);
                        line_len -= used;
                }
                if (line_len == sizeof(line) - 1)
                        line_len = 0;           /* overlong line: drop it */
        }
        if (rbfd >= 0) {
                ksm_bpf_exec_consume(b, on_exec, NULL);
        }
        dump(b);
        close(ep);
        close(sfd);
        ksm_bpf_free(b);
        return 0;
}
