/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manager-tuner.c - the tuner's I/O: sample, step the pure tuner, apply its decision to
 * /sys/kernel/mm/ksm, and leave ksmd as configured at exit.
 *
 * Write order matters: the kernel rejects pages_to_scan while advisor_mode is scan-time, so the
 * advisor is switched off before the pace is written and switched on only after its own knobs;
 * run comes last so ksmd never starts at the previous pace.  A failed write is logged once per
 * (knob, errno) and the tuner carries on with the next step.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksm-stat.h"
#include "log.h"
#include "manager.h"
#include "proc-stat.h"
#include "proc-status.h"

static int write_knob(Manager *m, KsmKnob k, int64_t v) {
        int r;

        r = ksm_sysfs_write(m->ksm, k, v);
        if (r < 0) {
                /* Once per knob and errno, not per step. */
                if (m->knob_failed[k] != r)
                        log_warning_errno(r, "Tuner: writing %s=%" PRIi64 " failed, carrying on: %m", ksm_knob_to_string(k), v);
                m->knob_failed[k] = r;
                free(m->tuner_error);
                if (asprintf(&m->tuner_error, "%s=%" PRIi64 ": %s", ksm_knob_to_string(k), v, strerror(-r)) < 0)
                        m->tuner_error = NULL;
                return r;
        }
        m->knobs_written |= 1U << k;
        if (m->knob_failed[k] != 0) {
                m->knob_failed[k] = 0;
                bool any = false;

                for (KsmKnob i = 0; i < _KSM_KNOB_MAX; i++)
                        any = any || m->knob_failed[i] != 0;
                if (!any) {
                        free(m->tuner_error);
                        m->tuner_error = NULL;
                }
        }
        return 0;
}

static void apply(Manager *m, const TunerDecision *d) {
        if (d->set_advisor && d->advisor_mode == 0)
                (void) write_knob(m, KSM_KNOB_ADVISOR_MODE, 0);
        if (d->set_pages_to_scan)
                (void) write_knob(m, KSM_KNOB_PAGES_TO_SCAN, d->pages_to_scan);
        if (d->set_sleep)
                (void) write_knob(m, KSM_KNOB_SLEEP_MILLISECS, d->sleep_msec);
        if (d->set_advisor && d->advisor_mode == 1) {
                (void) write_knob(m, KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, d->advisor_target_scan_time);
                (void) write_knob(m, KSM_KNOB_ADVISOR_MAX_CPU, d->advisor_max_cpu);
                (void) write_knob(m, KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, d->advisor_max_pages_to_scan);
                (void) write_knob(m, KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, d->advisor_min_pages_to_scan);
                (void) write_knob(m, KSM_KNOB_ADVISOR_MODE, 1);
        }
        if (d->set_use_zero_pages)
                (void) write_knob(m, KSM_KNOB_USE_ZERO_PAGES, d->use_zero_pages);
        if (d->set_smart_scan)
                (void) write_knob(m, KSM_KNOB_SMART_SCAN, d->smart_scan);
        if (d->set_max_page_sharing)
                (void) write_knob(m, KSM_KNOB_MAX_PAGE_SHARING, d->max_page_sharing);
        if (d->set_merge_across_nodes)
                (void) write_knob(m, KSM_KNOB_MERGE_ACROSS_NODES, d->merge_across_nodes);
        if (d->set_run)
                (void) write_knob(m, KSM_KNOB_RUN, d->run);
}

