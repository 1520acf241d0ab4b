/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-ksm-sysfs.c - the knob table, parsing and formatting of knob files, and ksm_sysfs_* on
 * fixture directories: the real 6.18 set (idle and while merging), a hand-made 6.1 set and a
 * malformed set.  Writes go to a mkdtemp() copy, never to /sys.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "ksm-sysfs.h"
#include "macro.h"

typedef struct KnobValue {
        KsmKnob knob;
        int64_t value;
} KnobValue;

/* Values of tests/fixtures/sysfs/ksm-6.18 (copied from this machine's /sys/kernel/mm/ksm, idle). */
static const KnobValue values_6_18[] = {
        { KSM_KNOB_RUN, 0 },
        { KSM_KNOB_PAGES_TO_SCAN, 100 },
        { KSM_KNOB_SLEEP_MILLISECS, 20 },
        { KSM_KNOB_MAX_PAGE_SHARING, 256 },
        { KSM_KNOB_MERGE_ACROSS_NODES, 1 },
        { KSM_KNOB_USE_ZERO_PAGES, 0 },
        { KSM_KNOB_SMART_SCAN, 1 },
        { KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, 2000 },
        { KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE },
        { KSM_KNOB_ADVISOR_MAX_CPU, 70 },
        { KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, 500 },
        { KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, 30000 },
        { KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 200 },
        { KSM_KNOB_PAGES_SHARED, 0 },
        { KSM_KNOB_PAGES_SHARING, 0 },
        { KSM_KNOB_PAGES_UNSHARED, 0 },
        { KSM_KNOB_PAGES_VOLATILE, 0 },
        { KSM_KNOB_PAGES_SCANNED, 0 },
        { KSM_KNOB_PAGES_SKIPPED, 0 },
        { KSM_KNOB_FULL_SCANS, 0 },
        { KSM_KNOB_GENERAL_PROFIT, 0 },
        { KSM_KNOB_KSM_ZERO_PAGES, 0 },
        { KSM_KNOB_STABLE_NODE_CHAINS, 0 },
        { KSM_KNOB_STABLE_NODE_DUPS, 0 },
};

/* tests/fixtures/sysfs/ksm-6.18-active: the same machine while a process had 1792 pages merged. */
static const KnobValue values_6_18_active[] = {
        { KSM_KNOB_RUN, KSM_RUN_MERGE },
        { KSM_KNOB_PAGES_TO_SCAN, 1000 },
        { KSM_KNOB_SLEEP_MILLISECS, 10 },
        { KSM_KNOB_MAX_PAGE_SHARING, 256 },
        { KSM_KNOB_MERGE_ACROSS_NODES, 1 },
        { KSM_KNOB_USE_ZERO_PAGES, 0 },
        { KSM_KNOB_SMART_SCAN, 1 },
        { KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, 2000 },
        { KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE },
        { KSM_KNOB_ADVISOR_MAX_CPU, 70 },
        { KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, 500 },
        { KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN, 30000 },
        { KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 200 },
        { KSM_KNOB_PAGES_SHARED, 7 },
        { KSM_KNOB_PAGES_SHARING, 1785 },
        { KSM_KNOB_PAGES_UNSHARED, 281 },
        { KSM_KNOB_PAGES_VOLATILE, 2 },
        { KSM_KNOB_PAGES_SCANNED, 7222 },
        { KSM_KNOB_PAGES_SKIPPED, 0 },
        { KSM_KNOB_FULL_SCANS, 3 },
        { KSM_KNOB_GENERAL_PROFIT, 7178560 },
        { KSM_KNOB_KSM_ZERO_PAGES, 0 },
        { KSM_KNOB_STABLE_NODE_CHAINS, 1 },
        { KSM_KNOB_STABLE_NODE_DUPS, 6 },
};

/* tests/fixtures/sysfs/ksm-6.1 (hand-made): what a 6.1 kernel has. */
static const KnobValue values_6_1[] = {
        { KSM_KNOB_RUN, KSM_RUN_MERGE },
        { KSM_KNOB_PAGES_TO_SCAN, 100 },
        { KSM_KNOB_SLEEP_MILLISECS, 20 },
        { KSM_KNOB_MAX_PAGE_SHARING, 256 },
        { KSM_KNOB_MERGE_ACROSS_NODES, 1 },
        { KSM_KNOB_USE_ZERO_PAGES, 0 },
        { KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS, 2000 },
        { KSM_KNOB_PAGES_SHARED, 12 },
        { KSM_KNOB_PAGES_SHARING, 340 },
        { KSM_KNOB_PAGES_UNSHARED, 1500 },
        { KSM_KNOB_PAGES_VOLATILE, 7 },
        { KSM_KNOB_FULL_SCANS, 5 },
        { KSM_KNOB_GENERAL_PROFIT, -4096 },
        { KSM_KNOB_STABLE_NODE_CHAINS, 0 },
        { KSM_KNOB_STABLE_NODE_DUPS, 0 },
};

