/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proc-stat.c - /proc/PID/stat and friends.
 *
 * Example of the line we parse (ksmd on 6.18):
 *   37 (ksmd) S 2 0 0 0 -1 2097216 0 0 0 0 0 0 0 0 25 5 1 0 26 0 0 18446744073709551615 …
 * Fields after comm, 1-based as in proc(5): 3 state, 4 ppid, 9 flags, 14 utime, 15 stime,
 * 22 starttime.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "missing.h"
#include "parse-util.h"
#include "proc-stat.h"

int proc_stat_parse(const char *buf, ProcStat *ret) {
        const char *open, *close;
        _cleanup_free_ char *rest = NULL;
        char *saveptr = NULL, *tok;
        ProcStat st = {};
        uint64_t v;
        int64_t pid;
        size_t len;
        int field;

        if (!buf || !ret)
                return -EINVAL;
        open = strchr(buf, '(');
        close = strrchr(buf, ')');
        if (!open || !close || close < open)
                return -EBADMSG;

        {
                char pidbuf[24];
                size_t n = (size_t) (open - buf);

                while (n > 0 && buf[n - 1] == ' ')
                        n--;
                if (n == 0 || n >= sizeof(pidbuf))
                        return -EBADMSG;
                memcpy(pidbuf, buf, n);
                pidbuf[n] = 0;
                if (safe_atoi64(pidbuf, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
                        return -EBADMSG;
                st.pid = (pid_t) pid;
        }

        len = (size_t) (close - open - 1);
        if (len >= sizeof(st.comm))
                len = sizeof(st.comm) - 1;
        memcpy(st.comm, open + 1, len);
        st.comm[len] = 0;

        rest = strdup(close + 1);
        if (!rest)
                return -ENOMEM;

        for (field = 3, tok = strtok_r(rest, " \n", &saveptr); tok && field <= 22;
             field++, tok = strtok_r(NULL, " \n", &saveptr)) {
                switch (field) {
                case 3:
                        if (strlen(tok) != 1 || !isalpha((unsigned char) tok[0]))
                                return -EBADMSG;
                        st.state = tok[0];
                        break;
                case 4:
                        if (safe_atoi64(tok, &pid) < 0 || pid < 0 || pid > INT32_MAX)
                                return -EBADMSG;
                        st.ppid = (pid_t) pid;
                        break;
                case 9:
                        if (safe_atou64(tok, &v) < 0 || v > UINT32_MAX)
                                return -EBADMSG;
                        st.flags = (unsigned) v;
                        break;
                case 14:
                case 15:
                case 22:
                        if (safe_atou64(tok, &v) < 0)
                                return -EBADMSG;
                        if (field == 14)
                                st.utime_ticks = v;
                        else if (field == 15)
                                st.stime_ticks = v;
                        else
                                st.start_time_ticks = v;
                        break;
                default:
                        break;
                }
        }
        if (field <= 22)
                return -EBADMSG;        /* truncated */

        *ret = st;
        return 0;
}

int proc_stat_read_at(int proc_fd, pid_t pid, ProcStat *ret) {
        _cleanup_free_ char *buf = NULL;
        char path[48];
        int r;

        snprintf(path, sizeof(path), "%d/stat", (int) pid);
        r = read_virtual_file_at(proc_fd, path, 4096, &buf, NULL);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        return proc_stat_parse(buf, ret);
}

bool proc_stat_is_kthread(const ProcStat *st) {
        return (st->flags & PF_KTHREAD) || st->pid == 2 || st->ppid == 2;
}

int proc_schedstat_parse(const char *buf, nsec_t *ret_run_ns) {
        char first[32];
        size_t n;

        if (!buf || !ret_run_ns)
                return -EINVAL;
        n = strcspn(buf, " \n");
        if (n == 0 || n >= sizeof(first))
                return -EBADMSG;
        memcpy(first, buf, n);
        first[n] = 0;
        if (safe_atou64(first, ret_run_ns) < 0)
                return -EBADMSG;
        return 0;
}

int proc_cpu_time_read_at(int proc_fd, pid_t pid, long ticks_per_sec, nsec_t *ret) {
        _cleanup_free_ char *buf = NULL;
        ProcStat st;
        char path[48];
        int r;

        snprintf(path, sizeof(path), "%d/schedstat", (int) pid);
        r = read_virtual_file_at(proc_fd, path, 4096, &buf, NULL);
        if (r >= 0 && proc_schedstat_parse(buf, ret) >= 0)
                return 0;

        r = proc_stat_read_at(proc_fd, pid, &st);
        if (r < 0)
                return r;
        if (ticks_per_sec <= 0)
                return -EINVAL;
        *ret = (st.utime_ticks + st.stime_ticks) * (NSEC_PER_SEC / (nsec_t) ticks_per_sec);
        return 0;
}

int proc_comm_read_at(int proc_fd, pid_t pid, char *buf, size_t size) {
        _cleanup_free_ char *s = NULL;
        char path[48];
        int r;

        snprintf(path, sizeof(path), "%d/comm", (int) pid);
        r = read_virtual_file_at(proc_fd, path, 4096, &s, NULL);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        snprintf(buf, size, "%s", strstrip(s));
        return 0;
}

int ksmd_find_at(int proc_fd, pid_t *ret) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        struct dirent *de;
        int r = -ESRCH;

        /* ksmd starts early at boot and so has a low PID; procfs lists PIDs in ascending order,
         * so the walk stops after a few dozen entries. */
        fd = openat(proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);

        while ((de = readdir(d))) {
                char comm[PROC_COMM_MAX];
                ProcStat st;
                int64_t pid;

                if (safe_atoi64(de->d_name, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
                        continue;
                if (proc_comm_read_at(proc_fd, (pid_t) pid, comm, sizeof(comm)) < 0 || !streq(comm, "ksmd"))
                        continue;
                if (proc_stat_read_at(proc_fd, (pid_t) pid, &st) < 0 || !proc_stat_is_kthread(&st))
                        continue;
                *ret = (pid_t) pid;
                r = 0;
                break;
        }
        closedir(d);
        return r;
}
