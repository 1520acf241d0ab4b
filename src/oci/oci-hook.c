/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oci-hook.c - the OCI hook's actions: read the state within the deadline, enforce the
 * sharing-group rule under a lock, make the container's init mergeable through the merge engine,
 * write or remove the runtime policy atomically, and ask a running daemon to reload.
 *
 * Why createRuntime: the runtime calls it after the init process of the container exists, sits in
 * its cgroup and waits (runc: blocked reading its sync pipe, host PID namespace view in
 * state.pid), but before that init executes the workload.  PR_SET_MEMORY_MERGE is inherited over
 * fork() and kept over execve(), so one injection here covers every process the workload ever
 * starts.  Processes that join later from outside that tree (`runc exec`, `podman exec`) are the
 * runtime policy's job: the daemon finds them in the container's cgroup.
 *
 * Nothing here may fail the container: every error ends as a report, and every wait is bounded by
 * the one deadline.  The program around it (oci_hook_main) adds a hard timer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "cgroup.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "merge.h"
#include "oci-hook.h"
#include "parse-util.h"
#include "pidref.h"
#include "policy.h"
#include "proc-stat.h"

/* Set while the target is stopped by the merge engine: the hard deadline must not end the
 * process then, or the init would resume with the injected registers. */
static volatile sig_atomic_t in_injection = 0;
static volatile sig_atomic_t deadline_hit = 0;

void oci_hook_config_init(OciHookConfig *c) {
        *c = (OciHookConfig) {
                .policy_dir = OCI_POLICY_DIR_DEFAULT,
                .state_dir = OCI_STATE_DIR_DEFAULT,
                .socket_path = OCI_SOCKET_DEFAULT,
                .proc_dir = "/proc",
                .timeout_usec = OCI_TIMEOUT_DEFAULT,
                .priority = OCI_PRIORITY_DEFAULT,
        };
}

static usec_t remaining(usec_t deadline) {
        usec_t now = now_usec(CLOCK_MONOTONIC);

        return now >= deadline ? 0 : deadline - now;
}

static int report(OciHookReport *rep, OciOutcome o, const char *format, ...) _printf_(3, 4);
static int report(OciHookReport *rep, OciOutcome o, const char *format, ...) {
        va_list ap;

        rep->outcome = o;
        va_start(ap, format);
        (void) vsnprintf(rep->message, sizeof(rep->message), format, ap);
        va_end(ap);
        return 0;
}

/* Reads all of @fd until EOF, at most OCI_STATE_MAX bytes, within the deadline. */
static int read_input(int fd, usec_t deadline, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                usec_t left = remaining(deadline);
                ssize_t k;
                int r;

                if (left == 0)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) DIV_ROUND_UP(left, USEC_PER_MSEC));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                if (allocated - n < 4096) {
                        char *q;

                        if (allocated >= OCI_STATE_MAX + 4096)
                                return -EFBIG;
                        allocated = allocated ? allocated * 2 : 8192;
                        q = realloc(buf, allocated);
                        if (!q)
                                return -ENOMEM;
                        buf = q;
                }
                k = read(fd, buf + n, allocated - n);
                if (k < 0 && !IN_SET(errno, EINTR, EAGAIN))
                        return -errno;
                if (k == 0)
                        break;
                if (k > 0)
                        n += (size_t) k;
                if (n > OCI_STATE_MAX)
                        return -EFBIG;
        }
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

