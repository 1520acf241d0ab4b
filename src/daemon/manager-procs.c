/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manager-procs.c - discovery and tracking: which processes the policies select, making them
 * mergeable, and forgetting them when they exit.
 *
 * Discovery walks the cgroup2 tree (directories only) and reads cgroup.procs of the cgroups a
 * policy could select; it runs at start, after every reload, and every rescan_interval as the
 * safety net (the BPF exec events of a later release will plug in here).  Each tracked process is
 * held by a pidfd watched by the event loop, and is dropped the moment it exits, so nothing grows
 * with churn.  Each process is acted on once per policy decision; failures retry with exponential
 * back-off up to merge_attempts; skip reasons are kept for `ksmctl ps`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "cgroup.h"
#include "fileio.h"
#include "ksm-stat.h"
#include "log.h"
#include "manager.h"
#include "parse-util.h"
#include "proc-stat.h"
#include "proc-status.h"

#define CGROUP_DEPTH_MAX 32
#define RETRY_BACKOFF_MAX (5 * USEC_PER_MINUTE)
/* Unmatched processes are looked at again only if a policy has a time-dependent selector
 * (min_age, min_anon_memory), and then at most this often: facts cost three procfs reads. */
#define UNMATCHED_RECHECK (10 * USEC_PER_SEC)
/* After a cgroup event, rescan this soon: a burst of events (a container starting) costs one walk. */
#define CGROUP_EVENT_DEBOUNCE (100 * USEC_PER_MSEC)
/* …and no closer than this after the previous walk: unrelated cgroups churning elsewhere on the
 * host (10/s) cost 9 % of a CPU at 10 000 tracked processes without it. */
#define CGROUP_EVENT_SPACING USEC_PER_SEC

static const char *const track_state_names[_TRACK_STATE_MAX] = {
        [TRACK_PENDING] = "pending",
        [TRACK_ENABLED] = "enabled",
        [TRACK_ALREADY] = "already",
        [TRACK_UNMATCHED] = "unmatched",
        [TRACK_IGNORED] = "ignored",
        [TRACK_NEVER] = "never",
        [TRACK_SKIPPED] = "skipped",
        [TRACK_FAILED] = "failed",
        [TRACK_WASTED] = "wasted",
};

const char *track_state_to_string(TrackState s) {
        return s >= 0 && s < _TRACK_STATE_MAX ? track_state_names[s] : NULL;
}

static Tracked *tracked_free(Tracked *t) {
        if (!t)
                return NULL;
        sd_event_source_disable_unref(t->exit_source);
        pidref_done(&t->ref);
        free(t->cgroup);
        free(t->policy);
        free(t);
        return NULL;
}

static void forget(Tracked *t) {
        pidmap_remove(&t->manager->tracked, t->ref.pid);
        tracked_free(t);
}

static int on_process_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        /* The pidfd is readable: the process exited.  Forget it (its event source goes with it). */
        forget(userdata);
        return 0;
}

/* ---- policies -------------------------------------------------------------------------- */

/* A cheap fingerprint of the policy files (name, size, mtime, inode) to notice edits. */
static char *policy_signature(Manager *m) {
        char *sig = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&sig, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < m->n_policy_dirs; i++) {
                DIR *d = opendir(m->policy_dirs[i]);
                struct dirent *de;

                fprintf(f, "%s:", m->policy_dirs[i]);
                if (!d)
                        continue;
                while ((de = readdir(d))) {
                        struct stat st;
                        size_t l = strlen(de->d_name);

                        if (l < 6 || !streq(de->d_name + l - 5, ".json"))
                                continue;
                        if (fstatat(dirfd(d), de->d_name, &st, 0) < 0)
                                memset(&st, 0, sizeof(st));
                        fprintf(f, "%s/%lld/%lld.%ld/%llu;", de->d_name, (long long) st.st_size,
                                (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned long long) st.st_ino);
                }
                closedir(d);
        }
        if (fclose(f) != 0) {
                free(sig);
                return NULL;
        }
        return sig;
}