/* Added after 6.1: absent from the 6.1 fixture. */
static const KsmKnob absent_6_1[] = {
        KSM_KNOB_SMART_SCAN,
        KSM_KNOB_ADVISOR_MODE,
        KSM_KNOB_ADVISOR_MAX_CPU,
        KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN,
        KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN,
        KSM_KNOB_ADVISOR_TARGET_SCAN_TIME,
        KSM_KNOB_PAGES_SCANNED,
        KSM_KNOB_PAGES_SKIPPED,
        KSM_KNOB_KSM_ZERO_PAGES,
};

/* tests/fixtures/sysfs/ksm-malformed (hand-made): what each file holds and what reading it gives. */
static const struct {
        KsmKnob knob;
        int error;
        int64_t value;
} malformed[] = {
        { KSM_KNOB_RUN,                 0,        1 },
        { KSM_KNOB_PAGES_TO_SCAN,       -EBADMSG, 0 },  /* "abc" */
        { KSM_KNOB_SLEEP_MILLISECS,     -EBADMSG, 0 },  /* "0x10" */
        { KSM_KNOB_MAX_PAGE_SHARING,    -ERANGE,  0 },  /* "1": below what the kernel accepts */
        { KSM_KNOB_MERGE_ACROSS_NODES,  -EBADMSG, 0 },  /* "yes" */
        { KSM_KNOB_USE_ZERO_PAGES,      -ERANGE,  0 },  /* "2": not a bool */
        { KSM_KNOB_ADVISOR_MODE,        -EBADMSG, 0 },  /* "[scan-ti": truncated */
        { KSM_KNOB_ADVISOR_MAX_CPU,     0,        7 },
        { KSM_KNOB_PAGES_SHARED,        -ERANGE,  0 },  /* "99999999999999999999999" */
        { KSM_KNOB_PAGES_SHARING,       -EBADMSG, 0 },  /* "-5" */
        { KSM_KNOB_PAGES_UNSHARED,      0,        42 }, /* "  42  ": whitespace is fine */
        { KSM_KNOB_PAGES_VOLATILE,      -ERANGE,  0 },  /* UINT64_MAX: beyond int64_t */
        { KSM_KNOB_PAGES_SCANNED,       0,        INT64_MAX },
        { KSM_KNOB_PAGES_SKIPPED,       -EBADMSG, 0 },  /* "\n" */
        { KSM_KNOB_FULL_SCANS,          -EBADMSG, 0 },  /* empty file */
        { KSM_KNOB_GENERAL_PROFIT,      -ERANGE,  0 },  /* "-99999999999999999999999" */
        { KSM_KNOB_STABLE_NODE_CHAINS,  -EBADMSG, 0 },  /* "+3" */
        { KSM_KNOB_STABLE_NODE_DUPS,    -EBADMSG, 0 },  /* "12abc" */
};

static const KsmKnob absent_malformed[] = {
        KSM_KNOB_SMART_SCAN,
        KSM_KNOB_STABLE_NODE_CHAINS_PRUNE_MILLISECS,
        KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN,
        KSM_KNOB_ADVISOR_MAX_PAGES_TO_SCAN,
        KSM_KNOB_ADVISOR_TARGET_SCAN_TIME,
        KSM_KNOB_KSM_ZERO_PAGES,
};

static KsmSysfs *open_fixture(const char *rel) {
        _cleanup_free_ char *p = fixture_path(rel);
        KsmSysfs *k = NULL;

        assert_int_equal(ksm_sysfs_open(p, &k), 0);
        assert_non_null(k);
        return k;
}

static KsmSysfs *open_scratch(const char *dir) {
        KsmSysfs *k = NULL;

        assert_int_equal(ksm_sysfs_open(dir, &k), 0);
        assert_non_null(k);
        return k;
}

static void check_values(KsmSysfs *k, const KnobValue *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int64_t x = -4711;

                assert_true(ksm_sysfs_has(k, v[i].knob));
                assert_int_equal(ksm_sysfs_read(k, v[i].knob, &x), 0);
                if (x != v[i].value)
                        fail_msg("%s: read %jd, expected %jd", ksm_knob_to_string(v[i].knob),
                                 (intmax_t) x, (intmax_t) v[i].value);
        }
}

static int setup_scratch_6_18(void **state) {
        char *d = scratch_new();

        scratch_copy_fixture(d, "sysfs/ksm-6.18");
        *state = d;
        return 0;
}

