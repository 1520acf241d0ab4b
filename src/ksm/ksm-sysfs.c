/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-sysfs.c - /sys/kernel/mm/ksm, typed.
 *
 * Ranges follow the kernel's store functions in mm/ksm.c (6.18):
 *   run                 kstrtouint, > 2 -> EINVAL
 *   pages_to_scan       kstrtouint; EINVAL while advisor_mode is scan-time
 *   sleep_millisecs, stable_node_chains_prune_millisecs   kstrtouint
 *   max_page_sharing    kstrtoint, < 2 -> EINVAL; EBUSY while pages are shared
 *   merge_across_nodes  0/1 (NUMA only); EBUSY while pages are shared
 *   use_zero_pages, smart_scan   kstrtobool
 *   advisor_mode        "none" | "scan-time"; shown as "[none] scan-time"
 *   advisor_max_cpu, advisor_{min,max}_pages_to_scan   kstrtoul
 *   advisor_target_scan_time     kstrtoul, < 1 -> EINVAL
 * advisor_max_cpu is a percentage of one CPU: the kernel takes any unsigned long, we refuse > 100.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "missing.h"
#include "ksm-sysfs.h"
#include "parse-util.h"

#define U32MAX ((int64_t) UINT32_MAX)
#define I32MAX ((int64_t) INT32_MAX)
#define I64MAX INT64_MAX

static const KsmKnobInfo knob_table[_KSM_KNOB_MAX] = {
        [KSM_KNOB_RUN]                      = { "run", KSM_TYPE_UNSIGNED, true, 0, 2, NULL, "2.6.32" },
        [KSM_KNOB_PAGES_TO_SCAN]            = { "pages_to_scan", KSM_TYPE_UNSIGNED, true, 0, U32MAX, "pages", "2.6.32" },
        [KSM_KNOB_SLEEP_MILLISECS]          = { "sleep_millisecs", KSM_TYPE_UNSIGNED, true, 0, U32MAX, "ms", "2.6.32" },
        [KSM_KNOB_MAX_PAGE_SHARING]         = { "max_page_sharing", KSM_TYPE_UNSIGNED, true, 2, I32MAX, "pages", "4.13" },
        [KSM_KNOB_MERGE_ACROSS_NODES]       = { "merge_across_nodes", KSM_TYPE_BOOL, true, 0, 1, NULL, "3.9" },
        [KSM_KNOB_USE_ZERO_PAGES]           = { "use_zero_pages", KSM_TYPE_BOOL, true, 0, 1, NULL, "4.11" },
        [KSM_KNOB_SMART_SCAN]               = { "smart_scan", KSM_TYPE_BOOL, true, 0, 1, NULL, "6.7" },
        [KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS] =
                                              { "stable_node_chains_prune_millisecs", KSM_TYPE_UNSIGNED, true, 0, U32MAX, "ms", "4.13" },
        [KSM_KNOB_ADVISOR_MODE]             = { "advisor_mode", KSM_TYPE_ADVISOR, true, 0, 1, NULL, "6.8" },
        [KSM_KNOB_ADVISOR_MAX_CPU]          = { "advisor_max_cpu", KSM_TYPE_UNSIGNED, true, 0, 100, "%", "6.8" },
        [KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN] = { "advisor_min_pages_to_scan", KSM_TYPE_UNSIGNED, true, 0, I64MAX, "pages", "6.8" },
        [KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN] = { "advisor_max_pages_to_scan", KSM_TYPE_UNSIGNED, true, 0, I64MAX, "pages", "6.8" },
        [KSM_KNOB_ADVISOR_TARGET_SCAN_TIME] = { "advisor_target_scan_time", KSM_TYPE_UNSIGNED, true, 1, I64MAX, "s", "6.8" },
        [KSM_KNOB_PAGES_SHARED]             = { "pages_shared", KSM_TYPE_UNSIGNED, false, 0, I64MAX, "pages", "2.6.32" },
        [KSM_KNOB_PAGES_SHARING]            = { "pages_sharing", KSM_TYPE_UNSIGNED, false, 0, I64MAX, "pages", "2.6.32" },
        [KSM_KNOB_PAGES_UNSHARED]           = { "pages_unshared", KSM_TYPE_UNSIGNED, false, 0, I64MAX, "pages", "2.6.32" },
        [KSM_KNOB_PAGES_VOLATILE]           = { "pages_volatile", KSM_TYPE_UNSIGNED, false, 0, I64MAX, "pages", "2.6.32" },
        [KSM_KNOB_PAGES_SCANNED]            = { "pages_scanned", KSM_TYPE_UNSIGNED, false, 0, I64MAX, "pages", "6.8" },
        [KSM_KNOB_PAGES_SKIPPED]            = { "pages_skipped", KSM_TYPE_UNSIGNED, false, 0, I64MAX, "pages", "6.7" },
        [KSM_KNOB_FULL_SCANS]               = { "full_scans", KSM_TYPE_UNSIGNED, false, 0, I64MAX, NULL, "2.6.32" },
        [KSM_KNOB_GENERAL_PROFIT]           = { "general_profit", KSM_TYPE_SIGNED, false, INT64_MIN, I64MAX, "bytes", "6.1" },
        [KSM_KNOB_KSM_ZERO_PAGES]           = { "ksm_zero_pages", KSM_TYPE_UNSIGNED, false, 0, I64MAX, "pages", "6.10" },
        [KSM_KNOB_STABLE_NODE_CHAINS]       = { "stable_node_chains", KSM_TYPE_UNSIGNED, false, 0, I64MAX, NULL, "4.13" },
        [KSM_KNOB_STABLE_NODE_DUPS]         = { "stable_node_dups", KSM_TYPE_UNSIGNED, false, 0, I64MAX, NULL, "4.13" },
};

