/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pidmap.h - a hash map from pid_t to a pointer (open addressing, linear probing, backward-shift
 * deletion, so no tombstones accumulate under process churn).  Non-logging.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

typedef struct PidMap {
        pid_t *keys;            /* 0 = empty slot */
        void **values;
        size_t n, capacity;     /* capacity is 0 or a power of two */
} PidMap;

/* Inserts or replaces.  -ENOMEM, or 0. */
int pidmap_put(PidMap *m, pid_t pid, void *value);
void *pidmap_get(const PidMap *m, pid_t pid);
/* Removes and returns the value, or NULL. */
void *pidmap_remove(PidMap *m, pid_t pid);
void pidmap_done(PidMap *m);

/* Iteration: for (size_t i = 0; pidmap_next(m, &i, &pid, &value); ) — do not modify meanwhile. */
int pidmap_next(const PidMap *m, size_t *i, pid_t *ret_pid, void **ret_value);
