/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics.c - KSM metrics: roll-up per cgroup, deltas and running totals, the journal field set
 * and the Prometheus text format.  The statistics sources are in metrics-source.c.
 *
 * Counters never go down: each process's cumulative counts (from the source) are turned into a
 * delta per sample, and only deltas are added to the host's and its cgroup's totals.  A process
 * that exits takes nothing away: its entry and the source's state for it are dropped, the totals
 * keep what it contributed.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksm-report.h"
#include "metrics.h"
#include "pidmap.h"

typedef struct ProcEntry {
        MetricsCounters last;           /* the source's cumulative counts at the last reading */
        uint64_t seen;                  /* generation of the last sample that had this process */
        bool had_ksm;                   /* KSM pages or rmap items at the last ksm_stat reading */
} ProcEntry;

struct MetricsState {
        MetricsSource *source;
        PidMap procs;                   /* tgid -> ProcEntry */
        uint64_t generation;
        bool have_last;
        usec_t last_timestamp_usec;
        Metrics current;
};

/* ---- state --------------------------------------------------------------------------------- */

static void strv_free(char **l) {
        for (size_t i = 0; l && l[i]; i++)
                free(l[i]);
        free(l);
}

static void group_done(MetricsGroup *g) {
        free(g->cgroup);
        strv_free(g->policies);
        *g = (MetricsGroup) {};
}

static void metrics_done(Metrics *m) {
        group_done(&m->host);
        for (size_t i = 0; i < m->n_cgroups; i++)
                group_done(&m->cgroups[i]);
        free(m->cgroups);
        *m = (Metrics) {};
}

MetricsSource *metrics_source_free(MetricsSource *s) {
        if (s)
                s->ops->free(s);
        return NULL;
}

int metrics_state_new(MetricsSource *source, MetricsState **ret) {
        MetricsState *s;

        assert(source);
        assert(ret);

        s = new0(MetricsState, 1);
        if (!s)
                return -ENOMEM;
        s->source = source;
        *ret = s;
        return 0;
}

MetricsState *metrics_state_free(MetricsState *s) {
        ProcEntry *e;

        if (!s)
                return NULL;
        for (size_t i = 0; pidmap_next(&s->procs, &i, NULL, (void **) &e); )
                free(e);
        pidmap_done(&s->procs);
        metrics_done(&s->current);
        metrics_source_free(s->source);
        free(s);
        return NULL;
}

const MetricsSource *metrics_state_source(const MetricsState *s) {
        return s->source;
}

bool metrics_process_had_ksm(const MetricsState *s, pid_t tgid) {
        const ProcEntry *e = pidmap_get(&s->procs, tgid);

        return e && e->had_ksm;
}

/* ---- update -------------------------------------------------------------------------------- */

typedef struct ProcDelta {
        const MetricsProcess *p;
        uint64_t merges, unmerges;
} ProcDelta;

