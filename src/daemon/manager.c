/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manager.c - event loop wiring.
 *
 * Timer: re-arm first, then sample, so a slow sample never stretches the interval.
 * Reload (SIGHUP) follows the only safe shape: RELOADING=1, build a new config, swap it in only if
 * valid, READY=1 either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "control.h"
#include "ksm-report.h"
#include "log.h"
#include "manager.h"
#include "missing.h"
#include "parse-util.h"
#include "proc-stat.h"

int manager_new(const char *config_path, bool config_optional, int log_level_override,
                char **policy_dirs, size_t n_policy_dirs, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;

        m = new0(Manager, 1);
        if (!m)
                return -ENOMEM;
        *m = (Manager) {
                .proc_fd = -EBADF,
                .inotify_fd = -EBADF,
                .config_optional = config_optional,
                .log_level_override = log_level_override,
                .page_size = (uint64_t) sysconf(_SC_PAGESIZE),
                .ticks_per_sec = sysconf(_SC_CLK_TCK),
        };
        daemon_config_init(&m->config);
        m->config_path = strdup(config_path);
        if (!m->config_path)
                return -ENOMEM;
        m->policy_dirs = new0(char *, n_policy_dirs + 1);
        if (!m->policy_dirs)
                return -ENOMEM;
        for (size_t i = 0; i < n_policy_dirs; i++) {
                m->policy_dirs[i] = strdup(policy_dirs[i]);
                if (!m->policy_dirs[i])
                        return -ENOMEM;
                m->n_policy_dirs++;
        }
        m->started_realtime_usec = now_usec(CLOCK_REALTIME);
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        control_free(m->control);
        manager_metrics_done(m);
        manager_bpf_done(m);
        manager_tuner_done(m);
        manager_procs_done(m);
        sd_event_source_disable_unref(m->sample_timer);
        sd_event_source_disable_unref(m->sighup);
        sd_event_unref(m->event);
        ksm_sysfs_free(m->ksm);
        safe_close(m->proc_fd);
        daemon_config_done(&m->config);
        free(m->config_path);
        free(m->last_reload_error);
        free(m);
        return NULL;
}

static void apply_log_level(Manager *m) {
        log_set_max_level(m->log_level_override >= 0 ? m->log_level_override : m->config.log_level);
}

/* Loads m->config_path into @c.  Returns 0, 1 if the optional default file is absent, <0 on error. */
static int load_config(Manager *m, DaemonConfig *c, char *msg, size_t msg_size) {
        JsonError err = {};
        int r;

        r = daemon_config_load(m->config_path, c, &err);
        if (r == -ENOENT && m->config_optional) {
                daemon_config_init(c);
                return 1;
        }
        if (r < 0) {
                json_error_format(&err, msg, msg_size);
                return r;
        }
        return 0;
}

