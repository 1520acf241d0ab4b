/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-util.c - strict JSON loading and table-driven dispatch.
 *
 * jansson's json_unpack_ex() can reject unknown keys too, but its error positions point into the
 * format string, not the user's file, so we walk objects ourselves and track a JSON path.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json-util.h"
#include "macro.h"
#include "parse-util.h"
#include "time-util.h"

static int fail(JsonError *err, const char *path, const char *format, ...) _printf_(3, 4);
static int fail(JsonError *err, const char *path, const char *format, ...) {
        va_list ap;

        if (!err)
                return -EINVAL;
        err->line = err->column = 0;
        snprintf(err->path, sizeof(err->path), "%s", path ?: "");
        va_start(ap, format);
        vsnprintf(err->message, sizeof(err->message), format, ap);
        va_end(ap);
        return -EINVAL;
}

const char *json_error_format(const JsonError *e, char *buf, size_t size) {
        const char *file = isempty(e->file) ? "<input>" : e->file;

        if (e->line > 0)
                snprintf(buf, size, "%s:%d:%d: %s", file, e->line, e->column, e->message);
        else if (!isempty(e->path))
                snprintf(buf, size, "%s: %s: %s", file, e->path, e->message);
        else
                snprintf(buf, size, "%s: %s", file, e->message);
        return buf;
}

static const char *type_name(json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT:  return "an object";
        case JSON_ARRAY:   return "an array";
        case JSON_STRING:  return "a string";
        case JSON_INTEGER: return "an integer";
        case JSON_REAL:    return "a number with a fraction";
        case JSON_TRUE:
        case JSON_FALSE:   return "a boolean";
        case JSON_NULL:    return "null";
        default:           return "an unknown type";
        }
}

int json_error_set(JsonError *err, const char *path, const char *format, ...) {
        va_list ap;

        if (!err)
                return -EINVAL;
        err->line = err->column = 0;
        snprintf(err->path, sizeof(err->path), "%s", path ?: "");
        va_start(ap, format);
        vsnprintf(err->message, sizeof(err->message), format, ap);
        va_end(ap);
        return -EINVAL;
}

const char *json_type_name(json_t *v) {
        return type_name(v);
}

int json_dispatch(json_t *obj, const char *path, const JsonField *table, void *base, JsonError *err) {
        const char *key;
        json_t *v;

        if (!json_is_object(obj))
                return fail(err, path, "expected an object, got %s", type_name(obj));

        json_object_foreach(obj, key, v) {
                const JsonField *f;
                char sub[256];

                for (f = table; f->name; f++)
                        if (streq(f->name, key))
                                break;
                snprintf(sub, sizeof(sub), "%s%s%s", isempty(path) ? "" : path, isempty(path) ? "" : ".", key);
                if (!f->name) {
                        char known[256] = "";
                        size_t len = 0;

                        for (f = table; f->name && len < sizeof(known); f++)
                                len += (size_t) snprintf(known + len, sizeof(known) - len, "%s%s",
                                                         len ? ", " : "", f->name);
                        return fail(err, sub, "unknown key (known keys: %s)", known);
                }
                if (f->dispatch(f, sub, v, (uint8_t *) base + f->offset, err) < 0)
                        return -EINVAL;
        }

        for (const JsonField *f = table; f->name; f++)
                if ((f->flags & JSON_FIELD_MANDATORY) && !json_object_get(obj, f->name)) {
                        char sub[256];

                        snprintf(sub, sizeof(sub), "%s%s%s", isempty(path) ? "" : path, isempty(path) ? "" : ".", f->name);
                        return fail(err, sub, "missing mandatory key");
                }
        return 0;
}

static bool has_bounds(const JsonField *f) {
        return f->min != 0 || f->max != 0;
}

int json_dispatch_duration(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        char a[FORMAT_DURATION_MAX], b[FORMAT_DURATION_MAX];
        usec_t u;

        if (!json_is_string(v))
                return fail(err, path, "expected a duration string such as \"10s\" or \"500ms\", got %s",
                            type_name(v));
        if (parse_duration_usec(json_string_value(v), &u) < 0)
                return fail(err, path, "expected a duration such as \"10s\", \"500ms\" or \"2min\", got \"%s\"",
                            json_string_value(v));
        if (has_bounds(f) && (u < (usec_t) f->min || u > (usec_t) f->max))
                return fail(err, path, "duration \"%s\" out of range, expected %s to %s", json_string_value(v),
                            format_duration(a, sizeof(a), (usec_t) f->min),
                            format_duration(b, sizeof(b), (usec_t) f->max));
        *(usec_t *) dst = u;
        return 0;
}

