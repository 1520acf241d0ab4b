/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-bpf-util.c - the parts of the BPF statistics that need neither libbpf nor a kernel: the
 * verdict on what ksm_bpf_open() probed (errno + reason), conversions of map values and of the
 * scan ring, and cgroup ids.  Built with and without BPF support; unit-tested.
 */
#include <assert.h>
#include <errno.h>
#include <linux/types.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ksm-bpf.h"
#include "ksm-stats.h"
#include "macro.h"

_Static_assert(KSM_BPF_SCAN_SLOTS == KSM_STATS_SCAN_SLOTS, "scan ring size");
_Static_assert(KSM_BPF_COMM_LEN == KSM_STATS_COMM_LEN, "comm length");

static int verdict(char *why, size_t len, int r, const char *msg) {
        if (why && len > 0)
                snprintf(why, len, "%s", msg);
        return r;
}

int ksm_bpf_probe_verdict(const KsmBpfProbe *p, char *why, size_t len) {
        char buf[128];

        assert(p);

        if (!p->built)
                return verdict(why, len, -EOPNOTSUPP, "built without BPF support");
        if (!p->have_btf)
                return verdict(why, len, -ENOENT, "no BTF at /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF off?)");
        if (!p->btf_parsed)
                return verdict(why, len, -EBADMSG, "cannot parse the BTF at /sys/kernel/btf/vmlinux");
        if (p->missing_tracepoint) {
                snprintf(buf, sizeof(buf), "tracepoint %s not in this kernel (needs 6.4 or later)",
                         p->missing_tracepoint);
                return verdict(why, len, -EOPNOTSUPP, buf);
        }
        if (!p->have_mm_owner)
                return verdict(why, len, -EOPNOTSUPP,
                               "mm_struct has no owner field (CONFIG_MEMCG off): merges cannot be attributed to processes");
        if (!p->have_merging_pages)
                return verdict(why, len, -EOPNOTSUPP, "mm_struct has no ksm_merging_pages (kernel older than 5.19)");
        if (!p->have_cap_sys_admin) {
                if (!p->have_cap_bpf)
                        return verdict(why, len, -EPERM, "CAP_BPF missing");
                if (!p->have_cap_perfmon)
                        return verdict(why, len, -EPERM, "CAP_PERFMON missing");
        }
        return verdict(why, len, 0, "ok");
}

static usec_t ns_to_usec(uint64_t ns) {
        return ns / NSEC_PER_USEC;
}

void ksm_bpf_process_from_raw(pid_t tgid, const struct ksm_stats_proc *raw, KsmBpfProcess *ret) {
        assert(raw);
        assert(ret);

        *ret = (KsmBpfProcess) {
                .tgid = tgid,
                .merges = raw->merges,
                .zero_merges = raw->zero_merges,
                .removals = raw->removals,
                .merged_pages = raw->merged_pages,
                .last_event_usec = ns_to_usec(raw->last_event_ns),
                .last_sync_usec = ns_to_usec(raw->last_sync_ns),
                .exited = raw->flags & KSM_STATS_PROC_EXITED,
        };
}

size_t ksm_bpf_scans_from_ring(const struct ksm_stats_scan *ring, uint64_t total, KsmBpfScan *ret, size_t n) {
        size_t k = 0;

        assert(ring);
        assert(ret || n == 0);

        for (uint64_t i = total; i > 0 && k < n && total - i < KSM_STATS_SCAN_SLOTS; i--, k++) {
                const struct ksm_stats_scan *s = &ring[(i - 1) & (KSM_STATS_SCAN_SLOTS - 1)];

                ret[k] = (KsmBpfScan) {
                        .seq = s->seq,
                        .start_usec = ns_to_usec(s->start_ns),
                        .duration_usec = ns_to_usec(s->duration_ns),
                        .rmap_entries = s->rmap_entries,
                };
        }
        return k;
}

int ksm_bpf_cgroup_id(const char *path, uint64_t *ret) {
        struct stat st;

        assert(path);
        assert(ret);

        /* A cgroup2 id is the kernfs node id, which is the directory's inode number on 64-bit. */
        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        *ret = (uint64_t) st.st_ino;
        return 0;
}
