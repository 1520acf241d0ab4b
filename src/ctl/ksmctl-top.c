/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmctl-top.c - `ksmctl top`: a live view of processes and cgroups by KSM savings.
 *
 * Owns the sampling (procfs through ps_collect(), the KSM sysfs, ksmd's CPU time, the daemon's
 * ListProcesses and GetStatus when it answers), the terminal (non-canonical mode through termios,
 * the alternate screen, ANSI escapes, no ncurses) and the --once and --json snapshots.  The
 * arithmetic lives in top-model.c.
 *
 * Terminal rules: every exit path goes through term_leave(), which puts back the saved termios
 * and the main screen.  Signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGTSTP) are blocked
 * and read from a signalfd in the same poll() as the keyboard, so none interrupts a half-written
 * frame and none needs an async handler.  Each frame is written in one write(): cursor home, every
 * line followed by "erase to end of line", then "erase below": nothing is cleared before it is
 * redrawn, so nothing flickers.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ksm-report.h"
#include "ksm-sysfs.h"
#include "ksmctl.h"
#include "macro.h"
#include "parse-util.h"
#include "proc-stat.h"
#include "top-model.h"

#define TOP_INTERVAL_DEFAULT (2 * USEC_PER_SEC)

typedef struct Top {
        const KsmctlArgs *args;
        int proc_fd;
        KsmSysfs *ksm;
        pid_t ksmd;                     /* 0: not found */
        long ticks;
        uint64_t page_size;

        TopSample prev, cur;            /* cur is the newest; prev the one before (n_procs 0 at first) */
        bool have_prev;
        TopScanClock clock;
        TopHost host;
        TopRow *rows, *groups;
        size_t n_rows, n_groups;

        /* what the last sample found besides the processes */
        size_t n_unreadable, n_hidden;
        bool daemon_reachable;
        json_t *daemon_status;          /* GetStatus's parameters, owned, or NULL */

        TopView view;
        TopSortKey sort;
        bool reverse;
} Top;

static void top_done(Top *t) {
        top_sample_done(&t->prev);
        top_sample_done(&t->cur);
        free(t->rows);
        free(t->groups);
        json_decref(t->daemon_status);
        t->ksm = ksm_sysfs_free(t->ksm);
        t->proc_fd = safe_close(t->proc_fd);
}

/* ---- sampling ----------------------------------------------------------------------------- */

