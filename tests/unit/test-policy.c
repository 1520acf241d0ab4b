/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-policy.c - policy files: valid ones (every key, defaults), the corpus of malformed files in
 * tests/fixtures/policies/invalid with each exact error, the vendor/admin/runtime override and
 * mask rules on scratch directories, matching (globs, descendants, every process selector, NULL
 * facts), the decision rule (opt-out, priorities, name order), the shipped policies and
 * examples, and the generic helpers added for policies (parse_size(), json_dispatch_int/size/strv).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "json-util.h"
#include "macro.h"
#include "merge.h"
#include "parse-util.h"
#include "policy.h"

/* Helpers */

static Policy *parse_ok(const char *text) {
        Policy *p = NULL;
        JsonError err = {};
        char buf[1024];
        int r;

        r = policy_parse_string(text, "test", "test.json", &p, &err);
        if (r < 0)
                fail_msg("unexpected error: %s", json_error_format(&err, buf, sizeof(buf)));
        assert_non_null(p);
        return p;
}

/* Parses @text as policy "test" from "test.json", expects -EINVAL and returns the formatted error. */
static const char *parse_fail(const char *text, char *buf, size_t size) {
        Policy *p = NULL;
        JsonError err = {};

        assert_int_equal(policy_parse_string(text, "test", "test.json", &p, &err), -EINVAL);
        assert_null(p);
        assert_string_equal(err.file, "test.json");
        return json_error_format(&err, buf, size);
}

#define assert_parse_error(text, expected)                                              \
        do {                                                                            \
                char _b[1024];                                                          \
                assert_string_equal(parse_fail((text), _b, sizeof(_b)), (expected));    \
        } while (0)

/* Parses a policy whose only selectors are @key (a top-level key, or "comm"/"exe" under "processes") = [@glob]. */
static Policy *parse_glob(const char *key, const char *glob) {
        _cleanup_free_ char *text = NULL;
        json_t *j;

        if (streq(key, "cgroups"))
                j = json_pack("{s:[s]}", "cgroups", glob);
        else
                j = json_pack("{s:[s], s:{s:[s]}}", "cgroups", "/", "processes", key, glob);
        assert_non_null(j);
        text = json_dumps(j, 0);
        json_decref(j);
        assert_non_null(text);
        return parse_ok(text);
}

static char *mfree_str(char *s) {
        free(s);
        return NULL;
}

static const char *set_dirs[3];

static void make_dirs(const char *scratch) {
        static char vendor[512], admin[512], runtime[512];

        snprintf(vendor, sizeof(vendor), "%s/usr/lib/ksmtuned-ng/policy.d", scratch);
        snprintf(admin, sizeof(admin), "%s/etc/ksmtuned-ng/policy.d", scratch);
        snprintf(runtime, sizeof(runtime), "%s/run/ksmtuned-ng/policy.d", scratch);
        set_dirs[0] = vendor;
        set_dirs[1] = admin;
        set_dirs[2] = runtime;
}

static void write_policy(const char *scratch, const char *dir, const char *file, const char *content) {
        _cleanup_free_ char *rel = NULL;

        assert_true(asprintf(&rel, "%s/ksmtuned-ng/policy.d/%s", dir, file) >= 0);
        scratch_write(scratch, rel, content);
}

static PolicySet *load_set(void) {
        PolicySet *s = NULL;

        assert_int_equal(policy_set_load(set_dirs, ELEMENTSOF(set_dirs), &s), 0);
        assert_non_null(s);
        return s;
}

static const Policy *set_find(const PolicySet *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->policies[i]->name, name))
                        return s->policies[i];
        return NULL;
}

/* Valid policies */

static void test_parse_minimal_defaults(void **state) {
        _cleanup_(policy_freep) Policy *p = parse_ok("{\"cgroups\": [\"/system.slice/postgresql*.service\"]}");

        assert_string_equal(p->name, "test");
        assert_string_equal(p->path, "test.json");
        assert_null(p->description);
        assert_int_equal(p->n_cgroups, 1);
        assert_string_equal(p->cgroups[0], "/system.slice/postgresql*.service");
        assert_null(p->cgroups[1]);                     /* NULL-terminated as well */
        assert_false(p->descendants);
        assert_null(p->comm);
        assert_int_equal(p->n_comm, 0);
        assert_null(p->exe);
        assert_int_equal(p->n_exe, 0);
        assert_null(p->uids);
        assert_int_equal(p->n_uids, 0);
        assert_true(p->min_anon_bytes == 0);
        assert_true(p->min_age_usec == 0);
        assert_int_equal(p->action, POLICY_ACTION_MERGE);
        assert_int_equal(p->backend, MERGE_BACKEND_AUTO);
        assert_int_equal(p->priority, 0);
        assert_int_equal(p->when_unmatched, POLICY_UNMATCHED_LEAVE);
        assert_false(p->allow_seccomp);
        assert_false(policy_needs_exe(p));
}

static void test_parse_every_key(void **state) {
        _cleanup_free_ char *path = fixture_path("policies/valid/full.json");
        _cleanup_(policy_freep) Policy *p = NULL;
        JsonError err = {};

        assert_int_equal(policy_load_file(path, &p, &err), 0);
        assert_string_equal(p->name, "full");
        assert_string_equal(p->path, path);
        assert_string_equal(p->description, "Every key, none at its default");
        assert_int_equal(p->n_cgroups, 2);
        assert_string_equal(p->cgroups[0], "/machine.slice/machine-qemu*.scope");
        assert_string_equal(p->cgroups[1], "/vms.slice/vm[0-9].scope");
        assert_true(p->descendants);
        assert_int_equal(p->n_comm, 2);
        assert_string_equal(p->comm[0], "qemu-kvm");
        assert_string_equal(p->comm[1], "qemu-system-*");
        assert_int_equal(p->n_exe, 2);
        assert_string_equal(p->exe[0], "/usr/bin/qemu-system-*");
        assert_string_equal(p->exe[1], "/usr/libexec/qemu-kvm");
        assert_int_equal(p->n_uids, 3);
        assert_int_equal(p->uids[0], 0);
        assert_int_equal(p->uids[1], 107);
        assert_true(p->uids[2] == 4294967294U);
        assert_true(p->min_anon_bytes == 64 * 1024 * 1024);
        assert_true(p->min_age_usec == 30 * USEC_PER_SEC);
        assert_int_equal(p->action, POLICY_ACTION_IGNORE);
        assert_int_equal(p->backend, MERGE_BACKEND_INJECT);
        assert_int_equal(p->priority, -1000);
        assert_int_equal(p->when_unmatched, POLICY_UNMATCHED_UNMERGE);
        assert_true(p->allow_seccomp);
        assert_true(policy_needs_exe(p));
}

static void test_parse_valid_fixtures(void **state) {
        static const struct {
                const char *file;
                PolicyAction action;
                int priority;
        } table[] = {
                { "minimal.json", POLICY_ACTION_MERGE, 0 },
                { "opt-out.json", POLICY_ACTION_NEVER, 1000 },
                { "sizes.json", POLICY_ACTION_MERGE, 1000 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *rel = NULL, *path = NULL;
                _cleanup_(policy_freep) Policy *p = NULL;
                JsonError err = {};

                assert_true(asprintf(&rel, "policies/valid/%s", table[i].file) >= 0);
                path = fixture_path(rel);
                assert_int_equal(policy_load_file(path, &p, &err), 0);
                assert_int_equal(p->action, table[i].action);
                assert_int_equal(p->priority, table[i].priority);
        }
}

static void test_parse_values(void **state) {
        static const struct {
                const char *value;
                uint64_t bytes;
        } sizes[] = {
                { "0", 0 },
                { "\"0\"", 0 },
                { "4096", 4096 },
                { "\"4096\"", 4096 },
                { "\"1K\"", 1024 },
                { "\"64M\"", 64ULL << 20 },
                { "\"3G\"", 3ULL << 30 },
                { "\"1T\"", 1ULL << 40 },
                { "\"1024T\"", 1ULL << 50 },
                { "1125899906842624", 1ULL << 50 },
        };
        static const struct {
                const char *value;
                usec_t usec;
        } ages[] = {
                { "\"0\"", 0 },
                { "\"500ms\"", 500 * USEC_PER_MSEC },
                { "\"2min 30s\"", 150 * USEC_PER_SEC },
                { "\"24h\"", 24 * USEC_PER_HOUR },
                { "\"8760h\"", 8760 * USEC_PER_HOUR },
        };

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(policy_freep) Policy *p = NULL;

                assert_true(asprintf(&text, "{\"cgroups\": [\"/\"], \"processes\": {\"min_anon_memory\": %s}}",
                                     sizes[i].value) >= 0);
                p = parse_ok(text);
                assert_true(p->min_anon_bytes == sizes[i].bytes);
        }
        for (size_t i = 0; i < ELEMENTSOF(ages); i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(policy_freep) Policy *p = NULL;

                assert_true(asprintf(&text, "{\"cgroups\": [\"/\"], \"processes\": {\"min_age\": %s}}",
                                     ages[i].value) >= 0);
                p = parse_ok(text);
                assert_true(p->min_age_usec == ages[i].usec);
        }
        for (int prio = -1000; prio <= 1000; prio += 500) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(policy_freep) Policy *p = NULL;

                assert_true(asprintf(&text, "{\"cgroups\": [\"/\"], \"priority\": %d}", prio) >= 0);
                p = parse_ok(text);
                assert_int_equal(p->priority, prio);
        }
}

