/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c - ksmtuned-ng entry point: arguments, logging set-up, privilege drop, run.
 * Exit status: 0 clean stop, 1 runtime failure (bad config at start, no event loop), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "capability-util.h"
#include "daemon-config.h"
#include "log.h"
#include "manager.h"
#include "parse-util.h"

static const char *arg_config = NULL;
static LogTarget arg_log_target = LOG_TARGET_AUTO;
static int arg_log_level = -1;
static bool arg_check_config = false;
static char **arg_policy_dirs = NULL;
static size_t arg_n_policy_dirs = 0;
static const char *arg_cgroup_namespace = NULL;

static const char *const default_policy_dirs[] = {
        PREFIXDIR "/lib/ksmtuned-ng/policy.d",
        SYSCONFDIR "/ksmtuned-ng/policy.d",
        "/run/ksmtuned-ng/policy.d",
};

static void help(void) {
        printf("Usage: ksmtuned-ng [OPTIONS]\n\n"
               "Kernel Samepage Merging tuning daemon.\n\n"
               "  -h --help               Show this help and exit\n"
               "     --version            Show the version and exit\n"
               "  -c --config=PATH        Daemon configuration (default: %s)\n"
               "     --check-config       Validate the configuration and exit\n"
               "     --policy-dir=DIR     Read policies from DIR instead of the default directories\n"
               "                          (repeatable, lowest precedence first)\n"
               "     --log-target=TARGET  auto, journal or stderr (default: auto)\n"
               "     --log-level=LEVEL    emerg, alert, crit, err, warning, notice, info or debug\n"
               "                          (overrides the config)\n"
               "     --cgroup-namespace=PATH\n"
               "                          Enter this cgroup namespace at start (such as\n"
               "                          /proc/1/ns/cgroup in a container with hostPID), so that\n"
               "                          cgroup paths are the host's; needs CAP_SYS_ADMIN then\n"
               "\nSignals: SIGHUP reloads the configuration and the policies; SIGTERM and SIGINT stop\n"
               "the daemon.  See ksmtuned-ng(8), ksmtuned-ng.conf(5) and ksmtuned-ng.policy(5).\n",
               DAEMON_CONFIG_PATH_DEFAULT);
}

