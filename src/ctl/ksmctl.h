/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ksmctl.h - shared state of the ksmctl subcommands. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "ksm-stat.h"
#include "merge.h"
#include "proc-stat.h"
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

        /* top */
        usec_t interval_usec;
        bool interval_set;
        bool once;
        const char *sort;               /* sort key name, NULL: by saved bytes */
} KsmctlArgs;

int ksmctl_status(const KsmctlArgs *a);
int ksmctl_ps(const KsmctlArgs *a);
int ksmctl_merge(const KsmctlArgs *a, bool enable);
int ksmctl_exec(const KsmctlArgs *a);
int ksmctl_reload(const KsmctlArgs *a);
/* enable-unit / disable-unit with their own options: argv[0] is the command.  Returns an exit status. */
int ksmctl_unit(int argc, char *argv[]);
int ksmctl_top(const KsmctlArgs *a);

/* One process as `ksmctl ps` and `ksmctl top` see it. */
typedef struct PsEntry {
        pid_t pid;
        uint64_t start_time_ticks;      /* with pid: the process's identity across samples */
        char comm[PROC_COMM_MAX];
        char *cgroup;                   /* owned; NULL when unknown */
        KsmStat st;
        int error;                      /* <0: ksm_stat unreadable */
} PsEntry;

typedef struct PsList {
        PsEntry *shown;                 /* readable, with KSM state (every process with @all) */
        size_t n_shown;
        PsEntry *unreadable;            /* ksm_stat could not be read */
        size_t n_unreadable;
        size_t n_hidden;                /* without KSM state (unless @all), and zombies */
} PsList;

/* Opens @proc_dir and checks that the kernel has per-process KSM files; reports failures on stderr. */
int ps_open_proc(const char *proc_dir, int *ret_fd);
/* Walks every process of @proc_dir; kernel threads are skipped.  Reports a listing failure on
 * stderr; -ENOMEM is returned without a message.  *ret must be released with ps_list_done(). */
int ps_collect(int proc_fd, const char *proc_dir, bool all, PsList *ret);
void ps_list_done(PsList *l);
/* The "could not read the KSM state of N processes" line on stderr, if there are any. */
void ps_report_unreadable(const PsList *l);

/* The daemon's ListProcesses as an object keyed by decimal PID (owned), or NULL when unreachable. */
json_t *ksmctl_daemon_processes(const char *socket_path);
/* The entry of @pid in such an object (borrowed), or NULL. */
json_t *ksmctl_daemon_process(json_t *daemon_procs, pid_t pid);
/* "POLICY/STATE[:reason][:wasted]" as in the POLICY/STATE column of `ksmctl ps`. */
void ksmctl_daemon_policy_state(json_t *dp, char *buf, size_t size);

/*
 * Calls @method on the daemon.  0 and *ret_params (owned) on success; -EREMOTEIO with *ret_error
 * (owned) when the daemon answered with an error; other negative errnos when it is unreachable.
 */
int ksmctl_call(const char *socket_path, const char *method, json_t **ret_params, char **ret_error);

/* Prints @j (consumed) as one line of JSON on stdout.  Returns 0 or -ENOMEM/-EIO. */
int ksmctl_print_json(json_t *j);
