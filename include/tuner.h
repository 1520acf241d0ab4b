/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tuner.h - how ksmd is driven.  PURE: tuner_step() maps (config, observation, previous state) to a
 * decision; it reads no file and no clock (the time is in the observation), so every mode is
 * unit-tested on recorded sequences.  The manager does the I/O and applies decisions.
 *
 * Modes:
 *   adaptive  (default) sprint when much new mergeable memory appears (the daemon's own enable
 *             events, or growth of pages_unshared + pages_volatile, i.e. new rmap_items, added up
 *             over the maintain phase), keep sprinting while full scans keep yielding merges, fall
 *             back to a slow maintenance pace after `idle_scans` full scans without yield; stay
 *             inside a ksmd CPU budget (percent of one CPU) by scaling pages_to_scan; optionally
 *             merge only under memory pressure (MemAvailable below a threshold and/or PSI memory
 *             "some" avg10 above one), and then either stop (run=0, merged pages stand) or keep
 *             maintaining when it is gone (pressure coming back starts a new sprint).
 *   ksmtuned  the 2009 ksmtuned script, decision for decision: every monitor_interval, with
 *             thres = max(total * thres_coef / 100, thres_const) (kB), free = MemFree + Buffers +
 *             Cached (kB) and committed (kB): if committed + thres < total and free > thres: run=0;
 *             else npages += boost if free < thres else npages += decay, clamped to [min, max],
 *             sleep = max(sleep_msec * 16 GiB-in-kB / total, 10), write pages_to_scan, sleep and
 *             run=1.  (npages starts at 0, as in the script.)
 *   advisor   advisor_mode=scan-time with the configured target scan time and CPU bounds; never
 *             writes pages_to_scan.  Refused (TUNER_ERROR) on a kernel without the advisor.
 *   static    fixed run / pages_to_scan / sleep_millisecs.
 * Every mode except advisor switches advisor_mode to none first if it was on (pages_to_scan is
 * rejected by the kernel while the advisor runs).
 *
 * Whatever the mode (but off), the tuner also owns use_zero_pages, smart_scan, max_page_sharing and
 * merge_across_nodes when the config names a value (-1: leave alone).  The last two can only change
 * while no page is shared (the kernel answers EBUSY): with unmerge_to_change the tuner first writes
 * run=2 (unmerge everything, which needs memory), then the knob once pages_shared is 0, then lets
 * the mode resume; without it, it only says why it cannot.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "time-util.h"

typedef enum TunerMode {
        TUNER_MODE_ADAPTIVE,
        TUNER_MODE_KSMTUNED,
        TUNER_MODE_ADVISOR,
        TUNER_MODE_STATIC,
        TUNER_MODE_OFF,                 /* never write a knob */
        _TUNER_MODE_MAX,
        _TUNER_MODE_INVALID = -EINVAL,
} TunerMode;

typedef enum TunerPhase {
        TUNER_PHASE_START,              /* no decision yet */
        TUNER_PHASE_SPRINT,             /* adaptive: merging new memory fast */
        TUNER_PHASE_MAINTAIN,           /* adaptive: slow pace, nothing new to merge */
        TUNER_PHASE_STOPPED,            /* run=0 (no pressure / ksmtuned says stop / static) */
        TUNER_PHASE_RUNNING,            /* ksmtuned, static, advisor: running at their values */
        TUNER_PHASE_ERROR,              /* the mode cannot work on this kernel (reason says why) */
        _TUNER_PHASE_MAX,
} TunerPhase;

const char *tuner_mode_to_string(TunerMode m);
TunerMode tuner_mode_from_string(const char *s);
const char *tuner_phase_to_string(TunerPhase p);

typedef struct KsmtunedSettings {
        usec_t monitor_interval_usec;   /* KSM_MONITOR_INTERVAL (s), default 60 */
        int64_t sleep_msec;             /* KSM_SLEEP_MSEC, default 10 (for a 16 GiB host) */
        int64_t npages_boost;           /* KSM_NPAGES_BOOST, default 300 */
        int64_t npages_decay;           /* KSM_NPAGES_DECAY, default -50 */
        int64_t npages_min;             /* KSM_NPAGES_MIN, default 64 */
        int64_t npages_max;             /* KSM_NPAGES_MAX, default 1250 */
        int64_t thres_coef;             /* KSM_THRES_COEF (%), default 20 */
        int64_t thres_const_kb;         /* KSM_THRES_CONST (kB), default 2048 */
} KsmtunedSettings;

void ksmtuned_settings_init(KsmtunedSettings *k);
/*
 * Parses a ksmtuned.conf (shell assignments KEY=VALUE, comments, optional quotes; unknown keys
 * such as DEBUG or LOGFILE are ignored as the script ignores them).  Values are integers; a
 * malformed one is -EINVAL with *ret_line set (1-based) and @ret_key naming it.
 */
int ksmtuned_conf_parse(const char *text, KsmtunedSettings *k, unsigned *ret_line, char *ret_key, size_t key_size);

