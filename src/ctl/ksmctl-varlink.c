/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksmctl-varlink.c - one call to the daemon's control socket: connect, send one NUL-terminated
 * JSON message, read one reply, all within a deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ksmctl.h"
#include "macro.h"

#define REPLY_MAX (64U * 1024U * 1024U)

int ksmctl_call(const char *socket_path, const char *method, json_t **ret_params, char **ret_error) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *msg = NULL, *buf = NULL;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        size_t n = 0, allocated = 0, len, sent = 0;
        json_t *reply;
        json_error_t jerr;

        *ret_params = NULL;
        *ret_error = NULL;
        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;

        if (asprintf(&msg, "{\"method\":\"%s\",\"parameters\":{}}", method) < 0)
                return -ENOMEM;
        len = strlen(msg) + 1;          /* with the NUL terminator */
        while (sent < len) {
                ssize_t k = send(fd, msg + sent, len - sent, MSG_NOSIGNAL);

                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k > 0)
                        sent += (size_t) k;
        }

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                usec_t now = now_usec(CLOCK_MONOTONIC);
                ssize_t k;
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) ((deadline - now) / USEC_PER_MSEC) + 1);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                if (allocated - n < 65536) {
                        char *q;

                        if (allocated >= REPLY_MAX)
                                return -EMSGSIZE;
                        allocated = allocated ? allocated * 2 : 65536;
                        q = realloc(buf, allocated);
                        if (!q)
                                return -ENOMEM;
                        buf = q;
                }
                k = recv(fd, buf + n, allocated - n, 0);
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k == 0)
                        return -ECONNRESET;
                if (k > 0) {
                        n += (size_t) k;
                        if (memchr(buf + n - (size_t) k, 0, (size_t) k))
                                break;
                }
        }

        reply = json_loads(buf, 0, &jerr);
        if (!reply)
                return -EBADMSG;
        if (json_is_string(json_object_get(reply, "error"))) {
                *ret_error = strdup(json_string_value(json_object_get(reply, "error")));
                json_decref(reply);
                return -EREMOTEIO;
        }
        *ret_params = json_incref(json_object_get(reply, "parameters"));
        json_decref(reply);
        return *ret_params ? 0 : -EBADMSG;
}
