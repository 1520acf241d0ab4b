/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmctl-ps.c - `ksmctl ps`: processes with their KSM state from /proc/PID/ksm_stat, largest
 * profit first.  Reading another user's ksm_stat needs ptrace read access (root or the owner), so
 * unreadable processes are collected and reported instead of silently missing.
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

typedef struct PsEntry {
        pid_t pid;
        char comm[PROC_COMM_MAX];
        char *cgroup;
        KsmStat st;
        int error;              /* <0: ksm_stat unreadable */
} PsEntry;

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

int ksmctl_ps(const KsmctlArgs *a) {
        _cleanup_close_ int proc_fd = -EBADF;
        PsEntry *shown = NULL, *unreadable = NULL;
        size_t n_shown = 0, n_unreadable = 0, n_hidden = 0, cap_shown = 0, cap_unreadable = 0;
        uint64_t page_size = (uint64_t) sysconf(_SC_PAGESIZE);
        json_t *daemon_params = NULL, *daemon_procs = NULL;
        struct dirent *de;
        DIR *d;
        int r = 0;

        proc_fd = open(a->proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0) {
                r = -errno;
                fprintf(stderr, "ksmctl: cannot open '%s': %s\n", a->proc_dir, strerror(-r));
                return r;
        }
        if (faccessat(proc_fd, "self/ksm_stat", F_OK, 0) < 0 && faccessat(proc_fd, "self/ksm_merging_pages", F_OK, 0) < 0) {
                fprintf(stderr, "ksmctl: this kernel has neither /proc/PID/ksm_stat (6.1+) nor "
                        "/proc/PID/ksm_merging_pages (5.19+): per-process KSM state is not available\n");
                return -EOPNOTSUPP;
        }
        d = opendir(a->proc_dir);
        if (!d) {
                r = -errno;
                fprintf(stderr, "ksmctl: cannot list '%s': %s\n", a->proc_dir, strerror(-r));
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

                e.error = ksm_stat_read_at(proc_fd, e.pid, &e.st);
                if (IN_SET(e.error, -ESRCH, -ENOENT) && ps.state != 'Z')
                        continue;               /* exited */
                if (e.error >= 0 && !a->all && !has_ksm_state(&e.st)) {
                        n_hidden++;
                        continue;
                }
                if (ps.state == 'Z') {
                        n_hidden++;
                        continue;
                }
                (void) cgroup_pid_get_path_at(proc_fd, e.pid, &e.cgroup);

                if (e.error < 0) {
                        if (n_unreadable == cap_unreadable) {
                                size_t nc = cap_unreadable ? cap_unreadable * 2 : 64;
                                PsEntry *p = realloc(unreadable, nc * sizeof(PsEntry));

                                if (!p) {
                                        free(e.cgroup);
                                        r = -ENOMEM;
                                        goto finish;
                                }
                                unreadable = p;
                                cap_unreadable = nc;
                        }
                        unreadable[n_unreadable++] = e;
                } else {
                        if (n_shown == cap_shown) {
                                size_t nc = cap_shown ? cap_shown * 2 : 64;
                                PsEntry *p = realloc(shown, nc * sizeof(PsEntry));

                                if (!p) {
                                        free(e.cgroup);
                                        r = -ENOMEM;
                                        goto finish;
                                }
                                shown = p;
                                cap_shown = nc;
                        }
                        shown[n_shown++] = e;
                }
        }
        r = 0;

        /* What the daemon knows (policy, state…), when it runs: keyed by PID. */
        {
                _cleanup_free_ char *err = NULL;

                if (ksmctl_call(a->socket_path, "io.ksmtuned.Manager.ListProcesses", &daemon_params, &err) >= 0) {
                        json_t *v;
                        size_t i;

                        daemon_procs = json_object();
                        json_array_foreach(json_object_get(daemon_params, "processes"), i, v) {
                                char k[16];

                                snprintf(k, sizeof(k), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(v, "pid")));
                                json_object_set(daemon_procs, k, v);
                        }
                }
        }

        cmp_page_size = page_size;
        if (n_shown > 0)
                qsort(shown, n_shown, sizeof(PsEntry), cmp_entries);

        if (a->json) {
                json_t *root = json_object(), *procs = json_array(), *unr = json_array();

                if (!root || !procs || !unr) {
                        json_decref(root);
                        json_decref(procs);
                        json_decref(unr);
                        r = -ENOMEM;
                        goto finish;
                }
                for (size_t i = 0; i < n_shown; i++) {
                        json_t *o = ksm_stat_to_json(&shown[i].st);

                        if (!o)
                                continue;
                        json_object_set_new(o, "pid", json_integer(shown[i].pid));
                        json_object_set_new(o, "comm", json_string(shown[i].comm));
                        json_object_set_new(o, "cgroup", shown[i].cgroup ? json_string(shown[i].cgroup) : json_null());
                        if (daemon_procs) {
                                char k[16];
                                json_t *dp;

                                snprintf(k, sizeof(k), "%d", (int) shown[i].pid);
                                dp = json_object_get(daemon_procs, k);
                                json_object_set_new(o, "daemon", dp ? json_incref(dp) : json_null());
                        }
                        json_array_append_new(procs, o);
                }
                for (size_t i = 0; i < n_unreadable; i++)
                        json_array_append_new(unr, json_pack("{s:i, s:s, s:s}", "pid", (int) unreadable[i].pid,
                                                             "comm", unreadable[i].comm,
                                                             "error", strerror(-unreadable[i].error)));
                json_object_set_new(root, "page_size", json_integer((json_int_t) page_size));
                json_object_set_new(root, "processes", procs);
                json_object_set_new(root, "hidden_without_ksm_state", json_integer((json_int_t) n_hidden));
                json_object_set_new(root, "unreadable", unr);
                json_object_set_new(root, "daemon_reachable", json_boolean(daemon_procs != NULL));
                r = ksmctl_print_json(root);
        } else {
                printf("%7s %-16s %-9s %-9s %10s %8s %11s %-24s %s\n",
                       "PID", "COMM", "MERGE_ANY", "MERGEABLE", "MERGING", "ZERO", "PROFIT",
                       daemon_procs ? "POLICY/STATE" : "", "CGROUP");
                for (size_t i = 0; i < n_shown; i++) {
                        const PsEntry *e = &shown[i];
                        char profit[FORMAT_BYTES_MAX];

                        if (e->st.fields & KSM_STAT_PROCESS_PROFIT)
                                format_bytes(profit, sizeof(profit), e->st.process_profit);
                        else
                                snprintf(profit, sizeof(profit), "-");
                        char k[16], ps[64] = "";
                        json_t *dp;

                        snprintf(k, sizeof(k), "%d", (int) e->pid);
                        dp = daemon_procs ? json_object_get(daemon_procs, k) : NULL;
                        if (dp)
                                snprintf(ps, sizeof(ps), "%s/%s%s%s%s", json_string_value(json_object_get(dp, "policy")) ?: "-",
                                         json_string_value(json_object_get(dp, "state")),
                                         json_is_string(json_object_get(dp, "reason")) ? ":" : "",
                                         json_string_value(json_object_get(dp, "reason")) ?: "",
                                         json_is_true(json_object_get(dp, "wasted")) &&
                                         !streq_ptr(json_string_value(json_object_get(dp, "state")), "wasted") ? ":wasted" : "");
                        else if (daemon_procs)
                                snprintf(ps, sizeof(ps), "-");
                        printf("%7d %-16.16s %-9s %-9s %10" PRIu64 " %8" PRIu64 " %11s %-24s %s\n",
                               (int) e->pid, e->comm,
                               yes_no_na(&e->st, KSM_STAT_MERGE_ANY, e->st.merge_any),
                               yes_no_na(&e->st, KSM_STAT_MERGEABLE, e->st.mergeable),
                               e->st.merging_pages, e->st.zero_pages, profit, ps, strna(e->cgroup));
                }
                if (n_shown == 0)
                        printf("(no process has KSM state%s)\n", a->all ? "" : "; --all lists every process");
                else if (n_hidden > 0)
                        printf("(%zu more processes without KSM state; --all lists them)\n", n_hidden);
        }

        if (n_unreadable > 0) {
                fprintf(stderr, "ksmctl: could not read the KSM state of %zu process%s%s:",
                        n_unreadable, n_unreadable == 1 ? "" : "es",
                        geteuid() != 0 ? " (reading another user's ksm_stat needs root)" : "");
                for (size_t i = 0; i < n_unreadable; i++)
                        fprintf(stderr, "%s %d (%s): %s", i ? "," : "", (int) unreadable[i].pid,
                                unreadable[i].comm, strerror(-unreadable[i].error));
                fprintf(stderr, "\n");
        }

finish:
        json_decref(daemon_params);
        json_decref(daemon_procs);
        closedir(d);
        for (size_t i = 0; i < n_shown; i++)
                free(shown[i].cgroup);
        for (size_t i = 0; i < n_unreadable; i++)
                free(unreadable[i].cgroup);
        free(shown);
        free(unreadable);
        if (r < 0 && r != -EIO)
                fprintf(stderr, "ksmctl: %s\n", strerror(-r));
        return r;
}