static void log_sample(Manager *m) {
        _cleanup_(log_fields_done) LogFields f = {};
        char saved[FORMAT_BYTES_MAX], profit[FORMAT_BYTES_MAX], cpu[FORMAT_PMY_MAX + 1], ratio[FORMAT_PMY_MAX];
        KsmSnapshot snap;
        KsmReport rep;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        uint64_t cpu_ns = 0;
        bool have_cpu_ns = false;
        int64_t run;

        ksm_sysfs_snapshot(m->ksm, &snap);
        ksm_report_compute(&snap, m->page_size, &rep);

        if (m->ksmd_pid > 0 && proc_cpu_time_read_at(m->proc_fd, m->ksmd_pid, m->ticks_per_sec, &cpu_ns) >= 0) {
                have_cpu_ns = true;
                if (m->have_cpu_sample && now > m->last_sample_usec && cpu_ns >= m->last_cpu_ns) {
                        rep.have_cpu = true;
                        rep.ksmd_cpu_pmy = cpu_usage_pmy(cpu_ns - m->last_cpu_ns, now - m->last_sample_usec);
                        rep.cpu_sample_usec = now - m->last_sample_usec;
                }
                m->have_cpu_sample = true;
                m->last_cpu_ns = cpu_ns;
                m->last_sample_usec = now;
        }

        run = ksm_snapshot_get(&snap, KSM_KNOB_RUN, -1);
        format_bytes(saved, sizeof(saved), (int64_t) rep.saved_bytes);
        if (rep.have_profit)
                format_bytes(profit, sizeof(profit), rep.profit_bytes);
        else
                snprintf(profit, sizeof(profit), "n/a");
        if (rep.have_cpu) {
                format_pmy(cpu, sizeof(cpu), rep.ksmd_cpu_pmy);
                strcat(cpu, "%");
        } else
                snprintf(cpu, sizeof(cpu), "n/a");
        if (rep.have_sharing_ratio)
                format_pmy(ratio, sizeof(ratio), rep.sharing_ratio_pmy / 100);
        else
                snprintf(ratio, sizeof(ratio), "n/a");

        log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_STATUS);
        {
                static const struct {
                        const char *field;
                        KsmKnob knob;
                } fields[] = {
                        { "KSMT_RUN", KSM_KNOB_RUN },
                        { "KSMT_PAGES_SHARED", KSM_KNOB_PAGES_SHARED },
                        { "KSMT_PAGES_SHARING", KSM_KNOB_PAGES_SHARING },
                        { "KSMT_PAGES_UNSHARED", KSM_KNOB_PAGES_UNSHARED },
                        { "KSMT_PAGES_VOLATILE", KSM_KNOB_PAGES_VOLATILE },
                        { "KSMT_FULL_SCANS", KSM_KNOB_FULL_SCANS },
                };

                /* A counter this kernel lacks (or that failed to read) is left out, never sent as 0. */
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        if (snap.present[fields[i].knob] && snap.error[fields[i].knob] == 0)
                                log_fields_add(&f, "%s=%" PRIi64, fields[i].field, snap.value[fields[i].knob]);
        }
        log_fields_add(&f, "KSMT_SAVED_BYTES=%" PRIu64, rep.saved_bytes);
        if (rep.have_profit)
                log_fields_add(&f, "KSMT_PROFIT_BYTES=%" PRIi64, rep.profit_bytes);
        if (rep.have_cpu)
                log_fields_add(&f, "KSMT_KSMD_CPU_PMY=%" PRIu64, rep.ksmd_cpu_pmy);

        log_fields_send(&f, LOG_INFO, 0,
                        "KSM %s: saved %s (profit %s), sharing %" PRIi64 " shared %" PRIi64 " unshared %" PRIi64
                        " (ratio %s), full scans %" PRIi64 ", ksmd CPU %s",
                        strna(ksm_run_mode_to_string(run)), saved, profit,
                        ksm_snapshot_get(&snap, KSM_KNOB_PAGES_SHARING, 0),
                        ksm_snapshot_get(&snap, KSM_KNOB_PAGES_SHARED, 0),
                        ksm_snapshot_get(&snap, KSM_KNOB_PAGES_UNSHARED, 0),
                        ratio, ksm_snapshot_get(&snap, KSM_KNOB_FULL_SCANS, 0), cpu);

        snprintf(m->status_ksm, sizeof(m->status_ksm), "KSM %s, saved %s, ksmd CPU %s",
                 strna(ksm_run_mode_to_string(run)), saved, cpu);
        manager_notify_status(m);
        manager_metrics_sample(m, &snap, have_cpu_ns, cpu_ns, rep.have_cpu, rep.ksmd_cpu_pmy);
}

void manager_notify_status(Manager *m) {
        uint64_t counts[_TRACK_STATE_MAX];

        manager_count_states(m, counts);
        (void) sd_notifyf(false, "STATUS=%s; %" PRIu64 " processes merged, %zu tracked; tuner %s %s",
                          m->status_ksm[0] ? m->status_ksm : "KSM not sampled yet", counts[TRACK_ENABLED],
                          m->tracked.n, tuner_mode_to_string(m->config.tuner.mode),
                          tuner_phase_to_string(m->tuner_state.phase));
}

static int on_sample_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        int r;

        /* Next deadline from this one, not from now, so the interval does not drift; if we fell
         * behind (suspend, a stall), start afresh from now rather than firing a burst. */
        if (usec + m->config.sample_interval_usec > now_usec(CLOCK_MONOTONIC))
                r = sd_event_source_set_time(s, usec + m->config.sample_interval_usec);
        else
                r = sd_event_source_set_time_relative(s, m->config.sample_interval_usec);
        if (r < 0)
                return log_error_errno(r, "Failed to re-arm sampling timer: %m");
        r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "Failed to enable sampling timer: %m");

        if (m->ksm)
                log_sample(m);
        return 0;
}

int manager_reload(Manager *m) {
        char msg[1024] = "";
        DaemonConfig n;
        int r, k;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_usec(CLOCK_MONOTONIC));

        daemon_config_init(&n);
        r = load_config(m, &n, msg, sizeof(msg));
        if (r < 0) {
                _cleanup_(log_fields_done) LogFields f = {};

                free(m->last_reload_error);
                m->last_reload_error = strdup(msg);
                log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_CONFIG_REJECTED);
                log_fields_add(&f, "KSMT_CONFIG=%s", m->config_path);
                log_fields_send(&f, LOG_WARNING, r, "Configuration rejected, keeping the previous one: %s", msg);
                daemon_config_done(&n);
        } else {
                _cleanup_(log_fields_done) LogFields f = {};
                char iv[FORMAT_DURATION_MAX];

                bool tuner_changed = n.tuner.mode != m->config.tuner.mode;

                daemon_config_done(&m->config);
                m->config = n;
                if (tuner_changed) {
                        /* A new mode starts from scratch; the knobs found at start stay the reference. */
                        m->tuner_state = (TunerState) {};
                        m->tuner_decision = (TunerDecision) {};
                        if (!m->tuner_timer && m->event)
                                (void) manager_tuner_startup(m);
                }
                m->n_reloads++;
                free(m->last_reload_error);
                m->last_reload_error = NULL;
                apply_log_level(m);
                if (m->sample_timer)
                        (void) sd_event_source_set_time_relative(m->sample_timer, m->config.sample_interval_usec);
                log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_CONFIG_LOADED);
                log_fields_add(&f, "KSMT_CONFIG=%s", m->config_path);
                log_fields_send(&f, LOG_NOTICE, 0, "Configuration reloaded from '%s'%s: sample interval %s",
                                m->config_path, r > 0 ? " (absent, built-in defaults)" : "",
                                format_duration(iv, sizeof(iv), m->config.sample_interval_usec));
        }

        k = manager_load_policies(m, false);
        if (m->rescan_timer)    /* apply the new decisions now, not at the next tick */
                (void) sd_event_source_set_time_relative(m->rescan_timer, 0);

        (void) sd_notify(false, "READY=1");
        return r < 0 ? r : k;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) manager_reload(userdata);
        return 0;       /* a refused reload is reported, never fatal */
}