static int setup_scratch_6_1(void **state) {
        char *d = scratch_new();

        scratch_copy_fixture(d, "sysfs/ksm-6.1");
        *state = d;
        return 0;
}

static int setup_scratch_malformed(void **state) {
        char *d = scratch_new();

        scratch_copy_fixture(d, "sysfs/ksm-malformed");
        *state = d;
        return 0;
}

#define setup_scratch_empty scratch_setup
#define SYSFS_SCRATCH_TEST(f, from) cmocka_unit_test_setup_teardown(f, setup_scratch_##from, scratch_teardown)

/* Knob table */

static void test_ksm_knob_names_roundtrip(void **state) {
        for (KsmKnob k = 0; k < _KSM_KNOB_MAX; k++) {
                const KsmKnobInfo *i = ksm_knob_info(k);

                assert_non_null(i);
                assert_string_equal(ksm_knob_to_string(k), i->name);
                assert_int_equal(ksm_knob_from_string(i->name), k);
                /* tunables first, then read-only counters */
                assert_true(i->writable == (k < _KSM_KNOB_FIRST_COUNTER));
                assert_true(i->min <= i->max);
                assert_non_null(i->since);
        }
        assert_null(ksm_knob_info(_KSM_KNOB_MAX));
        assert_null(ksm_knob_info(_KSM_KNOB_INVALID));
        assert_null(ksm_knob_to_string(_KSM_KNOB_MAX));
        assert_int_equal(ksm_knob_from_string("pages_to_scan"), KSM_KNOB_PAGES_TO_SCAN);
        assert_int_equal(ksm_knob_from_string("no_such_knob"), -EINVAL);
        assert_int_equal(ksm_knob_from_string("Run"), -EINVAL);
        assert_int_equal(ksm_knob_from_string(""), -EINVAL);
        assert_int_equal(ksm_knob_from_string(NULL), -EINVAL);
}

static void test_ksm_knob_table_matches_6_18(void **state) {
        _cleanup_free_ char *p = fixture_path("sysfs/ksm-6.18");
        bool seen[_KSM_KNOB_MAX] = {};
        struct dirent *de;
        DIR *d;

        /* Every file of the real 6.18 directory is a known knob, and every knob is a file there. */
        d = opendir(p);
        assert_non_null(d);
        while ((de = readdir(d))) {
                KsmKnob k;

                if (de->d_name[0] == '.')
                        continue;
                k = ksm_knob_from_string(de->d_name);
                if (k < 0)
                        fail_msg("unknown knob file '%s'", de->d_name);
                seen[k] = true;
        }
        closedir(d);
        for (KsmKnob k = 0; k < _KSM_KNOB_MAX; k++)
                if (!seen[k])
                        fail_msg("knob '%s' missing from the 6.18 fixture", ksm_knob_to_string(k));
}

static void test_ksm_mode_names(void **state) {
        assert_string_equal(ksm_run_mode_to_string(KSM_RUN_STOP), "stop");
        assert_string_equal(ksm_run_mode_to_string(KSM_RUN_MERGE), "merge");
        assert_string_equal(ksm_run_mode_to_string(KSM_RUN_UNMERGE), "unmerge");
        assert_null(ksm_run_mode_to_string(3));
        assert_null(ksm_run_mode_to_string(-1));
        assert_string_equal(ksm_advisor_mode_to_string(KSM_ADVISOR_NONE), "none");
        assert_string_equal(ksm_advisor_mode_to_string(KSM_ADVISOR_SCAN_TIME), "scan-time");
        assert_null(ksm_advisor_mode_to_string(2));
        assert_null(ksm_advisor_mode_to_string(-1));
}

/* ksm_knob_parse() / ksm_knob_format() */

static void test_ksm_knob_parse_advisor(void **state) {
        static const char *const bad[] = {
                "none scan-time", "[none] [scan-time]", "[none", "none]", "[] none", "[fast] none",
                "", "\n", "[None] scan-time", "[none]] scan-time", "[[none] scan-time", "[ none] scan-time",
                "[scan-time ] none", "none", "scan-time",
        };
        int64_t v = -4711;

        assert_int_equal(ksm_knob_parse(KSM_KNOB_ADVISOR_MODE, "[none] scan-time\n", &v), 0);
        assert_int_equal(v, KSM_ADVISOR_NONE);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_ADVISOR_MODE, "none [scan-time]\n", &v), 0);
        assert_int_equal(v, KSM_ADVISOR_SCAN_TIME);
        /* only the brackets matter, not the order */
        assert_int_equal(ksm_knob_parse(KSM_KNOB_ADVISOR_MODE, "[scan-time] none", &v), 0);
        assert_int_equal(v, KSM_ADVISOR_SCAN_TIME);

        v = -4711;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (ksm_knob_parse(KSM_KNOB_ADVISOR_MODE, bad[i], &v) != -EBADMSG)
                        fail_msg("advisor_mode \"%s\" was not rejected with -EBADMSG", bad[i]);
        assert_int_equal(v, -4711);
}

