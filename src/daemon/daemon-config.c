/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon-config.c - the daemon's settings file.  Keys grow with features; each is one row of
 * `config_table` below, which is also what ksmtuned-ng.conf(5) documents.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon-config.h"
#include "fileio.h"
#include "macro.h"
#include "metrics.h"

static const char *const log_level_choices[] = {
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", NULL,
};

static const char *const backend_choices[] = { "auto", "inject", "madvise", "none", NULL };
static const char *const tuner_mode_choices[] = { "adaptive", "ksmtuned", "advisor", "static", "off", NULL };
static const char *const at_exit_choices[] = { "restore", "keep", "stop", NULL };
static const char *const statistics_choices[] = { "auto", "bpf", "ksm_stat", NULL };

/* "50" or 12.5 (percent) -> permyriad. */
static int dispatch_percent_pmy(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        double d;

        if (!json_is_number(v))
                return json_error_set(err, path, "expected a percentage from %" PRIi64 " to %" PRIi64 ", got %s",
                                      f->min, f->max, json_type_name(v));
        d = json_number_value(v);
        if (!(d >= (double) f->min && d <= (double) f->max))
                return json_error_set(err, path, "%g out of range, expected %" PRIi64 " to %" PRIi64 " (percent)",
                                      d, f->min, f->max);
        *(uint32_t *) dst = (uint32_t) (d * 100.0 + 0.5);
        return 0;
}

/* A duration string stored as a count of @unit (a fraction of it is dropped). */
static int dispatch_duration_in(const JsonField *f, const char *path, json_t *v, void *dst, usec_t unit, JsonError *err) {
        usec_t u = 0;
        int r;

        r = json_dispatch_duration(f, path, v, &u, err);
        if (r < 0)
                return r;
        *(uint64_t *) dst = u / unit;
        return 0;
}

/* milliseconds as a duration string ("10ms", "1s") for the sleep knobs. */
static int dispatch_msec(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        return dispatch_duration_in(f, path, v, dst, USEC_PER_MSEC, err);
}

/* whole seconds as a duration string ("200s", "5min"). */
static int dispatch_sec(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        return dispatch_duration_in(f, path, v, dst, USEC_PER_SEC, err);
}

/* true/false -> 1/0 for a knob the tuner owns ("null" or absent: leave it alone, -1). */
static int dispatch_knob_bool(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        if (json_is_null(v)) {
                *(int64_t *) dst = -1;
                return 0;
        }
        if (!json_is_boolean(v))
                return json_error_set(err, path, "expected true, false or null (leave the knob alone), got %s",
                                      json_type_name(v));
        *(int64_t *) dst = json_is_true(v);
        return 0;
}

static int dispatch_knob_int(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        uint64_t u = 0;
        int r;

        if (json_is_null(v)) {
                *(int64_t *) dst = -1;
                return 0;
        }
        r = json_dispatch_uint64(f, path, v, &u, err);
        if (r < 0)
                return r;
        *(int64_t *) dst = (int64_t) u;
        return 0;
}

#define TF(name, fn, field, ...) { name, fn, offsetof(DaemonConfig, tuner) + offsetof(TunerConfig, field), 0, __VA_ARGS__ }

