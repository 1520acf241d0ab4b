/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-pidmap.c - the daemon's pid → tracked-process map under insertions, lookups and churn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "macro.h"
#include "pidmap.h"

static void test_pidmap_basic(void **state) {
        PidMap m = {};
        int a = 1, b = 2;

        assert_null(pidmap_get(&m, 5));
        assert_null(pidmap_remove(&m, 5));
        assert_int_equal(pidmap_put(&m, 0, &a), -EINVAL);
        assert_int_equal(pidmap_put(&m, -3, &a), -EINVAL);
        assert_int_equal(pidmap_put(&m, 5, &a), 0);
        assert_ptr_equal(pidmap_get(&m, 5), &a);
        assert_int_equal(pidmap_put(&m, 5, &b), 0);        /* replace, not a second entry */
        assert_int_equal(m.n, 1);
        assert_ptr_equal(pidmap_get(&m, 5), &b);
        assert_ptr_equal(pidmap_remove(&m, 5), &b);
        assert_int_equal(m.n, 0);
        assert_null(pidmap_get(&m, 5));
        pidmap_done(&m);
}

/* Against a plain array as the model: random inserts and removes, all lookups must agree. */
static void test_pidmap_churn(void **state) {
        enum { RANGE = 5000 };
        static uintptr_t model[RANGE];
        PidMap m = {};
        unsigned seed = 42;
        size_t live = 0;

        for (int i = 0; i < 200000; i++) {
                pid_t pid = (pid_t) (rand_r(&seed) % (RANGE - 1)) + 1;

                if (rand_r(&seed) % 3) {
                        if (!model[pid])
                                live++;
                        model[pid] = (uintptr_t) i + 1;
                        assert_int_equal(pidmap_put(&m, pid, (void *) model[pid]), 0);
                } else {
                        void *v = pidmap_remove(&m, pid);

                        assert_ptr_equal(v, (void *) model[pid]);
                        if (model[pid])
                                live--;
                        model[pid] = 0;
                }
                if (i % 1000 == 0)
                        for (pid_t p = 1; p < RANGE; p++)
                                assert_ptr_equal(pidmap_get(&m, p), (void *) model[p]);
        }
        assert_int_equal(m.n, live);

        /* iteration visits every live entry exactly once */
        {
                size_t seen = 0;
                pid_t pid;
                void *v;

                for (size_t i = 0; pidmap_next(&m, &i, &pid, &v); seen++)
                        assert_ptr_equal(v, (void *) model[pid]);
                assert_int_equal(seen, live);
        }
        pidmap_done(&m);
        assert_int_equal(m.n, 0);
        assert_null(pidmap_get(&m, 1));
}

/* Sequential PIDs (how the kernel hands them out) and their removal in order. */
static void test_pidmap_sequential(void **state) {
        PidMap m = {};

        for (pid_t p = 1; p <= 20000; p++)
                assert_int_equal(pidmap_put(&m, p, (void *) (uintptr_t) p), 0);
        assert_int_equal(m.n, 20000);
        assert_true(m.capacity * 7 >= m.n * 10);       /* load factor <= 0.7 */
        for (pid_t p = 1; p <= 20000; p += 2)
                assert_ptr_equal(pidmap_remove(&m, p), (void *) (uintptr_t) p);
        for (pid_t p = 1; p <= 20000; p++)
                assert_ptr_equal(pidmap_get(&m, p), p % 2 ? NULL : (void *) (uintptr_t) p);
        pidmap_done(&m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pidmap_basic),
                cmocka_unit_test(test_pidmap_churn),
                cmocka_unit_test(test_pidmap_sequential),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
