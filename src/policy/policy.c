/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.c - policy files: strict parsing into an immutable Policy, the vendor/admin/runtime
 * override and mask rules, matching and the decision rule.  The schema is documented in policy.h
 * and ksmtuned-ng.policy(5); the tables below are what both describe.
 *
 * Globs are matched with fnmatch(3).  fnmatch() never fails on a bad pattern, it silently takes an
 * unbalanced '[' literally or matches nothing, so every glob is checked here first
 * (glob_check()): a typo must be an error at load time, not a policy that never matches.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "policy.h"

#define POLICY_FILE_MAX (1024U * 1024U)         /* a policy is a few hundred bytes */
#define POLICY_PATH_GLOB_MAX 4096U              /* PATH_MAX */
#define POLICY_COMM_GLOB_MAX 256U
#define POLICY_COMM_MAX 15U                     /* TASK_COMM_LEN - 1 */
#define POLICY_LIST_MAX 1024                    /* entries in one selector list */
#define POLICY_DESCRIPTION_MAX 1024             /* characters */
#define POLICY_MIN_ANON_MAX (INT64_C(1) << 50)  /* 1024T */
#define POLICY_MIN_AGE_MAX (365 * 24 * USEC_PER_HOUR)
#define POLICY_UID_MAX UINT32_C(4294967294)     /* (uid_t) -1 is "no uid" */

static const char *const policy_action_table[_POLICY_ACTION_MAX + 1] = {
        [POLICY_ACTION_MERGE] = "merge",
        [POLICY_ACTION_NEVER] = "never",
        [POLICY_ACTION_IGNORE] = "ignore",
};

static const char *const policy_unmatched_table[_POLICY_UNMATCHED_MAX + 1] = {
        [POLICY_UNMATCHED_LEAVE] = "leave",
        [POLICY_UNMATCHED_UNMERGE] = "unmerge",
};

/* In MergeBackend order; test-policy checks it against merge_backend_to_string(). */
static const char *const policy_backend_table[_MERGE_BACKEND_MAX + 1] = {
        [MERGE_BACKEND_AUTO] = "auto",
        [MERGE_BACKEND_INJECT] = "inject",
        [MERGE_BACKEND_MADVISE] = "madvise",
};

const char *policy_action_to_string(PolicyAction a) {
        if (a < 0 || a >= _POLICY_ACTION_MAX)
                return NULL;
        return policy_action_table[a];
}

const char *policy_unmatched_to_string(PolicyUnmatched u) {
        if (u < 0 || u >= _POLICY_UNMATCHED_MAX)
                return NULL;
        return policy_unmatched_table[u];
}

/* Globs */

static const char *const glob_classes[] = {
        "alnum", "alpha", "blank", "cntrl", "digit", "graph",
        "lower", "print", "punct", "space", "upper", "xdigit",
};

/*
 * Checks @glob as fnmatch() reads it (backslash escapes on; with @pathname, FNM_PATHNAME) and
 * counts the characters of the shortest string it matches.  Returns 0, or -EINVAL with @reason
 * saying what is wrong.
 */
