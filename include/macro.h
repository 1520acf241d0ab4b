/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * macro.h - cleanup attributes, TAKE_PTR/TAKE_FD and small helpers used everywhere.
 *
 * Modelled on systemd's macro.h and c-stdaux; deliberately tiny.  Nothing here allocates or logs.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _sentinel_ __attribute__((sentinel))
#define _pure_ __attribute__((pure))
#define _noreturn_ __attribute__((noreturn))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

#define new0(t, n) ((t *) calloc((n), sizeof(t)))

#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -EBADF; _fd; })

/* assert() that is never compiled out: for side-effecting checks. */
#define assert_se(expr) do { if (!(expr)) { fprintf(stderr, "Assertion '%s' failed at %s:%d\n", #expr, __FILE__, __LINE__); abort(); } } while (0)

#define IN_SET(x, ...) ({                                               \
        bool _found = false;                                            \
        const __typeof__(x) _elems[] = { __VA_ARGS__ };                 \
        for (size_t _i = 0; _i < ELEMENTSOF(_elems); _i++)              \
                if (_elems[_i] == (x)) { _found = true; break; }        \
        _found;                                                         \
})

#define RET_NERRNO(expr) ({ int _r = (expr); _r < 0 ? -errno : _r; })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -EBADF;
}

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        *p = func(*p);                          \
        }

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        for (; *a && *a == *b; a++, b++)
                ;
        return *a == *b;
}

#define streq(a, b) (__builtin_strcmp((a), (b)) == 0)
#define strneq(a, b, n) (__builtin_strncmp((a), (b), (n)) == 0)
#define isempty(s) (!(s) || !*(s))
#define strna(s) ((s) ?: "n/a")
