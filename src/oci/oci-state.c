/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oci-state.c - the pure half of the OCI hook: the runtime's state JSON and our annotations in,
 * the policy name and the runtime policy text out.
 *
 * What runc 1.1.5 writes on a createRuntime hook's stdin (tests/fixtures/oci/):
 *
 *   {"ociVersion":"1.0.2-dev","id":"ksmt-capture-1","status":"creating","pid":945,
 *    "bundle":"/tmp/…/bundle","annotations":{"io.ksmtuned.group":"tenant-a",
 *    "io.ksmtuned.merge":"true","org.example.test":"1"}}
 *
 * poststop has "status":"stopped" and no "pid"; without annotations the key is absent.  Unknown
 * keys are accepted (runtimes add their own, crun "root"); the keys we use must have the types of
 * the OCI runtime spec, and a wrong one is an error that names the field.  Does no I/O.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "macro.h"
#include "oci-hook.h"
#include "policy.h"

static const char *const stage_names[_OCI_STAGE_MAX] = {
        [OCI_STAGE_CREATE_RUNTIME] = "createRuntime",
        [OCI_STAGE_POSTSTOP] = "poststop",
        [OCI_STAGE_AUTO] = "auto",
};

const char *oci_stage_to_string(OciStage s) {
        return s >= 0 && s < _OCI_STAGE_MAX ? stage_names[s] : NULL;
}

OciStage oci_stage_from_string(const char *s) {
        if (!s)
                return _OCI_STAGE_INVALID;
        /* prestart runs at the same point (the init has not exec'd yet); deprecated in the spec,
         * but the only stage older runtimes have. */
        if (streq(s, "createRuntime") || streq(s, "prestart"))
                return OCI_STAGE_CREATE_RUNTIME;
        if (streq(s, "poststop"))
                return OCI_STAGE_POSTSTOP;
        if (streq(s, "auto"))
                return OCI_STAGE_AUTO;
        return _OCI_STAGE_INVALID;
}

static const char *const outcome_names[_OCI_OUTCOME_MAX] = {
        [OCI_OUTCOME_NOTHING] = "nothing",
        [OCI_OUTCOME_MERGED] = "merged",
        [OCI_OUTCOME_POLICY_ONLY] = "policy-only",
        [OCI_OUTCOME_OPTED_OUT] = "opted-out",
        [OCI_OUTCOME_REFUSED] = "refused",
        [OCI_OUTCOME_REMOVED] = "removed",
        [OCI_OUTCOME_ERROR] = "error",
};

const char *oci_outcome_to_string(OciOutcome o) {
        return o >= 0 && o < _OCI_OUTCOME_MAX ? outcome_names[o] : NULL;
}

void oci_state_done(OciState *s) {
        if (!s)
                return;
        free(s->oci_version);
        free(s->id);
        free(s->status);
        free(s->bundle);
        free(s->group);
        *s = (OciState) {};
}

static int fail(char *error, size_t size, const char *format, ...) _printf_(3, 4);
static int fail(char *error, size_t size, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(error, size, format, ap);
        va_end(ap);
        return -EINVAL;
}