int manager_load_policies(Manager *m, bool startup) {
        _cleanup_(policy_set_freep) PolicySet *set = NULL;
        _cleanup_(log_fields_done) LogFields f = {};
        char msg[1024];
        int r;

        free(m->policy_signature);
        m->policy_signature = policy_signature(m);

        r = policy_set_load((const char *const *) m->policy_dirs, m->n_policy_dirs, &set);
        if (r < 0) {
                snprintf(msg, sizeof(msg), "cannot read the policy directories: %s", strerror(-r));
                goto refused;
        }
        for (size_t i = 0; i < set->n_errors; i++) {
                char e[900];

                _cleanup_(log_fields_done) LogFields rf = {};

                json_error_format(&set->errors[i], e, sizeof(e));
                log_fields_add(&rf, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_POLICY_REJECTED);
                log_fields_add(&rf, "KSMT_POLICY_FILE=%s", set->errors[i].file);
                log_fields_send(&rf, LOG_ERR, -EINVAL, "Policy rejected: %s", e);
                if (i == 0)
                        snprintf(msg, sizeof(msg), "%s%s", e, set->n_errors > 1 ? " (and more)" : "");
        }
        if (set->n_errors > 0 && !startup) {
                r = -EINVAL;
                goto refused;
        }

        policy_set_free(m->policies);
        m->policies = TAKE_PTR(set);
        m->policy_generation++;
        free(m->last_policy_error);
        m->last_policy_error = m->policies->n_errors > 0 ? strdup(msg) : NULL;
        m->last_policy_reload_realtime_usec = now_usec(CLOCK_REALTIME);

        log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_POLICY_LOADED);
        log_fields_add(&f, "KSMT_POLICIES=%zu", m->policies->n);
        for (size_t i = 0; i < m->policies->n; i++)
                log_fields_add(&f, "KSMT_POLICY=%s", m->policies->policies[i]->name);
        log_fields_send(&f, LOG_NOTICE, 0, "Loaded %zu polic%s from %zu director%s%s.", m->policies->n,
                        m->policies->n == 1 ? "y" : "ies", m->n_policy_dirs, m->n_policy_dirs == 1 ? "y" : "ies",
                        m->policies->n_errors > 0 ? ", some files were skipped" : "");
        return 0;

refused:
        free(m->last_policy_error);
        m->last_policy_error = strdup(msg);
        log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_POLICY_REJECTED);
        log_fields_send(&f, LOG_WARNING, r, "Policies not reloaded, the previous ones stay in force: %s", msg);
        return r;
}

/* ---- acting on one process ------------------------------------------------------------- */

static void read_facts(Manager *m, Tracked *t, const Policy *any_needs_exe, ProcessFacts *f, char *exe, size_t exe_size,
                       bool need_exe) {
        ProcStatus ps = { .uid = (uid_t) -1 };
        ProcStat st;
        char path[64];

        /* comm and uid change when a wrapper execs the real program or a process drops privileges:
         * read them at each decision (this is also where a new process gets them first). */
        (void) proc_comm_read_at(m->proc_fd, t->ref.pid, t->comm, sizeof(t->comm));
        if (proc_status_read_at(m->proc_fd, t->ref.pid, 0, &ps) >= 0 && ps.uid != (uid_t) -1)
                t->uid = ps.uid;
        *f = (ProcessFacts) { .cgroup = t->cgroup, .comm = t->comm, .uid = t->uid,
                              .anon_bytes = ps.uid != (uid_t) -1 ? ps.rss_anon_bytes : 0 };
        if (proc_stat_read_at(m->proc_fd, t->ref.pid, &st) >= 0 && m->ticks_per_sec > 0) {
                usec_t boot = now_usec(CLOCK_BOOTTIME);
                usec_t start = st.start_time_ticks * (USEC_PER_SEC / (usec_t) m->ticks_per_sec);

                f->age_usec = boot > start ? boot - start : 0;
        }
        if (need_exe) {
                ssize_t n;

                snprintf(path, sizeof(path), "%d/exe", (int) t->ref.pid);
                n = readlinkat(m->proc_fd, path, exe, exe_size - 1);
                if (n > 0) {
                        exe[n] = 0;
                        /* After a package upgrade the kernel appends this to the old binary's path. */
                        if ((size_t) n > 10 && streq(exe + n - 10, " (deleted)"))
                                exe[n - 10] = 0;
                        f->exe = exe;
                }
        }
        (void) any_needs_exe;
}

static bool policies_time_dependent(const PolicySet *s) {
        for (size_t i = 0; s && i < s->n; i++)
                if (s->policies[i]->min_age_usec > 0 || s->policies[i]->min_anon_bytes > 0)
                        return true;
        return false;
}

static bool policies_need_exe(const PolicySet *s) {
        for (size_t i = 0; s && i < s->n; i++)
                if (policy_needs_exe(s->policies[i]))
                        return true;
        return false;
}

static MergeBackend effective_backend(Manager *m, const Policy *p) {
        switch (m->config.merge_backend) {
        case DAEMON_BACKEND_INJECT:
                return MERGE_BACKEND_INJECT;
        case DAEMON_BACKEND_MADVISE:
                return MERGE_BACKEND_MADVISE;
        default:
                return p ? p->backend : MERGE_BACKEND_AUTO;
        }
}

