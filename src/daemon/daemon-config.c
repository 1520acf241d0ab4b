/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon-config.c - the daemon's settings file.  Keys grow with features; each is one row of
 * `config_table` below, which is also what ksmtuned-ng.conf(5) documents.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <syslog.h>

#include "daemon-config.h"
#include "macro.h"

static const char *const log_level_choices[] = {
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", NULL,
};

static const char *const backend_choices[] = { "auto", "inject", "madvise", "none", NULL };

static const JsonField config_table[] = {
        { "sample_interval", json_dispatch_duration, offsetof(DaemonConfig, sample_interval_usec), 0,
          .min = (int64_t) SAMPLE_INTERVAL_MIN, .max = (int64_t) SAMPLE_INTERVAL_MAX },
        { "log_level", json_dispatch_enum, offsetof(DaemonConfig, log_level), 0, .choices = log_level_choices },
        { "rescan_interval", json_dispatch_duration, offsetof(DaemonConfig, rescan_interval_usec), 0,
          .min = (int64_t) (100 * USEC_PER_MSEC), .max = (int64_t) USEC_PER_HOUR },
        { "merge_backend", json_dispatch_enum, offsetof(DaemonConfig, merge_backend), 0, .choices = backend_choices },
        { "control_socket", json_dispatch_string, offsetof(DaemonConfig, control_socket), 0 },
        { "max_tracked", json_dispatch_uint64, offsetof(DaemonConfig, max_tracked), 0, .min = 1, .max = 1000000 },
        { "merge_attempts", json_dispatch_uint64, offsetof(DaemonConfig, merge_attempts), 0, .min = 1, .max = 100 },
        {}
};

void daemon_config_init(DaemonConfig *c) {
        *c = (DaemonConfig) {
                .sample_interval_usec = SAMPLE_INTERVAL_DEFAULT,
                .log_level = LOG_INFO,
                .rescan_interval_usec = RESCAN_INTERVAL_DEFAULT,
                .merge_backend = DAEMON_BACKEND_AUTO,
                .control_socket = strdup(CONTROL_SOCKET_DEFAULT),
                .max_tracked = MAX_TRACKED_DEFAULT,
                .merge_attempts = MERGE_ATTEMPTS_DEFAULT,
        };
}

void daemon_config_done(DaemonConfig *c) {
        free(c->control_socket);
        *c = (DaemonConfig) {};
}

/* Semantic checks across keys, after the table walk. */
static int validate(const DaemonConfig *c, JsonError *err) {
        if (!c->control_socket)
                return -ENOMEM;
        if (!isempty(c->control_socket) &&
            (c->control_socket[0] != '/' || strlen(c->control_socket) >= 108)) {
                if (err) {
                        snprintf(err->path, sizeof(err->path), "control_socket");
                        snprintf(err->message, sizeof(err->message),
                                 "expected an absolute path shorter than 108 bytes, or \"\" for no socket");
                }
                return -EINVAL;
        }
        return 0;
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
