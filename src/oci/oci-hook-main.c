/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oci-hook-main.c - the ksmtuned-ng-oci-hook program: options, the hard deadline, one log line
 * per run on stderr and in the journal.  The exit status is always 0: an OCI runtime fails the
 * container when a createRuntime hook fails, and ksmtuned-ng must never be the reason.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "macro.h"
#include "oci-hook.h"
#include "parse-util.h"
#include "policy.h"

#define HOOK_NAME "ksmtuned-ng-oci-hook"

static void help(void) {
        printf("Usage: " HOOK_NAME " [OPTIONS] [createRuntime|poststop|auto] < STATE.json\n\n"
               "OCI runtime hook: makes a container mergeable by KSM from its first instruction when its\n"
               "annotations ask for it (" OCI_ANNOTATION_MERGE "=true|false, " OCI_ANNOTATION_GROUP "=NAME), and\n"
               "registers a runtime policy for its cgroup with ksmtuned-ng.  Always exits 0.\n\n"
               "Options:\n"
               "  -h --help              Show this help and exit\n"
               "     --version           Show the version and exit\n"
               "     --policy-dir=DIR    Runtime policy directory (default %s)\n"
               "     --state-dir=DIR     Sharing-group records and lock (default %s)\n"
               "     --socket=PATH       The daemon's control socket, \"\" for none (default %s)\n"
               "     --timeout=TIME      Overall deadline (default 3s, 100ms..60s)\n"
               "     --priority=N        Priority of the merge policies written (default %d)\n"
               "     --allow-seccomp     Inject even if the init already has a seccomp filter\n"
               "     --debug             Also log runs that had nothing to do\n"
               "\nSee ksmtuned-ng-oci-hook(8).\n",
               OCI_POLICY_DIR_DEFAULT, OCI_STATE_DIR_DEFAULT, OCI_SOCKET_DEFAULT, OCI_PRIORITY_DEFAULT);
}

static int level_of(OciOutcome o) {
        switch (o) {
        case OCI_OUTCOME_NOTHING:
                return LOG_DEBUG;
        case OCI_OUTCOME_POLICY_ONLY:
        case OCI_OUTCOME_REFUSED:
                return LOG_WARNING;
        case OCI_OUTCOME_ERROR:
                return LOG_ERR;
        default:
                return LOG_INFO;
        }
}

/* stderr always (runc shows it when a hook fails, podman with --log-level=debug), the journal when
 * journald listens. */
static void log_line(int level, bool debug, const char *stage, const OciHookReport *rep) {
        if (level == LOG_DEBUG && !debug)
                return;
        fprintf(stderr, HOOK_NAME ": %s %s: %s: %s\n", stage, isempty(rep->id) ? "?" : rep->id,
                oci_outcome_to_string(rep->outcome), rep->message);
        if (access("/run/systemd/journal/socket", F_OK) < 0)
                return;
        (void) sd_journal_send("MESSAGE=%s %s: %s: %s", stage, isempty(rep->id) ? "?" : rep->id,
                               oci_outcome_to_string(rep->outcome), rep->message,
                               "PRIORITY=%d", level,
                               "SYSLOG_IDENTIFIER=" HOOK_NAME,
                               "KSMT_OCI_STAGE=%s", stage,
                               "KSMT_OCI_OUTCOME=%s", oci_outcome_to_string(rep->outcome),
                               "KSMT_CONTAINER_ID=%s", rep->id,
                               "KSMT_GROUP=%s", rep->group,
                               "KSMT_PID=%d", (int) rep->pid,
                               "KSMT_CGROUP=%s", rep->cgroup,
                               "KSMT_POLICY_FILE=%s", rep->policy_path,
                               "KSMT_STOPPED_USEC=%" PRIu64, rep->stopped_usec,
                               NULL);
}

static void usage_error(const char *format, const char *arg) {
        OciHookReport rep = { .outcome = OCI_OUTCOME_ERROR };

        snprintf(rep.message, sizeof(rep.message), format, arg);
        strcat(rep.message, "; doing nothing (see --help)");
        log_line(LOG_ERR, true, "?", &rep);
}

