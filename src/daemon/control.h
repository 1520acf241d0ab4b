/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.h - the daemon's control socket: AF_UNIX stream, one JSON object per message terminated
 * by a NUL byte (the varlink wire format, so it can move to sd-varlink later).
 *
 *   → {"method":"io.ksmtuned.Manager.GetStatus","parameters":{}}
 *   ← {"parameters":{…}}          or   {"error":"io.ksmtuned.Manager.PermissionDenied","parameters":{}}
 *
 * Methods: io.ksmtuned.Manager.GetStatus, .ListProcesses (any local user; non-root peers see only
 * their own processes), .Reload (root only).  Peers are identified with SO_PEERCRED.  Messages are
 * limited to CONTROL_MESSAGE_MAX bytes, clients to CONTROL_CLIENTS_MAX.
 */
#pragma once

#include "manager.h"

#define CONTROL_MESSAGE_MAX (64U * 1024U)
#define CONTROL_CLIENTS_MAX 64U
#define CONTROL_REPLY_MAX (64U * 1024U * 1024U)

/* Listens on the socket passed by systemd (sd_listen_fds) or on @path; "" disables. */
int control_new(Manager *m, const char *path, Control **ret);
/* Closes every connection, removes the socket file and the directory if we created them. */
Control *control_free(Control *c);