static int cmp_delta_cgroup(const void *a, const void *b) {
        const ProcDelta *x = a, *y = b;

        return strcmp(x->p->cgroup, y->p->cgroup);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int cmp_group_key(const void *key, const void *elem) {
        return strcmp(key, ((const MetricsGroup *) elem)->cgroup);
}

static uint64_t counter_delta(uint64_t now, uint64_t before) {
        /* A source that restarted its count (a re-attached eBPF program) counts from 0 again. */
        return now >= before ? now - before : now;
}

/* Distinct policies of d[0..n), sorted, NULL-terminated. */
static char **collect_policies(const ProcDelta *d, size_t n) {
        char **l = new0(char *, n + 1);
        size_t k = 0;

        if (!l)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (d[i].p->policy)
                        l[k++] = (char *) d[i].p->policy;
        qsort(l, k, sizeof(char *), cmp_str);
        {
                size_t w = 0;

                for (size_t i = 0; i < k; i++)
                        if (w == 0 || !streq(l[w - 1], l[i]))
                                l[w++] = l[i];
                k = w;
        }
        for (size_t i = 0; i < k; i++) {
                l[i] = strdup(l[i]);
                if (!l[i]) {
                        strv_free(l);
                        return NULL;
                }
        }
        l[k] = NULL;
        return l;
}

static int build_cgroup(MetricsState *s, const ProcDelta *d, size_t n, uint64_t page_size, MetricsGroup *g) {
        const MetricsGroup *old;

        *g = (MetricsGroup) {};
        g->cgroup = strdup(d[0].p->cgroup);
        g->policies = collect_policies(d, n);
        if (!g->cgroup || !g->policies) {
                group_done(g);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const KsmStat *st = d[i].p->stat;

                g->processes_tracked++;
                g->processes_enabled += d[i].p->enabled;
                g->merges += d[i].merges;
                g->unmerges += d[i].unmerges;
                if (!st)
                        continue;
                g->merging_pages += st->merging_pages;
                g->zero_pages += st->zero_pages;
                g->rmap_items += st->rmap_items;
                if (st->fields & KSM_STAT_PROCESS_PROFIT) {
                        g->have_profit = true;
                        g->profit_bytes += st->process_profit;
                }
        }
        g->saved_bytes = (g->merging_pages + g->zero_pages) * page_size;

        old = s->current.n_cgroups > 0 ?
                bsearch(g->cgroup, s->current.cgroups, s->current.n_cgroups, sizeof(MetricsGroup), cmp_group_key) : NULL;
        g->merges_total = (old ? old->merges_total : 0) + g->merges;
        g->unmerges_total = (old ? old->unmerges_total : 0) + g->unmerges;
        return 0;
}

static void forget_exited(MetricsState *s) {
        _cleanup_free_ pid_t *gone = NULL;
        ProcEntry *e;
        size_t n = 0;
        pid_t pid;

        if (s->procs.n == 0)
                return;
        gone = new0(pid_t, s->procs.n);
        for (size_t i = 0; pidmap_next(&s->procs, &i, &pid, (void **) &e); )
                if (e->seen != s->generation) {
                        if (gone)
                                gone[n++] = pid;
                        else {
                                /* no memory for the list: forget one per sample, still bounded */
                                s->source->ops->forget(s->source, pid);
                                free(pidmap_remove(&s->procs, pid));
                                return;
                        }
                }
        for (size_t i = 0; i < n; i++) {
                s->source->ops->forget(s->source, gone[i]);
                free(pidmap_remove(&s->procs, gone[i]));
        }
}

int metrics_update(MetricsState *s, const MetricsSample *sample, const Metrics **ret) {
        _cleanup_free_ ProcDelta *d = NULL;
        Metrics n = {};
        size_t n_d = 0;
        int r;

        assert(s);
        assert(sample);

        s->generation++;
        d = new0(ProcDelta, sample->n_processes + 1);
        if (!d)
                return -ENOMEM;

        n = (Metrics) {
                .source = s->source->ops->name,
                .source_exact = s->source->ops->exact,
                .interval_usec = s->have_last && sample->timestamp_usec > s->last_timestamp_usec ?
                                 sample->timestamp_usec - s->last_timestamp_usec : 0,
                .page_size = sample->page_size,
                .ksm = sample->ksm,
                .have_ksmd_cpu = sample->have_ksmd_cpu,
                .ksmd_cpu_ns = sample->ksmd_cpu_ns,
                .have_ksmd_cpu_pmy = sample->have_ksmd_cpu_pmy,
                .ksmd_cpu_pmy = sample->ksmd_cpu_pmy,
        };

        /* Per process: the source's counts, turned into this interval's delta. */
        for (size_t i = 0; i < sample->n_processes; i++) {
                const MetricsProcess *p = &sample->processes[i];
                ProcDelta *pd = &d[n_d];
                MetricsCounters c = {};
                ProcEntry *e = pidmap_get(&s->procs, p->tgid);

                if (p->tgid <= 0)
                        continue;
                if (!e) {
                        e = new0(ProcEntry, 1);
                        if (!e || pidmap_put(&s->procs, p->tgid, e) < 0) {
                                free(e);
                                r = -ENOMEM;
                                goto fail;
                        }
                }
                if (e->seen == s->generation)
                        continue;       /* listed twice: count it once */
                e->seen = s->generation;
                *pd = (ProcDelta) { .p = p };
                r = s->source->ops->read(s->source, p, &c);
                if (r > 0) {
                        pd->merges = counter_delta(c.merges, e->last.merges);
                        pd->unmerges = counter_delta(c.unmerges, e->last.unmerges);
                        e->last = c;
                }
                if (p->stat)
                        e->had_ksm = p->stat->merging_pages > 0 || p->stat->zero_pages > 0 || p->stat->rmap_items > 0;

                n.host.processes_tracked++;
                n.host.processes_enabled += p->enabled;
                n.host.merges += pd->merges;
                n.host.unmerges += pd->unmerges;
                n_d++;
        }
        forget_exited(s);

        /* The host: the kernel's counters, the tracked processes' events. */
        if (sample->ksm) {
                KsmReport rep;

                ksm_report_compute(sample->ksm, sample->page_size, &rep);
                n.host.saved_bytes = rep.saved_bytes;
                n.host.have_profit = rep.have_profit;
                n.host.profit_bytes = rep.profit_bytes;
        }
        n.host.merges_total = s->current.host.merges_total + n.host.merges;
        n.host.unmerges_total = s->current.host.unmerges_total + n.host.unmerges;

        /* Cgroups: runs of processes with the same cgroup, recorded if a policy selects any of them. */
        {
                size_t n_with_cgroup = 0;

                for (size_t i = 0; i < n_d; i++)
                        if (d[i].p->cgroup)
                                d[n_with_cgroup++] = d[i];
                qsort(d, n_with_cgroup, sizeof(ProcDelta), cmp_delta_cgroup);
                n.cgroups = new0(MetricsGroup, n_with_cgroup + 1);
                if (!n.cgroups) {
                        r = -ENOMEM;
                        goto fail;
                }
                for (size_t i = 0, j; i < n_with_cgroup; i = j) {
                        bool matched = false;

                        for (j = i; j < n_with_cgroup && streq(d[j].p->cgroup, d[i].p->cgroup); j++)
                                matched = matched || d[j].p->policy;
                        if (!matched)
                                continue;
                        r = build_cgroup(s, d + i, j - i, sample->page_size, &n.cgroups[n.n_cgroups]);
                        if (r < 0)
                                goto fail;
                        n.n_cgroups++;
                }
        }

        metrics_done(&s->current);
        s->current = n;
        s->have_last = true;
        s->last_timestamp_usec = sample->timestamp_usec;
        if (ret)
                *ret = &s->current;
        return 0;

fail:
        /* The per-process baselines have moved on: this sample's deltas are lost, but the totals
         * never go down. */
        metrics_done(&n);
        return r;
}

/* ---- journal ------------------------------------------------------------------------------- */

static void add_common(const Metrics *m, LogFields *f) {
        log_fields_add(f, "KSMT_SOURCE=%s", m->source);
        if (m->interval_usec > 0)
                log_fields_add(f, "KSMT_INTERVAL_USEC=%" PRIu64, m->interval_usec);
}

static void add_events(const MetricsGroup *g, LogFields *f) {
        log_fields_add(f, "KSMT_MERGES=%" PRIu64, g->merges);
        log_fields_add(f, "KSMT_UNMERGES=%" PRIu64, g->unmerges);
        log_fields_add(f, "KSMT_MERGES_TOTAL=%" PRIu64, g->merges_total);
        log_fields_add(f, "KSMT_UNMERGES_TOTAL=%" PRIu64, g->unmerges_total);
        log_fields_add(f, "KSMT_PROCESSES_TRACKED=%" PRIu64, g->processes_tracked);
        log_fields_add(f, "KSMT_PROCESSES_ENABLED=%" PRIu64, g->processes_enabled);
}

static bool knob_value(const Metrics *m, KsmKnob k, int64_t *ret) {
        if (!m->ksm || !m->ksm->present[k] || m->ksm->error[k] != 0)
                return false;
        *ret = m->ksm->value[k];
        return true;
}

void metrics_journal_host(const Metrics *m, LogFields *f) {
        static const struct {
                const char *field;
                KsmKnob knob;
        } knobs[] = {
                { "KSMT_RUN", KSM_KNOB_RUN },
                { "KSMT_PAGES_SHARED", KSM_KNOB_PAGES_SHARED },
                { "KSMT_PAGES_SHARING", KSM_KNOB_PAGES_SHARING },
                { "KSMT_PAGES_UNSHARED", KSM_KNOB_PAGES_UNSHARED },
                { "KSMT_PAGES_VOLATILE", KSM_KNOB_PAGES_VOLATILE },
                { "KSMT_ZERO_PAGES", KSM_KNOB_KSM_ZERO_PAGES },
                { "KSMT_FULL_SCANS", KSM_KNOB_FULL_SCANS },
                { "KSMT_PAGES_SCANNED", KSM_KNOB_PAGES_SCANNED },
        };
        int64_t v;

        add_common(m, f);
        /* A counter this kernel lacks (or that failed to read) is left out, never sent as 0. */
        for (size_t i = 0; i < ELEMENTSOF(knobs); i++)
                if (knob_value(m, knobs[i].knob, &v))
                        log_fields_add(f, "%s=%" PRIi64, knobs[i].field, v);
        if (m->ksm)
                log_fields_add(f, "KSMT_SAVED_BYTES=%" PRIu64, m->host.saved_bytes);
        if (m->host.have_profit)
                log_fields_add(f, "KSMT_PROFIT_BYTES=%" PRIi64, m->host.profit_bytes);
        if (m->have_ksmd_cpu_pmy)
                log_fields_add(f, "KSMT_KSMD_CPU_PMY=%" PRIu64, m->ksmd_cpu_pmy);
        if (m->have_ksmd_cpu)
                log_fields_add(f, "KSMT_KSMD_CPU_NSEC=%" PRIu64, m->ksmd_cpu_ns);
        add_events(&m->host, f);
        log_fields_add(f, "KSMT_CGROUPS=%zu", m->n_cgroups);
}

void metrics_journal_cgroup(const Metrics *m, const MetricsGroup *g, LogFields *f) {
        log_fields_add(f, "KSMT_CGROUP=%s", g->cgroup);
        for (size_t i = 0; g->policies && g->policies[i]; i++)
                log_fields_add(f, "KSMT_POLICY=%s", g->policies[i]);
        add_common(m, f);
        log_fields_add(f, "KSMT_SAVED_BYTES=%" PRIu64, g->saved_bytes);
        log_fields_add(f, "KSMT_MERGING_PAGES=%" PRIu64, g->merging_pages);
        log_fields_add(f, "KSMT_ZERO_PAGES=%" PRIu64, g->zero_pages);
        log_fields_add(f, "KSMT_RMAP_ITEMS=%" PRIu64, g->rmap_items);
        if (g->have_profit)
                log_fields_add(f, "KSMT_PROFIT_BYTES=%" PRIi64, g->profit_bytes);
        add_events(g, f);
}

/* ---- Prometheus ---------------------------------------------------------------------------- */

typedef enum PromType {
        PROM_GAUGE,
        PROM_COUNTER,
} PromType;

typedef enum PromKind {
        PROM_U64,
        PROM_I64,
        PROM_NSEC,      /* nanoseconds, printed as seconds with 9 decimals */
} PromKind;

typedef struct PromValue {
        PromKind kind;
        uint64_t u;
        int64_t i;
} PromValue;

#define U64(x) ((PromValue) { .kind = PROM_U64, .u = (x) })
#define I64(x) ((PromValue) { .kind = PROM_I64, .i = (x) })

/* Each getter returns true if the host (g NULL) or the cgroup g has the figure. */
typedef bool (*PromGetter)(const Metrics *m, const MetricsGroup *g, PromValue *ret);

static bool knob_getter(const Metrics *m, const MetricsGroup *g, KsmKnob k, PromValue *ret) {
        int64_t v;

        if (g || !knob_value(m, k, &v))
                return false;
        *ret = I64(v);
        return true;
}

static bool get_saved(const Metrics *m, const MetricsGroup *g, PromValue *ret) {
        if (!g && !m->ksm)
                return false;
        *ret = U64((g ?: &m->host)->saved_bytes);
        return true;
}

static bool get_profit(const Metrics *m, const MetricsGroup *g, PromValue *ret) {
        const MetricsGroup *x = g ?: &m->host;

        if (!x->have_profit)
                return false;
        *ret = I64(x->profit_bytes);
        return true;
}

static bool get_zero(const Metrics *m, const MetricsGroup *g, PromValue *ret) {
        if (!g)
                return knob_getter(m, g, KSM_KNOB_KSM_ZERO_PAGES, ret);
        *ret = U64(g->zero_pages);
        return true;
}

#define KNOB_GETTER(fn, knob)                                                           \
        static bool fn(const Metrics *m, const MetricsGroup *g, PromValue *ret) {       \
                return knob_getter(m, g, knob, ret);                                    \
        }
KNOB_GETTER(get_pages_shared, KSM_KNOB_PAGES_SHARED)
KNOB_GETTER(get_pages_sharing, KSM_KNOB_PAGES_SHARING)
KNOB_GETTER(get_pages_unshared, KSM_KNOB_PAGES_UNSHARED)
KNOB_GETTER(get_pages_volatile, KSM_KNOB_PAGES_VOLATILE)
KNOB_GETTER(get_full_scans, KSM_KNOB_FULL_SCANS)
KNOB_GETTER(get_pages_scanned, KSM_KNOB_PAGES_SCANNED)
KNOB_GETTER(get_run, KSM_KNOB_RUN)

#define GROUP_GETTER(fn, field)                                                         \
        static bool fn(const Metrics *m, const MetricsGroup *g, PromValue *ret) {       \
                *ret = U64((g ?: &m->host)->field);                                     \
                return true;                                                            \
        }
GROUP_GETTER(get_merges, merges_total)
GROUP_GETTER(get_unmerges, unmerges_total)
GROUP_GETTER(get_tracked, processes_tracked)
GROUP_GETTER(get_enabled, processes_enabled)

#define CGROUP_GETTER(fn, field)                                                        \
        static bool fn(const Metrics *m, const MetricsGroup *g, PromValue *ret) {       \
                if (!g)                                                                 \
                        return false;                                                   \
                *ret = U64(g->field);                                                   \
                return true;                                                            \
        }
CGROUP_GETTER(get_merging, merging_pages)
CGROUP_GETTER(get_rmap, rmap_items)

static bool get_cpu(const Metrics *m, const MetricsGroup *g, PromValue *ret) {
        if (g || !m->have_ksmd_cpu)
                return false;
        *ret = (PromValue) { .kind = PROM_NSEC, .u = m->ksmd_cpu_ns };
        return true;
}

static const struct PromFamily {
        const char *name;
        PromType type;
        PromGetter get;
        const char *help;
} families[] = {
        { "ksmtuned_ng_saved_bytes", PROM_GAUGE, get_saved,
          "Memory KSM saves: host (pages_sharing + ksm_zero_pages) x page size; cgroup: its processes' (ksm_merging_pages + ksm_zero_pages) x page size." },
        { "ksmtuned_ng_profit_bytes", PROM_GAUGE, get_profit,
          "Saving minus KSM's metadata: host general_profit; cgroup: sum of its processes' ksm_process_profit." },
        { "ksmtuned_ng_pages_shared", PROM_GAUGE, get_pages_shared, "KSM pages in use (pages_shared)." },
        { "ksmtuned_ng_pages_sharing", PROM_GAUGE, get_pages_sharing, "Pages merged into KSM pages, saved (pages_sharing)." },
        { "ksmtuned_ng_pages_unshared", PROM_GAUGE, get_pages_unshared,
          "Pages scanned repeatedly that stay unique (pages_unshared)." },
        { "ksmtuned_ng_pages_volatile", PROM_GAUGE, get_pages_volatile,
          "Pages changing too fast to be merged (pages_volatile)." },
        { "ksmtuned_ng_zero_pages", PROM_GAUGE, get_zero,
          "Empty pages merged with the kernel zero page (ksm_zero_pages)." },
        { "ksmtuned_ng_merging_pages", PROM_GAUGE, get_merging,
          "Pages of the cgroup's processes merged into KSM pages (sum of ksm_merging_pages)." },
        { "ksmtuned_ng_rmap_items", PROM_GAUGE, get_rmap,
          "Pages of the cgroup's processes that ksmd tracks (sum of ksm_rmap_items)." },
        { "ksmtuned_ng_full_scans_total", PROM_COUNTER, get_full_scans, "Full scans ksmd completed (full_scans)." },
        { "ksmtuned_ng_pages_scanned_total", PROM_COUNTER, get_pages_scanned, "Pages ksmd scanned (pages_scanned)." },
        { "ksmtuned_ng_ksmd_cpu_seconds_total", PROM_COUNTER, get_cpu, "CPU time used by the ksmd kernel thread." },
        { "ksmtuned_ng_merges_total", PROM_COUNTER, get_merges,
          "Pages of tracked processes merged since the daemon started, from the statistics source." },
        { "ksmtuned_ng_unmerges_total", PROM_COUNTER, get_unmerges,
          "Pages of tracked processes unmerged since the daemon started, from the statistics source." },
        { "ksmtuned_ng_processes_tracked", PROM_GAUGE, get_tracked, "Processes the daemon tracks in policy-watched cgroups." },
        { "ksmtuned_ng_processes_enabled", PROM_GAUGE, get_enabled, "Processes the daemon made mergeable." },
        { "ksmtuned_ng_ksm_run", PROM_GAUGE, get_run, "The KSM run knob: 0 stopped, 1 merging, 2 unmerging." },
};

int metrics_escape_label_value(FILE *f, const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                unsigned char c = *p;
                size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
                bool valid = len > 0;

                for (size_t k = 1; valid && k < len; k++)
                        valid = (p[k] & 0xc0) == 0x80;
                if (valid && len > 1) {
                        /* overlong forms, surrogates and code points past U+10FFFF are invalid too */
                        uint32_t cp = len == 2 ? (c & 0x1fU) : len == 3 ? (c & 0x0fU) : (c & 0x07U);

                        for (size_t k = 1; k < len; k++)
                                cp = (cp << 6) | (p[k] & 0x3fU);
                        valid = !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000) &&
                                !(cp >= 0xd800 && cp <= 0xdfff) && cp <= 0x10ffff;
                }
                if (!valid) {
                        fputs("\xef\xbf\xbd", f);       /* U+FFFD */
                        p++;
                        continue;
                }
                if (c == '\\')
                        fputs("\\\\", f);
                else if (c == '"')
                        fputs("\\\"", f);
                else if (c == '\n')
                        fputs("\\n", f);
                else
                        fwrite(p, 1, len, f);
                p += len;
        }
        return ferror(f) ? -EIO : 0;
}

