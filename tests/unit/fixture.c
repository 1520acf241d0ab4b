/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "fixture.h"
#include "macro.h"

const char *fixture_dir(void) {
        const char *d = getenv("KSMT_FIXTURES_DIR");

        if (isempty(d)) {
                fprintf(stderr, "KSMT_FIXTURES_DIR is not set; run the tests through meson test\n");
                abort();
        }
        return d;
}

char *fixture_path(const char *rel) {
        char *p;

        assert_se(asprintf(&p, "%s/%s", fixture_dir(), rel) >= 0);
        return p;
}

char *fixture_read(const char *rel) {
        _cleanup_free_ char *p = fixture_path(rel);
        char *buf = NULL;
        int r;

        r = read_virtual_file_at(AT_FDCWD, p, READ_VIRTUAL_MAX, &buf, NULL);
        if (r < 0) {
                fprintf(stderr, "Cannot read fixture '%s': %s\n", p, strerror(-r));
                abort();
        }
        return buf;
}

int fixture_open_dir(const char *rel) {
        _cleanup_free_ char *p = fixture_path(rel);
        int fd;

        fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "Cannot open fixture directory '%s': %m\n", p);
                abort();
        }
        return fd;
}

char *scratch_new(void) {
        char *d = strdup("/tmp/ksmt-unit-XXXXXX");

        assert_se(d);
        assert_se(mkdtemp(d));
        return d;
}

static void write_all(const char *path, const char *content, size_t len) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_se(fd >= 0);
        assert_se(write(fd, content, len) == (ssize_t) len);
}

void scratch_copy_fixture(const char *dir, const char *rel) {
        _cleanup_free_ char *src = fixture_path(rel);
        DIR *d;
        struct dirent *de;

        d = opendir(src);
        assert_se(d);
        while ((de = readdir(d))) {
                _cleanup_free_ char *from = NULL, *to = NULL, *content = NULL;
                size_t size;
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                assert_se(asprintf(&from, "%s/%s", src, de->d_name) >= 0);
                assert_se(stat(from, &st) >= 0);
                if (!S_ISREG(st.st_mode))
                        continue;
                assert_se(read_virtual_file_at(AT_FDCWD, from, READ_VIRTUAL_MAX, &content, &size) >= 0);
                assert_se(asprintf(&to, "%s/%s", dir, de->d_name) >= 0);
                write_all(to, content, size);
        }
        closedir(d);
}

void scratch_write(const char *dir, const char *name, const char *content) {
        _cleanup_free_ char *path = NULL;

        assert_se(asprintf(&path, "%s/%s", dir, name) >= 0);
        for (char *s = strchr(path + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                assert_se(mkdir(path, 0755) >= 0 || errno == EEXIST);
                *s = '/';
        }
        write_all(path, content, strlen(content));
}

char *scratch_read(const char *dir, const char *name) {
        _cleanup_free_ char *path = NULL;
        char *buf = NULL;

        assert_se(asprintf(&path, "%s/%s", dir, name) >= 0);
        assert_se(read_virtual_file_at(AT_FDCWD, path, READ_VIRTUAL_MAX, &buf, NULL) >= 0);
        return buf;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

void scratch_remove(char *dir) {
        if (!dir)
                return;
        /* Only ever our own mkdtemp() directories. */
        assert_se(strneq(dir, "/tmp/ksmt-unit-", strlen("/tmp/ksmt-unit-")));
        assert_se(nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
        free(dir);
}

int scratch_setup(void **state) {
        *state = scratch_new();
        return 0;
}

int scratch_teardown(void **state) {
        scratch_remove(*state);
        return 0;
}
