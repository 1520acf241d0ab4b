/* SPDX-License-Identifier: GPL-2.0-or-later */
/* merge-internal.h - what the merge engine's files share.  Private to src/merge. */
#pragma once

#include "merge.h"

/* Fills res->reason/detail (and error) and returns the value merge_engine_apply() should return. */
int merge_result_set(MergeResult *res, MergeOutcome o, MergeReason reason, int error, const char *format, ...)
        _printf_(5, 6);

/*
 * Stops thread @tid of @ref's process, runs syscall @nr(@args) in it, restores it and detaches.
 * *ret_rv is the syscall's return value (-errno on failure inside the target).  Fills res->tid,
 * stopped_usec and eintr.  Returns 0 if the syscall ran, else the merge_result_set() value.  If
 * the thread did not stop in time it stays seized and *ret_abandoned is set: the caller must
 * detach it later (merge_engine_reap()).
 */
int inject_syscall(int proc_fd, const PidRef *ref, pid_t tid, long nr, const uint64_t args[6],
                   const MergeOptions *opts, MergeResult *res, long *ret_rv, bool *ret_abandoned);

/* Tries to detach a previously abandoned tracee.  1 if detached (or gone), 0 if still running. */
int inject_try_release(pid_t tid);

/* madvise backend: probe with a throw-away child; apply MADV_[UN]MERGEABLE to anon VMAs. */
int madvise_probe(char *why, size_t why_size);
int madvise_apply(int proc_fd, const PidRef *ref, bool enable, MergeResult *res);
