/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inject-x86_64.c - x86_64 registers for syscall injection.
 *
 * The syscall ABI: number in rax, arguments in rdi, rsi, rdx, r10, r8, r9; result in rax; the
 * instruction is "syscall" (0f 05) and clobbers rcx and r11 (restored with everything else).
 * orig_rax = -1 tells the kernel's signal-return path not to treat the stop as an interrupted
 * syscall to restart (arch/x86/kernel/signal.c: syscall_get_nr() < 0).
 */
#include <errno.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>

#include "inject-arch.h"

_Static_assert(sizeof(struct user_regs_struct) <= sizeof(InjectRegs), "InjectRegs too small");

#define R(x) ((struct user_regs_struct *) (x)->words)
#define CR(x) ((const struct user_regs_struct *) (x)->words)

#define X86_EFLAGS_TF 0x100ULL
#define X86_EFLAGS_DF 0x400ULL

const char *inject_arch_name(void) {
        return "x86_64";
}

int inject_arch_get_regs(pid_t tid, InjectRegs *r) {
        if (ptrace(PTRACE_GETREGS, tid, NULL, R(r)) < 0)
                return -errno;
        return 0;
}

int inject_arch_set_regs(pid_t tid, const InjectRegs *r) {
        if (ptrace(PTRACE_SETREGS, tid, NULL, CR(r)) < 0)
                return -errno;
        return 0;
}

uint64_t inject_arch_pc(const InjectRegs *r) {
        return CR(r)->rip;
}

long inject_arch_interrupted_syscall(const InjectRegs *r) {
        return (long) CR(r)->orig_rax;
}

long inject_arch_return_value(const InjectRegs *r) {
        return (long) CR(r)->rax;
}

const uint8_t *inject_arch_syscall_insn(size_t *ret_len) {
        static const uint8_t insn[] = { 0x0f, 0x05 };

        *ret_len = sizeof(insn);
        return insn;
}

void inject_arch_setup_call(InjectRegs *r, uint64_t insn, long nr, const uint64_t args[6]) {
        struct user_regs_struct *u = R(r);

        u->rip = insn;
        u->rax = (unsigned long long) nr;
        u->orig_rax = (unsigned long long) -1LL;
        u->rdi = args[0];
        u->rsi = args[1];
        u->rdx = args[2];
        u->r10 = args[3];
        u->r8 = args[4];
        u->r9 = args[5];
        u->eflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_DF);
}

long inject_arch_nr_prctl(void) {
        return SYS_prctl;
}