static int mkdir_parents_and(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Writes @text to DIR/NAME.json through a dot-file (skipped by the daemon) and rename(2). */
static int write_atomic(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *tmp = NULL, *final = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(text), done = 0;
        int r;

        r = mkdir_parents_and(dir, 0755);
        if (r < 0)
                return r;
        if (asprintf(&tmp, "%s/.%s.json.XXXXXX", dir, name) < 0 || asprintf(&final, "%s/%s.json", dir, name) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (done < len) {
                ssize_t k = write(fd, text + done, len - done);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : -EIO;
                        (void) unlink(tmp);
                        return r;
                }
                done += (size_t) k;
        }
        if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || rename(tmp, final) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

static int unlink_named(const char *dir, const char *name) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s.json", dir, name) < 0)
                return -ENOMEM;
        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

/* flock(STATE_DIR/.lock) within the deadline. */
static int lock_state(const char *state_dir, usec_t deadline, int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = mkdir_parents_and(state_dir, 0700);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/.lock", state_dir) < 0)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (remaining(deadline) < 10 * USEC_PER_MSEC)
                        return -ETIMEDOUT;
                (void) usleep(5000);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

typedef struct OciRecord {
        char *name;                     /* file name without .json */
        char *id, *group, *cgroup;
        pid_t pid;
        uint64_t start_time;
} OciRecord;

static void record_done(OciRecord *r) {
        free(r->name);
        free(r->id);
        free(r->group);
        free(r->cgroup);
        *r = (OciRecord) {};
}

static int record_load(const char *dir, const char *file, OciRecord *ret) {
        _cleanup_free_ char *path = NULL;
        json_t *j = NULL;
        JsonError jerr = {};
        const char *id = NULL, *group = NULL, *cgroup = NULL;
        json_int_t pid = 0, start = 0;
        int r;

        if (asprintf(&path, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        r = json_load_file_strict(path, &j, &jerr);
        if (r < 0)
                return r;
        if (json_unpack(j, "{s:s, s:s, s:I, s:I, s:s}", "id", &id, "group", &group, "pid", &pid,
                        "start_time", &start, "cgroup", &cgroup) < 0 || pid <= 0 || pid > INT_MAX || start < 0) {
                json_decref(j);
                return -EBADMSG;
        }
        *ret = (OciRecord) {
                .name = strndup(file, strlen(file) - 5),
                .id = strdup(id),
                .group = strdup(group),
                .cgroup = strdup(cgroup),
                .pid = (pid_t) pid,
                .start_time = (uint64_t) start,
        };
        json_decref(j);
        if (!ret->name || !ret->id || !ret->group || !ret->cgroup) {
                record_done(ret);
                return -ENOMEM;
        }
        return 0;
}

/*
 * Walks the records: removes those whose init is gone (and their policies), and finds a live
 * one of a group other than @group (the container named @self is skipped: a repeated hook run).
 * Returns 1 with *ret_conflict filled on a conflict, 0 if none.
 */
static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static int registry_scan(const OciHookConfig *c, int proc_fd, const char *self, const char *group,
                         OciRecord *ret_conflict) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int found = 0;

        d = opendir(c->state_dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                OciRecord rec = {};
                ProcStat st;
                size_t len = strlen(de->d_name);
                int r;

                if (de->d_name[0] == '.' || len <= 5 || !streq(de->d_name + len - 5, ".json"))
                        continue;
                r = record_load(c->state_dir, de->d_name, &rec);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        /* Ours, but unreadable (a crash while writing cannot leave one: rename). */
                        _cleanup_free_ char *p = NULL;

                        if (asprintf(&p, "%s/%s", c->state_dir, de->d_name) >= 0)
                                (void) unlink(p);
                        continue;
                }
                if (self && streq(rec.name, self)) {
                        record_done(&rec);
                        continue;
                }
                r = proc_stat_read_at(proc_fd, rec.pid, &st);
                if (r < 0 || st.start_time_ticks != rec.start_time || st.state == 'Z') {
                        /* Its poststop never came (runtime killed, host crashed with /run on disk). */
                        (void) unlink_named(c->state_dir, rec.name);
                        (void) unlink_named(c->policy_dir, rec.name);
                        record_done(&rec);
                        continue;
                }
                if (group && !found && !streq(rec.group, group)) {
                        *ret_conflict = rec;
                        found = 1;
                        continue;
                }
                record_done(&rec);
        }
        return found;
}

/* One Reload call on the control socket, within @budget.  1 reloaded, <0 unreachable or refused. */
static int daemon_reload(const char *socket_path, usec_t budget, char *detail, size_t size) {
        static const char msg[] = "{\"method\":\"io.ksmtuned.Manager.Reload\",\"parameters\":{}}";
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + budget;
        char buf[4096];
        size_t n = 0, sent = 0;
        json_t *reply, *params;
        int r;

        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* AF_UNIX connects at once or fails (EAGAIN: backlog full), it never waits. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;

        while (sent < sizeof(msg)) {            /* with the NUL terminator */
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                ssize_t k;

                if (remaining(deadline) == 0)
                        return -ETIMEDOUT;
                if (poll(&p, 1, (int) DIV_ROUND_UP(remaining(deadline), USEC_PER_MSEC)) <= 0)
                        continue;
                k = send(fd, msg + sent, sizeof(msg) - sent, MSG_NOSIGNAL);
                if (k < 0 && !IN_SET(errno, EINTR, EAGAIN))
                        return -errno;
                if (k > 0)
                        sent += (size_t) k;
        }
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t k;

                if (remaining(deadline) == 0)
                        return -ETIMEDOUT;
                if (poll(&p, 1, (int) DIV_ROUND_UP(remaining(deadline), USEC_PER_MSEC)) <= 0)
                        continue;
                if (n >= sizeof(buf) - 1)
                        return -EMSGSIZE;
                k = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
                if (k < 0 && !IN_SET(errno, EINTR, EAGAIN))
                        return -errno;
                if (k == 0)
                        return -ECONNRESET;
                if (k > 0) {
                        n += (size_t) k;
                        if (memchr(buf, 0, n))
                                break;
                }
        }
        buf[n] = 0;
        reply = json_loads(buf, 0, NULL);
        if (!reply)
                return -EBADMSG;
        params = json_object_get(reply, "parameters");
        if (json_is_string(json_object_get(reply, "error"))) {
                snprintf(detail, size, "%s", json_string_value(json_object_get(reply, "error")));
                r = -EPERM;
        } else if (!json_is_true(json_object_get(params, "ok"))) {
                const char *e = json_string_value(json_object_get(params, "config_error"));

                snprintf(detail, size, "reload refused: %s", e ?: "see the daemon's log");
                r = -EINVAL;
        } else {
                const char *e = json_string_value(json_object_get(params, "policy_error"));

                snprintf(detail, size, "%s%s", e ? "reloaded; a policy was rejected: " : "reloaded", e ?: "");
                r = 1;
        }
        json_decref(reply);
        return r;
}

static void tell_daemon(const OciHookConfig *c, usec_t deadline, OciHookReport *rep) {
        char detail[300] = "";
        usec_t budget = MIN(remaining(deadline), USEC_PER_SEC);

        if (!c->socket_path || budget < 10 * USEC_PER_MSEC)
                return;
        rep->daemon = daemon_reload(c->socket_path, budget, detail, sizeof(detail));
        if (rep->daemon > 0)
                return;
        /* Not running is normal: it reads the directory when it starts, or at its next rescan. */
        snprintf(detail, sizeof(detail), "%s", strerror(-rep->daemon));
        if (strlen(rep->message) + strlen(detail) + 40 < sizeof(rep->message))
                strcat(strcat(strcat(rep->message, " (daemon not told: "), detail), ")");
}

/* A policy for @cgroup may only select the container: never "/" or the runtime's own cgroup. */
static bool cgroup_safe(int proc_fd, const char *cgroup) {
        _cleanup_free_ char *own = NULL;
        size_t n = strlen(cgroup);

        if (streq(cgroup, "/") || strstr(cgroup, " (deleted)"))
                return false;
        if (cgroup_pid_get_path_at(proc_fd, getpid(), &own) < 0)
                return true;
        return !(strneq(own, cgroup, n) && IN_SET(own[n], 0, '/'));
}

static int write_policy(const OciHookConfig *c, const OciState *s, const char *name, const char *cgroup,
                        bool merge, OciHookReport *rep) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *text = NULL;
        JsonError jerr = {};
        char m[600];
        int r;

        r = oci_policy_format(s, cgroup, merge, c->priority, &text);
        if (r < 0)
                return r;
        /* The daemon must accept what we write: check it with its own parser first. */
        r = policy_parse_string(text, name, name, &p, &jerr);
        if (r < 0) {
                snprintf(rep->message, sizeof(rep->message), "generated policy rejected: %s",
                         json_error_format(&jerr, m, sizeof(m)));
                return r;
        }
        r = write_atomic(c->policy_dir, name, text);
        if (r < 0) {
                snprintf(rep->message, sizeof(rep->message), "cannot write %s/%s.json: %s", c->policy_dir, name,
                         strerror(-r));
                return r;
        }
        snprintf(rep->policy_path, sizeof(rep->policy_path), "%s/%s.json", c->policy_dir, name);
        return 0;
}

static int write_record(const OciHookConfig *c, const OciState *s, const char *name, const PidRef *ref,
                        const char *cgroup) {
        _cleanup_free_ char *text = NULL;
        json_t *j;

        j = json_pack("{s:s, s:s, s:i, s:I, s:s}", "id", s->id, "group", s->group, "pid", (int) ref->pid,
                      "start_time", (json_int_t) ref->start_time_ticks, "cgroup", cgroup ?: "");
        if (!j)
                return -ENOMEM;
        text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (!text)
                return -ENOMEM;
        return write_atomic(c->state_dir, name, text);
}

static int inject(int proc_fd, const OciHookConfig *c, const PidRef *ref, usec_t deadline, OciHookReport *rep,
                  MergeResult *res) {
        _cleanup_(merge_engine_freep) MergeEngine *e = NULL;
        usec_t left = remaining(deadline);
        MergeOptions opts = {
                .backend = MERGE_BACKEND_AUTO,
                .allow_seccomp = c->allow_seccomp,
                .stop_timeout_usec = MIN(MERGE_STOP_TIMEOUT_DEFAULT, left / 4),
                .call_timeout_usec = CLAMP(left / 2, 10 * USEC_PER_MSEC, USEC_PER_SEC),
        };
        int r;

        if (left < 50 * USEC_PER_MSEC) {
                snprintf(res->detail, sizeof(res->detail), "no time left before the deadline");
                return -ETIMEDOUT;
        }
        r = merge_engine_new(proc_fd, &e);
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "cannot set up the merge engine: %s", strerror(-r));
                return r;
        }
        in_injection = 1;
        r = merge_engine_apply(e, ref, true, &opts, res);
        in_injection = 0;
        rep->stopped_usec = res->stopped_usec;
        return r;
}

