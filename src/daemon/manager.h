/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manager.h - the daemon's core: owns the sd-event loop, the sampling timer, signals, reload,
 * sd_notify and the watchdog.  Parses nothing itself (daemon-config does) and decides nothing
 * about KSM yet (the tuner will).
 */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "daemon-config.h"
#include "ksm-sysfs.h"
#include "macro.h"

typedef struct Manager {
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
        unsigned n_reloads;
        char *last_reload_error;
} Manager;

int manager_new(const char *config_path, bool config_optional, int log_level_override, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Loads the configuration (an error here is fatal: returns it), probes the kernel, sets up the loop. */
int manager_startup(Manager *m);
/* Runs the loop until SIGTERM/SIGINT.  Returns the loop's exit code (0) or a negative errno. */
int manager_run(Manager *m);
/* Re-reads the configuration; keeps the running one if the new one is invalid. */
int manager_reload(Manager *m);