static void test_parse_globs_accepted(void **state) {
        /* globs fnmatch() takes as we mean them */
        /* raw globs here, JSON-encoded by parse_glob() */
        static const char *const cgroups[] = {
                "/", "/*", "/machine.slice", "/machine.slice/*.scope", "/a/b?/c", "/vm[0-9]",
                "/vm[!0-9]", "/vm[^a]", "/vm[]]", "/vm[!]]", "/vm[[:digit:][:alpha:]]", "/x\\[y",
                "/x\\*", "/x\\\\", "/machine.slice/machine-qemu\\\\x2d1\\\\x2dvm.scope", "/a.b/c..d/...",
                "/user.slice/user-[0-9]*.slice/user@*.service/app.slice", "/a/[.]x", "/a/.hidden/..x",
        };
        static const char *const comms[] = {
                "qemu-kvm", "qemu-system-*", "*", "?", "kworker/0:1", "postgres: *", "[a-z]*",
                "123456789012345", "12345678901234*5", "*********************", "[[:alpha:]]x[[]",
                "a[/]b", "**", "\\[", "x\\\\",
        };
        static const char *const exes[] = {
                "/usr/bin/qemu-system-*", "/usr/libexec/qemu-kvm", "/opt/*/bin/java", "/*",
        };

        for (size_t i = 0; i < ELEMENTSOF(cgroups); i++) {
                _cleanup_(policy_freep) Policy *p = parse_glob("cgroups", cgroups[i]);

                assert_int_equal(p->n_cgroups, 1);
                assert_string_equal(p->cgroups[0], cgroups[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(comms); i++) {
                _cleanup_(policy_freep) Policy *p = parse_glob("comm", comms[i]);

                assert_int_equal(p->n_comm, 1);
                assert_string_equal(p->comm[0], comms[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(exes); i++) {
                _cleanup_(policy_freep) Policy *p = parse_glob("exe", exes[i]);

                assert_int_equal(p->n_exe, 1);
        }
}

static void test_parse_limits_inclusive(void **state) {
        _cleanup_free_ char *text = NULL, *desc = NULL, *glob = NULL;
        _cleanup_(policy_freep) Policy *p = NULL, *q = NULL;

        /* 1024 characters of description, counted as characters: "é" is two bytes */
        desc = malloc(2 * 1024 + 1);
        assert_non_null(desc);
        for (size_t i = 0; i < 1024; i++)
                memcpy(desc + 2 * i, "\xc3\xa9", 2);
        desc[2 * 1024] = 0;
        /* a 4096-byte cgroup glob */
        glob = malloc(4097);
        assert_non_null(glob);
        glob[0] = '/';
        memset(glob + 1, 'a', 4095);
        glob[4096] = 0;

        assert_true(asprintf(&text, "{\"description\": \"%s\", \"cgroups\": [\"%s\"]}", desc, glob) >= 0);
        p = parse_ok(text);
        assert_string_equal(p->description, desc);
        assert_int_equal(strlen(p->cgroups[0]), 4096);

        q = parse_ok("{\"cgroups\": [\"/\"], \"processes\": {\"uid\": [0, 4294967294]}}");
        assert_int_equal(q->n_uids, 2);
}

static void test_parse_names(void **state) {
        static const char *const good[] = {
                "a", "50-default", "vm@host_1.example", "A-Z.a-z_0-9@",
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890"
                "123456789012345678901234567890123456789012345678",     /* 128 */
        };
        static const struct {
                const char *name;
                const char *error;
        } bad[] = {
                { "", "x.json: empty policy name, expected 1 to 128 characters (the file name without \".json\")" },
                { "with space", "x.json: invalid character ' ' in policy name \"with space\", expected only A-Z, a-z, "
                  "0-9, \"_\", \".\", \"@\" and \"-\"" },
                { "a/b", "x.json: invalid character '/' in policy name \"a/b\", expected only A-Z, a-z, 0-9, "
                  "\"_\", \".\", \"@\" and \"-\"" },
                { "caf\xc3\xa9", "x.json: invalid byte 0xc3 in policy name, expected only A-Z, a-z, 0-9, \"_\", "
                  "\".\", \"@\" and \"-\"" },
                { "12345678901234567890123456789012345678901234567890123456789012345678901234567890"
                  "1234567890123456789012345678901234567890123456789",   /* 129 */
                  "x.json: policy name too long, expected 1 to 128 characters (the file name without "
                  "\".json\"), got 129" },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_(policy_freep) Policy *p = NULL;
                JsonError err = {};

                assert_int_equal(policy_parse_string("{\"cgroups\": [\"/\"]}", good[i], NULL, &p, &err), 0);
                assert_string_equal(p->name, good[i]);
                assert_null(p->path);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Policy *p = NULL;
                JsonError err = {};
                char buf[1024];

                assert_int_equal(policy_parse_string("{\"cgroups\": [\"/\"]}", bad[i].name, "x.json", &p, &err),
                                 -EINVAL);
                assert_null(p);
                assert_string_equal(json_error_format(&err, buf, sizeof(buf)), bad[i].error);
        }

        /* without a path, errors name the policy */
        {
                Policy *p = NULL;
                JsonError err = {};
                char buf[1024];

                assert_int_equal(policy_parse_string("{}", "vms", NULL, &p, &err), -EINVAL);
                assert_string_equal(json_error_format(&err, buf, sizeof(buf)), "vms: cgroups: missing mandatory key");
        }
}

static void test_enum_names(void **state) {
        assert_string_equal(policy_action_to_string(POLICY_ACTION_MERGE), "merge");
        assert_string_equal(policy_action_to_string(POLICY_ACTION_NEVER), "never");
        assert_string_equal(policy_action_to_string(POLICY_ACTION_IGNORE), "ignore");
        assert_null(policy_action_to_string(_POLICY_ACTION_MAX));
        assert_null(policy_action_to_string(_POLICY_ACTION_INVALID));
        assert_string_equal(policy_unmatched_to_string(POLICY_UNMATCHED_LEAVE), "leave");
        assert_string_equal(policy_unmatched_to_string(POLICY_UNMATCHED_UNMERGE), "unmerge");
        assert_null(policy_unmatched_to_string(_POLICY_UNMATCHED_MAX));
        assert_null(policy_unmatched_to_string(_POLICY_UNMATCHED_INVALID));

        /* "action" and "when_unmatched" words round-trip; "backend" takes merge_backend_to_string() names */
        for (PolicyAction a = 0; a < _POLICY_ACTION_MAX; a++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(policy_freep) Policy *p = NULL;

                assert_true(asprintf(&text, "{\"cgroups\": [\"/\"], \"action\": \"%s\"}", policy_action_to_string(a)) >= 0);
                p = parse_ok(text);
                assert_int_equal(p->action, a);
        }
        for (PolicyUnmatched u = 0; u < _POLICY_UNMATCHED_MAX; u++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(policy_freep) Policy *p = NULL;

                assert_true(asprintf(&text, "{\"cgroups\": [\"/\"], \"when_unmatched\": \"%s\"}",
                                     policy_unmatched_to_string(u)) >= 0);
                p = parse_ok(text);
                assert_int_equal(p->when_unmatched, u);
        }
        for (MergeBackend b = 0; b < _MERGE_BACKEND_MAX; b++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(policy_freep) Policy *p = NULL;

                assert_true(asprintf(&text, "{\"cgroups\": [\"/\"], \"backend\": \"%s\"}", merge_backend_to_string(b)) >= 0);
                p = parse_ok(text);
                assert_int_equal(p->backend, b);
                assert_int_equal(merge_backend_from_string(merge_backend_to_string(b)), b);
        }
}

/* Malformed policies */

/* Every file in tests/fixtures/policies/invalid, and its error after the file name. */
static const struct {
        const char *file;
        const char *error;
} invalid_corpus[] = {
        /* syntax: line and column */
        { "syntax.json", ":2:13: ':' expected near '['" },
        { "trailing-comma.json", ":3:1: string or '}' expected near '}'" },
        { "trailing-garbage.json", ":2:1: end of file expected near '}'" },
        { "comment.json", ":1:1: '[' or '{' expected near '/'" },
        { "top-level-string.json", ":1:24: '[' or '{' expected" },
        { "not-utf8.json", ":1:21: unable to decode byte 0xe9 near '\"caf'" },
        { "nul-escape.json", ":1:30: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"/a.slice\\u0000\"'" },
        { "deep-nesting.json", ":1:2061: maximum parsing depth reached near '['" },
        { "duplicate-key.json", ":4:11: duplicate object key near '\"cgroups\"'" },
        { "duplicate-nested-key.json", ":5:10: duplicate object key near '\"comm\"'" },
        /* structure */
        { "top-level-array.json", ": expected a JSON object at the top level, got an array" },
        { "empty-object.json", ": cgroups: missing mandatory key" },
        { "missing-cgroups.json", ": cgroups: missing mandatory key" },
        { "unknown-key.json", ": prio: unknown key (known keys: description, cgroups, descendants, processes, "
          "action, backend, priority, when_unmatched, allow_seccomp, effort)" },
        { "unknown-nested-key.json", ": processes.user: unknown key (known keys: comm, exe, uid, min_anon_memory, "
          "min_age)" },
        { "processes-array.json", ": processes: expected an object, got an array" },
        { "bad!name.json", ": invalid character '!' in policy name \"bad!name\", expected only A-Z, a-z, 0-9, "
          "\"_\", \".\", \"@\" and \"-\"" },
        /* cgroups */
        { "cgroups-empty.json", ": cgroups: expected a non-empty array of strings, got an empty array" },
        { "cgroups-string.json", ": cgroups: expected an array of strings, got a string" },
        { "cgroups-not-string.json", ": cgroups[1]: expected a string, got an integer" },
        { "cgroups-empty-string.json", ": cgroups[0]: expected a non-empty string" },
        { "cgroups-relative.json", ": cgroups[0]: expected an absolute path glob starting with \"/\", "
          "got \"machine.slice/*.scope\"" },
        { "cgroups-double-slash.json", ": cgroups[0]: expected a normalized path without \"//\", "
          "got \"/machine.slice//x.scope\"" },
        { "cgroups-dotdot.json", ": cgroups[1]: expected a normalized path without \"..\" components, "
          "got \"/machine.slice/../system.slice\"" },
        { "cgroups-trailing-dotdot.json", ": cgroups[0]: expected a normalized path without \"..\" components, "
          "got \"/machine.slice/..\"" },
        { "cgroups-dot.json", ": cgroups[0]: expected a normalized path without \".\" components, "
          "got \"/./machine.slice\"" },
        { "cgroups-trailing-slash.json", ": cgroups[0]: expected no trailing \"/\", got \"/machine.slice/\"" },
        { "cgroups-unbalanced-bracket.json", ": cgroups[0]: invalid glob \"/machine.slice/vm[0-9.scope\": \"[\" at "
          "offset 17 has no closing \"]\" (write \"\\[\" for a literal \"[\")" },
        { "cgroups-bad-class.json", ": cgroups[0]: invalid glob \"/machine.slice/vm[[:num:]].scope\": unknown "
          "character class \"[:num:]\", expected one of alnum, alpha, blank, cntrl, digit, graph, lower, print, "
          "punct, space, upper, xdigit" },
        { "cgroups-collating.json", ": cgroups[0]: invalid glob \"/machine.slice/vm[[.a.]].scope\": collating "
          "symbols \"[.\" and equivalence classes \"[=\" are not supported" },
        { "cgroups-slash-in-bracket.json", ": cgroups[0]: invalid glob \"/machine.slice[/]x.scope\": a bracket "
          "expression never matches \"/\" in a path (offset 15)" },
        { "cgroups-trailing-backslash.json", ": cgroups[0]: invalid glob \"/machine.slice/vm\\\": it ends with a "
          "lone \"\\\" (write \"\\\\\" for a literal backslash)" },
        { "cgroups-double-star.json", ": cgroups[0]: expected \"*\" instead of \"**\", which does not cross \"/\" "
          "either (\"descendants\": true selects sub-cgroups), got \"/machine.slice/**\"" },
        { "cgroups-too-long.json", ": cgroups[0]: expected at most 4096 bytes, got 4097" },
        /* processes */
        { "comm-empty-string.json", ": processes.comm[1]: expected a non-empty string" },
        { "comm-not-array.json", ": processes.comm: expected an array of strings, got a string" },
        { "comm-too-long.json", ": processes.comm[0]: expected a glob that can match a comm of at most 15 "
          "characters (the kernel truncates longer names), got \"qemu-system-x86_64\", which needs at least 18" },
        { "comm-unbalanced-bracket.json", ": processes.comm[0]: invalid glob \"postgres[\": \"[\" at offset 8 has "
          "no closing \"]\" (write \"\\[\" for a literal \"[\")" },
        { "exe-relative.json", ": processes.exe[0]: expected an absolute path glob starting with \"/\", "
          "got \"qemu-system-x86_64\"" },
        { "exe-root.json", ": processes.exe[0]: expected the path of an executable, got \"/\"" },
        { "uid-negative.json", ": processes.uid[1]: expected a numeric uid from 0 to 4294967294, got -1" },
        { "uid-too-large.json", ": processes.uid[0]: expected a numeric uid from 0 to 4294967294, got 4294967295" },
        { "uid-name.json", ": processes.uid[0]: expected a numeric uid from 0 to 4294967294, got a string" },
        { "uid-empty.json", ": processes.uid: expected a non-empty array of uids, got an empty array" },
        { "min-anon-bad-suffix.json", ": processes.min_anon_memory: expected a size such as \"64M\" (K, M, G, T: "
          "powers of 1024) or an integer number of bytes, got \"64MB\"" },
        { "min-anon-fraction.json", ": processes.min_anon_memory: expected a size such as \"64M\" (K, M, G, T: "
          "powers of 1024) or an integer number of bytes, got a number with a fraction" },
        { "min-anon-negative.json", ": processes.min_anon_memory: expected a non-negative size, got -1" },
        { "min-anon-too-large.json", ": processes.min_anon_memory: size \"1025T\" out of range, expected at most "
          "1024T" },
        { "min-age-days.json", ": processes.min_age: expected a duration such as \"10s\", \"500ms\" or \"2min\", "
          "got \"1d\"" },
        { "min-age-number.json", ": processes.min_age: expected a duration string such as \"10s\" or \"500ms\", "
          "got an integer" },
        { "min-age-too-long.json", ": processes.min_age: duration \"8761h\" out of range, expected at most "
          "\"8760h\" (365 days)" },
        /* the other keys */
        { "priority-too-high.json", ": priority: expected an integer from -1000 to 1000, got 1001" },
        { "priority-too-low.json", ": priority: expected an integer from -1000 to 1000, got -1001" },
        { "priority-string.json", ": priority: expected an integer from -1000 to 1000, got a string" },
        { "priority-fraction.json", ": priority: expected an integer from -1000 to 1000, got a number with a "
          "fraction" },
        { "action-bad.json", ": action: expected one of \"merge\", \"never\", \"ignore\", got \"opt-out\"" },
        { "action-case.json", ": action: expected one of \"merge\", \"never\", \"ignore\", got \"Never\"" },
        { "backend-bad.json", ": backend: expected one of \"auto\", \"inject\", \"madvise\", got \"ptrace\"" },
        { "when-unmatched-bad.json", ": when_unmatched: expected one of \"leave\", \"unmerge\", got \"stop\"" },
        { "allow-seccomp-string.json", ": allow_seccomp: expected true or false, got a string" },
        { "descendants-number.json", ": descendants: expected true or false, got an integer" },
        { "descendants-null.json", ": descendants: expected true or false, got null" },
        { "description-number.json", ": description: expected a string, got an integer" },
        { "description-too-long.json", ": description: expected at most 1024 characters, got 1025" },
};

static void test_invalid_corpus(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(invalid_corpus); i++) {
                _cleanup_free_ char *rel = NULL, *path = NULL, *expected = NULL;
                Policy *p = NULL;
                JsonError err = {};
                char buf[2048];

                assert_true(asprintf(&rel, "policies/invalid/%s", invalid_corpus[i].file) >= 0);
                path = fixture_path(rel);
                assert_true(asprintf(&expected, "%s%s", path, invalid_corpus[i].error) >= 0);

                if (policy_load_file(path, &p, &err) != -EINVAL)
                        fail_msg("%s: expected -EINVAL", invalid_corpus[i].file);
                assert_null(p);
                assert_string_equal(err.file, path);
                /* either a position or a JSON path, never both */
                assert_true(err.line == 0 || isempty(err.path));
                assert_string_equal(json_error_format(&err, buf, sizeof(buf)), expected);
        }
}

static void test_invalid_corpus_complete(void **state) {
        _cleanup_free_ char *dir = fixture_path("policies/invalid");
        _cleanup_(policy_set_freep) PolicySet *s = NULL;
        const char *dirs[] = { dir };
        struct dirent *de;
        size_t n = 0;
        DIR *d;

        /* every file has its row in the table, and there are enough of them */
        d = opendir(dir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                bool found = false;

                if (de->d_name[0] == '.')
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(invalid_corpus) && !found; i++)
                        found = streq(invalid_corpus[i].file, de->d_name);
                if (!found)
                        fail_msg("policies/invalid/%s has no expected error in invalid_corpus[]", de->d_name);
                n++;
        }
        closedir(d);
        assert_int_equal(n, ELEMENTSOF(invalid_corpus));
        assert_true(n >= 25);

        /* loaded as a directory: nothing loads, one error per file, in name order */
        assert_int_equal(policy_set_load(dirs, 1, &s), 0);
        assert_int_equal(s->n, 0);
        assert_int_equal(s->n_errors, n);
        for (size_t i = 1; i < s->n_errors; i++) {
                _cleanup_free_ char *a = strndup(s->errors[i - 1].file, strlen(s->errors[i - 1].file) - 5);
                _cleanup_free_ char *b = strndup(s->errors[i].file, strlen(s->errors[i].file) - 5);

                assert_true(strcmp(a, b) < 0);
        }
}

static void test_invalid_strings(void **state) {
        /* the corpus's cases that are easier to read inline, plus ones a file cannot hold well */
        assert_parse_error("", "test.json:1:1: '[' or '{' expected near end of file");
        assert_parse_error("null", "test.json:1:4: '[' or '{' expected near 'null'");
        assert_parse_error("{\"cgroups\": [\"/a\"]} {}", "test.json:1:21: end of file expected near '{'");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"comm\": [\"a\"], \"exe\": [\"/a//b\"]}}",
                           "test.json: processes.exe[0]: expected a normalized path without \"//\", got \"/a//b\"");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"exe\": [\"/usr/bin/\"]}}",
                           "test.json: processes.exe[0]: expected no trailing \"/\", got \"/usr/bin/\"");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"exe\": [\"/usr/**/qemu\"]}}",
                           "test.json: processes.exe[0]: expected \"*\" instead of \"**\", which does not cross \"/\" "
                           "either, got \"/usr/**/qemu\"");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"comm\": [\"[[:alpha:]\"]}}",
                           "test.json: processes.comm[0]: invalid glob \"[[:alpha:]\": \"[\" at offset 0 has no "
                           "closing \"]\" (write \"\\[\" for a literal \"[\")");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"comm\": [\"[[:alpha]]\"]}}",
                           "test.json: processes.comm[0]: invalid glob \"[[:alpha]]\": \"[:\" at offset 1 has no "
                           "closing \":]\"");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"comm\": [\"[a\\\\\"]}}",
                           "test.json: processes.comm[0]: invalid glob \"[a\\\": \"[\" at offset 0 has no closing "
                           "\"]\" (write \"\\[\" for a literal \"[\")");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"comm\": [\"[[=a=]]\"]}}",
                           "test.json: processes.comm[0]: invalid glob \"[[=a=]]\": collating symbols \"[.\" and "
                           "equivalence classes \"[=\" are not supported");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"comm\": [\"1234567890123456\"]}}",
                           "test.json: processes.comm[0]: expected a glob that can match a comm of at most 15 "
                           "characters (the kernel truncates longer names), got \"1234567890123456\", which needs at "
                           "least 16");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"comm\": [\"?????[a-z]\\\\x?????????\"]}}",
                           "test.json: processes.comm[0]: expected a glob that can match a comm of at most 15 "
                           "characters (the kernel truncates longer names), got \"?????[a-z]\\x?????????\", which "
                           "needs at least 16");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"uid\": 0}}",
                           "test.json: processes.uid: expected an array of uids, got an integer");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"uid\": [1.0]}}",
                           "test.json: processes.uid[0]: expected a numeric uid from 0 to 4294967294, got a number "
                           "with a fraction");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"min_anon_memory\": \"1125899906842625\"}}",
                           "test.json: processes.min_anon_memory: size \"1125899906842625\" out of range, expected "
                           "at most 1024T");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"min_anon_memory\": 1125899906842625}}",
                           "test.json: processes.min_anon_memory: size 1125899906842625 out of range, expected at "
                           "most 1024T");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"min_anon_memory\": \"99999999999999999999T\"}}",
                           "test.json: processes.min_anon_memory: size \"99999999999999999999T\" out of range, "
                           "expected at most 1024T");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": {\"min_anon_memory\": \"64 M\"}}",
                           "test.json: processes.min_anon_memory: expected a size such as \"64M\" (K, M, G, T: powers "
                           "of 1024) or an integer number of bytes, got \"64 M\"");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"processes\": null}",
                           "test.json: processes: expected an object, got null");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"priority\": 99999999999999999}",
                           "test.json: priority: expected an integer from -1000 to 1000, got 99999999999999999");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"priority\": 1e3}",
                           "test.json: priority: expected an integer from -1000 to 1000, got a number with a fraction");
        assert_parse_error("{\"cgroups\": [\"/a\"], \"action\": null}",
                           "test.json: action: expected one of \"merge\", \"never\", \"ignore\", got null");
        assert_parse_error("{\"cgroups\": [[\"/a\"]]}", "test.json: cgroups[0]: expected a string, got an array");
        assert_parse_error("{\"cgroups\": {\"/a\": true}}", "test.json: cgroups: expected an array of strings, got an object");
        /* the first error in file order wins */
        assert_parse_error("{\"priority\": 5000, \"cgroups\": []}",
                           "test.json: priority: expected an integer from -1000 to 1000, got 5000");
        assert_parse_error("{\"cgroups\": [], \"priority\": 5000}",
                           "test.json: cgroups: expected a non-empty array of strings, got an empty array");
}

