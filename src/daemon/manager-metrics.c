/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manager-metrics.c - the daemon's metrics: at each sample, reads ksm_stat of the tracked processes
 * worth reading, feeds them with the KSM counters to the metrics module (metrics.h), logs one
 * journal record for the host and one per policy-matched cgroup, and replaces the Prometheus file.
 *
 * The file: written atomically (a temporary file in the same directory, renamed over it), so
 * node_exporter never reads a partial one; removed when the daemon stops or when metrics_file
 * changes, so that a stopped daemon leaves no stale figures behind (absent() alerts on it).  A
 * daemon that is killed leaves its last file; node_textfile_mtime_seconds shows its age.  The
 * default path is used only while its directory exists (node_exporter installed).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksm-stat.h"
#include "ksm-bpf.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "parse-util.h"

struct ManagerMetrics {
        MetricsState *state;
        char *written_path;             /* the file we wrote, until we remove it */
        int file_error;                 /* last write's negative errno, 0 if it worked */
        uint64_t last_write_realtime_usec;
        uint64_t n_writes;
        size_t n_cgroups;               /* cgroup records of the last sample */
        uint64_t n_samples;
        uint64_t n_stat_reads, n_stat_cached;   /* ksm_stat read, or reused (eBPF saw no change) */
};

int manager_metrics_startup(Manager *m) {
        _cleanup_(metrics_source_freep) MetricsSource *src = NULL;
        ManagerMetrics *mm;
        int r;

        /* eBPF when it loaded (manager_bpf_startup() ran before), else ksm_stat polling. */
        r = manager_bpf_metrics_source(m, &src);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the statistics source: %m");
        mm = new0(ManagerMetrics, 1);
        if (!mm)
                return log_error_errno(-ENOMEM, "Out of memory.");
        r = metrics_state_new(src, &mm->state);
        if (r < 0) {
                free(mm);
                return log_error_errno(r, "Failed to set up the metrics: %m");
        }
        TAKE_PTR(src);
        m->metrics = mm;
        log_info("Metrics: statistics source %s; metrics file %s.", metrics_source_name(metrics_state_source(mm->state)),
                 m->config.metrics_file ? m->config.metrics_file : "none");
        return 0;
}

static void remove_written(ManagerMetrics *mm) {
        if (!mm->written_path)
                return;
        if (unlink(mm->written_path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove the metrics file '%s', ignoring: %m", mm->written_path);
        free(mm->written_path);
        mm->written_path = NULL;
}

void manager_metrics_done(Manager *m) {
        ManagerMetrics *mm = m->metrics;

        if (!mm)
                return;
        remove_written(mm);
        metrics_state_free(mm->state);
        free(mm);
        m->metrics = NULL;
}

/* Which processes to read ksm_stat of: those that are (or were just) mergeable.  The others have
 * no KSM pages, and reading every tracked process would cost a procfs read each per sample. */
static bool worth_reading(Manager *m, const Tracked *t) {
        return IN_SET(t->state, TRACK_ENABLED, TRACK_ALREADY, TRACK_WASTED) ||
               metrics_process_had_ksm(m->metrics->state, t->ref.pid);
}

/* With eBPF, a process's ksm_stat is read again only when the programs saw a merge or a removal
 * of it since the last reading, or after STAT_REFRESH_SAMPLES to 2 * STAT_REFRESH_SAMPLES - 1
 * samples, spread by pid (ksm_rmap_items grows while
 * ksmd scans without merging: the profit may lag that long). */
#define STAT_REFRESH_SAMPLES 6

/* From the snapshot taken at the start of the sample (manager_bpf_snapshot()). */
static bool bpf_counts(Manager *m, const Tracked *t, uint64_t *merges, uint64_t *removals, uint64_t *merged) {
        const KsmBpfProcess *x;

        if (!m->have_bpf_snap)
                return false;
        x = manager_bpf_lookup(m, t->ref.pid);
        if (!x) {
                *merges = *removals = *merged = 0;      /* no merge of it seen */
                return true;
        }
        *merges = x->merges + x->zero_merges;
        *removals = x->removals;
        *merged = x->merged_pages;
        return true;
}

static void log_records(const Metrics *x) {
        char saved[FORMAT_BYTES_MAX], cpu[FORMAT_PMY_MAX + 2] = "n/a", iv[FORMAT_DURATION_MAX] = "the first sample";

        if (x->have_ksmd_cpu_pmy) {
                format_pmy(cpu, sizeof(cpu) - 1, x->ksmd_cpu_pmy);
                strcat(cpu, "%");
        }
        if (x->interval_usec > 0)
                format_duration(iv, sizeof(iv), x->interval_usec);

        {
                _cleanup_(log_fields_done) LogFields f = {};

                log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_METRICS_HOST);
                metrics_journal_host(x, &f);
                log_fields_send(&f, LOG_INFO, 0,
                                "Metrics: saved %s, %" PRIu64 " pages merged and %" PRIu64 " unmerged in %s, ksmd CPU %s, "
                                "%" PRIu64 " of %" PRIu64 " processes enabled, %zu cgroups (%s)",
                                x->ksm ? format_bytes(saved, sizeof(saved), (int64_t) x->host.saved_bytes) : "n/a",
                                x->host.merges, x->host.unmerges, iv, cpu, x->host.processes_enabled,
                                x->host.processes_tracked, x->n_cgroups, x->source);
        }
        for (size_t i = 0; i < x->n_cgroups; i++) {
                _cleanup_(log_fields_done) LogFields f = {};
                const MetricsGroup *g = &x->cgroups[i];

                log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_METRICS_CGROUP);
                metrics_journal_cgroup(x, g, &f);
                log_fields_send(&f, LOG_INFO, 0,
                                "Metrics for '%s': saved %s, %" PRIu64 " pages merged and %" PRIu64 " unmerged in %s, "
                                "%" PRIu64 " of %" PRIu64 " processes enabled",
                                g->cgroup, format_bytes(saved, sizeof(saved), (int64_t) g->saved_bytes), g->merges,
                                g->unmerges, iv, g->processes_enabled, g->processes_tracked);
        }
}

