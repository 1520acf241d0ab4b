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
 * Loads @filename strictly (JSON_REJECT_DUPLICATES, one top-level object, nothing after it).
 * -ENOENT etc. from open(); -EINVAL with @err filled (file, line, column) for bad JSON.
 */
int json_load_file_strict(const char *filename, json_t **ret, JsonError *err);
/* Same for a buffer; @name is used in errors. */
int json_load_string_strict(const char *text, const char *name, json_t **ret, JsonError *err);
