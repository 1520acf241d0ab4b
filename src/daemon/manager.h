/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manager.h - the daemon's core: owns the sd-event loop, timers, signals, reload, sd_notify, the
 * watchdog, the tracked processes (manager-procs.c) and the tuner's I/O (manager-tuner.c).  Parses
 * nothing itself (daemon-config, policy) and decides nothing itself (policy, tuner, merge engine).
 */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include <systemd/sd-event.h>

#include "daemon-config.h"
#include "ksm-stat.h"
#include "ksm-sysfs.h"
#include "macro.h"
#include "merge.h"
#include "pidmap.h"
#include "policy.h"
#include "tuner.h"

typedef struct Control Control;
typedef struct ManagerMetrics ManagerMetrics;

/* What the daemon knows about one process in a watched cgroup (manager-procs.c). */
typedef enum TrackState {
        TRACK_PENDING,          /* matched by a merge policy, not done yet (or retrying) */
        TRACK_ENABLED,          /* made mergeable by us */
        TRACK_ALREADY,          /* was mergeable already (opted in itself): not ours */
        TRACK_UNMATCHED,        /* in a watched cgroup, but no policy selects it */
        TRACK_IGNORED,          /* its policy says "ignore" */
        TRACK_NEVER,            /* its policy says "never" (opt-out) */
        TRACK_SKIPPED,          /* the engine refused (reason kept); retried on policy change */
        TRACK_FAILED,           /* gave up: a non-retryable failure, or merge_attempts used up */
        TRACK_WASTED,           /* merging did not pay and its policy said unmerge: made unmergeable */
        _TRACK_STATE_MAX,
} TrackState;

const char *track_state_to_string(TrackState s);

typedef struct Manager Manager;

typedef struct Tracked {
        Manager *manager;
        PidRef ref;
        sd_event_source *exit_source;
        char *cgroup;
        char comm[64];
        uid_t uid;
        char *policy;                   /* name of the deciding policy, or NULL */
        TrackState state;
        MergeResult last;               /* the engine's last answer */
        MergeBackend backend;           /* backend that enabled it */
        uint64_t enabled_realtime_usec;
        unsigned attempts;
        usec_t next_attempt_usec;       /* CLOCK_MONOTONIC: next retry (PENDING) or re-check (UNMATCHED) */
        unsigned generation;            /* policy generation it was decided under */
        uint64_t seen_rescan;           /* the rescan that last found it in a watched cgroup */
        bool merged_by_us;
        PolicyUnmatched when_unmatched; /* of the policy that merged it */
        uint64_t anon_bytes;            /* RssAnon when it was enabled (the tuner's "committed") */
        uint64_t enabled_full_scans;    /* full_scans when it was enabled */
        uint64_t judged_full_scans;     /* full_scans at its last effort judgement */
        bool wasted;                    /* yield below its policy's effort.min_yield, or negative profit */
        uint32_t yield_pmy;             /* at the last judgement: merged / scanned pages, permyriad */
        /* The metrics' last ksm_stat reading, reused while eBPF saw no KSM event of the process
         * (manager-metrics.c): with eBPF, a steady process costs a map lookup, not a procfs read. */
        KsmStat stat_cache;
        bool have_stat_cache;
        uint64_t stat_cache_sample;     /* the sample it was read in */
        uint64_t stat_cache_merges, stat_cache_removals, stat_cache_merged;    /* eBPF's counts then */
} Tracked;

struct Manager {
        sd_event *event;
        sd_event_source *sample_timer;
        sd_event_source *sighup;

        char *config_path;
        bool config_optional;           /* the default path: a missing file means built-in defaults */
        int log_level_override;         /* from --log-level, or -1 */
        DaemonConfig config;

        int proc_fd;
        KsmSysfs *ksm;
        uint64_t page_size;
        long ticks_per_sec;

        pid_t ksmd_pid;
        bool have_cpu_sample;
        uint64_t last_cpu_ns;
        uint64_t last_sample_usec;

        const char *status_text;        /* STATUS= until the first sample (static string) */
        char status_ksm[128];           /* the KSM half of STATUS=, from the last sample */
        unsigned n_reloads;
        char *last_reload_error;
        uint64_t started_realtime_usec;

        /* policies and processes (manager-procs.c) */
        char **policy_dirs;             /* lowest precedence first */
        size_t n_policy_dirs;
        PolicySet *policies;
        unsigned policy_generation;
        char *policy_signature;         /* names, sizes and mtimes of the policy files */
        char *last_policy_error;        /* why the last policy reload was refused, or NULL */
        uint64_t last_policy_reload_realtime_usec;
        MergeEngine *engine;
        char *cgroup_root;              /* the cgroup2 mount, or NULL */
        PidMap tracked;
        sd_event_source *rescan_timer;
        int inotify_fd;                 /* cgroup directories and cgroup.events of watched cgroups */
        sd_event_source *inotify_source;
        uint64_t n_cgroup_events;
        uint64_t n_dropped;             /* processes not tracked because of max_tracked */
        uint64_t n_rescans;
        usec_t last_rescan_usec;        /* how long the last walk took */
        usec_t last_rescan_end_usec;    /* CLOCK_MONOTONIC when it ended */

        Control *control;

