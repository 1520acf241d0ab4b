/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ptrace-hold PID - attaches to PID with PTRACE_SEIZE (which does not stop it), prints "holding",
 * and keeps it traced until stdin reaches EOF.  Exiting detaches (the kernel does it).  Used to
 * check that ksmtuned-ng leaves processes under a debugger alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        char c;
        pid_t pid;

        if (argc != 2 || (pid = (pid_t) strtol(argv[1], NULL, 10)) <= 0) {
                fprintf(stderr, "usage: ptrace-hold PID\n");
                return 2;
        }
        if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
                fprintf(stderr, "ptrace-hold: PTRACE_SEIZE %d: %s\n", (int) pid, strerror(errno));
                return 1;
        }
        printf("ready holding\n");
        fflush(stdout);
        while (read(STDIN_FILENO, &c, 1) > 0)
                ;
        return 0;
}