/* Optional string member; -EINVAL (message set) if present with another type. */
static int get_string(json_t *root, const char *key, bool mandatory, char **ret, char *error, size_t size) {
        json_t *v = json_object_get(root, key);

        if (!v) {
                if (mandatory)
                        return fail(error, size, "state.%s: missing (the runtime must pass the container state on stdin)", key);
                return 0;
        }
        if (!json_is_string(v))
                return fail(error, size, "state.%s: expected a string, got %s", key, json_type_name(v));
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

bool oci_group_valid(const char *group) {
        size_t n;

        if (!group)
                return false;
        n = strlen(group);
        if (n == 0 || n > OCI_GROUP_MAX || group[0] == '.' || group[0] == '-')
                return false;
        return strspn(group, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static int parse_annotations(json_t *root, OciState *s, char *error, size_t size) {
        json_t *a = json_object_get(root, "annotations"), *merge, *group;
        int want_merge = -1;            /* -1: not said */

        s->request = OCI_REQUEST_NONE;
        if (!a || json_is_null(a))
                return 0;
        if (!json_is_object(a))
                return fail(error, size, "state.annotations: expected an object, got %s", json_type_name(a));

        merge = json_object_get(a, OCI_ANNOTATION_MERGE);
        if (merge) {
                if (!json_is_string(merge))
                        return fail(error, size, "state.annotations[\"%s\"]: expected \"true\" or \"false\", got %s",
                                    OCI_ANNOTATION_MERGE, json_type_name(merge));
                if (streq(json_string_value(merge), "true"))
                        want_merge = 1;
                else if (streq(json_string_value(merge), "false"))
                        want_merge = 0;
                else
                        return fail(error, size, "state.annotations[\"%s\"]: expected \"true\" or \"false\", got \"%.64s\"",
                                    OCI_ANNOTATION_MERGE, json_string_value(merge));
        }

        group = json_object_get(a, OCI_ANNOTATION_GROUP);
        if (group) {
                if (!json_is_string(group))
                        return fail(error, size, "state.annotations[\"%s\"]: expected a group name, got %s",
                                    OCI_ANNOTATION_GROUP, json_type_name(group));
                if (!oci_group_valid(json_string_value(group)))
                        return fail(error, size,
                                    "state.annotations[\"%s\"]: expected 1 to %d characters of A-Z, a-z, 0-9, \"_\", \".\", \"-\" "
                                    "(not starting with \".\" or \"-\"), got \"%.80s\"",
                                    OCI_ANNOTATION_GROUP, OCI_GROUP_MAX, json_string_value(group));
        }

        if (want_merge == 0)
                s->request = OCI_REQUEST_NEVER;         /* an opt-out; a group plays no part */
        else if (want_merge == 1 || group) {
                s->request = OCI_REQUEST_MERGE;
                s->group = strdup(group ? json_string_value(group) : OCI_GROUP_DEFAULT);
                if (!s->group)
                        return -ENOMEM;
        }
        return 0;
}

int oci_state_parse(const char *buf, size_t size, bool need_pid, OciState *ret, char *error, size_t error_size) {
        _cleanup_(oci_state_done) OciState s = {};
        json_t *root = NULL, *pid;
        JsonError jerr = {};
        int r;

        assert(ret);
        error[0] = 0;
        if (size == 0)
                return fail(error, error_size, "state: empty input (the runtime must pass the container state on stdin)");
        r = json_load_buffer_strict(buf, size, "state", &root, &jerr);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (jerr.line > 0)
                        return fail(error, error_size, "state: not valid JSON at line %d, column %d: %s",
                                    jerr.line, jerr.column, jerr.message);
                return fail(error, error_size, "state: %s", jerr.message);
        }

        r = get_string(root, "ociVersion", false, &s.oci_version, error, error_size);
        if (r >= 0)
                r = get_string(root, "id", true, &s.id, error, error_size);
        if (r >= 0 && isempty(s.id))
                r = fail(error, error_size, "state.id: expected a non-empty string");
        if (r >= 0 && strlen(s.id) > OCI_ID_MAX)
                r = fail(error, error_size, "state.id: longer than %d characters", OCI_ID_MAX);
        if (r >= 0)
                r = get_string(root, "status", false, &s.status, error, error_size);
        if (r >= 0)
                r = get_string(root, "bundle", false, &s.bundle, error, error_size);
        if (r < 0)
                goto out;

        pid = json_object_get(root, "pid");
        if (!pid || json_is_null(pid)) {
                if (need_pid) {
                        r = fail(error, error_size, "state.pid: missing (createRuntime needs the container's init process)");
                        goto out;
                }
        } else if (!json_is_integer(pid) || json_integer_value(pid) <= 0 || json_integer_value(pid) > INT_MAX) {
                if (json_is_integer(pid))
                        r = fail(error, error_size, "state.pid: expected a positive integer, got %" JSON_INTEGER_FORMAT,
                                 json_integer_value(pid));
                else
                        r = fail(error, error_size, "state.pid: expected a positive integer, got %s", json_type_name(pid));
                goto out;
        } else
                s.pid = (pid_t) json_integer_value(pid);

        r = parse_annotations(root, &s, error, error_size);
        if (r < 0)
                goto out;

        *ret = s;
        s = (OciState) {};
out:
        json_decref(root);
        return r;
}

int oci_policy_name(const char *id, char **ret) {
        static const char hex[] = "0123456789abcdef";
        _cleanup_free_ char *name = NULL;
        size_t n = 0;

        if (isempty(id))
                return -EINVAL;
        if (strlen(id) > POLICY_NAME_MAX)
                return -ENAMETOOLONG;
        name = malloc(4 + 3 * strlen(id) + 1);
        if (!name)
                return -ENOMEM;
        memcpy(name, "oci-", 4);
        n = 4;
        for (const unsigned char *p = (const unsigned char *) id; *p; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    IN_SET(*p, '_', '.', '-'))
                        name[n++] = (char) *p;
                else {
                        /* '@' never occurs in runtime ids (runc: [\w+-.]), so this is injective. */
                        name[n++] = '@';
                        name[n++] = hex[*p >> 4];
                        name[n++] = hex[*p & 15];
                }
        }
        name[n] = 0;
        if (n > POLICY_NAME_MAX)
                return -ENAMETOOLONG;
        *ret = TAKE_PTR(name);
        return 0;
}

/* The cgroup path as a glob that matches exactly it: fnmatch specials get a backslash. */
static char *glob_escape(const char *path) {
        char *e = malloc(2 * strlen(path) + 1), *q = e;

        if (!e)
                return NULL;
        for (const char *p = path; *p; p++) {
                if (strchr("*?[]\\", *p))
                        *q++ = '\\';
                *q++ = *p;
        }
        *q = 0;
        return e;
}

int oci_policy_format(const OciState *s, const char *cgroup, bool merge, int priority, char **ret) {
        _cleanup_free_ char *glob = NULL, *desc = NULL;
        json_t *j;
        char *text;

        assert(s && s->id && cgroup && ret);
        glob = glob_escape(cgroup);
        if (!glob)
                return -ENOMEM;
        if (merge) {
                if (asprintf(&desc, "Container %.200s, sharing group %s: made mergeable by ksmtuned-ng-oci-hook at "
                             "createRuntime; removed at poststop.", s->id, strna(s->group)) < 0)
                        return -ENOMEM;
                j = json_pack("{s:s, s:[s], s:b, s:s, s:i, s:s}",
                              "description", desc,
                              "cgroups", glob,
                              "descendants", 1,
                              "action", "merge",
                              "priority", priority,
                              "when_unmatched", "leave");
        } else {
                if (asprintf(&desc, "Container %.200s: never mergeable (%s), written by ksmtuned-ng-oci-hook at "
                             "createRuntime; removed at poststop.", s->id,
                             s->request == OCI_REQUEST_MERGE ? "another sharing group holds this host" :
                             "io.ksmtuned.merge=false") < 0)
                        return -ENOMEM;
                j = json_pack("{s:s, s:[s], s:b, s:s}",
                              "description", desc,
                              "cgroups", glob,
                              "descendants", 1,
                              "action", "never");
        }
        if (!j)
                return -ENOMEM;
        text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}
