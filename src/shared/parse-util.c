/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parse-util.c - strict parsers.  strtoull() alone accepts "-1" (wrapping), leading spaces and
 * "12abc"; these wrappers reject all three, because a silently wrong knob value is worse than an
 * error.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parse-util.h"

int safe_atou64(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || *end != 0)
                return -EINVAL;
        if (ret)
                *ret = (uint64_t) v;
        return 0;
}

int safe_atoi64(const char *s, int64_t *ret) {
        long long v;
        char *end;

        if (isempty(s))
                return -EINVAL;
        if (!isdigit((unsigned char) s[0]) && !(s[0] == '-' && isdigit((unsigned char) s[1])))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || *end != 0)
                return -EINVAL;
        if (ret)
                *ret = (int64_t) v;
        return 0;
}

int safe_atou32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r;

        r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        if (ret)
                *ret = (uint32_t) v;
        return 0;
}

int parse_fixed2(const char *s, uint64_t *ret) {
        uint64_t whole = 0, frac = 0;
        const char *p = s;
        unsigned digits = 0;

        if (isempty(s) || !isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (whole > (UINT64_MAX - 9) / 10 / 100)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++) {
                        if (digits < 2)
                                frac = frac * 10 + (uint64_t) (*p - '0');
                        digits++;
                }
                if (digits == 1)
                        frac *= 10;
        }
        if (*p != 0)
                return -EINVAL;
        if (whole > (UINT64_MAX - frac) / 100)
                return -ERANGE;
        if (ret)
                *ret = whole * 100 + frac;
        return 0;
}

static const struct {
        const char *suffix;
        usec_t usec;
} duration_units[] = {
        { "us",   1 },
        { "ms",   USEC_PER_MSEC },
        { "sec",  USEC_PER_SEC },
        { "s",    USEC_PER_SEC },
        { "min",  USEC_PER_MINUTE },
        { "m",    USEC_PER_MINUTE },
        { "hr",   USEC_PER_HOUR },
        { "h",    USEC_PER_HOUR },
};

int parse_duration_usec(const char *s, usec_t *ret) {
        usec_t total = 0;
        const char *p = s;
        bool any = false;

        if (isempty(s))
                return -EINVAL;

        for (;;) {
                uint64_t whole = 0, frac = 0, frac_div = 1;
                usec_t unit = USEC_PER_SEC, part;
                size_t ulen = 0;

                while (*p == ' ')
                        p++;
                if (*p == 0)
                        break;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++) {
                        uint64_t d = (uint64_t) (*p - '0');

                        if (whole > (UINT64_MAX - d) / 10)
                                return -ERANGE;
                        whole = whole * 10 + d;
                }
                if (*p == '.') {
                        p++;
                        if (!isdigit((unsigned char) *p))
                                return -EINVAL;
                        for (; isdigit((unsigned char) *p); p++)
                                if (frac_div < 1000000) {
                                        frac = frac * 10 + (uint64_t) (*p - '0');
                                        frac_div *= 10;
                                }
                }
                for (size_t i = 0; i < ELEMENTSOF(duration_units); i++) {
                        size_t l = strlen(duration_units[i].suffix);

                        if (strncmp(p, duration_units[i].suffix, l) == 0 &&
                            (p[l] == 0 || p[l] == ' ' || isdigit((unsigned char) p[l]))) {
                                unit = duration_units[i].usec;
                                ulen = l;
                                break;
                        }
                }
                if (ulen == 0 && *p != 0 && *p != ' ')
                        return -EINVAL;
                p += ulen;

                if (whole > UINT64_MAX / unit)
                        return -ERANGE;
                part = whole * unit;
                if (part > UINT64_MAX - frac * unit / frac_div)
                        return -ERANGE;
                part += frac * unit / frac_div;
                if (total > UINT64_MAX - part)
                        return -ERANGE;
                total += part;
                any = true;
        }
        if (!any)
                return -EINVAL;
        if (ret)
                *ret = total;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                char suffix;
                unsigned shift;
        } units[] = {
                { 'K', 10 },
                { 'M', 20 },
                { 'G', 30 },
                { 'T', 40 },
        };
        uint64_t v = 0;
        unsigned shift = 0;
        const char *p = s;

        if (isempty(s) || !isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                uint64_t d = (uint64_t) (*p - '0');

                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        if (*p != 0) {
                size_t i;

                for (i = 0; i < ELEMENTSOF(units); i++)
                        if (*p == units[i].suffix)
                                break;
                if (i >= ELEMENTSOF(units) || p[1] != 0)
                        return -EINVAL;
                shift = units[i].shift;
        }
        if (v > (UINT64_MAX >> shift))
                return -ERANGE;
        if (ret)
                *ret = v << shift;
        return 0;
}

const char *format_bytes(char *buf, size_t size, int64_t bytes) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        uint64_t v = bytes < 0 ? (uint64_t) -(bytes + 1) + 1 : (uint64_t) bytes;
        const char *sign = bytes < 0 ? "-" : "";
        unsigned i = 0;

        while (i + 1 < ELEMENTSOF(units) && (v >> (10 * (i + 1))) > 0)
                i++;
        if (i == 0)
                snprintf(buf, size, "%s%" PRIu64 " B", sign, v);
        else {
                uint64_t whole = v >> (10 * i);
                uint64_t tenths = ((v & ((1ULL << (10 * i)) - 1)) >> (10 * i - 4)) * 10 >> 4;

                snprintf(buf, size, "%s%" PRIu64 ".%" PRIu64 " %s", sign, whole, tenths, units[i]);
        }
        return buf;
}

const char *format_pmy(char *buf, size_t size, uint64_t pmy) {
        snprintf(buf, size, "%" PRIu64 ".%02" PRIu64, pmy / 100, pmy % 100);
        return buf;
}

const char *format_duration(char *buf, size_t size, usec_t usec) {
        if (usec == USEC_INFINITY)
                snprintf(buf, size, "infinity");
        else if (usec < USEC_PER_MSEC)
                snprintf(buf, size, "%" PRIu64 "us", usec);
        else if (usec < USEC_PER_SEC)
                snprintf(buf, size, "%" PRIu64 "ms", usec / USEC_PER_MSEC);
        else if (usec < USEC_PER_MINUTE) {
                if (usec % USEC_PER_SEC == 0)
                        snprintf(buf, size, "%" PRIu64 "s", usec / USEC_PER_SEC);
                else
                        snprintf(buf, size, "%" PRIu64 ".%03" PRIu64 "s", usec / USEC_PER_SEC,
                                 (usec % USEC_PER_SEC) / USEC_PER_MSEC);
        } else if (usec % USEC_PER_MINUTE == 0)
                snprintf(buf, size, "%" PRIu64 "min", usec / USEC_PER_MINUTE);
        else
                snprintf(buf, size, "%" PRIu64 "min %" PRIu64 "s", usec / USEC_PER_MINUTE,
                         (usec % USEC_PER_MINUTE) / USEC_PER_SEC);
        return buf;
}