static int create_runtime(const OciHookConfig *c, int proc_fd, const OciState *s, usec_t deadline,
                          OciHookReport *rep) {
        _cleanup_free_ char *name = NULL, *cgroup = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        PidRef ref = PIDREF_NULL;
        OciRecord conflict = {};
        MergeResult res = {};
        bool policy_ok;
        int r;

        r = oci_policy_name(s->id, &name);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return report(rep, OCI_OUTCOME_ERROR, "state.id: \"%.64s…\" is too long to name a policy file "
                              "(at most %d characters after escaping)", s->id, POLICY_NAME_MAX - 4);

        r = pidref_open(proc_fd, s->pid, UINT64_MAX, &ref);
        if (r < 0)
                return report(rep, OCI_OUTCOME_ERROR, "state.pid: cannot open process %d: %s%s", (int) s->pid,
                              strerror(-r), r == -ESRCH ? " (no such process in the hook's PID namespace)" : "");

        r = cgroup_pid_get_path_at(proc_fd, s->pid, &cgroup);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0)
                cgroup = NULL;          /* no cgroup v2 (v1-only host): injection only, no policy */
        else
                snprintf(rep->cgroup, sizeof(rep->cgroup), "%s", cgroup);
        policy_ok = cgroup && cgroup_safe(proc_fd, cgroup);

        if (s->request == OCI_REQUEST_NEVER) {
                if (!policy_ok) {
                        r = report(rep, OCI_OUTCOME_ERROR, "cannot opt out: the container has no cgroup v2 of its own (%s)",
                                   strna(cgroup));
                        goto finish;
                }
                r = write_policy(c, s, name, cgroup, false, rep);
                if (r == -ENOMEM)
                        goto finish;
                r = r < 0 ? report(rep, OCI_OUTCOME_ERROR, "%s", rep->message) :
                            report(rep, OCI_OUTCOME_OPTED_OUT, "opted out: no policy of the daemon's makes cgroup %s "
                                   "mergeable", cgroup);
                goto finish;
        }

        r = lock_state(c->state_dir, deadline, &lock_fd);
        if (r < 0) {
                r = report(rep, OCI_OUTCOME_ERROR, "cannot lock %s/.lock: %s; not merging", c->state_dir, strerror(-r));
                goto finish;
        }
        r = registry_scan(c, proc_fd, name, s->group, &conflict);
        if (r < 0) {
                r = r == -ENOMEM ? r : report(rep, OCI_OUTCOME_ERROR, "cannot read %s: %s; not merging", c->state_dir,
                                              strerror(-r));
                goto finish;
        }
        if (r > 0) {
                char why[300];

                snprintf(why, sizeof(why), "sharing group \"%s\" refused: group \"%s\" is mergeable on this host "
                         "(container %.64s, pid %d)", s->group, conflict.group, conflict.id, (int) conflict.pid);
                record_done(&conflict);
                if (policy_ok && write_policy(c, s, name, cgroup, false, rep) >= 0)
                        r = report(rep, OCI_OUTCOME_REFUSED, "%s; wrote a \"never\" policy", why);
                else
                        r = report(rep, OCI_OUTCOME_REFUSED, "%s", why);
                goto finish;
        }

        /* The record first: it claims the host for this group before anything becomes mergeable. */
        r = write_record(c, s, name, &ref, cgroup);
        if (r < 0) {
                r = r == -ENOMEM ? r : report(rep, OCI_OUTCOME_ERROR, "cannot write to %s: %s; not merging",
                                              c->state_dir, strerror(-r));
                goto finish;
        }
        r = inject(proc_fd, c, &ref, deadline, rep, &res);
        if (deadline_hit) {
                /* The hard deadline passed during the injection: stop here, quickly. */
                r = report(rep, OCI_OUTCOME_ERROR, "the deadline passed during the injection (%s)",
                           merge_outcome_to_string(res.outcome));
                goto finish;
        }
        if (policy_ok) {
                int k = write_policy(c, s, name, cgroup, true, rep);

                if (k == -ENOMEM) {
                        r = k;
                        goto finish;
                }
                if (k < 0)
                        policy_ok = false;
        }
        if (r >= 0 && (res.outcome == MERGE_OUTCOME_DONE || res.outcome == MERGE_OUTCOME_ALREADY))
                r = report(rep, OCI_OUTCOME_MERGED, "init %d made mergeable (%s, stopped %" PRIu64 " us)%s%s",
                           (int) s->pid, res.outcome == MERGE_OUTCOME_DONE ? "ksm_merge_any: yes" : res.detail,
                           res.stopped_usec, policy_ok ? "" : "; no runtime policy: ",
                           policy_ok ? "" : cgroup ? "the container has no cgroup of its own" : "no cgroup v2");
        else {
                r = report(rep, policy_ok ? OCI_OUTCOME_POLICY_ONLY : OCI_OUTCOME_ERROR,
                           "init %d not made mergeable (%s: %s)%s", (int) s->pid,
                           merge_reason_to_string(res.reason), res.detail,
                           policy_ok ? "; the runtime policy lets the daemon retry" : "");
                if (!policy_ok)
                        (void) unlink_named(c->state_dir, name);        /* nothing of it is mergeable */
        }
