/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmctl.c - command-line entry: global options, subcommand dispatch.
 * Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksmctl.h"
#include "macro.h"
#include "missing.h"
#include "parse-util.h"

static void help(void) {
        printf("Usage: ksmctl [OPTIONS] COMMAND\n\n"
               "Show and control Kernel Samepage Merging.\n\n"
               "Commands:\n"
               "  status                  KSM run mode, knobs, counters and derived figures\n"
               "  ps                      Processes with KSM state, largest profit first\n\n"
               "Options:\n"
               "  -h --help               Show this help and exit\n"
               "     --version            Show the version and exit\n"
               "  -j --json               Print one JSON object instead of a table\n"
               "  -a --all                ps: also list processes without any KSM state\n"
               "     --sample-time=TIME   status: measure ksmd CPU over TIME (default 500ms, 0 = skip)\n"
               "     --ksm-dir=DIR        KSM sysfs directory (default %s)\n"
               "     --proc-dir=DIR       procfs directory (default %s)\n"
               "\nSee ksmctl(8).\n", KSM_SYSFS_DIR_DEFAULT, PROC_DIR_DEFAULT);
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

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_SAMPLE_TIME, ARG_KSM_DIR, ARG_PROC_DIR };
        static const struct option options[] = {
                { "help",        no_argument,       NULL, 'h' },
                { "version",     no_argument,       NULL, ARG_VERSION },
                { "json",        no_argument,       NULL, 'j' },
                { "all",         no_argument,       NULL, 'a' },
                { "sample-time", required_argument, NULL, ARG_SAMPLE_TIME },
                { "ksm-dir",     required_argument, NULL, ARG_KSM_DIR },
                { "proc-dir",    required_argument, NULL, ARG_PROC_DIR },
                {}
        };
        KsmctlArgs a = {
                .sample_usec = 500 * USEC_PER_MSEC,
                .ksm_dir = KSM_SYSFS_DIR_DEFAULT,
                .proc_dir = PROC_DIR_DEFAULT,
        };
        bool sample_given = false;
        const char *verb;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hja", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("ksmctl %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                case 'j':
                        a.json = true;
                        break;
                case 'a':
                        a.all = true;
                        break;
                case ARG_SAMPLE_TIME:
                        if (parse_duration_usec(optarg, &a.sample_usec) < 0 || a.sample_usec > 60 * USEC_PER_SEC) {
                                fprintf(stderr, "ksmctl: invalid --sample-time '%s', expected a duration from 0 to 60s such as \"500ms\"\n", optarg);
                                return 2;
                        }
                        sample_given = true;
                        break;
                case ARG_KSM_DIR:
                        a.ksm_dir = optarg;
                        break;
                case ARG_PROC_DIR:
                        a.proc_dir = optarg;
                        break;
                case ':':
                        fprintf(stderr, "ksmctl: option '%s' needs an argument (see --help)\n", argv[optind - 1]);
                        return 2;
                default:
                        if (optopt)
                                fprintf(stderr, "ksmctl: unknown option '-%c' (see --help)\n", optopt);
                        else
                                fprintf(stderr, "ksmctl: unknown option '%s' (see --help)\n", argv[optind - 1]);
                        return 2;
                }

        if (optind >= argc) {
                fprintf(stderr, "ksmctl: missing command, expected 'status' or 'ps' (see --help)\n");
                return 2;
        }
        verb = argv[optind];
        if (optind + 1 < argc) {
                fprintf(stderr, "ksmctl: unexpected argument '%s' after '%s' (see --help)\n", argv[optind + 1], verb);
                return 2;
        }

        if (streq(verb, "status")) {
                if (a.all) {
                        fprintf(stderr, "ksmctl: --all applies to 'ps' only\n");
                        return 2;
                }
                r = ksmctl_status(&a);
        } else if (streq(verb, "ps")) {
                if (sample_given) {
                        fprintf(stderr, "ksmctl: --sample-time applies to 'status' only\n");
                        return 2;
                }
                r = ksmctl_ps(&a);
        } else {
                fprintf(stderr, "ksmctl: unknown command '%s', expected 'status' or 'ps' (see --help)\n", verb);
                return 2;
        }
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
