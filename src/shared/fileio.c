/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fileio.c - bounded reads of virtual files.  procfs and sysfs files report st_size 0 or 4096, so
 * we read until EOF with a hard cap instead of trusting fstat().
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

int read_virtual_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        if (!path || !ret)
                return -EINVAL;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        for (;;) {
                ssize_t n;

                if (allocated - size < 1024) {
                        size_t want = allocated ? allocated * 2 : 4096;
                        char *p;

                        /* Room for max bytes, one more to detect "too large", and the NUL. */
                        if (want > max + 2)
                                want = max + 2;
                        if (want <= size + 1)
                                return -EFBIG;
                        p = realloc(buf, want);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        allocated = want;
                }

                n = read(fd, buf + size, allocated - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }

        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[size] = 0;
        if (memchr(buf, 0, size))
                return -EBADMSG;

        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int write_string_file_at(int dir_fd, const char *path, const char *value) {
        _cleanup_close_ int fd = -EBADF;
        size_t len;
        ssize_t n;

        if (!path || !value)
                return -EINVAL;

        /* O_TRUNC is a no-op on sysfs/procfs attributes, but makes a regular file (a test
         * fixture or --sysfs-root copy) hold exactly @value, not @value plus an old tail. */
        fd = openat(dir_fd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        len = strlen(value);
        do
                n = write(fd, value, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

char *strstrip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}