int manager_startup(Manager *m) {
        char msg[1024] = "", iv[FORMAT_DURATION_MAX];
        sigset_t mask;
        int r;

        r = load_config(m, &m->config, msg, sizeof(msg));
        if (r < 0)
                return log_error_errno(r, "%s", msg);
        apply_log_level(m);
        if (r > 0)
                log_info("No configuration file '%s', using built-in defaults.", m->config_path);

        m->proc_fd = open(PROC_DIR_DEFAULT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (m->proc_fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", PROC_DIR_DEFAULT);

        /* Degrade, don't die: without KSM there is nothing to tune, but the daemon stays up for
         * reloads and will report the state; later issues add more to do. */
        r = ksm_sysfs_open(KSM_SYSFS_DIR_DEFAULT, &m->ksm);
        if (r < 0) {
                log_warning_errno(r, "KSM is not available (%s): %m; nothing to sample.", KSM_SYSFS_DIR_DEFAULT);
                m->status_text = "KSM is not available on this kernel";
        }
        else {
                char missing[512] = "";
                size_t len = 0;

                for (KsmKnob k = 0; k < _KSM_KNOB_MAX; k++)
                        if (!ksm_sysfs_has(m->ksm, k) && len < sizeof(missing))
                                len += (size_t) snprintf(missing + len, sizeof(missing) - len, " %s(%s+)",
                                                         ksm_knob_to_string(k), ksm_knob_info(k)->since);
                if (len > 0)
                        log_notice("KSM knobs absent on this kernel:%s", missing);
        }

        r = ksmd_find_at(m->proc_fd, &m->ksmd_pid);
        if (r < 0) {
                m->ksmd_pid = 0;
                log_notice_errno(r, "ksmd kernel thread not found, ksmd CPU use will not be reported: %m");
        }

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");

        r = sd_event_set_signal_exit(m->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to install SIGTERM/SIGINT handlers: %m");
        r = sd_event_add_signal(m->event, &m->sighup, SIGHUP, on_sighup, m);
        if (r < 0)
                return log_error_errno(r, "Failed to install SIGHUP handler: %m");
        (void) sd_event_source_set_description(m->sighup, "sighup");

        /* Sends WATCHDOG=1 at half of $WATCHDOG_USEC when the service manager asks for it. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to enable watchdog: %m");

        r = sd_event_add_time_relative(m->event, &m->sample_timer, CLOCK_MONOTONIC, 0, USEC_PER_MSEC, on_sample_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add sampling timer: %m");
        (void) sd_event_source_set_description(m->sample_timer, "sample-timer");
        r = sd_event_source_set_exit_on_failure(m->sample_timer, true);
        if (r < 0)
                return log_error_errno(r, "Failed to configure sampling timer: %m");

        r = manager_bpf_startup(m);
        if (r < 0)
                return r;
        r = manager_procs_startup(m);
        if (r < 0)
                return r;
        r = control_new(m, m->config.control_socket, &m->control);
        if (r < 0)
                return r;
        r = manager_tuner_startup(m);
        if (r < 0)
                return r;
        r = manager_metrics_startup(m);
        if (r < 0)
                return r;

        {
                _cleanup_(log_fields_done) LogFields f = {};

                log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_STARTED);
                log_fields_add(&f, "KSMT_CONFIG=%s", m->config_path);
                log_fields_send(&f, LOG_INFO, 0, "ksmtuned-ng %s started: config '%s', sample interval %s, log target %s, KSM %s, ksmd %s.",
                                PACKAGE_VERSION, m->config_path,
                                format_duration(iv, sizeof(iv), m->config.sample_interval_usec),
                                log_target_to_string(log_get_effective_target()),
                                m->ksm ? "available" : "unavailable", m->ksmd_pid > 0 ? "found" : "not found");
        }
        return 0;
}

int manager_run(Manager *m) {
        int r;

        (void) sd_notifyf(false, "READY=1\nSTATUS=%s", m->status_text ?: "Started, waiting for the first sample");
        r = sd_event_loop(m->event);
        (void) sd_notify(false, "STOPPING=1");
        {
                _cleanup_(log_fields_done) LogFields f = {};

                log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_STOPPED);
                log_fields_send(&f, LOG_INFO, r < 0 ? r : 0, "ksmtuned-ng stopping%s.", r < 0 ? " after an error" : "");
        }
        return r;
}