static void log_result(Manager *m, Tracked *t, bool enable, int level) {
        _cleanup_(log_fields_done) LogFields f = {};

        log_fields_add(&f, "MESSAGE_ID=%s", enable ? KSMT_MESSAGE_ID_PROCESS_MERGED : KSMT_MESSAGE_ID_PROCESS_UNMERGED);
        log_fields_add(&f, "KSMT_PID=%d", (int) t->ref.pid);
        log_fields_add(&f, "KSMT_COMM=%s", t->comm);
        log_fields_add(&f, "KSMT_CGROUP=%s", strna(t->cgroup));
        log_fields_add(&f, "KSMT_POLICY=%s", strna(t->policy));
        log_fields_add(&f, "KSMT_OUTCOME=%s", merge_outcome_to_string(t->last.outcome));
        log_fields_add(&f, "KSMT_REASON=%s", merge_reason_to_string(t->last.reason));
        if (t->last.outcome == MERGE_OUTCOME_DONE) {
                log_fields_add(&f, "KSMT_BACKEND=%s", merge_backend_to_string(t->last.backend));
                log_fields_add(&f, "KSMT_STOPPED_USEC=%" PRIu64, t->last.stopped_usec);
        }
        log_fields_send(&f, level, t->last.error, "%s %d (%s) in '%s' for policy '%s': %s: %s",
                        enable ? "Merge" : "Unmerge", (int) t->ref.pid, t->comm, strna(t->cgroup), strna(t->policy),
                        merge_outcome_to_string(t->last.outcome), t->last.detail);
}

/* Reasons that can change by themselves, worth another try later. */
static bool retryable(MergeReason r) {
        return IN_SET(r, MERGE_REASON_TRACED, MERGE_REASON_STOPPED, MERGE_REASON_UNINTERRUPTIBLE,
                      MERGE_REASON_PTRACE_ERROR, MERGE_REASON_CALL_TIMEOUT, MERGE_REASON_VERIFY_FAILED,
                      MERGE_REASON_NO_SYSCALL_INSN);
}

static void schedule_retry(Manager *m, Tracked *t) {
        usec_t backoff = USEC_PER_SEC << MIN(t->attempts > 0 ? t->attempts - 1 : 0, 16U);    /* 1 s, 2 s, 4 s … */

        t->next_attempt_usec = now_usec(CLOCK_MONOTONIC) + MIN(backoff, RETRY_BACKOFF_MAX);
}

static void act(Manager *m, Tracked *t, const Policy *p, bool enable) {
        MergeOptions o = {
                .backend = effective_backend(m, p),
                .allow_seccomp = p && p->allow_seccomp,
                .stop_timeout_usec = MERGE_STOP_TIMEOUT_DEFAULT,
                .call_timeout_usec = MERGE_CALL_TIMEOUT_DEFAULT,
        };
        int r;

        t->attempts++;
        r = merge_engine_apply(m->engine, &t->ref, enable, &o, &t->last);
        (void) r;

        switch (t->last.outcome) {
        case MERGE_OUTCOME_DONE:
                t->attempts = 0;
                if (enable) {
                        t->state = TRACK_ENABLED;
                        t->merged_by_us = true;
                        t->backend = t->last.backend;
                        t->when_unmatched = p ? p->when_unmatched : POLICY_UNMATCHED_LEAVE;
                        t->enabled_realtime_usec = now_usec(CLOCK_REALTIME);
                        {
                                ProcStatus ps;

                                if (proc_status_read_at(m->proc_fd, t->ref.pid, 0, &ps) >= 0)
                                        t->anon_bytes = ps.rss_anon_bytes;
                                manager_tuner_note_enabled(m, t->anon_bytes);
                        }
                        {
                                int64_t fs = 0;

                                if (m->ksm && ksm_sysfs_read(m->ksm, KSM_KNOB_FULL_SCANS, &fs) >= 0)
                                        t->enabled_full_scans = t->judged_full_scans = (uint64_t) fs;
                                t->wasted = false;
                        }
                } else
                        t->merged_by_us = false;
                log_result(m, t, enable, LOG_INFO);
                return;
        case MERGE_OUTCOME_ALREADY:
                t->attempts = 0;
                if (enable)
                        t->state = t->merged_by_us ? TRACK_ENABLED : TRACK_ALREADY;
                else
                        t->merged_by_us = false;
                return;
        default:
                break;
        }

        if (t->last.reason == MERGE_REASON_GONE)
                return;         /* the exit event forgets it */
        if (retryable(t->last.reason) && t->attempts < m->config.merge_attempts) {
                t->state = enable ? TRACK_PENDING : t->state;
                schedule_retry(m, t);
                log_result(m, t, enable, LOG_DEBUG);
                return;
        }
        if (enable)
                t->state = t->last.outcome == MERGE_OUTCOME_SKIPPED ? TRACK_SKIPPED : TRACK_FAILED;
        log_result(m, t, enable, t->last.outcome == MERGE_OUTCOME_FAILED ? LOG_WARNING : LOG_INFO);
}

