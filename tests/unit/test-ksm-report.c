/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-ksm-report.c - derived KSM figures (ratios, bytes, CPU use) on hand-built snapshots and on
 * snapshots of the sysfs fixtures, and their JSON form.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "ksm-report.h"
#include "ksm-stat.h"
#include "ksm-sysfs.h"
#include "macro.h"

#define PAGE 4096U

static void set(KsmSnapshot *s, KsmKnob k, int64_t v) {
        s->present[k] = true;
        s->error[k] = 0;
        s->value[k] = v;
}

static KsmSnapshot counters(int64_t shared, int64_t sharing, int64_t unshared) {
        KsmSnapshot s = {};

        set(&s, KSM_KNOB_PAGES_SHARED, shared);
        set(&s, KSM_KNOB_PAGES_SHARING, sharing);
        set(&s, KSM_KNOB_PAGES_UNSHARED, unshared);
        return s;
}

static void snapshot_fixture(const char *rel, KsmSnapshot *ret) {
        _cleanup_free_ char *p = fixture_path(rel);
        _cleanup_(ksm_sysfs_freep) KsmSysfs *k = NULL;

        assert_int_equal(ksm_sysfs_open(p, &k), 0);
        ksm_sysfs_snapshot(k, ret);
}

static void test_ksm_report_compute_basic(void **state) {
        KsmSnapshot s = counters(7, 1785, 281);
        KsmReport r;

        set(&s, KSM_KNOB_KSM_ZERO_PAGES, 0);
        set(&s, KSM_KNOB_GENERAL_PROFIT, 7178560);
        ksm_report_compute(&s, PAGE, &r);
        assert_true(r.have_profit);
        assert_int_equal(r.profit_bytes, 7178560);
        assert_int_equal(r.saved_bytes, 1785 * PAGE);
        assert_true(r.have_sharing_ratio);
        assert_int_equal(r.sharing_ratio_pmy, 2550000);         /* 1785 / 7 = 255.00 */
        assert_true(r.have_unshared_ratio);
        assert_int_equal(r.unshared_ratio_pmy, 1574);           /* 281 / 1785 = 0.1574… */
        assert_false(r.have_cpu);
        assert_int_equal(r.ksmd_cpu_pmy, 0);
        assert_int_equal(r.cpu_sample_usec, 0);
}

static void test_ksm_report_compute_zero_pages(void **state) {
        KsmSnapshot s = counters(10, 30, 5);
        KsmReport r;

        /* pages merged with the zero page count as saved too (use_zero_pages) */
        set(&s, KSM_KNOB_KSM_ZERO_PAGES, 12);
        ksm_report_compute(&s, PAGE, &r);
        assert_int_equal(r.saved_bytes, 42 * PAGE);
        assert_int_equal(r.sharing_ratio_pmy, 30000);
        assert_int_equal(r.unshared_ratio_pmy, 1666);
        /* other page sizes */
        ksm_report_compute(&s, 65536, &r);
        assert_int_equal(r.saved_bytes, 42 * 65536);
}

static void test_ksm_report_compute_divide_by_zero(void **state) {
        KsmSnapshot s = counters(0, 0, 0);
        KsmReport r;

        /* idle KSM: nothing shared, no ratios (not 0, not a division by zero) */
        ksm_report_compute(&s, PAGE, &r);
        assert_int_equal(r.saved_bytes, 0);
        assert_false(r.have_sharing_ratio);
        assert_false(r.have_unshared_ratio);

        /* sharing without shared pages cannot happen, but must not divide by zero */
        s = counters(0, 5, 3);
        ksm_report_compute(&s, PAGE, &r);
        assert_false(r.have_sharing_ratio);
        assert_true(r.have_unshared_ratio);
        assert_int_equal(r.unshared_ratio_pmy, 6000);
        assert_int_equal(r.saved_bytes, 5 * PAGE);

        /* shared pages but nothing sharing yet: ratio 0, unshared ratio undefined */
        s = counters(4, 0, 100);
        ksm_report_compute(&s, PAGE, &r);
        assert_true(r.have_sharing_ratio);
        assert_int_equal(r.sharing_ratio_pmy, 0);
        assert_false(r.have_unshared_ratio);
}

