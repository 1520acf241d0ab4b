/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-dup-filler - the duplicate-page workload of the savings-coverage benchmark.
 *
 *   bench-dup-filler prctl|none INDEX MIB [REWRITE_PERCENT]
 *
 * Fills MIB MiB of anonymous memory: of every 4 pages, 3 hold one of PATTERNS shared patterns (the
 * same in every process) and 1 is unique to this page of process INDEX, so 75 % of the pages are
 * duplicates.  PATTERNS (1024) keeps every pattern below max_page_sharing (256) for 8 × 128 MiB, so
 * the result does not depend on stable-node chains.  "prctl" opts in with PR_SET_MEMORY_MERGE
 * before the memory exists; "none" does not (the benchmark makes it mergeable later).  Prints
 * "ready PID" and waits for SIGTERM; dies with its parent (PR_SET_PDEATHSIG).
 *
 * With REWRITE_PERCENT (1..100), it then rewrites that share of its pages every second, in ten
 * slices a second, round robin: a duplicate page gets the next shared pattern (so it is still a
 * duplicate, but KSM must merge it again: the write broke the sharing), a unique page a new
 * unique content.  The theoretical saving stays the same; keeping it costs ksmd work.
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "missing.h"

#define PATTERNS 1024
#define MAX_SLICE(n) ((n) > 0 ? (n) : 1)

static uint64_t splitmix64(uint64_t x);

static void fill_page(uint64_t *w, size_t page, uint64_t seed) {
        for (size_t k = 0; k < page / sizeof(uint64_t); k++)
                w[k] = splitmix64(seed * 4099 + k);
}

static uint64_t splitmix64(uint64_t x) {
        x += 0x9e3779b97f4a7c15ULL;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
}

int main(int argc, char *argv[]) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE), len, n_pages, n_dup = 0;
        unsigned long index, mib, rewrite = 0;
        bool opt_in;
        char *buf, *end;

        if ((argc != 4 && argc != 5) || (strcmp(argv[1], "prctl") != 0 && strcmp(argv[1], "none") != 0)) {
                fprintf(stderr, "usage: bench-dup-filler prctl|none INDEX MIB [REWRITE_PERCENT]\n");
                return 2;
        }
        opt_in = strcmp(argv[1], "prctl") == 0;
        index = strtoul(argv[2], &end, 10);
        if (*end || index > 0xffff) {
                fprintf(stderr, "bench-dup-filler: INDEX must be 0..65535\n");
                return 2;
        }
        mib = strtoul(argv[3], &end, 10);
        if (*end || mib == 0 || mib > 65536) {
                fprintf(stderr, "bench-dup-filler: MIB must be 1..65536\n");
                return 2;
        }

        if (argc == 5) {
                rewrite = strtoul(argv[4], &end, 10);
                if (*end || rewrite == 0 || rewrite > 100) {
                        fprintf(stderr, "bench-dup-filler: REWRITE_PERCENT must be 1..100\n");
                        return 2;
                }
        }

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (opt_in && prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) < 0) {
                fprintf(stderr, "bench-dup-filler: prctl(PR_SET_MEMORY_MERGE): %s\n", strerror(errno));
                return errno == EINVAL ? 77 : 1;
        }

        len = (size_t) mib << 20;
        n_pages = len / page;
        buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED) {
                fprintf(stderr, "bench-dup-filler: mmap: %s\n", strerror(errno));
                return 1;
        }
        for (size_t i = 0; i < n_pages; i++) {
                uint64_t seed;

                if (i % 4 == 3)         /* unique: (index, page); bit 63 keeps it apart from patterns */
                        seed = (1ULL << 63) | ((uint64_t) index << 40) | (uint64_t) i;
                else                    /* shared pattern 1..PATTERNS */
                        seed = (uint64_t) (n_dup++ % PATTERNS) + 1;
                fill_page((uint64_t *) (buf + i * page), page, seed);
        }

        printf("ready %d\n", (int) getpid());
        fflush(stdout);
        if (rewrite == 0)
                for (;;)
                        pause();        /* until SIGTERM (default action) */

        {
                size_t slice = MAX_SLICE(n_pages * rewrite / 1000), cursor = 0;
                uint64_t round = 0;
                struct timespec next;

                (void) clock_gettime(CLOCK_MONOTONIC, &next);
                for (;;) {
                        round++;
                        for (size_t j = 0; j < slice; j++, cursor = (cursor + 1) % n_pages) {
                                uint64_t seed;

                                if (cursor % 4 == 3)    /* a new unique content: bits 40..62 carry the round */
                                        seed = (1ULL << 63) | ((uint64_t) index << 40) | (round << 24 & 0xffffffffffULL) |
                                               (uint64_t) cursor;
                                else                    /* the next shared pattern */
                                        seed = (cursor + round) % PATTERNS + 1;
                                fill_page((uint64_t *) (buf + cursor * page), page, seed);
                        }
                        next.tv_nsec += 100000000L;
                        if (next.tv_nsec >= 1000000000L) {
                                next.tv_nsec -= 1000000000L;
                                next.tv_sec++;
                        }
                        (void) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
                }
        }
}