        /* eBPF statistics and exec events (manager-bpf.c); NULL: polling ksm_stat */
        struct KsmBpf *bpf;
        char *bpf_why;                  /* why not (or NULL when loaded) */
        sd_event_source *bpf_exec_source;
        uint64_t n_exec_events;         /* exec events received */
        uint64_t n_exec_considered;     /* ... of a process in a cgroup a policy selects */
        bool bpf_watch_full;            /* the watched-cgroup set is full: logged once */
        bool bpf_watching;              /* a cgroup is in the filter (until then, events are ignored) */
        /* The programs' per-process counts, read once per sample in batches (manager_bpf_snapshot):
         * the metrics look processes up here rather than with a syscall each. */
        struct KsmBpfProcess *bpf_snap;
        size_t n_bpf_snap, n_bpf_snap_allocated;
        PidMap bpf_snap_index;          /* tgid -> index + 1 into bpf_snap */
        bool have_bpf_snap;

        /* the tuner (manager-tuner.c) */
        sd_event_source *tuner_timer;
        TunerState tuner_state;
        TunerDecision tuner_decision;           /* the last one that changed something */
        uint64_t tuner_decision_realtime_usec;
        uint64_t tuner_new_bytes;               /* made mergeable since the last step */
        KsmSnapshot knobs_at_start;
        unsigned knobs_written;                 /* bit per KsmKnob the tuner wrote */
        int knob_failed[_KSM_KNOB_MAX];         /* last errno writing each knob (0: fine) */
        char *tuner_error;                      /* why the last write failed, for status */

        ManagerMetrics *metrics;                /* manager-metrics.c */
};

int manager_new(const char *config_path, bool config_optional, int log_level_override,
                char **policy_dirs, size_t n_policy_dirs, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Loads the configuration (an error here is fatal: returns it), probes the kernel, sets up the loop. */
int manager_startup(Manager *m);
/* Runs the loop until SIGTERM/SIGINT.  Returns the loop's exit code (0) or a negative errno. */
int manager_run(Manager *m);
/* Re-reads the configuration and the policies; keeps the running ones if the new ones are invalid.
 * Returns 0 if both were (re)loaded, <0 if either was refused (the reason is in last_*_error). */
int manager_reload(Manager *m);

/* Sends STATUS= with the KSM summary, the process counts and the tuner phase. */
void manager_notify_status(Manager *m);

/* manager-procs.c */
int manager_procs_startup(Manager *m);
void manager_procs_done(Manager *m);
/* Loads the policy directories.  At start-up bad files are skipped; on reload any error keeps
 * the running set.  Returns 0 when the new set is in force, <0 otherwise. */
int manager_load_policies(Manager *m, bool startup);
/* The rescan interval in force: the configured one, or for "auto" 10 s with eBPF exec events, 4 s
 * without. */
usec_t manager_rescan_interval(Manager *m);
/* Walks the cgroup tree now (also re-checks the policy files). */
int manager_rescan(Manager *m);
void manager_count_states(Manager *m, uint64_t counts[_TRACK_STATE_MAX]);
json_t *manager_status_json(Manager *m);
/* @uid: only processes of this uid, or (uid_t) -1 for all. */
json_t *manager_processes_json(Manager *m, uid_t uid);

/* manager-bpf.c */
/* Loads the eBPF statistics (statistics "auto"/"bpf"); a failure with "auto" is logged and the
 * daemon polls ksm_stat; with "bpf" it is fatal.  Call before manager_procs_startup(). */
int manager_bpf_startup(Manager *m);
void manager_bpf_done(Manager *m);
/* The walk found a cgroup a policy selects (open directory @fd): exec events there are wanted. */
void manager_bpf_watch_cgroup(Manager *m, int fd, const char *path);
/* The metrics' statistics source: eBPF when loaded, else ksm_stat polling. */
struct MetricsSource;
int manager_bpf_metrics_source(Manager *m, struct MetricsSource **ret);
/* Reads every process's counts from the programs (a few batched syscalls); then
 * manager_bpf_lookup() answers from that snapshot: NULL if the programs saw no merge of @pid. */
int manager_bpf_snapshot(Manager *m);
const struct KsmBpfProcess *manager_bpf_lookup(Manager *m, pid_t pid);
/* Adds "merges", "unmerges" (cumulative pages since the programs attached) to @o if eBPF saw @pid. */
void manager_bpf_process_json(Manager *m, pid_t pid, json_t *o);
json_t *manager_bpf_json(Manager *m);
/* manager-procs.c: an exec event for @pid (reads its cgroup; tracks it if a policy selects it). */
void manager_procs_exec(Manager *m, pid_t pid);

/* manager-tuner.c */
int manager_tuner_startup(Manager *m);
/* Leaves ksmd as tuner.at_exit says and releases the tuner. */
void manager_tuner_done(Manager *m);
/* The manager made @bytes of anonymous memory mergeable: the adaptive tuner may sprint. */
void manager_tuner_note_enabled(Manager *m, uint64_t bytes);
json_t *manager_tuner_json(Manager *m);

/* manager-metrics.c */
int manager_metrics_startup(Manager *m);
/* Removes the metrics file it wrote and releases the statistics. */
void manager_metrics_done(Manager *m);
/* Called by each sample with the KSM counters just read and ksmd's CPU time (since boot) and use
 * (since the previous sample), each when known: logs the metrics records, writes the file. */
void manager_metrics_sample(Manager *m, const KsmSnapshot *snap, bool have_cpu_ns, uint64_t cpu_ns,
                            bool have_cpu_pmy, uint64_t cpu_pmy);
json_t *manager_metrics_json(Manager *m);