finish:
        pidref_done(&ref);
        return r == -ENOMEM ? r : 0;
}

static int poststop(const OciHookConfig *c, int proc_fd, const OciState *s, usec_t deadline, OciHookReport *rep) {
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        OciRecord none = {};
        int r, a, b;

        r = oci_policy_name(s->id, &name);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return report(rep, OCI_OUTCOME_NOTHING, "container id too long for a policy name: nothing of ours");

        /* Removing is safe without the lock; it only keeps a concurrent scan's view consistent. */
        (void) lock_state(c->state_dir, deadline, &lock_fd);
        a = unlink_named(c->policy_dir, name);
        b = unlink_named(c->state_dir, name);
        if (lock_fd >= 0)
                (void) registry_scan(c, proc_fd, NULL, NULL, &none);
        if (a < 0 || b < 0)
                return report(rep, OCI_OUTCOME_ERROR, "cannot remove %s/%s.json: %s", a < 0 ? c->policy_dir : c->state_dir,
                              name, strerror(-(a < 0 ? a : b)));
        if (a == 0 && b == 0)
                return report(rep, OCI_OUTCOME_NOTHING, "no runtime policy of this container");
        snprintf(rep->policy_path, sizeof(rep->policy_path), "%s/%s.json", c->policy_dir, name);
        return report(rep, OCI_OUTCOME_REMOVED, "removed %s%s", a > 0 ? "the runtime policy" : "",
                      b > 0 ? (a > 0 ? " and the group record" : "the group record") : "");
}

