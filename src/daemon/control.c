/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.c - the control socket server on sd-event.
 *
 * Each connection has a bounded input buffer; a message that does not fit is answered with
 * io.ksmtuned.Manager.MessageTooLarge and the connection closed, as is malformed JSON.  Replies are
 * queued and written as the socket accepts them (EPOLLOUT), so a slow client never blocks the
 * daemon.  Business logic lives in the manager; this file only frames, authorises and dispatches.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "control.h"
#include "log.h"

typedef struct Client Client;

struct Control {
        Manager *manager;
        int fd;
        sd_event_source *source;
        char *path;                     /* socket file we created, to remove at exit */
        char *dir;                      /* directory we created, to remove at exit */
        Client *clients;
        unsigned n_clients;
};

struct Client {
        Control *control;
        int fd;
        sd_event_source *source;
        struct ucred cred;
        char *in;
        size_t n_in;
        char *out;
        size_t n_out, out_done;
        bool closing;                   /* close after the queued reply is written */
        Client *prev, *next;
};

static void client_free(Client *c) {
        if (!c)
                return;
        if (c->prev)
                c->prev->next = c->next;
        else
                c->control->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->control->n_clients--;
        sd_event_source_disable_unref(c->source);
        safe_close(c->fd);
        free(c->in);
        free(c->out);
        free(c);
}

static int queue_reply(Client *c, json_t *reply) {
        char *s = json_dumps(reply, JSON_COMPACT | JSON_REAL_PRECISION(6));
        size_t l;
        char *p;

        json_decref(reply);
        if (!s)
                return -ENOMEM;
        l = strlen(s) + 1;      /* with the NUL terminator */
        if (c->n_out - c->out_done + l > CONTROL_REPLY_MAX) {
                free(s);
                return -ENOBUFS;
        }
        p = realloc(c->out, c->n_out + l);
        if (!p) {
                free(s);
                return -ENOMEM;
        }
        memcpy(p + c->n_out, s, l);
        free(s);
        c->out = p;
        c->n_out += l;
        return sd_event_source_set_io_events(c->source, EPOLLIN | EPOLLOUT);
}

static int reply_error(Client *c, const char *error, json_t *params) {
        return queue_reply(c, json_pack("{s:s, s:o}", "error", error, "parameters", params ?: json_object()));
}

static int dispatch(Client *c, const char *msg) {
        Manager *m = c->control->manager;
        json_error_t jerr;
        json_t *req, *params;
        const char *method;
        int r;

        req = json_loads(msg, JSON_REJECT_DUPLICATES, &jerr);
        if (!req || !json_is_object(req) || !json_is_string(json_object_get(req, "method"))) {
                json_decref(req);
                c->closing = true;
                return reply_error(c, "io.ksmtuned.Manager.InvalidRequest",
                                   json_pack("{s:s}", "message", req ? "expected {\"method\": STRING, …}" : jerr.text));
        }
        method = json_string_value(json_object_get(req, "method"));
        params = json_object_get(req, "parameters");
        if (params && !json_is_object(params)) {
                json_decref(req);
                return reply_error(c, "org.varlink.service.InvalidParameter", json_pack("{s:s}", "parameter", "parameters"));
        }

        if (streq(method, "io.ksmtuned.Manager.GetStatus"))
                r = queue_reply(c, json_pack("{s:o}", "parameters", manager_status_json(m)));
        else if (streq(method, "io.ksmtuned.Manager.ListProcesses"))
                r = queue_reply(c, json_pack("{s:{s:o}}", "parameters", "processes",
                                             manager_processes_json(m, c->cred.uid == 0 ? (uid_t) -1 : c->cred.uid)));
        else if (streq(method, "io.ksmtuned.Manager.Reload")) {
                if (c->cred.uid != 0)
                        r = reply_error(c, "io.ksmtuned.Manager.PermissionDenied",
                                        json_pack("{s:s}", "message", "reloading needs root"));
                else {
                        int k = manager_reload(m);

                        r = queue_reply(c, json_pack("{s:{s:b, s:s?, s:s?}}", "parameters", "ok", k >= 0,
                                                     "config_error", m->last_reload_error,
                                                     "policy_error", m->last_policy_error));
                }
        } else
                r = reply_error(c, "org.varlink.service.MethodNotFound", json_pack("{s:s}", "method", method));
        json_decref(req);
        return r;
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Client *c = userdata;

        if (revents & EPOLLOUT) {
                while (c->out_done < c->n_out) {
                        ssize_t n = send(c->fd, c->out + c->out_done, c->n_out - c->out_done, MSG_DONTWAIT | MSG_NOSIGNAL);

                        if (n < 0) {
                                if (errno == EAGAIN)
                                        return 0;
                                client_free(c);
                                return 0;
                        }
                        c->out_done += (size_t) n;
                }
                free(c->out);
                c->out = NULL;
                c->n_out = c->out_done = 0;
                if (c->closing) {
                        client_free(c);
                        return 0;
                }
                (void) sd_event_source_set_io_events(c->source, EPOLLIN);
        }

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                char buf[8192];
                ssize_t n;

                if (c->closing)
                        return 0;
                n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0) {
                        client_free(c);
                        return 0;
                }
                for (ssize_t i = 0; i < n; i++) {
                        if (c->n_in >= CONTROL_MESSAGE_MAX) {
                                c->closing = true;
                                (void) reply_error(c, "io.ksmtuned.Manager.MessageTooLarge",
                                                   json_pack("{s:i}", "limit", (int) CONTROL_MESSAGE_MAX));
                                return 0;
                        }
                        c->in[c->n_in++] = buf[i];
                        if (buf[i] == 0) {
                                int r = dispatch(c, c->in);

                                c->n_in = 0;
                                if (r < 0) {
                                        client_free(c);
                                        return 0;
                                }
                                if (c->closing)
                                        return 0;
                        }
                }
        }
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Control *ctl = userdata;
        socklen_t l = sizeof(struct ucred);
        Client *c;
        int cfd;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0)
                return 0;
        if (ctl->n_clients >= CONTROL_CLIENTS_MAX) {
                log_debug("Control socket: too many clients, refusing one.");
                safe_close(cfd);
                return 0;
        }
        c = new0(Client, 1);
        if (!c) {
                safe_close(cfd);
                return 0;
        }
        *c = (Client) { .control = ctl, .fd = cfd };
        c->in = malloc(CONTROL_MESSAGE_MAX + 1);
        if (!c->in || getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &l) < 0 ||
            sd_event_add_io(ctl->manager->event, &c->source, cfd, EPOLLIN, on_client, c) < 0) {
                free(c->in);
                safe_close(cfd);
                free(c);
                return 0;
        }
        c->next = ctl->clients;
        if (c->next)
                c->next->prev = c;
        ctl->clients = c;
        ctl->n_clients++;
        return 0;
}