static void test_ksm_knob_parse_numbers(void **state) {
        int64_t v = -4711;

        assert_int_equal(ksm_knob_parse(KSM_KNOB_RUN, "2\n", &v), 0);
        assert_int_equal(v, 2);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_TO_SCAN, " 7 \n", &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_TO_SCAN, "4294967295\n", &v), 0);
        assert_true(v == UINT32_MAX);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_GENERAL_PROFIT, "-4096\n", &v), 0);
        assert_true(v == -4096);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_GENERAL_PROFIT, "-9223372036854775808\n", &v), 0);
        assert_true(v == INT64_MIN);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_SHARED, "9223372036854775807\n", &v), 0);
        assert_true(v == INT64_MAX);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_USE_ZERO_PAGES, "1\n", &v), 0);
        assert_int_equal(v, 1);

        v = -4711;
        /* tunables outside the range the kernel's store function accepts */
        assert_int_equal(ksm_knob_parse(KSM_KNOB_RUN, "3\n", &v), -ERANGE);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_TO_SCAN, "4294967296\n", &v), -ERANGE);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_MAX_PAGE_SHARING, "1\n", &v), -ERANGE);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, "0\n", &v), -ERANGE);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_SMART_SCAN, "2\n", &v), -ERANGE);
        /* overflow */
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_SHARED, "9223372036854775808\n", &v), -ERANGE);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_SHARED, "99999999999999999999999\n", &v), -ERANGE);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_GENERAL_PROFIT, "9223372036854775808\n", &v), -ERANGE);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_GENERAL_PROFIT, "-9223372036854775809\n", &v), -ERANGE);
        /* syntax */
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_SHARED, "", &v), -EBADMSG);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_SHARED, "\n", &v), -EBADMSG);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_SHARED, "1 2\n", &v), -EBADMSG);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_SHARED, "-1\n", &v), -EBADMSG);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_SHARED, "abc\n", &v), -EBADMSG);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_PAGES_SHARED, "1.5\n", &v), -EBADMSG);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_GENERAL_PROFIT, "- 5\n", &v), -EBADMSG);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_USE_ZERO_PAGES, "y\n", &v), -EBADMSG);
        assert_int_equal(v, -4711);

        /* caller errors */
        assert_int_equal(ksm_knob_parse(_KSM_KNOB_MAX, "1", &v), -EINVAL);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_RUN, NULL, &v), -EINVAL);
        assert_int_equal(ksm_knob_parse(KSM_KNOB_RUN, "1", NULL), -EINVAL);
        assert_int_equal(v, -4711);
}

