/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmctl-ps.c - `ksmctl ps`: processes with their KSM state from /proc/PID/ksm_stat, largest
 * profit first.  Reading another user's ksm_stat needs ptrace read access (root or the owner), so
 * unreadable processes are collected and reported instead of silently missing.
 *
 * The collection (ps_collect()) and the daemon's view (ksmctl_daemon_processes()) are shared with
 * `ksmctl top`, which samples the same way on every refresh.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "ksm-report.h"
#include "ksm-stat.h"
#include "ksmctl.h"
#include "macro.h"
#include "parse-util.h"
#include "proc-stat.h"

static int64_t sort_key(const PsEntry *e, uint64_t page_size) {
        if (e->st.fields & KSM_STAT_PROCESS_PROFIT)
                return e->st.process_profit;
        return (int64_t) ((e->st.merging_pages + e->st.zero_pages) * page_size);
}

static uint64_t cmp_page_size;

static int cmp_entries(const void *x, const void *y) {
        const PsEntry *a = x, *b = y;
        int64_t ka = sort_key(a, cmp_page_size), kb = sort_key(b, cmp_page_size);

        if (ka != kb)
                return ka > kb ? -1 : 1;
        if (a->st.merging_pages != b->st.merging_pages)
                return a->st.merging_pages > b->st.merging_pages ? -1 : 1;
        return a->pid < b->pid ? -1 : a->pid > b->pid;
}

static bool has_ksm_state(const KsmStat *st) {
        return st->merge_any || st->mergeable || st->rmap_items > 0 || st->merging_pages > 0 || st->zero_pages > 0;
}

static const char *yes_no_na(const KsmStat *st, unsigned bit, bool v) {
        return (st->fields & bit) ? (v ? "yes" : "no") : "-";
}

void ps_list_done(PsList *l) {
        for (size_t i = 0; i < l->n_shown; i++)
                free(l->shown[i].cgroup);
        for (size_t i = 0; i < l->n_unreadable; i++)
                free(l->unreadable[i].cgroup);
        free(l->shown);
        free(l->unreadable);
        *l = (PsList) {};
}

static int ps_list_append(PsEntry **array, size_t *n, size_t *cap, const PsEntry *e) {
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                PsEntry *p = realloc(*array, nc * sizeof(PsEntry));

                if (!p)
                        return -ENOMEM;
                *array = p;
                *cap = nc;
        }
        (*array)[(*n)++] = *e;
        return 0;
}

int ps_open_proc(const char *proc_dir, int *ret_fd) {
        _cleanup_close_ int proc_fd = -EBADF;
        int r;

        proc_fd = open(proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0) {
                r = -errno;
                fprintf(stderr, "ksmctl: cannot open '%s': %s\n", proc_dir, strerror(-r));
                return r;
        }
        if (faccessat(proc_fd, "self/ksm_stat", F_OK, 0) < 0 && faccessat(proc_fd, "self/ksm_merging_pages", F_OK, 0) < 0) {
                fprintf(stderr, "ksmctl: this kernel has neither /proc/PID/ksm_stat (6.1+) nor "
                        "/proc/PID/ksm_merging_pages (5.19+): per-process KSM state is not available\n");
                return -EOPNOTSUPP;
        }
        *ret_fd = TAKE_FD(proc_fd);
        return 0;
}

