/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inject-unsupported.c - architectures without an injection port: the backend reports itself
 * unavailable (inject_arch_name() == NULL) and nothing else here is ever called.
 */
#include <errno.h>

#include "inject-arch.h"

const char *inject_arch_name(void) { return NULL; }
int inject_arch_get_regs(pid_t tid, InjectRegs *r) { return -EOPNOTSUPP; }
int inject_arch_set_regs(pid_t tid, const InjectRegs *r) { return -EOPNOTSUPP; }
uint64_t inject_arch_pc(const InjectRegs *r) { return 0; }
long inject_arch_interrupted_syscall(const InjectRegs *r) { return -1; }
long inject_arch_return_value(const InjectRegs *r) { return -EOPNOTSUPP; }
const uint8_t *inject_arch_syscall_insn(size_t *ret_len) { *ret_len = 0; return NULL; }
void inject_arch_setup_call(InjectRegs *r, uint64_t insn, long nr, const uint64_t args[6]) {}
long inject_arch_nr_prctl(void) { return -1; }
