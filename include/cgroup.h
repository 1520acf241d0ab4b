/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup.h - cgroup v2: where it is mounted, and which v2 cgroup a process is in.
 *
 * On pure-v2 hosts cgroup2 is at /sys/fs/cgroup; on hybrid ones (ours) at /sys/fs/cgroup/unified.
 * We never assume either: we read /proc/self/mountinfo.  Processes are keyed by the path on the
 * "0::" line of /proc/PID/cgroup.  Non-logging.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/*
 * Finds the first cgroup2 mount in mountinfo text.  *ret is a heap string with octal escapes
 * (\040 …) decoded.  -ENOENT if there is no cgroup2 mount, -EBADMSG on a malformed line.
 */
int cgroup2_find_mount_parse(const char *mountinfo, char **ret);
/* Same, reading "self/mountinfo" relative to @proc_fd. */
int cgroup2_find_mount_at(int proc_fd, char **ret);

/*
 * Extracts the v2 path ("0::/system.slice/foo.service") from /proc/PID/cgroup text.
 * -ENODATA if there is no "0::" line (v1-only host), -EBADMSG if malformed.
 * A path ending in " (deleted)" is returned as is.
 */
int cgroup_parse_v2_path(const char *buf, char **ret);
/* Reads PID's cgroup file relative to @proc_fd.  -ESRCH if the process is gone. */
int cgroup_pid_get_path_at(int proc_fd, pid_t pid, char **ret);

/*
 * Collects the PIDs in the v2 cgroup @path (e.g. "/system.slice/foo.service", relative to the
 * cgroup2 mount @root) and, with @recursive, in all its descendants.  *ret is a heap array.
 * -ENOENT if the cgroup does not exist.
 */
int cgroup_collect_pids(const char *root, const char *path, bool recursive, pid_t **ret, size_t *ret_n);