static int glob_check(const char *glob, bool pathname, size_t *ret_min_length, char *reason, size_t size) {
        size_t n = 0;

        for (size_t i = 0; glob[i]; i++) {
                size_t j;

                switch (glob[i]) {
                case '*':
                        break;
                case '\\':
                        if (!glob[i + 1]) {
                                snprintf(reason, size, "invalid glob \"%s\": it ends with a lone \"\\\" "
                                         "(write \"\\\\\" for a literal backslash)", glob);
                                return -EINVAL;
                        }
                        i++;
                        n++;
                        break;
                case '[':
                        j = i + 1;
                        if (glob[j] == '!' || glob[j] == '^')
                                j++;
                        if (glob[j] == ']')             /* first in the set: a literal ']' */
                                j++;
                        for (; glob[j] && glob[j] != ']'; j++) {
                                if (glob[j] == '[' && glob[j + 1] == ':') {
                                        const char *name = glob + j + 2, *end = strstr(name, ":]");
                                        bool known = false;

                                        if (!end) {
                                                snprintf(reason, size, "invalid glob \"%s\": \"[:\" at offset %zu "
                                                         "has no closing \":]\"", glob, j);
                                                return -EINVAL;
                                        }
                                        for (size_t k = 0; k < ELEMENTSOF(glob_classes); k++)
                                                if (strlen(glob_classes[k]) == (size_t) (end - name) &&
                                                    strneq(glob_classes[k], name, (size_t) (end - name)))
                                                        known = true;
                                        if (!known) {
                                                snprintf(reason, size, "invalid glob \"%s\": unknown character class "
                                                         "\"[:%.*s:]\", expected one of alnum, alpha, blank, cntrl, "
                                                         "digit, graph, lower, print, punct, space, upper, xdigit",
                                                         glob, (int) MIN(end - name, 32), name);
                                                return -EINVAL;
                                        }
                                        j = (size_t) (end - glob) + 1;  /* the ']' of ":]" */
                                        continue;
                                }
                                if (glob[j] == '[' && (glob[j + 1] == '.' || glob[j + 1] == '=')) {
                                        snprintf(reason, size, "invalid glob \"%s\": collating symbols \"[.\" and "
                                                 "equivalence classes \"[=\" are not supported", glob);
                                        return -EINVAL;
                                }
                                if (glob[j] == '\\' && glob[j + 1])
                                        j++;
                                else if (pathname && glob[j] == '/') {
                                        snprintf(reason, size, "invalid glob \"%s\": a bracket expression never "
                                                 "matches \"/\" in a path (offset %zu)", glob, j);
                                        return -EINVAL;
                                }
                        }
                        if (!glob[j]) {
                                snprintf(reason, size, "invalid glob \"%s\": \"[\" at offset %zu has no closing \"]\" "
                                         "(write \"\\[\" for a literal \"[\")", glob, i);
                                return -EINVAL;
                        }
                        i = j;
                        n++;
                        break;
                default:                                /* '?' or a literal */
                        n++;
                }
        }
        if (ret_min_length)
                *ret_min_length = n;
        return 0;
}

/* True if @glob has "**" outside brackets and escapes. */
static bool glob_has_double_star(const char *glob) {
        for (size_t i = 0; glob[i]; i++) {
                if (glob[i] == '\\' && glob[i + 1])
                        i++;
                else if (glob[i] == '[') {
                        size_t j = i + 1;

                        if (glob[j] == '!' || glob[j] == '^')
                                j++;
                        if (glob[j] == ']')
                                j++;
                        while (glob[j] && glob[j] != ']')
                                j++;
                        if (!glob[j])
                                return false;
                        i = j;
                } else if (glob[i] == '*' && glob[i + 1] == '*')
                        return true;
        }
        return false;
}