static const JsonField tuner_table[] = {
        { "mode", json_dispatch_enum, offsetof(DaemonConfig, tuner.mode), 0, .choices = tuner_mode_choices },
        { "interval", json_dispatch_duration, offsetof(DaemonConfig, tuner_interval_usec), 0,
          .min = (int64_t) (100 * USEC_PER_MSEC), .max = (int64_t) USEC_PER_MINUTE },
        { "at_exit", json_dispatch_enum, offsetof(DaemonConfig, at_exit), 0, .choices = at_exit_choices },
        TF("sprint_pages_to_scan", json_dispatch_uint64, sprint_pages_to_scan, .min = 1, .max = UINT32_MAX),
        TF("sprint_sleep", dispatch_msec, sprint_sleep_msec, .min = 0, .max = (int64_t) USEC_PER_MINUTE),
        TF("maintain_pages_to_scan", json_dispatch_uint64, maintain_pages_to_scan, .min = 1, .max = UINT32_MAX),
        TF("maintain_sleep", dispatch_msec, maintain_sleep_msec, .min = 0, .max = (int64_t) USEC_PER_MINUTE),
        TF("min_pages_to_scan", json_dispatch_uint64, min_pages_to_scan, .min = 1, .max = UINT32_MAX),
        TF("cpu_budget", dispatch_percent_pmy, cpu_budget_pmy, .min = 1, .max = 100),
        TF("cpu_budget_burst", json_dispatch_duration, cpu_budget_burst_usec, .min = 0, .max = (int64_t) USEC_PER_HOUR),
        TF("sprint_trigger", json_dispatch_size, sprint_trigger_bytes, .min = 1, .max = 1LL << 50),
        TF("idle_scans", json_dispatch_uint64, idle_scans, .min = 1, .max = 100),
        TF("min_yield_pages", json_dispatch_uint64, min_yield_pages, .min = 1, .max = 1LL << 32),
        TF("pressure_only", json_dispatch_bool, pressure_only),
        TF("mem_available_below", dispatch_percent_pmy, mem_available_below_pmy, .min = 0, .max = 100),
        TF("psi_some_above", dispatch_percent_pmy, psi_some_above_pmy, .min = 0, .max = 100),
        TF("stop_when_unpressured", json_dispatch_bool, stop_when_unpressured),
        TF("hold_off", json_dispatch_duration, hold_off_usec, .min = 0, .max = (int64_t) USEC_PER_HOUR),
        TF("advisor_target_scan_time", dispatch_sec, advisor_target_scan_time_sec, .min = (int64_t) USEC_PER_SEC,
           .max = (int64_t) (24 * USEC_PER_HOUR)),
        TF("advisor_max_cpu", json_dispatch_uint64, advisor_max_cpu, .min = 1, .max = 100),
        TF("advisor_min_pages_to_scan", json_dispatch_uint64, advisor_min_pages_to_scan, .min = 1, .max = UINT32_MAX),
        TF("advisor_max_pages_to_scan", json_dispatch_uint64, advisor_max_pages_to_scan, .min = 1, .max = UINT32_MAX),
        TF("use_zero_pages", dispatch_knob_bool, use_zero_pages),
        TF("smart_scan", dispatch_knob_bool, smart_scan),
        TF("max_page_sharing", dispatch_knob_int, max_page_sharing, .min = 2, .max = INT32_MAX),
        TF("max_page_sharing_max", dispatch_knob_int, max_page_sharing_max, .min = 2, .max = INT32_MAX),
        TF("fragmentation_pages", json_dispatch_uint64, fragmentation_pages, .min = 1, .max = 1LL << 40),
        TF("merge_across_nodes", dispatch_knob_bool, merge_across_nodes),
        TF("unmerge_to_change", json_dispatch_bool, unmerge_to_change),
        TF("static_run", json_dispatch_uint64, static_run, .min = 0, .max = 1),
        TF("static_pages_to_scan", json_dispatch_uint64, static_pages_to_scan, .min = 0, .max = UINT32_MAX),
        TF("static_sleep", dispatch_msec, static_sleep_msec, .min = 0, .max = (int64_t) USEC_PER_MINUTE),
        { "ksmtuned_conf", json_dispatch_string, offsetof(DaemonConfig, ksmtuned_conf), 0 },
        {}
};

static int dispatch_tuner(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        /* dst points at the DaemonConfig (offset 0): the nested table addresses its fields. */
        return json_dispatch(v, path, tuner_table, dst, err);
}

/* An absolute path, or "" / null for none (stored as NULL). */
/* "auto" (RESCAN_INTERVAL_AUTO), or a duration. */
static int dispatch_rescan_interval(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        if (json_is_string(v) && streq(json_string_value(v), "auto")) {
                *(usec_t *) dst = RESCAN_INTERVAL_AUTO;
                return 0;
        }
        return json_dispatch_duration(f, path, v, dst, err);
}

static int dispatch_optional_path(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        char *s = NULL;

        if (!json_is_null(v)) {
                if (!json_is_string(v))
                        return json_error_set(err, path, "expected an absolute path, or \"\" or null for none, got %s",
                                              json_type_name(v));
                if (!isempty(json_string_value(v))) {
                        s = strdup(json_string_value(v));
                        if (!s)
                                return json_error_set(err, path, "out of memory");
                }
        }
        free(*(char **) dst);
        *(char **) dst = s;
        return 0;
}