int ps_collect(int proc_fd, const char *proc_dir, bool all, PsList *ret) {
        size_t cap_shown = 0, cap_unreadable = 0;
        struct dirent *de;
        DIR *d;
        int r;

        *ret = (PsList) {};
        d = opendir(proc_dir);
        if (!d) {
                r = -errno;
                fprintf(stderr, "ksmctl: cannot list '%s': %s\n", proc_dir, strerror(-r));
                return r;
        }

        while ((de = readdir(d))) {
                PsEntry e = { .error = 0 };
                ProcStat ps;
                int64_t pid;

                if (safe_atoi64(de->d_name, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
                        continue;
                e.pid = (pid_t) pid;

                r = proc_stat_read_at(proc_fd, e.pid, &ps);
                if (r < 0)
                        continue;               /* exited while we looked */
                if (proc_stat_is_kthread(&ps))
                        continue;               /* no mm, no KSM state */
                snprintf(e.comm, sizeof(e.comm), "%s", ps.comm);
                e.start_time_ticks = ps.start_time_ticks;

                e.error = ksm_stat_read_at(proc_fd, e.pid, &e.st);
                if (IN_SET(e.error, -ESRCH, -ENOENT) && ps.state != 'Z')
                        continue;               /* exited */
                if (e.error >= 0 && !all && !has_ksm_state(&e.st)) {
                        ret->n_hidden++;
                        continue;
                }
                if (ps.state == 'Z') {
                        ret->n_hidden++;
                        continue;
                }
                (void) cgroup_pid_get_path_at(proc_fd, e.pid, &e.cgroup);

                if (e.error < 0)
                        r = ps_list_append(&ret->unreadable, &ret->n_unreadable, &cap_unreadable, &e);
                else
                        r = ps_list_append(&ret->shown, &ret->n_shown, &cap_shown, &e);
                if (r < 0) {
                        free(e.cgroup);
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        return 0;
}

json_t *ksmctl_daemon_processes(const char *socket_path) {
        _cleanup_free_ char *err = NULL;
        json_t *params = NULL, *procs, *v;
        size_t i;

        if (ksmctl_call(socket_path, "io.ksmtuned.Manager.ListProcesses", &params, &err) < 0)
                return NULL;
        procs = json_object();
        json_array_foreach(json_object_get(params, "processes"), i, v) {
                char k[16];

                snprintf(k, sizeof(k), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(v, "pid")));
                json_object_set(procs, k, v);
        }
        json_decref(params);
        return procs;
}

json_t *ksmctl_daemon_process(json_t *daemon_procs, pid_t pid) {
        char k[16];

        if (!daemon_procs)
                return NULL;
        snprintf(k, sizeof(k), "%d", (int) pid);
        return json_object_get(daemon_procs, k);
}

void ksmctl_daemon_policy_state(json_t *dp, char *buf, size_t size) {
        snprintf(buf, size, "%s/%s%s%s%s", json_string_value(json_object_get(dp, "policy")) ?: "-",
                 json_string_value(json_object_get(dp, "state")),
                 json_is_string(json_object_get(dp, "reason")) ? ":" : "",
                 json_string_value(json_object_get(dp, "reason")) ?: "",
                 json_is_true(json_object_get(dp, "wasted")) &&
                 !streq_ptr(json_string_value(json_object_get(dp, "state")), "wasted") ? ":wasted" : "");
}

void ps_report_unreadable(const PsList *l) {
        if (l->n_unreadable == 0)
                return;
        fprintf(stderr, "ksmctl: could not read the KSM state of %zu process%s%s:",
                l->n_unreadable, l->n_unreadable == 1 ? "" : "es",
                geteuid() != 0 ? " (reading another user's ksm_stat needs root)" : "");
        for (size_t i = 0; i < l->n_unreadable; i++)
                fprintf(stderr, "%s %d (%s): %s", i ? "," : "", (int) l->unreadable[i].pid,
                        l->unreadable[i].comm, strerror(-l->unreadable[i].error));
        fprintf(stderr, "\n");
}

int ksmctl_ps(const KsmctlArgs *a) {
        _cleanup_close_ int proc_fd = -EBADF;
        _cleanup_(ps_list_done) PsList l = {};
        uint64_t page_size = (uint64_t) sysconf(_SC_PAGESIZE);
        json_t *daemon_procs = NULL;
        int r;

        r = ps_open_proc(a->proc_dir, &proc_fd);
        if (r < 0)
                return r;
        r = ps_collect(proc_fd, a->proc_dir, a->all, &l);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0)
                return r;

        /* What the daemon knows (policy, state…), when it runs: keyed by PID. */
        daemon_procs = ksmctl_daemon_processes(a->socket_path);

        cmp_page_size = page_size;
        if (l.n_shown > 0)
                qsort(l.shown, l.n_shown, sizeof(PsEntry), cmp_entries);

        if (a->json) {
                json_t *root = json_object(), *procs = json_array(), *unr = json_array();

                if (!root || !procs || !unr) {
                        json_decref(root);
                        json_decref(procs);
                        json_decref(unr);
                        r = -ENOMEM;
                        goto finish;
                }
                for (size_t i = 0; i < l.n_shown; i++) {
                        json_t *o = ksm_stat_to_json(&l.shown[i].st);

                        if (!o)
                                continue;
                        json_object_set_new(o, "pid", json_integer(l.shown[i].pid));
                        json_object_set_new(o, "comm", json_string(l.shown[i].comm));
                        json_object_set_new(o, "cgroup", l.shown[i].cgroup ? json_string(l.shown[i].cgroup) : json_null());
                        if (daemon_procs) {
                                json_t *dp = ksmctl_daemon_process(daemon_procs, l.shown[i].pid);

                                json_object_set_new(o, "daemon", dp ? json_incref(dp) : json_null());
                        }
                        json_array_append_new(procs, o);
                }
                for (size_t i = 0; i < l.n_unreadable; i++)
                        json_array_append_new(unr, json_pack("{s:i, s:s, s:s}", "pid", (int) l.unreadable[i].pid,
                                                             "comm", l.unreadable[i].comm,
                                                             "error", strerror(-l.unreadable[i].error)));
                json_object_set_new(root, "page_size", json_integer((json_int_t) page_size));
                json_object_set_new(root, "processes", procs);
                json_object_set_new(root, "hidden_without_ksm_state", json_integer((json_int_t) l.n_hidden));
                json_object_set_new(root, "unreadable", unr);
                json_object_set_new(root, "daemon_reachable", json_boolean(daemon_procs != NULL));
                r = ksmctl_print_json(root);
        } else {
                printf("%7s %-16s %-9s %-9s %10s %8s %11s %-24s %s\n",
                       "PID", "COMM", "MERGE_ANY", "MERGEABLE", "MERGING", "ZERO", "PROFIT",
                       daemon_procs ? "POLICY/STATE" : "", "CGROUP");
                for (size_t i = 0; i < l.n_shown; i++) {
                        const PsEntry *e = &l.shown[i];
                        char profit[FORMAT_BYTES_MAX];

                        if (e->st.fields & KSM_STAT_PROCESS_PROFIT)
                                format_bytes(profit, sizeof(profit), e->st.process_profit);
                        else
                                snprintf(profit, sizeof(profit), "-");
                        char ps[64] = "";
                        json_t *dp;

                        dp = ksmctl_daemon_process(daemon_procs, e->pid);
                        if (dp)
                                ksmctl_daemon_policy_state(dp, ps, sizeof(ps));
                        else if (daemon_procs)
                                snprintf(ps, sizeof(ps), "-");
                        printf("%7d %-16.16s %-9s %-9s %10" PRIu64 " %8" PRIu64 " %11s %-24s %s\n",
                               (int) e->pid, e->comm,
                               yes_no_na(&e->st, KSM_STAT_MERGE_ANY, e->st.merge_any),
                               yes_no_na(&e->st, KSM_STAT_MERGEABLE, e->st.mergeable),
                               e->st.merging_pages, e->st.zero_pages, profit, ps, strna(e->cgroup));
                }
                if (l.n_shown == 0)
                        printf("(no process has KSM state%s)\n", a->all ? "" : "; --all lists every process");
                else if (l.n_hidden > 0)
                        printf("(%zu more processes without KSM state; --all lists them)\n", l.n_hidden);
        }

        ps_report_unreadable(&l);

finish:
        json_decref(daemon_procs);
        if (r < 0 && r != -EIO)
                fprintf(stderr, "ksmctl: %s\n", strerror(-r));
        return r;
}
