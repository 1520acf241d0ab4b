/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-ksm-stat - what polling /proc/PID/ksm_stat costs, per process, on this host.
 *
 * The daemon's statistics fall back to polling ksm_stat of every tracked process when BPF is not
 * available, so this is the price of that path.  Baseline, measured in the same run over the same
 * processes: a bare open()+read()+close() of the file.  Printed: microseconds per process for the
 * baseline, for our ksm_stat_read_at() (read + parse), and for parsing alone, plus their ratios.
 *
 *   bench-ksm-stat [ROUNDS]     (default 20 rounds over every process in /proc)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksm-stat.h"
#include "macro.h"
#include "parse-util.h"
#include "time-util.h"

static size_t collect_pids(pid_t *pids, size_t max) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)) && n < max) {
                int64_t pid;

                if (safe_atoi64(de->d_name, &pid) >= 0 && pid > 0)
                        pids[n++] = (pid_t) pid;
        }
        closedir(d);
        return n;
}

int main(int argc, char *argv[]) {
        static pid_t pids[65536];
        static const char sample[] = "ksm_rmap_items 2075\nksm_zero_pages 0\nksm_merging_pages 1792\n"
                                     "ksm_process_profit 7207232\nksm_merge_any: yes\nksm_mergeable: yes\n";
        unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 20;
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t n = collect_pids(pids, ELEMENTSOF(pids)), ok_raw = 0, ok_ours = 0;
        usec_t t0, t_raw, t_ours, t_parse;
        unsigned long parse_iters = rounds * 1000;
        KsmStat st;

        if (proc_fd < 0 || n == 0 || rounds == 0) {
                fprintf(stderr, "bench-ksm-stat: cannot list /proc or bad ROUNDS\n");
                return 1;
        }

        /* Interleave the two passes round by round so cache warmth and background load hit both. */
        t_raw = t_ours = 0;
        for (unsigned long r = 0; r < rounds; r++) {
                t0 = now_usec(CLOCK_MONOTONIC);
                for (size_t i = 0; i < n; i++) {
                        char path[64], buf[512];
                        int fd;

                        snprintf(path, sizeof(path), "%d/ksm_stat", (int) pids[i]);
                        fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        if (read(fd, buf, sizeof(buf)) >= 0)
                                ok_raw++;
                        close(fd);
                }
                t_raw += now_usec(CLOCK_MONOTONIC) - t0;

                t0 = now_usec(CLOCK_MONOTONIC);
                for (size_t i = 0; i < n; i++)
                        if (ksm_stat_read_at(proc_fd, pids[i], &st) >= 0)
                                ok_ours++;
                t_ours += now_usec(CLOCK_MONOTONIC) - t0;
        }

        t0 = now_usec(CLOCK_MONOTONIC);
        for (unsigned long i = 0; i < parse_iters; i++)
                if (ksm_stat_parse(sample, &st) < 0)
                        return 1;
        t_parse = now_usec(CLOCK_MONOTONIC) - t0;

        if (ok_raw == 0 || ok_ours == 0) {
                fprintf(stderr, "bench-ksm-stat: no ksm_stat readable (kernel < 6.1 or not root?)\n");
                return 1;
        }
        printf("processes: %zu, rounds: %lu\n", n, rounds);
        printf("baseline open+read+close: %.2f us/process\n", (double) t_raw / (double) ok_raw);
        printf("ksm_stat_read_at (read+parse): %.2f us/process, ratio to baseline %.2f\n",
               (double) t_ours / (double) ok_ours, ((double) t_ours / (double) ok_ours) / ((double) t_raw / (double) ok_raw));
        printf("ksm_stat_parse alone: %.3f us/call, %.1f%% of the baseline read\n",
               (double) t_parse / (double) parse_iters,
               100.0 * ((double) t_parse / (double) parse_iters) / ((double) t_raw / (double) ok_raw));
        printf("cost of polling 1000 tracked processes once: %.2f ms\n",
               (double) t_ours / (double) ok_ours);
        return 0;
}
