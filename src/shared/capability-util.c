/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <sys/prctl.h>

#include "capability-util.h"
#include "macro.h"

static void cap_freep(cap_t *c) {
        if (*c)
                cap_free(*c);
}

int capability_have(cap_value_t cap) {
        _cleanup_(cap_freep) cap_t c = NULL;
        cap_flag_value_t v;

        c = cap_get_proc();
        if (!c)
                return -errno;
        if (cap_get_flag(c, cap, CAP_EFFECTIVE, &v) < 0)
                return -errno;
        return v == CAP_SET;
}

static bool kept(cap_value_t cap, const cap_value_t *keep, size_t n_keep) {
        for (size_t i = 0; i < n_keep; i++)
                if (keep[i] == cap)
                        return true;
        return false;
}

int capability_drop_except(const cap_value_t *keep, size_t n_keep) {
        _cleanup_(cap_freep) cap_t cur = NULL, next = NULL;
        cap_flag_value_t v;
        int have_setpcap;

        cur = cap_get_proc();
        if (!cur)
                return -errno;
        have_setpcap = capability_have(CAP_SETPCAP);
        if (have_setpcap < 0)
                return have_setpcap;

        (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

        /* Bounding set first, while we still hold CAP_SETPCAP. */
        if (have_setpcap)
                for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                        if (kept(c, keep, n_keep))
                                continue;
                        if (cap_drop_bound(c) < 0 && errno != EINVAL)
                                return -errno;
                }

        next = cap_init();
        if (!next)
                return -errno;
        for (size_t i = 0; i < n_keep; i++) {
                if (cap_get_flag(cur, keep[i], CAP_PERMITTED, &v) < 0)
                        return -errno;
                if (v != CAP_SET)
                        continue;
                if (cap_set_flag(next, CAP_PERMITTED, 1, &keep[i], CAP_SET) < 0 ||
                    cap_set_flag(next, CAP_EFFECTIVE, 1, &keep[i], CAP_SET) < 0)
                        return -errno;
        }
        if (cap_set_proc(next) < 0)
                return -errno;
        return 0;
}
