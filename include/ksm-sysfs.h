/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-sysfs.h - typed access to /sys/kernel/mm/ksm.
 *
 * Owns the names, types and valid ranges of every knob and counter of Linux 6.18 (mm/ksm.c), and
 * which of them this kernel has.  Every file is optional: an absent one reads as -ENOENT and is
 * never an error that should stop the caller.  Writes are validated against the table before
 * they reach the kernel; a write the kernel refuses returns the kernel's errno.
 * Does not decide values and does not log.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

typedef enum KsmKnob {
        /* tunables (read-write) */
        KSM_KNOB_RUN,
        KSM_KNOB_PAGES_TO_SCAN,
        KSM_KNOB_SLEEP_MILLISECS,
        KSM_KNOB_MAX_PAGE_SHARING,
        KSM_KNOB_MERGE_ACROSS_NODES,
        KSM_KNOB_USE_ZERO_PAGES,
        KSM_KNOB_SMART_SCAN,
        KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS,
        KSM_KNOB_ADVISOR_MODE,
        KSM_KNOB_ADVISOR_MAX_CPU,
        KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN,
        KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN,
        KSM_KNOB_ADVISOR_TARGET_SCAN_TIME,
        /* counters (read-only) */
        KSM_KNOB_PAGES_SHARED,
        KSM_KNOB_PAGES_SHARING,
        KSM_KNOB_PAGES_UNSHARED,
        KSM_KNOB_PAGES_VOLATILE,
        KSM_KNOB_PAGES_SCANNED,
        KSM_KNOB_PAGES_SKIPPED,
        KSM_KNOB_FULL_SCANS,
        KSM_KNOB_GENERAL_PROFIT,
        KSM_KNOB_KSM_ZERO_PAGES,
        KSM_KNOB_STABLE_NODE_CHAINS,
        KSM_KNOB_STABLE_NODE_DUPS,
        _KSM_KNOB_MAX,
        _KSM_KNOB_INVALID = -EINVAL,
} KsmKnob;

#define _KSM_KNOB_FIRST_COUNTER KSM_KNOB_PAGES_SHARED

typedef enum KsmValueType {
        KSM_TYPE_UNSIGNED,      /* decimal, [min, max] */
        KSM_TYPE_SIGNED,        /* decimal, may be negative (general_profit) */
        KSM_TYPE_BOOL,          /* "0" / "1" */
        KSM_TYPE_ADVISOR,       /* "[none] scan-time"; value 0 = none, 1 = scan-time */
} KsmValueType;

typedef enum KsmRunMode {
        KSM_RUN_STOP = 0,
        KSM_RUN_MERGE = 1,
        KSM_RUN_UNMERGE = 2,
} KsmRunMode;

typedef enum KsmAdvisorMode {
        KSM_ADVISOR_NONE = 0,
        KSM_ADVISOR_SCAN_TIME = 1,
} KsmAdvisorMode;

typedef struct KsmKnobInfo {
        const char *name;       /* file name in /sys/kernel/mm/ksm */
        KsmValueType type;
        bool writable;
        int64_t min, max;       /* accepted range for writes (and sanity range for reads) */
        const char *unit;       /* "pages", "ms", "s", "%", "bytes" or NULL */
        const char *since;      /* kernel version that added it, for messages */
} KsmKnobInfo;

const KsmKnobInfo *ksm_knob_info(KsmKnob k);
const char *ksm_knob_to_string(KsmKnob k);
KsmKnob ksm_knob_from_string(const char *name);
const char *ksm_run_mode_to_string(int64_t run);          /* "stop", "merge", "unmerge" or NULL */
const char *ksm_advisor_mode_to_string(int64_t mode);     /* "none", "scan-time" or NULL */

/*
 * Parses the text of a knob file (trailing newline allowed) into its value.
 * -EBADMSG: not the expected syntax; -ERANGE: a number that overflows or lies outside the range
 * the kernel can produce.
 */
int ksm_knob_parse(KsmKnob k, const char *text, int64_t *ret);
/* Formats @value as the kernel expects it written.  -ERANGE if outside [min, max]. */
int ksm_knob_format(KsmKnob k, int64_t value, char *buf, size_t size);

typedef struct KsmSysfs KsmSysfs;

/*
 * Opens the KSM sysfs directory @path (normally KSM_SYSFS_DIR) and probes which knobs exist.
 * -ENOENT if the directory does not exist (kernel without CONFIG_KSM).
 */
int ksm_sysfs_open(const char *path, KsmSysfs **ret);
/* Same, from a directory fd that is duplicated (the caller keeps its own). */
int ksm_sysfs_open_at(int dir_fd, KsmSysfs **ret);
KsmSysfs *ksm_sysfs_free(KsmSysfs *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(KsmSysfs *, ksm_sysfs_free);

bool ksm_sysfs_has(const KsmSysfs *k, KsmKnob knob);

/* Reads one knob.  -ENOENT if absent on this kernel, parse errors as ksm_knob_parse(). */
int ksm_sysfs_read(KsmSysfs *k, KsmKnob knob, int64_t *ret);

/*
 * Validates and writes one knob.  -EROFS for a counter, -ENOENT if absent, -ERANGE if outside the
 * knob's range (nothing is written), otherwise the kernel's answer (-EINVAL e.g. pages_to_scan
 * while the advisor is on, -EBUSY for merge_across_nodes/max_page_sharing with shared pages).
 * Returns 1 if the value changed, 0 if it already had that value.
 */
int ksm_sysfs_write(KsmSysfs *k, KsmKnob knob, int64_t value);

/* A consistent-as-possible reading of every knob present. */
typedef struct KsmSnapshot {
        bool present[_KSM_KNOB_MAX];
        int error[_KSM_KNOB_MAX];       /* 0, or the negative errno reading/parsing this knob gave */
        int64_t value[_KSM_KNOB_MAX];
} KsmSnapshot;

/* Reads all knobs.  Never fails as a whole: per-knob errors are in ret->error[]. */
void ksm_sysfs_snapshot(KsmSysfs *k, KsmSnapshot *ret);

/* Value if present and read without error, else @def. */
int64_t ksm_snapshot_get(const KsmSnapshot *s, KsmKnob knob, int64_t def);