static void test_invalid_list_sizes(void **state) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, size = 16 * 1025 + 64;
        char buf[1024];

        /* 1025 cgroup globs: one too many */
        text = malloc(size);
        assert_non_null(text);
        len += (size_t) snprintf(text + len, size - len, "{\"cgroups\": [");
        for (int i = 0; i < 1025; i++)
                len += (size_t) snprintf(text + len, size - len, "%s\"/a%d\"", i ? "," : "", i);
        snprintf(text + len, size - len, "]}");
        assert_string_equal(parse_fail(text, buf, sizeof(buf)),
                            "test.json: cgroups: expected at most 1024 entries, got 1025");
}

static void test_no_crash_on_mutations(void **state) {
        /* every truncation and many single-byte changes of a policy using every key: 0 or -EINVAL,
         * never a crash or a leak (run under ASan) */
        _cleanup_free_ char *text = fixture_read("policies/valid/full.json");
        static const char replacements[] = "\"{}[],:\\0 x*?/-.e";
        size_t len = strlen(text);
        size_t ok = 0, bad = 0;

        for (size_t cut = 0; cut <= len; cut++) {
                _cleanup_free_ char *t = strndup(text, cut);
                _cleanup_(policy_freep) Policy *p = NULL;
                JsonError err = {};
                int r;

                assert_non_null(t);
                r = policy_parse_string(t, "m", NULL, &p, &err);
                assert_true(r == 0 || r == -EINVAL);
                r == 0 ? ok++ : bad++;
        }
        for (size_t i = 0; i < len; i++)
                for (size_t k = 0; k < sizeof(replacements) - 1; k++) {
                        _cleanup_free_ char *t = strdup(text);
                        _cleanup_(policy_freep) Policy *p = NULL;
                        JsonError err = {};
                        int r;

                        assert_non_null(t);
                        t[i] = replacements[k];
                        r = policy_parse_string(t, "m", NULL, &p, &err);
                        assert_true(r == 0 || r == -EINVAL);
                        if (r < 0)
                                assert_true(err.message[0] != 0);
                        r == 0 ? ok++ : bad++;
                }
        assert_true(ok > 0);
        assert_true(bad > 0);
}

