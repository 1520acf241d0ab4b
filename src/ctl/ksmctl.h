/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ksmctl.h - shared state of the ksmctl subcommands. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "merge.h"
#include "time-util.h"

typedef struct KsmctlArgs {
        bool json;
        bool all;
        usec_t sample_usec;
        const char *ksm_dir;
        const char *proc_dir;

        /* merge / unmerge */
        pid_t *pids;
        size_t n_pids;
        char **cgroups;
        size_t n_cgroups;
        MergeOptions merge;

        /* exec */
        char **command;

        const char *socket_path;        /* the daemon's control socket */
} KsmctlArgs;

int ksmctl_status(const KsmctlArgs *a);
int ksmctl_ps(const KsmctlArgs *a);
int ksmctl_merge(const KsmctlArgs *a, bool enable);
int ksmctl_exec(const KsmctlArgs *a);
int ksmctl_reload(const KsmctlArgs *a);

/*
 * Calls @method on the daemon.  0 and *ret_params (owned) on success; -EREMOTEIO with *ret_error
 * (owned) when the daemon answered with an error; other negative errnos when it is unreachable.
 */
int ksmctl_call(const char *socket_path, const char *method, json_t **ret_params, char **ret_error);

/* Prints @j (consumed) as one line of JSON on stdout.  Returns 0 or -ENOMEM/-EIO. */
int ksmctl_print_json(json_t *j);