static void test_ksm_knob_format_values(void **state) {
        char buf[64];

        assert_int_equal(ksm_knob_format(KSM_KNOB_PAGES_TO_SCAN, 100, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "100");
        assert_int_equal(ksm_knob_format(KSM_KNOB_PAGES_TO_SCAN, UINT32_MAX, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "4294967295");
        assert_int_equal(ksm_knob_format(KSM_KNOB_RUN, KSM_RUN_UNMERGE, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "2");
        assert_int_equal(ksm_knob_format(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "none");
        assert_int_equal(ksm_knob_format(KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "scan-time");
        assert_int_equal(ksm_knob_format(KSM_KNOB_GENERAL_PROFIT, -5, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "-5");
        assert_int_equal(ksm_knob_format(KSM_KNOB_ADVISOR_MAX_CPU, 100, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "100");

        assert_int_equal(ksm_knob_format(KSM_KNOB_ADVISOR_MODE, 2, buf, sizeof(buf)), -ERANGE);
        assert_int_equal(ksm_knob_format(KSM_KNOB_ADVISOR_MODE, -1, buf, sizeof(buf)), -ERANGE);
        assert_int_equal(ksm_knob_format(KSM_KNOB_RUN, 3, buf, sizeof(buf)), -ERANGE);
        assert_int_equal(ksm_knob_format(KSM_KNOB_PAGES_TO_SCAN, -1, buf, sizeof(buf)), -ERANGE);
        assert_int_equal(ksm_knob_format(KSM_KNOB_PAGES_TO_SCAN, (int64_t) UINT32_MAX + 1, buf, sizeof(buf)),
                         -ERANGE);
        assert_int_equal(ksm_knob_format(KSM_KNOB_MAX_PAGE_SHARING, 1, buf, sizeof(buf)), -ERANGE);
        assert_int_equal(ksm_knob_format(KSM_KNOB_ADVISOR_MAX_CPU, 101, buf, sizeof(buf)), -ERANGE);
        assert_int_equal(ksm_knob_format(KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 0, buf, sizeof(buf)), -ERANGE);
        assert_int_equal(ksm_knob_format(KSM_KNOB_USE_ZERO_PAGES, 2, buf, sizeof(buf)), -ERANGE);
        assert_int_equal(ksm_knob_format(_KSM_KNOB_MAX, 1, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(ksm_knob_format(_KSM_KNOB_INVALID, 1, buf, sizeof(buf)), -EINVAL);
}

/* Opening */

static void test_ksm_sysfs_open_errors(void **state) {
        const char *empty = *state;
        _cleanup_free_ char *file = fixture_path("sysfs/ksm-6.18/run");
        KsmSysfs *k = NULL;

        assert_int_equal(ksm_sysfs_open("/nonexistent/ksm", &k), -ENOENT);
        /* a directory without "run" is not a KSM directory */
        assert_int_equal(ksm_sysfs_open(empty, &k), -ENOENT);
        assert_int_equal(ksm_sysfs_open(file, &k), -ENOTDIR);
        assert_int_equal(ksm_sysfs_open_at(-EBADF, &k), -EINVAL);
        assert_null(k);
        assert_null(ksm_sysfs_free(NULL));
        assert_false(ksm_sysfs_has(NULL, KSM_KNOB_RUN));
}

static void test_ksm_sysfs_open_at_dups_fd(void **state) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = NULL;
        int dfd = fixture_open_dir("sysfs/ksm-6.18");
        int64_t v;

        assert_int_equal(ksm_sysfs_open_at(dfd, &k), 0);
        /* the caller keeps its own fd: closing it must not affect k */
        assert_int_equal(close(dfd), 0);
        assert_int_equal(ksm_sysfs_read(k, KSM_KNOB_MAX_PAGE_SHARING, &v), 0);
        assert_int_equal(v, 256);
}

/* Reading the fixtures */

static void test_ksm_sysfs_read_6_18(void **state) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_fixture("sysfs/ksm-6.18");

        assert_int_equal(ELEMENTSOF(values_6_18), _KSM_KNOB_MAX);
        for (KsmKnob i = 0; i < _KSM_KNOB_MAX; i++)
                assert_true(ksm_sysfs_has(k, i));
        check_values(k, values_6_18, ELEMENTSOF(values_6_18));
}

static void test_ksm_sysfs_read_6_18_active(void **state) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_fixture("sysfs/ksm-6.18-active");

        assert_int_equal(ELEMENTSOF(values_6_18_active), _KSM_KNOB_MAX);
        check_values(k, values_6_18_active, ELEMENTSOF(values_6_18_active));
}

static void test_ksm_sysfs_read_6_1(void **state) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_fixture("sysfs/ksm-6.1");

        check_values(k, values_6_1, ELEMENTSOF(values_6_1));
        assert_int_equal(ELEMENTSOF(values_6_1) + ELEMENTSOF(absent_6_1), _KSM_KNOB_MAX);
        for (size_t i = 0; i < ELEMENTSOF(absent_6_1); i++) {
                int64_t v = -4711;

                assert_false(ksm_sysfs_has(k, absent_6_1[i]));
                assert_int_equal(ksm_sysfs_read(k, absent_6_1[i], &v), -ENOENT);
                assert_int_equal(v, -4711);
        }
}

static void test_ksm_sysfs_read_malformed(void **state) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_fixture("sysfs/ksm-malformed");

        assert_int_equal(ELEMENTSOF(malformed) + ELEMENTSOF(absent_malformed), _KSM_KNOB_MAX);
        for (size_t i = 0; i < ELEMENTSOF(malformed); i++) {
                int64_t v = -4711;
                int r;

                assert_true(ksm_sysfs_has(k, malformed[i].knob));
                r = ksm_sysfs_read(k, malformed[i].knob, &v);
                if (r != malformed[i].error)
                        fail_msg("%s: got %d, expected %d", ksm_knob_to_string(malformed[i].knob), r,
                                 malformed[i].error);
                if (r == 0)
                        assert_true(v == malformed[i].value);
                else
                        assert_int_equal(v, -4711);
        }
        for (size_t i = 0; i < ELEMENTSOF(absent_malformed); i++)
                assert_false(ksm_sysfs_has(k, absent_malformed[i]));
}

static void test_ksm_sysfs_read_invalid_args(void **state) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_fixture("sysfs/ksm-6.18");
        int64_t v;

        assert_int_equal(ksm_sysfs_read(k, _KSM_KNOB_MAX, &v), -EINVAL);
        assert_int_equal(ksm_sysfs_read(k, _KSM_KNOB_INVALID, &v), -EINVAL);
        assert_int_equal(ksm_sysfs_read(k, KSM_KNOB_RUN, NULL), -EINVAL);
        assert_int_equal(ksm_sysfs_read(NULL, KSM_KNOB_RUN, &v), -EINVAL);
        assert_false(ksm_sysfs_has(k, _KSM_KNOB_MAX));
        assert_false(ksm_sysfs_has(k, _KSM_KNOB_INVALID));
}

static void test_ksm_sysfs_read_vanished(void **state) {
        const char *dir = *state;
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_scratch(dir);
        _cleanup_free_ char *path = NULL;
        int64_t v;

        /* a knob that disappears after probing reads as -ENOENT too */
        assert_true(asprintf(&path, "%s/pages_volatile", dir) >= 0);
        assert_int_equal(unlink(path), 0);
        assert_true(ksm_sysfs_has(k, KSM_KNOB_PAGES_VOLATILE));
        assert_int_equal(ksm_sysfs_read(k, KSM_KNOB_PAGES_VOLATILE, &v), -ENOENT);
}

/* Snapshots */

static void test_ksm_sysfs_snapshot_6_18(void **state) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_fixture("sysfs/ksm-6.18-active");
        KsmSnapshot s;

        ksm_sysfs_snapshot(k, &s);
        for (size_t i = 0; i < ELEMENTSOF(values_6_18_active); i++) {
                KsmKnob knob = values_6_18_active[i].knob;

                assert_true(s.present[knob]);
                assert_int_equal(s.error[knob], 0);
                assert_true(s.value[knob] == values_6_18_active[i].value);
                assert_true(ksm_snapshot_get(&s, knob, -1) == values_6_18_active[i].value);
        }
        assert_int_equal(ksm_snapshot_get(&s, _KSM_KNOB_MAX, -7), -7);
        assert_int_equal(ksm_snapshot_get(&s, _KSM_KNOB_INVALID, -7), -7);
}

static void test_ksm_sysfs_snapshot_6_1(void **state) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_fixture("sysfs/ksm-6.1");
        KsmSnapshot s;

        memset(&s, 0xff, sizeof(s));
        ksm_sysfs_snapshot(k, &s);
        for (size_t i = 0; i < ELEMENTSOF(values_6_1); i++) {
                assert_true(s.present[values_6_1[i].knob]);
                assert_int_equal(s.error[values_6_1[i].knob], 0);
                assert_true(s.value[values_6_1[i].knob] == values_6_1[i].value);
        }
        for (size_t i = 0; i < ELEMENTSOF(absent_6_1); i++) {
                assert_false(s.present[absent_6_1[i]]);
                assert_int_equal(s.error[absent_6_1[i]], 0);
                assert_int_equal(ksm_snapshot_get(&s, absent_6_1[i], -7), -7);
        }
        assert_int_equal(ksm_snapshot_get(&s, KSM_KNOB_GENERAL_PROFIT, 0), -4096);
}

static void test_ksm_sysfs_snapshot_malformed(void **state) {
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_fixture("sysfs/ksm-malformed");
        KsmSnapshot s;

        ksm_sysfs_snapshot(k, &s);
        for (size_t i = 0; i < ELEMENTSOF(malformed); i++) {
                KsmKnob knob = malformed[i].knob;

                assert_true(s.present[knob]);
                assert_int_equal(s.error[knob], malformed[i].error);
                if (malformed[i].error == 0)
                        assert_true(ksm_snapshot_get(&s, knob, -7) == malformed[i].value);
                else
                        assert_int_equal(ksm_snapshot_get(&s, knob, -7), -7);
        }
        for (size_t i = 0; i < ELEMENTSOF(absent_malformed); i++) {
                assert_false(s.present[absent_malformed[i]]);
                assert_int_equal(ksm_snapshot_get(&s, absent_malformed[i], -7), -7);
        }
}

/* Writing (to scratch copies) */

static void assert_file(const char *dir, const char *name, const char *expected) {
        _cleanup_free_ char *c = scratch_read(dir, name);

        assert_string_equal(c, expected);
}

static void test_ksm_sysfs_write_valid(void **state) {
        const char *dir = *state;
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_scratch(dir);
        int64_t v;

        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_PAGES_TO_SCAN, 5000), 1);
        assert_file(dir, "pages_to_scan", "5000");
        assert_int_equal(ksm_sysfs_read(k, KSM_KNOB_PAGES_TO_SCAN, &v), 0);
        assert_int_equal(v, 5000);
        /* unchanged value: nothing to do */
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_PAGES_TO_SCAN, 5000), 0);
        assert_file(dir, "pages_to_scan", "5000");
        /* a shorter number replaces the longer one completely */
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_PAGES_TO_SCAN, 5), 1);
        assert_file(dir, "pages_to_scan", "5");

        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_RUN, KSM_RUN_MERGE), 1);
        assert_file(dir, "run", "1");
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_RUN, KSM_RUN_MERGE), 0);

        /* the fixture value "20\n" equals 20: untouched, newline and all */
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_SLEEP_MILLISECS, 20), 0);
        assert_file(dir, "sleep_millisecs", "20\n");

        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_USE_ZERO_PAGES, 1), 1);
        assert_file(dir, "use_zero_pages", "1");
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_SMART_SCAN, 0), 1);
        assert_file(dir, "smart_scan", "0");
}