int json_dispatch_uint64(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        json_int_t i;

        if (!json_is_integer(v))
                return fail(err, path, "expected a non-negative integer, got %s", type_name(v));
        i = json_integer_value(v);
        if (i < 0)
                return fail(err, path, "expected a non-negative integer, got %" JSON_INTEGER_FORMAT, i);
        if (has_bounds(f) && (i < f->min || i > f->max))
                return fail(err, path, "%" JSON_INTEGER_FORMAT " out of range, expected %" PRIi64 " to %" PRIi64,
                            i, f->min, f->max);
        *(uint64_t *) dst = (uint64_t) i;
        return 0;
}

int json_dispatch_bool(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        if (!json_is_boolean(v))
                return fail(err, path, "expected true or false, got %s", type_name(v));
        *(bool *) dst = json_is_true(v);
        return 0;
}

int json_dispatch_enum(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        char known[256] = "";
        size_t len = 0;

        if (json_is_string(v))
                for (int i = 0; f->choices[i]; i++)
                        if (streq(f->choices[i], json_string_value(v))) {
                                *(int *) dst = i;
                                return 0;
                        }
        for (int i = 0; f->choices[i] && len < sizeof(known); i++)
                len += (size_t) snprintf(known + len, sizeof(known) - len, "%s\"%s\"", i ? ", " : "", f->choices[i]);
        if (!json_is_string(v))
                return fail(err, path, "expected one of %s, got %s", known, type_name(v));
        return fail(err, path, "expected one of %s, got \"%s\"", known, json_string_value(v));
}

/* Characters (UTF-8 code points) of a string jansson has already checked to be valid UTF-8. */
static size_t utf8_length(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        n++;
        return n;
}

int json_dispatch_string(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        char *s;

        if (!json_is_string(v))
                return fail(err, path, "expected a string, got %s", type_name(v));
        if (has_bounds(f)) {
                size_t n = utf8_length(json_string_value(v));

                if ((int64_t) n < f->min || (int64_t) n > f->max) {
                        if (f->min <= 0)
                                return fail(err, path, "expected at most %" PRIi64 " characters, got %zu",
                                            f->max, n);
                        return fail(err, path, "expected %" PRIi64 " to %" PRIi64 " characters, got %zu",
                                    f->min, f->max, n);
                }
        }
        s = strdup(json_string_value(v));
        if (!s)
                return fail(err, path, "out of memory");
        free(*(char **) dst);
        *(char **) dst = s;
        return 0;
}

int json_dispatch_int(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        int64_t min = has_bounds(f) ? MAX(f->min, (int64_t) INT_MIN) : INT_MIN;
        int64_t max = has_bounds(f) ? MIN(f->max, (int64_t) INT_MAX) : INT_MAX;
        json_int_t i;

        if (!json_is_integer(v))
                return fail(err, path, "expected an integer from %" PRIi64 " to %" PRIi64 ", got %s",
                            min, max, type_name(v));
        i = json_integer_value(v);
        if (i < min || i > max)
                return fail(err, path, "expected an integer from %" PRIi64 " to %" PRIi64 ", got %" JSON_INTEGER_FORMAT,
                            min, max, i);
        *(int *) dst = (int) i;
        return 0;
}

/* "1024T", "64M", "1536K", "100": the largest unit that divides exactly, as parse_size() reads it. */
static const char *format_size_exact(char *buf, size_t size, uint64_t v) {
        static const char suffixes[] = "KMGT";
        int i = -1;

        while (i < 3 && v != 0 && v % 1024 == 0) {
                v /= 1024;
                i++;
        }
        if (i < 0)
                snprintf(buf, size, "%" PRIu64, v);
        else
                snprintf(buf, size, "%" PRIu64 "%c", v, suffixes[i]);
        return buf;
}

