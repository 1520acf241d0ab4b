/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics-source.c - the "ksm_stat polling" statistics source.
 *
 * The kernel does not count merges per process; /proc/PID/ksm_stat only says how many of the
 * process's pages are merged now (ksm_merging_pages).  This source estimates the events from the
 * change between two samples: an increase is that many merges, a decrease that many unmerges.  It
 * is a lower bound: a page merged and unmerged (or the other way round) within one sample interval
 * is not seen, and pages merged with the zero page (ksm_zero_pages, use_zero_pages=1) are not
 * counted.  An eBPF source counting the kernel's ksm_merge_* and ksm_remove_* events per tgid is
 * exact and implements the same MetricsSourceOps.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "metrics.h"
#include "pidmap.h"

typedef struct KsmStatEntry {
        uint64_t last_merging_pages;
        MetricsCounters counts;
} KsmStatEntry;

typedef struct KsmStatSource {
        MetricsSource base;     /* first: the ops dispatch casts */
        PidMap entries;         /* tgid -> KsmStatEntry; bounded by the tracked processes */
} KsmStatSource;

static int ksm_stat_source_read(MetricsSource *s, const MetricsProcess *p, MetricsCounters *ret) {
        KsmStatSource *k = (KsmStatSource *) s;
        const KsmStat *st = p->stat;
        KsmStatEntry *e;

        if (!st || !(st->fields & KSM_STAT_MERGING_PAGES))
                return 0;       /* unreadable, or a kernel before 5.19: nothing to estimate from */

        e = pidmap_get(&k->entries, p->tgid);
        if (!e) {
                /* First reading: the baseline, since what merged before the daemon looked is no
                 * event it saw; except for a process the daemon made mergeable, which had no KSM
                 * pages then: ksmd may well have merged it before the first sample. */
                e = new0(KsmStatEntry, 1);
                if (!e)
                        return -ENOMEM;
                if (pidmap_put(&k->entries, p->tgid, e) < 0) {
                        free(e);
                        return -ENOMEM;
                }
                e->last_merging_pages = p->from_zero ? 0 : st->merging_pages;
        }
        if (st->merging_pages >= e->last_merging_pages)
                e->counts.merges += st->merging_pages - e->last_merging_pages;
        else
                e->counts.unmerges += e->last_merging_pages - st->merging_pages;
        e->last_merging_pages = st->merging_pages;
        *ret = e->counts;
        return 1;
}

static void ksm_stat_source_forget(MetricsSource *s, pid_t tgid) {
        KsmStatSource *k = (KsmStatSource *) s;

        free(pidmap_remove(&k->entries, tgid));
}

static void ksm_stat_source_free(MetricsSource *s) {
        KsmStatSource *k = (KsmStatSource *) s;
        KsmStatEntry *e;

        for (size_t i = 0; pidmap_next(&k->entries, &i, NULL, (void **) &e); )
                free(e);
        pidmap_done(&k->entries);
        free(k);
}

static const MetricsSourceOps ksm_stat_source_ops = {
        .name = METRICS_SOURCE_KSM_STAT_NAME,
        .exact = false,
        .read = ksm_stat_source_read,
        .forget = ksm_stat_source_forget,
        .free = ksm_stat_source_free,
};

int metrics_source_ksm_stat_new(MetricsSource **ret) {
        KsmStatSource *k;

        assert(ret);

        k = new0(KsmStatSource, 1);
        if (!k)
                return -ENOMEM;
        k->base.ops = &ksm_stat_source_ops;
        *ret = &k->base;
        return 0;
}