/* An absolute, normalized path glob: what the kernel reports for cgroups and /proc/PID/exe. */
static int path_glob_check(const char *glob, bool is_cgroup, char *reason, size_t size) {
        size_t len = strlen(glob);

        if (glob[0] != '/') {
                snprintf(reason, size, "expected an absolute path glob starting with \"/\", got \"%s\"", glob);
                return -EINVAL;
        }
        if (len > POLICY_PATH_GLOB_MAX) {
                snprintf(reason, size, "expected at most %u bytes, got %zu", POLICY_PATH_GLOB_MAX, len);
                return -EINVAL;
        }
        if (streq(glob, "/")) {
                if (is_cgroup)
                        return 0;               /* the root cgroup */
                snprintf(reason, size, "expected the path of an executable, got \"/\"");
                return -EINVAL;
        }
        if (glob[len - 1] == '/') {
                snprintf(reason, size, "expected no trailing \"/\", got \"%s\"", glob);
                return -EINVAL;
        }
        for (const char *c = glob + 1;;) {
                size_t l = strcspn(c, "/");

                if (l == 0) {
                        snprintf(reason, size, "expected a normalized path without \"//\", got \"%s\"", glob);
                        return -EINVAL;
                }
                if ((l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.')) {
                        snprintf(reason, size, "expected a normalized path without \"%.*s\" components, got \"%s\"",
                                 (int) l, c, glob);
                        return -EINVAL;
                }
                if (!c[l])
                        break;
                c += l + 1;
        }
        if (glob_has_double_star(glob)) {
                snprintf(reason, size, "expected \"*\" instead of \"**\", which does not cross \"/\" either%s, got \"%s\"",
                         is_cgroup ? " (\"descendants\": true selects sub-cgroups)" : "", glob);
                return -EINVAL;
        }
        return glob_check(glob, true, NULL, reason, size);
}

static int validate_cgroup_glob(const char *s, char *reason, size_t size) {
        return path_glob_check(s, true, reason, size);
}

static int validate_exe_glob(const char *s, char *reason, size_t size) {
        return path_glob_check(s, false, reason, size);
}

static int validate_comm_glob(const char *s, char *reason, size_t size) {
        size_t len = strlen(s), n;
        int r;

        if (len > POLICY_COMM_GLOB_MAX) {
                snprintf(reason, size, "expected at most %u bytes, got %zu", POLICY_COMM_GLOB_MAX, len);
                return -EINVAL;
        }
        r = glob_check(s, false, &n, reason, size);
        if (r < 0)
                return r;
        if (n > POLICY_COMM_MAX) {
                snprintf(reason, size, "expected a glob that can match a comm of at most %u characters "
                         "(the kernel truncates longer names), got \"%s\", which needs at least %zu", POLICY_COMM_MAX, s, n);
                return -EINVAL;
        }
        return 0;
}

/* Parsing */

/* @dst is &Policy.uids; the count goes to n_uids next to it, so this dispatcher is Policy's own. */
static int dispatch_uids(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        Policy *p = (Policy *) ((uint8_t *) dst - offsetof(Policy, uids));
        uid_t *uids;
        size_t i;
        json_t *e;

        if (!json_is_array(v))
                return json_error_set(err, path, "expected an array of uids, got %s", json_type_name(v));
        if (json_array_size(v) == 0)
                return json_error_set(err, path, "expected a non-empty array of uids, got an empty array");
        if (json_array_size(v) > POLICY_LIST_MAX)
                return json_error_set(err, path, "expected at most %d entries, got %zu", POLICY_LIST_MAX,
                                      json_array_size(v));

        uids = new0(uid_t, json_array_size(v));
        if (!uids)
                return json_error_set(err, path, "out of memory");
        json_array_foreach(v, i, e) {
                char sub[256];

                snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
                if (!json_is_integer(e) || json_integer_value(e) < 0 ||
                    (uint64_t) json_integer_value(e) > POLICY_UID_MAX) {
                        free(uids);
                        if (!json_is_integer(e))
                                return json_error_set(err, sub, "expected a numeric uid from 0 to %" PRIu32 ", got %s",
                                                      POLICY_UID_MAX, json_type_name(e));
                        return json_error_set(err, sub, "expected a numeric uid from 0 to %" PRIu32
                                              ", got %" JSON_INTEGER_FORMAT, POLICY_UID_MAX, json_integer_value(e));
                }
                uids[i] = (uid_t) json_integer_value(e);
        }
        free(p->uids);
        p->uids = uids;
        p->n_uids = json_array_size(v);
        return 0;
}

static int dispatch_min_age(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        static const JsonField unbounded = {};
        usec_t u;
        int r;

        r = json_dispatch_duration(&unbounded, path, v, &u, err);
        if (r < 0)
                return r;
        if (u > POLICY_MIN_AGE_MAX)
                return json_error_set(err, path, "duration \"%s\" out of range, expected at most \"8760h\" (365 days)",
                                      json_string_value(v));
        *(usec_t *) dst = u;
        return 0;
}

static const JsonField processes_table[] = {
        { "comm", json_dispatch_strv, offsetof(Policy, comm), 0,
          .min = 1, .max = POLICY_LIST_MAX, .validate = validate_comm_glob },
        { "exe", json_dispatch_strv, offsetof(Policy, exe), 0,
          .min = 1, .max = POLICY_LIST_MAX, .validate = validate_exe_glob },
        { "uid", dispatch_uids, offsetof(Policy, uids), 0 },
        { "min_anon_memory", json_dispatch_size, offsetof(Policy, min_anon_bytes), 0,
          .min = 0, .max = POLICY_MIN_ANON_MAX },
        { "min_age", dispatch_min_age, offsetof(Policy, min_age_usec), 0 },
        {}
};

static int dispatch_processes(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        return json_dispatch(v, path, processes_table, dst, err);
}

static const char *const policy_wasted_table[] = { "report", "unmerge", NULL };

static int dispatch_u32_percent(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        int x = 0;
        int r;

        r = json_dispatch_int(f, path, v, &x, err);
        if (r < 0)
                return r;
        *(uint32_t *) dst = (uint32_t) x;
        return 0;
}

static const JsonField effort_table[] = {
        { "min_yield", dispatch_u32_percent, offsetof(Policy, min_yield_percent), 0, .min = 0, .max = 100 },
        { "after_scans", json_dispatch_uint64, offsetof(Policy, wasted_after_scans), 0, .min = 1, .max = 1000 },
        { "when_wasted", json_dispatch_enum, offsetof(Policy, when_wasted), 0, .choices = policy_wasted_table },
        {}
};

static int dispatch_effort(const JsonField *f, const char *path, json_t *v, void *dst, JsonError *err) {
        return json_dispatch(v, path, effort_table, dst, err);
}

static const JsonField policy_table[] = {
        { "description", json_dispatch_string, offsetof(Policy, description), 0,
          .min = 0, .max = POLICY_DESCRIPTION_MAX },
        { "cgroups", json_dispatch_strv, offsetof(Policy, cgroups), JSON_FIELD_MANDATORY,
          .min = 1, .max = POLICY_LIST_MAX, .validate = validate_cgroup_glob },
        { "descendants", json_dispatch_bool, offsetof(Policy, descendants), 0 },
        { "processes", dispatch_processes, 0, 0 },
        { "action", json_dispatch_enum, offsetof(Policy, action), 0, .choices = policy_action_table },
        { "backend", json_dispatch_enum, offsetof(Policy, backend), 0, .choices = policy_backend_table },
        { "priority", json_dispatch_int, offsetof(Policy, priority), 0,
          .min = POLICY_PRIORITY_MIN, .max = POLICY_PRIORITY_MAX },
        { "when_unmatched", json_dispatch_enum, offsetof(Policy, when_unmatched), 0,
          .choices = policy_unmatched_table },
        { "allow_seccomp", json_dispatch_bool, offsetof(Policy, allow_seccomp), 0 },
        { "effort", dispatch_effort, 0, 0 },
        {}
};

/* A file-level error: no line, no JSON path.  Returns @r. */
static int file_error(JsonError *err, const char *file, int r, const char *format, ...) _printf_(4, 5);
static int file_error(JsonError *err, const char *file, int r, const char *format, ...) {
        va_list ap;

        if (!err)
                return r;
        *err = (JsonError) {};
        snprintf(err->file, sizeof(err->file), "%s", file);
        va_start(ap, format);
        vsnprintf(err->message, sizeof(err->message), format, ap);
        va_end(ap);
        return r;
}

static int policy_name_check(const char *name, const char *file, JsonError *err) {
        size_t len = strlen(name);

        if (len == 0)
                return file_error(err, file, -EINVAL, "empty policy name, expected 1 to %d characters "
                                  "(the file name without \".json\")", POLICY_NAME_MAX);
        if (len > POLICY_NAME_MAX)
                return file_error(err, file, -EINVAL, "policy name too long, expected 1 to %d characters "
                                  "(the file name without \".json\"), got %zu", POLICY_NAME_MAX, len);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) name[i];

                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '@' || c == '-')
                        continue;
                if (c >= ' ' && c < 0x7f)
                        return file_error(err, file, -EINVAL, "invalid character '%c' in policy name \"%s\", "
                                          "expected only A-Z, a-z, 0-9, \"_\", \".\", \"@\" and \"-\"", c, name);
                return file_error(err, file, -EINVAL, "invalid byte 0x%02x in policy name, "
                                  "expected only A-Z, a-z, 0-9, \"_\", \".\", \"@\" and \"-\"", c);
        }
        return 0;
}