static void test_ksm_report_compute_absent(void **state) {
        KsmSnapshot s = {};
        KsmReport r;

        /* nothing present: everything is "unknown", nothing crashes */
        ksm_report_compute(&s, PAGE, &r);
        assert_false(r.have_profit);
        assert_false(r.have_sharing_ratio);
        assert_false(r.have_unshared_ratio);
        assert_int_equal(r.saved_bytes, 0);

        /* before 6.1: no general_profit; before 6.10: no ksm_zero_pages */
        s = counters(2, 8, 1);
        ksm_report_compute(&s, PAGE, &r);
        assert_false(r.have_profit);
        assert_int_equal(r.saved_bytes, 8 * PAGE);
        assert_int_equal(r.sharing_ratio_pmy, 40000);
        assert_int_equal(r.unshared_ratio_pmy, 1250);
}

static void test_ksm_report_compute_errors(void **state) {
        KsmSnapshot s = counters(7, 1785, 281);
        KsmReport r;

        /* a counter that failed to read is treated as unknown */
        s.error[KSM_KNOB_PAGES_SHARING] = -ERANGE;
        set(&s, KSM_KNOB_GENERAL_PROFIT, 0);
        s.error[KSM_KNOB_GENERAL_PROFIT] = -EBADMSG;
        ksm_report_compute(&s, PAGE, &r);
        assert_int_equal(r.saved_bytes, 0);
        assert_false(r.have_sharing_ratio);
        assert_false(r.have_unshared_ratio);
        assert_false(r.have_profit);

        /* a bad ksm_zero_pages does not spoil saved_bytes */
        s = counters(7, 1785, 281);
        set(&s, KSM_KNOB_KSM_ZERO_PAGES, 99);
        s.error[KSM_KNOB_KSM_ZERO_PAGES] = -EBADMSG;
        ksm_report_compute(&s, PAGE, &r);
        assert_int_equal(r.saved_bytes, 1785 * PAGE);
}

static void test_ksm_report_compute_negative_profit(void **state) {
        KsmSnapshot s = counters(1, 1, 50000);
        KsmReport r;

        /* many rmap_items, little merged: general_profit goes negative */
        set(&s, KSM_KNOB_GENERAL_PROFIT, -3196800);
        ksm_report_compute(&s, PAGE, &r);
        assert_true(r.have_profit);
        assert_true(r.profit_bytes == -3196800);
        assert_int_equal(r.saved_bytes, PAGE);
        assert_int_equal(r.unshared_ratio_pmy, 500000000);
}

static void test_ksm_report_compute_fixtures(void **state) {
        KsmSnapshot s;
        KsmReport r;

        snapshot_fixture("sysfs/ksm-6.18-active", &s);
        ksm_report_compute(&s, PAGE, &r);
        assert_true(r.have_profit);
        assert_int_equal(r.profit_bytes, 7178560);
        assert_int_equal(r.saved_bytes, 7311360);
        assert_int_equal(r.sharing_ratio_pmy, 2550000);
        assert_int_equal(r.unshared_ratio_pmy, 1574);

        snapshot_fixture("sysfs/ksm-6.18", &s);
        ksm_report_compute(&s, PAGE, &r);
        assert_true(r.have_profit);
        assert_int_equal(r.profit_bytes, 0);
        assert_int_equal(r.saved_bytes, 0);
        assert_false(r.have_sharing_ratio);
        assert_false(r.have_unshared_ratio);

        snapshot_fixture("sysfs/ksm-6.1", &s);
        ksm_report_compute(&s, PAGE, &r);
        assert_true(r.profit_bytes == -4096);
        assert_int_equal(r.saved_bytes, 340 * PAGE);
        assert_int_equal(r.sharing_ratio_pmy, 283333);          /* 340 / 12 = 28.3333 */
        assert_int_equal(r.unshared_ratio_pmy, 44117);          /* 1500 / 340 = 4.4117… */

        /* pages_shared overflows, pages_sharing is negative: both unknown */
        snapshot_fixture("sysfs/ksm-malformed", &s);
        ksm_report_compute(&s, PAGE, &r);
        assert_false(r.have_profit);
        assert_int_equal(r.saved_bytes, 0);
        assert_false(r.have_sharing_ratio);
        assert_false(r.have_unshared_ratio);
}

