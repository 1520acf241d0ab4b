/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-filler - a KSM test workload: opts in to KSM, fills anonymous memory with duplicate pages,
 * prints "ready PID" and waits until stdin closes or it gets SIGTERM.
 *
 *   ksm-filler [--prctl|--madvise|--none] [--distinct=N] MIB
 *
 * --prctl (default) enables KSM for the whole process with PR_SET_MEMORY_MERGE (6.4+);
 * --madvise marks only the buffer MADV_MERGEABLE; --none does neither (a control process).
 * Page i holds the byte pattern (i % N) + 1, so MIB MiB collapse into N distinct pages;
 * --unique makes every page different from every other page anywhere (pid and page index), so
 * nothing in this process can ever merge: zero yield.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "missing.h"

static volatile sig_atomic_t stop;

static void on_term(int sig) {
        stop = 1;
}

int main(int argc, char *argv[]) {
        enum { MODE_PRCTL, MODE_MADVISE, MODE_NONE } mode = MODE_PRCTL;
        static const struct option options[] = {
                { "prctl", no_argument, NULL, 'p' },
                { "madvise", no_argument, NULL, 'm' },
                { "none", no_argument, NULL, 'n' },
                { "distinct", required_argument, NULL, 'd' },
                { "unique", no_argument, NULL, 'u' },
                {}
        };
        unsigned long distinct = 4, mib;
        bool unique = false;
        long page = sysconf(_SC_PAGESIZE);
        struct sigaction sa = { .sa_handler = on_term };
        size_t len;
        char *buf, *end;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'p': mode = MODE_PRCTL; break;
                case 'm': mode = MODE_MADVISE; break;
                case 'n': mode = MODE_NONE; break;
                case 'u': unique = true; break;
                case 'd':
                        distinct = strtoul(optarg, &end, 10);
                        if (*end || distinct == 0 || distinct > 255) {
                                fprintf(stderr, "ksm-filler: --distinct must be 1..255\n");
                                return 2;
                        }
                        break;
                default:
                        return 2;
                }
        if (optind + 1 != argc) {
                fprintf(stderr, "usage: ksm-filler [--prctl|--madvise|--none] [--distinct=N] MIB\n");
                return 2;
        }
        mib = strtoul(argv[optind], &end, 10);
        if (*end || mib == 0 || mib > 4096) {
                fprintf(stderr, "ksm-filler: MIB must be 1..4096\n");
                return 2;
        }

        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        if (mode == MODE_PRCTL && prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) < 0) {
                fprintf(stderr, "ksm-filler: prctl(PR_SET_MEMORY_MERGE): %s\n", strerror(errno));
                return errno == EINVAL ? 77 : 1;
        }

        len = mib << 20;
        buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED) {
                fprintf(stderr, "ksm-filler: mmap: %s\n", strerror(errno));
                return 1;
        }
        if (mode == MODE_MADVISE && madvise(buf, len, MADV_MERGEABLE) < 0) {
                fprintf(stderr, "ksm-filler: madvise(MADV_MERGEABLE): %s\n", strerror(errno));
                return 1;
        }
        for (size_t i = 0; i < len / (size_t) page; i++) {
                memset(buf + i * (size_t) page, (int) (i % distinct) + 1, (size_t) page);
                if (unique) {
                        uint64_t tag[2] = { (uint64_t) getpid(), i };

                        memcpy(buf + i * (size_t) page, tag, sizeof(tag));
                }
        }

        printf("ready %d\n", (int) getpid());
        fflush(stdout);

        while (!stop) {
                char b;
                ssize_t n = read(STDIN_FILENO, &b, 1);

                if (n == 0)
                        break;          /* stdin closed: the test is done with us */
                if (n < 0 && errno != EINTR) {
                        pause();        /* stdin not readable (e.g. /dev/null closed): wait for a signal */
                }
        }
        munmap(buf, len);
        return 0;
}
