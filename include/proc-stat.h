/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proc-stat.h - /proc/PID/stat (identity, state, CPU times), /proc/PID/schedstat, and finding ksmd.
 * Pure parsers plus *_read_at() relative to a /proc directory fd.  Non-logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "time-util.h"

#define PROC_COMM_MAX 64        /* TASK_COMM_LEN is 16, but kernel threads may show longer names */

typedef struct ProcStat {
        pid_t pid;
        char comm[PROC_COMM_MAX];
        char state;             /* R, S, D, Z, T, t, X, I … */
        pid_t ppid;
        unsigned flags;         /* PF_* task flags (PF_KTHREAD) */
        uint64_t utime_ticks, stime_ticks;
        uint64_t start_time_ticks;      /* since boot, in clock ticks: the identity half of a PidRef */
} ProcStat;

/*
 * Parses one /proc/PID/stat line.  The comm field is in parentheses and may itself contain spaces
 * and ')', so we split at the *last* ')'.  -EBADMSG on a malformed or truncated line.
 */
int proc_stat_parse(const char *buf, ProcStat *ret);
int proc_stat_read_at(int proc_fd, pid_t pid, ProcStat *ret);

/* True for kernel threads (PF_KTHREAD, or a child of kthreadd with PID 2). */
bool proc_stat_is_kthread(const ProcStat *st);

/* Parses /proc/PID/schedstat: "<ns on cpu> <ns waiting> <timeslices>". */
int proc_schedstat_parse(const char *buf, nsec_t *ret_run_ns);

/*
 * CPU time used by PID in nanoseconds: schedstat when the kernel has it (CONFIG_SCHED_INFO,
 * nanosecond resolution), else (utime+stime) ticks converted with @ticks_per_sec.
 */
int proc_cpu_time_read_at(int proc_fd, pid_t pid, long ticks_per_sec, nsec_t *ret);

/*
 * Finds the ksmd kernel thread: comm "ksmd", PF_KTHREAD.  -ESRCH if there is none (no CONFIG_KSM).
 */
int ksmd_find_at(int proc_fd, pid_t *ret);

/* Reads /proc/PID/comm without the newline into @buf (size >= 2). */
int proc_comm_read_at(int proc_fd, pid_t pid, char *buf, size_t size);
