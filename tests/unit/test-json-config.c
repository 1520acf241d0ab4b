/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-json-config.c - strict JSON loading, table-driven dispatch with JSON paths, error formatting
 * and the daemon's configuration (from strings, fixture files and the shipped conf/ file).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "daemon-config.h"
#include "fixture.h"
#include "json-util.h"
#include "macro.h"

/* A config preset to values that differ from every default, to prove errors leave it alone. */
static const DaemonConfig preset = { .sample_interval_usec = 12345, .log_level = LOG_WARNING };

static void assert_untouched(const DaemonConfig *c) {
        assert_true(c->sample_interval_usec == preset.sample_interval_usec);
        assert_int_equal(c->log_level, preset.log_level);
}

/* Parses @text into a preset config; expects failure; returns the error. */
static JsonError parse_fail(const char *text) {
        DaemonConfig c = preset;
        JsonError err = {};

        assert_int_equal(daemon_config_parse_string(text, "test.json", &c, &err), -EINVAL);
        assert_untouched(&c);
        assert_string_equal(err.file, "test.json");
        return err;
}

static void assert_semantic(const JsonError *e, const char *path, const char *message) {
        assert_int_equal(e->line, 0);
        assert_int_equal(e->column, 0);
        assert_string_equal(e->path, path);
        assert_string_equal(e->message, message);
}

/* Daemon config from strings */

static void test_daemon_config_defaults(void **state) {
        DaemonConfig c;

        daemon_config_init(&c);
        assert_true(c.sample_interval_usec == SAMPLE_INTERVAL_DEFAULT);
        assert_true(c.sample_interval_usec == 10 * USEC_PER_SEC);
        assert_int_equal(c.log_level, LOG_INFO);
        assert_true(c.rescan_interval_usec == RESCAN_INTERVAL_AUTO);     /* resolved by the manager */
        daemon_config_done(&c);
        assert_int_equal(c.sample_interval_usec, 0);
}

static void test_daemon_config_rescan_interval(void **state) {
        DaemonConfig c = preset;
        JsonError err = {};

        assert_int_equal(daemon_config_parse_string("{\"rescan_interval\": \"auto\"}", "t", &c, &err), 0);
        assert_true(c.rescan_interval_usec == RESCAN_INTERVAL_AUTO);
        assert_int_equal(daemon_config_parse_string("{\"rescan_interval\": \"7s\"}", "t", &c, &err), 0);
        assert_true(c.rescan_interval_usec == 7 * USEC_PER_SEC);
        /* "0" is not "auto": below the minimum */
        assert_int_equal(daemon_config_parse_string("{\"rescan_interval\": \"0\"}", "t", &c, &err), -EINVAL);
        assert_string_equal(err.path, "rescan_interval");
        assert_int_equal(daemon_config_parse_string("{\"rescan_interval\": \"Auto\"}", "t", &c, &err), -EINVAL);
        assert_string_equal(err.path, "rescan_interval");
        daemon_config_done(&c);
}