static int take_sample(Top *t, TopSample *ret) {
        _cleanup_(ps_list_done) PsList l = {};
        TopSample s = {};
        json_t *daemon_procs;
        int r;

        s.timestamp_usec = now_usec(CLOCK_MONOTONIC);
        if (t->ksm) {
                ksm_sysfs_snapshot(t->ksm, &s.ksm);
                s.have_ksm = true;
        }
        if (t->ksmd > 0 && proc_cpu_time_read_at(t->proc_fd, t->ksmd, t->ticks, &s.ksmd_cpu_nsec) >= 0)
                s.have_ksmd_cpu = true;

        r = ps_collect(t->proc_fd, t->args->proc_dir, /* all= */ false, &l);
        if (r < 0)
                return r;
        t->n_unreadable = l.n_unreadable;
        t->n_hidden = l.n_hidden;

        daemon_procs = ksmctl_daemon_processes(t->args->socket_path);
        t->daemon_reachable = daemon_procs != NULL;
        json_decref(t->daemon_status);
        t->daemon_status = NULL;
        if (daemon_procs) {
                _cleanup_free_ char *err = NULL;

                (void) ksmctl_call(t->args->socket_path, "io.ksmtuned.Manager.GetStatus", &t->daemon_status, &err);
        }

        if (l.n_shown > 0) {
                s.procs = new0(TopProc, l.n_shown);
                if (!s.procs) {
                        json_decref(daemon_procs);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < l.n_shown; i++) {
                PsEntry *e = &l.shown[i];
                TopProc *p = &s.procs[s.n_procs++];
                json_t *dp = ksmctl_daemon_process(daemon_procs, e->pid);

                *p = (TopProc) {
                        .pid = e->pid,
                        .start_time_ticks = e->start_time_ticks,
                        .cgroup = TAKE_PTR(e->cgroup),
                        .st = e->st,
                };
                memcpy(p->comm, e->comm, sizeof(p->comm));
                if (dp) {
                        json_t *m = json_object_get(dp, "merges"), *u = json_object_get(dp, "unmerges");

                        ksmctl_daemon_policy_state(dp, p->daemon, sizeof(p->daemon));
                        /* Optional cumulative counters (the daemon's eBPF statistics), when it has them. */
                        if (json_is_integer(m) && json_is_integer(u) && json_integer_value(m) >= 0 && json_integer_value(u) >= 0) {
                                p->have_counters = true;
                                p->merges = (uint64_t) json_integer_value(m);
                                p->unmerges = (uint64_t) json_integer_value(u);
                        }
                } else if (daemon_procs)
                        snprintf(p->daemon, sizeof(p->daemon), "-");
        }
        json_decref(daemon_procs);
        top_sample_sort(&s);
        *ret = s;
        return 0;
}

/* Takes a new sample and recomputes rows, roll-up and host figures against the previous one. */
static int refresh(Top *t) {
        TopSample s;
        int r;

        r = take_sample(t, &s);
        if (r < 0)
                return r;
        top_sample_done(&t->prev);
        t->prev = t->cur;
        t->have_prev = t->cur.timestamp_usec > 0;
        t->cur = s;

        free(t->rows);
        free(t->groups);
        t->rows = t->groups = NULL;
        t->n_rows = t->n_groups = 0;
        r = top_rows_compute(t->have_prev ? &t->prev : NULL, &t->cur, t->page_size, &t->rows, &t->n_rows);
        if (r < 0)
                return r;
        r = top_rollup(t->rows, t->n_rows, &t->groups, &t->n_groups);
        if (r < 0)
                return r;
        top_host_compute(t->have_prev ? &t->prev : NULL, &t->cur, t->page_size, &t->clock, &t->host);
        top_rows_sort(t->rows, t->n_rows, t->sort, t->reverse);
        top_rows_sort(t->groups, t->n_groups, t->sort, t->reverse);
        return 0;
}

static void resort(Top *t) {
        top_rows_sort(t->rows, t->n_rows, t->sort, t->reverse);
        top_rows_sort(t->groups, t->n_groups, t->sort, t->reverse);
}

/* "counters" if every process has the daemon's counters, "merging_pages" if none has, else "mixed". */
static const char *rate_source(const Top *t) {
        size_t with = 0;

        for (size_t i = 0; i < t->cur.n_procs; i++)
                with += t->cur.procs[i].have_counters;
        if (with == 0)
                return "merging_pages";
        return with == t->cur.n_procs ? "counters" : "mixed";
}

static json_t *daemon_tuner(const Top *t) {
        json_t *v = json_object_get(t->daemon_status, "tuner");

        return json_is_object(v) ? v : NULL;
}

/* The daemon's statistics source ("ksm_stat", later "bpf"), from GetStatus's "metrics", or NULL. */
static const char *daemon_stats_source(const Top *t) {
        return json_string_value(json_object_get(json_object_get(t->daemon_status, "metrics"), "source"));
}

static int top_open(const KsmctlArgs *a, Top *t) {
        int r;

        *t = (Top) {
                .args = a,
                .proc_fd = -EBADF,
                .ticks = sysconf(_SC_CLK_TCK),
                .page_size = (uint64_t) sysconf(_SC_PAGESIZE),
                .sort = a->sort ? top_sort_key_from_string(a->sort) : TOP_SORT_SAVED,
        };
        assert_se(t->sort >= 0);        /* validated by the option parser */

        r = ksm_sysfs_open(a->ksm_dir, &t->ksm);
        if (r < 0) {
                fprintf(stderr, "ksmctl: KSM is not available: '%s': %s\n", a->ksm_dir, strerror(-r));
                return r;
        }
        r = ps_open_proc(a->proc_dir, &t->proc_fd);
        if (r < 0)
                return r;
        if (ksmd_find_at(t->proc_fd, &t->ksmd) < 0)
                t->ksmd = 0;            /* no ksmd CPU figure, the rest works */
        return 0;
}

/* ---- text ---------------------------------------------------------------------------------- */

typedef struct Lines {
        char (*line)[TOP_LINE_MAX];
        size_t n, allocated;
} Lines;

static char *lines_add(Lines *l) {
        if (l->n == l->allocated) {
                size_t na = l->allocated ? l->allocated * 2 : 32;
                char (*p)[TOP_LINE_MAX] = realloc(l->line, na * sizeof(*p));

                if (!p)
                        return NULL;
                l->line = p;
                l->allocated = na;
        }
        l->line[l->n][0] = 0;
        return l->line[l->n++];
}

static void lines_done(Lines *l) {
        free(l->line);
        *l = (Lines) {};
}

#define ADD_LINE(l, ...) ({                                                     \
        char *_s = lines_add(l);                                                \
        if (_s)                                                                 \
                snprintf(_s, TOP_LINE_MAX, __VA_ARGS__);                        \
        _s ? 0 : -ENOMEM;                                                       \
})

