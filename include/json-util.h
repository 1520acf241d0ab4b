/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-util.h - table-driven validation of JSON objects (jansson) with errors that name the file,
 * the line and column (syntax) or the JSON path (semantics), and say what was expected.
 *
 *     static const JsonField table[] = {
 *             { "sample_interval", json_dispatch_duration, offsetof(Config, interval), 0,
 *               .min = 100 * USEC_PER_MSEC, .max = USEC_PER_HOUR },
 *             {}
 *     };
 *
 * Unknown keys are errors (typos must fail loudly); duplicate keys are rejected by the loader.
 * Non-logging.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct JsonError {
        char file[256];
        int line, column;       /* 0 when the error is semantic: then `path` says where */
        char path[256];         /* "sample_interval", "policies[2].match.cgroup", "" for the root */
        char message[512];
} JsonError;

/* Formats "FILE:LINE:COLUMN: MESSAGE" or "FILE: PATH: MESSAGE" into @buf. */
const char *json_error_format(const JsonError *e, char *buf, size_t size);

typedef struct JsonField JsonField;
typedef int (*JsonDispatchFn)(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err);
/* Checks one string (json_dispatch_strv); on failure returns < 0 and says what was expected in @reason. */
typedef int (*JsonValidateFn)(const char *s, char *reason, size_t size);

enum {
        JSON_FIELD_MANDATORY = 1U << 0,
};

struct JsonField {
        const char *name;
        JsonDispatchFn dispatch;
        size_t offset;
        unsigned flags;
        int64_t min, max;               /* bounds for numbers and durations (inclusive); 0,0 = none */
        const char *const *choices;     /* NULL-terminated, for json_dispatch_enum: index stored as int */
        JsonValidateFn validate;        /* optional, for json_dispatch_strv: checks each entry */
};

/*
 * Validates @obj against @table (terminated by an entry with name NULL) and fills @base.
 * @path is the JSON path of @obj ("" for the root).  Returns 0, or -EINVAL with @err filled.
 */
int json_dispatch(json_t *obj, const char *path, const JsonField *table, void *base, JsonError *err);

/* Dispatchers.  Each stores into base+offset. */
int json_dispatch_duration(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err); /* usec_t */
int json_dispatch_uint64(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err);   /* uint64_t */
int json_dispatch_bool(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err);     /* bool */
int json_dispatch_enum(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err);     /* int */
int json_dispatch_string(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err);   /* char* (owned) */
/*
 * More dispatchers, and what their bounds mean:
 *   json_dispatch_string  with bounds: length in characters (UTF-8 code points), inclusive
 *   json_dispatch_int     an integer, negative ones too; bounds default to INT_MIN..INT_MAX
 *   json_dispatch_size    "64M" (parse_size(): K, M, G, T are powers of 1024) or an integer of bytes
 *   json_dispatch_strv    an array of non-empty strings, stored NULL-terminated (char **, owned,
 *                         freed with json_strv_free()); bounds: number of entries; .validate is
 *                         called for every entry and its reason becomes the error of "path[i]"
 */
int json_dispatch_int(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err);      /* int */
int json_dispatch_size(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err);     /* uint64_t */
int json_dispatch_strv(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err);     /* char** (owned) */

/* Frees a NULL-terminated string array; returns NULL. */
char **json_strv_free(char **l);

/* For dispatchers written elsewhere: fills @err's path and message (not its file), returns -EINVAL. */
int json_error_set(JsonError *err, const char *path, const char *format, ...) __attribute__((format(printf, 3, 4)));
/* "an object", "a string", "an integer", "null" …, for messages like "expected …, got %s". */
const char *json_type_name(json_t *v);

/*
 * Loads @filename strictly (JSON_REJECT_DUPLICATES, one top-level object, nothing after it).
 * -ENOENT etc. from open(); -EINVAL with @err filled (file, line, column) for bad JSON.
 */
int json_load_file_strict(const char *filename, json_t **ret, JsonError *err);
/* Same for a buffer; @name is used in errors. */
int json_load_string_strict(const char *text, const char *name, json_t **ret, JsonError *err);
/* Same for @size bytes at @buf, which need not be NUL-terminated (a NUL byte inside is an error). */
int json_load_buffer_strict(const void *buf, size_t size, const char *name, json_t **ret, JsonError *err);
