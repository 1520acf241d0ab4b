/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmctl-unit.c - `ksmctl enable-unit|disable-unit NAME.service`: a systemd drop-in that makes a
 * service mergeable from its first instruction, at its next start.
 *
 * The drop-in is /etc/systemd/system/NAME.service.d/ksmtuned-ng.conf.  On systemd >= 254 it says
 * MemoryKSM=yes.  Older systemd has no such setting, so the drop-in replaces the service's
 * ExecStart= lines by the same commands run under `ksmctl exec --`, which calls
 * prctl(PR_SET_MEMORY_MERGE, 1) and then execs the command: same PID, inherited by every child.
 *
 * The ExecStart= lines are copied as the unit files spell them (`systemctl cat NAME`, or the unit
 * search path under --root), not as `systemctl show` prints them (it joins argv with spaces and
 * loses the quoting): quoting, specifiers and $VARIABLES reach systemd unchanged, and only the
 * ksmctl prefix is new.  The rules of systemd.service(5) and systemd.syntax(7) that matter here:
 * a later file overrides an earlier one, an empty ExecStart= resets the list, a line ending in a
 * backslash continues, '#' and ';' start comments, and the prefixes -, +, !, !!, : stay in front.
 * A command with the '@' prefix (argv[0] differing from the path) is refused: ksmctl exec cannot
 * pass on a different argv[0].  This file does no logging; it prints to stdout/stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include "ksmctl.h"
#include "macro.h"

#define DROPIN_NAME "ksmtuned-ng.conf"
#define UNIT_DIR_ADMIN "/etc/systemd/system"
#define MEMORY_KSM_SINCE 254

typedef enum UnitMethod {
        UNIT_METHOD_AUTO,
        UNIT_METHOD_MEMORY_KSM,
        UNIT_METHOD_EXEC,
} UnitMethod;

typedef struct UnitArgs {
        const char *root;       /* NULL: the running system, reload it */
        bool no_reload;
        UnitMethod method;
} UnitArgs;

/* The unit search path of systemd.unit(5), highest precedence first (/lib for a Debian without
 * merged /usr). */
static const char *const unit_dirs[] = {
        "/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
        "/usr/lib/systemd/system", "/lib/systemd/system",
};

static void strv_freep(char ***l) {
        if (!*l)
                return;
        for (char **p = *l; *p; p++)
                free(*p);
        free(*l);
}

static int strv_push(char ***l, size_t *n, char *s) {
        char **p;

        if (!s)
                return -ENOMEM;
        p = realloc(*l, (*n + 2) * sizeof(char *));
        if (!p) {
                free(s);
                return -ENOMEM;
        }
        p[(*n)++] = s;
        p[*n] = NULL;
        *l = p;
        return 0;
}

/* Appends @n bytes of @s to the heap buffer *buf of length *len (NUL-terminated). */
static int buf_append(char **buf, size_t *len, const char *s, size_t n) {
        char *p = realloc(*buf, *len + n + 1);

        if (!p)
                return -ENOMEM;
        memcpy(p + *len, s, n);
        *len += n;
        p[*len] = 0;
        *buf = p;
        return 0;
}

/* Runs systemctl with @args, stdout captured into *ret_out (may be NULL to discard), stderr
 * passed on unless @quiet.  Returns its exit status (>= 0) or a negative errno. */
