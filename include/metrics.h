/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics.h - KSM metrics: from one sample of inputs (the global KSM counters, ksmd's CPU time and
 * the tracked processes with their ksm_stat), the host figures and one roll-up per policy-matched
 * cgroup, merges and unmerges per interval with running totals, and their two outputs: a journal
 * field set (KSMT_* fields) and the Prometheus text exposition format 0.0.4.
 *
 * Per-process merge and unmerge counts come from a *statistics source* (MetricsSource below):
 * today "ksm_stat polling", which estimates them from the change of each process's
 * ksm_merging_pages between samples; an eBPF source that counts the kernel's merge and removal
 * events per tgid plugs into the same interface.
 *
 * Pure: no clock reads, no logging; the only I/O is metrics_write_file_atomic().  The daemon
 * (manager-metrics.c) reads the inputs and sends the outputs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ksm-stat.h"
#include "ksm-sysfs.h"
#include "log.h"
#include "macro.h"
#include "time-util.h"

/* The Debian/Ubuntu directory of node_exporter's textfile collector
 * (--collector.textfile.directory in /etc/default/prometheus-node-exporter). */
#define METRICS_FILE_DEFAULT "/var/lib/prometheus/node-exporter/ksmtuned-ng.prom"

#define METRICS_SOURCE_KSM_STAT_NAME "ksm_stat polling"

/* ---- statistics sources ------------------------------------------------------------------ */

/* Cumulative per-process event counts, in pages. */
typedef struct MetricsCounters {
        uint64_t merges;        /* pages merged into a KSM page (or the zero page, if the source sees those) */
        uint64_t unmerges;      /* pages removed from KSM (unmerged, broken by a write, freed) */
} MetricsCounters;

typedef struct MetricsSource MetricsSource;
typedef struct MetricsProcess MetricsProcess;

typedef struct MetricsSourceOps {
        /* Shown in the records, in `ksmctl status --json` and as the Prometheus source label. */
        const char *name;
        /* true if the counts are events the kernel reported (eBPF); false if they are estimated
         * from net changes between samples (a merge and an unmerge in one interval cancel out). */
        bool exact;
        /*
         * Cumulative counts of process @p (p->tgid), monotonic for as long as the tgid is
         * reported, counting from when the source first saw it (an eBPF source: since it
         * attached).  p->stat is the process's ksm_stat of this sample, or NULL if it was not
         * read.  Returns 1 with *ret filled, 0 if the source has nothing for this process now (the
         * previous counts are kept), <0 on error.
         */
        int (*read)(MetricsSource *s, const MetricsProcess *p, MetricsCounters *ret);
        /* The process exited (or is no longer tracked): drop whatever is kept for @tgid. */
        void (*forget)(MetricsSource *s, pid_t tgid);
        void (*free)(MetricsSource *s);
} MetricsSourceOps;

/* A source embeds this as its first member. */
struct MetricsSource {
        const MetricsSourceOps *ops;
};