struct KsmSysfs {
        int dir_fd;
        bool present[_KSM_KNOB_MAX];
};

const KsmKnobInfo *ksm_knob_info(KsmKnob k) {
        if (k < 0 || k >= _KSM_KNOB_MAX)
                return NULL;
        return &knob_table[k];
}

const char *ksm_knob_to_string(KsmKnob k) {
        const KsmKnobInfo *i = ksm_knob_info(k);

        return i ? i->name : NULL;
}

KsmKnob ksm_knob_from_string(const char *name) {
        for (KsmKnob k = 0; name && k < _KSM_KNOB_MAX; k++)
                if (streq(knob_table[k].name, name))
                        return k;
        return _KSM_KNOB_INVALID;
}

const char *ksm_run_mode_to_string(int64_t run) {
        static const char *const names[] = { "stop", "merge", "unmerge" };

        return run >= 0 && run < (int64_t) ELEMENTSOF(names) ? names[run] : NULL;
}

const char *ksm_advisor_mode_to_string(int64_t mode) {
        static const char *const names[] = { "none", "scan-time" };

        return mode >= 0 && mode < (int64_t) ELEMENTSOF(names) ? names[mode] : NULL;
}

/* "[none] scan-time" or "none [scan-time]": the bracketed word is the active mode. */
static int parse_advisor(const char *text, int64_t *ret) {
        const char *open = strchr(text, '['), *close;
        size_t len;

        if (!open)
                return -EBADMSG;
        close = strchr(open, ']');
        /* exactly one bracketed word */
        if (!close || strchr(open + 1, '[') || strchr(close + 1, ']'))
                return -EBADMSG;
        len = (size_t) (close - open - 1);
        if (len == 4 && strneq(open + 1, "none", 4))
                *ret = KSM_ADVISOR_NONE;
        else if (len == 9 && strneq(open + 1, "scan-time", 9))
                *ret = KSM_ADVISOR_SCAN_TIME;
        else
                return -EBADMSG;
        return 0;
}

int ksm_knob_parse(KsmKnob k, const char *text, int64_t *ret) {
        const KsmKnobInfo *info = ksm_knob_info(k);
        _cleanup_free_ char *copy = NULL;
        char *s;
        int64_t v;
        int r;

        if (!info || !text || !ret)
                return -EINVAL;

        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        s = strstrip(copy);

        switch (info->type) {
        case KSM_TYPE_ADVISOR:
                return parse_advisor(s, ret);

        case KSM_TYPE_SIGNED:
                r = safe_atoi64(s, &v);
                break;

        case KSM_TYPE_UNSIGNED:
        case KSM_TYPE_BOOL: {
                uint64_t u;

                r = safe_atou64(s, &u);
                if (r >= 0 && u > (uint64_t) INT64_MAX)
                        r = -ERANGE;
                v = (int64_t) u;
                break;
        }
        default:
                return -EINVAL;
        }
        if (r == -EINVAL)
                return -EBADMSG;
        if (r < 0)
                return r;
        /* A tunable outside what the kernel's store function accepts means we misread the file
         * (or the kernel changed its rules): report it rather than pass on a wrong number. */
        if (info->writable && (v < info->min || v > info->max))
                return -ERANGE;
        *ret = v;
        return 0;
}