static void test_daemon_config_parse_valid(void **state) {
        DaemonConfig c = preset;
        JsonError err = {};

        assert_int_equal(daemon_config_parse_string("{\"sample_interval\": \"30s\", \"log_level\": \"debug\"}",
                                                    "t", &c, &err), 0);
        assert_true(c.sample_interval_usec == 30 * USEC_PER_SEC);
        assert_int_equal(c.log_level, LOG_DEBUG);

        /* every key is optional: missing ones get their defaults, not the previous values */
        daemon_config_done(&c);
        c = preset;
        assert_int_equal(daemon_config_parse_string("{\"log_level\": \"err\"}", "t", &c, &err), 0);
        assert_true(c.sample_interval_usec == SAMPLE_INTERVAL_DEFAULT);
        assert_int_equal(c.log_level, LOG_ERR);

        daemon_config_done(&c);
        c = preset;
        assert_int_equal(daemon_config_parse_string("{}", "t", &c, &err), 0);
        assert_true(c.sample_interval_usec == SAMPLE_INTERVAL_DEFAULT);
        assert_int_equal(c.log_level, LOG_INFO);

        /* the bounds are inclusive */
        assert_int_equal(daemon_config_parse_string("{\"sample_interval\": \"100ms\"}", "t", &c, &err), 0);
        assert_true(c.sample_interval_usec == SAMPLE_INTERVAL_MIN);
        assert_int_equal(daemon_config_parse_string("{\"sample_interval\": \"1h\"}", "t", &c, &err), 0);
        assert_true(c.sample_interval_usec == SAMPLE_INTERVAL_MAX);
        assert_int_equal(daemon_config_parse_string("{\"sample_interval\": \"1min 30s\"}", "t", &c, &err), 0);
        assert_true(c.sample_interval_usec == 90 * USEC_PER_SEC);

        /* every log level name, in syslog order */
        static const char *const levels[] = {
                "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
        };
        for (size_t i = 0; i < ELEMENTSOF(levels); i++) {
                _cleanup_free_ char *text = NULL;

                assert_true(asprintf(&text, "{\"log_level\": \"%s\"}", levels[i]) >= 0);
                assert_int_equal(daemon_config_parse_string(text, "t", &c, &err), 0);
                assert_int_equal(c.log_level, (int) i);
        }
        daemon_config_done(&c);
}

static void test_daemon_config_parse_not_json(void **state) {
        JsonError e;

        e = parse_fail("{\"sample_interval\": \"10s\",\n  \"log_level\" \"info\"}");
        assert_int_equal(e.line, 2);
        assert_int_equal(e.column, 20);
        assert_string_equal(e.message, "':' expected near '\"info\"'");

        e = parse_fail("{\n\n   \"sample_interval\": tru }");
        assert_int_equal(e.line, 3);
        assert_true(e.column > 0);
        assert_string_equal(e.message, "invalid token near 'tru'");

        e = parse_fail("{\"log_level\": \"info\",}");
        assert_int_equal(e.line, 1);
        assert_true(e.column > 0);
        assert_string_equal(e.message, "string or '}' expected near '}'");

        /* empty input: still a position (1:1), never 0:0 */
        e = parse_fail("");
        assert_int_equal(e.line, 1);
        assert_int_equal(e.column, 1);
        assert_string_equal(e.message, "'[' or '{' expected near end of file");

        /* one top-level value only */
        e = parse_fail("{} {}");
        assert_int_equal(e.line, 1);
        assert_int_equal(e.column, 4);
        assert_string_equal(e.message, "end of file expected near '{'");
}

static void test_daemon_config_parse_duplicate_key(void **state) {
        JsonError e = parse_fail("{\"log_level\": \"info\", \"log_level\": \"debug\"}");

        assert_int_equal(e.line, 1);
        assert_true(e.column > 0);
        assert_string_equal(e.message, "duplicate object key near '\"log_level\"'");
}

static void test_daemon_config_parse_not_object(void **state) {
        JsonError e = parse_fail("[\"sample_interval\"]");

        assert_semantic(&e, "", "expected a JSON object at the top level, got an array");
}

static void test_daemon_config_parse_unknown_key(void **state) {
        JsonError e = parse_fail("{\"sample_interval\": \"10s\", \"sample_intervall\": \"10s\"}");

        assert_semantic(&e, "sample_intervall", "unknown key (known keys: sample_interval, log_level, rescan_interval, merge_backend, control_socket, max_tracked, merge_attempts, tuner, metrics_file, statistics)");
}

