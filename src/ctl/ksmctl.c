/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmctl.c - command-line entry: options, subcommand dispatch.
 *
 * Options may stand before or after the command, except for `exec`, where everything after the
 * command (after an optional "--") belongs to the program to run.
 * Exit status: 0 success, 1 failure (merge/unmerge: not every process done or already so),
 * 2 usage error; exec: 126/127 when the program cannot be run.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "daemon-config.h"
#include "ksmctl.h"
#include "macro.h"
#include "missing.h"
#include "parse-util.h"
#include "top-model.h"

static void help(void) {
        printf("Usage: ksmctl [OPTIONS] COMMAND [ARGS...]\n\n"
               "Show and control Kernel Samepage Merging.\n\n"
               "Commands:\n"
               "  status                  KSM run mode, knobs, counters, derived figures, merge backends\n"
               "  ps                      Processes with KSM state, largest profit first\n"
               "  top                     Live view of processes and cgroups by KSM savings and rates\n"
               "  merge [PID...]          Make running processes mergeable now\n"
               "  unmerge [PID...]        Make them unmergeable again (unmerges their KSM pages)\n"
               "  exec [--] CMD [ARG...]  Run CMD with merging enabled from its first instruction\n"
               "  reload                  Ask the daemon to re-read its configuration and policies\n"
               "  enable-unit NAME...     Make a systemd service mergeable from its next start (drop-in)\n"
               "  disable-unit NAME...    Remove that drop-in (ksmctl enable-unit --help)\n\n"
               "Options:\n"
               "  -h --help               Show this help and exit\n"
               "     --version            Show the version and exit\n"
               "  -j --json               Print one JSON object instead of text\n"
               "  -a --all                ps: also list processes without any KSM state\n"
               "     --sample-time=TIME   status: measure ksmd CPU over TIME (default 500ms, 0 = skip)\n"
               "  -d --interval=TIME      top: refresh every TIME (default 2s); with --once or --json the\n"
               "                          time between the two samples (0 = one sample, no rates)\n"
               "     --once               top: print one plain snapshot and exit\n"
               "     --sort=KEY           top: saved, profit, merges, unmerges, pid or name (default saved)\n"
               "  -p --pid=PID[,PID...]   merge/unmerge: these processes (repeatable)\n"
               "  -c --cgroup=PATH        merge/unmerge: every process in this cgroup v2 subtree\n"
               "                          (e.g. /system.slice/foo.service; repeatable)\n"
               "     --backend=NAME       merge/unmerge: auto, inject or madvise (default auto)\n"
               "     --allow-seccomp      merge/unmerge: also touch seccomp-filtered processes\n"
               "     --stop-timeout=TIME  merge/unmerge: how long a thread may take to stop (100ms)\n"
               "     --call-timeout=TIME  merge/unmerge: how long the injected prctl may run before it\n"
               "                          is interrupted, changing nothing (10s)\n"
               "     --socket=PATH        the daemon's control socket (default %s)\n"
               "     --ksm-dir=DIR        KSM sysfs directory (default %s)\n"
               "     --proc-dir=DIR       procfs directory (default %s)\n"
               "\nSee ksmctl(8).\n", CONTROL_SOCKET_DEFAULT, KSM_SYSFS_DIR_DEFAULT, PROC_DIR_DEFAULT);
}

int ksmctl_print_json(json_t *j) {
        char *s;

        if (!j)
                return -ENOMEM;
        s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
        json_decref(j);
        if (!s)
                return -ENOMEM;
        if (puts(s) < 0) {
                free(s);
                return -EIO;
        }
        free(s);
        return 0;
}

enum {
        ARG_VERSION = 0x100, ARG_SAMPLE_TIME, ARG_KSM_DIR, ARG_PROC_DIR, ARG_BACKEND, ARG_ALLOW_SECCOMP,
        ARG_STOP_TIMEOUT, ARG_CALL_TIMEOUT, ARG_HOLD_STOPPED, ARG_SOCKET, ARG_ONCE, ARG_SORT,
};

