/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmctl-merge.c - `ksmctl merge`, `ksmctl unmerge` and `ksmctl exec`.
 *
 * merge/unmerge resolve their targets (PIDs, cgroup subtrees) to PidRefs first, then hand each to
 * the merge engine, which does every safety check and never prints; this file only reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "ksmctl.h"
#include "macro.h"
#include "merge.h"
#include "pidref.h"
#include "proc-stat.h"

static int collect_targets(const KsmctlArgs *a, int proc_fd, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ pid_t *all = NULL;
        _cleanup_free_ char *root = NULL;
        size_t n = 0;
        int r;

        all = malloc(sizeof(pid_t) * (a->n_pids ?: 1));
        if (!all)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_pids; i++)
                all[n++] = a->pids[i];

        if (a->n_cgroups > 0) {
                r = cgroup2_find_mount_at(proc_fd, &root);
                if (r < 0) {
                        fprintf(stderr, "ksmctl: cannot find the cgroup v2 mount: %s\n", strerror(-r));
                        return r;
                }
        }
        for (size_t i = 0; i < a->n_cgroups; i++) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t m = 0;
                pid_t *p;

                r = cgroup_collect_pids(root, a->cgroups[i], true, &pids, &m);
                if (r < 0) {
                        fprintf(stderr, "ksmctl: cannot read cgroup '%s' under '%s': %s\n", a->cgroups[i], root, strerror(-r));
                        return r;
                }
                p = realloc(all, sizeof(pid_t) * (n + m + 1));
                if (!p)
                        return -ENOMEM;
                all = p;
                memcpy(all + n, pids, m * sizeof(pid_t));
                n += m;
        }

        /* De-duplicate, keeping the first occurrence (order as given). */
        {
                size_t w = 0;

                for (size_t i = 0; i < n; i++) {
                        bool dup = false;

                        for (size_t j = 0; j < w && !dup; j++)
                                dup = all[j] == all[i];
                        if (!dup)
                                all[w++] = all[i];
                }
                n = w;
        }
        *ret = TAKE_PTR(all);
        *ret_n = n;
        return 0;
}

static json_t *result_to_json(const MergeResult *res, const char *comm) {
        return json_pack("{s:i, s:s, s:s, s:s, s:s?, s:i, s:I, s:b, s:i, s:s}",
                         "pid", (int) res->pid,
                         "comm", comm,
                         "outcome", merge_outcome_to_string(res->outcome),
                         "reason", merge_reason_to_string(res->reason),
                         "backend", res->outcome == MERGE_OUTCOME_DONE || res->outcome == MERGE_OUTCOME_FAILED ||
                                    res->stopped_usec > 0 ? merge_backend_to_string(res->backend) : NULL,
                         "tid", (int) res->tid,
                         "stopped_usec", (json_int_t) res->stopped_usec,
                         "eintr", res->eintr,
                         "error", res->error,
                         "detail", res->detail);
}

static void print_result(const MergeResult *res, const char *comm, bool enable) {
        switch (res->outcome) {
        case MERGE_OUTCOME_DONE:
                printf("%d (%s): %s via %s, stopped %" PRIu64 ".%03" PRIu64 " ms%s%s\n", (int) res->pid, comm,
                       enable ? "enabled" : "disabled and unmerged", merge_backend_to_string(res->backend),
                       res->stopped_usec / 1000, res->stopped_usec % 1000,
                       res->eintr ? "; " : "", res->eintr ? "its stopped thread sees one EINTR" : "");
                break;
        case MERGE_OUTCOME_ALREADY:
                printf("%d (%s): %s\n", (int) res->pid, comm, res->detail);
                break;
        case MERGE_OUTCOME_SKIPPED:
                printf("%d (%s): skipped (%s): %s\n", (int) res->pid, comm, merge_reason_to_string(res->reason), res->detail);
                break;
        default:
                printf("%d (%s): failed (%s): %s\n", (int) res->pid, comm, merge_reason_to_string(res->reason), res->detail);
                break;
        }
}

int ksmctl_merge(const KsmctlArgs *a, bool enable) {
        _cleanup_(merge_engine_freep) MergeEngine *e = NULL;
        _cleanup_close_ int proc_fd = -EBADF;
        _cleanup_free_ pid_t *pids = NULL;
        json_t *results = NULL;
        size_t n = 0, counts[_MERGE_OUTCOME_MAX] = {};
        int r;

        proc_fd = open(a->proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0) {
                fprintf(stderr, "ksmctl: cannot open '%s': %s\n", a->proc_dir, strerror(errno));
                return EXIT_FAILURE;
        }
        r = collect_targets(a, proc_fd, &pids, &n);
        if (r < 0)
                return EXIT_FAILURE;
        if (n == 0) {
                fprintf(stderr, "ksmctl: no processes to %s (the cgroup is empty)\n", enable ? "merge" : "unmerge");
                return EXIT_FAILURE;
        }
        r = merge_engine_new(proc_fd, &e);
        if (r < 0) {
                fprintf(stderr, "ksmctl: cannot set up the merge engine: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        if (a->json) {
                results = json_array();
                if (!results)
                        return EXIT_FAILURE;
        }

        for (size_t i = 0; i < n; i++) {
                char comm[PROC_COMM_MAX] = "?";
                MergeResult res = { .pid = pids[i] };
                PidRef ref;

                (void) proc_comm_read_at(proc_fd, pids[i], comm, sizeof(comm));
                r = pidref_open(proc_fd, pids[i], UINT64_MAX, &ref);
                if (r < 0)
                        (void) merge_result_unopenable(proc_fd, pids[i], r, &res);
                else {
                        (void) merge_engine_apply(e, &ref, enable, &a->merge, &res);
                        pidref_done(&ref);
                }
                counts[res.outcome]++;
                if (results)
                        json_array_append_new(results, result_to_json(&res, comm));
                else
                        print_result(&res, comm, enable);
        }

        if (results) {
                json_t *root = json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I}}",
                                         "action", enable ? "merge" : "unmerge",
                                         "results", results,
                                         "summary",
                                         "done", (json_int_t) counts[MERGE_OUTCOME_DONE],
                                         "already", (json_int_t) counts[MERGE_OUTCOME_ALREADY],
                                         "skipped", (json_int_t) counts[MERGE_OUTCOME_SKIPPED],
                                         "failed", (json_int_t) counts[MERGE_OUTCOME_FAILED]);
                if (ksmctl_print_json(root) < 0)
                        return EXIT_FAILURE;
        }
        return counts[MERGE_OUTCOME_SKIPPED] + counts[MERGE_OUTCOME_FAILED] == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int ksmctl_exec(const KsmctlArgs *a) {
        int r;

        r = merge_exec_prepare();
        if (r < 0) {
                fprintf(stderr, "ksmctl: prctl(PR_SET_MEMORY_MERGE) failed: %s%s\n", strerror(-r),
                        r == -EINVAL ? " (the kernel lacks it: Linux 6.4 or later is needed)" : "");
                return EXIT_FAILURE;
        }
        execvp(a->command[0], a->command);
        r = errno;
        fprintf(stderr, "ksmctl: cannot run '%s': %s\n", a->command[0], strerror(r));
        return r == ENOENT ? 127 : 126;
}