static void test_daemon_config_parse_wrong_type(void **state) {
        JsonError e;

        e = parse_fail("{\"sample_interval\": 10}");
        assert_semantic(&e, "sample_interval",
                        "expected a duration string such as \"10s\" or \"500ms\", got an integer");
        e = parse_fail("{\"sample_interval\": 1.5}");
        assert_semantic(&e, "sample_interval",
                        "expected a duration string such as \"10s\" or \"500ms\", got a number with a fraction");
        e = parse_fail("{\"sample_interval\": null}");
        assert_semantic(&e, "sample_interval",
                        "expected a duration string such as \"10s\" or \"500ms\", got null");
        e = parse_fail("{\"sample_interval\": [\"10s\"]}");
        assert_semantic(&e, "sample_interval",
                        "expected a duration string such as \"10s\" or \"500ms\", got an array");
        e = parse_fail("{\"log_level\": 7}");
        assert_semantic(&e, "log_level",
                        "expected one of \"emerg\", \"alert\", \"crit\", \"err\", \"warning\", \"notice\", "
                        "\"info\", \"debug\", got an integer");
        e = parse_fail("{\"log_level\": true}");
        assert_semantic(&e, "log_level",
                        "expected one of \"emerg\", \"alert\", \"crit\", \"err\", \"warning\", \"notice\", "
                        "\"info\", \"debug\", got a boolean");
}

static void test_daemon_config_parse_bad_duration(void **state) {
        JsonError e;

        e = parse_fail("{\"sample_interval\": \"ten seconds\"}");
        assert_semantic(&e, "sample_interval",
                        "expected a duration such as \"10s\", \"500ms\" or \"2min\", got \"ten seconds\"");
        e = parse_fail("{\"sample_interval\": \"\"}");
        assert_semantic(&e, "sample_interval",
                        "expected a duration such as \"10s\", \"500ms\" or \"2min\", got \"\"");
        e = parse_fail("{\"sample_interval\": \"-1s\"}");
        assert_semantic(&e, "sample_interval",
                        "expected a duration such as \"10s\", \"500ms\" or \"2min\", got \"-1s\"");
}

static void test_daemon_config_parse_duration_range(void **state) {
        JsonError e;

        e = parse_fail("{\"sample_interval\": \"99ms\"}");
        assert_semantic(&e, "sample_interval", "duration \"99ms\" out of range, expected 100ms to 60min");
        e = parse_fail("{\"sample_interval\": \"0\"}");
        assert_semantic(&e, "sample_interval", "duration \"0\" out of range, expected 100ms to 60min");
        e = parse_fail("{\"sample_interval\": \"2h\"}");
        assert_semantic(&e, "sample_interval", "duration \"2h\" out of range, expected 100ms to 60min");
        e = parse_fail("{\"sample_interval\": \"3600001ms\"}");
        assert_semantic(&e, "sample_interval", "duration \"3600001ms\" out of range, expected 100ms to 60min");
}

static void test_daemon_config_parse_bad_enum(void **state) {
        JsonError e = parse_fail("{\"log_level\": \"verbose\"}");

        assert_semantic(&e, "log_level",
                        "expected one of \"emerg\", \"alert\", \"crit\", \"err\", \"warning\", \"notice\", "
                        "\"info\", \"debug\", got \"verbose\"");
        /* names are exact: no case folding, no numbers */
        e = parse_fail("{\"log_level\": \"DEBUG\"}");
        assert_string_equal(e.path, "log_level");
        e = parse_fail("{\"log_level\": \"7\"}");
        assert_string_equal(e.path, "log_level");
}

static void test_daemon_config_untouched_after_partial_dispatch(void **state) {
        /* the first key is valid and dispatched before the second fails: nothing may leak out */
        JsonError e = parse_fail("{\"sample_interval\": \"30s\", \"log_level\": \"loud\"}");

        assert_string_equal(e.path, "log_level");
}

/* Daemon config from files */

static void test_daemon_config_load_fixtures(void **state) {
        _cleanup_free_ char *full = fixture_path("config/valid/full.json");
        _cleanup_free_ char *empty = fixture_path("config/valid/empty.json");
        _cleanup_free_ char *partial = fixture_path("config/valid/partial.json");
        DaemonConfig c = preset;
        JsonError err = {};

        assert_int_equal(daemon_config_load(full, &c, &err), 0);
        assert_true(c.sample_interval_usec == 90 * USEC_PER_SEC);
        assert_int_equal(c.log_level, LOG_DEBUG);

        daemon_config_done(&c);
        c = preset;
        assert_int_equal(daemon_config_load(empty, &c, &err), 0);
        assert_true(c.sample_interval_usec == SAMPLE_INTERVAL_DEFAULT);
        assert_int_equal(c.log_level, LOG_INFO);

        daemon_config_done(&c);
        c = preset;
        assert_int_equal(daemon_config_load(partial, &c, &err), 0);
        assert_true(c.sample_interval_usec == 500 * USEC_PER_MSEC);
        assert_int_equal(c.log_level, LOG_INFO);
        daemon_config_done(&c);
}