/* Loading directories */

static void test_load_override_order(void **state) {
        const char *scratch = *state;
        _cleanup_(policy_set_freep) PolicySet *s = NULL;
        _cleanup_free_ char *vendor_b = NULL, *admin_e = NULL, *runtime_a = NULL, *link = NULL;
        const Policy *p;

        make_dirs(scratch);
        /* a: in all three, runtime wins; b: vendor only; c: vendor, masked by an empty admin file;
         * d: vendor, masked by a runtime symlink to /dev/null; e: admin only; f: admin and runtime */
        write_policy(scratch, "usr/lib", "a.json", "{\"cgroups\": [\"/vendor\"], \"priority\": 1}");
        write_policy(scratch, "etc", "a.json", "{\"cgroups\": [\"/admin\"], \"priority\": 2}");
        write_policy(scratch, "run", "a.json", "{\"cgroups\": [\"/runtime\"], \"priority\": 3}");
        write_policy(scratch, "usr/lib", "b.json", "{\"cgroups\": [\"/b\"]}");
        write_policy(scratch, "usr/lib", "c.json", "{\"cgroups\": [\"/c\"]}");
        write_policy(scratch, "etc", "c.json", "");
        write_policy(scratch, "usr/lib", "d.json", "{\"cgroups\": [\"/d\"]}");
        assert_true(asprintf(&link, "%s/d.json", set_dirs[2]) >= 0);
        assert_int_equal(symlink("/dev/null", link), 0);
        write_policy(scratch, "etc", "e.json", "{\"cgroups\": [\"/e\"], \"action\": \"never\"}");
        write_policy(scratch, "etc", "f.json", "{\"cgroups\": [\"/f-admin\"]}");
        write_policy(scratch, "run", "f.json", "{\"cgroups\": [\"/f-runtime\"]}");

        s = load_set();
        assert_int_equal(s->n_errors, 0);
        assert_int_equal(s->n, 4);
        assert_string_equal(s->policies[0]->name, "a");
        assert_string_equal(s->policies[1]->name, "b");
        assert_string_equal(s->policies[2]->name, "e");
        assert_string_equal(s->policies[3]->name, "f");

        assert_true(asprintf(&runtime_a, "%s/a.json", set_dirs[2]) >= 0);
        assert_true(asprintf(&vendor_b, "%s/b.json", set_dirs[0]) >= 0);
        assert_true(asprintf(&admin_e, "%s/e.json", set_dirs[1]) >= 0);
        p = set_find(s, "a");
        assert_string_equal(p->path, runtime_a);
        assert_string_equal(p->cgroups[0], "/runtime");
        assert_int_equal(p->priority, 3);
        assert_string_equal(set_find(s, "b")->path, vendor_b);
        assert_string_equal(set_find(s, "e")->path, admin_e);
        assert_int_equal(set_find(s, "e")->action, POLICY_ACTION_NEVER);
        assert_string_equal(set_find(s, "f")->cgroups[0], "/f-runtime");
        assert_null(set_find(s, "c"));
        assert_null(set_find(s, "d"));
}