/* The summary above the table. */
static int format_header(const Top *t, bool interactive, Lines *l) {
        const TopHost *h = &t->host;
        char b1[FORMAT_BYTES_MAX], b2[FORMAT_BYTES_MAX], p[FORMAT_PMY_MAX], d[FORMAT_DURATION_MAX], clock[16] = "";
        char tuner[96] = "", stats[64] = "", cpu[48], scan[48], full[64], when[48];
        int64_t run = ksm_snapshot_get(&t->cur.ksm, KSM_KNOB_RUN, -1);
        const char *src = rate_source(t);
        time_t now = time(NULL);
        struct tm tm;

        if (localtime_r(&now, &tm))
                strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
        if (daemon_tuner(t)) {
                char tn[80];

                snprintf(tn, sizeof(tn), ", tuner %s/%s", json_string_value(json_object_get(daemon_tuner(t), "mode")) ?: "?",
                         json_string_value(json_object_get(daemon_tuner(t), "phase")) ?: "?");
                top_sanitize(tuner, sizeof(tuner), tn);
        }
        if (daemon_stats_source(t)) {
                char sn[64];

                snprintf(sn, sizeof(sn), ", statistics %s", daemon_stats_source(t));
                top_sanitize(stats, sizeof(stats), sn);
        }
        if (interactive)
                snprintf(when, sizeof(when), "every %s", format_duration(d, sizeof(d), t->args->interval_usec));
        else if (t->have_prev)
                snprintf(when, sizeof(when), "over %s", format_duration(d, sizeof(d), h->interval_usec));
        else
                snprintf(when, sizeof(when), "one sample");
        if (ADD_LINE(l, "ksmctl top - %s, %s; KSM %s; daemon %s%s%s; %s",
                     clock, when,
                     run >= 0 ? ksm_run_mode_to_string(run) ?: "?" : "unknown",
                     t->daemon_reachable ? "answers" : "not reachable",
                     tuner, stats,
                     !t->have_prev ? (interactive ? "rates from the next refresh on" : "no rates (one sample)") :
                     streq(src, "counters") ? "rates from the daemon's merge counters" :
                     streq(src, "mixed") ? "rates from the daemon's counters and ksm_merging_pages" :
                     "rates from changes of ksm_merging_pages") < 0)
                return -ENOMEM;

        if (ADD_LINE(l, "Saved %s, profit %s; pages shared %" PRIu64 ", sharing %" PRIu64 ", unshared %" PRIu64
                     ", volatile %" PRIu64 ", zero %" PRIu64,
                     format_bytes(b1, sizeof(b1), (int64_t) MIN(h->report.saved_bytes, (uint64_t) INT64_MAX)),
                     h->report.have_profit ? format_bytes(b2, sizeof(b2), h->report.profit_bytes) : "n/a",
                     h->pages_shared, h->pages_sharing, h->pages_unshared, h->pages_volatile, h->zero_pages) < 0)
                return -ENOMEM;

        if (h->report.have_cpu)
                snprintf(cpu, sizeof(cpu), "%s %%", format_pmy(p, sizeof(p), h->report.ksmd_cpu_pmy));
        else
                snprintf(cpu, sizeof(cpu), "%s", t->ksmd == 0 ? "n/a (no ksmd)" : "-");
        if (h->have_scan_rate)
                snprintf(scan, sizeof(scan), "%" PRIu64 " pages/s", h->pages_scanned_per_sec);
        else
                snprintf(scan, sizeof(scan), "-");
        if (h->have_full_scan)
                snprintf(full, sizeof(full), "%s", format_duration(d, sizeof(d), h->full_scan_usec));
        else if (h->no_full_scan_for_usec > 0)
                snprintf(full, sizeof(full), "none for %s", format_duration(d, sizeof(d), h->no_full_scan_for_usec));
        else
                snprintf(full, sizeof(full), "-");
        if (ADD_LINE(l, "ksmd CPU %s; scanning %s; time per full scan %s (full_scans %" PRIu64 ")",
                     cpu, scan, full, h->full_scans) < 0)
                return -ENOMEM;

        if (ADD_LINE(l, "%zu process%s with KSM state in %zu cgroup%s, %zu unreadable%s; view %s, sorted by %s%s",
                     t->n_rows, t->n_rows == 1 ? "" : "es", t->n_groups, t->n_groups == 1 ? "" : "s",
                     t->n_unreadable, t->n_unreadable > 0 && geteuid() != 0 ? " (needs root)" : "",
                     t->view == TOP_VIEW_CGROUPS ? "cgroups" : "processes",
                     top_sort_key_to_string(t->sort), t->reverse ? " (reversed)" : "") < 0)
                return -ENOMEM;
        if (interactive &&
            ADD_LINE(l, "Keys: q quit, c cgroups/processes, sort s saved p profit m merges u unmerges i PID n name, "
                     "r reverse, space refresh") < 0)
                return -ENOMEM;
        return 0;
}

