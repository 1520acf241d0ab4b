/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-bpf-stub.c - the BPF statistics API in a build without BPF support (-Dbpf=disabled, or
 * clang, bpftool or libbpf missing): every call says so, and the daemon polls ksm_stat instead.
 */
#include <errno.h>

#include "ksm-bpf.h"

int ksm_bpf_open(const KsmBpfOptions *opts, KsmBpf **ret, char *reterr_why, size_t whylen) {
        KsmBpfProbe p = { .built = false };

        return ksm_bpf_probe_verdict(&p, reterr_why, whylen);
}

KsmBpf *ksm_bpf_free(KsmBpf *b) {
        return NULL;
}

unsigned ksm_bpf_features(const KsmBpf *b) {
        return 0;
}

int ksm_bpf_read_process(KsmBpf *b, pid_t tgid, KsmBpfProcess *ret) {
        return -EOPNOTSUPP;
}

int ksm_bpf_forget(KsmBpf *b, pid_t tgid) {
        return -EOPNOTSUPP;
}

int ksm_bpf_foreach_process(KsmBpf *b, KsmBpfProcessFunc f, void *userdata) {
        return -EOPNOTSUPP;
}

int ksm_bpf_scans(KsmBpf *b, KsmBpfScan *ret, size_t n, uint64_t *ret_total) {
        return -EOPNOTSUPP;
}

int ksm_bpf_advisor(KsmBpf *b, KsmBpfAdvisor *ret) {
        return -EOPNOTSUPP;
}

int ksm_bpf_counters(KsmBpf *b, KsmBpfCounters *ret) {
        return -EOPNOTSUPP;
}

int ksm_bpf_exec_fd(KsmBpf *b) {
        return -EOPNOTSUPP;
}

int ksm_bpf_exec_consume(KsmBpf *b, KsmBpfExecFunc f, void *userdata) {
        return -EOPNOTSUPP;
}

int ksm_bpf_watch_cgroup(KsmBpf *b, uint64_t cgroup_id, bool watch) {
        return -EOPNOTSUPP;
}