static const JsonField config_table[] = {
        { "sample_interval", json_dispatch_duration, offsetof(DaemonConfig, sample_interval_usec), 0,
          .min = (int64_t) SAMPLE_INTERVAL_MIN, .max = (int64_t) SAMPLE_INTERVAL_MAX },
        { "log_level", json_dispatch_enum, offsetof(DaemonConfig, log_level), 0, .choices = log_level_choices },
        { "rescan_interval", dispatch_rescan_interval, offsetof(DaemonConfig, rescan_interval_usec), 0,
          .min = (int64_t) (100 * USEC_PER_MSEC), .max = (int64_t) USEC_PER_HOUR },
        { "merge_backend", json_dispatch_enum, offsetof(DaemonConfig, merge_backend), 0, .choices = backend_choices },
        { "control_socket", json_dispatch_string, offsetof(DaemonConfig, control_socket), 0 },
        { "max_tracked", json_dispatch_uint64, offsetof(DaemonConfig, max_tracked), 0, .min = 1, .max = 1000000 },
        { "merge_attempts", json_dispatch_uint64, offsetof(DaemonConfig, merge_attempts), 0, .min = 1, .max = 100 },
        { "tuner", dispatch_tuner, 0, 0 },
        { "metrics_file", dispatch_optional_path, offsetof(DaemonConfig, metrics_file), 0 },
        { "statistics", json_dispatch_enum, offsetof(DaemonConfig, statistics), 0, .choices = statistics_choices },
        {}
};

void daemon_config_init(DaemonConfig *c) {
        *c = (DaemonConfig) {
                .sample_interval_usec = SAMPLE_INTERVAL_DEFAULT,
                .log_level = LOG_INFO,
                .rescan_interval_usec = RESCAN_INTERVAL_AUTO,
                .merge_backend = DAEMON_BACKEND_AUTO,
                .control_socket = strdup(CONTROL_SOCKET_DEFAULT),
                .max_tracked = MAX_TRACKED_DEFAULT,
                .merge_attempts = MERGE_ATTEMPTS_DEFAULT,
                .tuner_interval_usec = USEC_PER_SEC,
                .at_exit = DAEMON_AT_EXIT_RESTORE,
                .metrics_file = strdup(METRICS_FILE_DEFAULT),
        };
        tuner_config_init(&c->tuner);
}

void daemon_config_done(DaemonConfig *c) {
        free(c->control_socket);
        free(c->ksmtuned_conf);
        free(c->metrics_file);
        *c = (DaemonConfig) {};
}

/*
 * metrics_file: absolute, and (unless it is the default) in an existing directory the daemon can
 * write to, so that a typo fails at start-up and on reload rather than at the first sample.  The
 * default applies only where node_exporter's textfile directory exists: the daemon checks that
 * when it writes, and a host without it simply gets no file.
 */
/* Can we create a file in @dir?  access() is not enough: root passes it on sysfs and read-only
 * bind mounts answer only to a real attempt.  O_TMPFILE leaves no trace; where the file system
 * lacks it, a hidden file is created and removed at once. */
static int probe_writable(const char *dir) {
        _cleanup_free_ char *probe = NULL;
        int fd;

        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0) {
                close(fd);
                return 0;
        }
        if (!IN_SET(errno, EOPNOTSUPP, EISDIR, EINVAL))
                return -errno;
        if (asprintf(&probe, "%s/.ksmtuned-ng-probe.%d", dir, (int) getpid()) < 0)
                return -ENOMEM;
        fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        close(fd);
        (void) unlink(probe);
        return 0;
}

