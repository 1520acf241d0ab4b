/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.c - the journal/stderr backend.  Structured fields go through sd_journal_sendv() with
 * CODE_FILE/CODE_LINE/CODE_FUNC preformatted (as PipeWire's journal backend does); if the journal
 * refuses a message we print it on stderr rather than lose it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* We pass CODE_FILE/LINE/FUNC of the caller ourselves; the header's macro would add log.c's. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "log.h"
#include "parse-util.h"

static int max_level = LOG_INFO;
static LogTarget target = LOG_TARGET_AUTO;
static LogTarget effective = _LOG_TARGET_INVALID;
static const char *ident = NULL;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit", [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static const char *const target_names[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_JOURNAL] = "journal",
        [LOG_TARGET_STDERR] = "stderr",
};

LogTarget log_target_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(target_names); i++)
                if (streq(s, target_names[i]))
                        return (LogTarget) i;
        return _LOG_TARGET_INVALID;
}

const char *log_target_to_string(LogTarget t) {
        return t >= 0 && t < _LOG_TARGET_MAX ? target_names[t] : NULL;
}

int log_level_from_string(const char *s) {
        uint32_t v;

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (streq(s, level_names[i]))
                        return (int) i;
        if (streq(s, "error"))
                return LOG_ERR;
        if (safe_atou32(s, &v) >= 0 && v <= LOG_DEBUG)
                return (int) v;
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        return level >= 0 && level <= LOG_DEBUG ? level_names[level] : NULL;
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_target(LogTarget t) {
        target = t;
        effective = _LOG_TARGET_INVALID;
}

void log_set_ident(const char *i) {
        ident = i;
}

static bool stderr_is_journal_stream(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

static bool journal_socket_reachable(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket" };
        int fd, r;

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        r = connect(fd, (struct sockaddr *) &sa, sizeof(sa));
        close(fd);
        return r >= 0;
}

LogTarget log_get_effective_target(void) {
        if (effective >= 0)
                return effective;

        if (target != LOG_TARGET_AUTO)
                effective = target;
        else if (stderr_is_journal_stream())
                effective = LOG_TARGET_JOURNAL;
        else if (isatty(STDERR_FILENO))
                effective = LOG_TARGET_STDERR;
        else
                effective = journal_socket_reachable() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
        return effective;
}

static void write_stderr(int level, const char *msg) {
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "%s\n", msg);
        else
                fprintf(stderr, "<%d>%s\n", level, msg);
}

static int dispatch(int level, int error, const char *file, int line, const char *func,
                    const char *msg, char *const *fields, size_t n_fields) {
        if (log_get_effective_target() == LOG_TARGET_JOURNAL) {
                char prio[32], errno_s[32], line_s[32];
                _cleanup_free_ char *file_s = NULL, *msg_s = NULL, *ident_s = NULL;
                struct iovec iov[4 + n_fields];
                size_t k = 0;

                snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
                snprintf(line_s, sizeof(line_s), "CODE_LINE=%d", line);
                if (asprintf(&msg_s, "MESSAGE=%s", msg) < 0 || asprintf(&file_s, "CODE_FILE=%s", file) < 0)
                        goto fallback;
                iov[k++] = (struct iovec) { msg_s, strlen(msg_s) };
                iov[k++] = (struct iovec) { prio, strlen(prio) };
                if (error != 0) {
                        snprintf(errno_s, sizeof(errno_s), "ERRNO=%d", abs(error));
                        iov[k++] = (struct iovec) { errno_s, strlen(errno_s) };
                }
                if (ident) {
                        if (asprintf(&ident_s, "SYSLOG_IDENTIFIER=%s", ident) < 0)
                                goto fallback;
                        iov[k++] = (struct iovec) { ident_s, strlen(ident_s) };
                }
                for (size_t i = 0; i < n_fields; i++)
                        iov[k++] = (struct iovec) { fields[i], strlen(fields[i]) };

                if (sd_journal_sendv_with_location(file_s, line_s, func, iov, (int) k) >= 0)
                        return 0;
        }
fallback:
        write_stderr(level, msg);
        return 0;
}

static int log_dispatch_va(int level, int error, const char *file, int line, const char *func,
                           char *const *fields, size_t n_fields, const char *format, va_list ap) {
        char buf[2048];
        int saved = errno;

        if (level > max_level)
                return -abs(error);

        errno = abs(error);     /* so that %m prints the error we were given */
        vsnprintf(buf, sizeof(buf), format, ap);
        dispatch(level, error, file, line, func, buf, fields, n_fields);
        errno = saved;
        return -abs(error);
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_dispatch_va(level, error, file, line, func, NULL, 0, format, ap);
        va_end(ap);
        return r;
}

void log_fields_add(LogFields *f, const char *format, ...) {
        va_list ap;
        char *s;

        if (f->n == f->allocated) {
                size_t na = f->allocated ? f->allocated * 2 : 16;
                char **p = realloc(f->items, na * sizeof(char *));

                if (!p)
                        return;
                f->items = p;
                f->allocated = na;
        }
        va_start(ap, format);
        if (vasprintf(&s, format, ap) >= 0)
                f->items[f->n++] = s;
        va_end(ap);
}

int log_fields_send_internal(LogFields *f, int level, int error, const char *file, int line,
                             const char *func, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_dispatch_va(level, error, file, line, func, f->items, f->n, format, ap);
        va_end(ap);
        return r;
}

void log_fields_done(LogFields *f) {
        for (size_t i = 0; i < f->n; i++)
                free(f->items[i]);
        free(f->items);
        *f = (LogFields) {};
}