/* Decides and, where needed, acts.  Called for new processes, after reloads, and for retries. */
static void evaluate(Manager *m, Tracked *t) {
        bool same_decision_round = t->generation == m->policy_generation &&
                                   IN_SET(t->state, TRACK_PENDING, TRACK_WASTED);
        char exe[PATH_MAX];
        ProcessFacts f;
        const Policy *p;

        read_facts(m, t, NULL, &f, exe, sizeof(exe), policies_need_exe(m->policies));
        p = m->policies ? policy_set_decide(m->policies, &f) : NULL;
        t->generation = m->policy_generation;
        free(t->policy);
        t->policy = p ? strdup(p->name) : NULL;

        if (!p || p->action != POLICY_ACTION_MERGE) {
                bool undo = t->merged_by_us &&
                            ((p && p->action == POLICY_ACTION_NEVER) ||       /* an opt-out always wins */
                             (!p && t->when_unmatched == POLICY_UNMATCHED_UNMERGE));

                t->state = !p ? TRACK_UNMATCHED : p->action == POLICY_ACTION_NEVER ? TRACK_NEVER : TRACK_IGNORED;
                t->next_attempt_usec = now_usec(CLOCK_MONOTONIC) + UNMATCHED_RECHECK;
                if (undo && m->config.merge_backend != DAEMON_BACKEND_NONE)    /* "none": touch nothing */
                        act(m, t, p, false);
                return;
        }

        if (t->state == TRACK_ENABLED && t->merged_by_us) {
                t->when_unmatched = p->when_unmatched;
                return;
        }
        if (t->state == TRACK_WASTED && same_decision_round)
                return;         /* judged not worth it under these policies */
        if (m->config.merge_backend == DAEMON_BACKEND_NONE) {
                t->state = TRACK_SKIPPED;
                t->last = (MergeResult) { .pid = t->ref.pid, .outcome = MERGE_OUTCOME_SKIPPED,
                                          .reason = MERGE_REASON_NO_BACKEND };
                snprintf(t->last.detail, sizeof(t->last.detail), "merge_backend is \"none\" in the daemon config");
                return;
        }
        /* A retry within the same decision keeps counting attempts; a new decision starts over. */
        if (!same_decision_round)
                t->attempts = 0;
        t->state = TRACK_PENDING;
        act(m, t, p, true);
}

/* A PID seen in a watched cgroup. */
static void consider(Manager *m, pid_t pid, const char *cgroup) {
        _cleanup_free_ Tracked *n = NULL;
        Tracked *t = pidmap_get(&m->tracked, pid);
        int r;

        if (t) {
                bool moved = !streq_ptr(t->cgroup, cgroup);

                t->seen_rescan = m->n_rescans + 1;

                if (moved) {
                        char *c = strdup(cgroup);

                        if (c) {
                                free(t->cgroup);
                                t->cgroup = c;
                        }
                }
                if (moved || t->generation != m->policy_generation ||
                    (IN_SET(t->state, TRACK_UNMATCHED, TRACK_IGNORED) && now_usec(CLOCK_MONOTONIC) >= t->next_attempt_usec &&
                     policies_time_dependent(m->policies)) ||         /* min_age / min_anon may now hold */
                    (t->state == TRACK_PENDING && now_usec(CLOCK_MONOTONIC) >= t->next_attempt_usec))
                        evaluate(m, t);
                return;
        }

        if (pid == getpid())
                return;
        if (m->tracked.n >= m->config.max_tracked) {
                if (m->n_dropped++ == 0)
                        log_warning("More than %" PRIu64 " processes in watched cgroups; not tracking the rest "
                                    "(raise max_tracked).", m->config.max_tracked);
                return;
        }

        n = new0(Tracked, 1);
        if (!n)
                return;
        *n = (Tracked) { .manager = m, .ref = PIDREF_NULL };
        r = pidref_open(m->proc_fd, pid, UINT64_MAX, &n->ref);
        if (IN_SET(r, -EMFILE, -ENFILE)) {
                if (m->n_dropped++ == 0)
                        log_warning_errno(r, "Out of file descriptors at %zu tracked processes, not tracking more "
                                          "(raise LimitNOFILE= or lower max_tracked): %m", m->tracked.n);
                return;
        }
        if (r < 0)
                return;         /* gone, or a zombie: nothing to do */
        {
                /* Kernel threads never appear in cgroup.procs of non-root cgroups, but be sure. */
                ProcStat ps;

                if (proc_stat_read_at(m->proc_fd, pid, &ps) < 0 || proc_stat_is_kthread(&ps)) {
                        pidref_done(&n->ref);
                        return;
                }
        }
        n->uid = (uid_t) -1;    /* comm and uid are read by evaluate() below, with the other facts */
        n->cgroup = strdup(cgroup);
        if (!n->cgroup || /* Edge-triggered: an exited process's pidfd stays readable; level-triggered, every
             * loop iteration re-polls all of them until each callback ran, which made a mass exit
             * quadratic (10 000 at once: 7 s of CPU, 18 000: 65 s; measured by bench-daemon-scale). */
            sd_event_add_io(m->event, &n->exit_source, n->ref.pidfd, EPOLLIN | EPOLLET, on_process_exit, n) < 0 ||
            pidmap_put(&m->tracked, pid, n) < 0) {
                tracked_free(TAKE_PTR(n));
                return;
        }
        (void) sd_event_source_set_description(n->exit_source, "pidfd");
        t = TAKE_PTR(n);
        t->seen_rescan = m->n_rescans + 1;
        evaluate(m, t);
}