static int validate_metrics_file(const char *p, JsonError *err) {
        _cleanup_free_ char *dir = NULL;
        const char *slash;
        struct stat st;
        int r;

        if (!p || streq(p, METRICS_FILE_DEFAULT))
                return 0;
        if (p[0] != '/')
                return json_error_set(err, "metrics_file", "expected an absolute path, or \"\" or null for none, got '%s'", p);
        slash = strrchr(p, '/');
        if (!slash[1])
                return json_error_set(err, "metrics_file", "'%s' names a directory, expected a file", p);
        dir = slash == p ? strdup("/") : strndup(p, (size_t) (slash - p));
        if (!dir)
                return -ENOMEM;
        if (stat(dir, &st) < 0)
                return json_error_set(err, "metrics_file", "cannot use directory '%s': %s", dir, strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return json_error_set(err, "metrics_file", "'%s' is not a directory", dir);
        r = probe_writable(dir);
        if (r < 0)
                return json_error_set(err, "metrics_file", "cannot write to directory '%s': %s", dir, strerror(-r));
        if (stat(p, &st) >= 0 && S_ISDIR(st.st_mode))
                return json_error_set(err, "metrics_file", "'%s' is a directory, expected a file", p);
        return 0;
}

/* Semantic checks across keys, after the table walk. */
static int validate(DaemonConfig *c, JsonError *err) {
        if (!c->control_socket)
                return -ENOMEM;
        if (c->tuner.advisor_min_pages_to_scan > c->tuner.advisor_max_pages_to_scan)
                return json_error_set(err, "tuner.advisor_min_pages_to_scan",
                                      "must not exceed tuner.advisor_max_pages_to_scan (%" PRIu64 ")",
                                      c->tuner.advisor_max_pages_to_scan);
        if (c->tuner.min_pages_to_scan > c->tuner.sprint_pages_to_scan)
                return json_error_set(err, "tuner.min_pages_to_scan", "must not exceed tuner.sprint_pages_to_scan (%" PRIu64 ")",
                                      c->tuner.sprint_pages_to_scan);
        if (c->tuner.max_page_sharing_max >= 2 && c->tuner.max_page_sharing > c->tuner.max_page_sharing_max)
                return json_error_set(err, "tuner.max_page_sharing_max", "must not be below tuner.max_page_sharing (%" PRIi64 ")",
                                      c->tuner.max_page_sharing);
        if (c->tuner.pressure_only && c->tuner.mem_available_below_pmy == 0 && c->tuner.psi_some_above_pmy == 0)
                return json_error_set(err, "tuner.pressure_only",
                                      "needs tuner.mem_available_below and/or tuner.psi_some_above");
        if (c->ksmtuned_conf) {
                _cleanup_free_ char *text = NULL;
                unsigned line = 0;
                char key[64] = "";
                int r;

                r = read_virtual_file_at(AT_FDCWD, c->ksmtuned_conf, 1024 * 1024, &text, NULL);
                if (r < 0)
                        return json_error_set(err, "tuner.ksmtuned_conf", "cannot read '%s': %s", c->ksmtuned_conf,
                                              strerror(-r));
                r = ksmtuned_conf_parse(text, &c->tuner.ksmtuned, &line, key, sizeof(key));
                if (r < 0)
                        return json_error_set(err, "tuner.ksmtuned_conf", "'%s':%u: invalid value for %s",
                                              c->ksmtuned_conf, line, key);
        }
        if (!isempty(c->control_socket) &&
            (c->control_socket[0] != '/' || strlen(c->control_socket) >= 108)) {
                if (err) {
                        snprintf(err->path, sizeof(err->path), "control_socket");
                        snprintf(err->message, sizeof(err->message),
                                 "expected an absolute path shorter than 108 bytes, or \"\" for no socket");
                }
                return -EINVAL;
        }
        return validate_metrics_file(c->metrics_file, err);
}

static int apply(json_t *j, const char *name, DaemonConfig *c, JsonError *err) {
        DaemonConfig n;
        int r;

        daemon_config_init(&n);
        r = json_dispatch(j, "", config_table, &n, err);
        if (r >= 0)
                r = validate(&n, err);
        if (r < 0) {
                if (err)
                        snprintf(err->file, sizeof(err->file), "%s", name);
                daemon_config_done(&n);
                return r;
        }
        daemon_config_done(c);
        *c = n;
        return 0;
}

int daemon_config_parse_string(const char *text, const char *name, DaemonConfig *c, JsonError *err) {
        json_t *j = NULL;
        int r;

        r = json_load_string_strict(text, name, &j, err);
        if (r < 0)
                return r;
        r = apply(j, name, c, err);
        json_decref(j);
        return r;
}

int daemon_config_load(const char *path, DaemonConfig *c, JsonError *err) {
        json_t *j = NULL;
        int r;

        r = json_load_file_strict(path, &j, err);
        if (r < 0) {
                if (r != -EINVAL && err) {
                        *err = (JsonError) {};
                        snprintf(err->file, sizeof(err->file), "%s", path);
                        snprintf(err->message, sizeof(err->message), "cannot open: %s", strerror(-r));
                }
                return r;
        }
        r = apply(j, path, c, err);
        json_decref(j);
        return r;
}
