/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inject-arch.h - the architecture-specific half of syscall injection: saved registers, the
 * syscall instruction, where the syscall number and arguments go.  One implementation per
 * architecture (inject-x86_64.c); others get inject-unsupported.c and report the backend
 * unavailable.  Private to src/merge.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Large enough for any architecture's register set; the arch file checks its own fits. */
typedef struct InjectRegs {
        uint64_t words[64];
} InjectRegs;

/* Name of this architecture, or NULL if injection is not implemented for it. */
const char *inject_arch_name(void);

int inject_arch_get_regs(pid_t tid, InjectRegs *r);
int inject_arch_set_regs(pid_t tid, const InjectRegs *r);

uint64_t inject_arch_pc(const InjectRegs *r);
/* Syscall number the thread was in when it stopped (orig_rax), or -1. */
long inject_arch_interrupted_syscall(const InjectRegs *r);
/* The return register (rax): e.g. -EINTR or -ERESTARTSYS at an interrupted syscall. */
long inject_arch_return_value(const InjectRegs *r);

/* Bytes of the syscall instruction and its length (x86_64: 0f 05, 2). */
const uint8_t *inject_arch_syscall_insn(size_t *ret_len);

/*
 * Prepares @r (a copy of the saved registers) to execute syscall @nr with six arguments at @insn,
 * with restart processing disabled (orig_rax = -1) and single-step/direction flags cleared.
 */
void inject_arch_setup_call(InjectRegs *r, uint64_t insn, long nr, const uint64_t args[6]);

/* The syscall number of prctl on this architecture. */
long inject_arch_nr_prctl(void);