typedef struct TunerConfig {
        TunerMode mode;
        /* adaptive */
        uint64_t sprint_pages_to_scan;          /* pages per batch when sprinting (default 16384) */
        uint64_t sprint_sleep_msec;             /* sleep between batches when sprinting (default 1) */
        uint64_t maintain_pages_to_scan;        /* default 100 */
        uint64_t maintain_sleep_msec;           /* default 500 (measured: idle ksmd 0.02 % of a CPU) */
        uint64_t min_pages_to_scan;             /* floor when the CPU budget scales down (default 100) */
        uint32_t cpu_budget_pmy;                /* ksmd CPU budget, permyriad of one CPU (default 5000) */
        usec_t cpu_budget_burst_usec;           /* CPU time ksmd may spend above the budget (10 s) */
        uint64_t sprint_trigger_bytes;          /* new mergeable memory that starts a sprint (64 MiB) */
        uint64_t idle_scans;                    /* full scans without yield before maintaining (2) */
        uint64_t min_yield_pages;               /* merges per full scan that count as yield (64) */
        bool pressure_only;                     /* merge only under memory pressure */
        uint32_t mem_available_below_pmy;       /* pressure if MemAvailable/MemTotal below (0 = off) */
        uint32_t psi_some_above_pmy;            /* pressure if PSI memory some avg10 above (0 = off) */
        bool stop_when_unpressured;             /* pressure gone: run=0 (merged pages stand), else maintain */
        usec_t hold_off_usec;                   /* no change of pace within this after one (default 2 s) */
        /* ksmtuned */
        KsmtunedSettings ksmtuned;
        /* advisor */
        uint64_t advisor_target_scan_time_sec;  /* default 200 (the kernel's) */
        uint64_t advisor_max_cpu;               /* percent, default 70 */
        uint64_t advisor_min_pages_to_scan;     /* default 500 */
        uint64_t advisor_max_pages_to_scan;     /* default 30000 */
        /* knobs owned in every mode; -1 = leave alone */
        int64_t use_zero_pages, smart_scan, max_page_sharing, merge_across_nodes;
        int64_t max_page_sharing_max;           /* raise max_page_sharing up to this when stable-node
                                                 * chains waste pages (-1: never adapt) */
        uint64_t fragmentation_pages;           /* waste that justifies raising it (default 1024) */
        bool unmerge_to_change;                 /* may unmerge everything to change the last two */
        /* static */
        int64_t static_run;                     /* default 1 */
        uint64_t static_pages_to_scan;          /* default 100 */
        uint64_t static_sleep_msec;             /* default 20 */
} TunerConfig;

void tuner_config_init(TunerConfig *c);

/* One sample, taken by the manager.  `have_*` say which inputs this kernel provided. */
typedef struct TunerObservation {
        usec_t now_usec;                        /* CLOCK_MONOTONIC */
        uint64_t page_size;
        bool have_counters;
        uint64_t pages_sharing, pages_shared, pages_unshared, pages_volatile, full_scans, pages_scanned;
        int64_t run, pages_to_scan, sleep_msec; /* current knob values (-1 unknown) */
        int64_t advisor_mode;                   /* 0 none, 1 scan-time, -1 absent (kernel < 6.8) */
        int64_t use_zero_pages, smart_scan, max_page_sharing, merge_across_nodes;   /* -1 absent */
        int64_t stable_node_chains, stable_node_dups;                               /* -1 absent */
        bool have_cpu;
        nsec_t ksmd_cpu_ns;                     /* cumulative */
        uint64_t mem_total_kb, mem_available_kb, mem_free_kb, buffers_kb, cached_kb;
        bool have_psi;
        uint32_t psi_some_avg10_pmy;
        uint64_t new_mergeable_bytes;           /* made mergeable by the daemon since the last step */
        uint64_t committed_kb;                  /* ksmtuned's "committed" (RSS of the mergeable processes) */
} TunerObservation;

typedef struct TunerState {
        TunerPhase phase;
        int64_t npages;                         /* ksmtuned's running npages */
        usec_t next_ksmtuned_usec;              /* when ksmtuned adjusts next */
        usec_t last_change_usec;
        uint64_t scan_start_full_scans;         /* full_scans when the current yield window began */
        uint64_t scan_start_sharing;
        unsigned idle_scan_count;
        uint64_t last_unshared_volatile;        /* at the last step; in maintain, the lowest since it began */
        uint64_t maintain_peak_sharing;         /* in maintain, the highest pages_sharing since it began */
        bool have_last;
        nsec_t last_cpu_ns;
        usec_t last_cpu_usec;
        uint32_t last_cpu_pmy;                  /* ksmd CPU over the last step */
        uint64_t current_pages_to_scan;         /* what the tuner last asked for */
        uint64_t current_sleep_msec;            /* while throttled: the sleep it last asked for */
        /* The CPU budget as a token bucket: credit grows by the budget and shrinks by ksmd's CPU
         * time, up to cpu_budget_burst; a sprint runs at its full pace while there is credit. */
        bool have_credit;
        int64_t credit_ns;
        bool throttled;                         /* held to the budget until credit is back to half */
        uint64_t last_pages_scanned;
        uint64_t scan_rate;                     /* pages ksmd scans per CPU-second (0: not measured) */
        bool pressured;                         /* adaptive, pressure_only: the last step saw pressure */
        int64_t max_page_sharing;               /* chosen within the bounds (0: the config's value) */
} TunerState;

typedef struct TunerDecision {
        bool set_run, set_pages_to_scan, set_sleep, set_advisor;
        bool set_use_zero_pages, set_smart_scan, set_max_page_sharing, set_merge_across_nodes;
        int64_t use_zero_pages, smart_scan, max_page_sharing, merge_across_nodes;
        int64_t run, pages_to_scan, sleep_msec;
        int64_t advisor_mode, advisor_target_scan_time, advisor_max_cpu,
                advisor_min_pages_to_scan, advisor_max_pages_to_scan;
        TunerPhase phase;
        char reason[160];                       /* the input that drove this decision */
} TunerDecision;

/*
 * One step.  Returns 1 if *ret asks for a knob change, 0 if nothing is to be written, <0 only on
 * invalid arguments.  *state is updated in place (start from a zeroed TunerState).  Knob values in
 * *ret are within the kernel's ranges.  Deterministic: the same inputs give the same outputs.
 */
int tuner_step(const TunerConfig *c, const TunerObservation *o, TunerState *state, TunerDecision *ret);