static size_t strv_length(char **l) {
        size_t n = 0;

        for (; l && l[n]; n++)
                ;
        return n;
}

static int policy_parse_buffer(const char *buf, size_t size, const char *name, const char *path,
                               Policy **ret, JsonError *err) {
        _cleanup_(policy_freep) Policy *p = NULL;
        const char *file = path ?: name;
        json_t *j = NULL;
        int r;

        r = policy_name_check(name, file, err);
        if (r < 0)
                return r;
        r = json_load_buffer_strict(buf, size, file, &j, err);
        if (r < 0)
                return r;

        p = new0(Policy, 1);
        if (!p) {
                json_decref(j);
                return -ENOMEM;
        }
        *p = (Policy) {
                .action = POLICY_ACTION_MERGE,
                .backend = MERGE_BACKEND_AUTO,
                .priority = 0,
                .when_unmatched = POLICY_UNMATCHED_LEAVE,
                .wasted_after_scans = 3,
                .when_wasted = POLICY_WASTED_REPORT,
        };

        r = json_dispatch(j, "", policy_table, p, err);
        json_decref(j);
        if (r < 0) {
                if (err)
                        snprintf(err->file, sizeof(err->file), "%s", file);
                return r;
        }

        p->name = strdup(name);
        if (!p->name)
                return -ENOMEM;
        if (path) {
                p->path = strdup(path);
                if (!p->path)
                        return -ENOMEM;
        }
        p->n_cgroups = strv_length(p->cgroups);
        p->n_comm = strv_length(p->comm);
        p->n_exe = strv_length(p->exe);

        *ret = TAKE_PTR(p);
        return 0;
}

