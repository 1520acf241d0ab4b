/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * capability-util.h - least privilege with libcap: after start-up the daemon keeps only the
 * capabilities its enabled features use, in every set, and clears the rest of the bounding set.
 * Non-logging.
 */
#pragma once

#include <stddef.h>

#include <sys/capability.h>

/*
 * Reduces the permitted, effective and inheritable sets to @keep (those of them we have), clears
 * the ambient set and drops every other capability from the bounding set (needs CAP_SETPCAP, which
 * is dropped last).  A process without capabilities returns 0 without doing anything.
 */
int capability_drop_except(const cap_value_t *keep, size_t n_keep);

/* 1 if @cap is in the effective set, 0 if not, <0 on error. */
int capability_have(cap_value_t cap);