static void write_file(Manager *m, const Metrics *x) {
        ManagerMetrics *mm = m->metrics;
        const char *path = m->config.metrics_file;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        if (mm->written_path && !streq_ptr(mm->written_path, path))
                remove_written(mm);     /* metrics_file changed or was switched off by a reload */
        if (!path)
                return;

        r = metrics_format_prometheus(x, &text, &size);
        if (r >= 0)
                r = metrics_write_file_atomic(path, text, size);
        if (r < 0) {
                /* Once per distinct error, not per sample. */
                if (r != mm->file_error) {
                        if (r == -ENOENT && streq(path, METRICS_FILE_DEFAULT))
                                log_info("Not writing metrics to '%s': its directory does not exist (node_exporter's "
                                         "textfile collector is not installed); looking again at every sample.", path);
                        else
                                log_warning_errno(r, "Cannot write the metrics file '%s', trying again at every "
                                                  "sample: %m", path);
                }
                mm->file_error = r;
                return;
        }
        if (mm->file_error != 0)
                log_info("Metrics file '%s' written again.", path);
        mm->file_error = 0;
        mm->n_writes++;
        mm->last_write_realtime_usec = now_usec(CLOCK_REALTIME);
        if (!mm->written_path) {
                mm->written_path = strdup(path);
                if (!mm->written_path)
                        (void) log_error_errno(-ENOMEM, "Out of memory.");
        }
}

