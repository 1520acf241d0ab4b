/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon-config.h - the daemon's own settings, one JSON file (ksmtuned-ng.conf(5)).
 *
 * Parsed into an immutable DaemonConfig; a reload builds a new one and swaps it in only if valid.
 * Every key is optional; defaults are in daemon_config_init() and in conf/ksmtuned-ng.json.
 * Non-logging.
 */
#pragma once

#include <stdint.h>

#include "json-util.h"
#include "tuner.h"
#include "time-util.h"

#define DAEMON_CONFIG_PATH_DEFAULT SYSCONFDIR "/ksmtuned-ng/ksmtuned-ng.json"

#define SAMPLE_INTERVAL_DEFAULT (10 * USEC_PER_SEC)
#define SAMPLE_INTERVAL_MIN (100 * USEC_PER_MSEC)
#define SAMPLE_INTERVAL_MAX USEC_PER_HOUR

/* "auto" (0): 4 s without eBPF exec events: at 10 000 tracked processes a walk costs ~16 ms, so
 * ~0.4 % of a CPU (2 s: 0.78 %); new cgroups are seen at once through inotify, and this bounds the
 * delay for a process joining a cgroup that already had processes.  With exec events a process
 * that execs there is seen at once, and the walk only catches processes moved or forked without
 * exec into a selected cgroup: 10 s. */
#define RESCAN_INTERVAL_AUTO 0
#define RESCAN_INTERVAL_DEFAULT (4 * USEC_PER_SEC)
#define RESCAN_INTERVAL_EXEC_EVENTS (10 * USEC_PER_SEC)
#define CONTROL_SOCKET_DEFAULT "/run/ksmtuned-ng/io.ksmtuned.Manager"
#define MAX_TRACKED_DEFAULT 65536
#define MERGE_ATTEMPTS_DEFAULT 5

typedef enum DaemonMergeBackend {
        DAEMON_BACKEND_AUTO,            /* "auto": the best available (inject, then madvise) */
        DAEMON_BACKEND_INJECT,          /* "inject" only */
        DAEMON_BACKEND_MADVISE,         /* "madvise" only */
        DAEMON_BACKEND_NONE,            /* "none": never touch running processes (observe only) */
} DaemonMergeBackend;

typedef enum DaemonStatistics {
        DAEMON_STATISTICS_AUTO,         /* "auto": eBPF when it loads, else polling ksm_stat */
        DAEMON_STATISTICS_BPF,          /* "bpf": eBPF or refuse to start */
        DAEMON_STATISTICS_KSM_STAT,     /* "ksm_stat": never load eBPF; poll ksm_stat, rescan to discover */
} DaemonStatistics;

typedef enum DaemonAtExit {
        DAEMON_AT_EXIT_RESTORE,         /* "restore": put back the knob values found at start */
        DAEMON_AT_EXIT_KEEP,            /* "keep": leave ksmd running with the last values */
        DAEMON_AT_EXIT_STOP,            /* "stop": run=0, merged pages stand */
} DaemonAtExit;

typedef struct DaemonConfig {
        usec_t sample_interval_usec;    /* "sample_interval": how often KSM counters are sampled and logged */
        int log_level;                  /* "log_level": LOG_ERR … LOG_DEBUG */
        usec_t rescan_interval_usec;    /* "rescan_interval": safety-net walk of the cgroup tree; 0: "auto" */
        int merge_backend;              /* "merge_backend": DaemonMergeBackend; a policy may narrow it */
        char *control_socket;           /* "control_socket": AF_UNIX path, or "" for none */
        uint64_t max_tracked;           /* "max_tracked": processes held by pidfd at most */
        uint64_t merge_attempts;        /* "merge_attempts": tries per process before giving up */
        usec_t tuner_interval_usec;     /* "tuner.interval": how often the tuner looks (1 s) */
        int at_exit;                    /* "tuner.at_exit": DaemonAtExit */
        char *ksmtuned_conf;            /* "tuner.ksmtuned_conf": read KSM_* from this file, or NULL */
        TunerConfig tuner;              /* "tuner": mode and its parameters */
        char *metrics_file;             /* "metrics_file": Prometheus text file, or NULL for none */
        int statistics;                 /* "statistics": DaemonStatistics (read at start-up only) */
} DaemonConfig;

void daemon_config_init(DaemonConfig *c);
void daemon_config_done(DaemonConfig *c);

/* Parses JSON text.  -EINVAL with @err (may be NULL) filled on any problem; @c is untouched then. */
int daemon_config_parse_string(const char *text, const char *name, DaemonConfig *c, JsonError *err);
/* Loads a file.  -ENOENT/-EACCES… if it cannot be opened (err->message says so too), -EINVAL if invalid. */
int daemon_config_load(const char *path, DaemonConfig *c, JsonError *err);
