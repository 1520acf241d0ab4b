/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ksmctl-status.c - `ksmctl status`: the kernel's KSM state at a glance. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ksm-report.h"
#include "ksm-sysfs.h"
#include "ksmctl.h"
#include "macro.h"
#include "merge.h"
#include "parse-util.h"
#include "proc-stat.h"

/* Measures ksmd's CPU use over a.sample_usec.  Returns 0 with rep->have_cpu set, or a reason. */
static int sample_ksmd_cpu(const KsmctlArgs *a, KsmReport *rep) {
        _cleanup_close_ int proc_fd = -EBADF;
        long ticks = sysconf(_SC_CLK_TCK);
        nsec_t c0, c1;
        usec_t t0, t1;
        pid_t ksmd;
        int r;

        if (a->sample_usec == 0)
                return -ECANCELED;
        proc_fd = open(a->proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0)
                return -errno;
        r = ksmd_find_at(proc_fd, &ksmd);
        if (r < 0)
                return r;

        t0 = now_usec(CLOCK_MONOTONIC);
        r = proc_cpu_time_read_at(proc_fd, ksmd, ticks, &c0);
        if (r < 0)
                return r;
        {
                struct timespec ts = { .tv_sec = (time_t) (a->sample_usec / USEC_PER_SEC),
                                       .tv_nsec = (long) (a->sample_usec % USEC_PER_SEC) * 1000L };

                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        t1 = now_usec(CLOCK_MONOTONIC);
        r = proc_cpu_time_read_at(proc_fd, ksmd, ticks, &c1);
        if (r < 0)
                return r;

        rep->have_cpu = true;
        rep->ksmd_cpu_pmy = cpu_usage_pmy(c1 >= c0 ? c1 - c0 : 0, t1 - t0);
        rep->cpu_sample_usec = t1 - t0;
        return 0;
}

static void print_value(KsmKnob k, const KsmSnapshot *s) {
        const KsmKnobInfo *info = ksm_knob_info(k);

        if (s->error[k] < 0) {
                printf("  %-36s (unreadable: %s)\n", info->name, strerror(-s->error[k]));
                return;
        }
        if (info->type == KSM_TYPE_ADVISOR)
                printf("  %-36s %s\n", info->name, ksm_advisor_mode_to_string(s->value[k]));
        else if (k == KSM_KNOB_RUN)
                printf("  %-36s %" PRIi64 " (%s)\n", info->name, s->value[k], strna(ksm_run_mode_to_string(s->value[k])));
        else if (info->unit && streq(info->unit, "bytes")) {
                char b[FORMAT_BYTES_MAX];

                printf("  %-36s %" PRIi64 " (%s)\n", info->name, s->value[k], format_bytes(b, sizeof(b), s->value[k]));
        } else
                printf("  %-36s %" PRIi64 "%s%s\n", info->name, s->value[k], info->unit ? " " : "", info->unit ?: "");
}

static void print_text(const KsmSnapshot *s, const KsmReport *rep, int cpu_error, const MergeProbe *probe) {
        char b1[FORMAT_BYTES_MAX], b2[FORMAT_BYTES_MAX], p[FORMAT_PMY_MAX], d[FORMAT_DURATION_MAX];
        int64_t run = ksm_snapshot_get(s, KSM_KNOB_RUN, -1);
        bool any_absent = false;

        printf("KSM:                   %s\n", run >= 0 ? ksm_run_mode_to_string(run) : "unknown");
        printf("Saved:                 %s (pages_sharing + ksm_zero_pages)\n",
               format_bytes(b1, sizeof(b1), (int64_t) rep->saved_bytes));
        if (rep->have_profit)
                printf("Profit:                %s (general_profit: saved minus KSM metadata)\n",
                       format_bytes(b2, sizeof(b2), rep->profit_bytes));
        if (rep->have_sharing_ratio)
                printf("Sharing ratio:         %s (pages_sharing per pages_shared)\n",
                       format_pmy(p, sizeof(p), rep->sharing_ratio_pmy / 100));
        else
                printf("Sharing ratio:         n/a (nothing shared)\n");
        if (rep->have_unshared_ratio)
                printf("Unshared per sharing:  %s (pages_unshared / pages_sharing)\n",
                       format_pmy(p, sizeof(p), rep->unshared_ratio_pmy / 100));
        else
                printf("Unshared per sharing:  n/a (nothing sharing)\n");
        if (rep->have_fragmentation)
                printf("Fragmentation:         %s stable_node_dups per stable_node_chain (pages past max_page_sharing)\n",
                       format_pmy(p, sizeof(p), rep->dups_per_chain_pmy / 100));
        if (rep->have_cpu)
                printf("ksmd CPU:              %s %% of one CPU (over %s)\n",
                       format_pmy(p, sizeof(p), rep->ksmd_cpu_pmy), format_duration(d, sizeof(d), rep->cpu_sample_usec));
        else if (cpu_error == -ECANCELED)
                printf("ksmd CPU:              not measured (--sample-time=0)\n");
        else
                printf("ksmd CPU:              unknown (%s)\n", strerror(-cpu_error));

        printf("\nKnobs:\n");
        for (KsmKnob k = 0; k < _KSM_KNOB_FIRST_COUNTER; k++)
                if (s->present[k])
                        print_value(k, s);
        printf("\nCounters:\n");
        for (KsmKnob k = _KSM_KNOB_FIRST_COUNTER; k < _KSM_KNOB_MAX; k++)
                if (s->present[k])
                        print_value(k, s);
        for (KsmKnob k = 0; k < _KSM_KNOB_MAX; k++)
                if (!s->present[k]) {
                        if (!any_absent)
                                printf("\nAbsent on this kernel:");
                        any_absent = true;
                        printf(" %s (%s+)", ksm_knob_to_string(k), ksm_knob_info(k)->since);
                }
        if (any_absent)
                printf("\n");

        if (probe) {
                printf("\nMerge backends (for running processes):\n");
                for (MergeBackend b = MERGE_BACKEND_INJECT; b < _MERGE_BACKEND_MAX; b++)
                        printf("  %-10s %-11s %s\n", merge_backend_to_string(b),
                               probe->available[b] ? "available" : "unavailable", probe->why[b]);
                printf("  %-10s %-11s %s\n", "exec",
                       probe->prctl_supported ? "available" : "unavailable",
                       probe->prctl_supported ? "PR_SET_MEMORY_MERGE before execve (ksmctl exec)"
                                              : "kernel lacks PR_SET_MEMORY_MERGE (Linux 6.4+)");
        }
}

static void print_daemon(json_t *d, int err, const char *error_name, const char *socket_path) {
        const char *key;
        json_t *v, *pol = json_object_get(d, "policies"), *lr = json_object_get(d, "last_reload");
        size_t i;

        printf("\nDaemon:\n");
        if (!d) {
                if (err == -EREMOTEIO)
                        printf("  error from the daemon: %s\n", error_name);
                else
                        printf("  not reachable at '%s': %s\n", socket_path, strerror(-err));
                return;
        }
        printf("  %-20s %" JSON_INTEGER_FORMAT " (version %s), merge backend %s\n", "pid",
               json_integer_value(json_object_get(d, "pid")), json_string_value(json_object_get(d, "version")),
               json_string_value(json_object_get(d, "merge_backend")));
        printf("  %-20s %zu\n", "policies", json_array_size(pol));
        json_array_foreach(pol, i, v) {
                printf("    %-18s %s, priority %" JSON_INTEGER_FORMAT ", from %s\n",
                       json_string_value(json_object_get(v, "name")), json_string_value(json_object_get(v, "action")),
                       json_integer_value(json_object_get(v, "priority")), json_string_value(json_object_get(v, "path")));
                if (json_is_string(json_object_get(v, "description")))
                        printf("    %-18s %s\n", "", json_string_value(json_object_get(v, "description")));
        }
        json_array_foreach(json_object_get(d, "skipped_policy_files"), i, v)
                printf("    skipped: %s\n", json_string_value(v));
        if (json_is_true(json_object_get(lr, "ok")))
                printf("  %-20s ok\n", "last reload");
        else {
                printf("  %-20s refused, the previous configuration stays in force\n", "last reload");
                if (json_is_string(json_object_get(lr, "config_error")))
                        printf("    config: %s\n", json_string_value(json_object_get(lr, "config_error")));
                if (json_is_string(json_object_get(lr, "policy_error")))
                        printf("    policies: %s\n", json_string_value(json_object_get(lr, "policy_error")));
        }
        {
                json_t *t = json_object_get(d, "tuner");

                if (t && streq_ptr(json_string_value(json_object_get(t, "mode")), "off"))
                        printf("  %-20s off (the daemon does not touch the KSM knobs)\n", "tuner");
                else if (t)
                        printf("  %-20s %s, %s (pages_to_scan %" JSON_INTEGER_FORMAT ", sleep %" JSON_INTEGER_FORMAT
                               " ms, ksmd %.2f %% of a CPU): %s%s%s\n", "tuner",
                               json_string_value(json_object_get(t, "mode")), json_string_value(json_object_get(t, "phase")),
                               json_integer_value(json_object_get(t, "pages_to_scan")),
                               json_integer_value(json_object_get(t, "sleep_msec")),
                               (double) json_integer_value(json_object_get(t, "ksmd_cpu_pmy")) / 100.0,
                               json_string_value(json_object_get(t, "reason")) ?: "",
                               json_is_string(json_object_get(t, "last_write_error")) ? "; last write failed: " : "",
                               json_string_value(json_object_get(t, "last_write_error")) ?: "");
        }
        {
                json_t *st = json_object_get(d, "statistics"), *mx = json_object_get(d, "metrics");

                if (json_is_true(json_object_get(st, "bpf")))
                        printf("  %-20s eBPF on the ksm tracepoints (exec events: %" JSON_INTEGER_FORMAT " seen, %"
                               JSON_INTEGER_FORMAT " in policy cgroups)\n", "statistics",
                               json_integer_value(json_object_get(st, "exec_events")),
                               json_integer_value(json_object_get(st, "exec_considered")));
                else if (st)
                        printf("  %-20s polling /proc/PID/ksm_stat (no eBPF: %s)\n", "statistics",
                               json_string_value(json_object_get(st, "why_not")) ?: "?");
                if (json_is_string(json_object_get(mx, "file")))
                        printf("  %-20s %s%s%s\n", "metrics file", json_string_value(json_object_get(mx, "file")),
                               json_is_string(json_object_get(mx, "file_error")) ? ": " : "",
                               json_string_value(json_object_get(mx, "file_error")) ?: "");
        }
        printf("  %-20s %" JSON_INTEGER_FORMAT " tracked:", "processes", json_integer_value(json_object_get(d, "tracked")));
        json_object_foreach(json_object_get(d, "processes"), key, v)
                if (json_integer_value(v) > 0)
                        printf(" %" JSON_INTEGER_FORMAT " %s", json_integer_value(v), key);
        printf("\n");
}

static json_t *probe_to_json(const MergeProbe *p) {
        json_t *o = json_object();

        if (!o)
                return NULL;
        for (MergeBackend b = MERGE_BACKEND_INJECT; b < _MERGE_BACKEND_MAX; b++)
                json_object_set_new(o, merge_backend_to_string(b),
                                    json_pack("{s:b, s:s}", "available", p->available[b], "note", p->why[b]));
        json_object_set_new(o, "exec", json_pack("{s:b, s:s}", "available", p->prctl_supported, "note",
                                                 p->prctl_supported ? "PR_SET_MEMORY_MERGE before execve"
                                                                    : "kernel lacks PR_SET_MEMORY_MERGE (Linux 6.4+)"));
        return o;
}

int ksmctl_status(const KsmctlArgs *a) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = NULL;
        _cleanup_(merge_engine_freep) MergeEngine *engine = NULL;
        _cleanup_free_ char *daemon_error = NULL;
        const MergeProbe *probe = NULL;
        json_t *daemon = NULL;
        int daemon_r;
        KsmSnapshot s;
        KsmReport rep;
        int r, cpu_r;

        r = ksm_sysfs_open(a->ksm_dir, &k);
        if (r < 0) {
                fprintf(stderr, "ksmctl: KSM is not available: '%s': %s\n", a->ksm_dir, strerror(-r));
                return r;
        }

        {
                _cleanup_close_ int proc_fd = open(a->proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (proc_fd >= 0 && merge_engine_new(proc_fd, &engine) >= 0)
                        probe = merge_engine_probe(engine);
        }

        KsmReport cpu = {};
        cpu_r = sample_ksmd_cpu(a, &cpu);

        ksm_sysfs_snapshot(k, &s);
        ksm_report_compute(&s, (uint64_t) sysconf(_SC_PAGESIZE), &rep);
        rep.have_cpu = cpu.have_cpu;
        rep.ksmd_cpu_pmy = cpu.ksmd_cpu_pmy;
        rep.cpu_sample_usec = cpu.cpu_sample_usec;

        daemon_r = ksmctl_call(a->socket_path, "io.ksmtuned.Manager.GetStatus", &daemon, &daemon_error);

        if (a->json) {
                json_t *j = ksm_report_to_json(&s, &rep);

                if (j) {
                        json_object_set_new(j, "merge_backends", probe ? probe_to_json(probe) : json_null());
                        json_object_set_new(j, "daemon", daemon ? json_incref(daemon) : json_null());
                        if (!daemon)
                                json_object_set_new(j, "daemon_error",
                                                    json_string(daemon_r == -EREMOTEIO ? daemon_error : strerror(-daemon_r)));
                }
                if (j && !rep.have_cpu)
                        json_object_set_new(json_object_get(j, "derived"), "ksmd_cpu_error",
                                            json_string(cpu_r == -ECANCELED ? "not measured" : strerror(-cpu_r)));
                r = ksmctl_print_json(j);
                if (r < 0)
                        fprintf(stderr, "ksmctl: failed to print JSON: %s\n", strerror(-r));
                json_decref(daemon);
                return r;
        }
        print_text(&s, &rep, cpu_r, probe);
        print_daemon(daemon, daemon_r, daemon_error, a->socket_path);
        json_decref(daemon);
        return 0;
}