static void test_ksm_sysfs_write_bounds(void **state) {
        const char *dir = *state;
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_scratch(dir);

        /* the inclusive ends of each range are accepted */
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_PAGES_TO_SCAN, UINT32_MAX), 1);
        assert_file(dir, "pages_to_scan", "4294967295");
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_PAGES_TO_SCAN, 0), 1);
        assert_file(dir, "pages_to_scan", "0");
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_MAX_PAGE_SHARING, 2), 1);
        assert_file(dir, "max_page_sharing", "2");
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_MAX_PAGE_SHARING, INT32_MAX), 1);
        assert_file(dir, "max_page_sharing", "2147483647");
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_ADVISOR_MAX_CPU, 100), 1);
        assert_file(dir, "advisor_max_cpu", "100");
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 1), 1);
        assert_file(dir, "advisor_target_scan_time", "1");
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_RUN, KSM_RUN_UNMERGE), 1);
        assert_file(dir, "run", "2");
}

static void test_ksm_sysfs_write_out_of_range(void **state) {
        static const KnobValue bad[] = {
                { KSM_KNOB_RUN, 3 },
                { KSM_KNOB_RUN, -1 },
                { KSM_KNOB_PAGES_TO_SCAN, -1 },
                { KSM_KNOB_PAGES_TO_SCAN, (int64_t) UINT32_MAX + 1 },
                { KSM_KNOB_SLEEP_MILLISECS, (int64_t) UINT32_MAX + 1 },
                { KSM_KNOB_MAX_PAGE_SHARING, 1 },
                { KSM_KNOB_MAX_PAGE_SHARING, (int64_t) INT32_MAX + 1 },
                { KSM_KNOB_MERGE_ACROSS_NODES, 2 },
                { KSM_KNOB_USE_ZERO_PAGES, -1 },
                { KSM_KNOB_SMART_SCAN, 2 },
                { KSM_KNOB_ADVISOR_MODE, 2 },
                { KSM_KNOB_ADVISOR_MAX_CPU, 101 },
                { KSM_KNOB_ADVISOR_MIN_PAGES_TO_SCAN, -1 },
                { KSM_KNOB_ADVISOR_TARGET_SCAN_TIME, 0 },
        };
        const char *dir = *state;
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_scratch(dir);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *name = ksm_knob_to_string(bad[i].knob);
                _cleanup_free_ char *before = scratch_read(dir, name), *after = NULL;
                int r;

                r = ksm_sysfs_write(k, bad[i].knob, bad[i].value);
                if (r != -ERANGE)
                        fail_msg("%s=%jd: got %d, expected -ERANGE", name, (intmax_t) bad[i].value, r);
                after = scratch_read(dir, name);
                assert_string_equal(after, before);
        }
}

