/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-dup-filler - the duplicate-page workload of the savings-coverage benchmark.
 *
 *   bench-dup-filler prctl|none INDEX MIB
 *
 * Fills MIB MiB of anonymous memory: of every 4 pages, 3 hold one of PATTERNS shared patterns (the
 * same in every process) and 1 is unique to this page of process INDEX, so 75 % of the pages are
 * duplicates.  PATTERNS (1024) keeps every pattern below max_page_sharing (256) for 8 × 128 MiB, so
 * the result does not depend on stable-node chains.  "prctl" opts in with PR_SET_MEMORY_MERGE
 * before the memory exists; "none" does not (the benchmark makes it mergeable later).  Prints
 * "ready PID" and waits for SIGTERM; dies with its parent (PR_SET_PDEATHSIG).
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
#include <unistd.h>

#include "missing.h"

#define PATTERNS 1024

static uint64_t splitmix64(uint64_t x) {
        x += 0x9e3779b97f4a7c15ULL;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
}

int main(int argc, char *argv[]) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE), len, n_pages, n_dup = 0;
        unsigned long index, mib;
        bool opt_in;
        char *buf, *end;

        if (argc != 4 || (strcmp(argv[1], "prctl") != 0 && strcmp(argv[1], "none") != 0)) {
                fprintf(stderr, "usage: bench-dup-filler prctl|none INDEX MIB\n");
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
                uint64_t *w = (uint64_t *) (buf + i * page);
                uint64_t seed;

                if (i % 4 == 3)         /* unique: (index, page); bit 63 keeps it apart from patterns */
                        seed = (1ULL << 63) | ((uint64_t) index << 40) | (uint64_t) i;
                else                    /* shared pattern 1..PATTERNS */
                        seed = (uint64_t) (n_dup++ % PATTERNS) + 1;
                for (size_t k = 0; k < page / sizeof(uint64_t); k++)
                        w[k] = splitmix64(seed * 4099 + k);
        }

        printf("ready %d\n", (int) getpid());
        fflush(stdout);
        for (;;)
                pause();                /* until SIGTERM (default action) */
}