int oci_hook_run(const OciHookConfig *c, OciStage stage, int input_fd, OciHookReport *ret) {
        _cleanup_(oci_state_done) OciState s = {};
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int proc_fd = -EBADF;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + c->timeout_usec;
        size_t size = 0;
        int r;

        *ret = (OciHookReport) { .stage = stage };
        r = read_input(input_fd, deadline, &buf, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return report(ret, OCI_OUTCOME_ERROR, "state: cannot read stdin: %s",
                              r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
        r = oci_state_parse(buf, size, stage == OCI_STAGE_CREATE_RUNTIME, &s, ret->message, sizeof(ret->message));
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                ret->outcome = OCI_OUTCOME_ERROR;
                return 0;
        }
        if (stage == OCI_STAGE_AUTO) {
                stage = streq_ptr(s.status, "stopped") ? OCI_STAGE_POSTSTOP : OCI_STAGE_CREATE_RUNTIME;
                if (stage == OCI_STAGE_CREATE_RUNTIME && s.pid == 0)
                        return report(ret, OCI_OUTCOME_ERROR, "state.pid: missing (status \"%s\" is not \"stopped\", "
                                      "so this is createRuntime, which needs the container's init process)",
                                      strna(s.status));
        }
        ret->stage = stage;
        snprintf(ret->id, sizeof(ret->id), "%s", s.id);
        snprintf(ret->group, sizeof(ret->group), "%s", s.group ?: "");
        ret->pid = s.pid;
        if (stage == OCI_STAGE_CREATE_RUNTIME && s.request == OCI_REQUEST_NONE)
                return report(ret, OCI_OUTCOME_NOTHING, "no %s or %s annotation: left alone",
                              OCI_ANNOTATION_MERGE, OCI_ANNOTATION_GROUP);

        proc_fd = open(c->proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0)
                return report(ret, OCI_OUTCOME_ERROR, "cannot open %s: %s", c->proc_dir, strerror(errno));

        r = stage == OCI_STAGE_CREATE_RUNTIME ? create_runtime(c, proc_fd, &s, deadline, ret) :
                                                poststop(c, proc_fd, &s, deadline, ret);
        if (r < 0)
                return r;
        if (!deadline_hit && !IN_SET(ret->outcome, OCI_OUTCOME_NOTHING, OCI_OUTCOME_ERROR))
                tell_daemon(c, deadline, ret);
        return 0;
}

static void on_deadline(int sig) {
        static const char msg[] = "ksmtuned-ng-oci-hook: deadline passed, exiting; the container runs unmerged\n";

        if (in_injection) {
                deadline_hit = 1;       /* the engine's own bounded waits end it soon, restoring the init */
                return;
        }
        (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
        _exit(EXIT_SUCCESS);
}

int oci_hook_arm_deadline(usec_t usec) {
        struct sigaction sa = { .sa_handler = on_deadline, .sa_flags = SA_RESTART };
        struct itimerval it = {
                .it_value = { .tv_sec = (time_t) (usec / USEC_PER_SEC), .tv_usec = (suseconds_t) (usec % USEC_PER_SEC) },
        };

        if (sigaction(SIGALRM, &sa, NULL) < 0)
                return -errno;
        return RET_NERRNO(setitimer(ITIMER_REAL, &it, NULL));
}