static int format_table(const Top *t, TopView view, Lines *l) {
        bool daemon = t->daemon_reachable;
        const TopRow *rows = view == TOP_VIEW_CGROUPS ? t->groups : t->rows;
        size_t n = view == TOP_VIEW_CGROUPS ? t->n_groups : t->n_rows;
        char *s;

        s = lines_add(l);
        if (!s)
                return -ENOMEM;
        top_format_heading(view, daemon, s, TOP_LINE_MAX);
        for (size_t i = 0; i < n; i++) {
                s = lines_add(l);
                if (!s)
                        return -ENOMEM;
                top_format_row(&rows[i], view, daemon, s, TOP_LINE_MAX);
        }
        if (n == 0 && ADD_LINE(l, "(no process has KSM state%s)", t->n_unreadable > 0 ? " that could be read" : "") < 0)
                return -ENOMEM;
        return 0;
}

static int write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t k = write(fd, buf, len);

                if (k < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                buf += k;
                len -= (size_t) k;
        }
        return 0;
}

/* ---- snapshots ------------------------------------------------------------------------------ */

static json_t *rate_json(const TopRow *r, uint64_t per_ksec) {
        return r->rate_source != TOP_RATE_NONE ? json_real((double) per_ksec / 1000.0) : json_null();
}

static json_t *string_json(const char *s) {
        char clean[TOP_LINE_MAX];
        json_t *j;

        if (!s)
                return json_null();
        j = json_string(s);
        if (j)
                return j;
        top_sanitize(clean, sizeof(clean), s);  /* not UTF-8 */
        return json_string(clean);
}

static json_t *row_json(const TopRow *r) {
        json_t *o = json_object();

        if (!o)
                return NULL;
        if (r->proc) {
                json_object_set_new(o, "pid", json_integer(r->proc->pid));
                json_object_set_new(o, "comm", string_json(r->proc->comm));
        }
        json_object_set_new(o, "cgroup", string_json(r->cgroup));
        if (!r->proc) {
                json_object_set_new(o, "processes", json_integer((json_int_t) r->n_procs));
                json_object_set_new(o, "processes_with_rates", json_integer((json_int_t) r->n_rated));
        }
        json_object_set_new(o, "merging_pages", json_integer((json_int_t) r->merging_pages));
        json_object_set_new(o, "zero_pages", json_integer((json_int_t) r->zero_pages));
        json_object_set_new(o, "rmap_items", json_integer((json_int_t) r->rmap_items));
        json_object_set_new(o, "saved_bytes", json_integer((json_int_t) r->saved_bytes));
        json_object_set_new(o, "profit_bytes", r->have_profit ? json_integer(r->profit_bytes) : json_null());
        json_object_set_new(o, "merges_per_sec", rate_json(r, r->merges_per_ksec));
        json_object_set_new(o, "unmerges_per_sec", rate_json(r, r->unmerges_per_ksec));
        json_object_set_new(o, "rate_source", r->rate_source != TOP_RATE_NONE ?
                            json_string(top_rate_source_to_string(r->rate_source)) : json_null());
        if (r->proc) {
                json_object_set_new(o, "merges", r->proc->have_counters ? json_integer((json_int_t) r->proc->merges) : json_null());
                json_object_set_new(o, "unmerges", r->proc->have_counters ? json_integer((json_int_t) r->proc->unmerges) : json_null());
                json_object_set_new(o, "daemon", r->proc->daemon[0] && !streq(r->proc->daemon, "-") ?
                                    string_json(r->proc->daemon) : json_null());
        }
        return o;
}

