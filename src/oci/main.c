/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c - ksmtuned-ng-oci-hook(8); everything is in oci_hook_main(), which unit tests call too. */
#include "oci-hook.h"

int main(int argc, char *argv[]) {
        return oci_hook_main(argc, argv);
}