/* Returns 1 to continue, 0 to exit successfully, -EINVAL on usage errors (already reported). */
static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_CHECK_CONFIG, ARG_LOG_TARGET, ARG_LOG_LEVEL, ARG_POLICY_DIR, ARG_CGROUP_NAMESPACE };
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h' },
                { "version",      no_argument,       NULL, ARG_VERSION },
                { "config",       required_argument, NULL, 'c' },
                { "check-config", no_argument,       NULL, ARG_CHECK_CONFIG },
                { "log-target",   required_argument, NULL, ARG_LOG_TARGET },
                { "log-level",    required_argument, NULL, ARG_LOG_LEVEL },
                { "policy-dir",   required_argument, NULL, ARG_POLICY_DIR },
                { "cgroup-namespace", required_argument, NULL, ARG_CGROUP_NAMESPACE },
                {}
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hc:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("ksmtuned-ng %s\n", PACKAGE_VERSION);
                        return 0;
                case 'c':
                        if (isempty(optarg)) {
                                fprintf(stderr, "ksmtuned-ng: --config needs a path\n");
                                return -EINVAL;
                        }
                        arg_config = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case ARG_LOG_TARGET:
                        arg_log_target = log_target_from_string(optarg);
                        if (arg_log_target < 0) {
                                fprintf(stderr, "ksmtuned-ng: invalid --log-target '%s', expected auto, journal or stderr\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_LOG_LEVEL:
                        arg_log_level = log_level_from_string(optarg);
                        if (arg_log_level < 0) {
                                fprintf(stderr, "ksmtuned-ng: invalid --log-level '%s', expected emerg, alert, crit, err, warning, notice, info or debug\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_POLICY_DIR: {
                        char **p;

                        if (isempty(optarg)) {
                                fprintf(stderr, "ksmtuned-ng: --policy-dir needs a directory\n");
                                return -EINVAL;
                        }
                        p = realloc(arg_policy_dirs, (arg_n_policy_dirs + 1) * sizeof(char *));
                        if (!p)
                                return -ENOMEM;
                        arg_policy_dirs = p;
                        arg_policy_dirs[arg_n_policy_dirs++] = optarg;
                        break;
                }
                case ARG_CGROUP_NAMESPACE:
                        if (isempty(optarg)) {
                                fprintf(stderr, "ksmtuned-ng: --cgroup-namespace needs a path\n");
                                return -EINVAL;
                        }
                        arg_cgroup_namespace = optarg;
                        break;
                case ':':
                        fprintf(stderr, "ksmtuned-ng: option '%s' needs an argument (see --help)\n", argv[optind - 1]);
                        return -EINVAL;
                case '?':
                default:
                        if (optopt)
                                fprintf(stderr, "ksmtuned-ng: unknown option '-%c' (see --help)\n", optopt);
                        else
                                fprintf(stderr, "ksmtuned-ng: unknown option '%s' (see --help)\n", argv[optind - 1]);
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "ksmtuned-ng: unexpected argument '%s' (see --help)\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

/* Debug switch, for tests of the service manager's watchdog only (ksmtuned-ng(8), ENVIRONMENT):
 * $KSMTUNED_NG_DEBUG_HANG_AFTER=DURATION makes the event loop stop (and so stop sending WATCHDOG=1)
 * that long after start-up, as a daemon stuck in a system call would. */
static int debug_hang(sd_event_source *s, uint64_t usec, void *userdata) {
        log_warning("$KSMTUNED_NG_DEBUG_HANG_AFTER is set: the event loop hangs now, on purpose.");
        for (;;)
                (void) sleep(3600);
        return 0;
}

static int debug_hang_setup(Manager *m) {
        const char *e = getenv("KSMTUNED_NG_DEBUG_HANG_AFTER");
        usec_t after;
        int r;

        if (isempty(e))
                return 0;
        r = parse_duration_usec(e, &after);
        if (r < 0)
                return log_error_errno(r, "Invalid $KSMTUNED_NG_DEBUG_HANG_AFTER '%s', expected a duration such as \"2s\": %m", e);
        r = sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, after, 0, debug_hang, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the debug hang timer: %m");
        log_warning("$KSMTUNED_NG_DEBUG_HANG_AFTER is set: the event loop will hang in %s (a debug switch).", e);
        return 0;
}

static int check_config(const char *path, bool optional) {
        DaemonConfig c;
        JsonError err = {};
        char msg[1024];
        int r;

        daemon_config_init(&c);
        r = daemon_config_load(path, &c, &err);
        if (r == -ENOENT && optional) {
                /* Same rule as at start-up: no file at the default path means built-in defaults. */
                printf("%s: absent, the built-in defaults apply: OK\n", path);
                daemon_config_done(&c);
                return EXIT_SUCCESS;
        }
        if (r < 0) {
                fprintf(stderr, "ksmtuned-ng: %s\n", json_error_format(&err, msg, sizeof(msg)));
                daemon_config_done(&c);
                return EXIT_FAILURE;
        }
        printf("%s: OK\n", path);
        daemon_config_done(&c);
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char **dirs_owner = NULL;
        _cleanup_(manager_freep) Manager *m = NULL;
        /* CAP_SYS_PTRACE: inject prctl(PR_SET_MEMORY_MERGE) into other users' processes (ptrace
         * access).  CAP_DAC_READ_SEARCH: /proc/PID/ksm_stat, /proc/PID/mem (vdso) and friends are
         * mode 0400 owned by the process's user, so ptrace access alone does not open them for
         * another uid.  Nothing else is needed after start-up: the control socket is bound, sysfs
         * writes are by uid 0 on root-owned files.  The eBPF statistics need CAP_BPF and CAP_PERFMON
         * (the unit's bounding set allows them) only while programs and maps are loaded and attached:
         * if that ever happens after start-up (a reload, a retry), add them here. */
        static const cap_value_t keep[] = { CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH };
        int r;

        r = parse_argv(argc, argv);
        dirs_owner = arg_policy_dirs;   /* freed on every return below */
        if (r <= 0)
                return r < 0 ? 2 : EXIT_SUCCESS;

        if (arg_check_config)
                return check_config(arg_config ?: DAEMON_CONFIG_PATH_DEFAULT, !arg_config);

        /* Every tracked process costs one pidfd: raise the soft fd limit to the hard one (systemd
         * services start with 1024 soft, 524288 hard), as systemd itself recommends. */
        {
                struct rlimit rl;

                if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                        rl.rlim_cur = rl.rlim_max;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
        }

        /* Short polling sleeps while a target is stopped must not be stretched by timer slack. */
        (void) prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

        log_set_ident("ksmtuned-ng");
        log_set_target(arg_log_target);
        if (arg_log_level >= 0)
                log_set_max_level(arg_log_level);

        /* In a container with its own cgroup namespace (Kubernetes on cgroup v2), /proc/PID/cgroup
         * shows paths relative to that namespace, while policies name the host's: enter the
         * host's namespace first (CAP_SYS_ADMIN, dropped with the rest below). */
        if (arg_cgroup_namespace) {
                int fd = open(arg_cgroup_namespace, O_RDONLY | O_CLOEXEC);

                if (fd < 0 || setns(fd, CLONE_NEWCGROUP) < 0) {
                        log_error_errno(-errno, "Cannot enter the cgroup namespace %s%s: %m", arg_cgroup_namespace,
                                        errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
                        safe_close(fd);
                        return EXIT_FAILURE;
                }
                safe_close(fd);
                log_info("Entered the cgroup namespace %s.", arg_cgroup_namespace);
        }

        r = manager_new(arg_config ?: DAEMON_CONFIG_PATH_DEFAULT, !arg_config, arg_log_level,
                        arg_policy_dirs ?: (char **) default_policy_dirs,
                        arg_policy_dirs ? arg_n_policy_dirs : ELEMENTSOF(default_policy_dirs), &m);
        if (r < 0) {
                log_error_errno(r, "Failed to allocate manager: %m");
                return EXIT_FAILURE;
        }

        r = manager_startup(m);
        if (r < 0)
                return EXIT_FAILURE;

        r = capability_drop_except(keep, ELEMENTSOF(keep));
        if (r < 0) {
                log_error_errno(r, "Failed to drop capabilities: %m");
                return EXIT_FAILURE;
        }

        r = debug_hang_setup(m);
        if (r < 0)
                return EXIT_FAILURE;

        r = manager_run(m);
        m = manager_free(m);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