void manager_procs_exec(Manager *m, pid_t pid) {
        _cleanup_free_ char *cgroup = NULL;

        /* The eBPF filter passes execs in watched cgroups and below; the policies decide. */
        if (!m->policies || cgroup_pid_get_path_at(m->proc_fd, pid, &cgroup) < 0)
                return;         /* gone already */
        if (!policy_set_matches_cgroup(m->policies, cgroup))
                return;
        m->n_exec_considered++;
        consider(m, pid, cgroup);
}

usec_t manager_rescan_interval(Manager *m) {
        if (m->config.rescan_interval_usec != RESCAN_INTERVAL_AUTO)
                return m->config.rescan_interval_usec;
        return m->bpf_exec_source ? RESCAN_INTERVAL_EXEC_EVENTS : RESCAN_INTERVAL_DEFAULT;
}

/* ---- the walk -------------------------------------------------------------------------- */

static void scan_cgroup(Manager *m, int fd, const char *path) {
        _cleanup_free_ char *procs = NULL;
        char *saveptr = NULL;

        if (read_virtual_file_at(fd, "cgroup.procs", READ_VIRTUAL_MAX, &procs, NULL) < 0)
                return;         /* removed meanwhile */
        for (char *l = strtok_r(procs, "\n", &saveptr); l; l = strtok_r(NULL, "\n", &saveptr)) {
                int64_t pid;

                if (safe_atoi64(l, &pid) >= 0 && pid > 0 && pid <= INT32_MAX)
                        consider(m, (pid_t) pid, path);
        }
}

static void walk(Manager *m, int fd, char *path, size_t len, unsigned depth) {
        struct dirent *de;
        DIR *d;
        int dfd;

        /* New child cgroups show up as IN_CREATE on the directory; a watched cgroup that becomes
         * populated (its first process arrives) modifies cgroup.events.  Adding a watch that exists
         * already is a no-op, and the kernel drops watches of removed cgroups itself. */
        if (m->inotify_fd >= 0) {
                char p[64];

                snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
                (void) inotify_add_watch(m->inotify_fd, p, IN_CREATE | IN_ONLYDIR);
        }
        if (policy_set_matches_cgroup(m->policies, path)) {
                if (m->inotify_fd >= 0) {
                        char p[80];

                        snprintf(p, sizeof(p), "/proc/self/fd/%d/cgroup.events", fd);
                        (void) inotify_add_watch(m->inotify_fd, p, IN_MODIFY);
                }
                manager_bpf_watch_cgroup(m, fd, path);
                scan_cgroup(m, fd, path);
        }
        if (depth >= CGROUP_DEPTH_MAX)
                return;

        dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return;
        d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return;
        }
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                int sub;

                if (de->d_type != DT_DIR || de->d_name[0] == '.' || len + 1 + l >= PATH_MAX)
                        continue;
                sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sub < 0)
                        continue;
                if (len == 1)           /* root "/" */
                        memcpy(path + 1, de->d_name, l + 1);
                else {
                        path[len] = '/';
                        memcpy(path + len + 1, de->d_name, l + 1);
                }
                walk(m, sub, path, len == 1 ? 1 + l : len + 1 + l, depth + 1);
                path[len == 1 ? 1 : len] = 0;
                safe_close(sub);
        }
        closedir(d);
}

/*
 * Effort where it pays: after effort.after_scans full scans, a process whose merged pages stay
 * below effort.min_yield percent of the pages ksmd scans in it (ksm_rmap_items), or whose
 * ksm_process_profit is negative, costs ksmd scans and rmap memory for nothing.  Report it, and
 * unmerge it where the policy says so.  Judged at most once per full scan per process.
 */