static void test_daemon_config_load_shipped(void **state) {
        const char *src = getenv("KSMT_SOURCE_DIR");
        _cleanup_free_ char *path = NULL;
        DaemonConfig c = preset;
        JsonError err = {};

        if (isempty(src))
                skip();
        assert_true(asprintf(&path, "%s/conf/ksmtuned-ng.json", src) >= 0);
        /* the shipped file holds every key at its default */
        assert_int_equal(daemon_config_load(path, &c, &err), 0);
        assert_true(c.sample_interval_usec == SAMPLE_INTERVAL_DEFAULT);
        assert_int_equal(c.log_level, LOG_INFO);
        daemon_config_done(&c);
}

static JsonError load_fail(const char *rel, int expected) {
        _cleanup_free_ char *path = fixture_path(rel);
        DaemonConfig c = preset;
        JsonError err = {};

        assert_int_equal(daemon_config_load(path, &c, &err), expected);
        assert_untouched(&c);
        assert_string_equal(err.file, path);
        return err;
        daemon_config_done(&c);
}

static void test_daemon_config_load_invalid(void **state) {
        JsonError e;

        e = load_fail("config/invalid/syntax.json", -EINVAL);
        assert_int_equal(e.line, 3);
        assert_int_equal(e.column, 20);
        assert_string_equal(e.message, "':' expected near '\"info\"'");

        e = load_fail("config/invalid/duplicate.json", -EINVAL);
        assert_int_equal(e.line, 3);
        assert_string_equal(e.message, "duplicate object key near '\"log_level\"'");

        e = load_fail("config/invalid/unknown-key.json", -EINVAL);
        assert_semantic(&e, "sample_intervall", "unknown key (known keys: sample_interval, log_level, rescan_interval, merge_backend, control_socket, max_tracked, merge_attempts, tuner, metrics_file, statistics)");

        e = load_fail("config/invalid/out-of-range.json", -EINVAL);
        assert_semantic(&e, "sample_interval", "duration \"2h\" out of range, expected 100ms to 60min");

        e = load_fail("config/invalid/empty.json", -EINVAL);
        assert_int_equal(e.line, 1);
        assert_int_equal(e.column, 1);

        e = load_fail("config/invalid/array.json", -EINVAL);
        assert_semantic(&e, "", "expected a JSON object at the top level, got an array");

        e = load_fail("config/no-such-file.json", -ENOENT);
        assert_int_equal(e.line, 0);
        assert_string_equal(e.path, "");
        assert_string_equal(e.message, "cannot open: No such file or directory");
}

/* json_error_format() */

static void test_json_error_format_forms(void **state) {
        char buf[1024];
        JsonError e = {
                .file = "ksmtuned-ng.json", .line = 2, .column = 20,
                .message = "':' expected near '\"info\"'",
        };

        assert_string_equal(json_error_format(&e, buf, sizeof(buf)),
                            "ksmtuned-ng.json:2:20: ':' expected near '\"info\"'");

        e = (JsonError) { .file = "ksmtuned-ng.json", .path = "sample_interval", .message = "bad" };
        assert_string_equal(json_error_format(&e, buf, sizeof(buf)), "ksmtuned-ng.json: sample_interval: bad");

        e = (JsonError) {
                .file = "ksmtuned-ng.json",
                .message = "expected a JSON object at the top level, got an array",
        };
        assert_string_equal(json_error_format(&e, buf, sizeof(buf)),
                            "ksmtuned-ng.json: expected a JSON object at the top level, got an array");

        e = (JsonError) { .message = "oops" };
        assert_string_equal(json_error_format(&e, buf, sizeof(buf)), "<input>: oops");

        /* truncated to the buffer, still NUL-terminated */
        e = (JsonError) { .file = "f", .path = "p", .message = "message" };
        assert_string_equal(json_error_format(&e, buf, 8), "f: p: m");
}