void manager_metrics_sample(Manager *m, const KsmSnapshot *snap, bool have_cpu_ns, uint64_t cpu_ns,
                            bool have_cpu_pmy, uint64_t cpu_pmy) {
        _cleanup_free_ MetricsProcess *procs = NULL;
        _cleanup_free_ KsmStat *stats = NULL;
        const Metrics *x = NULL;
        MetricsSample sample;
        size_t n = 0;
        Tracked *t;
        int r;

        if (!m->metrics)
                return;

        procs = new0(MetricsProcess, m->tracked.n + 1);
        stats = new0(KsmStat, m->tracked.n + 1);
        if (!procs || !stats) {
                (void) log_error_errno(-ENOMEM, "Out of memory.");
                return;
        }
        m->metrics->n_samples++;
        (void) manager_bpf_snapshot(m);
        for (size_t i = 0; pidmap_next(&m->tracked, &i, NULL, (void **) &t); ) {
                const KsmStat *st = NULL;

                if (worth_reading(m, t)) {
                        uint64_t c[3];
                        /* eBPF's counts before the reading: a merge in between makes the next
                         * sample read again rather than keep a reading that misses it. */
                        bool have_counts = m->bpf && bpf_counts(m, t, &c[0], &c[1], &c[2]);
                        /* Refreshes are spread over the samples (by pid), not all at once. */
                        bool cached = have_counts && t->have_stat_cache &&
                                      (m->metrics->n_samples - t->stat_cache_sample < STAT_REFRESH_SAMPLES ||
                                       (m->metrics->n_samples + (uint64_t) t->ref.pid) % STAT_REFRESH_SAMPLES != 0) &&
                                      m->metrics->n_samples - t->stat_cache_sample < 2 * STAT_REFRESH_SAMPLES &&
                                      c[0] == t->stat_cache_merges && c[1] == t->stat_cache_removals &&
                                      c[2] == t->stat_cache_merged;

                        if (cached) {
                                stats[n] = t->stat_cache;
                                m->metrics->n_stat_cached++;
                                r = 0;
                        } else {
                                r = ksm_stat_read_at(m->proc_fd, t->ref.pid, &stats[n]);
                                m->metrics->n_stat_reads++;
                        }
                        if (IN_SET(r, -ESRCH, -ENOENT))
                                continue;       /* exited: its pidfd event forgets it */
                        if (r >= 0) {
                                st = &stats[n];
                                if (!cached) {
                                        t->have_stat_cache = have_counts;
                                        t->stat_cache = *st;
                                        t->stat_cache_sample = m->metrics->n_samples;
                                        if (have_counts) {
                                                t->stat_cache_merges = c[0];
                                                t->stat_cache_removals = c[1];
                                                t->stat_cache_merged = c[2];
                                        }
                                }
                        } else
                                log_debug_errno(r, "Cannot read ksm_stat of %d, ignoring: %m", (int) t->ref.pid);
                }
                procs[n++] = (MetricsProcess) {
                        .tgid = t->ref.pid,
                        .cgroup = t->cgroup,
                        .policy = t->policy,
                        .enabled = t->state == TRACK_ENABLED,
                        .stat = st,
                        .from_zero = t->merged_by_us,
                };
        }

        sample = (MetricsSample) {
                .timestamp_usec = now_usec(CLOCK_MONOTONIC),
                .page_size = m->page_size,
                .ksm = snap,
                .have_ksmd_cpu = have_cpu_ns,
                .ksmd_cpu_ns = cpu_ns,
                .have_ksmd_cpu_pmy = have_cpu_pmy,
                .ksmd_cpu_pmy = cpu_pmy,
                .processes = procs,
                .n_processes = n,
        };
        r = metrics_update(m->metrics->state, &sample, &x);
        if (r < 0) {
                log_warning_errno(r, "Cannot compute the metrics of this sample, skipping it: %m");
                return;
        }
        m->metrics->n_cgroups = x->n_cgroups;
        log_records(x);
        write_file(m, x);
}

json_t *manager_metrics_json(Manager *m) {
        ManagerMetrics *mm = m->metrics;
        const MetricsSource *src = mm ? metrics_state_source(mm->state) : NULL;

        if (!mm)
                return json_null();
        return json_pack("{s:s, s:b, s:s?, s:b, s:s?, s:I, s:I, s:I, s:I, s:I}",
                         "source", metrics_source_name(src),
                         "exact", src->ops->exact,
                         "file", m->config.metrics_file,
                         "file_written", mm->written_path != NULL && mm->file_error == 0,
                         "file_error", mm->file_error < 0 ? strerror(-mm->file_error) : NULL,
                         "last_write_realtime_usec", (json_int_t) mm->last_write_realtime_usec,
                         "writes", (json_int_t) mm->n_writes,
                         "cgroups", (json_int_t) mm->n_cgroups,
                         "ksm_stat_reads", (json_int_t) mm->n_stat_reads,
                         "ksm_stat_reused", (json_int_t) mm->n_stat_cached);
}
