/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manager-bpf.c - the daemon's use of the eBPF statistics (include/ksm-bpf.h).
 *
 * Loaded once at start-up, while the daemon still holds CAP_BPF and CAP_PERFMON (main.c drops
 * them right after): the maps and the ring buffer stay usable through the fds the object holds,
 * so a reload keeps them.  Three uses:
 *   - exec events: a process exec'ing in (or below) a cgroup a policy selects is considered at
 *     once rather than at the next rescan;
 *   - the metrics' statistics source: merges and unmerges per process, as the kernel reported
 *     them (exact), instead of changes of ksm_merging_pages between samples;
 *   - ListProcesses: per-process "merges"/"unmerges" counters (ksmctl top's rates).
 * Without eBPF (statistics "ksm_stat", or it did not load with "auto") every one of these falls
 * back: the rescan, the ksm_stat polling source, no counters; status says which and why.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>

#include "ksm-bpf.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"

static const char *const statistics_names[] = { "auto", "bpf", "ksm_stat" };

static int on_exec_event(const KsmBpfExecEvent *e, void *userdata) {
        Manager *m = userdata;

        m->n_exec_events++;
        /* With no cgroup in the filter the programs report every exec on the host: none is ours. */
        if (m->bpf_watching)
                manager_procs_exec(m, e->tgid);
        return 0;
}

static int on_exec_ready(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        int r;

        r = ksm_bpf_exec_consume(m->bpf, on_exec_event, m);
        if (r < 0)
                log_debug_errno(r, "Reading exec events failed: %m");
        return 0;
}

int manager_bpf_startup(Manager *m) {
        KsmBpfOptions opts = {
                /* Enough for every process the daemon may track, and the LRU evicts the oldest. */
                .max_processes = (uint32_t) MIN(MAX(m->config.max_tracked, (uint64_t) KSM_BPF_MAX_PROCESSES_DEFAULT),
                                                (uint64_t) 1000000),
                .exec_events = true,
        };
        char why[256] = "";
        int r;

        if (m->config.statistics == DAEMON_STATISTICS_KSM_STAT) {
                m->bpf_why = strdup("statistics is \"ksm_stat\" in the daemon config");
                log_info("Statistics: polling /proc/PID/ksm_stat (%s).", m->bpf_why ?: "configured");
                return 0;
        }
        r = ksm_bpf_open(&opts, &m->bpf, why, sizeof(why));
        if (r < 0) {
                m->bpf_why = strdup(why[0] ? why : strerror(-r));
                if (m->config.statistics == DAEMON_STATISTICS_BPF)
                        return log_error_errno(r, "eBPF statistics are required (statistics \"bpf\") but cannot be loaded: %s",
                                               why[0] ? why : strerror(-r));
                log_notice("eBPF statistics unavailable (%s): polling /proc/PID/ksm_stat, new processes found by the rescan.",
                           m->bpf_why ?: "?");
                return 0;
        }
        if (ksm_bpf_features(m->bpf) & KSM_BPF_FEATURE_EXEC) {
                r = sd_event_add_io(m->event, &m->bpf_exec_source, ksm_bpf_exec_fd(m->bpf), EPOLLIN, on_exec_ready, m);
                if (r < 0)
                        log_warning_errno(r, "Cannot watch the exec ring buffer, new processes found by the rescan only: %m");
                else
                        (void) sd_event_source_set_description(m->bpf_exec_source, "bpf-exec");
        }
        {
                unsigned f = ksm_bpf_features(m->bpf);

                log_info("Statistics: eBPF on the ksm tracepoints (removals %s, zero pages %s, end-of-scan resync %s, "
                         "advisor %s, exec events %s).",
                         f & KSM_BPF_FEATURE_REMOVALS ? "yes" : "no", f & KSM_BPF_FEATURE_ZERO_PAGES ? "yes" : "no",
                         f & KSM_BPF_FEATURE_SYNC ? "yes" : "no", f & KSM_BPF_FEATURE_ADVISOR ? "yes" : "no",
                         m->bpf_exec_source ? "yes" : "no");
        }
        return 0;
}

static int snap_one(const KsmBpfProcess *p, void *userdata) {
        Manager *m = userdata;

        if (m->n_bpf_snap >= m->n_bpf_snap_allocated) {
                size_t n = MAX(m->n_bpf_snap_allocated * 2, (size_t) 256);
                KsmBpfProcess *a = realloc(m->bpf_snap, n * sizeof(KsmBpfProcess));

                if (!a)
                        return -ENOMEM;
                m->bpf_snap = a;
                m->n_bpf_snap_allocated = n;
        }
        m->bpf_snap[m->n_bpf_snap++] = *p;
        return pidmap_put(&m->bpf_snap_index, p->tgid, (void *) (uintptr_t) m->n_bpf_snap);
}

int manager_bpf_snapshot(Manager *m) {
        int r;

        m->have_bpf_snap = false;
        if (!m->bpf)
                return 0;
        pidmap_done(&m->bpf_snap_index);
        m->n_bpf_snap = 0;
        r = ksm_bpf_foreach_process(m->bpf, snap_one, m);
        if (r < 0)
                return log_debug_errno(r, "Reading the eBPF process map failed: %m");
        m->have_bpf_snap = true;
        return 0;
}

const KsmBpfProcess *manager_bpf_lookup(Manager *m, pid_t pid) {
        uintptr_t i;

        if (!m->have_bpf_snap)
                return NULL;
        i = (uintptr_t) pidmap_get(&m->bpf_snap_index, pid);
        return i > 0 && i <= m->n_bpf_snap ? &m->bpf_snap[i - 1] : NULL;
}

void manager_bpf_done(Manager *m) {
        pidmap_done(&m->bpf_snap_index);
        free(m->bpf_snap);
        m->bpf_snap = NULL;
        m->n_bpf_snap = m->n_bpf_snap_allocated = 0;
        m->have_bpf_snap = false;
        m->bpf_exec_source = sd_event_source_disable_unref(m->bpf_exec_source);
        m->bpf = ksm_bpf_free(m->bpf);
        free(m->bpf_why);
        m->bpf_why = NULL;
}

void manager_bpf_watch_cgroup(Manager *m, int fd, const char *path) {
        struct stat st;
        int r;

        if (!m->bpf || !m->bpf_exec_source)
                return;
        /* On cgroup2 the cgroup id is the inode number of its directory. */
        if (fstat(fd, &st) < 0)
                return;
        r = ksm_bpf_watch_cgroup(m->bpf, (uint64_t) st.st_ino, true);
        if (r >= 0)
                m->bpf_watching = true;
        else if (r == -E2BIG && !m->bpf_watch_full) {
                m->bpf_watch_full = true;
                log_notice("More cgroups selected by policies than the eBPF filter holds; exec events in '%s' and "
                           "later ones are missed, the rescan finds those processes.", path);
        }
}

/* ---- the metrics' statistics source ------------------------------------------------------ */

typedef struct BpfSource {
        MetricsSource base;
        Manager *manager;       /* outlives the metrics; its snapshot is taken before each sample */
        KsmBpf *bpf;
} BpfSource;

static int bpf_source_read(MetricsSource *s, const MetricsProcess *p, MetricsCounters *ret) {
        BpfSource *b = (BpfSource *) s;
        const KsmBpfProcess *x;
        KsmBpfProcess one;

        if (b->manager->have_bpf_snap)
                x = manager_bpf_lookup(b->manager, p->tgid);
        else
                x = ksm_bpf_read_process(b->bpf, p->tgid, &one) >= 0 ? &one : NULL;
        if (!x)
                return 0;
        *ret = (MetricsCounters) { .merges = x->merges + x->zero_merges, .unmerges = x->removals };
        return 1;
}

static void bpf_source_forget(MetricsSource *s, pid_t tgid) {
        BpfSource *b = (BpfSource *) s;

        (void) ksm_bpf_forget(b->bpf, tgid);
}

static void bpf_source_free(MetricsSource *s) {
        free(s);
}

static const MetricsSourceOps bpf_source_ops = {
        .name = "eBPF (ksm tracepoints)",
        .exact = true,
        .read = bpf_source_read,
        .forget = bpf_source_forget,
        .free = bpf_source_free,
};

int manager_bpf_metrics_source(Manager *m, MetricsSource **ret) {
        BpfSource *b;

        if (!m->bpf)
                return metrics_source_ksm_stat_new(ret);
        b = new0(BpfSource, 1);
        if (!b)
                return -ENOMEM;
        *b = (BpfSource) { .base.ops = &bpf_source_ops, .manager = m, .bpf = m->bpf };
        *ret = &b->base;
        return 0;
}

void manager_bpf_process_json(Manager *m, pid_t pid, json_t *o) {
        KsmBpfProcess x;

        if (!m->bpf || ksm_bpf_read_process(m->bpf, pid, &x) < 0)
                return;
        (void) json_object_set_new(o, "merges", json_integer((json_int_t) (x.merges + x.zero_merges)));
        (void) json_object_set_new(o, "unmerges", json_integer((json_int_t) x.removals));
}

json_t *manager_bpf_json(Manager *m) {
        KsmBpfCounters c = {};
        KsmBpfScan scans[1];
        uint64_t n_scans = 0;
        unsigned f;
        json_t *o;

        o = json_pack("{s:s, s:b, s:s?, s:I, s:I}",
                      "config", statistics_names[m->config.statistics],
                      "bpf", m->bpf != NULL,
                      "why_not", m->bpf ? NULL : m->bpf_why,
                      "exec_events", (json_int_t) m->n_exec_events,
                      "exec_considered", (json_int_t) m->n_exec_considered);
        if (!o || !m->bpf)
                return o;
        f = ksm_bpf_features(m->bpf);
        (void) json_object_set_new(o, "features", json_pack("{s:b, s:b, s:b, s:b, s:b}",
                                                            "removals", (f & KSM_BPF_FEATURE_REMOVALS) != 0,
                                                            "zero_pages", (f & KSM_BPF_FEATURE_ZERO_PAGES) != 0,
                                                            "sync", (f & KSM_BPF_FEATURE_SYNC) != 0,
                                                            "advisor", (f & KSM_BPF_FEATURE_ADVISOR) != 0,
                                                            "exec", m->bpf_exec_source != NULL));
        if (ksm_bpf_counters(m->bpf, &c) >= 0)
                (void) json_object_set_new(o, "counters", json_pack("{s:I, s:I, s:I, s:I, s:I}",
                                                                    "unattributed", (json_int_t) c.unattributed,
                                                                    "map_full", (json_int_t) c.map_full,
                                                                    "exec_seen", (json_int_t) c.exec_seen,
                                                                    "exec_dropped", (json_int_t) c.exec_dropped,
                                                                    "syncs", (json_int_t) c.syncs));
        if (ksm_bpf_scans(m->bpf, scans, 1, &n_scans) == 1 && scans[0].duration_usec > 0)
                (void) json_object_set_new(o, "last_full_scan", json_pack("{s:I, s:I, s:I}",
                                                                          "seq", (json_int_t) scans[0].seq,
                                                                          "duration_usec", (json_int_t) scans[0].duration_usec,
                                                                          "rmap_entries", (json_int_t) scans[0].rmap_entries));
        (void) json_object_set_new(o, "full_scans_seen", json_integer((json_int_t) n_scans));
        return o;
}