static void test_json_error_format_from_parse(void **state) {
        char buf[1024];
        JsonError e;

        e = parse_fail("{\"sample_interval\": \"2h\"}");
        assert_string_equal(json_error_format(&e, buf, sizeof(buf)),
                            "test.json: sample_interval: duration \"2h\" out of range, expected 100ms to 60min");
        e = parse_fail("{\"log_level\": \"info\", \"log_level\": \"debug\"}");
        assert_string_equal(json_error_format(&e, buf, sizeof(buf)),
                            "test.json:1:33: duplicate object key near '\"log_level\"'");
}

/* Generic dispatch with a table of every field type */

typedef struct Sample {
        uint64_t count;
        bool enabled;
        char *name;
        usec_t interval;
        int color;
        uint64_t nested;
} Sample;

static const char *const colors[] = { "red", "green", "blue", NULL };

static const JsonField inner_table[] = {
        { "value", json_dispatch_uint64, 0, JSON_FIELD_MANDATORY },
        {}
};

static int dispatch_inner(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        return json_dispatch(v, path, inner_table, dst, err);
}

static const JsonField sample_table[] = {
        { "count", json_dispatch_uint64, offsetof(Sample, count), JSON_FIELD_MANDATORY, .min = 1, .max = 10 },
        { "enabled", json_dispatch_bool, offsetof(Sample, enabled), 0 },
        { "name", json_dispatch_string, offsetof(Sample, name), 0 },
        { "interval", json_dispatch_duration, offsetof(Sample, interval), 0 },
        { "color", json_dispatch_enum, offsetof(Sample, color), 0, .choices = colors },
        { "inner", dispatch_inner, offsetof(Sample, nested), 0 },
        {}
};

static int dispatch_sample(const char *text, Sample *s, JsonError *err) {
        json_t *j = NULL;
        int r;

        r = json_load_string_strict(text, "sample", &j, err);
        if (r < 0)
                return r;
        r = json_dispatch(j, "", sample_table, s, err);
        json_decref(j);
        return r;
}

static void test_json_dispatch_all_types(void **state) {
        Sample s = {};
        JsonError err = {};

        assert_int_equal(dispatch_sample("{\"count\": 10, \"enabled\": true, \"name\": \"x\", \"interval\": \"2min\","
                                         " \"color\": \"blue\", \"inner\": {\"value\": 42}}", &s, &err), 0);
        assert_int_equal(s.count, 10);
        assert_true(s.enabled);
        assert_string_equal(s.name, "x");
        assert_true(s.interval == 2 * USEC_PER_MINUTE);
        assert_int_equal(s.color, 2);
        assert_int_equal(s.nested, 42);

        /* a string replaces (and frees) the previous one */
        assert_int_equal(dispatch_sample("{\"count\": 1, \"name\": \"y\"}", &s, &err), 0);
        assert_string_equal(s.name, "y");
        free(s.name);
}