static void print_value(FILE *f, const PromValue *v) {
        switch (v->kind) {
        case PROM_U64:
                fprintf(f, "%" PRIu64 "\n", v->u);
                break;
        case PROM_I64:
                fprintf(f, "%" PRIi64 "\n", v->i);
                break;
        case PROM_NSEC:
                fprintf(f, "%" PRIu64 ".%09" PRIu64 "\n", v->u / NSEC_PER_SEC, v->u % NSEC_PER_SEC);
                break;
        }
}

int metrics_format_prometheus(const Metrics *m, char **ret, size_t *ret_size) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(families); i++) {
                const struct PromFamily *fam = &families[i];
                bool header = false;
                PromValue v;

                for (size_t k = 0; k <= m->n_cgroups; k++) {
                        const MetricsGroup *g = k == 0 ? NULL : &m->cgroups[k - 1];

                        if (!fam->get(m, g, &v))
                                continue;
                        if (!header) {
                                fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name,
                                        fam->type == PROM_COUNTER ? "counter" : "gauge");
                                header = true;
                        }
                        fputs(fam->name, f);
                        if (g) {
                                fputs("{cgroup=\"", f);
                                metrics_escape_label_value(f, g->cgroup);
                                fputs("\"}", f);
                        }
                        fputc(' ', f);
                        print_value(f, &v);
                }
        }
        fputs("# HELP ksmtuned_ng_statistics_source_info Where per-process merge and unmerge counts come from.\n"
              "# TYPE ksmtuned_ng_statistics_source_info gauge\n"
              "ksmtuned_ng_statistics_source_info{source=\"", f);
        metrics_escape_label_value(f, m->source);
        fprintf(f, "\",exact=\"%s\"} 1\n", m->source_exact ? "true" : "false");

        if (ferror(f)) {
                fclose(f);
                free(buf);
                return -ENOMEM;
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        if (ret_size)
                *ret_size = size;
        return 0;
}

/* ---- the file ------------------------------------------------------------------------------ */

int metrics_write_file_atomic(const char *path, const void *data, size_t size) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        const char *base, *slash;
        const char *p = data;
        int r;

        assert(path);

        slash = strrchr(path, '/');
        if (!slash || !slash[1])
                return -EINVAL;
        base = slash + 1;
        dir = slash == path ? strdup("/") : strndup(path, (size_t) (slash - path));
        /* Hidden and not ending in .prom: node_exporter's collector never reads a temporary file. */
        if (!dir || asprintf(&tmp, ".%s.%d.tmp", base, (int) getpid()) < 0)
                return -ENOMEM;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) {
                /* left over by a daemon that died with our pid: ours to replace */
                (void) unlinkat(dfd, tmp, 0);
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        }
        if (fd < 0)
                return -errno;

        r = 0;
        /* The service's UMask= would leave 0600; node_exporter reads as another user. */
        if (fchmod(fd, 0644) < 0)
                r = -errno;
        while (r == 0 && size > 0) {
                ssize_t n = write(fd, p, size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                } else {
                        p += n;
                        size -= (size_t) n;
                }
        }
        if (r == 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r == 0 && renameat(dfd, tmp, dfd, base) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dfd, tmp, 0);
        return r;
}
