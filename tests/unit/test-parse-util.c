/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-parse-util.c - strict number and duration parsers, and the formatters used in status output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "macro.h"
#include "parse-util.h"

static void test_safe_atou64_valid(void **state) {
        uint64_t v;

        assert_int_equal(safe_atou64("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(safe_atou64("42", &v), 0);
        assert_int_equal(v, 42);
        assert_int_equal(safe_atou64("007", &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(safe_atou64("18446744073709551615", &v), 0);
        assert_true(v == UINT64_MAX);
        /* ret is optional */
        assert_int_equal(safe_atou64("1", NULL), 0);
}

static void test_safe_atou64_invalid(void **state) {
        static const char *const bad[] = {
                "", " 1", "1 ", "-1", "+1", "12abc", "0x10", "1.5", "abc", " ", "1\n", "\xd9\xa1",
        };
        uint64_t v = 4711;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(safe_atou64(bad[i], &v), -EINVAL);
        assert_int_equal(safe_atou64(NULL, &v), -EINVAL);
        /* ret is set only on success */
        assert_int_equal(v, 4711);
}

static void test_safe_atou64_overflow(void **state) {
        uint64_t v = 4711;

        assert_int_equal(safe_atou64("18446744073709551616", &v), -ERANGE);
        assert_int_equal(safe_atou64("99999999999999999999999", &v), -ERANGE);
        assert_int_equal(v, 4711);
}

static void test_safe_atoi64_valid(void **state) {
        int64_t v;

        assert_int_equal(safe_atoi64("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(safe_atoi64("-0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(safe_atoi64("-4096", &v), 0);
        assert_true(v == -4096);
        assert_int_equal(safe_atoi64("9223372036854775807", &v), 0);
        assert_true(v == INT64_MAX);
        assert_int_equal(safe_atoi64("-9223372036854775808", &v), 0);
        assert_true(v == INT64_MIN);
}

static void test_safe_atoi64_invalid(void **state) {
        static const char *const bad[] = {
                "", "-", "--1", "+5", " -1", "-1 ", "- 1", "1-", "12abc", "0x10", "1e3",
        };
        int64_t v = 4711;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(safe_atoi64(bad[i], &v), -EINVAL);
        assert_int_equal(safe_atoi64(NULL, &v), -EINVAL);
        assert_int_equal(safe_atoi64("9223372036854775808", &v), -ERANGE);
        assert_int_equal(safe_atoi64("-9223372036854775809", &v), -ERANGE);
        assert_int_equal(safe_atoi64("-99999999999999999999999", &v), -ERANGE);
        assert_int_equal(v, 4711);
}

static void test_safe_atou32_edges(void **state) {
        uint32_t v = 4711;

        assert_int_equal(safe_atou32("4294967295", &v), 0);
        assert_true(v == UINT32_MAX);
        assert_int_equal(safe_atou32("4294967296", &v), -ERANGE);
        assert_int_equal(safe_atou32("99999999999999999999999", &v), -ERANGE);
        assert_int_equal(safe_atou32("-1", &v), -EINVAL);
        assert_int_equal(safe_atou32("", &v), -EINVAL);
        assert_int_equal(safe_atou32("1x", &v), -EINVAL);
        assert_true(v == UINT32_MAX);
}

static void test_parse_fixed2_valid(void **state) {
        static const struct {
                const char *in;
                uint64_t out;
        } cases[] = {
                { "0",      0 },
                { "0.00",   0 },
                { "12.34",  1234 },
                { "1.5",    150 },
                { "1.23",   123 },
                { "1.239",  123 },      /* extra digits are cut, not rounded */
                { "100",    10000 },
                { "100.00", 10000 },
                { "0.07",   7 },
                { "184467440737095516.15", UINT64_MAX },
        };
        uint64_t v;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(parse_fixed2(cases[i].in, &v), 0);
                assert_true(v == cases[i].out);
        }
}

static void test_parse_fixed2_invalid(void **state) {
        static const char *const bad[] = { "", ".5", "1.", "1.2.3", "-1.0", "+1", "1,5", "1.5x", " 1", "abc" };
        uint64_t v = 4711;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_fixed2(bad[i], &v), -EINVAL);
        assert_int_equal(parse_fixed2(NULL, &v), -EINVAL);
        /* UINT64_MAX is 18446744073709551615: whole * 100 + fraction must not wrap */
        assert_int_equal(parse_fixed2("184467440737095516.16", &v), -ERANGE);
        assert_int_equal(parse_fixed2("184467440737095517", &v), -ERANGE);
        assert_int_equal(parse_fixed2("184467440737095519", &v), -ERANGE);
        assert_int_equal(parse_fixed2("99999999999999999999999", &v), -ERANGE);
        assert_int_equal(v, 4711);
}

static void test_parse_duration_usec_valid(void **state) {
        static const struct {
                const char *in;
                usec_t out;
        } cases[] = {
                { "10s",        10 * USEC_PER_SEC },
                { "500ms",      500 * USEC_PER_MSEC },
                { "1.5s",       1500 * USEC_PER_MSEC },
                { "1min 30s",   90 * USEC_PER_SEC },
                { "1min30s",    90 * USEC_PER_SEC },
                { "2h",         2 * USEC_PER_HOUR },
                { "1hr",        USEC_PER_HOUR },
                { "1.5h",       90 * USEC_PER_MINUTE },
                { "5",          5 * USEC_PER_SEC },
                { "1.5",        1500 * USEC_PER_MSEC },
                { "0",          0 },
                { "250us",      250 },
                { "3sec",       3 * USEC_PER_SEC },
                { "5m",         5 * USEC_PER_MINUTE },
                { "5min",       5 * USEC_PER_MINUTE },
                { "1s 500ms",   1500 * USEC_PER_MSEC },
                { " 10s ",      10 * USEC_PER_SEC },
                { "0.001ms",    1 },
                { "1.0000019s", 1000001 },     /* microsecond precision; more digits are cut */
                { "18446744073709551615us", UINT64_MAX },
        };
        usec_t v;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(parse_duration_usec(cases[i].in, &v), 0);
                assert_true(v == cases[i].out);
        }
}

static void test_parse_duration_usec_invalid(void **state) {
        static const char *const bad[] = {
                "", " ", "abc", "10x", "-1s", "s", "1.s", ".5s", "10 s", "5mins", "1d", "1S", "+1s", "1,5s",
        };
        usec_t v = 4711;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_duration_usec(bad[i], &v), -EINVAL);
        assert_int_equal(parse_duration_usec(NULL, &v), -EINVAL);
        assert_int_equal(v, 4711);
}

static void test_parse_duration_usec_overflow(void **state) {
        usec_t v = 4711;

        /* the number itself */
        assert_int_equal(parse_duration_usec("18446744073709551616us", &v), -ERANGE);
        /* number * unit: UINT64_MAX / USEC_PER_HOUR is 5124095576.03 */
        assert_int_equal(parse_duration_usec("5124095577h", &v), -ERANGE);
        /* whole part fits, whole part plus fraction does not */
        assert_int_equal(parse_duration_usec("5124095576.5h", &v), -ERANGE);
        /* sum of the parts */
        assert_int_equal(parse_duration_usec("18446744073709551615us 1us", &v), -ERANGE);
        assert_int_equal(v, 4711);

        assert_int_equal(parse_duration_usec("5124095576h", &v), 0);
        assert_true(v == 5124095576ULL * USEC_PER_HOUR);
}

static void test_format_bytes_values(void **state) {
        static const struct {
                int64_t in;
                const char *out;
        } cases[] = {
                { 0,                    "0 B" },
                { 12,                   "12 B" },
                { 1023,                 "1023 B" },
                { 1024,                 "1.0 KiB" },
                { 1536,                 "1.5 KiB" },
                { 812 * 1024,           "812.0 KiB" },
                { 1048575,              "1023.9 KiB" },    /* tenths are cut, not rounded up to 1024.0 */
                { 7311360,              "6.9 MiB" },
                { 1610612736,           "1.5 GiB" },
                { -1536,                "-1.5 KiB" },
                { -12,                  "-12 B" },
                { INT64_MAX,            "7.9 EiB" },
                { INT64_MIN,            "-8.0 EiB" },
        };
        char buf[FORMAT_BYTES_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_string_equal(format_bytes(buf, sizeof(buf), cases[i].in), cases[i].out);
}

static void test_format_pmy_values(void **state) {
        char buf[FORMAT_PMY_MAX];

        assert_string_equal(format_pmy(buf, sizeof(buf), 0), "0.00");
        assert_string_equal(format_pmy(buf, sizeof(buf), 5), "0.05");
        assert_string_equal(format_pmy(buf, sizeof(buf), 1234), "12.34");
        assert_string_equal(format_pmy(buf, sizeof(buf), 10000), "100.00");
        assert_string_equal(format_pmy(buf, sizeof(buf), 2550000), "25500.00");
        assert_string_equal(format_pmy(buf, sizeof(buf), UINT64_MAX), "184467440737095516.15");
}

static void test_format_duration_values(void **state) {
        static const struct {
                usec_t in;
                const char *out;
        } cases[] = {
                { 0,                            "0us" },
                { 999,                          "999us" },
                { USEC_PER_MSEC,                "1ms" },
                { 250 * USEC_PER_MSEC,          "250ms" },
                { 999999,                       "999ms" },
                { USEC_PER_SEC,                 "1s" },
                { 1500 * USEC_PER_MSEC,         "1.500s" },
                { 10 * USEC_PER_SEC,            "10s" },
                { USEC_PER_MINUTE,              "1min" },
                { 90 * USEC_PER_SEC,            "1min 30s" },
                { 303 * USEC_PER_SEC,           "5min 3s" },
                { USEC_PER_HOUR,                "60min" },
                { USEC_INFINITY,                "infinity" },
        };
        char buf[FORMAT_DURATION_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_string_equal(format_duration(buf, sizeof(buf), cases[i].in), cases[i].out);
}

static void test_format_duration_roundtrip(void **state) {
        static const usec_t values[] = {
                0, 250, 250 * USEC_PER_MSEC, USEC_PER_SEC, 1500 * USEC_PER_MSEC, 90 * USEC_PER_SEC,
                USEC_PER_HOUR, 2 * USEC_PER_HOUR,
        };
        char buf[FORMAT_DURATION_MAX];

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                usec_t v;

                assert_int_equal(parse_duration_usec(format_duration(buf, sizeof(buf), values[i]), &v), 0);
                assert_true(v == values[i]);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_safe_atou64_valid),
                cmocka_unit_test(test_safe_atou64_invalid),
                cmocka_unit_test(test_safe_atou64_overflow),
                cmocka_unit_test(test_safe_atoi64_valid),
                cmocka_unit_test(test_safe_atoi64_invalid),
                cmocka_unit_test(test_safe_atou32_edges),
                cmocka_unit_test(test_parse_fixed2_valid),
                cmocka_unit_test(test_parse_fixed2_invalid),
                cmocka_unit_test(test_parse_duration_usec_valid),
                cmocka_unit_test(test_parse_duration_usec_invalid),
                cmocka_unit_test(test_parse_duration_usec_overflow),
                cmocka_unit_test(test_format_bytes_values),
                cmocka_unit_test(test_format_pmy_values),
                cmocka_unit_test(test_format_duration_values),
                cmocka_unit_test(test_format_duration_roundtrip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