static const struct option options[] = {
        { "help",          no_argument,       NULL, 'h' },
        { "version",       no_argument,       NULL, ARG_VERSION },
        { "json",          no_argument,       NULL, 'j' },
        { "all",           no_argument,       NULL, 'a' },
        { "sample-time",   required_argument, NULL, ARG_SAMPLE_TIME },
        { "ksm-dir",       required_argument, NULL, ARG_KSM_DIR },
        { "proc-dir",      required_argument, NULL, ARG_PROC_DIR },
        { "socket",        required_argument, NULL, ARG_SOCKET },
        { "interval",      required_argument, NULL, 'd' },
        { "once",          no_argument,       NULL, ARG_ONCE },
        { "sort",          required_argument, NULL, ARG_SORT },
        { "pid",           required_argument, NULL, 'p' },
        { "cgroup",        required_argument, NULL, 'c' },
        { "backend",       required_argument, NULL, ARG_BACKEND },
        { "allow-seccomp", no_argument,       NULL, ARG_ALLOW_SECCOMP },
        { "stop-timeout",  required_argument, NULL, ARG_STOP_TIMEOUT },
        { "call-timeout",  required_argument, NULL, ARG_CALL_TIMEOUT },
        /* Testing aid, documented in ksmctl(8): keep each target stopped this long. */
        { "hold-stopped",  required_argument, NULL, ARG_HOLD_STOPPED },
        {}
};

typedef struct Seen {
        bool sample, all, merge_opts, targets, dirs, top;
} Seen;

static int add_pid_text(KsmctlArgs *a, const char *text) {
        _cleanup_free_ char *copy = strdup(text);
        char *saveptr = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, ",", &saveptr); tok; tok = strtok_r(NULL, ",", &saveptr)) {
                int64_t v;
                pid_t *p;

                if (safe_atoi64(tok, &v) < 0 || v <= 0 || v > INT32_MAX) {
                        fprintf(stderr, "ksmctl: invalid PID '%s'\n", tok);
                        return -EINVAL;
                }
                p = realloc(a->pids, (a->n_pids + 1) * sizeof(pid_t));
                if (!p)
                        return -ENOMEM;
                a->pids = p;
                a->pids[a->n_pids++] = (pid_t) v;
        }
        if (isempty(text)) {
                fprintf(stderr, "ksmctl: --pid needs a PID\n");
                return -EINVAL;
        }
        return 0;
}

/* Parses options; with @posix stops at the first non-option.  -EINVAL on usage errors (reported),
 * 0 to continue, 1 when --help/--version was handled. */
static int parse_options(int argc, char *argv[], bool posix, KsmctlArgs *a, Seen *seen) {
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, posix ? "+:hjap:c:d:" : ":hjap:c:d:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 1;
                case ARG_VERSION:
                        printf("ksmctl %s\n", PACKAGE_VERSION);
                        return 1;
                case 'j':
                        a->json = true;
                        break;
                case 'a':
                        a->all = seen->all = true;
                        break;
                case ARG_SAMPLE_TIME:
                        if (parse_duration_usec(optarg, &a->sample_usec) < 0 || a->sample_usec > 60 * USEC_PER_SEC) {
                                fprintf(stderr, "ksmctl: invalid --sample-time '%s', expected a duration from 0 to 60s such as \"500ms\"\n", optarg);
                                return -EINVAL;
                        }
                        seen->sample = true;
                        break;
                case ARG_KSM_DIR:
                        a->ksm_dir = optarg;
                        seen->dirs = true;
                        break;
                case ARG_PROC_DIR:
                        a->proc_dir = optarg;
                        seen->dirs = true;
                        break;
                case ARG_SOCKET:
                        a->socket_path = optarg;
                        seen->dirs = true;
                        break;
                case 'd':
                        if (parse_duration_usec(optarg, &a->interval_usec) < 0 || a->interval_usec > USEC_PER_HOUR) {
                                fprintf(stderr, "ksmctl: invalid --interval '%s', expected a duration up to 1h such as \"2s\"\n", optarg);
                                return -EINVAL;
                        }
                        a->interval_set = seen->top = true;
                        break;
                case ARG_ONCE:
                        a->once = seen->top = true;
                        break;
                case ARG_SORT:
                        if (top_sort_key_from_string(optarg) < 0) {
                                fprintf(stderr, "ksmctl: invalid --sort '%s', expected saved, profit, merges, unmerges, pid or name\n", optarg);
                                return -EINVAL;
                        }
                        a->sort = optarg;
                        seen->top = true;
                        break;
                case 'p':
                        if (add_pid_text(a, optarg) < 0)
                                return -EINVAL;
                        seen->targets = true;
                        break;
                case 'c': {
                        char **p;

                        if (optarg[0] != '/') {
                                fprintf(stderr, "ksmctl: invalid --cgroup '%s', expected a cgroup v2 path starting with '/'\n", optarg);
                                return -EINVAL;
                        }
                        p = realloc(a->cgroups, (a->n_cgroups + 1) * sizeof(char *));
                        if (!p)
                                return -ENOMEM;
                        a->cgroups = p;
                        a->cgroups[a->n_cgroups++] = optarg;
                        seen->targets = true;
                        break;
                }
                case ARG_BACKEND:
                        a->merge.backend = merge_backend_from_string(optarg);
                        if (a->merge.backend < 0) {
                                fprintf(stderr, "ksmctl: invalid --backend '%s', expected auto, inject or madvise\n", optarg);
                                return -EINVAL;
                        }
                        seen->merge_opts = true;
                        break;
                case ARG_ALLOW_SECCOMP:
                        a->merge.allow_seccomp = seen->merge_opts = true;
                        break;
                case ARG_STOP_TIMEOUT:
                        if (parse_duration_usec(optarg, &a->merge.stop_timeout_usec) < 0 ||
                            a->merge.stop_timeout_usec < USEC_PER_MSEC || a->merge.stop_timeout_usec > 10 * USEC_PER_SEC) {
                                fprintf(stderr, "ksmctl: invalid --stop-timeout '%s', expected a duration from 1ms to 10s\n", optarg);
                                return -EINVAL;
                        }
                        seen->merge_opts = true;
                        break;
                case ARG_CALL_TIMEOUT:
                        if (parse_duration_usec(optarg, &a->merge.call_timeout_usec) < 0 ||
                            a->merge.call_timeout_usec < USEC_PER_MSEC || a->merge.call_timeout_usec > 600 * USEC_PER_SEC) {
                                fprintf(stderr, "ksmctl: invalid --call-timeout '%s', expected a duration from 1ms to 10min\n", optarg);
                                return -EINVAL;
                        }
                        seen->merge_opts = true;
                        break;
                case ARG_HOLD_STOPPED:
                        if (parse_duration_usec(optarg, &a->merge.hold_stopped_usec) < 0 ||
                            a->merge.hold_stopped_usec > 10 * USEC_PER_SEC) {
                                fprintf(stderr, "ksmctl: invalid --hold-stopped '%s', expected a duration up to 10s\n", optarg);
                                return -EINVAL;
                        }
                        seen->merge_opts = true;
                        break;
                case ':':
                        fprintf(stderr, "ksmctl: option '%s' needs an argument (see --help)\n", argv[optind - 1]);
                        return -EINVAL;
                default:
                        if (optopt)
                                fprintf(stderr, "ksmctl: unknown option '-%c' (see --help)\n", optopt);
                        else
                                fprintf(stderr, "ksmctl: unknown option '%s' (see --help)\n", argv[optind - 1]);
                        return -EINVAL;
                }
        return 0;
}

