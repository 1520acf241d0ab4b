/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "pidmap.h"

static size_t slot_of(pid_t pid, size_t capacity) {
        /* Fibonacci hashing: PIDs are sequential, the multiply spreads them. */
        return (size_t) (((uint64_t) (uint32_t) pid * 11400714819323198485ULL) >> 32) & (capacity - 1);
}

static int grow(PidMap *m) {
        size_t cap = m->capacity ? m->capacity * 2 : 64;
        pid_t *keys = calloc(cap, sizeof(pid_t));
        void **values = calloc(cap, sizeof(void *));

        if (!keys || !values) {
                free(keys);
                free(values);
                return -ENOMEM;
        }
        for (size_t i = 0; i < m->capacity; i++) {
                size_t s;

                if (m->keys[i] == 0)
                        continue;
                for (s = slot_of(m->keys[i], cap); keys[s] != 0; s = (s + 1) & (cap - 1))
                        ;
                keys[s] = m->keys[i];
                values[s] = m->values[i];
        }
        free(m->keys);
        free(m->values);
        m->keys = keys;
        m->values = values;
        m->capacity = cap;
        return 0;
}

int pidmap_put(PidMap *m, pid_t pid, void *value) {
        size_t s;

        if (pid <= 0)
                return -EINVAL;
        if ((m->n + 1) * 10 > m->capacity * 7) {
                int r = grow(m);

                if (r < 0)
                        return r;
        }
        for (s = slot_of(pid, m->capacity); m->keys[s] != 0; s = (s + 1) & (m->capacity - 1))
                if (m->keys[s] == pid) {
                        m->values[s] = value;
                        return 0;
                }
        m->keys[s] = pid;
        m->values[s] = value;
        m->n++;
        return 0;
}

static size_t find(const PidMap *m, pid_t pid) {
        if (m->capacity == 0 || pid <= 0)
                return SIZE_MAX;
        for (size_t s = slot_of(pid, m->capacity);; s = (s + 1) & (m->capacity - 1)) {
                if (m->keys[s] == pid)
                        return s;
                if (m->keys[s] == 0)
                        return SIZE_MAX;
        }
}

void *pidmap_get(const PidMap *m, pid_t pid) {
        size_t s = find(m, pid);

        return s == SIZE_MAX ? NULL : m->values[s];
}

void *pidmap_remove(PidMap *m, pid_t pid) {
        size_t s = find(m, pid), mask = m->capacity - 1;
        void *v;

        if (s == SIZE_MAX)
                return NULL;
        v = m->values[s];
        /* Backward-shift: move later entries of the same probe run into the hole. */
        for (size_t j = (s + 1) & mask;; j = (j + 1) & mask) {
                size_t home;

                if (m->keys[j] == 0)
                        break;
                home = slot_of(m->keys[j], m->capacity);
                /* j's entry may move to s if its home is not in the cyclic range (s, j]. */
                if ((s < j) ? (home <= s || home > j) : (home <= s && home > j)) {
                        m->keys[s] = m->keys[j];
                        m->values[s] = m->values[j];
                        s = j;
                }
        }
        m->keys[s] = 0;
        m->values[s] = NULL;
        m->n--;
        return v;
}

void pidmap_done(PidMap *m) {
        free(m->keys);
        free(m->values);
        *m = (PidMap) {};
}

int pidmap_next(const PidMap *m, size_t *i, pid_t *ret_pid, void **ret_value) {
        for (; *i < m->capacity; (*i)++)
                if (m->keys[*i] != 0) {
                        if (ret_pid)
                                *ret_pid = m->keys[*i];
                        if (ret_value)
                                *ret_value = m->values[*i];
                        (*i)++;
                        return 1;
                }
        return 0;
}