static int print_json(const Top *t) {
        const TopHost *h = &t->host;
        int64_t run = ksm_snapshot_get(&t->cur.ksm, KSM_KNOB_RUN, -1);
        json_t *root, *host, *procs, *groups;

        root = json_object();
        host = json_object();
        procs = json_array();
        groups = json_array();
        if (!root || !host || !procs || !groups) {
                json_decref(root);
                json_decref(host);
                json_decref(procs);
                json_decref(groups);
                return -ENOMEM;
        }
        json_object_set_new(host, "run_mode", run >= 0 && ksm_run_mode_to_string(run) ?
                            json_string(ksm_run_mode_to_string(run)) : json_null());
        json_object_set_new(host, "saved_bytes", json_integer((json_int_t) h->report.saved_bytes));
        json_object_set_new(host, "profit_bytes", h->report.have_profit ? json_integer(h->report.profit_bytes) : json_null());
        json_object_set_new(host, "pages_shared", json_integer((json_int_t) h->pages_shared));
        json_object_set_new(host, "pages_sharing", json_integer((json_int_t) h->pages_sharing));
        json_object_set_new(host, "pages_unshared", json_integer((json_int_t) h->pages_unshared));
        json_object_set_new(host, "pages_volatile", json_integer((json_int_t) h->pages_volatile));
        json_object_set_new(host, "ksm_zero_pages", json_integer((json_int_t) h->zero_pages));
        json_object_set_new(host, "full_scans", json_integer((json_int_t) h->full_scans));
        json_object_set_new(host, "ksmd_cpu_percent", h->report.have_cpu ?
                            json_real((double) h->report.ksmd_cpu_pmy / 100.0) : json_null());
        json_object_set_new(host, "pages_scanned_per_sec", h->have_scan_rate ?
                            json_integer((json_int_t) h->pages_scanned_per_sec) : json_null());
        json_object_set_new(host, "full_scan_usec", h->have_full_scan ? json_integer((json_int_t) h->full_scan_usec) : json_null());

        for (size_t i = 0; i < t->n_rows; i++)
                json_array_append_new(procs, row_json(&t->rows[i]));
        for (size_t i = 0; i < t->n_groups; i++)
                json_array_append_new(groups, row_json(&t->groups[i]));

        json_object_set_new(root, "interval_usec", json_integer((json_int_t) h->interval_usec));
        json_object_set_new(root, "page_size", json_integer((json_int_t) t->page_size));
        json_object_set_new(root, "sort", json_string(top_sort_key_to_string(t->sort)));
        json_object_set_new(root, "rate_source", json_string(rate_source(t)));
        json_object_set_new(root, "daemon_reachable", json_boolean(t->daemon_reachable));
        json_object_set_new(root, "tuner", daemon_tuner(t) ? json_incref(daemon_tuner(t)) : json_null());
        json_object_set_new(root, "daemon_statistics", daemon_stats_source(t) ? json_string(daemon_stats_source(t)) : json_null());
        json_object_set_new(root, "host", host);
        json_object_set_new(root, "processes", procs);
        json_object_set_new(root, "cgroups", groups);
        json_object_set_new(root, "hidden_without_ksm_state", json_integer((json_int_t) t->n_hidden));
        json_object_set_new(root, "unreadable", json_integer((json_int_t) t->n_unreadable));
        return ksmctl_print_json(root);
}

static int print_once(const Top *t) {
        _cleanup_(lines_done) Lines l = {};
        int r;

        r = format_header(t, /* interactive= */ false, &l);
        if (r < 0)
                return r;
        if (ADD_LINE(&l, "%s", "") < 0)
                return -ENOMEM;
        r = format_table(t, TOP_VIEW_PROCESSES, &l);
        if (r < 0)
                return r;
        if (ADD_LINE(&l, "%s", "") < 0)
                return -ENOMEM;
        r = format_table(t, TOP_VIEW_CGROUPS, &l);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n; i++)
                if (printf("%s\n", l.line[i]) < 0)
                        return -EIO;
        return fflush(stdout) == 0 ? 0 : -EIO;
}