int policy_parse_string(const char *text, const char *name, const char *path, Policy **ret, JsonError *err) {
        assert(text);
        assert(name);
        assert(ret);

        return policy_parse_buffer(text, strlen(text), name, path, ret, err);
}

static int policy_load_path(const char *path, const char *name, Policy **ret, JsonError *err) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        struct stat st;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                return file_error(err, path, r, "cannot open: %s", strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                return file_error(err, path, r, "cannot stat: %s", strerror(-r));
        }
        if (S_ISDIR(st.st_mode))
                return file_error(err, path, -EISDIR, "is a directory, expected a regular file");
        if (!S_ISREG(st.st_mode))
                return file_error(err, path, -EINVAL, "not a regular file, expected a regular file "
                                  "(or a symlink to one, or to /dev/null to mask)");
        if (st.st_size > (off_t) POLICY_FILE_MAX)
                return file_error(err, path, -EFBIG, "file too large (%" PRIi64 " bytes), expected at most 1 MiB",
                                  (int64_t) st.st_size);

        /* The file may grow between fstat() and read(): read at most one byte past the limit. */
        buf = malloc(POLICY_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        while (size <= POLICY_FILE_MAX) {
                ssize_t k = read(fd, buf + size, POLICY_FILE_MAX + 1 - size);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        return file_error(err, path, r, "cannot read: %s", strerror(-r));
                }
                if (k == 0)
                        break;
                size += (size_t) k;
        }
        if (size > POLICY_FILE_MAX)
                return file_error(err, path, -EFBIG, "file too large, expected at most 1 MiB");
        if (size == 0)
                return file_error(err, path, -EINVAL, "empty file, expected a JSON object (in a policy "
                                  "directory an empty file masks the policy of the same name)");

        return policy_parse_buffer(buf, size, name, path, ret, err);
}

/* The policy name of a file: its base name without ".json". */
static char *policy_name_from_path(const char *path) {
        const char *base = strrchr(path, '/');
        size_t len;

        base = base ? base + 1 : path;
        len = strlen(base);
        if (len >= 5 && streq(base + len - 5, ".json"))
                len -= 5;
        return strndup(base, len);
}

int policy_load_file(const char *path, Policy **ret, JsonError *err) {
        _cleanup_free_ char *name = NULL;

        assert(path);
        assert(ret);

        name = policy_name_from_path(path);
        if (!name)
                return -ENOMEM;
        return policy_load_path(path, name, ret, err);
}

