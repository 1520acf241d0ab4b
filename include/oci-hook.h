/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oci-hook.h - the OCI runtime hook (ksmtuned-ng-oci-hook(8)): container state on stdin,
 * annotations in, a mergeable container init and a runtime policy out.
 *
 * Annotations (in the container's OCI config, e.g. podman --annotation, a Kubernetes pod's):
 *   io.ksmtuned.merge  "true" | "false"   make the container mergeable, or opt it out
 *   io.ksmtuned.group  NAME               its sharing group ([A-Za-z0-9_.-], 1..63); implies
 *                                         "merge": "true" when io.ksmtuned.merge is absent
 * A container with neither is left alone: nothing is written.
 *
 * Sharing-group rule, enforced by the hook under a lock: at most one group is mergeable on the
 * host at a time.  The first container of a group that is made mergeable claims the host for it;
 * while any container of that group is alive (its init's pid and start time), a container of
 * another group is refused: it is not made mergeable and gets a "never" policy, so that no
 * policy of the daemon's makes it mergeable either.  The claim ends with the group's last
 * container (poststop, or a record whose process is gone, pruned by the next hook run).
 *
 * Files, named after the container id ("oci-" + id, characters outside [A-Za-z0-9_.-] written
 * as "@XX" hex, which runtimes never put in ids):
 *   POLICY_DIR/oci-ID.json   a policy for the container's cgroup ("merge" or "never")
 *   STATE_DIR/oci-ID.json    the record of a container made mergeable (id, group, pid, start
 *                            time, cgroup), read by later hook runs to enforce the rule
 *   STATE_DIR/.lock          flock(2) serialising hook runs
 * Every file is written to a dot-file (which the daemon skips) and renamed into place.
 *
 * Parsing and formatting here are pure; oci_hook_run() does the I/O.  Non-logging except
 * oci_hook_main(), the program.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "time-util.h"

#define OCI_ANNOTATION_MERGE "io.ksmtuned.merge"
#define OCI_ANNOTATION_GROUP "io.ksmtuned.group"
#define OCI_GROUP_DEFAULT "default"
#define OCI_GROUP_MAX 63
#define OCI_ID_MAX 1024
#define OCI_STATE_MAX (1024U * 1024U)    /* bytes of state JSON we read at most */

#define OCI_POLICY_DIR_DEFAULT "/run/ksmtuned-ng/policy.d"
#define OCI_STATE_DIR_DEFAULT "/run/ksmtuned-ng/oci"
#define OCI_SOCKET_DEFAULT "/run/ksmtuned-ng/io.ksmtuned.Manager"
#define OCI_TIMEOUT_DEFAULT (3 * USEC_PER_SEC)
#define OCI_PRIORITY_DEFAULT 1000

typedef enum OciStage {
        OCI_STAGE_CREATE_RUNTIME,
        OCI_STAGE_POSTSTOP,
        OCI_STAGE_AUTO,                 /* from state.status: "stopped" is poststop, else createRuntime
                                         * (one hooks.d file serves both stages) */
        _OCI_STAGE_MAX,
        _OCI_STAGE_INVALID = -EINVAL,
} OciStage;

const char *oci_stage_to_string(OciStage s);
OciStage oci_stage_from_string(const char *s);

/* What the annotations ask for. */
typedef enum OciRequest {
        OCI_REQUEST_NONE,               /* no annotation of ours: leave the container alone */
        OCI_REQUEST_MERGE,
        OCI_REQUEST_NEVER,              /* io.ksmtuned.merge=false: an explicit opt-out */
        _OCI_REQUEST_MAX,
} OciRequest;

/* The runtime's state (OCI runtime spec, "State"), as far as the hook uses it. */
typedef struct OciState {
        char *oci_version;
        char *id;
        char *status;
        pid_t pid;                      /* 0 when absent (poststop) */
        char *bundle;                   /* or NULL */
        OciRequest request;
        char *group;                    /* with OCI_REQUEST_MERGE: the group (default "default") */
} OciState;

void oci_state_done(OciState *s);

/*
 * Parses state JSON (@size bytes at @buf; need not be NUL-terminated).  @need_pid: "pid" must be
 * present (createRuntime).  Returns 0, or -EINVAL with a message in @error naming the field
 * ("state.pid: expected a positive integer, got a string"), or -ENOMEM.
 */
int oci_state_parse(const char *buf, size_t size, bool need_pid, OciState *ret, char *error, size_t error_size);

/* "oci-" + id with "@XX" escapes.  -ENAMETOOLONG past the policy-name limit, -EINVAL if empty. */
int oci_policy_name(const char *id, char **ret);

/* Validates a group name: 1..63 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
bool oci_group_valid(const char *group);

/*
 * The runtime policy for @cgroup (a v2 path; glob characters are escaped): action "merge" with
 * @priority or "never", descendants, a description naming the container and group.  Heap text.
 */
int oci_policy_format(const OciState *s, const char *cgroup, bool merge, int priority, char **ret);

typedef struct OciHookConfig {
        const char *policy_dir;
        const char *state_dir;
        const char *socket_path;        /* NULL: do not tell the daemon */
        const char *proc_dir;           /* "/proc" */
        usec_t timeout_usec;            /* overall deadline */
        int priority;
        bool allow_seccomp;             /* inject into an init that already has a seccomp filter */
} OciHookConfig;

void oci_hook_config_init(OciHookConfig *c);

typedef enum OciOutcome {
        OCI_OUTCOME_NOTHING,            /* no annotation of ours, or nothing to remove */
        OCI_OUTCOME_MERGED,             /* init made mergeable (verified) and policy written */
        OCI_OUTCOME_POLICY_ONLY,        /* injection failed; the merge policy lets the daemon retry */
        OCI_OUTCOME_OPTED_OUT,          /* "never" policy written (io.ksmtuned.merge=false) */
        OCI_OUTCOME_REFUSED,            /* another sharing group holds the host: "never" written */
        OCI_OUTCOME_REMOVED,            /* poststop: files removed */
        OCI_OUTCOME_ERROR,              /* bad input or a failure: the container runs unmerged */
        _OCI_OUTCOME_MAX,
} OciOutcome;

const char *oci_outcome_to_string(OciOutcome o);

typedef struct OciHookReport {
        OciOutcome outcome;
        OciStage stage;                 /* the stage run (AUTO resolved) */
        char id[256];                   /* the container id, as far as it was read */
        char group[OCI_GROUP_MAX + 1];
        pid_t pid;
        char message[512];              /* what happened, or the error */
        char cgroup[512];
        char policy_path[512];
        usec_t stopped_usec;            /* how long the init was stopped for the injection */
        int daemon;                     /* 1 reloaded, 0 not asked, <0 unreachable/refused (errno) */
} OciHookReport;

/*
 * Runs one stage with the state JSON read from @input_fd (within the deadline).  Never fails the
 * container: every problem is an OCI_OUTCOME_ERROR report.  Returns 0, or -ENOMEM.
 */
int oci_hook_run(const OciHookConfig *c, OciStage stage, int input_fd, OciHookReport *ret);

/*
 * Arms the hard deadline: SIGALRM after @usec ends the process with status 0, except while the
 * merge engine holds the container's init stopped (it finishes its bounded steps and restores the
 * init first; oci_hook_run() then returns at once).
 */
int oci_hook_arm_deadline(usec_t usec);

/*
 * The program: parses argv, arms the hard deadline, runs, logs to stderr and (when journald
 * listens) the journal.  Returns the exit status: always 0, so that no error of ours, not even a
 * bad command line, fails the container's start.
 */
int oci_hook_main(int argc, char *argv[]);