static void sleep_usec(usec_t usec) {
        struct timespec ts = { .tv_sec = (time_t) (usec / USEC_PER_SEC), .tv_nsec = (long) (usec % USEC_PER_SEC) * 1000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* ---- the terminal --------------------------------------------------------------------------- */

typedef struct Term {
        bool raw;                       /* termios changed (stdin is a terminal) */
        bool screen;                    /* alternate screen entered */
        struct termios saved;
        sigset_t saved_mask;
        int signal_fd;
        unsigned width, height;
} Term;

#define ESC "\033"

static int term_enter(Term *term) {
        static const char enter[] = ESC "[?1049h" ESC "[?25l" ESC "[H" ESC "[2J";

        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &term->saved) >= 0) {
                struct termios raw = term->saved;

                /* Keys one at a time, no echo; ISIG stays on, so Ctrl-C and Ctrl-Z come as signals
                 * through the signalfd; output processing stays on ("\n" is "\r\n"). */
                raw.c_lflag &= ~(ICANON | ECHO | IEXTEN);
                raw.c_iflag &= ~(IXON | ICRNL);
                raw.c_cc[VMIN] = 1;
                raw.c_cc[VTIME] = 0;
                if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
                        return -errno;
                term->raw = true;
        }
        term->screen = true;
        return write_all(STDOUT_FILENO, enter, sizeof(enter) - 1);
}

static void term_leave(Term *term) {
        static const char leave[] = ESC "[m" ESC "[?25h" ESC "[?1049l";

        if (term->screen)
                (void) write_all(STDOUT_FILENO, leave, sizeof(leave) - 1);
        if (term->raw)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &term->saved);
        term->screen = term->raw = false;
}

static void term_size(Term *term) {
        struct winsize ws = {};

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0 || ws.ws_row == 0)
                ws = (struct winsize) { .ws_col = 80, .ws_row = 24 };
        term->width = ws.ws_col;
        term->height = ws.ws_row;
}