static void judge_effort(Manager *m) {
        int64_t fs;
        Tracked *t;

        if (!m->ksm || ksm_sysfs_read(m->ksm, KSM_KNOB_FULL_SCANS, &fs) < 0)
                return;
        for (size_t i = 0; pidmap_next(&m->tracked, &i, NULL, (void **) &t); ) {
                const Policy *p;
                KsmStat st;
                bool wasted;

                if (t->state != TRACK_ENABLED || !t->merged_by_us || t->judged_full_scans == (uint64_t) fs)
                        continue;
                p = policy_set_get(m->policies, t->policy);
                if (!p || p->min_yield_percent == 0 || (uint64_t) fs < t->enabled_full_scans + p->wasted_after_scans)
                        continue;
                t->judged_full_scans = (uint64_t) fs;
                if (ksm_stat_read_at(m->proc_fd, t->ref.pid, &st) < 0 || !(st.fields & KSM_STAT_RMAP_ITEMS) ||
                    st.rmap_items == 0)
                        continue;
                t->yield_pmy = (uint32_t) MIN((st.merging_pages + st.zero_pages) * 10000 / st.rmap_items, 10000U);
                wasted = t->yield_pmy < p->min_yield_percent * 100 ||
                         ((st.fields & KSM_STAT_PROCESS_PROFIT) && st.process_profit < 0);
                if (wasted != t->wasted) {
                        _cleanup_(log_fields_done) LogFields f = {};

                        t->wasted = wasted;
                        log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_WASTED_EFFORT);
                        log_fields_add(&f, "KSMT_PID=%d", (int) t->ref.pid);
                        log_fields_add(&f, "KSMT_COMM=%s", t->comm);
                        log_fields_add(&f, "KSMT_POLICY=%s", p->name);
                        log_fields_add(&f, "KSMT_YIELD_PMY=%" PRIu32, t->yield_pmy);
                        log_fields_add(&f, "KSMT_PROFIT_BYTES=%" PRIi64, st.process_profit);
                        log_fields_send(&f, wasted ? LOG_NOTICE : LOG_INFO, 0,
                                        "%d (%s): merging %s: %" PRIu32 ".%02" PRIu32 " %% of its scanned pages merged "
                                        "(policy '%s' wants %" PRIu32 " %%), profit %" PRIi64 " bytes%s",
                                        (int) t->ref.pid, t->comm, wasted ? "is wasted effort" : "pays again",
                                        t->yield_pmy / 100, t->yield_pmy % 100, p->name, p->min_yield_percent,
                                        st.process_profit,
                                        wasted && p->when_wasted == POLICY_WASTED_UNMERGE ? "; making it unmergeable" : "");
                }
                if (wasted && p->when_wasted == POLICY_WASTED_UNMERGE && m->config.merge_backend != DAEMON_BACKEND_NONE) {
                        act(m, t, p, false);
                        if (t->last.outcome == MERGE_OUTCOME_DONE || t->last.outcome == MERGE_OUTCOME_ALREADY)
                                t->state = TRACK_WASTED;
                }
        }
}

/* Tracked processes the walk did not find moved out of every watched cgroup (or the policies
 * changed so that their cgroup is no longer watched): decide once more where they are now, which
 * unmerges them if their policy says so, then stop tracking them. */
static void revisit_unseen(Manager *m) {
        _cleanup_free_ pid_t *unseen = NULL;
        size_t n = 0;
        Tracked *t;
        pid_t pid;

        if (m->tracked.n == 0)
                return;
        unseen = new0(pid_t, m->tracked.n);
        if (!unseen)
                return;
        for (size_t i = 0; pidmap_next(&m->tracked, &i, &pid, (void **) &t); )
                if (t->seen_rescan != m->n_rescans + 1)
                        unseen[n++] = pid;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *cgroup = NULL;

                t = pidmap_get(&m->tracked, unseen[i]);
                if (!t)
                        continue;
                if (cgroup_pid_get_path_at(m->proc_fd, t->ref.pid, &cgroup) < 0 || pidref_verify(m->proc_fd, &t->ref) <= 0)
                        continue;       /* exiting: the pidfd event forgets it */
                consider(m, t->ref.pid, cgroup);
                t = pidmap_get(&m->tracked, unseen[i]);
                if (t && !policy_set_matches_cgroup(m->policies, t->cgroup))
                        forget(t);
        }
}