int ksm_knob_format(KsmKnob k, int64_t value, char *buf, size_t size) {
        const KsmKnobInfo *info = ksm_knob_info(k);

        if (!info)
                return -EINVAL;
        if (value < info->min || value > info->max)
                return -ERANGE;
        if (info->type == KSM_TYPE_ADVISOR)
                snprintf(buf, size, "%s", ksm_advisor_mode_to_string(value));
        else
                snprintf(buf, size, "%" PRIi64, value);
        return 0;
}

int ksm_sysfs_open_at(int dir_fd, KsmSysfs **ret) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = NULL;

        if (dir_fd < 0 || !ret)
                return -EINVAL;

        k = new0(KsmSysfs, 1);
        if (!k)
                return -ENOMEM;
        k->dir_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (k->dir_fd < 0)
                return -errno;

        for (KsmKnob i = 0; i < _KSM_KNOB_MAX; i++)
                k->present[i] = faccessat(k->dir_fd, knob_table[i].name, F_OK, 0) >= 0;

        if (!k->present[KSM_KNOB_RUN])
                return -ENOENT;     /* not a KSM directory at all */

        *ret = TAKE_PTR(k);
        return 0;
}

int ksm_sysfs_open(const char *path, KsmSysfs **ret) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path ?: KSM_SYSFS_DIR_DEFAULT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return ksm_sysfs_open_at(fd, ret);
}

KsmSysfs *ksm_sysfs_free(KsmSysfs *k) {
        if (!k)
                return NULL;
        safe_close(k->dir_fd);
        free(k);
        return NULL;
}

bool ksm_sysfs_has(const KsmSysfs *k, KsmKnob knob) {
        return k && knob >= 0 && knob < _KSM_KNOB_MAX && k->present[knob];
}

int ksm_sysfs_read(KsmSysfs *k, KsmKnob knob, int64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        if (!k || knob < 0 || knob >= _KSM_KNOB_MAX || !ret)
                return -EINVAL;
        if (!k->present[knob])
                return -ENOENT;

        r = read_virtual_file_at(k->dir_fd, knob_table[knob].name, 4096, &buf, NULL);
        if (r < 0)
                return r;
        return ksm_knob_parse(knob, buf, ret);
}

int ksm_sysfs_write(KsmSysfs *k, KsmKnob knob, int64_t value) {
        char buf[64];
        int64_t cur;
        int r;

        if (!k || knob < 0 || knob >= _KSM_KNOB_MAX)
                return -EINVAL;
        if (!knob_table[knob].writable)
                return -EROFS;
        if (!k->present[knob])
                return -ENOENT;

        r = ksm_knob_format(knob, value, buf, sizeof(buf));
        if (r < 0)
                return r;

        if (ksm_sysfs_read(k, knob, &cur) >= 0 && cur == value)
                return 0;

        r = write_string_file_at(k->dir_fd, knob_table[knob].name, buf);
        if (r < 0)
                return r;

        /* Read back: sysfs may accept and then hold a different value (never seen, but cheap). */
        r = ksm_sysfs_read(k, knob, &cur);
        if (r < 0)
                return r;
        if (cur != value)
                return -EIO;
        return 1;
}

void ksm_sysfs_snapshot(KsmSysfs *k, KsmSnapshot *ret) {
        *ret = (KsmSnapshot) {};
        for (KsmKnob i = 0; i < _KSM_KNOB_MAX; i++) {
                ret->present[i] = ksm_sysfs_has(k, i);
                if (!ret->present[i])
                        continue;
                ret->error[i] = ksm_sysfs_read(k, i, &ret->value[i]);
                if (ret->error[i] > 0)
                        ret->error[i] = 0;
        }
}

int64_t ksm_snapshot_get(const KsmSnapshot *s, KsmKnob knob, int64_t def) {
        if (knob < 0 || knob >= _KSM_KNOB_MAX || !s->present[knob] || s->error[knob] < 0)
                return def;
        return s->value[knob];
}
