/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pidref.c - process identity by pidfd + start time.
 *
 * Race reasoning: pidfd_open(pid) pins *some* process P that had @pid at that moment.  We then read
 * /proc/PID/stat: if P is still alive, PID still names P (a PID is not reused while its task
 * exists), so the start time read belongs to P.  We check P is alive *after* the read (poll on the
 * pidfd); if it exited in between, the stat we read may belong to a successor, so we fail with
 * -ESRCH.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#include "pidref.h"
#include "sys.h"

int pidref_is_alive(const PidRef *p) {
        struct pollfd pfd;
        int r;

        if (!p || p->pidfd < 0)
                return -EBADF;
        pfd = (struct pollfd) { .fd = p->pidfd, .events = POLLIN };
        r = poll(&pfd, 1, 0);
        if (r < 0)
                return -errno;
        return r == 0;  /* readable == exited */
}

int pidref_open(int proc_fd, pid_t pid, uint64_t expected_start_time, PidRef *ret) {
        PidRef p = PIDREF_NULL;
        ProcStat st;
        int r;

        if (pid <= 0 || !ret)
                return -EINVAL;

        p.pidfd = sys_pidfd_open(pid, 0);
        if (p.pidfd < 0)
                return -errno;
        p.pid = pid;

        r = proc_stat_read_at(proc_fd, pid, &st);
        if (r < 0)
                goto fail;
        if (st.pid != pid) {
                r = -EBADMSG;
                goto fail;
        }
        p.start_time_ticks = st.start_time_ticks;

        r = pidref_is_alive(&p);
        if (r < 0)
                goto fail;
        if (r == 0 || (expected_start_time != UINT64_MAX && expected_start_time != st.start_time_ticks)) {
                r = -ESRCH;
                goto fail;
        }

        *ret = p;
        return 0;
fail:
        pidref_done(&p);
        return r;
}

void pidref_done(PidRef *p) {
        if (!p)
                return;
        safe_close(p->pidfd);
        *p = PIDREF_NULL;
}

int pidref_verify(int proc_fd, const PidRef *p) {
        ProcStat st;
        int r;

        r = pidref_is_alive(p);
        if (r <= 0)
                return r;
        r = proc_stat_read_at(proc_fd, p->pid, &st);
        if (r == -ESRCH)
                return 0;
        if (r < 0)
                return r;
        if (st.start_time_ticks != p->start_time_ticks)
                return 0;
        /* Alive before and after the read means the stat was P's. */
        return pidref_is_alive(p);
}

int pidref_kill(const PidRef *p, int sig) {
        if (!p || p->pidfd < 0)
                return -EBADF;
        if (sys_pidfd_send_signal(p->pidfd, sig, NULL, 0) < 0)
                return -errno;
        return 0;
}