static inline const char *metrics_source_name(const MetricsSource *s) {
        return s ? s->ops->name : NULL;
}
MetricsSource *metrics_source_free(MetricsSource *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(MetricsSource *, metrics_source_free);

/*
 * The polling source: merges are the increases of ksm_merging_pages from one sample to the next,
 * unmerges its decreases.  Its first reading of a process is the baseline (counts 0).  Needs the
 * ksm_stat of every process it is asked about, which the caller reads anyway.  -ENOMEM, or 0.
 */
int metrics_source_ksm_stat_new(MetricsSource **ret);

/* ---- one sample of inputs ---------------------------------------------------------------- */

struct MetricsProcess {
        pid_t tgid;
        const char *cgroup;             /* cgroup v2 path; borrowed */
        const char *policy;             /* the deciding policy, or NULL: no policy selects it */
        bool enabled;                   /* made mergeable by the daemon (state "enabled") */
        const KsmStat *stat;            /* this sample's ksm_stat, or NULL if not read */
        bool from_zero;                 /* had no KSM pages when the daemon began to watch it (the daemon
                                         * made it mergeable): a polling source counts its first reading
                                         * as merges rather than as the baseline */
};

typedef struct MetricsSample {
        usec_t timestamp_usec;          /* CLOCK_MONOTONIC of the sample */
        uint64_t page_size;
        const KsmSnapshot *ksm;         /* the KSM counters, or NULL if KSM is not available */
        bool have_ksmd_cpu;
        nsec_t ksmd_cpu_ns;             /* ksmd's CPU time since boot */
        bool have_ksmd_cpu_pmy;
        uint64_t ksmd_cpu_pmy;          /* ksmd's CPU use since the previous sample, permyriad of a CPU */
        const MetricsProcess *processes;
        size_t n_processes;
} MetricsSample;

/* ---- the result ---------------------------------------------------------------------------- */

/* The host (cgroup NULL) or one cgroup. */
typedef struct MetricsGroup {
        char *cgroup;                   /* NULL for the host */
        char **policies;                /* distinct deciding policies of its processes, sorted; NULL-terminated */
        uint64_t processes_tracked;
        uint64_t processes_enabled;
        /* sums of the processes' ksm_stat (cgroups only; the host has the kernel's counters) */
        uint64_t merging_pages, zero_pages, rmap_items;
        bool have_profit;
        int64_t profit_bytes;           /* cgroup: sum of ksm_process_profit; host: general_profit */
        uint64_t saved_bytes;           /* cgroup: (merging + zero pages) x page size; host: (pages_sharing + ksm_zero_pages) x page size */
        uint64_t merges, unmerges;              /* in this interval, pages */
        uint64_t merges_total, unmerges_total;  /* since the daemon started, pages; never decrease */
} MetricsGroup;

typedef struct Metrics {
        const char *source;             /* the statistics source's name */
        bool source_exact;
        usec_t interval_usec;           /* since the previous sample; 0 for the first */
        uint64_t page_size;
        const KsmSnapshot *ksm;         /* as given in the sample (borrowed; NULL: not available) */
        bool have_ksmd_cpu;
        nsec_t ksmd_cpu_ns;
        bool have_ksmd_cpu_pmy;
        uint64_t ksmd_cpu_pmy;
        MetricsGroup host;
        MetricsGroup *cgroups;          /* sorted by path (strcmp) */
        size_t n_cgroups;
} Metrics;

typedef struct MetricsState MetricsState;

/* Takes ownership of @source.  -ENOMEM, or 0. */
int metrics_state_new(MetricsSource *source, MetricsState **ret);
MetricsState *metrics_state_free(MetricsState *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(MetricsState *, metrics_state_free);

const MetricsSource *metrics_state_source(const MetricsState *s);

/*
 * Computes the metrics of @sample: the deltas since the previous sample and the running totals.
 * A process of the previous sample that is missing from this one has exited: the source forgets
 * it, and what it contributed to the totals stays.  A cgroup without processes in this sample is
 * dropped (its counters start again from 0 if it comes back, a reset Prometheus' rate() handles).
 * *ret points into @s and stays valid until the next call.  -ENOMEM (the state is unchanged), or 0.
 */
int metrics_update(MetricsState *s, const MetricsSample *sample, const Metrics **ret);

/* true if @tgid had KSM pages or rmap items at its last reading: worth reading again even if its
 * state says it is not mergeable (to see it unmerge). */
bool metrics_process_had_ksm(const MetricsState *s, pid_t tgid);

/* ---- outputs ------------------------------------------------------------------------------- */

/* The host record's fields (without MESSAGE_ID), see ksmtuned-ng(8) METRICS. */
void metrics_journal_host(const Metrics *m, LogFields *f);
/* One cgroup record's fields (without MESSAGE_ID). */
void metrics_journal_cgroup(const Metrics *m, const MetricsGroup *g, LogFields *f);

/* The Prometheus text exposition (format 0.0.4) of @m, NUL-terminated, owned by the caller.
 * -ENOMEM, or 0. */
int metrics_format_prometheus(const Metrics *m, char **ret, size_t *ret_size);

/* Appends @s to @f as a Prometheus label value: \ " and newline escaped, invalid UTF-8 replaced
 * by U+FFFD (the format is UTF-8).  Returns 0 or -errno from the stream. */
int metrics_escape_label_value(FILE *f, const char *s);

/*
 * Replaces @path with @data atomically: writes a temporary file in the same directory (readable
 * by all, 0644, whatever the umask: node_exporter runs as another user), then rename()s it over
 * @path, so a reader sees the old file or the new one, never a part.  The temporary file is
 * removed on any error.  Returns 0 or a negative errno (-ENOENT: the directory does not exist).
 */
int metrics_write_file_atomic(const char *path, const void *data, size_t size);