static int run_systemctl(const char *const *args, bool quiet, char **ret_out) {
        _cleanup_free_ char *out = NULL;
        const char *argv[16] = { "systemctl" };
        size_t n = 1, len = 0;
        int pipefd[2], status;
        pid_t pid;

        for (; *args && n < ELEMENTSOF(argv) - 1; args++)
                argv[n++] = *args;
        argv[n] = NULL;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return -errno;
        }
        if (pid == 0) {
                if (dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                if (quiet) {
                        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

                        if (null >= 0)
                                (void) dup2(null, STDERR_FILENO);
                }
                execvp(argv[0], (char **) argv);
                _exit(127);
        }
        safe_close(pipefd[1]);
        for (;;) {
                char b[4096];
                ssize_t k = read(pipefd[0], b, sizeof(b));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                if (buf_append(&out, &len, b, (size_t) k) < 0) {
                        safe_close(pipefd[0]);
                        (void) waitpid(pid, NULL, 0);
                        return -ENOMEM;
                }
        }
        safe_close(pipefd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (ret_out)
                *ret_out = out ? TAKE_PTR(out) : strdup("");
        if (ret_out && !*ret_out)
                return -ENOMEM;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The major version of systemd: of the running manager, or of the installed systemctl under
 * --root or when the manager does not answer.  Returns it (> 0) or a negative errno. */
static int systemd_version(const UnitArgs *u) {
        static const char *const show[] = { "show", "--property=Version", "--value", NULL };
        static const char *const version[] = { "--version", NULL };
        _cleanup_free_ char *out = NULL;
        int r = -1;

        if (!u->root)
                r = run_systemctl(show, true, &out);
        if (r != 0 || !out || out[0] < '1' || out[0] > '9') {
                free(out);
                out = NULL;
                r = run_systemctl(version, true, &out);
                if (r < 0)
                        return r;
                if (r != 0 || !out || !strneq(out, "systemd ", 8))
                        return -ENOENT;
                memmove(out, out + 8, strlen(out + 8) + 1);      /* "systemd 252 (252.39-1~deb12u2)" */
        }
        return atoi(out) > 0 ? atoi(out) : -EINVAL;
}

static bool unit_name_valid(const char *name) {
        size_t l = strlen(name);

        if (l <= strlen(".service") || l > 255 || !streq(name + l - strlen(".service"), ".service"))
                return false;
        if (name[0] == '.' || name[0] == '@' || strchr(name, '/'))
                return false;
        for (const char *p = name; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@", *p))
                        return false;
        return true;
}

/* "foo@bar.service" -> "foo@.service"; NULL for a name that is not an instance. */
static char *template_of(const char *name) {
        const char *at = strchr(name, '@'), *dot = strrchr(name, '.');
        char *t;

        if (!at || at[1] == '.' || !dot || dot < at)
                return NULL;
        t = malloc(strlen(name) + 1);
        if (!t)
                return NULL;
        memcpy(t, name, (size_t) (at - name + 1));
        strcpy(t + (at - name + 1), dot);
        return t;
}

static int cat_file(const char *path, char **buf, size_t *len) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char b[4096];
        size_t k;
        int r;

        if (!f)
                return -errno;
        r = buf_append(buf, len, "# ", 2);
        if (r >= 0)
                r = buf_append(buf, len, path, strlen(path));
        if (r >= 0)
                r = buf_append(buf, len, "\n", 1);
        while (r >= 0 && (k = fread(b, 1, sizeof(b), f)) > 0)
                r = buf_append(buf, len, b, k);
        if (r >= 0)
                r = buf_append(buf, len, "\n\n", 2);
        return r;
}

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(strrchr(*(char *const *) a, '/') + 1, strrchr(*(char *const *) b, '/') + 1);
}

/* Offline `systemctl cat` for --root: the fragment (the first in the search path, or the
 * template's), then the drop-ins of service.d/, the template and the unit, each file name taken
 * from the directory of highest precedence, sorted by name.  Output in systemctl's format. */
static int unit_cat_offline(const char *root, const char *name, char **ret) {
        _cleanup_free_ char *tmpl = template_of(name), *buf = NULL;
        _cleanup_(strv_freep) char **dropins = NULL;
        const char *names[3] = { "service", tmpl, name };
        size_t n_dropins = 0, len = 0;
        bool found = false;
        int r;

        for (int pass = 0; pass < 2 && !found; pass++) {
                const char *want = pass == 0 ? name : tmpl;

                for (size_t i = 0; want && i < ELEMENTSOF(unit_dirs) && !found; i++) {
                        _cleanup_free_ char *p = NULL, *target = NULL;

                        if (asprintf(&p, "%s%s/%s", root, unit_dirs[i], want) < 0)
                                return -ENOMEM;
                        if (access(p, F_OK) < 0)
                                continue;
                        target = realpath(p, NULL);
                        if (target && streq(target, "/dev/null"))
                                return -ERFKILL;        /* masked */
                        r = cat_file(p, &buf, &len);
                        if (r < 0)
                                return r;
                        found = true;
                }
        }
        if (!found)
                return -ENOENT;

        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                if (!names[k])
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(unit_dirs); i++) {
                        _cleanup_free_ char *d = NULL;
                        _cleanup_(closedirp) DIR *dir = NULL;
                        struct dirent *de;

                        if (asprintf(&d, "%s%s/%s.d", root, unit_dirs[i], names[k]) < 0)
                                return -ENOMEM;
                        dir = opendir(d);
                        if (!dir)
                                continue;
                        while ((de = readdir(dir))) {
                                size_t l = strlen(de->d_name);
                                bool dup = false;
                                char *p;

                                if (l < 6 || !streq(de->d_name + l - 5, ".conf"))
                                        continue;
                                for (size_t j = 0; j < n_dropins; j++)
                                        if (streq(strrchr(dropins[j], '/') + 1, de->d_name))
                                                dup = true;
                                if (dup)
                                        continue;
                                if (asprintf(&p, "%s/%s", d, de->d_name) < 0)
                                        return -ENOMEM;
                                r = strv_push(&dropins, &n_dropins, p);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        if (n_dropins > 0)
                qsort(dropins, n_dropins, sizeof(char *), name_cmp);
        for (size_t j = 0; j < n_dropins; j++) {
                r = cat_file(dropins[j], &buf, &len);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        *ret = TAKE_PTR(buf);
        return 0;
}

static bool is_own_dropin(const char *path) {
        size_t l = strlen(path);

        return l > strlen(".d/" DROPIN_NAME) && streq(path + l - strlen(".d/" DROPIN_NAME), ".d/" DROPIN_NAME);
}

static char *strip(char *s) {
        char *e;

        s += strspn(s, " \t");
        e = s + strlen(s);
        while (e > s && strchr(" \t\r", e[-1]))
                *--e = 0;
        return s;
}

/* One logical line of a unit file: tracks the section, collects ExecStart= (an empty one resets
 * the list) and notes RootDirectory=/RootImage=. */
static int parse_assignment(char *s, bool *in_service, char ***values, size_t *n, bool *root_dir) {
        char *eq, *key, *value;

        s = strip(s);
        if (*s == 0 || *s == '#' || *s == ';')
                return 0;
        if (*s == '[') {
                *in_service = streq(s, "[Service]");
                return 0;
        }
        eq = strchr(s, '=');
        if (!*in_service || !eq)
                return 0;
        *eq = 0;
        key = strip(s);
        value = strip(eq + 1);
        if (streq(key, "ExecStart")) {
                if (*value != 0)
                        return strv_push(values, n, strdup(value));
                strv_freep(values);
                *values = NULL;
                *n = 0;
        } else if (streq(key, "RootDirectory") || streq(key, "RootImage"))
                *root_dir = *value != 0;
        return 0;
}

/*
 * Reads the effective ExecStart= values of [Service] from @text (`systemctl cat` format: each file
 * starts with "# PATH", the first one or after an empty line), skipping our own drop-in.
 * *ret_root_dir is set when RootDirectory= or RootImage= is in force.  Returns the number of values.
 */
static int parse_exec_start(char *text, char ***ret, bool *ret_root_dir) {
        _cleanup_(strv_freep) char **values = NULL;
        _cleanup_free_ char *logical = NULL;
        size_t n = 0, llen = 0;
        bool in_service = false, skipping = false, prev_empty = true, root_dir = false;
        int r;

        for (char *line = text, *next; line; line = next) {
                char *nl = strchr(line, '\n'), *s;
                size_t l;

                if (nl)
                        *nl = 0;
                next = nl ? nl + 1 : NULL;

                if (!logical && prev_empty && strneq(line, "# /", 3) && access(line + 2, F_OK) >= 0) {
                        in_service = false;
                        skipping = is_own_dropin(line + 2);
                        prev_empty = false;
                        continue;
                }
                prev_empty = *line == 0;
                if (skipping)
                        continue;

                s = strip(line);
                if (logical && (*s == '#' || *s == ';'))
                        continue;       /* comments inside a continuation are dropped */
                l = strlen(s);
                if (l > 0 && s[l - 1] == '\\') {
                        s[l - 1] = ' ';
                        r = buf_append(&logical, &llen, s, l);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (logical) {
                        r = buf_append(&logical, &llen, s, l);
                        if (r < 0)
                                return r;
                        s = logical;
                }
                r = parse_assignment(s, &in_service, &values, &n, &root_dir);
                free(logical);
                logical = NULL;
                llen = 0;
                if (r < 0)
                        return r;
        }
        if (logical) {          /* the text ended inside a continuation */
                r = parse_assignment(logical, &in_service, &values, &n, &root_dir);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(values);
        *ret_root_dir = root_dir;
        return (int) n;
}

/* The drop-in's [Service] lines for the exec method, in *ret. */
static int exec_dropin_lines(const UnitArgs *u, const char *name, char **ret) {
        _cleanup_free_ char *text = NULL, *buf = NULL;
        _cleanup_(strv_freep) char **values = NULL;
        size_t len = 0;
        bool root_dir;
        int r, n;

        if (u->root) {
                r = unit_cat_offline(u->root, name, &text);
                if (r == -ENOENT || r == -ERFKILL) {
                        fprintf(stderr, "ksmctl: %s: %s under %s\n", name, r == -ENOENT ? "no such unit" : "the unit is masked", u->root);
                        return -EINVAL;
                }
        } else {
                const char *const args[] = { "cat", "--", name, NULL };

                r = run_systemctl(args, false, &text);
                if (r > 0) {
                        fprintf(stderr, "ksmctl: %s: 'systemctl cat' failed (exit status %d): no such unit?\n", name, r);
                        return -EINVAL;
                }
        }
        if (r < 0) {
                fprintf(stderr, "ksmctl: %s: cannot read the unit: %s\n", name, strerror(-r));
                return r;
        }

        n = parse_exec_start(text, &values, &root_dir);
        if (n < 0)
                return n;
        if (n == 0) {
                fprintf(stderr, "ksmctl: %s has no ExecStart=, nothing to run under 'ksmctl exec'\n", name);
                return -EINVAL;
        }
        if (root_dir) {
                fprintf(stderr, "ksmctl: %s runs in its own root (RootDirectory=/RootImage=), where %s may not exist; "
                        "not changed (systemd >= 254: MemoryKSM=yes)\n", name, BINDIR "/ksmctl");
                return -EINVAL;
        }

        r = buf_append(&buf, &len, "ExecStart=\n", strlen("ExecStart=\n"));
        for (int i = 0; r >= 0 && i < n; i++) {
                const char *v = values[i];
                size_t np = strspn(v, "-@:+!");
                _cleanup_free_ char *line = NULL;

                if (memchr(v, '@', np)) {
                        fprintf(stderr, "ksmctl: %s: ExecStart=%s uses the '@' prefix (its own argv[0]), which 'ksmctl exec' "
                                "cannot pass on; not changed\n", name, v);
                        return -EOPNOTSUPP;
                }
                if (asprintf(&line, "ExecStart=%.*s%s exec -- %s\n", (int) np, v, BINDIR "/ksmctl", v + np + strspn(v + np, " \t")) < 0)
                        return -ENOMEM;
                r = buf_append(&buf, &len, line, strlen(line));
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int write_dropin(const char *dir, const char *path, const char *content) {
        _cleanup_free_ char *tmp = NULL, *parent = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(content);
        char *slash;

        /* mkdir -p of .../NAME.service.d; the parents normally exist. */
        parent = strdup(dir);
        if (!parent)
                return -ENOMEM;
        for (slash = strchr(parent + 1, '/'); ; slash = strchr(slash + 1, '/')) {
                if (slash)
                        *slash = 0;
                if (mkdir(parent, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (!slash)
                        break;
                *slash = '/';
        }

        if (asprintf(&tmp, "%s/.#" DROPIN_NAME ".XXXXXX", dir) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0644) < 0 || write(fd, content, len) != (ssize_t) len || fsync(fd) < 0 ||
            rename(tmp, path) < 0) {
                int k = errno ?: EIO;

                (void) unlink(tmp);
                return -k;
        }
        return 0;
}

static int daemon_reload(const UnitArgs *u) {
        static const char *const args[] = { "daemon-reload", NULL };
        int r;

        if (u->root || u->no_reload)
                return 0;
        r = run_systemctl(args, false, NULL);
        if (r != 0) {
                fprintf(stderr, "ksmctl: 'systemctl daemon-reload' failed (%s)\n", r < 0 ? strerror(-r) : "non-zero exit status");
                return -EIO;
        }
        return 0;
}

/* Prints what to do about a unit that is running now (it keeps running unchanged). */
static void hint_running(const UnitArgs *u, const char *name, bool enable) {
        const char *const args[] = { "show", "--property=ActiveState", "--property=ControlGroup", "--", name, NULL };
        _cleanup_free_ char *out = NULL;
        const char *cg;

        if (u->root || run_systemctl(args, true, &out) != 0 || !out || !strstr(out, "ActiveState=active\n"))
                return;
        printf("%s is running: the change applies when it is next started (systemctl restart %s).\n", name, name);
        cg = strstr(out, "ControlGroup=");
        if (enable && cg && cg[strlen("ControlGroup=")] == '/')
                printf("To make its running processes mergeable now, without a restart: ksmctl merge --cgroup %.*s\n",
                       (int) strcspn(cg + strlen("ControlGroup="), "\n"), cg + strlen("ControlGroup="));
}

/* After the reload: does systemd now run the service as written?  A drop-in sorting after ours
 * (override.conf from `systemctl edit`, for example) may replace our ExecStart=. */
static void verify(const UnitArgs *u, const char *name, UnitMethod method) {
        const char *const args[] = { "show", method == UNIT_METHOD_EXEC ? "--property=ExecStart" : "--property=MemoryKSM",
                                     "--value", "--", name, NULL };
        _cleanup_free_ char *out = NULL;
        size_t total = 0, ours = 0;

        if (u->root || u->no_reload || run_systemctl(args, true, &out) != 0 || !out)
                return;
        if (method == UNIT_METHOD_MEMORY_KSM) {
                if (!strneq(out, "yes", 3))
                        fprintf(stderr, "ksmctl: warning: systemd reports MemoryKSM=%s for %s after the reload\n", strip(out), name);
                return;
        }
        for (const char *p = out; (p = strstr(p, "path=")); p += 5) {
                total++;
                if (strneq(p + 5, BINDIR "/ksmctl ", strlen(BINDIR "/ksmctl ")))
                        ours++;
        }
        if (ours != total)
                fprintf(stderr, "ksmctl: warning: after the reload %zu of %zu ExecStart= commands of %s do not run under "
                        "'ksmctl exec': a drop-in sorting after " DROPIN_NAME " sets ExecStart= (see 'systemctl cat %s')\n",
                        total - ours, total, name, name);
}

static int enable_one(const UnitArgs *u, const char *name, const char *dir, const char *path) {
        _cleanup_free_ char *lines = NULL, *content = NULL;
        UnitMethod method = u->method;
        int r, version = 0;

        if (method == UNIT_METHOD_AUTO) {
                version = systemd_version(u);
                if (version < 0) {
                        fprintf(stderr, "ksmctl: cannot tell the version of systemd (%s); choose with --method=memory-ksm or --method=exec\n",
                                strerror(-version));
                        return version;
                }
                method = version >= MEMORY_KSM_SINCE ? UNIT_METHOD_MEMORY_KSM : UNIT_METHOD_EXEC;
        }

        if (method == UNIT_METHOD_EXEC) {
                r = exec_dropin_lines(u, name, &lines);
                if (r < 0)
                        return r;
        } else {
                lines = strdup("MemoryKSM=yes\n");
                if (!lines)
                        return -ENOMEM;
        }
        if (asprintf(&content,
                     "# Written by 'ksmctl enable-unit %s'; remove it with 'ksmctl disable-unit %s'.\n"
                     "%s"
                     "[Service]\n%s",
                     name, name,
                     method == UNIT_METHOD_EXEC ?
                     "# systemd before 254 has no MemoryKSM=: the service's commands run under 'ksmctl exec', which\n"
                     "# enables KSM for the process (prctl PR_SET_MEMORY_MERGE) and then executes the command.\n"
                     "# Written from the unit's ExecStart= lines as they were then: run enable-unit again after\n"
                     "# changing them.\n" : "",
                     lines) < 0)
                return -ENOMEM;

        r = write_dropin(dir, path, content);
        if (r < 0) {
                fprintf(stderr, "ksmctl: cannot write %s: %s\n", path, strerror(-r));
                return r;
        }
        r = daemon_reload(u);
        if (r < 0)
                return r;
        printf("Wrote %s (%s%s).\n", path,
               method == UNIT_METHOD_EXEC ? "ExecStart= under ksmctl exec" : "MemoryKSM=yes",
               version > 0 ? (method == UNIT_METHOD_EXEC ? ", systemd < 254" : ", systemd >= 254") : "");
        verify(u, name, method);
        hint_running(u, name, true);
        return 0;
}

static int disable_one(const UnitArgs *u, const char *name, const char *dir, const char *path) {
        int r;

        if (unlink(path) < 0) {
                if (errno != ENOENT) {
                        fprintf(stderr, "ksmctl: cannot remove %s: %m\n", path);
                        return -errno;
                }
                printf("%s has no %s: nothing to remove.\n", name, path);
                return 0;
        }
        (void) rmdir(dir);      /* only if we leave it empty */
        r = daemon_reload(u);
        if (r < 0)
                return r;
        printf("Removed %s.\n", path);
        hint_running(u, name, false);
        return 0;
}

int ksmctl_unit(int argc, char *argv[]) {
        enum { ARG_ROOT = 0x100, ARG_NO_RELOAD, ARG_METHOD };
        static const struct option options[] = {
                { "help",      no_argument,       NULL, 'h' },
                { "root",      required_argument, NULL, ARG_ROOT },
                { "no-reload", no_argument,       NULL, ARG_NO_RELOAD },
                { "method",    required_argument, NULL, ARG_METHOD },
                {}
        };
        UnitArgs u = {};
        bool enable = streq(argv[0], "enable-unit");
        int c, rc = EXIT_SUCCESS;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: ksmctl enable-unit [--root=DIR] [--no-reload] [--method=auto|memory-ksm|exec] NAME.service...\n"
                               "       ksmctl disable-unit [--root=DIR] [--no-reload] NAME.service...\n\n"
                               "Write (remove) the drop-in " UNIT_DIR_ADMIN "/NAME.service.d/" DROPIN_NAME " that makes\n"
                               "the service mergeable from its next start, then run 'systemctl daemon-reload'.\n"
                               "See ksmctl(8).\n");
                        return EXIT_SUCCESS;
                case ARG_ROOT:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "ksmctl: invalid --root '%s', expected an absolute directory\n", optarg);
                                return 2;
                        }
                        u.root = streq(optarg, "/") ? NULL : optarg;
                        break;
                case ARG_NO_RELOAD:
                        u.no_reload = true;
                        break;
                case ARG_METHOD:
                        if (!enable) {
                                fprintf(stderr, "ksmctl: --method applies to 'enable-unit' only\n");
                                return 2;
                        }
                        if (streq(optarg, "auto"))
                                u.method = UNIT_METHOD_AUTO;
                        else if (streq(optarg, "memory-ksm"))
                                u.method = UNIT_METHOD_MEMORY_KSM;
                        else if (streq(optarg, "exec"))
                                u.method = UNIT_METHOD_EXEC;
                        else {
                                fprintf(stderr, "ksmctl: invalid --method '%s', expected auto, memory-ksm or exec\n", optarg);
                                return 2;
                        }
                        break;
                case ':':
                        fprintf(stderr, "ksmctl: option '%s' needs an argument (see --help)\n", argv[optind - 1]);
                        return 2;
                default:
                        fprintf(stderr, "ksmctl: unknown option '%s' for %s (see ksmctl %s --help)\n", argv[optind - 1], argv[0], argv[0]);
                        return 2;
                }
        if (optind >= argc) {
                fprintf(stderr, "ksmctl: %s needs a unit name such as foo.service\n", argv[0]);
                return 2;
        }
        for (int i = optind; i < argc; i++)
                if (!unit_name_valid(argv[i])) {
                        fprintf(stderr, "ksmctl: invalid unit name '%s', expected NAME.service\n", argv[i]);
                        return 2;
                }

        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *dir = NULL, *path = NULL;
                int r;

                if (asprintf(&dir, "%s" UNIT_DIR_ADMIN "/%s.d", u.root ?: "", argv[i]) < 0 ||
                    asprintf(&path, "%s/" DROPIN_NAME, dir) < 0)
                        return EXIT_FAILURE;
                r = enable ? enable_one(&u, argv[i], dir, path) : disable_one(&u, argv[i], dir, path);
                if (r < 0)
                        rc = EXIT_FAILURE;
        }
        return rc;
}