static void test_ksm_sysfs_write_counter(void **state) {
        const char *dir = *state;
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_scratch(dir);

        for (KsmKnob i = _KSM_KNOB_FIRST_COUNTER; i < _KSM_KNOB_MAX; i++) {
                _cleanup_free_ char *before = scratch_read(dir, ksm_knob_to_string(i)), *after = NULL;

                assert_int_equal(ksm_sysfs_write(k, i, 1), -EROFS);
                after = scratch_read(dir, ksm_knob_to_string(i));
                assert_string_equal(after, before);
        }
        assert_int_equal(ksm_sysfs_write(k, _KSM_KNOB_MAX, 1), -EINVAL);
        assert_int_equal(ksm_sysfs_write(k, _KSM_KNOB_INVALID, 1), -EINVAL);
        assert_int_equal(ksm_sysfs_write(NULL, KSM_KNOB_RUN, 1), -EINVAL);
}

static void test_ksm_sysfs_write_absent(void **state) {
        const char *dir = *state;
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_scratch(dir);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(dfd >= 0);
        for (size_t i = 0; i < ELEMENTSOF(absent_6_1); i++) {
                KsmKnob knob = absent_6_1[i];

                if (!ksm_knob_info(knob)->writable) {
                        assert_int_equal(ksm_sysfs_write(k, knob, 1), -EROFS);
                        continue;
                }
                assert_int_equal(ksm_sysfs_write(k, knob, 1), -ENOENT);
                /* and no file was created */
                assert_int_equal(faccessat(dfd, ksm_knob_to_string(knob), F_OK, 0), -1);
        }
}