static void test_load_admin_over_vendor(void **state) {
        const char *scratch = *state;
        _cleanup_(policy_set_freep) PolicySet *s = NULL;
        _cleanup_free_ char *link = NULL;

        make_dirs(scratch);
        /* admin overrides vendor; a runtime mask removes the admin one too; an admin /dev/null
         * symlink masks a vendor file, and a runtime file of that name brings it back */
        write_policy(scratch, "usr/lib", "50-default.json", "{\"cgroups\": [\"/vendor\"]}");
        write_policy(scratch, "etc", "50-default.json", "{\"cgroups\": [\"/admin\"]}");
        write_policy(scratch, "usr/lib", "60-x.json", "{\"cgroups\": [\"/vendor\"]}");
        write_policy(scratch, "etc", "60-x.json", "{\"cgroups\": [\"/admin\"]}");
        write_policy(scratch, "run", "60-x.json", "");
        write_policy(scratch, "usr/lib", "70-y.json", "{\"cgroups\": [\"/vendor\"]}");
        assert_true(asprintf(&link, "%s/70-y.json", set_dirs[1]) >= 0);
        assert_int_equal(symlink("/dev/null", link), 0);
        write_policy(scratch, "run", "70-y.json", "{\"cgroups\": [\"/runtime\"]}");

        s = load_set();
        assert_int_equal(s->n_errors, 0);
        assert_int_equal(s->n, 2);
        assert_string_equal(s->policies[0]->name, "50-default");
        assert_string_equal(s->policies[0]->cgroups[0], "/admin");
        assert_string_equal(s->policies[1]->name, "70-y");
        assert_string_equal(s->policies[1]->cgroups[0], "/runtime");
}

static void test_load_bad_file_shadows(void **state) {
        const char *scratch = *state;
        _cleanup_(policy_set_freep) PolicySet *s = NULL;
        _cleanup_free_ char *bad = NULL;
        char buf[1024];

        make_dirs(scratch);
        /* a broken admin override must not let the vendor policy of that name come back: the error
         * is reported and the name is absent; other files load */
        write_policy(scratch, "usr/lib", "vms.json", "{\"cgroups\": [\"/machine.slice/*.scope\"]}");
        write_policy(scratch, "etc", "vms.json", "{\"cgroups\": [\"/machine.slice/*.scope\"], \"action\": \"nevr\"}");
        write_policy(scratch, "etc", "other.json", "{\"cgroups\": [\"/other\"]}");

        s = load_set();
        assert_int_equal(s->n, 1);
        assert_string_equal(s->policies[0]->name, "other");
        assert_int_equal(s->n_errors, 1);
        assert_true(asprintf(&bad, "%s/vms.json: action: expected one of \"merge\", \"never\", \"ignore\", got \"nevr\"",
                             set_dirs[1]) >= 0);
        assert_string_equal(json_error_format(&s->errors[0], buf, sizeof(buf)), bad);
}

static void test_load_file_kinds(void **state) {
        const char *scratch = *state;
        _cleanup_(policy_set_freep) PolicySet *s = NULL;
        _cleanup_free_ char *lnk = NULL, *dangling = NULL, *fifo = NULL, *e0 = NULL, *e1 = NULL, *e2 = NULL,
                *e3 = NULL;
        char buf[1024];

        make_dirs(scratch);
        write_policy(scratch, "etc", "real.json", "{\"cgroups\": [\"/real\"]}");
        /* a symlink to a regular file loads under the symlink's name, from its path */
        assert_true(asprintf(&lnk, "%s/linked.json", set_dirs[1]) >= 0);
        assert_int_equal(symlink("real.json", lnk), 0);
        /* ignored: other suffixes, hidden files, a bare ".json", directories named *.json */
        write_policy(scratch, "etc", "notes.txt", "not a policy");
        write_policy(scratch, "etc", "real.json.bak", "{");
        write_policy(scratch, "etc", "real.json~", "{");
        write_policy(scratch, "etc", ".hidden.json", "{");
        write_policy(scratch, "etc", ".json", "{");
        write_policy(scratch, "etc", "dir.json/inner.json", "{\"cgroups\": [\"/inner\"]}");
        write_policy(scratch, "usr/lib", "dir.json", "{\"cgroups\": [\"/vendor-dir\"]}");
        /* errors: a dangling symlink, a FIFO, a bad name, a top-level that is not an object */
        assert_true(asprintf(&dangling, "%s/dangling.json", set_dirs[1]) >= 0);
        assert_int_equal(symlink("no-such-file.json", dangling), 0);
        assert_true(asprintf(&fifo, "%s/fifo.json", set_dirs[1]) >= 0);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        write_policy(scratch, "etc", "bad name.json", "{\"cgroups\": [\"/x\"]}");
        write_policy(scratch, "etc", "list.json", "[]");

        s = load_set();
        assert_int_equal(s->n, 3);
        assert_string_equal(s->policies[0]->name, "dir");       /* the vendor file: the directory is skipped */
        assert_string_equal(s->policies[0]->cgroups[0], "/vendor-dir");
        assert_string_equal(s->policies[1]->name, "linked");
        assert_string_equal(s->policies[1]->path, lnk);
        assert_string_equal(s->policies[1]->cgroups[0], "/real");
        assert_string_equal(s->policies[2]->name, "real");

        assert_int_equal(s->n_errors, 4);
        assert_true(asprintf(&e0, "%s/bad name.json: invalid character ' ' in policy name \"bad name\", expected only "
                             "A-Z, a-z, 0-9, \"_\", \".\", \"@\" and \"-\"", set_dirs[1]) >= 0);
        assert_true(asprintf(&e1, "%s: cannot open: No such file or directory", dangling) >= 0);
        assert_true(asprintf(&e2, "%s: not a regular file, expected a regular file (or a symlink to one, or to "
                             "/dev/null to mask)", fifo) >= 0);
        assert_true(asprintf(&e3, "%s/list.json: expected a JSON object at the top level, got an array",
                             set_dirs[1]) >= 0);
        assert_string_equal(json_error_format(&s->errors[0], buf, sizeof(buf)), e0);
        assert_string_equal(json_error_format(&s->errors[1], buf, sizeof(buf)), e1);
        assert_string_equal(json_error_format(&s->errors[2], buf, sizeof(buf)), e2);
        assert_string_equal(json_error_format(&s->errors[3], buf, sizeof(buf)), e3);
}

static void test_load_missing_and_bad_dirs(void **state) {
        const char *scratch = *state;
        _cleanup_(policy_set_freep) PolicySet *s = NULL;
        PolicySet *t = NULL;
        _cleanup_free_ char *file = NULL;
        const char *dirs[2];

        make_dirs(scratch);
        /* none of the three exists: an empty set */
        s = load_set();
        assert_int_equal(s->n, 0);
        assert_int_equal(s->n_errors, 0);
        s = policy_set_free(s);

        /* no directories at all */
        assert_int_equal(policy_set_load(NULL, 0, &s), 0);
        assert_int_equal(s->n, 0);

        /* a "directory" that is a file is an error of the whole load */
        scratch_write(scratch, "file", "x");
        assert_true(asprintf(&file, "%s/file", scratch) >= 0);
        dirs[0] = set_dirs[0];
        dirs[1] = file;
        assert_int_equal(policy_set_load(dirs, 2, &t), -ENOTDIR);
        assert_null(t);
}

static void test_load_many_sorted(void **state) {
        const char *scratch = *state;
        _cleanup_(policy_set_freep) PolicySet *s = NULL;

        make_dirs(scratch);
        /* enough files to grow the arrays several times, written out of order over the three dirs */
        for (int i = 99; i >= 0; i--) {
                static const char *const where[] = { "usr/lib", "etc", "run" };
                char name[32];

                snprintf(name, sizeof(name), "%02d-p.json", i);
                write_policy(scratch, where[i % 3], name, i % 7 == 0 ? "{\"cgroups\": 1}" : "{\"cgroups\": [\"/x\"]}");
        }
        s = load_set();
        assert_int_equal(s->n + s->n_errors, 100);
        assert_int_equal(s->n_errors, 15);                      /* 0, 7, …, 98 */
        for (size_t i = 1; i < s->n; i++)
                assert_true(strcmp(s->policies[i - 1]->name, s->policies[i]->name) < 0);
}

static void test_load_file_errors(void **state) {
        const char *scratch = *state;
        _cleanup_free_ char *missing = NULL, *empty = NULL, *big = NULL, *expected = NULL, *text = NULL;
        Policy *p = NULL;
        JsonError err = {};
        char buf[1024];

        assert_true(asprintf(&missing, "%s/missing.json", scratch) >= 0);
        assert_int_equal(policy_load_file(missing, &p, &err), -ENOENT);
        assert_true(asprintf(&expected, "%s: cannot open: No such file or directory", missing) >= 0);
        assert_string_equal(json_error_format(&err, buf, sizeof(buf)), expected);
        expected = mfree_str(expected);

        /* empty: an error when loaded on its own (it only masks inside a directory) */
        scratch_write(scratch, "empty.json", "");
        assert_true(asprintf(&empty, "%s/empty.json", scratch) >= 0);
        assert_int_equal(policy_load_file(empty, &p, &err), -EINVAL);
        assert_true(asprintf(&expected, "%s: empty file, expected a JSON object (in a policy directory an empty file "
                             "masks the policy of the same name)", empty) >= 0);
        assert_string_equal(json_error_format(&err, buf, sizeof(buf)), expected);
        expected = mfree_str(expected);

        /* a directory */
        assert_int_equal(policy_load_file(scratch, &p, &err), -EISDIR);

        /* larger than 1 MiB */
        text = malloc(1024 * 1024 + 2);
        assert_non_null(text);
        memset(text, ' ', 1024 * 1024 + 1);
        text[0] = '{';
        text[1024 * 1024] = '}';
        text[1024 * 1024 + 1] = 0;
        scratch_write(scratch, "big.json", text);
        assert_true(asprintf(&big, "%s/big.json", scratch) >= 0);
        assert_int_equal(policy_load_file(big, &p, &err), -EFBIG);
        assert_true(asprintf(&expected, "%s: file too large (1048577 bytes), expected at most 1 MiB", big) >= 0);
        assert_string_equal(json_error_format(&err, buf, sizeof(buf)), expected);

        /* a NUL byte in the file is not the end of it */
        {
                _cleanup_free_ char *nul = NULL;
                static const char content[] = "{\"cgroups\": [\"/a\"]}\0{";
                int fd;

                assert_true(asprintf(&nul, "%s/nul.json", scratch) >= 0);
                fd = open(nul, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, content, sizeof(content) - 1), sizeof(content) - 1);
                close(fd);
                assert_int_equal(policy_load_file(nul, &p, &err), -EINVAL);
                assert_int_equal(err.line, 1);
                assert_null(p);
        }

        assert_null(p);
}

