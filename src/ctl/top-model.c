/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * top-model.c - rates, roll-up, sorting and row text for `ksmctl top`.  Pure: see top-model.h.
 *
 * Why rates come from two samples: the kernel keeps no per-process merge counter.  The change of
 * ksm_merging_pages between two refreshes is a net figure (pages merged minus pages unmerged in
 * the interval), so a process that merged 10 pages and had 10 unmerged shows 0/s.  When the
 * daemon counts merges and unmerges itself (eBPF on the ksm tracepoints) and reports cumulative
 * counters in ListProcesses, those are used instead and give both directions.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parse-util.h"
#include "top-model.h"

void top_sample_done(TopSample *s) {
        for (size_t i = 0; i < s->n_procs; i++)
                free(s->procs[i].cgroup);
        free(s->procs);
        *s = (TopSample) {};
}

static int cmp_proc_pid(const void *x, const void *y) {
        const TopProc *a = x, *b = y;

        return a->pid < b->pid ? -1 : a->pid > b->pid;
}

void top_sample_sort(TopSample *s) {
        if (s->n_procs > 0)
                qsort(s->procs, s->n_procs, sizeof(TopProc), cmp_proc_pid);
}

static const TopProc *sample_find(const TopSample *s, pid_t pid) {
        TopProc key = { .pid = pid };

        if (!s || s->n_procs == 0)
                return NULL;
        return bsearch(&key, s->procs, s->n_procs, sizeof(TopProc), cmp_proc_pid);
}

uint64_t top_rate_per_ksec(uint64_t delta, usec_t interval_usec) {
        unsigned __int128 v;

        if (interval_usec == 0)
                return 0;
        v = (unsigned __int128) delta * 1000U * USEC_PER_SEC / interval_usec;
        return v > UINT64_MAX ? UINT64_MAX : (uint64_t) v;
}

/* Rates of @cur against @prev (the same process one interval earlier). */
static void proc_rates(const TopProc *prev, const TopProc *cur, usec_t interval_usec, TopRow *row) {
        row->rate_source = TOP_RATE_NONE;
        row->merges_per_ksec = row->unmerges_per_ksec = 0;
        if (!prev || interval_usec == 0)
                return;

        if (cur->have_counters && prev->have_counters) {
                /* A counter that went down belongs to a restarted daemon: no rate this time. */
                if (cur->merges < prev->merges || cur->unmerges < prev->unmerges)
                        return;
                row->rate_source = TOP_RATE_COUNTERS;
                row->merges_per_ksec = top_rate_per_ksec(cur->merges - prev->merges, interval_usec);
                row->unmerges_per_ksec = top_rate_per_ksec(cur->unmerges - prev->unmerges, interval_usec);
                return;
        }
        if (!(cur->st.fields & KSM_STAT_MERGING_PAGES) || !(prev->st.fields & KSM_STAT_MERGING_PAGES))
                return;
        row->rate_source = TOP_RATE_MERGING_PAGES;
        if (cur->st.merging_pages >= prev->st.merging_pages)
                row->merges_per_ksec = top_rate_per_ksec(cur->st.merging_pages - prev->st.merging_pages, interval_usec);
        else
                row->unmerges_per_ksec = top_rate_per_ksec(prev->st.merging_pages - cur->st.merging_pages, interval_usec);
}

int top_rows_compute(const TopSample *prev, const TopSample *cur, uint64_t page_size, TopRow **ret, size_t *ret_n) {
        usec_t interval = prev && cur->timestamp_usec > prev->timestamp_usec ? cur->timestamp_usec - prev->timestamp_usec : 0;
        TopRow *rows = NULL;

        if (cur->n_procs > 0) {
                rows = new0(TopRow, cur->n_procs);
                if (!rows)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < cur->n_procs; i++) {
                const TopProc *p = &cur->procs[i], *q = sample_find(prev, p->pid);
                TopRow *r = &rows[i];

                if (q && q->start_time_ticks != p->start_time_ticks)
                        q = NULL;               /* the PID was reused: another process */
                *r = (TopRow) {
                        .proc = p,
                        .cgroup = p->cgroup,
                        .n_procs = 1,
                        .merging_pages = p->st.merging_pages,
                        .zero_pages = p->st.zero_pages,
                        .rmap_items = p->st.rmap_items,
                        .saved_bytes = (p->st.merging_pages + p->st.zero_pages) * page_size,
                        .have_profit = p->st.fields & KSM_STAT_PROCESS_PROFIT,
                        .profit_bytes = p->st.process_profit,
                };
                proc_rates(q, p, interval, r);
                r->n_rated = r->rate_source != TOP_RATE_NONE;
        }
        *ret = rows;
        *ret_n = cur->n_procs;
        return 0;
}

