/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fixture.h - helpers shared by the unit tests: find files under $KSMT_FIXTURES_DIR, read them,
 * and build scratch directories under /tmp (mkdtemp) that teardown removes again.
 *
 * Every helper aborts the test binary (assert_se) on an environment problem, so test bodies can
 * stay about the code under test.
 */
#pragma once

#include <stddef.h>

/* $KSMT_FIXTURES_DIR; aborts if it is not set. */
const char *fixture_dir(void);

/* "<fixtures>/<rel>" as a heap string. */
char *fixture_path(const char *rel);

/* Contents of "<fixtures>/<rel>" as a NUL-terminated heap string. */
char *fixture_read(const char *rel);

/* An O_DIRECTORY fd of "<fixtures>/<rel>". */
int fixture_open_dir(const char *rel);

/* Creates /tmp/ksmt-unit-XXXXXX and returns its path (heap). */
char *scratch_new(void);

/* Copies the regular files of "<fixtures>/<rel>" (not recursively) into @dir. */
void scratch_copy_fixture(const char *dir, const char *rel);

/* Creates (or replaces) @dir/@name with exactly @content.  Intermediate directories are made. */
void scratch_write(const char *dir, const char *name, const char *content);

/* Contents of @dir/@name as a heap string. */
char *scratch_read(const char *dir, const char *name);

/* Removes @dir recursively and frees the string.  Accepts NULL. */
void scratch_remove(char *dir);

/* CMocka setup/teardown pair that puts a fresh scratch dir in *state and removes it afterwards. */
int scratch_setup(void **state);
int scratch_teardown(void **state);
#define SCRATCH_TEST(f) cmocka_unit_test_setup_teardown(f, scratch_setup, scratch_teardown)
