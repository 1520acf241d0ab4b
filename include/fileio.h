/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fileio.h - bounded reads and single writes of small virtual files (procfs, sysfs, cgroupfs).
 *
 * Everything goes through a directory fd so that tests can point the callers at a fixture tree.
 * Non-logging.
 */
#pragma once

#include <stddef.h>

/* Largest virtual file we ever read; /proc/PID/stat and ksm_stat are < 1 KiB, mountinfo can be large. */
#define READ_VIRTUAL_MAX (4U * 1024U * 1024U)

/*
 * Reads all of @path (relative to @dir_fd, or absolute) into a NUL-terminated heap buffer.
 * Fails with -EFBIG if the file is larger than @max bytes, -EBADMSG if it contains a NUL byte.
 * Returns 0 on success; *ret is owned by the caller, *ret_size (optional) excludes the NUL.
 */
int read_virtual_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_size);

/*
 * Writes @value in one write(2) to an existing file (no O_CREAT; O_TRUNC so that a regular-file
 * copy of a sysfs tree holds exactly @value, a no-op on sysfs itself).
 * Returns 0 on success or the negative errno the kernel gave (e.g. -EINVAL, -EBUSY).
 */
int write_string_file_at(int dir_fd, const char *path, const char *value);

/* Returns a pointer past leading whitespace; strips trailing whitespace in place. */
char *strstrip(char *s);