Policy *policy_free(Policy *p) {
        if (!p)
                return NULL;
        free(p->uids);
        json_strv_free(p->exe);
        json_strv_free(p->comm);
        json_strv_free(p->cgroups);
        free(p->description);
        free(p->path);
        free(p->name);
        free(p);
        return NULL;
}

/* Matching */

bool policy_matches_cgroup(const Policy *p, const char *cgroup) {
        assert(p);

        if (!cgroup || cgroup[0] != '/')
                return false;
        for (size_t i = 0; i < p->n_cgroups; i++) {
                const char *g = p->cgroups[i];

                if (fnmatch(g, cgroup, FNM_PATHNAME) == 0)
                        return true;
                /* "descendants": @cgroup or any of its ancestors matches.  FNM_LEADING_DIR lets the
                 * glob match a leading run of whole components; the root "/" has to be tried apart. */
                if (p->descendants &&
                    (fnmatch(g, cgroup, FNM_PATHNAME | FNM_LEADING_DIR) == 0 || fnmatch(g, "/", FNM_PATHNAME) == 0))
                        return true;
        }
        return false;
}

static bool globs_match(char *const *globs, size_t n, const char *s, int flags) {
        if (!s)
                return false;
        for (size_t i = 0; i < n; i++)
                if (fnmatch(globs[i], s, flags) == 0)
                        return true;
        return false;
}

bool policy_matches_process(const Policy *p, const ProcessFacts *f) {
        assert(p);
        assert(f);

        if (!policy_matches_cgroup(p, f->cgroup))
                return false;
        if (p->n_comm > 0 && !globs_match(p->comm, p->n_comm, f->comm, 0))
                return false;
        if (p->n_exe > 0 && !globs_match(p->exe, p->n_exe, f->exe, FNM_PATHNAME))
                return false;
        if (p->n_uids > 0) {
                bool found = false;

                for (size_t i = 0; i < p->n_uids && !found; i++)
                        found = p->uids[i] == f->uid;
                if (!found)
                        return false;
        }
        if (f->anon_bytes < p->min_anon_bytes)
                return false;
        if (f->age_usec < p->min_age_usec)
                return false;
        return true;
}

bool policy_needs_exe(const Policy *p) {
        assert(p);

        return p->n_exe > 0;
}

/* Policy sets */

typedef struct Candidate {
        char *name;
        char *path;
        size_t dir;             /* index in dirs[]: a higher one wins */
        int stat_error;         /* negative errno of stat(), e.g. a dangling symlink */
        bool masked;            /* empty, or /dev/null */
} Candidate;

static void candidates_free(Candidate *c, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(c[i].name);
                free(c[i].path);
        }
        free(c);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static int grow(void **array, size_t n, size_t size) {
        void *a;

        /* n elements are there; the capacity is 4, 8, 16 …: full exactly when n is one of those */
        if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
                return 0;
        a = realloc(*array, (n == 0 ? 4 : n * 2) * size);
        if (!a)
                return -ENOMEM;
        *array = a;
        return 0;
}

static int collect_dir(const char *dir, size_t index, Candidate **candidates, size_t *n) {
        _cleanup_(closedirp) DIR *d = NULL;

        assert(dir);

        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;

        for (;;) {
                _cleanup_free_ char *name = NULL, *path = NULL;
                struct dirent *de;
                struct stat st;
                size_t len;
                Candidate c;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return -errno;
                        break;
                }
                /* hidden files are editors' and package managers' business, like ".#foo.json" */
                if (de->d_name[0] == '.')
                        continue;
                len = strlen(de->d_name);
                if (len <= 5 || !streq(de->d_name + len - 5, ".json"))
                        continue;

                c = (Candidate) { .dir = index };
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0)
                        c.stat_error = -errno;
                else if (S_ISDIR(st.st_mode))
                        continue;
                else
                        c.masked = (S_ISREG(st.st_mode) && st.st_size == 0) ||
                                   (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));

                name = strndup(de->d_name, len - 5);
                if (!name || asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        return -ENOMEM;
                if (grow((void **) candidates, *n, sizeof(Candidate)) < 0)
                        return -ENOMEM;
                c.name = TAKE_PTR(name);
                c.path = TAKE_PTR(path);
                (*candidates)[(*n)++] = c;
        }
        return 0;
}