/* Matching */

static void test_match_cgroup_globs(void **state) {
        _cleanup_(policy_freep) Policy *p = parse_ok("{\"cgroups\": [\"/machine.slice/*.scope\", \"/vm[0-9]\", "
                                                     "\"/a?c\", \"/lit\\\\*\"]}");
        static const struct {
                const char *cgroup;
                bool match;
        } table[] = {
                { "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope", true },
                { "/machine.slice/.scope", true },
                { "/machine.slice/a.scope/libvirt", false },     /* no descendants */
                { "/machine.slice/a/b.scope", false },           /* '*' does not cross '/' */
                { "/machine.slice/a.service", false },
                { "/machine.slice", false },
                { "/vm3", true },
                { "/vm", false },
                { "/vm10", false },
                { "/abc", true },
                { "/ac", false },
                { "/lit*", true },
                { "/litx", false },
                { "machine.slice/a.scope", false },              /* not a cgroup path */
                { "", false },
                { NULL, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (policy_matches_cgroup(p, table[i].cgroup) != table[i].match)
                        fail_msg("\"%s\": expected %s", strna(table[i].cgroup), table[i].match ? "match" : "no match");
}

static void test_match_descendants(void **state) {
        _cleanup_(policy_freep) Policy *p = parse_ok("{\"cgroups\": [\"/machine.slice/*.scope\"], \"descendants\": true}");
        _cleanup_(policy_freep) Policy *root = parse_ok("{\"cgroups\": [\"/\"], \"descendants\": true}");
        _cleanup_(policy_freep) Policy *root_only = parse_ok("{\"cgroups\": [\"/\"]}");
        _cleanup_(policy_freep) Policy *star = parse_ok("{\"cgroups\": [\"/*\"]}");
        _cleanup_(policy_freep) Policy *slice = parse_ok("{\"cgroups\": [\"/user.slice\"], \"descendants\": true}");
        static const struct {
                const char *cgroup;
                bool match;
        } table[] = {
                { "/machine.slice/a.scope", true },
                { "/machine.slice/a.scope/libvirt", true },
                { "/machine.slice/a.scope/libvirt/emulator", true },
                { "/machine.slice/a.scope/libvirt/vcpu0", true },
                { "/machine.slice/a.service/x.scope", false },   /* the ancestor "/machine.slice/a.service" does not match */
                { "/machine.slice", false },                     /* an ancestor of a match is not a descendant */
                { "/machine.slicex/a.scope", false },
                { "/", false },
                { NULL, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (policy_matches_cgroup(p, table[i].cgroup) != table[i].match)
                        fail_msg("\"%s\": expected %s", strna(table[i].cgroup), table[i].match ? "match" : "no match");

        /* "/" with descendants: every cgroup */
        assert_true(policy_matches_cgroup(root, "/"));
        assert_true(policy_matches_cgroup(root, "/system.slice"));
        assert_true(policy_matches_cgroup(root, "/a/b/c/d"));
        assert_false(policy_matches_cgroup(root, "relative"));
        /* "/" alone: the root cgroup only */
        assert_true(policy_matches_cgroup(root_only, "/"));
        assert_false(policy_matches_cgroup(root_only, "/system.slice"));
        /* "/" followed by "*": top-level cgroups, and the root itself ('*' matches the empty string) */
        assert_true(policy_matches_cgroup(star, "/system.slice"));
        assert_true(policy_matches_cgroup(star, "/"));
        assert_false(policy_matches_cgroup(star, "/system.slice/a.service"));
        /* whole components only */
        assert_true(policy_matches_cgroup(slice, "/user.slice/user-1000.slice"));
        assert_false(policy_matches_cgroup(slice, "/user.slicer"));
        assert_false(policy_matches_cgroup(slice, "/user"));
}

static void test_match_process_selectors(void **state) {
        _cleanup_(policy_freep) Policy *p = parse_ok(
                "{\"cgroups\": [\"/machine.slice/*.scope\"], \"descendants\": true, \"processes\": {"
                "\"comm\": [\"qemu-kvm\", \"qemu-system-*\"], \"exe\": [\"/usr/bin/qemu-*\"], \"uid\": [0, 107],"
                " \"min_anon_memory\": \"64M\", \"min_age\": \"30s\"}}");
        const ProcessFacts good = {
                .cgroup = "/machine.slice/vm.scope/libvirt/emulator",
                .comm = "qemu-system-x86",
                .exe = "/usr/bin/qemu-system-x86_64",
                .uid = 107,
                .anon_bytes = 64 << 20,
                .age_usec = 30 * USEC_PER_SEC,
        };
        ProcessFacts f;

        assert_true(policy_matches_process(p, &good));
        assert_true(policy_needs_exe(p));

        f = good, f.comm = "qemu-kvm";
        assert_true(policy_matches_process(p, &f));
        f = good, f.comm = "qemu";
        assert_false(policy_matches_process(p, &f));
        f = good, f.comm = NULL;
        assert_false(policy_matches_process(p, &f));

        f = good, f.cgroup = "/system.slice/vm.scope";
        assert_false(policy_matches_process(p, &f));
        f = good, f.cgroup = NULL;
        assert_false(policy_matches_process(p, &f));

        f = good, f.exe = "/usr/libexec/qemu-kvm";
        assert_false(policy_matches_process(p, &f));
        f = good, f.exe = "/usr/bin/x/qemu-kvm";               /* FNM_PATHNAME: '*' does not cross '/' */
        assert_false(policy_matches_process(p, &f));
        f = good, f.exe = "/usr/bin/qemu-x/y";
        assert_false(policy_matches_process(p, &f));
        f = good, f.exe = NULL;
        assert_false(policy_matches_process(p, &f));

        f = good, f.uid = 0;
        assert_true(policy_matches_process(p, &f));
        f = good, f.uid = 1000;
        assert_false(policy_matches_process(p, &f));

        f = good, f.anon_bytes = (64 << 20) - 1;
        assert_false(policy_matches_process(p, &f));
        f = good, f.anon_bytes = UINT64_MAX;
        assert_true(policy_matches_process(p, &f));

        f = good, f.age_usec = 30 * USEC_PER_SEC - 1;
        assert_false(policy_matches_process(p, &f));
        f = good, f.age_usec = USEC_INFINITY;
        assert_true(policy_matches_process(p, &f));
}

static void test_match_absent_selectors(void **state) {
        _cleanup_(policy_freep) Policy *p = parse_ok("{\"cgroups\": [\"/a\"]}");
        _cleanup_(policy_freep) Policy *comm = parse_ok("{\"cgroups\": [\"/a\"], \"processes\": {\"comm\": [\"*\"]}}");
        _cleanup_(policy_freep) Policy *exe = parse_ok("{\"cgroups\": [\"/a\"], \"processes\": {\"exe\": [\"/sbin/*\"]}}");
        _cleanup_(policy_freep) Policy *empty = parse_ok("{\"cgroups\": [\"/a\"], \"processes\": {}}");
        const ProcessFacts bare = { .cgroup = "/a" };          /* everything else unknown */
        const ProcessFacts facts = { .cgroup = "/a", .comm = "", .exe = "/sbin/init" };

        /* no selectors: the cgroup alone decides, whatever is unknown */
        assert_true(policy_matches_process(p, &bare));
        assert_true(policy_matches_process(empty, &bare));
        assert_false(policy_needs_exe(p));
        assert_false(policy_needs_exe(comm));
        /* a present selector never matches a NULL fact, even "*" */
        assert_false(policy_matches_process(comm, &bare));
        assert_false(policy_matches_process(exe, &bare));
        assert_true(policy_matches_process(comm, &facts));
        assert_true(policy_matches_process(exe, &facts));
}

static void test_match_comm_globs(void **state) {
        _cleanup_(policy_freep) Policy *p = parse_ok("{\"cgroups\": [\"/\"], \"processes\": {\"comm\": "
                                                     "[\"postgres: *\", \"kworker/*\", \"[[:digit:]]x\", \"\\\\*lit\"]}}");
        static const struct {
                const char *comm;
                bool match;
        } table[] = {
                { "postgres: walw", true },
                { "postgres", false },
                { "kworker/0:1", true },                         /* '/' is ordinary in a comm glob */
                { "kworker/u8:2-ev", true },
                { "7x", true },
                { "ax", false },
                { "*lit", true },
                { "xlit", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                ProcessFacts f = { .cgroup = "/", .comm = table[i].comm };

                if (policy_matches_process(p, &f) != table[i].match)
                        fail_msg("\"%s\": expected %s", table[i].comm, table[i].match ? "match" : "no match");
        }
}

/* Decisions */

static PolicySet *set_from(const char *const *texts, const char *const *names, size_t n) {
        PolicySet *s = new0(PolicySet, 1);

        assert_non_null(s);
        s->policies = new0(Policy *, n);
        assert_non_null(s->policies);
        for (size_t i = 0; i < n; i++) {
                JsonError err = {};

                assert_int_equal(policy_parse_string(texts[i], names[i], NULL, &s->policies[i], &err), 0);
                if (i > 0)
                        assert_true(strcmp(names[i - 1], names[i]) < 0);        /* as policy_set_load() sorts */
                s->n++;
        }
        return s;
}

static void test_decide_opt_out_wins(void **state) {
        static const char *const names[] = { "10-merge-high", "50-optout", "90-merge-max" };
        static const char *const texts[] = {
                "{\"cgroups\": [\"/tenant.slice\"], \"descendants\": true, \"priority\": 500}",
                "{\"cgroups\": [\"/tenant.slice/secret.service\"], \"action\": \"never\", \"priority\": -1000}",
                "{\"cgroups\": [\"/\"], \"descendants\": true, \"priority\": 1000}",
        };
        _cleanup_(policy_set_freep) PolicySet *s = set_from(texts, names, ELEMENTSOF(texts));
        const ProcessFacts secret = { .cgroup = "/tenant.slice/secret.service" };
        const ProcessFacts other = { .cgroup = "/tenant.slice/web.service" };
        const ProcessFacts outside = { .cgroup = "/system.slice/x.service" };

        /* the opt-out has the lowest priority of all and still wins */
        assert_string_equal(policy_set_decide(s, &secret)->name, "50-optout");
        assert_string_equal(policy_set_decide(s, &other)->name, "90-merge-max");
        assert_string_equal(policy_set_decide(s, &outside)->name, "90-merge-max");
}

static void test_decide_priorities(void **state) {
        static const char *const names[] = { "a-low", "b-high", "c-high-too", "d-ignore", "e-never-sel" };
        static const char *const texts[] = {
                "{\"cgroups\": [\"/x\", \"/y\", \"/z\", \"/w\"], \"priority\": -5}",
                "{\"cgroups\": [\"/x\", \"/y\"], \"priority\": 10}",
                "{\"cgroups\": [\"/x\"], \"priority\": 10, \"backend\": \"inject\"}",
                "{\"cgroups\": [\"/y\", \"/z\"], \"action\": \"ignore\", \"priority\": 20}",
                "{\"cgroups\": [\"/w\"], \"action\": \"never\", \"processes\": {\"comm\": [\"secret\"]}}",
        };
        _cleanup_(policy_set_freep) PolicySet *s = set_from(texts, names, ELEMENTSOF(texts));
        ProcessFacts f = { .comm = "app" };

        /* ties go to the name that sorts first */
        f.cgroup = "/x";
        assert_string_equal(policy_set_decide(s, &f)->name, "b-high");
        /* "ignore" is an ordinary candidate: the highest priority wins */
        f.cgroup = "/y";
        assert_string_equal(policy_set_decide(s, &f)->name, "d-ignore");
        assert_int_equal(policy_set_decide(s, &f)->action, POLICY_ACTION_IGNORE);
        /* a "never" applies only to what its selectors match */
        f.cgroup = "/w";
        assert_string_equal(policy_set_decide(s, &f)->name, "a-low");
        f.comm = "secret";
        assert_string_equal(policy_set_decide(s, &f)->name, "e-never-sel");
        f.comm = NULL;                                          /* unknown comm: the opt-out cannot match */
        assert_string_equal(policy_set_decide(s, &f)->name, "a-low");
        /* nothing matches */
        f.cgroup = "/v";
        assert_null(policy_set_decide(s, &f));
        f.cgroup = NULL;
        assert_null(policy_set_decide(s, &f));

        assert_true(policy_set_matches_cgroup(s, "/w"));
        assert_true(policy_set_matches_cgroup(s, "/z"));
        assert_false(policy_set_matches_cgroup(s, "/v"));
        assert_false(policy_set_matches_cgroup(s, "/x/sub"));
        assert_false(policy_set_matches_cgroup(s, NULL));
}

static void test_decide_several_opt_outs(void **state) {
        static const char *const names[] = { "a", "b", "c" };
        static const char *const texts[] = {
                "{\"cgroups\": [\"/s\"], \"action\": \"never\"}",
                "{\"cgroups\": [\"/s\"], \"action\": \"never\", \"priority\": 7}",
                "{\"cgroups\": [\"/s\"], \"priority\": 1000}",
        };
        _cleanup_(policy_set_freep) PolicySet *s = set_from(texts, names, ELEMENTSOF(texts));
        const ProcessFacts f = { .cgroup = "/s" };

        /* among opt-outs the same order applies, so the answer is stable */
        assert_string_equal(policy_set_decide(s, &f)->name, "b");
}

static void test_decide_empty_set(void **state) {
        _cleanup_(policy_set_freep) PolicySet *s = new0(PolicySet, 1);
        const ProcessFacts f = { .cgroup = "/" };

        assert_non_null(s);
        assert_null(policy_set_decide(s, &f));
        assert_false(policy_set_matches_cgroup(s, "/"));
        assert_null(policy_set_free(NULL));
        assert_null(policy_free(NULL));
}

/* The shipped default policy and the examples */

static PolicySet *load_source_dir(const char *rel) {
        const char *src = getenv("KSMT_SOURCE_DIR");
        _cleanup_free_ char *dir = NULL;
        PolicySet *s = NULL;
        const char *dirs[1];

        if (isempty(src))
                return NULL;
        assert_true(asprintf(&dir, "%s/%s", src, rel) >= 0);
        dirs[0] = dir;
        assert_int_equal(policy_set_load(dirs, 1, &s), 0);
        for (size_t i = 0; i < s->n_errors; i++) {
                char buf[1024];

                fail_msg("%s", json_error_format(&s->errors[i], buf, sizeof(buf)));
        }
        return s;
}

static void test_shipped_default(void **state) {
        _cleanup_(policy_set_freep) PolicySet *s = load_source_dir("conf/policy.d");
        static const char *const harmless[] = {
                "/", "/init.scope", "/system.slice/sshd.service", "/system.slice/postgresql.service",
                "/user.slice/user-1000.slice/session-1.scope", "/machine.slice/docker-1234.scope",
                "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope", "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope/libvirt",
        };

        if (!s)
                skip();
        assert_true(s->n >= 1);
        assert_non_null(set_find(s, "50-default"));
        /* a fresh install merges nothing, whatever runs where */
        for (size_t i = 0; i < ELEMENTSOF(harmless); i++) {
                const ProcessFacts f = {
                        .cgroup = harmless[i], .comm = "qemu-system-x86", .exe = "/usr/bin/qemu-system-x86_64",
                        .anon_bytes = UINT64_MAX, .age_usec = USEC_INFINITY,
                };
                const Policy *p = policy_set_decide(s, &f);

                assert_true(!p || p->action != POLICY_ACTION_MERGE);
        }
        for (size_t i = 0; i < s->n; i++) {
                assert_non_null(s->policies[i]->description);
                assert_int_not_equal(s->policies[i]->action, POLICY_ACTION_MERGE);
        }
}

static void test_shipped_examples(void **state) {
        _cleanup_(policy_set_freep) PolicySet *s = load_source_dir("conf/examples");

        if (!s)
                skip();
        assert_true(s->n >= 4);
        for (size_t i = 0; i < s->n; i++)
                assert_non_null(s->policies[i]->description);
}

/* Generic helpers added for policies */

static void test_parse_size(void **state) {
        static const struct {
                const char *s;
                int r;
                uint64_t v;
        } table[] = {
                { "0", 0, 0 },
                { "1", 0, 1 },
                { "007", 0, 7 },
                { "1K", 0, 1024 },
                { "64M", 0, 64ULL << 20 },
                { "2G", 0, 2ULL << 30 },
                { "1T", 0, 1ULL << 40 },
                { "16777215T", 0, 16777215ULL << 40 },
                { "18446744073709551615", 0, UINT64_MAX },
                { "16777216T", -ERANGE, 0 },
                { "18446744073709551616", -ERANGE, 0 },
                { "", -EINVAL, 0 },
                { "K", -EINVAL, 0 },
                { "1k", -EINVAL, 0 },
                { "1KB", -EINVAL, 0 },
                { "1KiB", -EINVAL, 0 },
                { "1P", -EINVAL, 0 },
                { "1.5G", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "+1", -EINVAL, 0 },
                { " 1", -EINVAL, 0 },
                { "1 ", -EINVAL, 0 },
                { "1 K", -EINVAL, 0 },
                { "0x10", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                uint64_t v = 4711;

                assert_int_equal(parse_size(table[i].s, &v), table[i].r);
                assert_true(v == (table[i].r == 0 ? table[i].v : 4711));
        }
        assert_int_equal(parse_size(NULL, NULL), -EINVAL);
        assert_int_equal(parse_size("1M", NULL), 0);
}

typedef struct Sample {
        int level;
        uint64_t size;
        char **names;
        char *label;
} Sample;

static int validate_no_x(const char *s, char *reason, size_t size) {
        if (strchr(s, 'x')) {
                snprintf(reason, size, "expected no \"x\", got \"%s\"", s);
                return -EINVAL;
        }
        return 0;
}

static const JsonField sample_table[] = {
        { "level", json_dispatch_int, offsetof(Sample, level), 0, .min = -3, .max = 3 },
        { "any", json_dispatch_int, offsetof(Sample, level), 0 },
        { "size", json_dispatch_size, offsetof(Sample, size), 0, .min = 1024, .max = 1 << 20 },
        { "unbounded", json_dispatch_size, offsetof(Sample, size), 0 },
        { "names", json_dispatch_strv, offsetof(Sample, names), 0, .min = 2, .max = 3, .validate = validate_no_x },
        { "list", json_dispatch_strv, offsetof(Sample, names), 0 },
        { "label", json_dispatch_string, offsetof(Sample, label), 0, .min = 2, .max = 4 },
        {}
};

static int dispatch_sample(const char *text, Sample *s, char *buf, size_t size) {
        JsonError err = {};
        json_t *j = NULL;
        int r;

        r = json_load_string_strict(text, "s", &j, &err);
        assert_int_equal(r, 0);
        r = json_dispatch(j, "", sample_table, s, &err);
        json_decref(j);
        if (r < 0) {
                snprintf(err.file, sizeof(err.file), "s");      /* as the callers of json_dispatch() do */
                json_error_format(&err, buf, size);
        }
        return r;
}

static void test_json_dispatch_new_types(void **state) {
        Sample s = {};
        char buf[512] = "";

        assert_int_equal(dispatch_sample("{\"level\": -3, \"size\": \"1M\", \"names\": [\"a\", \"b\"], \"label\": \"ab\"}",
                                         &s, buf, sizeof(buf)), 0);
        assert_int_equal(s.level, -3);
        assert_true(s.size == 1 << 20);
        assert_string_equal(s.names[0], "a");
        assert_string_equal(s.names[1], "b");
        assert_null(s.names[2]);
        assert_string_equal(s.label, "ab");

        /* a later key replaces (and frees) what an earlier one stored */
        assert_int_equal(dispatch_sample("{\"any\": -2147483648, \"unbounded\": \"16777215T\", \"list\": [], "
                                         "\"label\": \"\xc3\xa9t\xc3\xa9\"}", &s, buf, sizeof(buf)), 0);
        assert_true(s.level == INT32_MIN);
        assert_true(s.size == 16777215ULL << 40);
        assert_null(s.names[0]);
        assert_string_equal(s.label, "\xc3\xa9t\xc3\xa9");     /* 3 characters, 5 bytes */

        static const struct {
                const char *text;
                const char *error;
        } bad[] = {
                { "{\"level\": 4}", "s: level: expected an integer from -3 to 3, got 4" },
                { "{\"level\": -4}", "s: level: expected an integer from -3 to 3, got -4" },
                { "{\"level\": \"1\"}", "s: level: expected an integer from -3 to 3, got a string" },
                { "{\"any\": 2147483648}", "s: any: expected an integer from -2147483648 to 2147483647, got 2147483648" },
                { "{\"size\": 1023}", "s: size: size 1023 out of range, expected 1K to 1M" },
                { "{\"size\": \"2M\"}", "s: size: size \"2M\" out of range, expected 1K to 1M" },
                { "{\"size\": true}", "s: size: expected a size such as \"64M\" (K, M, G, T: powers of 1024) or an "
                  "integer number of bytes, got a boolean" },
                { "{\"unbounded\": \"16777216T\"}", "s: unbounded: size \"16777216T\" too large, expected less than "
                  "2^64 bytes" },
                { "{\"names\": [\"a\"]}", "s: names: expected at least 2 entries, got 1" },
                { "{\"names\": [\"a\", \"b\", \"c\", \"d\"]}", "s: names: expected at most 3 entries, got 4" },
                { "{\"names\": [\"a\", \"xy\"]}", "s: names[1]: expected no \"x\", got \"xy\"" },
                { "{\"names\": [\"a\", null]}", "s: names[1]: expected a string, got null" },
                { "{\"names\": \"ab\"}", "s: names: expected an array of strings, got a string" },
                { "{\"list\": [\"\"]}", "s: list[0]: expected a non-empty string" },
                { "{\"label\": \"a\"}", "s: label: expected 2 to 4 characters, got 1" },
                { "{\"label\": \"abcde\"}", "s: label: expected 2 to 4 characters, got 5" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(dispatch_sample(bad[i].text, &s, buf, sizeof(buf)), -EINVAL);
                assert_string_equal(buf, bad[i].error);
        }

        json_strv_free(s.names);
        free(s.label);
        assert_null(json_strv_free(NULL));
}

static void test_json_load_buffer_strict(void **state) {
        static const char text[] = "{\"a\": 1}";
        JsonError err = {};
        json_t *j = NULL;

        /* not NUL-terminated: only @size bytes are read */
        assert_int_equal(json_load_buffer_strict(text, 8, "b", &j, &err), 0);
        assert_true(json_is_object(j));
        json_decref(j);
        j = NULL;
        assert_int_equal(json_load_buffer_strict(text, 7, "b", &j, &err), -EINVAL);
        assert_null(j);
        assert_string_equal(err.file, "b");
        assert_int_equal(err.line, 1);
        /* a NUL byte inside is an error, not the end */
        assert_int_equal(json_load_buffer_strict("{}\0{", 4, "b", &j, &err), -EINVAL);
        assert_int_equal(json_load_buffer_strict("{\"a\": 1, \"a\": 2}", 16, "b", &j, &err), -EINVAL);
        assert_string_equal(err.message, "duplicate object key near '\"a\"'");
        assert_int_equal(json_load_buffer_strict("[]", 2, "b", &j, &err), -EINVAL);
        assert_string_equal(err.message, "expected a JSON object at the top level, got an array");
}

/* "effort": judging whether merging pays (issue 5). */
static void test_parse_effort(void **state) {
        static const struct {
                const char *json, *error;
        } bad[] = {
                { "{\"cgroups\": [\"/a\"], \"effort\": {\"min_yield\": 101}}", "effort.min_yield" },
                { "{\"cgroups\": [\"/a\"], \"effort\": {\"min_yield\": -1}}", "effort.min_yield" },
                { "{\"cgroups\": [\"/a\"], \"effort\": {\"after_scans\": 0}}", "effort.after_scans" },
                { "{\"cgroups\": [\"/a\"], \"effort\": {\"when_wasted\": \"delete\"}}", "effort.when_wasted" },
                { "{\"cgroups\": [\"/a\"], \"effort\": {\"yield\": 5}}", "effort.yield" },
                { "{\"cgroups\": [\"/a\"], \"effort\": 5}", "effort" },
        };
        Policy *p = NULL;
        JsonError err = {};

        assert_int_equal(policy_parse_string("{\"cgroups\": [\"/a\"]}", "e", "e.json", &p, &err), 0);
        assert_int_equal(p->min_yield_percent, 0);              /* never judged by default */
        assert_int_equal(p->wasted_after_scans, 3);
        assert_int_equal(p->when_wasted, POLICY_WASTED_REPORT);
        p = policy_free(p);

        assert_int_equal(policy_parse_string("{\"cgroups\": [\"/a\"], \"effort\": {\"min_yield\": 10, "
                                             "\"after_scans\": 2, \"when_wasted\": \"unmerge\"}}",
                                             "e", "e.json", &p, &err), 0);
        assert_int_equal(p->min_yield_percent, 10);
        assert_int_equal(p->wasted_after_scans, 2);
        assert_int_equal(p->when_wasted, POLICY_WASTED_UNMERGE);
        p = policy_free(p);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err = (JsonError) {};
                assert_int_equal(policy_parse_string(bad[i].json, "e", "e.json", &p, &err), -EINVAL);
                assert_null(p);
                assert_string_equal(err.path, bad[i].error);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_minimal_defaults),
                cmocka_unit_test(test_parse_effort),
                cmocka_unit_test(test_parse_every_key),
                cmocka_unit_test(test_parse_valid_fixtures),
                cmocka_unit_test(test_parse_values),
                cmocka_unit_test(test_parse_globs_accepted),
                cmocka_unit_test(test_parse_limits_inclusive),
                cmocka_unit_test(test_parse_names),
                cmocka_unit_test(test_enum_names),
                cmocka_unit_test(test_invalid_corpus),
                cmocka_unit_test(test_invalid_corpus_complete),
                cmocka_unit_test(test_invalid_strings),
                cmocka_unit_test(test_invalid_list_sizes),
                cmocka_unit_test(test_no_crash_on_mutations),
                SCRATCH_TEST(test_load_override_order),
                SCRATCH_TEST(test_load_admin_over_vendor),
                SCRATCH_TEST(test_load_bad_file_shadows),
                SCRATCH_TEST(test_load_file_kinds),
                SCRATCH_TEST(test_load_missing_and_bad_dirs),
                SCRATCH_TEST(test_load_many_sorted),
                SCRATCH_TEST(test_load_file_errors),
                cmocka_unit_test(test_match_cgroup_globs),
                cmocka_unit_test(test_match_descendants),
                cmocka_unit_test(test_match_process_selectors),
                cmocka_unit_test(test_match_absent_selectors),
                cmocka_unit_test(test_match_comm_globs),
                cmocka_unit_test(test_decide_opt_out_wins),
                cmocka_unit_test(test_decide_priorities),
                cmocka_unit_test(test_decide_several_opt_outs),
                cmocka_unit_test(test_decide_empty_set),
                cmocka_unit_test(test_shipped_default),
                cmocka_unit_test(test_shipped_examples),
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_json_dispatch_new_types),
                cmocka_unit_test(test_json_load_buffer_strict),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