int manager_rescan(Manager *m) {
        _cleanup_free_ char *sig = NULL;
        char path[PATH_MAX] = "/";
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        int fd;

        /* Saving a policy file is enough: notice it here, within one rescan interval. */
        sig = policy_signature(m);
        if (sig && !streq_ptr(sig, m->policy_signature))
                (void) manager_load_policies(m, false);

        if (!m->cgroup_root || !m->policies)
                return 0;
        fd = open(m->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_warning_errno(errno, "Cannot open the cgroup2 mount '%s': %m", m->cgroup_root);
        walk(m, fd, path, 1, 0);
        safe_close(fd);
        revisit_unseen(m);
        judge_effort(m);

        m->n_rescans++;
        m->last_rescan_end_usec = now_usec(CLOCK_MONOTONIC);
        m->last_rescan_usec = m->last_rescan_end_usec - t0;
        if (m->engine)
                (void) merge_engine_reap(m->engine);
        return 0;
}

static int on_rescan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        int r;

        r = sd_event_source_set_time_relative(s, manager_rescan_interval(m));
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "Failed to re-arm the rescan timer: %m");

        (void) manager_rescan(m);
        manager_notify_status(m);
        return 0;
}

static int on_cgroup_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        uint8_t buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        /* Drain; what changed does not matter, a walk looks at everything. */
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
        m->n_cgroup_events++;
        if (m->rescan_timer) {
                usec_t now = now_usec(CLOCK_MONOTONIC), want = MAX(now + CGROUP_EVENT_DEBOUNCE,
                                                                  m->last_rescan_end_usec + CGROUP_EVENT_SPACING);
                uint64_t next;

                if (sd_event_source_get_time(m->rescan_timer, &next) >= 0 && next > want)
                        (void) sd_event_source_set_time(m->rescan_timer, want);
        }
        return 0;
}