static int cmp_row_ptr_cgroup(const void *x, const void *y) {
        const TopRow *a = *(const TopRow *const *) x, *b = *(const TopRow *const *) y;

        if (!a->cgroup || !b->cgroup)
                return !!a->cgroup - !!b->cgroup;      /* unknown first */
        return strcmp(a->cgroup, b->cgroup);
}

int top_rollup(const TopRow *procs, size_t n, TopRow **ret, size_t *ret_n) {
        _cleanup_free_ const TopRow **order = NULL;
        TopRow *groups = NULL;
        size_t n_groups = 0;

        if (n == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        order = new0(const TopRow *, n);
        groups = new0(TopRow, n);
        if (!order || !groups) {
                free(groups);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                order[i] = &procs[i];
        qsort(order, n, sizeof(order[0]), cmp_row_ptr_cgroup);

        for (size_t i = 0; i < n; i++) {
                const TopRow *p = order[i];
                TopRow *g;

                if (n_groups == 0 || !streq_ptr(groups[n_groups - 1].cgroup, p->cgroup))
                        groups[n_groups++] = (TopRow) { .cgroup = p->cgroup };
                g = &groups[n_groups - 1];
                g->n_procs += p->n_procs;
                g->n_rated += p->n_rated;
                g->merging_pages += p->merging_pages;
                g->zero_pages += p->zero_pages;
                g->rmap_items += p->rmap_items;
                g->saved_bytes += p->saved_bytes;
                if (p->have_profit) {
                        g->have_profit = true;
                        g->profit_bytes += p->profit_bytes;
                }
                if (p->rate_source != TOP_RATE_NONE) {
                        if (g->rate_source != TOP_RATE_COUNTERS)
                                g->rate_source = p->rate_source;
                        g->merges_per_ksec += p->merges_per_ksec;
                        g->unmerges_per_ksec += p->unmerges_per_ksec;
                }
        }
        *ret = groups;
        *ret_n = n_groups;
        return 0;
}

static const char *row_name(const TopRow *r) {
        return r->proc ? r->proc->comm : r->cgroup ?: "";
}

/* Numeric keys compare largest first; a row without a rate sorts after every row with one. */
static int cmp_u64_desc(uint64_t a, uint64_t b) {
        return a > b ? -1 : a < b;
}

static int cmp_rate(const TopRow *a, const TopRow *b, uint64_t ra, uint64_t rb) {
        bool ha = a->rate_source != TOP_RATE_NONE, hb = b->rate_source != TOP_RATE_NONE;

        if (ha != hb)
                return ha ? -1 : 1;
        return cmp_u64_desc(ra, rb);
}

static int cmp_rows(const TopRow *a, const TopRow *b, TopSortKey key) {
        int c = 0;

        switch (key) {
        case TOP_SORT_SAVED:
                c = cmp_u64_desc(a->saved_bytes, b->saved_bytes);
                break;
        case TOP_SORT_PROFIT:
                if (a->have_profit != b->have_profit)
                        c = a->have_profit ? -1 : 1;
                else
                        c = a->profit_bytes > b->profit_bytes ? -1 : a->profit_bytes < b->profit_bytes;
                break;
        case TOP_SORT_MERGES:
                c = cmp_rate(a, b, a->merges_per_ksec, b->merges_per_ksec);
                break;
        case TOP_SORT_UNMERGES:
                c = cmp_rate(a, b, a->unmerges_per_ksec, b->unmerges_per_ksec);
                break;
        case TOP_SORT_PID:
                if (a->proc && b->proc) {
                        c = a->proc->pid < b->proc->pid ? -1 : a->proc->pid > b->proc->pid;
                        break;
                }
                __attribute__((fallthrough));
        case TOP_SORT_NAME:
                c = strcmp(row_name(a), row_name(b));
                break;
        default:
                break;
        }
        if (c != 0)
                return c;
        /* Ties: larger saving first, then PID or path, so that the order is stable between refreshes. */
        c = cmp_u64_desc(a->saved_bytes, b->saved_bytes);
        if (c != 0)
                return c;
        if (a->proc && b->proc)
                return a->proc->pid < b->proc->pid ? -1 : a->proc->pid > b->proc->pid;
        return strcmp(row_name(a), row_name(b));
}

static TopSortKey sort_key_arg;
static bool sort_reverse_arg;

static int cmp_rows_qsort(const void *x, const void *y) {
        int c = cmp_rows(x, y, sort_key_arg);

        return sort_reverse_arg ? -c : c;
}

void top_rows_sort(TopRow *rows, size_t n, TopSortKey key, bool reverse) {
        if (n < 2)
                return;
        sort_key_arg = key;
        sort_reverse_arg = reverse;
        qsort(rows, n, sizeof(TopRow), cmp_rows_qsort);
}

static const char *const sort_key_names[_TOP_SORT_MAX] = {
        [TOP_SORT_SAVED] = "saved",
        [TOP_SORT_PROFIT] = "profit",
        [TOP_SORT_MERGES] = "merges",
        [TOP_SORT_UNMERGES] = "unmerges",
        [TOP_SORT_PID] = "pid",
        [TOP_SORT_NAME] = "name",
};

static const char sort_key_chars[_TOP_SORT_MAX] = {
        [TOP_SORT_SAVED] = 's',
        [TOP_SORT_PROFIT] = 'p',
        [TOP_SORT_MERGES] = 'm',
        [TOP_SORT_UNMERGES] = 'u',
        [TOP_SORT_PID] = 'i',
        [TOP_SORT_NAME] = 'n',
};

const char *top_sort_key_to_string(TopSortKey k) {
        return k >= 0 && k < _TOP_SORT_MAX ? sort_key_names[k] : NULL;
}

TopSortKey top_sort_key_from_string(const char *s) {
        for (TopSortKey k = 0; s && k < _TOP_SORT_MAX; k++)
                if (streq(s, sort_key_names[k]))
                        return k;
        return _TOP_SORT_INVALID;
}

char top_sort_key_to_char(TopSortKey k) {
        return k >= 0 && k < _TOP_SORT_MAX ? sort_key_chars[k] : 0;
}

TopSortKey top_sort_key_from_char(int c) {
        for (TopSortKey k = 0; k < _TOP_SORT_MAX; k++)
                if (c == sort_key_chars[k])
                        return k;
        return _TOP_SORT_INVALID;
}

const char *top_rate_source_to_string(TopRateSource s) {
        static const char *const names[_TOP_RATE_SOURCE_MAX] = {
                [TOP_RATE_NONE] = "none",
                [TOP_RATE_MERGING_PAGES] = "merging_pages",
                [TOP_RATE_COUNTERS] = "counters",
        };

        return s >= 0 && s < _TOP_RATE_SOURCE_MAX ? names[s] : NULL;
}

static bool counter(const TopSample *s, KsmKnob k, uint64_t *ret) {
        int64_t v;

        if (!s || !s->have_ksm)
                return false;
        v = ksm_snapshot_get(&s->ksm, k, -1);
        if (v < 0)
                return false;
        *ret = (uint64_t) v;
        return true;
}

void top_host_compute(const TopSample *prev, const TopSample *cur, uint64_t page_size, TopScanClock *clock, TopHost *ret) {
        TopHost h = {};
        uint64_t a, b;

        if (prev && cur->timestamp_usec > prev->timestamp_usec)
                h.interval_usec = cur->timestamp_usec - prev->timestamp_usec;
        if (cur->have_ksm)
                ksm_report_compute(&cur->ksm, page_size, &h.report);
        (void) counter(cur, KSM_KNOB_PAGES_SHARED, &h.pages_shared);
        (void) counter(cur, KSM_KNOB_PAGES_SHARING, &h.pages_sharing);
        (void) counter(cur, KSM_KNOB_PAGES_UNSHARED, &h.pages_unshared);
        (void) counter(cur, KSM_KNOB_PAGES_VOLATILE, &h.pages_volatile);
        (void) counter(cur, KSM_KNOB_KSM_ZERO_PAGES, &h.zero_pages);
        (void) counter(cur, KSM_KNOB_FULL_SCANS, &h.full_scans);

        if (h.interval_usec > 0 && prev->have_ksmd_cpu && cur->have_ksmd_cpu) {
                h.report.have_cpu = true;
                h.report.ksmd_cpu_pmy = cpu_usage_pmy(cur->ksmd_cpu_nsec >= prev->ksmd_cpu_nsec ?
                                                      cur->ksmd_cpu_nsec - prev->ksmd_cpu_nsec : 0, h.interval_usec);
                h.report.cpu_sample_usec = h.interval_usec;
        }
        if (h.interval_usec > 0 && counter(prev, KSM_KNOB_PAGES_SCANNED, &a) && counter(cur, KSM_KNOB_PAGES_SCANNED, &b) &&
            b >= a) {
                h.have_scan_rate = true;
                h.pages_scanned_per_sec = top_rate_per_ksec(b - a, h.interval_usec) / 1000U;
        }
        if (h.interval_usec > 0 && counter(prev, KSM_KNOB_FULL_SCANS, &a) && counter(cur, KSM_KNOB_FULL_SCANS, &b) && b > a) {
                h.have_full_scan = true;
                h.full_scan_usec = h.interval_usec / (b - a);
        }

        /* The clock: when full_scans last moved (or when we started watching). */
        if (counter(cur, KSM_KNOB_FULL_SCANS, &b)) {
                if (!clock->started || b != clock->full_scans) {
                        clock->started = true;
                        clock->full_scans = b;
                        clock->changed_usec = cur->timestamp_usec;
                } else if (!h.have_full_scan)
                        h.no_full_scan_for_usec = cur->timestamp_usec - clock->changed_usec;
        }
        *ret = h;
}

void top_sanitize(char *dst, size_t size, const char *src) {
        size_t i = 0;

        assert(size > 0);
        for (; src && src[i] && i + 1 < size; i++)
                dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
        dst[i] = 0;
}

size_t top_fit(char *line, size_t width) {
        size_t n = strlen(line);

        if (width > 0 && n > width) {
                line[width] = 0;
                n = width;
        }
        return n;
}

const char *top_format_rate(char *buf, size_t size, bool have, uint64_t per_ksec) {
        if (!have)
                snprintf(buf, size, "-");
        else
                snprintf(buf, size, "%" PRIu64 ".%" PRIu64, per_ksec / 1000U, per_ksec % 1000U / 100U);
        return buf;
}

void top_format_heading(TopView view, bool daemon, char *buf, size_t size) {
        if (view == TOP_VIEW_CGROUPS)
                snprintf(buf, size, "%6s %10s %10s %9s %8s %9s %9s %s",
                         "PROCS", "SAVED", "PROFIT", "MERGING", "ZERO", "MERGES/s", "UNMRGS/s", "CGROUP");
        else
                snprintf(buf, size, "%7s %-16s %10s %10s %9s %8s %9s %9s %s%s",
                         "PID", "COMM", "SAVED", "PROFIT", "MERGING", "ZERO", "MERGES/s", "UNMRGS/s",
                         daemon ? "POLICY/STATE             " : "", "CGROUP");
}

void top_format_row(const TopRow *r, TopView view, bool daemon, char *buf, size_t size) {
        char saved[FORMAT_BYTES_MAX], profit[FORMAT_BYTES_MAX], m[32], u[32], cg[512];
        bool rated = r->rate_source != TOP_RATE_NONE;

        format_bytes(saved, sizeof(saved), (int64_t) MIN(r->saved_bytes, (uint64_t) INT64_MAX));
        if (r->have_profit)
                format_bytes(profit, sizeof(profit), r->profit_bytes);
        else
                snprintf(profit, sizeof(profit), "-");
        top_format_rate(m, sizeof(m), rated, r->merges_per_ksec);
        top_format_rate(u, sizeof(u), rated, r->unmerges_per_ksec);
        top_sanitize(cg, sizeof(cg), r->cgroup ?: "n/a");

        if (view == TOP_VIEW_CGROUPS || !r->proc)
                snprintf(buf, size, "%6" PRIu64 " %10s %10s %9" PRIu64 " %8" PRIu64 " %9s %9s %s",
                         r->n_procs, saved, profit, r->merging_pages, r->zero_pages, m, u, cg);
        else {
                char comm[PROC_COMM_MAX], d[sizeof(r->proc->daemon)], dcol[sizeof(d) + 2] = "";

                top_sanitize(comm, sizeof(comm), r->proc->comm);
                top_sanitize(d, sizeof(d), r->proc->daemon);
                if (daemon)     /* 24 wide like ps's POLICY/STATE; a longer entry pushes CGROUP right */
                        snprintf(dcol, sizeof(dcol), "%-24s ", d);
                snprintf(buf, size, "%7d %-16.16s %10s %10s %9" PRIu64 " %8" PRIu64 " %9s %9s %s%s",
                         (int) r->proc->pid, comm, saved, profit, r->merging_pages, r->zero_pages, m, u, dcol, cg);
        }
}