int oci_hook_main(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_POLICY_DIR,
                ARG_STATE_DIR,
                ARG_SOCKET,
                ARG_TIMEOUT,
                ARG_PRIORITY,
                ARG_ALLOW_SECCOMP,
                ARG_DEBUG,
        };
        static const struct option options[] = {
                { "help",          no_argument,       NULL, 'h' },
                { "version",       no_argument,       NULL, ARG_VERSION },
                { "policy-dir",    required_argument, NULL, ARG_POLICY_DIR },
                { "state-dir",     required_argument, NULL, ARG_STATE_DIR },
                { "socket",        required_argument, NULL, ARG_SOCKET },
                { "timeout",       required_argument, NULL, ARG_TIMEOUT },
                { "priority",      required_argument, NULL, ARG_PRIORITY },
                { "allow-seccomp", no_argument,       NULL, ARG_ALLOW_SECCOMP },
                { "debug",         no_argument,       NULL, ARG_DEBUG },
                {}
        };
        OciHookConfig c;
        OciHookReport rep = {};
        OciStage stage;
        bool debug = false;
        int64_t prio;
        int opt, r;

        oci_hook_config_init(&c);
        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf(HOOK_NAME " " PACKAGE_VERSION "\n");
                        return EXIT_SUCCESS;
                case ARG_POLICY_DIR:
                        c.policy_dir = optarg;
                        break;
                case ARG_STATE_DIR:
                        c.state_dir = optarg;
                        break;
                case ARG_SOCKET:
                        c.socket_path = isempty(optarg) ? NULL : optarg;
                        break;
                case ARG_TIMEOUT:
                        if (parse_duration_usec(optarg, &c.timeout_usec) < 0 || c.timeout_usec < 100 * USEC_PER_MSEC ||
                            c.timeout_usec > 60 * USEC_PER_SEC) {
                                usage_error("--timeout: expected a duration from 100ms to 60s, got \"%s\"", optarg);
                                return EXIT_SUCCESS;
                        }
                        break;
                case ARG_PRIORITY:
                        if (safe_atoi64(optarg, &prio) < 0 || prio < POLICY_PRIORITY_MIN || prio > POLICY_PRIORITY_MAX) {
                                usage_error("--priority: expected an integer from -1000 to 1000, got \"%s\"", optarg);
                                return EXIT_SUCCESS;
                        }
                        c.priority = (int) prio;
                        break;
                case ARG_ALLOW_SECCOMP:
                        c.allow_seccomp = true;
                        break;
                case ARG_DEBUG:
                        debug = true;
                        break;
                case ':':
                        usage_error("option %s needs an argument", argv[optind - 1]);
                        return EXIT_SUCCESS;
                default:
                        usage_error("unknown option %s", argv[optind - 1]);
                        return EXIT_SUCCESS;
                }
        if (optind + 1 < argc) {
                usage_error("expected at most one stage argument, got \"%s\" too", argv[optind + 1]);
                return EXIT_SUCCESS;
        }
        stage = optind < argc ? oci_stage_from_string(argv[optind]) : OCI_STAGE_AUTO;
        if (stage < 0) {
                usage_error("unknown stage \"%s\", expected createRuntime, prestart, poststop or auto", argv[optind]);
                return EXIT_SUCCESS;
        }

        /* Cooperative deadline inside, a hard one half a second later. */
        (void) oci_hook_arm_deadline(c.timeout_usec + 500 * USEC_PER_MSEC);

        r = oci_hook_run(&c, stage, STDIN_FILENO, &rep);
        if (r < 0) {
                rep.outcome = OCI_OUTCOME_ERROR;
                (void) snprintf(rep.message, sizeof(rep.message), "%s", strerror(-r));
        }
        log_line(level_of(rep.outcome), debug, oci_stage_to_string(rep.stage), &rep);
        return EXIT_SUCCESS;
}