int json_dispatch_size(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        char a[32], b[32], shown[64];
        uint64_t u;

        if (json_is_integer(v)) {
                if (json_integer_value(v) < 0)
                        return fail(err, path, "expected a non-negative size, got %" JSON_INTEGER_FORMAT,
                                    json_integer_value(v));
                u = (uint64_t) json_integer_value(v);
                snprintf(shown, sizeof(shown), "%" PRIu64, u);
        } else if (json_is_string(v)) {
                int r = parse_size(json_string_value(v), &u);

                if (r == -ERANGE && !has_bounds(f))
                        return fail(err, path, "size \"%s\" too large, expected less than 2^64 bytes",
                                    json_string_value(v));
                if (r == -ERANGE)
                        u = UINT64_MAX;         /* above any bound: reported below */
                else if (r < 0)
                        return fail(err, path, "expected a size such as \"64M\" (K, M, G, T: powers of 1024) "
                                    "or an integer number of bytes, got \"%s\"", json_string_value(v));
                snprintf(shown, sizeof(shown), "\"%.40s\"", json_string_value(v));
        } else
                return fail(err, path, "expected a size such as \"64M\" (K, M, G, T: powers of 1024) "
                            "or an integer number of bytes, got %s", type_name(v));

        if (has_bounds(f) && (u < (uint64_t) f->min || u > (uint64_t) f->max)) {
                if (f->min == 0)
                        return fail(err, path, "size %s out of range, expected at most %s", shown,
                                    format_size_exact(b, sizeof(b), (uint64_t) f->max));
                return fail(err, path, "size %s out of range, expected %s to %s", shown,
                            format_size_exact(a, sizeof(a), (uint64_t) f->min),
                            format_size_exact(b, sizeof(b), (uint64_t) f->max));
        }
        *(uint64_t *) dst = u;
        return 0;
}

char **json_strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

int json_dispatch_strv(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        char **l = NULL;
        size_t n, i;
        json_t *e;

        if (!json_is_array(v))
                return fail(err, path, "expected an array of strings, got %s", type_name(v));
        n = json_array_size(v);
        if (has_bounds(f) && (int64_t) n < f->min) {
                if (f->min == 1)
                        return fail(err, path, "expected a non-empty array of strings, got an empty array");
                return fail(err, path, "expected at least %" PRIi64 " entries, got %zu", f->min, n);
        }
        if (has_bounds(f) && (int64_t) n > f->max)
                return fail(err, path, "expected at most %" PRIi64 " entries, got %zu", f->max, n);

        l = new0(char *, n + 1);
        if (!l)
                return fail(err, path, "out of memory");

        json_array_foreach(v, i, e) {
                char sub[256], reason[384];

                snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
                if (!json_is_string(e)) {
                        json_strv_free(l);
                        return fail(err, sub, "expected a string, got %s", type_name(e));
                }
                if (isempty(json_string_value(e))) {
                        json_strv_free(l);
                        return fail(err, sub, "expected a non-empty string");
                }
                if (f->validate && f->validate(json_string_value(e), reason, sizeof(reason)) < 0) {
                        json_strv_free(l);
                        return fail(err, sub, "%s", reason);
                }
                l[i] = strdup(json_string_value(e));
                if (!l[i]) {
                        json_strv_free(l);
                        return fail(err, sub, "out of memory");
                }
        }

        json_strv_free(*(char ***) dst);
        *(char ***) dst = l;
        return 0;
}

static int loaded(json_t *j, const json_error_t *jerr, const char *name, json_t **ret, JsonError *err) {
        if (!j) {
                if (err) {
                        *err = (JsonError) { .line = jerr->line > 0 ? jerr->line : 1,
                                             .column = jerr->column > 0 ? jerr->column : 1 };
                        snprintf(err->file, sizeof(err->file), "%s", name);
                        snprintf(err->message, sizeof(err->message), "%s", jerr->text);
                }
                return -EINVAL;
        }
        if (!json_is_object(j)) {
                if (err) {
                        *err = (JsonError) {};
                        snprintf(err->file, sizeof(err->file), "%s", name);
                        snprintf(err->message, sizeof(err->message), "expected a JSON object at the top level, got %s",
                                 type_name(j));
                }
                json_decref(j);
                return -EINVAL;
        }
        *ret = j;
        return 0;
}

int json_load_string_strict(const char *text, const char *name, json_t **ret, JsonError *err) {
        json_error_t jerr = {};
        json_t *j;

        j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        return loaded(j, &jerr, name, ret, err);
}

int json_load_buffer_strict(const void *buf, size_t size, const char *name, json_t **ret, JsonError *err) {
        json_error_t jerr = {};
        json_t *j;

        j = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &jerr);
        return loaded(j, &jerr, name, ret, err);
}

int json_load_file_strict(const char *filename, json_t **ret, JsonError *err) {
        _cleanup_close_ int fd = -EBADF;
        json_error_t jerr = {};
        json_t *j;

        fd = open(filename, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
        return loaded(j, &jerr, filename, ret, err);
}