static void test_json_dispatch_errors(void **state) {
        static const struct {
                const char *text;
                const char *path;
                const char *message;
        } cases[] = {
                { "{}", "count", "missing mandatory key" },
                { "{\"count\": 0}", "count", "0 out of range, expected 1 to 10" },
                { "{\"count\": 11}", "count", "11 out of range, expected 1 to 10" },
                { "{\"count\": -1}", "count", "expected a non-negative integer, got -1" },
                { "{\"count\": 1.0}", "count",
                  "expected a non-negative integer, got a number with a fraction" },
                { "{\"count\": \"5\"}", "count", "expected a non-negative integer, got a string" },
                { "{\"count\": 1, \"enabled\": 1}", "enabled", "expected true or false, got an integer" },
                { "{\"count\": 1, \"name\": false}", "name", "expected a string, got a boolean" },
                { "{\"count\": 1, \"color\": \"pink\"}", "color",
                  "expected one of \"red\", \"green\", \"blue\", got \"pink\"" },
                { "{\"count\": 1, \"inner\": 5}", "inner", "expected an object, got an integer" },
                { "{\"count\": 1, \"inner\": {}}", "inner.value", "missing mandatory key" },
                { "{\"count\": 1, \"inner\": {\"value\": 1, \"extra\": 2}}", "inner.extra",
                  "unknown key (known keys: value)" },
                { "{\"count\": 1, \"inner\": {\"value\": {}}}", "inner.value",
                  "expected a non-negative integer, got an object" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Sample s = {};
                JsonError err = {};

                assert_int_equal(dispatch_sample(cases[i].text, &s, &err), -EINVAL);
                if (!streq(err.path, cases[i].path) || !streq(err.message, cases[i].message))
                        fail_msg("%s: got '%s: %s', expected '%s: %s'", cases[i].text, err.path, err.message,
                                 cases[i].path, cases[i].message);
                assert_int_equal(err.line, 0);
                free(s.name);
        }
}

static void test_json_load_string_strict_errors(void **state) {
        json_t *j = NULL;
        JsonError err = {};

        assert_int_equal(json_load_string_strict("\"str\"", "n", &j, &err), -EINVAL);
        assert_null(j);
        assert_string_equal(err.file, "n");
        assert_int_equal(err.line, 1);
        assert_string_equal(err.message, "'[' or '{' expected near '\"str\"'");

        /* a NULL error pointer is allowed */
        assert_int_equal(json_load_string_strict("{", "n", &j, NULL), -EINVAL);
        assert_int_equal(json_load_string_strict("[]", "n", &j, NULL), -EINVAL);
        assert_null(j);

        assert_int_equal(json_load_string_strict("{\"a\": 1}", "n", &j, &err), 0);
        assert_true(json_is_object(j));
        json_decref(j);
}

/* The "tuner" object: values parsed into the TunerConfig, and bad ones rejected with their path. */
static void test_daemon_config_tuner(void **state) {
        static const struct {
                const char *json, *path, *message;
        } bad[] = {
                { "{\"tuner\": {\"mode\": \"turbo\"}}", "tuner.mode",
                  "expected one of \"adaptive\", \"ksmtuned\", \"advisor\", \"static\", \"off\", got \"turbo\"" },
                { "{\"tuner\": {\"cpu_budget\": 0}}", "tuner.cpu_budget", "0 out of range, expected 1 to 100 (percent)" },
                { "{\"tuner\": {\"cpu_budget\": \"50%\"}}", "tuner.cpu_budget",
                  "expected a percentage from 1 to 100, got a string" },
                { "{\"tuner\": {\"sprint_pages_to_scan\": 0}}", "tuner.sprint_pages_to_scan",
                  "0 out of range, expected 1 to 4294967295" },
                { "{\"tuner\": {\"at_exit\": \"panic\"}}", "tuner.at_exit",
                  "expected one of \"restore\", \"keep\", \"stop\", got \"panic\"" },
                { "{\"tuner\": {\"use_zero_pages\": 1}}", "tuner.use_zero_pages",
                  "expected true, false or null (leave the knob alone), got an integer" },
                { "{\"tuner\": {\"max_page_sharing\": 1}}", "tuner.max_page_sharing",
                  "1 out of range, expected 2 to 2147483647" },
                { "{\"tuner\": {\"max_page_sharing\": 1024, \"max_page_sharing_max\": 512}}", "tuner.max_page_sharing_max",
                  "must not be below tuner.max_page_sharing (1024)" },
                { "{\"tuner\": {\"fragmentation_pages\": 0}}", "tuner.fragmentation_pages",
                  "0 out of range, expected 1 to 1099511627776" },
                { "{\"tuner\": {\"advisor_min_pages_to_scan\": 900, \"advisor_max_pages_to_scan\": 800}}",
                  "tuner.advisor_min_pages_to_scan", "must not exceed tuner.advisor_max_pages_to_scan (800)" },
                { "{\"tuner\": {\"pressure_only\": true}}", "tuner.pressure_only",
                  "needs tuner.mem_available_below and/or tuner.psi_some_above" },
                { "{\"tuner\": {\"ksmtuned_conf\": \"/nonexistent/ksmtuned.conf\"}}", "tuner.ksmtuned_conf",
                  "cannot read '/nonexistent/ksmtuned.conf': No such file or directory" },
                { "{\"tuner\": {\"pace\": 1}}", "tuner.pace", NULL },
                { "{\"tuner\": 5}", "tuner", "expected an object, got an integer" },
        };
        DaemonConfig c;
        JsonError err = {};

        daemon_config_init(&c);
        assert_int_equal(c.tuner.mode, TUNER_MODE_ADAPTIVE);
        assert_int_equal(c.at_exit, DAEMON_AT_EXIT_RESTORE);
        assert_int_equal(daemon_config_parse_string(
                "{\"tuner\": {\"mode\": \"static\", \"interval\": \"250ms\", \"at_exit\": \"stop\", "
                "\"cpu_budget\": 12.5, \"sprint_trigger\": \"1G\", \"maintain_sleep\": \"2s\", "
                "\"use_zero_pages\": true, \"smart_scan\": null, \"max_page_sharing\": 512, \"max_page_sharing_max\": 4096, "
                "\"fragmentation_pages\": 2048, \"cpu_budget_burst\": \"0\", "
                "\"advisor_target_scan_time\": \"5min\", \"static_sleep\": \"50ms\"}}", "t", &c, &err), 0);
        assert_int_equal(c.tuner.mode, TUNER_MODE_STATIC);
        assert_true(c.tuner_interval_usec == 250 * USEC_PER_MSEC);
        assert_int_equal(c.at_exit, DAEMON_AT_EXIT_STOP);
        assert_int_equal(c.tuner.cpu_budget_pmy, 1250);
        assert_true(c.tuner.sprint_trigger_bytes == 1ULL << 30);
        assert_true(c.tuner.maintain_sleep_msec == 2000);
        assert_true(c.tuner.use_zero_pages == 1 && c.tuner.smart_scan == -1 && c.tuner.max_page_sharing == 512);
        assert_true(c.tuner.max_page_sharing_max == 4096 && c.tuner.fragmentation_pages == 2048);
        assert_true(c.tuner.cpu_budget_burst_usec == 0);
        assert_true(c.tuner.advisor_target_scan_time_sec == 300);
        assert_true(c.tuner.static_sleep_msec == 50);
        daemon_config_done(&c);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                JsonError e = parse_fail(bad[i].json);

                assert_string_equal(e.path, bad[i].path);
                if (bad[i].message)
                        assert_string_equal(e.message, bad[i].message);
                else
                        assert_non_null(strstr(e.message, "unknown key"));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_daemon_config_defaults),
                cmocka_unit_test(test_daemon_config_rescan_interval),
                cmocka_unit_test(test_daemon_config_parse_valid),
                cmocka_unit_test(test_daemon_config_tuner),
                cmocka_unit_test(test_daemon_config_parse_not_json),
                cmocka_unit_test(test_daemon_config_parse_duplicate_key),
                cmocka_unit_test(test_daemon_config_parse_not_object),
                cmocka_unit_test(test_daemon_config_parse_unknown_key),
                cmocka_unit_test(test_daemon_config_parse_wrong_type),
                cmocka_unit_test(test_daemon_config_parse_bad_duration),
                cmocka_unit_test(test_daemon_config_parse_duration_range),
                cmocka_unit_test(test_daemon_config_parse_bad_enum),
                cmocka_unit_test(test_daemon_config_untouched_after_partial_dispatch),
                cmocka_unit_test(test_daemon_config_load_fixtures),
                cmocka_unit_test(test_daemon_config_load_shipped),
                cmocka_unit_test(test_daemon_config_load_invalid),
                cmocka_unit_test(test_json_error_format_forms),
                cmocka_unit_test(test_json_error_format_from_parse),
                cmocka_unit_test(test_json_dispatch_all_types),
                cmocka_unit_test(test_json_dispatch_errors),
                cmocka_unit_test(test_json_load_string_strict_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