static void test_ksm_sysfs_write_advisor(void **state) {
        const char *dir = *state;
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_scratch(dir);

        /* already "[none] scan-time": nothing written */
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_NONE), 0);
        assert_file(dir, "advisor_mode", "[none] scan-time\n");

        /* The kernel takes "scan-time" and shows "none [scan-time]"; a plain file keeps what was
         * written, which is not the kernel's syntax, so the read-back check reports it. */
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME), -EBADMSG);
        assert_file(dir, "advisor_mode", "scan-time");

        /* with the file as the kernel would show it afterwards, the same write is a no-op */
        scratch_write(dir, "advisor_mode", "none [scan-time]\n");
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME), 0);
        assert_file(dir, "advisor_mode", "none [scan-time]\n");
}

static void test_ksm_sysfs_write_over_malformed(void **state) {
        const char *dir = *state;
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_scratch(dir);
        int64_t v;

        /* "abc" cannot be the current value, so the write goes through and fixes the file */
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_PAGES_TO_SCAN, 100), 1);
        assert_file(dir, "pages_to_scan", "100");
        assert_int_equal(ksm_sysfs_read(k, KSM_KNOB_PAGES_TO_SCAN, &v), 0);
        assert_int_equal(v, 100);
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_MAX_PAGE_SHARING, 256), 1);
        assert_file(dir, "max_page_sharing", "256");
}

static void test_ksm_sysfs_write_vanished(void **state) {
        const char *dir = *state;
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = open_scratch(dir);
        _cleanup_free_ char *path = NULL;

        /* the file vanished after probing: open(2) without O_CREAT fails, nothing is created */
        assert_true(asprintf(&path, "%s/sleep_millisecs", dir) >= 0);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(ksm_sysfs_write(k, KSM_KNOB_SLEEP_MILLISECS, 50), -ENOENT);
        assert_int_equal(access(path, F_OK), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ksm_knob_names_roundtrip),
                cmocka_unit_test(test_ksm_knob_table_matches_6_18),
                cmocka_unit_test(test_ksm_mode_names),
                cmocka_unit_test(test_ksm_knob_parse_advisor),
                cmocka_unit_test(test_ksm_knob_parse_numbers),
                cmocka_unit_test(test_ksm_knob_format_values),
                SYSFS_SCRATCH_TEST(test_ksm_sysfs_open_errors, empty),
                cmocka_unit_test(test_ksm_sysfs_open_at_dups_fd),
                cmocka_unit_test(test_ksm_sysfs_read_6_18),
                cmocka_unit_test(test_ksm_sysfs_read_6_18_active),
                cmocka_unit_test(test_ksm_sysfs_read_6_1),
                cmocka_unit_test(test_ksm_sysfs_read_malformed),
                cmocka_unit_test(test_ksm_sysfs_read_invalid_args),
                SYSFS_SCRATCH_TEST(test_ksm_sysfs_read_vanished, 6_18),
                cmocka_unit_test(test_ksm_sysfs_snapshot_6_18),
                cmocka_unit_test(test_ksm_sysfs_snapshot_6_1),
                cmocka_unit_test(test_ksm_sysfs_snapshot_malformed),
                SYSFS_SCRATCH_TEST(test_ksm_sysfs_write_valid, 6_18),
                SYSFS_SCRATCH_TEST(test_ksm_sysfs_write_bounds, 6_18),
                SYSFS_SCRATCH_TEST(test_ksm_sysfs_write_out_of_range, 6_18),
                SYSFS_SCRATCH_TEST(test_ksm_sysfs_write_counter, 6_18),
                SYSFS_SCRATCH_TEST(test_ksm_sysfs_write_absent, 6_1),
                SYSFS_SCRATCH_TEST(test_ksm_sysfs_write_advisor, 6_18),
                SYSFS_SCRATCH_TEST(test_ksm_sysfs_write_over_malformed, malformed),
                SYSFS_SCRATCH_TEST(test_ksm_sysfs_write_vanished, 6_18),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