int manager_procs_startup(Manager *m) {
        int r;

        r = merge_engine_new(m->proc_fd, &m->engine);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the merge engine: %m");
        {
                const MergeProbe *p = merge_engine_probe(m->engine);

                log_info("Merge backends: inject %s (%s); madvise %s (%s).",
                         p->available[MERGE_BACKEND_INJECT] ? "available" : "unavailable", p->why[MERGE_BACKEND_INJECT],
                         p->available[MERGE_BACKEND_MADVISE] ? "available" : "unavailable", p->why[MERGE_BACKEND_MADVISE]);
        }

        r = cgroup2_find_mount_at(m->proc_fd, &m->cgroup_root);
        if (r < 0)
                log_warning_errno(r, "No cgroup2 mount found, processes cannot be discovered: %m");

        (void) manager_load_policies(m, true);

        r = sd_event_add_time_relative(m->event, &m->rescan_timer, CLOCK_MONOTONIC, 0, USEC_PER_MSEC,
                                       on_rescan_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the rescan timer: %m");
        (void) sd_event_source_set_description(m->rescan_timer, "rescan-timer");

        m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (m->inotify_fd < 0)
                log_notice_errno(errno, "No inotify, new processes are found by the periodic rescan only: %m");
        else {
                r = sd_event_add_io(m->event, &m->inotify_source, m->inotify_fd, EPOLLIN, on_cgroup_event, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch cgroup events: %m");
                (void) sd_event_source_set_description(m->inotify_source, "cgroup-inotify");
        }
        return 0;
}

void manager_procs_done(Manager *m) {
        Tracked *t;
        pid_t pid;

        m->rescan_timer = sd_event_source_disable_unref(m->rescan_timer);
        m->inotify_source = sd_event_source_disable_unref(m->inotify_source);
        m->inotify_fd = safe_close(m->inotify_fd);
        for (size_t i = 0; pidmap_next(&m->tracked, &i, &pid, (void **) &t); )
                tracked_free(t);
        pidmap_done(&m->tracked);
        m->policies = policy_set_free(m->policies);
        m->engine = merge_engine_free(m->engine);
        free(m->cgroup_root);
        free(m->policy_signature);
        free(m->last_policy_error);
        for (size_t i = 0; i < m->n_policy_dirs; i++)
                free(m->policy_dirs[i]);
        free(m->policy_dirs);
}

void manager_count_states(Manager *m, uint64_t counts[_TRACK_STATE_MAX]) {
        Tracked *t;

        memset(counts, 0, sizeof(uint64_t) * _TRACK_STATE_MAX);
        for (size_t i = 0; pidmap_next(&m->tracked, &i, NULL, (void **) &t); )
                counts[t->state]++;
}

/* ---- JSON for the control socket ------------------------------------------------------- */

json_t *manager_status_json(Manager *m) {
        json_t *o, *pol = json_array(), *counts = json_object(), *errs = json_array(), *dirs = json_array();
        uint64_t c[_TRACK_STATE_MAX];

        manager_count_states(m, c);
        for (TrackState s = 0; s < _TRACK_STATE_MAX; s++)
                json_object_set_new(counts, track_state_to_string(s), json_integer((json_int_t) c[s]));
        for (size_t i = 0; m->policies && i < m->policies->n; i++) {
                const Policy *p = m->policies->policies[i];

                json_array_append_new(pol, json_pack("{s:s, s:s, s:s?, s:s, s:i}", "name", p->name, "path", p->path,
                                                     "description", p->description,
                                                     "action", policy_action_to_string(p->action), "priority", p->priority));
        }
        for (size_t i = 0; m->policies && i < m->policies->n_errors; i++) {
                char e[1024];

                json_array_append_new(errs, json_string(json_error_format(&m->policies->errors[i], e, sizeof(e))));
        }
        for (size_t i = 0; i < m->n_policy_dirs; i++)
                json_array_append_new(dirs, json_string(m->policy_dirs[i]));

        o = json_pack("{s:s, s:i, s:I, s:s, s:s?, s:o, s:o, s:o, s:o, s:{s:I, s:b, s:s?, s:s?}, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:o}",
                      "version", PACKAGE_VERSION,
                      "pid", (int) getpid(),
                      "started_realtime_usec", (json_int_t) m->started_realtime_usec,
                      "config", m->config_path,
                      "cgroup_root", m->cgroup_root,
                      "policy_dirs", dirs,
                      "policies", pol,
                      "skipped_policy_files", errs,
                      "processes", counts,
                      "last_reload",
                              "realtime_usec", (json_int_t) m->last_policy_reload_realtime_usec,
                              "ok", !m->last_policy_error && !m->last_reload_error,
                              "policy_error", m->last_policy_error,
                              "config_error", m->last_reload_error,
                      "backends", json_object(),
                      "tracked", (json_int_t) m->tracked.n,
                      "not_tracked_over_limit", (json_int_t) m->n_dropped,
                      "rescans", (json_int_t) m->n_rescans,
                      "cgroup_events", (json_int_t) m->n_cgroup_events,
                      "last_rescan_usec", (json_int_t) m->last_rescan_usec,
                      "rescan_interval_usec", (json_int_t) manager_rescan_interval(m),
                      "merge_backend", (const char *[]) { "auto", "inject", "madvise", "none" }[m->config.merge_backend],
                      "tuner", manager_tuner_json(m));
        if (o && m->engine) {
                const MergeProbe *p = merge_engine_probe(m->engine);
                json_t *b = json_object_get(o, "backends");

                for (MergeBackend k = MERGE_BACKEND_INJECT; k < _MERGE_BACKEND_MAX; k++)
                        json_object_set_new(b, merge_backend_to_string(k),
                                            json_pack("{s:b, s:s}", "available", p->available[k], "note", p->why[k]));
        }
        json_object_set_new(o, "metrics", manager_metrics_json(m));
        json_object_set_new(o, "statistics", manager_bpf_json(m));
        return o;
}

json_t *manager_processes_json(Manager *m, uid_t uid) {
        json_t *a = json_array();
        Tracked *t;

        if (!a)
                return NULL;
        for (size_t i = 0; pidmap_next(&m->tracked, &i, NULL, (void **) &t); ) {
                if (uid != (uid_t) -1 && t->uid != uid)
                        continue;
                json_array_append_new(a, json_pack("{s:i, s:s, s:s, s:i, s:s?, s:s, s:s?, s:I, s:s?, s:s?, s:I}",
                        "pid", (int) t->ref.pid,
                        "comm", t->comm,
                        "cgroup", strna(t->cgroup),
                        "uid", (int) t->uid,
                        "policy", t->policy,
                        "state", track_state_to_string(t->state),
                        "backend", t->state == TRACK_ENABLED ? merge_backend_to_string(t->backend) : NULL,
                        "enabled_realtime_usec", (json_int_t) t->enabled_realtime_usec,
                        "reason", t->last.outcome == MERGE_OUTCOME_SKIPPED || t->last.outcome == MERGE_OUTCOME_FAILED ?
                                  merge_reason_to_string(t->last.reason) : NULL,
                        "detail", t->last.detail[0] ? t->last.detail : NULL,
                        "attempts", (json_int_t) t->attempts));
                {
                        json_t *o = json_array_get(a, json_array_size(a) - 1);

                        json_object_set_new(o, "wasted", json_boolean(t->wasted));
                        manager_bpf_process_json(m, t->ref.pid, o);
                        json_object_set_new(o, "yield_percent", t->judged_full_scans != t->enabled_full_scans ?
                                            json_real((double) t->yield_pmy / 100.0) : json_null());
                }
        }
        return a;
}