static int run(int argc, char *argv[], KsmctlArgs *a) {
        Seen seen = {};
        const char *verb;
        bool is_merge, is_unmerge;
        int r;

        r = parse_options(argc, argv, true, a, &seen);
        if (r != 0)
                return r < 0 ? 2 : EXIT_SUCCESS;
        if (optind >= argc) {
                fprintf(stderr, "ksmctl: missing command, expected status, ps, top, merge, unmerge, exec or reload (see --help)\n");
                return 2;
        }
        verb = argv[optind];
        if (streq(verb, "enable-unit") || streq(verb, "disable-unit"))
                return ksmctl_unit(argc - optind, argv + optind);

        if (streq(verb, "exec")) {
                char **cmd = argv + optind + 1;

                if (seen.all || seen.sample || seen.targets || seen.merge_opts || seen.dirs || seen.top || a->json) {
                        fprintf(stderr, "ksmctl: exec takes no options; put the command's own options after it\n");
                        return 2;
                }

                if (*cmd && streq(*cmd, "--"))
                        cmd++;
                if (!*cmd) {
                        fprintf(stderr, "ksmctl: exec needs a command to run\n");
                        return 2;
                }
                a->command = cmd;
                return ksmctl_exec(a);
        }

        /* The rest: options may also follow the command; positional arguments are PIDs. */
        argc -= optind;
        argv += optind;
        optind = 0;     /* 0, not 1: makes glibc re-read the optstring (no "+": options may follow PIDs) */
        r = parse_options(argc, argv, false, a, &seen);
        if (r != 0)
                return r < 0 ? 2 : EXIT_SUCCESS;

        is_merge = streq(verb, "merge");
        is_unmerge = streq(verb, "unmerge");
        if (!is_merge && !is_unmerge && !streq(verb, "status") && !streq(verb, "ps") && !streq(verb, "reload") &&
            !streq(verb, "top")) {
                fprintf(stderr, "ksmctl: unknown command '%s', expected status, ps, top, merge, unmerge, exec or reload (see --help)\n", verb);
                return 2;
        }
        if (is_merge || is_unmerge) {
                for (int i = optind; i < argc; i++)
                        if (add_pid_text(a, argv[i]) < 0)
                                return 2;
                if (a->n_pids == 0 && a->n_cgroups == 0) {
                        fprintf(stderr, "ksmctl: %s needs --pid PID or --cgroup PATH\n", verb);
                        return 2;
                }
        } else if (optind < argc) {
                fprintf(stderr, "ksmctl: unexpected argument '%s' after '%s' (see --help)\n", argv[optind], verb);
                return 2;
        }
        if (seen.all && !streq(verb, "ps")) {
                fprintf(stderr, "ksmctl: --all applies to 'ps' only\n");
                return 2;
        }
        if (seen.sample && !streq(verb, "status")) {
                fprintf(stderr, "ksmctl: --sample-time applies to 'status' only\n");
                return 2;
        }
        if (seen.top && !streq(verb, "top")) {
                fprintf(stderr, "ksmctl: --interval, --once and --sort apply to 'top' only\n");
                return 2;
        }
        if (streq(verb, "top") && a->once && a->json) {
                fprintf(stderr, "ksmctl: top takes --once or --json, not both\n");
                return 2;
        }
        if (streq(verb, "top") && !a->once && !a->json && a->interval_set && a->interval_usec < 100 * USEC_PER_MSEC &&
            isatty(STDOUT_FILENO)) {
                fprintf(stderr, "ksmctl: --interval must be at least 100ms for the live view (0 only with --once or --json)\n");
                return 2;
        }
        if ((seen.targets || seen.merge_opts) && !is_merge && !is_unmerge) {
                fprintf(stderr, "ksmctl: --pid, --cgroup, --backend, --allow-seccomp, --stop-timeout, --call-timeout and --hold-stopped "
                        "apply to 'merge' and 'unmerge' only\n");
                return 2;
        }

        /* The engine polls for the target's stop with short sleeps; the default 50 us timer slack
         * stretches each and so the time a target stays stopped (measured: p50 -30 %). */
        if (is_merge || is_unmerge)
                (void) prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

        if (streq(verb, "reload"))
                return ksmctl_reload(a);
        if (streq(verb, "status"))
                r = ksmctl_status(a);
        else if (streq(verb, "ps"))
                r = ksmctl_ps(a);
        else if (streq(verb, "top"))
                r = ksmctl_top(a);
        else
                return ksmctl_merge(a, is_merge);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        KsmctlArgs a = {
                .sample_usec = 500 * USEC_PER_MSEC,
                .ksm_dir = KSM_SYSFS_DIR_DEFAULT,
                .proc_dir = PROC_DIR_DEFAULT,
                .socket_path = CONTROL_SOCKET_DEFAULT,
                .merge = { .backend = MERGE_BACKEND_AUTO, .stop_timeout_usec = MERGE_STOP_TIMEOUT_DEFAULT,
                           .call_timeout_usec = MERGE_CALL_TIMEOUT_DEFAULT },
        };
        int rc;

        rc = run(argc, argv, &a);
        free(a.pids);
        free(a.cgroups);
        return rc;
}