static int draw(const Top *t, const Term *term) {
        _cleanup_(lines_done) Lines l = {};
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, heading;
        FILE *f;
        int r;

        r = format_header(t, /* interactive= */ true, &l);
        if (r < 0)
                return r;
        if (ADD_LINE(&l, "%s", "") < 0)
                return -ENOMEM;
        heading = l.n;
        r = format_table(t, t->view, &l);
        if (r < 0)
                return r;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fputs(ESC "[H", f);
        for (size_t i = 0; i < l.n && i < term->height; i++) {
                size_t n = top_fit(l.line[i], term->width);

                if (i == heading)       /* the column headings in reverse video, across the width */
                        fprintf(f, ESC "[7m%s%*s" ESC "[m", l.line[i], (int) (term->width - n), "");
                else
                        fprintf(f, "%s" ESC "[K", l.line[i]);
                if (i + 1 < l.n && i + 1 < term->height)
                        fputc('\n', f);         /* never after the last row: it would scroll */
        }
        fputs(ESC "[J", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_all(STDOUT_FILENO, buf, len);
}

/* Returns 1 to quit, 0 to go on (*redraw set when the view changed), <0 on error. */
static int on_key(Top *t, char c, bool *redraw, bool *refresh_now) {
        TopSortKey k;

        switch (c) {
        case 'q':
        case 'Q':
                return 1;
        case 'c':
                t->view = t->view == TOP_VIEW_CGROUPS ? TOP_VIEW_PROCESSES : TOP_VIEW_CGROUPS;
                *redraw = true;
                return 0;
        case 'r':
                t->reverse = !t->reverse;
                resort(t);
                *redraw = true;
                return 0;
        case ' ':
                *refresh_now = true;
                return 0;
        case '\f':      /* Ctrl-L */
                *redraw = true;
                return 0;
        }
        k = top_sort_key_from_char(c);
        if (k >= 0) {
                t->sort = k;
                resort(t);
                *redraw = true;
        }
        return 0;
}

static int run_interactive(Top *t) {
        Term term = { .signal_fd = -EBADF };
        sigset_t mask;
        usec_t next;
        int r, q;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTSTP);
        if (sigprocmask(SIG_BLOCK, &mask, &term.saved_mask) < 0)
                return -errno;
        term.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (term.signal_fd < 0) {
                r = -errno;
                goto finish;
        }
        term_size(&term);
        r = term_enter(&term);
        if (r < 0)
                goto finish;

        r = refresh(t);
        if (r < 0)
                goto finish;
        next = now_usec(CLOCK_MONOTONIC) + t->args->interval_usec;
        r = draw(t, &term);

        for (;;) {
                struct pollfd p[2] = {
                        { .fd = term.signal_fd, .events = POLLIN },
                        { .fd = term.raw ? STDIN_FILENO : -1, .events = POLLIN },
                };
                bool redraw = false, refresh_now = false;
                usec_t now;
                int k;

                if (r < 0)
                        goto finish;
                now = now_usec(CLOCK_MONOTONIC);
                k = poll(p, 2, now >= next ? 0 : (int) MIN((next - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC, (usec_t) INT32_MAX));
                if (k < 0 && errno != EINTR) {
                        r = -errno;
                        goto finish;
                }

                if (k > 0 && (p[0].revents & POLLIN)) {
                        struct signalfd_siginfo si;

                        while (read(term.signal_fd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                                switch (si.ssi_signo) {
                                case SIGWINCH:
                                        term_size(&term);
                                        redraw = true;
                                        break;
                                case SIGTSTP:
                                        /* Give the terminal back while stopped, take it again after. */
                                        term_leave(&term);
                                        (void) kill(getpid(), SIGSTOP);
                                        term_size(&term);
                                        r = term_enter(&term);
                                        if (r < 0)
                                                goto finish;
                                        redraw = true;
                                        break;
                                default:        /* SIGINT, SIGTERM, SIGHUP, SIGQUIT: quit */
                                        r = 0;
                                        goto finish;
                                }
                }
                if (k > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                        char keys[64];
                        ssize_t n = read(STDIN_FILENO, keys, sizeof(keys));

                        if (n == 0 || (n < 0 && !IN_SET(errno, EINTR, EAGAIN))) {
                                r = 0;          /* the terminal went away */
                                goto finish;
                        }
                        for (ssize_t i = 0; i < n; i++) {
                                q = on_key(t, keys[i], &redraw, &refresh_now);
                                if (q != 0) {
                                        r = q < 0 ? q : 0;
                                        goto finish;
                                }
                        }
                }

                if (refresh_now || now_usec(CLOCK_MONOTONIC) >= next) {
                        r = refresh(t);
                        if (r < 0)
                                goto finish;
                        next = now_usec(CLOCK_MONOTONIC) + t->args->interval_usec;
                        redraw = true;
                }
                if (redraw)
                        r = draw(t, &term);
        }

finish:
        term_leave(&term);
        term.signal_fd = safe_close(term.signal_fd);
        (void) sigprocmask(SIG_SETMASK, &term.saved_mask, NULL);
        return r;
}

int ksmctl_top(const KsmctlArgs *a) {
        _cleanup_(top_done) Top t = { .proc_fd = -EBADF };
        KsmctlArgs args = *a;
        int r;

        if (!args.interval_set)
                args.interval_usec = TOP_INTERVAL_DEFAULT;
        if (!args.json && !args.once && !isatty(STDOUT_FILENO))
                args.once = true;       /* not a terminal: one plain snapshot, like --once */
        if (!args.json && !args.once && args.interval_usec < 100 * USEC_PER_MSEC)
                args.interval_usec = 100 * USEC_PER_MSEC;       /* refused with a message on a terminal */

        r = top_open(&args, &t);
        if (r < 0)
                return r;

        if (args.json || args.once) {
                r = refresh(&t);
                if (r >= 0 && args.interval_usec > 0) {
                        sleep_usec(args.interval_usec);
                        r = refresh(&t);
                }
                if (r >= 0)
                        r = args.json ? print_json(&t) : print_once(&t);
        } else
                r = run_interactive(&t);

        if (r < 0 && r != -EIO && r != -EINVAL)
                fprintf(stderr, "ksmctl: %s\n", strerror(-r));
        return r;
}