static void test_cpu_usage_pmy_values(void **state) {
        assert_int_equal(cpu_usage_pmy(0, 0), 0);
        assert_int_equal(cpu_usage_pmy(NSEC_PER_SEC, 0), 0);           /* no wall time: 0, no trap */
        assert_int_equal(cpu_usage_pmy(0, USEC_PER_SEC), 0);
        assert_int_equal(cpu_usage_pmy(NSEC_PER_SEC, USEC_PER_SEC), 10000);
        assert_int_equal(cpu_usage_pmy(NSEC_PER_SEC / 2, USEC_PER_SEC), 5000);
        assert_int_equal(cpu_usage_pmy(2 * NSEC_PER_SEC, USEC_PER_SEC), 20000);       /* two CPUs' worth */
        assert_int_equal(cpu_usage_pmy(123456789, 10 * USEC_PER_SEC), 123);           /* 1.23456789 % */
        /* rounding to the nearest permyriad: 0.5 up, 0.49 down */
        assert_int_equal(cpu_usage_pmy(50000, USEC_PER_SEC), 1);
        assert_int_equal(cpu_usage_pmy(49999, USEC_PER_SEC), 0);
        assert_int_equal(cpu_usage_pmy(150000, USEC_PER_SEC), 2);
        /* saturates instead of overflowing */
        assert_true(cpu_usage_pmy(UINT64_MAX, 1) == UINT64_MAX);
        assert_true(cpu_usage_pmy(UINT64_MAX / 10 + 1, USEC_PER_SEC) == UINT64_MAX);
        assert_true(cpu_usage_pmy(UINT64_MAX / 10, UINT64_MAX) == 1);
}

static void test_ksm_report_to_json_active(void **state) {
        KsmSnapshot s;
        KsmReport r;
        json_t *j, *knobs, *counters_j, *derived;

        snapshot_fixture("sysfs/ksm-6.18-active", &s);
        ksm_report_compute(&s, PAGE, &r);
        r.have_cpu = true;
        r.ksmd_cpu_pmy = 1234;
        r.cpu_sample_usec = 10 * USEC_PER_SEC;

        j = ksm_report_to_json(&s, &r);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "run_mode")), "merge");
        knobs = json_object_get(j, "knobs");
        counters_j = json_object_get(j, "counters");
        derived = json_object_get(j, "derived");
        assert_int_equal(json_object_size(knobs), _KSM_KNOB_FIRST_COUNTER);
        assert_int_equal(json_object_size(counters_j), _KSM_KNOB_MAX - _KSM_KNOB_FIRST_COUNTER);
        assert_int_equal(json_integer_value(json_object_get(knobs, "pages_to_scan")), 1000);
        assert_string_equal(json_string_value(json_object_get(knobs, "advisor_mode")), "none");
        assert_true(json_is_false(json_object_get(knobs, "use_zero_pages")));
        assert_true(json_is_true(json_object_get(knobs, "smart_scan")));
        assert_int_equal(json_integer_value(json_object_get(counters_j, "pages_sharing")), 1785);
        assert_int_equal(json_integer_value(json_object_get(counters_j, "general_profit")), 7178560);
        assert_int_equal(json_integer_value(json_object_get(derived, "saved_bytes")), 7311360);
        assert_int_equal(json_integer_value(json_object_get(derived, "profit_bytes")), 7178560);
        assert_true(json_real_value(json_object_get(derived, "sharing_ratio")) == 255.0);
        assert_true(json_real_value(json_object_get(derived, "unshared_per_sharing")) == 0.1574);
        assert_true(json_real_value(json_object_get(derived, "ksmd_cpu_percent")) == 12.34);
        assert_int_equal(json_integer_value(json_object_get(derived, "ksmd_cpu_sample_usec")),
                         10 * USEC_PER_SEC);
        assert_int_equal(json_array_size(json_object_get(j, "absent")), 0);
        assert_int_equal(json_object_size(json_object_get(j, "errors")), 0);
        json_decref(j);
}