int ksmctl_reload(const KsmctlArgs *a) {
        _cleanup_free_ char *error = NULL;
        json_t *p = NULL;
        int r;

        r = ksmctl_call(a->socket_path, "io.ksmtuned.Manager.Reload", &p, &error);
        if (r == -EREMOTEIO) {
                fprintf(stderr, "ksmctl: the daemon refused: %s%s\n", error,
                        streq(error, "io.ksmtuned.Manager.PermissionDenied") ? " (reloading needs root)" : "");
                return EXIT_FAILURE;
        }
        if (r < 0) {
                fprintf(stderr, "ksmctl: the daemon is not reachable at '%s': %s\n", a->socket_path, strerror(-r));
                return EXIT_FAILURE;
        }
        if (a->json) {
                if (ksmctl_print_json(json_incref(p)) < 0)
                        r = -EIO;
        } else if (json_is_true(json_object_get(p, "ok")))
                printf("Reloaded.\n");
        else {
                const char *ce = json_string_value(json_object_get(p, "config_error"));
                const char *pe = json_string_value(json_object_get(p, "policy_error"));

                printf("Reload refused, the previous configuration stays in force:\n");
                if (ce)
                        printf("  config: %s\n", ce);
                if (pe)
                        printf("  policies: %s\n", pe);
        }
        r = r >= 0 && json_is_true(json_object_get(p, "ok")) ? EXIT_SUCCESS : EXIT_FAILURE;
        json_decref(p);
        return r;
}
