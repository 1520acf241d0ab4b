/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h - logging to the journal (structured, via sd_journal_sendv) or to stderr.
 *
 * Target "auto" picks the journal when stderr is already connected to it ($JOURNAL_STREAM, i.e.
 * running under systemd) or when stderr is not a terminal and journald's socket accepts a
 * datagram; otherwise stderr.  On stderr, non-terminal output carries a "<N>" priority prefix that
 * journald's stdout transport understands; a terminal gets the bare message.
 *
 * Only the daemon's outer layers (main, manager, ksmctl) log above debug; library modules return
 * errors.  log_*_errno() return the negative errno they were given, so callers can write
 * `return log_error_errno(r, "…: %m");`.  %m prints strerror of that errno.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

#include "macro.h"

/* MESSAGE_IDs of events an admin may search for.  Generated once with `systemd-id128 new`. */
#define KSMT_MESSAGE_ID_STARTED         "5ec195e41ba149e3b5ad41780ce21098"
#define KSMT_MESSAGE_ID_STOPPED         "f801663c5b4f4928833145e4829315e8"
#define KSMT_MESSAGE_ID_CONFIG_LOADED   "5fff2ba35c194e76813308e00e67ca24"
#define KSMT_MESSAGE_ID_CONFIG_REJECTED "bba56d279e334a1d982ab31b69c29e3d"
#define KSMT_MESSAGE_ID_POLICY_LOADED    "fa649e2b99b54b08980957e7f30019a4"
#define KSMT_MESSAGE_ID_POLICY_REJECTED  "67781893bba840c6bd725d128507274c"
#define KSMT_MESSAGE_ID_PROCESS_MERGED   "17401662bc7e437f81c4cb5a7f73b5d2"
#define KSMT_MESSAGE_ID_PROCESS_UNMERGED "a8cede9fdb3745f4b7848b9783d22a1a"
#define KSMT_MESSAGE_ID_TUNING_CHANGED  "be567907ca56444c81fceb1067dc0156"
#define KSMT_MESSAGE_ID_WASTED_EFFORT   "ba797059314342aa9e053ad4b1aa385e"
#define KSMT_MESSAGE_ID_STATUS          "1c36fac533a64e63ab2d43f96b314541"
#define KSMT_MESSAGE_ID_METRICS_HOST    "178ed5bb6c244a478645f0efd004c070"
#define KSMT_MESSAGE_ID_METRICS_CGROUP  "167f3dbc20614752be8370ca8329d6c0"

typedef enum LogTarget {
        LOG_TARGET_AUTO,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -EINVAL,
} LogTarget;

LogTarget log_target_from_string(const char *s);
const char *log_target_to_string(LogTarget t);
int log_level_from_string(const char *s);         /* "debug".."emerg" or 0..7; -EINVAL otherwise */
const char *log_level_to_string(int level);

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_target(LogTarget t);
/* The target actually in use once "auto" is resolved (journal or stderr). */
LogTarget log_get_effective_target(void);
void log_set_ident(const char *ident);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_full(level, ...) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_notice_errno(e, ...)  log_full_errno(LOG_NOTICE, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)

/*
 * Structured records: collect KSMT_* fields, then send them with a message.
 *
 *     _cleanup_(log_fields_done) LogFields f = {};
 *     log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_STATUS);
 *     log_fields_add(&f, "KSMT_PAGES_SHARING=%" PRIu64, n);
 *     log_fields_send(&f, LOG_INFO, 0, "KSM: %s", summary);
 *
 * On stderr only the message is printed.  Adding fails silently on ENOMEM (the message is still
 * sent), because losing a metric field must never lose the log line.
 */
typedef struct LogFields {
        char **items;
        size_t n, allocated;
} LogFields;

void log_fields_add(LogFields *f, const char *format, ...) _printf_(2, 3);
#define log_fields_send(f, level, error, ...) \
        log_fields_send_internal((f), (level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)
int log_fields_send_internal(LogFields *f, int level, int error, const char *file, int line,
                             const char *func, const char *format, ...) _printf_(7, 8);
void log_fields_done(LogFields *f);