static void observe(Manager *m, TunerObservation *o) {
        KsmSnapshot s;
        MemInfo mi;
        PsiStats psi;
        Tracked *t;
        nsec_t cpu;

        *o = (TunerObservation) {
                .now_usec = now_usec(CLOCK_MONOTONIC),
                .page_size = m->page_size,
                .run = -1, .pages_to_scan = -1, .sleep_msec = -1, .advisor_mode = -1,
        };
        ksm_sysfs_snapshot(m->ksm, &s);
        o->have_counters = s.present[KSM_KNOB_PAGES_SHARING] && s.error[KSM_KNOB_PAGES_SHARING] == 0;
        o->pages_sharing = (uint64_t) ksm_snapshot_get(&s, KSM_KNOB_PAGES_SHARING, 0);
        o->pages_shared = (uint64_t) ksm_snapshot_get(&s, KSM_KNOB_PAGES_SHARED, 0);
        o->pages_unshared = (uint64_t) ksm_snapshot_get(&s, KSM_KNOB_PAGES_UNSHARED, 0);
        o->pages_volatile = (uint64_t) ksm_snapshot_get(&s, KSM_KNOB_PAGES_VOLATILE, 0);
        o->full_scans = (uint64_t) ksm_snapshot_get(&s, KSM_KNOB_FULL_SCANS, 0);
        o->pages_scanned = (uint64_t) ksm_snapshot_get(&s, KSM_KNOB_PAGES_SCANNED, 0);
        o->run = ksm_snapshot_get(&s, KSM_KNOB_RUN, -1);
        o->pages_to_scan = ksm_snapshot_get(&s, KSM_KNOB_PAGES_TO_SCAN, -1);
        o->sleep_msec = ksm_snapshot_get(&s, KSM_KNOB_SLEEP_MILLISECS, -1);
        o->advisor_mode = ksm_snapshot_get(&s, KSM_KNOB_ADVISOR_MODE, -1);
        o->use_zero_pages = ksm_snapshot_get(&s, KSM_KNOB_USE_ZERO_PAGES, -1);
        o->smart_scan = ksm_snapshot_get(&s, KSM_KNOB_SMART_SCAN, -1);
        o->max_page_sharing = ksm_snapshot_get(&s, KSM_KNOB_MAX_PAGE_SHARING, -1);
        o->merge_across_nodes = ksm_snapshot_get(&s, KSM_KNOB_MERGE_ACROSS_NODES, -1);
        o->stable_node_chains = ksm_snapshot_get(&s, KSM_KNOB_STABLE_NODE_CHAINS, -1);
        o->stable_node_dups = ksm_snapshot_get(&s, KSM_KNOB_STABLE_NODE_DUPS, -1);

        if (m->ksmd_pid > 0 && proc_cpu_time_read_at(m->proc_fd, m->ksmd_pid, m->ticks_per_sec, &cpu) >= 0) {
                o->have_cpu = true;
                o->ksmd_cpu_ns = cpu;
        }
        if (meminfo_read_at(m->proc_fd, &mi) >= 0) {
                o->mem_total_kb = mi.total / 1024;
                o->mem_available_kb = mi.available / 1024;
                o->mem_free_kb = mi.free / 1024;
                o->buffers_kb = mi.buffers / 1024;
                o->cached_kb = mi.cached / 1024;
        }
        if (psi_read_at(m->proc_fd, "pressure/memory", &psi) >= 0) {
                o->have_psi = true;
                o->psi_some_avg10_pmy = psi.some.avg10_pmy;
        }
        o->new_mergeable_bytes = m->tuner_new_bytes;
        for (size_t i = 0; pidmap_next(&m->tracked, &i, NULL, (void **) &t); )
                if (t->state == TRACK_ENABLED)
                        o->committed_kb += t->anon_bytes / 1024;
}

/* How long after the daemon made a process mergeable its anonymous memory is still followed. */
#define GROWTH_WINDOW_USEC (60 * USEC_PER_SEC)

/*
 * New mergeable memory the enable event did not show: a process found at its exec (eBPF) or early
 * in its start-up is made mergeable before it has filled its memory, so its RssAnon at that moment
 * says little.  For a minute after, each step re-reads RssAnon of the processes the daemon made
 * mergeable and counts the growth as new mergeable memory (a few reads of /proc/PID/status: only
 * recently enabled processes are read).
 */
static void note_growth(Manager *m) {
        uint64_t now = now_usec(CLOCK_REALTIME);
        Tracked *t;

        for (size_t i = 0; pidmap_next(&m->tracked, &i, NULL, (void **) &t); ) {
                ProcStatus ps;

                if (t->state != TRACK_ENABLED || !t->merged_by_us || t->enabled_realtime_usec + GROWTH_WINDOW_USEC < now)
                        continue;
                if (proc_status_read_at(m->proc_fd, t->ref.pid, 0, &ps) < 0 || ps.rss_anon_bytes <= t->anon_bytes)
                        continue;
                m->tuner_new_bytes += ps.rss_anon_bytes - t->anon_bytes;
                t->anon_bytes = ps.rss_anon_bytes;
        }
}

static int on_tuner_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        TunerObservation o;
        TunerDecision d;
        TunerPhase before = m->tuner_state.phase;
        int r;

        r = sd_event_source_set_time_relative(s, m->config.tuner_interval_usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "Failed to re-arm the tuner timer: %m");

        if (m->config.tuner.mode == TUNER_MODE_ADAPTIVE)
                note_growth(m);
        observe(m, &o);
        m->tuner_new_bytes = 0;
        r = tuner_step(&m->config.tuner, &o, &m->tuner_state, &d);
        if (r < 0)
                return 0;
        if (r > 0)
                apply(m, &d);
        if (r > 0 || d.phase != before) {
                _cleanup_(log_fields_done) LogFields f = {};

                m->tuner_decision = d;
                m->tuner_decision_realtime_usec = now_usec(CLOCK_REALTIME);
                log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_TUNING_CHANGED);
                log_fields_add(&f, "KSMT_MODE=%s", tuner_mode_to_string(m->config.tuner.mode));
                log_fields_add(&f, "KSMT_PHASE=%s", tuner_phase_to_string(d.phase));
                log_fields_add(&f, "KSMT_REASON=%s", d.reason);
                if (d.set_pages_to_scan)
                        log_fields_add(&f, "KSMT_PAGES_TO_SCAN=%" PRIi64, d.pages_to_scan);
                if (d.set_sleep)
                        log_fields_add(&f, "KSMT_SLEEP_MSEC=%" PRIi64, d.sleep_msec);
                if (d.set_run)
                        log_fields_add(&f, "KSMT_RUN=%" PRIi64, d.run);
                /* Phase changes are what an admin looks for; pace adjustments inside a phase are detail. */
                log_fields_send(&f, d.phase != before ? LOG_NOTICE : LOG_DEBUG, 0, "Tuner %s, %s: %s",
                                tuner_mode_to_string(m->config.tuner.mode), tuner_phase_to_string(d.phase), d.reason);
        }
        return 0;
}

