/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-stat.c - parsers for /proc/PID/ksm_stat, /proc/meminfo and PSI files.
 *
 * ksm_stat history (fs/proc/base.c): 6.1 added the file with ksm_rmap_items; 6.4 ksm_merging_pages
 * moved in beside ksm_process_profit; 6.7 ksm_merge_any and ksm_mergeable (with ": " separators);
 * 6.10 ksm_zero_pages.  We accept any subset in any order and ignore keys we do not know.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "ksm-stat.h"
#include "macro.h"
#include "parse-util.h"

/* Splits one line into key and value.  Separator: ':' and/or whitespace.  Modifies @line. */
static int split_key_value(char *line, char **ret_key, char **ret_value) {
        char *p = line + strcspn(line, ": \t");

        if (p == line)
                return -EBADMSG;
        if (*p == 0)
                return -EBADMSG;            /* a key with no value */
        *p++ = 0;
        p += strspn(p, ": \t");
        *ret_key = line;
        *ret_value = strstrip(p);
        if (isempty(*ret_value))
                return -EBADMSG;
        return 0;
}

static int parse_yes_no(const char *v, bool *ret) {
        if (streq(v, "yes") || streq(v, "1"))
                *ret = true;
        else if (streq(v, "no") || streq(v, "0"))
                *ret = false;
        else
                return -EBADMSG;
        return 0;
}

static int parse_u64_field(const char *v, uint64_t *ret) {
        int r = safe_atou64(v, ret);

        return r == -EINVAL ? -EBADMSG : r;
}

int ksm_stat_parse(const char *buf, KsmStat *ret) {
        _cleanup_free_ char *copy = NULL;
        KsmStat st = {};
        char *saveptr = NULL;

        if (!buf || !ret)
                return -EINVAL;
        copy = strdup(buf);
        if (!copy)
                return -ENOMEM;

        for (char *line = strtok_r(copy, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
                char *key, *value;
                int r;

                line = strstrip(line);
                if (isempty(line))
                        continue;
                r = split_key_value(line, &key, &value);
                if (r < 0)
                        return r;

                if (streq(key, "ksm_rmap_items")) {
                        r = parse_u64_field(value, &st.rmap_items);
                        st.fields |= KSM_STAT_RMAP_ITEMS;
                } else if (streq(key, "ksm_zero_pages")) {
                        r = parse_u64_field(value, &st.zero_pages);
                        st.fields |= KSM_STAT_ZERO_PAGES;
                } else if (streq(key, "ksm_merging_pages")) {
                        r = parse_u64_field(value, &st.merging_pages);
                        st.fields |= KSM_STAT_MERGING_PAGES;
                } else if (streq(key, "ksm_process_profit")) {
                        r = safe_atoi64(value, &st.process_profit);
                        if (r == -EINVAL)
                                r = -EBADMSG;
                        st.fields |= KSM_STAT_PROCESS_PROFIT;
                } else if (streq(key, "ksm_merge_any")) {
                        r = parse_yes_no(value, &st.merge_any);
                        st.fields |= KSM_STAT_MERGE_ANY;
                } else if (streq(key, "ksm_mergeable")) {
                        r = parse_yes_no(value, &st.mergeable);
                        st.fields |= KSM_STAT_MERGEABLE;
                }
                /* else: a key from a newer kernel; ignore */
                if (r < 0)
                        return r;
        }

        *ret = st;
        return 0;
}

int ksm_stat_read_at(int proc_fd, pid_t pid, KsmStat *ret) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "%d/ksm_stat", (int) pid);
        r = read_virtual_file_at(proc_fd, path, 64 * 1024, &buf, NULL);
        if (r == -ENOENT) {
                KsmStat st = {};

                /* Before 6.1: only ksm_merging_pages (5.19+). Distinguish "gone" from "old kernel". */
                snprintf(path, sizeof(path), "%d/ksm_merging_pages", (int) pid);
                r = read_virtual_file_at(proc_fd, path, 4096, &buf, NULL);
                if (r < 0)
                        return r;
                r = parse_u64_field(strstrip(buf), &st.merging_pages);
                if (r < 0)
                        return r;
                st.fields = KSM_STAT_MERGING_PAGES;
                *ret = st;
                return 0;
        }
        if (r < 0)
                return r;
        return ksm_stat_parse(buf, ret);
}