static void test_ksm_report_to_json_old_and_broken(void **state) {
        KsmSnapshot s;
        KsmReport r;
        json_t *j, *absent, *errors, *derived, *counters_j;

        snapshot_fixture("sysfs/ksm-6.1", &s);
        ksm_report_compute(&s, PAGE, &r);
        j = ksm_report_to_json(&s, &r);
        assert_non_null(j);
        absent = json_object_get(j, "absent");
        assert_int_equal(json_array_size(absent), 9);
        assert_string_equal(json_string_value(json_array_get(absent, 0)), "smart_scan");
        assert_null(json_object_get(json_object_get(j, "knobs"), "smart_scan"));
        derived = json_object_get(j, "derived");
        assert_true(json_is_null(json_object_get(derived, "ksmd_cpu_percent")));
        assert_true(json_is_null(json_object_get(derived, "ksmd_cpu_sample_usec")));
        json_decref(j);

        snapshot_fixture("sysfs/ksm-malformed", &s);
        ksm_report_compute(&s, PAGE, &r);
        j = ksm_report_to_json(&s, &r);
        assert_non_null(j);
        errors = json_object_get(j, "errors");
        assert_string_equal(json_string_value(json_object_get(errors, "pages_shared")), strerror(ERANGE));
        assert_string_equal(json_string_value(json_object_get(errors, "pages_to_scan")), strerror(EBADMSG));
        assert_true(json_is_null(json_object_get(json_object_get(j, "counters"), "pages_shared")));
        counters_j = json_object_get(j, "counters");
        assert_int_equal(json_integer_value(json_object_get(counters_j, "pages_unshared")), 42);
        derived = json_object_get(j, "derived");
        assert_true(json_is_null(json_object_get(derived, "profit_bytes")));
        assert_true(json_is_null(json_object_get(derived, "sharing_ratio")));
        json_decref(j);

        /* no run knob at all */
        s = (KsmSnapshot) {};
        r = (KsmReport) {};
        j = ksm_report_to_json(&s, &r);
        assert_non_null(j);
        assert_true(json_is_null(json_object_get(j, "run_mode")));
        assert_int_equal(json_array_size(json_object_get(j, "absent")), _KSM_KNOB_MAX);
        json_decref(j);
}

static void test_ksm_stat_to_json_fields(void **state) {
        _cleanup_free_ char *buf = fixture_read("proc/ksm_stat-6.6");
        KsmStat st;
        json_t *j;

        assert_int_equal(ksm_stat_parse(buf, &st), 0);
        j = ksm_stat_to_json(&st);
        assert_non_null(j);
        assert_int_equal(json_object_size(j), 6);
        assert_int_equal(json_integer_value(json_object_get(j, "rmap_items")), 4);
        assert_int_equal(json_integer_value(json_object_get(j, "merging_pages")), 3);
        assert_true(json_integer_value(json_object_get(j, "profit_bytes")) == -12);
        assert_true(json_is_true(json_object_get(j, "merge_any")));
        /* not reported by that kernel: null, not false or 0 */
        assert_true(json_is_null(json_object_get(j, "zero_pages")));
        assert_true(json_is_null(json_object_get(j, "mergeable")));
        json_decref(j);

        st = (KsmStat) {};
        j = ksm_stat_to_json(&st);
        assert_non_null(j);
        assert_true(json_is_null(json_object_get(j, "rmap_items")));
        assert_true(json_is_null(json_object_get(j, "merge_any")));
        json_decref(j);
}

/* stable_node_dups per stable_node_chain: how often a page needed another KSM copy. */
static void test_ksm_report_fragmentation(void **state) {
        KsmSnapshot s = {};
        KsmReport r;

        ksm_report_compute(&s, 4096, &r);
        assert_false(r.have_fragmentation);             /* absent on old kernels */
        set(&s, KSM_KNOB_STABLE_NODE_CHAINS, 0);
        set(&s, KSM_KNOB_STABLE_NODE_DUPS, 0);
        ksm_report_compute(&s, 4096, &r);
        assert_false(r.have_fragmentation);             /* no chain: no ratio, not a division by zero */
        set(&s, KSM_KNOB_STABLE_NODE_CHAINS, 4);        /* as measured here: 64 dups over 4 chains */
        set(&s, KSM_KNOB_STABLE_NODE_DUPS, 64);
        ksm_report_compute(&s, 4096, &r);
        assert_true(r.have_fragmentation);
        assert_int_equal(r.dups_per_chain_pmy, 160000);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ksm_report_fragmentation),
                cmocka_unit_test(test_ksm_report_compute_basic),
                cmocka_unit_test(test_ksm_report_compute_zero_pages),
                cmocka_unit_test(test_ksm_report_compute_divide_by_zero),
                cmocka_unit_test(test_ksm_report_compute_absent),
                cmocka_unit_test(test_ksm_report_compute_errors),
                cmocka_unit_test(test_ksm_report_compute_negative_profit),
                cmocka_unit_test(test_ksm_report_compute_fixtures),
                cmocka_unit_test(test_cpu_usage_pmy_values),
                cmocka_unit_test(test_ksm_report_to_json_active),
                cmocka_unit_test(test_ksm_report_to_json_old_and_broken),
                cmocka_unit_test(test_ksm_stat_to_json_fields),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