void manager_tuner_note_enabled(Manager *m, uint64_t bytes) {
        m->tuner_new_bytes += bytes;
        /* Enough new mergeable memory for a sprint: step now rather than at the next tick (up to
         * tuner.interval later), since the saving comes no sooner than ksmd's second pass anyway. */
        if (m->tuner_timer && m->config.tuner.mode == TUNER_MODE_ADAPTIVE &&
            m->tuner_new_bytes >= m->config.tuner.sprint_trigger_bytes)
                (void) sd_event_source_set_time_relative(m->tuner_timer, 0);
}

int manager_tuner_startup(Manager *m) {
        int r;

        if (!m->ksm || m->config.tuner.mode == TUNER_MODE_OFF)
                return 0;
        ksm_sysfs_snapshot(m->ksm, &m->knobs_at_start);

        r = sd_event_add_time_relative(m->event, &m->tuner_timer, CLOCK_MONOTONIC, 0, USEC_PER_MSEC, on_tuner_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the tuner timer: %m");
        (void) sd_event_source_set_description(m->tuner_timer, "tuner-timer");
        log_info("Tuner: mode %s, every %" PRIu64 " ms; at exit: %s.", tuner_mode_to_string(m->config.tuner.mode),
                 m->config.tuner_interval_usec / USEC_PER_MSEC,
                 (const char *[]) { "restore the knobs found at start", "keep the last values", "stop ksmd, merged pages stand" }
                         [m->config.at_exit]);
        return 0;
}

static void restore(Manager *m) {
        static const KsmKnob order[] = {
                KSM_KNOB_ADVISOR_MODE,          /* off first, so pages_to_scan can be written */
                KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, KSM_KNOB_ADVISOR_MAX_CPU,
                KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN,
                KSM_KNOB_PAGES_TO_SCAN, KSM_KNOB_SLEEP_MILLISECS, KSM_KNOB_USE_ZERO_PAGES, KSM_KNOB_SMART_SCAN,
                KSM_KNOB_MAX_PAGE_SHARING, KSM_KNOB_MERGE_ACROSS_NODES, KSM_KNOB_RUN,
        };
        const KsmSnapshot *s = &m->knobs_at_start;
        bool advisor_was_on = ksm_snapshot_get(s, KSM_KNOB_ADVISOR_MODE, 0) == 1;

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                KsmKnob k = order[i];

                if (!(m->knobs_written & (1U << k)) || !s->present[k] || s->error[k] < 0)
                        continue;
                if (k == KSM_KNOB_ADVISOR_MODE && advisor_was_on)
                        continue;       /* switched back on below, after its knobs */
                (void) write_knob(m, k, s->value[k]);
        }
        if (advisor_was_on && (m->knobs_written & (1U << KSM_KNOB_ADVISOR_MODE)))
                (void) write_knob(m, KSM_KNOB_ADVISOR_MODE, 1);
}

void manager_tuner_done(Manager *m) {
        m->tuner_timer = sd_event_source_disable_unref(m->tuner_timer);
        if (m->ksm && m->knobs_written) {
                switch (m->config.at_exit) {
                case DAEMON_AT_EXIT_RESTORE:
                        restore(m);
                        log_info("Tuner: KSM knobs restored to the values found at start.");
                        break;
                case DAEMON_AT_EXIT_STOP:
                        (void) write_knob(m, KSM_KNOB_RUN, 0);
                        log_info("Tuner: ksmd stopped, merged pages stand.");
                        break;
                default:
                        break;
                }
        }
        m->knobs_written = 0;
        free(m->tuner_error);
        m->tuner_error = NULL;
}

json_t *manager_tuner_json(Manager *m) {
        const TunerDecision *d = &m->tuner_decision;

        return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:s?, s:s}",
                         "mode", tuner_mode_to_string(m->config.tuner.mode),
                         "phase", tuner_phase_to_string(m->tuner_state.phase),
                         "reason", d->reason,
                         "changed_realtime_usec", (json_int_t) m->tuner_decision_realtime_usec,
                         "pages_to_scan", (json_int_t) (m->ksm ? ({ int64_t v = -1; ksm_sysfs_read(m->ksm, KSM_KNOB_PAGES_TO_SCAN, &v); v; }) : -1),
                         "sleep_msec", (json_int_t) (m->ksm ? ({ int64_t v = -1; ksm_sysfs_read(m->ksm, KSM_KNOB_SLEEP_MILLISECS, &v); v; }) : -1),
                         "ksmd_cpu_pmy", (int) m->tuner_state.last_cpu_pmy,
                         "last_write_error", m->tuner_error,
                         "at_exit", (const char *[]) { "restore", "keep", "stop" }[m->config.at_exit]);
}
