/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup.c - cgroup2 mount discovery and per-process v2 paths.
 *
 * mountinfo line (proc(5)):
 *   41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
 *   ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
 * /proc/PID/cgroup on a hybrid host:
 *   4:memory:/process_api/383a…
 *   0::/
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "fileio.h"
#include "macro.h"

/* Decodes mountinfo's \ooo escapes in place. */
static void unoctal(char *s) {
        char *w = s;

        for (char *r = s; *r; ) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char) (((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
                        r += 4;
                } else
                        *w++ = *r++;
        }
        *w = 0;
}

int cgroup2_find_mount_parse(const char *mountinfo, char **ret) {
        _cleanup_free_ char *copy = NULL;
        char *saveptr = NULL;

        if (!mountinfo || !ret)
                return -EINVAL;
        copy = strdup(mountinfo);
        if (!copy)
                return -ENOMEM;

        for (char *line = strtok_r(copy, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
                char *sep = strstr(line, " - "), *fields[5], *save2 = NULL, *tok, *fstype;
                size_t n = 0;

                if (!sep)
                        return -EBADMSG;
                *sep = 0;
                fstype = sep + 3;
                if (!strneq(fstype, "cgroup2 ", 8))
                        continue;

                for (tok = strtok_r(line, " ", &save2); tok && n < ELEMENTSOF(fields);
                     tok = strtok_r(NULL, " ", &save2))
                        fields[n++] = tok;
                if (n < 5)
                        return -EBADMSG;

                unoctal(fields[4]);
                *ret = strdup(fields[4]);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

int cgroup2_find_mount_at(int proc_fd, char **ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = read_virtual_file_at(proc_fd, "self/mountinfo", READ_VIRTUAL_MAX, &buf, NULL);
        if (r < 0)
                return r;
        return cgroup2_find_mount_parse(buf, ret);
}

int cgroup_parse_v2_path(const char *buf, char **ret) {
        _cleanup_free_ char *copy = NULL;
        char *saveptr = NULL;

        if (!buf || !ret)
                return -EINVAL;
        copy = strdup(buf);
        if (!copy)
                return -ENOMEM;

        for (char *line = strtok_r(copy, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
                if (!strneq(line, "0::", 3))
                        continue;
                if (line[3] != '/')
                        return -EBADMSG;
                *ret = strdup(line + 3);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENODATA;
}

int cgroup_pid_get_path_at(int proc_fd, pid_t pid, char **ret) {
        _cleanup_free_ char *buf = NULL;
        char path[48];
        int r;

        snprintf(path, sizeof(path), "%d/cgroup", (int) pid);
        r = read_virtual_file_at(proc_fd, path, 64 * 1024, &buf, NULL);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        return cgroup_parse_v2_path(buf, ret);
}

static int collect_at(int dir_fd, bool recursive, unsigned depth, pid_t **pids, size_t *n, size_t *allocated) {
        _cleanup_free_ char *procs = NULL;
        char *saveptr = NULL;
        int r;

        if (depth > 64)
                return -ELOOP;
        r = read_virtual_file_at(dir_fd, "cgroup.procs", READ_VIRTUAL_MAX, &procs, NULL);
        if (r < 0)
                return r;
        for (char *l = strtok_r(procs, "\n", &saveptr); l; l = strtok_r(NULL, "\n", &saveptr)) {
                long long v;
                char *end;

                errno = 0;
                v = strtoll(l, &end, 10);
                if (errno || *end || v <= 0 || v > INT32_MAX)
                        return -EBADMSG;
                if (*n == *allocated) {
                        size_t na = *allocated ? *allocated * 2 : 64;
                        pid_t *p = realloc(*pids, na * sizeof(pid_t));

                        if (!p)
                                return -ENOMEM;
                        *pids = p;
                        *allocated = na;
                }
                (*pids)[(*n)++] = (pid_t) v;
        }

        if (recursive) {
                int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
                struct dirent *de;
                DIR *d;

                if (fd < 0)
                        return -errno;
                d = fdopendir(fd);
                if (!d) {
                        safe_close(fd);
                        return -errno;
                }
                while ((de = readdir(d))) {
                        int sub;

                        if (de->d_type != DT_DIR || de->d_name[0] == '.')
                                continue;
                        sub = openat(dir_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (sub < 0)
                                continue;       /* removed meanwhile */
                        r = collect_at(sub, true, depth + 1, pids, n, allocated);
                        safe_close(sub);
                        if (r < 0 && r != -ENOENT) {
                                closedir(d);
                                return r;
                        }
                }
                closedir(d);
        }
        return 0;
}

int cgroup_collect_pids(const char *root, const char *path, bool recursive, pid_t **ret, size_t *ret_n) {
        _cleanup_close_ int root_fd = -EBADF, fd = -EBADF;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, allocated = 0;
        const char *rel = path;
        int r;

        if (!root || !path || path[0] != '/' || strstr(path, "/../") || (strlen(path) >= 3 && streq(path + strlen(path) - 3, "/..")))
                return -EINVAL;
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;
        while (*rel == '/')
                rel++;
        fd = openat(root_fd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = collect_at(fd, recursive, 0, &pids, &n, &allocated);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}