static int listen_on_path(Control *c, const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *dir = strdup(path);
        char *slash;
        int r;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                if (mkdir(dir, 0755) >= 0)
                        c->dir = TAKE_PTR(dir);
                else if (errno != EEXIST)
                        return -errno;
        }

        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c->fd < 0)
                return -errno;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);

        /* A stale socket of a previous instance: remove it only if nobody answers on it. */
        {
                struct stat st;

                if (lstat(path, &st) >= 0 && S_ISSOCK(st.st_mode)) {
                        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

                        r = probe >= 0 ? connect(probe, (struct sockaddr *) &sa, sizeof(sa)) : -1;
                        safe_close(probe);
                        if (r >= 0)
                                return -EADDRINUSE;
                        (void) unlink(path);
                }
        }
        if (bind(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        c->path = strdup(path);
        /* Anyone may connect and read; state-changing methods check SO_PEERCRED. */
        (void) chmod(path, 0666);
        if (listen(c->fd, 16) < 0)
                return -errno;
        return 0;
}

int control_new(Manager *m, const char *path, Control **ret) {
        Control *c;
        int r, n;

        c = new0(Control, 1);
        if (!c)
                return -ENOMEM;
        *c = (Control) { .manager = m, .fd = -EBADF };

        n = sd_listen_fds(true);
        if (n == 1 && sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) > 0) {
                c->fd = SD_LISTEN_FDS_START;
                (void) fcntl(c->fd, F_SETFL, O_NONBLOCK);
        } else if (!isempty(path)) {
                r = listen_on_path(c, path);
                if (r < 0) {
                        control_free(c);
                        return log_error_errno(r, "Cannot listen on the control socket '%s': %m", path);
                }
        } else {
                *ret = c;
                return 0;       /* no socket configured */
        }

        r = sd_event_add_io(m->event, &c->source, c->fd, EPOLLIN, on_accept, c);
        if (r < 0) {
                control_free(c);
                return log_error_errno(r, "Cannot watch the control socket: %m");
        }
        (void) sd_event_source_set_description(c->source, "control-socket");
        *ret = c;
        return 0;
}

Control *control_free(Control *c) {
        if (!c)
                return NULL;
        while (c->clients)
                client_free(c->clients);
        sd_event_source_disable_unref(c->source);
        safe_close(c->fd);
        if (c->path)
                (void) unlink(c->path);
        if (c->dir)
                (void) rmdir(c->dir);
        free(c->path);
        free(c->dir);
        free(c);
        return NULL;
}
