/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pidref.h - a process held by pidfd: {pid, pidfd, start time}.
 *
 * The only way later code may refer to another process.  A PidRef is created with pidfd_open()
 * followed by a start-time check against /proc/PID/stat and a liveness check on the pidfd, so a
 * PidRef never silently points at a recycled PID.  The manager polls the pidfd for exit; this
 * module does not.  Non-logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "proc-stat.h"

typedef struct PidRef {
        pid_t pid;
        int pidfd;
        uint64_t start_time_ticks;
} PidRef;

#define PIDREF_NULL ((PidRef) { .pid = 0, .pidfd = -EBADF })

/*
 * Opens PID.  If @expected_start_time is not UINT64_MAX, the process must have that start time
 * (i.e. be the very process that was matched earlier), else -ESRCH.  @proc_fd is an fd of /proc.
 * -ESRCH: no such process (any more); other negative errnos from pidfd_open()/procfs.
 * On success *ret holds an open pidfd that the caller releases with pidref_done().
 */
int pidref_open(int proc_fd, pid_t pid, uint64_t expected_start_time, PidRef *ret);

/* Closes the pidfd and resets to PIDREF_NULL. */
void pidref_done(PidRef *p);

/* 1 if the process is still alive (its pidfd is not yet readable), 0 if it exited, <0 on error. */
int pidref_is_alive(const PidRef *p);

/*
 * 1 if PID currently names the same process as @p (alive and same start time), 0 if not.
 * Use before acting on /proc/PID paths: pidfds do not cover procfs reads.
 */
int pidref_verify(int proc_fd, const PidRef *p);

/* Sends @sig through the pidfd (never by PID). */
int pidref_kill(const PidRef *p, int sig);