/* By name; for one name the highest-precedence directory first. */
static int candidate_compare(const void *a, const void *b) {
        const Candidate *x = a, *y = b;
        int r = strcmp(x->name, y->name);

        if (r != 0)
                return r;
        return x->dir < y->dir ? 1 : x->dir > y->dir ? -1 : 0;
}

static int policy_set_add_error(PolicySet *s, const JsonError *e) {
        if (grow((void **) &s->errors, s->n_errors, sizeof(JsonError)) < 0)
                return -ENOMEM;
        s->errors[s->n_errors++] = *e;
        return 0;
}

int policy_set_load(const char *const *dirs, size_t n_dirs, PolicySet **ret) {
        _cleanup_(policy_set_freep) PolicySet *s = NULL;
        Candidate *candidates = NULL;
        size_t n = 0;
        int r = 0;

        assert(dirs || n_dirs == 0);
        assert(ret);

        s = new0(PolicySet, 1);
        if (!s)
                return -ENOMEM;

        for (size_t i = 0; i < n_dirs && r >= 0; i++)
                r = collect_dir(dirs[i], i, &candidates, &n);
        if (r < 0)
                goto finish;

        if (n > 0)
                qsort(candidates, n, sizeof(Candidate), candidate_compare);

        for (size_t i = 0; i < n; i++) {
                const Candidate *c = &candidates[i];
                Policy *p = NULL;
                JsonError e = {};

                /* only the first of each name counts: the others are overridden */
                if (i > 0 && streq(c->name, candidates[i - 1].name))
                        continue;
                if (c->masked)
                        continue;

                if (c->stat_error < 0)
                        r = file_error(&e, c->path, c->stat_error, "cannot open: %s", strerror(-c->stat_error));
                else
                        r = policy_load_path(c->path, c->name, &p, &e);
                if (r == -ENOMEM)
                        goto finish;
                if (r < 0) {
                        r = policy_set_add_error(s, &e);
                        if (r < 0)
                                goto finish;
                        continue;
                }
                r = grow((void **) &s->policies, s->n, sizeof(Policy *));
                if (r < 0) {
                        policy_free(p);
                        goto finish;
                }
                s->policies[s->n++] = p;
        }
        /* The candidates were sorted by name, so the policies are too. */
        r = 0;
        *ret = TAKE_PTR(s);

finish:
        candidates_free(candidates, n);
        return r;
}

PolicySet *policy_set_free(PolicySet *s) {
        if (!s)
                return NULL;
        free(s->errors);
        for (size_t i = 0; i < s->n; i++)
                policy_free(s->policies[i]);
        free(s->policies);
        free(s);
        return NULL;
}

bool policy_set_matches_cgroup(const PolicySet *s, const char *cgroup) {
        assert(s);

        for (size_t i = 0; i < s->n; i++)
                if (policy_matches_cgroup(s->policies[i], cgroup))
                        return true;
        return false;
}

const Policy *policy_set_decide(const PolicySet *s, const ProcessFacts *f) {
        const Policy *best = NULL, *never = NULL;

        assert(s);
        assert(f);

        /* In name order, so a strictly higher priority is needed to displace an earlier match. */
        for (size_t i = 0; i < s->n; i++) {
                const Policy *p = s->policies[i];

                if (!policy_matches_process(p, f))
                        continue;
                if (p->action == POLICY_ACTION_NEVER) {
                        if (!never || p->priority > never->priority)
                                never = p;
                } else if (!best || p->priority > best->priority)
                        best = p;
        }
        return never ?: best;
}

const Policy *policy_set_get(const PolicySet *s, const char *name) {
        for (size_t i = 0; s && name && i < s->n; i++)
                if (streq(s->policies[i]->name, name))
                        return s->policies[i];
        return NULL;
}
