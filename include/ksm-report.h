/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-report.h - derived KSM figures (what `ksmctl status` and the daemon's status line show) and
 * their JSON form.  Pure: takes a snapshot, returns numbers.  Non-logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ksm-stat.h"
#include "ksm-sysfs.h"
#include "time-util.h"

typedef struct KsmReport {
        bool have_profit;
        int64_t profit_bytes;           /* general_profit: saved minus KSM's own metadata cost */
        uint64_t saved_bytes;           /* (pages_sharing + ksm_zero_pages) * page size */
        bool have_sharing_ratio;
        uint64_t sharing_ratio_pmy;     /* pages_sharing / pages_shared, permyriad (x10000) */
        bool have_unshared_ratio;
        uint64_t unshared_ratio_pmy;    /* pages_unshared / pages_sharing, permyriad */
        bool have_fragmentation;
        uint64_t dups_per_chain_pmy;    /* stable_node_dups / stable_node_chains, permyriad: pages that hit
                                         * max_page_sharing and needed another KSM copy (fragmentation) */
        bool have_cpu;
        uint64_t ksmd_cpu_pmy;          /* ksmd CPU use in permyriad of one CPU (10000 = 100 %) */
        usec_t cpu_sample_usec;         /* over how long it was measured */
} KsmReport;

/* Fills the ratios and byte figures from @s; leaves the CPU fields clear. */
void ksm_report_compute(const KsmSnapshot *s, uint64_t page_size, KsmReport *ret);

/* CPU use in permyriad of one CPU from a CPU-time delta over a wall-clock delta; 0 if wall is 0. */
uint64_t cpu_usage_pmy(nsec_t cpu_delta_ns, usec_t wall_delta_usec);

/* One JSON object: {"run_mode":…, "knobs":{…}, "counters":{…}, "derived":{…}, "absent":[…]}. */
json_t *ksm_report_to_json(const KsmSnapshot *s, const KsmReport *r);

/* One JSON object for a process's ksm_stat; fields the kernel did not report are null. */
json_t *ksm_stat_to_json(const KsmStat *st);