int meminfo_parse(const char *buf, MemInfo *ret) {
        static const struct {
                const char *key;
                unsigned bit;
                size_t offset;
        } keys[] = {
                { "MemTotal",     MEMINFO_TOTAL,      offsetof(MemInfo, total) },
                { "MemFree",      MEMINFO_FREE,       offsetof(MemInfo, free) },
                { "MemAvailable", MEMINFO_AVAILABLE,  offsetof(MemInfo, available) },
                { "AnonPages",    MEMINFO_ANON,       offsetof(MemInfo, anon_pages) },
                { "SwapTotal",    MEMINFO_SWAP_TOTAL, offsetof(MemInfo, swap_total) },
                { "SwapFree",     MEMINFO_SWAP_FREE,  offsetof(MemInfo, swap_free) },
                { "Buffers",      MEMINFO_BUFFERS,    offsetof(MemInfo, buffers) },
                { "Cached",       MEMINFO_CACHED,     offsetof(MemInfo, cached) },
        };
        _cleanup_free_ char *copy = NULL;
        MemInfo mi = {};
        char *saveptr = NULL;

        if (!buf || !ret)
                return -EINVAL;
        copy = strdup(buf);
        if (!copy)
                return -ENOMEM;

        /* "MemTotal:       24608712 kB" */
        for (char *line = strtok_r(copy, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
                char *colon = strchr(line, ':'), *value, *unit;
                uint64_t v;

                if (!colon)
                        continue;
                *colon = 0;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        int r;

                        if (!streq(line, keys[i].key))
                                continue;
                        value = strstrip(colon + 1);
                        unit = strchr(value, ' ');
                        if (unit) {
                                *unit++ = 0;
                                if (!streq(strstrip(unit), "kB"))
                                        return -EBADMSG;
                        }
                        r = parse_u64_field(value, &v);
                        if (r < 0)
                                return r;
                        if (unit) {
                                if (v > UINT64_MAX / 1024)
                                        return -ERANGE;
                                v *= 1024;
                        }
                        *(uint64_t *) ((uint8_t *) &mi + keys[i].offset) = v;
                        mi.fields |= keys[i].bit;
                }
        }
        if (!(mi.fields & MEMINFO_TOTAL))
                return -EBADMSG;
        *ret = mi;
        return 0;
}

int meminfo_read_at(int proc_fd, MemInfo *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = read_virtual_file_at(proc_fd, "meminfo", 256 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        return meminfo_parse(buf, ret);
}

static int psi_parse_line(char *rest, PsiLine *ret) {
        unsigned seen = 0;
        char *saveptr = NULL;
        PsiLine l = {};

        for (char *tok = strtok_r(rest, " \t", &saveptr); tok; tok = strtok_r(NULL, " \t", &saveptr)) {
                char *eq = strchr(tok, '=');
                uint64_t v;
                int r;

                if (!eq)
                        return -EBADMSG;
                *eq++ = 0;
                if (streq(tok, "total")) {
                        r = parse_u64_field(eq, &l.total_usec);
                        if (r < 0)
                                return r;
                        seen |= 8;
                        continue;
                }
                if (!streq(tok, "avg10") && !streq(tok, "avg60") && !streq(tok, "avg300"))
                        continue;       /* unknown field of a future kernel */
                r = parse_fixed2(eq, &v);
                /* An average is at most 100.00: anything larger (or overflowing) is a malformed
                 * line, as documented in ksm-stat.h. */
                if (IN_SET(r, -EINVAL, -ERANGE) || (r >= 0 && v > 10000))
                        return -EBADMSG;
                if (r < 0)
                        return r;
                if (streq(tok, "avg10")) {
                        l.avg10_pmy = (uint32_t) v;
                        seen |= 1;
                } else if (streq(tok, "avg60")) {
                        l.avg60_pmy = (uint32_t) v;
                        seen |= 2;
                } else {
                        l.avg300_pmy = (uint32_t) v;
                        seen |= 4;
                }
        }
        if (seen != 15)
                return -EBADMSG;
        *ret = l;
        return 0;
}

int psi_parse(const char *buf, PsiStats *ret) {
        _cleanup_free_ char *copy = NULL;
        PsiStats ps = {};
        bool have_some = false;
        char *saveptr = NULL;

        if (!buf || !ret)
                return -EINVAL;
        copy = strdup(buf);
        if (!copy)
                return -ENOMEM;

        for (char *line = strtok_r(copy, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
                int r;

                line = strstrip(line);
                if (strneq(line, "some ", 5)) {
                        r = psi_parse_line(line + 5, &ps.some);
                        have_some = true;
                } else if (strneq(line, "full ", 5)) {
                        r = psi_parse_line(line + 5, &ps.full);
                        ps.have_full = true;
                } else if (isempty(line))
                        continue;
                else
                        return -EBADMSG;
                if (r < 0)
                        return r;
        }
        if (!have_some)
                return -EBADMSG;
        *ret = ps;
        return 0;
}

int psi_read_at(int dir_fd, const char *path, PsiStats *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = read_virtual_file_at(dir_fd, path, 4096, &buf, NULL);
        if (r < 0)
                return r;
        return psi_parse(buf, ret);
}
