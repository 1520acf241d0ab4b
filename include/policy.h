/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.h - JSON policy files per cgroup: parse, validate, load the three directories, match.
 *
 * One file is one policy; its name is the file name without ".json".  Directories, lowest
 * precedence first: /usr/lib/ksmtuned-ng/policy.d (vendor), /etc/ksmtuned-ng/policy.d (admin),
 * /run/ksmtuned-ng/policy.d (runtime, written by hooks).  A file of the same name in a later
 * directory replaces an earlier one; an empty file or a symlink to /dev/null masks it (the
 * systemd *.d convention).  Only regular files ending in ".json" are read, in name order.
 *
 * Schema (ksmtuned-ng.policy(5)); every key but "cgroups" is optional:
 *   {
 *     "description": "Virtual machines",            string
 *     "cgroups": ["/machine.slice/qemu-*.scope"],       non-empty array of absolute cgroup v2 path
 *                                                    globs (fnmatch, '*' does not cross '/')
 *     "descendants": true,                           also match every cgroup below a match (false)
 *     "processes": {                                 all present selectors must match (AND);
 *       "comm": ["qemu-*"],                          each list matches if any entry does (OR)
 *       "exe": ["/usr/bin/qemu-system-*"],           absolute path globs of /proc/PID/exe
 *       "uid": [0, 107],                             0..4294967294
 *       "min_anon_memory": "64M",                    bytes with K/M/G/T suffix (base 1024) or integer
 *       "min_age": "30s"                             duration
 *     },
 *     "action": "merge",                             "merge" (default) | "never" | "ignore"
 *     "backend": "auto",                             "auto" (default) | "inject" | "madvise"
 *     "priority": 0,                                 -1000..1000; higher wins among merge/ignore
 *     "when_unmatched": "leave",                     "leave" (default) | "unmerge": what to do
 *                                                    when a process this policy merged stops matching
 *     "allow_seccomp": false,                        also inject into seccomp-filtered processes
 *     "effort": {                                    judge whether merging pays, per process:
 *       "min_yield": 10,                             percent of its scanned pages (rmap_items) that
 *                                                    must be merged (ksm_merging_pages + ksm_zero_pages);
 *                                                    0 (default) never judges
 *       "after_scans": 3,                            full scans after enabling before judging (1..1000)
 *       "when_wasted": "report"                      "report" (default) | "unmerge": make it
 *     }                                              unmergeable again so ksmd stops scanning it
 *   }
 * A process whose yield stays below min_yield, or whose ksm_process_profit is negative (its rmap
 * items cost more than its merges save), is "wasted effort".
 *
 * Decision for one process (policy_set_decide()): among the policies that match it, any "never"
 * wins outright (an opt-out beats every merge, whatever the priorities: KSM is a cross-tenant side
 * channel); otherwise the highest priority wins; ties go to the policy whose name sorts first.
 * Non-logging; policies are immutable once loaded.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "json-util.h"
#include "macro.h"
#include "merge.h"
#include "time-util.h"

typedef enum PolicyAction {
        POLICY_ACTION_MERGE,
        POLICY_ACTION_NEVER,
        POLICY_ACTION_IGNORE,
        _POLICY_ACTION_MAX,
        _POLICY_ACTION_INVALID = -EINVAL,
} PolicyAction;

typedef enum PolicyUnmatched {
        POLICY_UNMATCHED_LEAVE,
        POLICY_UNMATCHED_UNMERGE,
        _POLICY_UNMATCHED_MAX,
        _POLICY_UNMATCHED_INVALID = -EINVAL,
} PolicyUnmatched;

const char *policy_action_to_string(PolicyAction a);
const char *policy_unmatched_to_string(PolicyUnmatched u);

#define POLICY_PRIORITY_MIN (-1000)
#define POLICY_PRIORITY_MAX 1000
#define POLICY_NAME_MAX 128

typedef struct Policy {
        char *name;                     /* file name without ".json" */
        char *path;                     /* the file it was loaded from */
        char *description;              /* or NULL */
        char **cgroups;                 /* globs, n_cgroups >= 1 */
        size_t n_cgroups;
        bool descendants;
        char **comm;                    /* NULL/0: any */
        size_t n_comm;
        char **exe;
        size_t n_exe;
        uid_t *uids;
        size_t n_uids;
        uint64_t min_anon_bytes;        /* 0: any */
        usec_t min_age_usec;            /* 0: any */
        PolicyAction action;
        MergeBackend backend;
        int priority;
        PolicyUnmatched when_unmatched;
        bool allow_seccomp;
        uint32_t min_yield_percent;     /* effort.min_yield; 0: never judged */
        uint64_t wasted_after_scans;    /* effort.after_scans */
        int when_wasted;                /* effort.when_wasted: PolicyWasted */
} Policy;

typedef enum PolicyWasted {
        POLICY_WASTED_REPORT,
        POLICY_WASTED_UNMERGE,
} PolicyWasted;



/* What is known about a process when it is matched.  NULL strings never match a selector. */
typedef struct ProcessFacts {
        const char *cgroup;             /* v2 path, "/system.slice/foo.service" */
        const char *comm;
        const char *exe;
        uid_t uid;                      /* real uid */
        uint64_t anon_bytes;            /* RssAnon */
        usec_t age_usec;                /* time since the process started */
} ProcessFacts;

/*
 * Parses one policy from JSON text.  @name is the policy name (file name without .json), @path
 * the file for messages.  -EINVAL with @err filled (file, line/column for syntax, JSON path for
 * semantics, and what was expected), -ENOMEM.
 */
int policy_parse_string(const char *text, const char *name, const char *path, Policy **ret, JsonError *err);
/* Reads and parses @path; the name is derived from the file name.  -errno if unreadable. */
int policy_load_file(const char *path, Policy **ret, JsonError *err);
Policy *policy_free(Policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Policy *, policy_free);

/* True if @cgroup is selected by the cgroup globs (and "descendants"). */
bool policy_matches_cgroup(const Policy *p, const char *cgroup);
/* True if the cgroup and every process selector present match. */
bool policy_matches_process(const Policy *p, const ProcessFacts *f);
/* True if the policy has process selectors that need exe / anon memory / age facts. */
bool policy_needs_exe(const Policy *p);

typedef struct PolicySet {
        Policy **policies;              /* sorted by name */
        size_t n;
        JsonError *errors;              /* files that were rejected; the rest loaded */
        size_t n_errors;
} PolicySet;

/*
 * Loads every policy from @dirs (lowest precedence first; missing directories are fine).
 * Never fails because of a bad file: it is skipped and its error recorded in ret->errors.
 * Returns -ENOMEM or a directory read error other than -ENOENT.
 */
int policy_set_load(const char *const *dirs, size_t n_dirs, PolicySet **ret);
PolicySet *policy_set_free(PolicySet *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(PolicySet *, policy_set_free);

/* True if any policy could select @cgroup (so the daemon reads its cgroup.procs). */
bool policy_set_matches_cgroup(const PolicySet *s, const char *cgroup);
/* The deciding policy for a process, per the rule above, or NULL if none matches. */
const Policy *policy_set_decide(const PolicySet *s, const ProcessFacts *f);
/* The loaded policy called @name, or NULL. */
const Policy *policy_set_get(const PolicySet *s, const char *name);
