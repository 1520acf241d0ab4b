/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-bpf.c - loads bpf/ksm-stats.bpf.c through its libbpf skeleton and reads what it counts.
 *
 * Owns: probing what the kernel offers (BTF, tracepoints, mm->owner, capabilities) so that a
 * failure has a reason a human can act on; choosing the optional programs by what exists
 * (autoload); reading the maps and the mmapped .bss; the exec ring buffer.  Does not own: what the
 * daemon does with the figures, the event loop (it only hands out an fd), logging above debug.
 *
 * Lifetime: everything is released by ksm_bpf_free(): links detach, maps and programs go away
 * with their fds.  Nothing is pinned in /sys/fs/bpf.
 */
#include <assert.h>
#include <errno.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "capability-util.h"
#include "ksm-bpf.h"
#include "ksm-stats.h"
#include "ksm-stats.skel.h"
#include "log.h"
#include "macro.h"

struct KsmBpf {
        struct ksm_stats_bpf *skel;
        struct ring_buffer *rb;
        unsigned features;
        uint32_t n_watched;

        /* Set for the duration of ksm_bpf_exec_consume(). */
        KsmBpfExecFunc exec_func;
        void *exec_userdata;
        int exec_error;
};

/* libbpf prints through a process-wide hook: everything goes to our debug log, and the last
 * warning is kept so that a failed load can say why (e.g. the verifier's complaint). */
static char libbpf_last_warning[256];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        char buf[512];
        size_t n;

        vsnprintf(buf, sizeof(buf), fmt, ap);
        n = strlen(buf);
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = 0;
        if (level == LIBBPF_WARN && n > 0)
                snprintf(libbpf_last_warning, sizeof(libbpf_last_warning), "%s", buf);
        if (level != LIBBPF_DEBUG)
                log_debug("libbpf: %s", buf);
        return 0;
}

static bool btf_has_typedef(const struct btf *btf, const char *name) {
        return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) >= 0;
}

/* Looks for member @name in struct @id, descending into anonymous structs and unions. */
static bool btf_struct_has_member(const struct btf *btf, __u32 id, const char *name, unsigned depth) {
        const struct btf_type *t = btf__type_by_id(btf, id);
        const struct btf_member *m;

        while (t && (btf_is_typedef(t) || btf_is_mod(t)))
                t = btf__type_by_id(btf, t->type);
        if (!t || !btf_is_composite(t) || depth > 4)
                return false;
        m = btf_members(t);
        for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
                const char *n = btf__name_by_offset(btf, m->name_off);

                if (n && *n) {
                        if (streq(n, name))
                                return true;
                } else if (btf_struct_has_member(btf, m->type, name, depth + 1))
                        return true;
        }
        return false;
}

/* Required: without these the figures are meaningless. */
static const char *const required_tracepoints[] = {
        "ksm_merge_with_ksm_page",
        "ksm_start_scan",
        "ksm_stop_scan",
        "ksm_exit",
};

static int probe(KsmBpfProbe *p, struct btf **ret_btf) {
        struct btf *btf;
        __s32 mm;

        *p = (KsmBpfProbe) { .built = true };
        p->have_btf = access("/sys/kernel/btf/vmlinux", R_OK) >= 0;
        p->have_cap_bpf = capability_have(CAP_BPF) > 0;
        p->have_cap_perfmon = capability_have(CAP_PERFMON) > 0;
        p->have_cap_sys_admin = capability_have(CAP_SYS_ADMIN) > 0;
        if (!p->have_btf)
                return 0;

        btf = btf__load_vmlinux_btf();
        if (!btf)
                return 0;
        p->btf_parsed = true;
        for (size_t i = 0; i < ELEMENTSOF(required_tracepoints); i++) {
                char name[64];

                snprintf(name, sizeof(name), "btf_trace_%s", required_tracepoints[i]);
                if (!btf_has_typedef(btf, name)) {
                        p->missing_tracepoint = required_tracepoints[i];
                        break;
                }
        }
        mm = btf__find_by_name_kind(btf, "mm_struct", BTF_KIND_STRUCT);
        if (mm >= 0) {
                p->have_mm_owner = btf_struct_has_member(btf, mm, "owner", 0);
                p->have_merging_pages = btf_struct_has_member(btf, mm, "ksm_merging_pages", 0);
        }
        *ret_btf = btf;
        return 0;
}

static int on_exec_record(void *ctx, void *data, size_t size) {
        KsmBpf *b = ctx;
        const struct ksm_stats_exec *e = data;
        KsmBpfExecEvent ev;
        int r;

        if (size < sizeof(*e) || !b->exec_func)
                return 0;
        ev = (KsmBpfExecEvent) {
                .tgid = (pid_t) e->tgid,
                .ppid = (pid_t) e->ppid,
                .cgroup_id = e->cgroup_id,
                .time_usec = e->time_ns / NSEC_PER_USEC,
        };
        memcpy(ev.comm, e->comm, sizeof(ev.comm));
        ev.comm[sizeof(ev.comm) - 1] = 0;
        r = b->exec_func(&ev, b->exec_userdata);
        if (r < 0) {
                b->exec_error = r;
                return r;       /* stops ring_buffer__consume() */
        }
        return 0;
}

static void autoload(struct bpf_program *prog, bool on, unsigned *features, unsigned feature) {
        bpf_program__set_autoload(prog, on);
        if (on)
                *features |= feature;
}

int ksm_bpf_open(const KsmBpfOptions *opts, KsmBpf **ret, char *why, size_t whylen) {
        static const KsmBpfOptions defaults = { .exec_events = true };
        _cleanup_(ksm_bpf_freep) KsmBpf *b = NULL;
        struct btf *btf = NULL;
        KsmBpfProbe p;
        uint32_t ringbuf;
        unsigned features = 0;
        int r;

        assert(ret);

        if (!opts)
                opts = &defaults;
        ringbuf = opts->ringbuf_bytes ?: KSM_BPF_RINGBUF_BYTES_DEFAULT;
        if ((ringbuf & (ringbuf - 1)) != 0 || ringbuf < (uint32_t) getpagesize()) {
                if (why && whylen)
                        snprintf(why, whylen, "ring buffer size %u is not a power of two >= page size", ringbuf);
                return -EINVAL;
        }

        libbpf_set_print(libbpf_print);
        libbpf_last_warning[0] = 0;

        probe(&p, &btf);
        r = ksm_bpf_probe_verdict(&p, why, whylen);
        if (r < 0) {
                btf__free(btf);
                return r;
        }

        b = new0(KsmBpf, 1);
        if (!b) {
                btf__free(btf);
                return -ENOMEM;
        }

        b->skel = ksm_stats_bpf__open();
        if (!b->skel) {
                r = -errno;
                btf__free(btf);
                if (why && whylen)
                        snprintf(why, whylen, "opening the BPF object failed: %s", strerror(-r));
                return r;
        }

        /* Optional parts, by what this kernel has. */
        autoload(b->skel->progs.ksm_merge_one_page, btf_has_typedef(btf, "btf_trace_ksm_merge_one_page"),
                 &features, KSM_BPF_FEATURE_ZERO_PAGES);
        autoload(b->skel->progs.ksm_remove_rmap_item, btf_has_typedef(btf, "btf_trace_ksm_remove_rmap_item"),
                 &features, KSM_BPF_FEATURE_REMOVALS);
        autoload(b->skel->progs.ksm_advisor, btf_has_typedef(btf, "btf_trace_ksm_advisor"),
                 &features, KSM_BPF_FEATURE_ADVISOR);
        autoload(b->skel->progs.ksm_sync,
                 !opts->no_sync && btf__find_by_name_kind(btf, "bpf_task_from_pid", BTF_KIND_FUNC) >= 0,
                 &features, KSM_BPF_FEATURE_SYNC);
        autoload(b->skel->progs.sched_process_exec,
                 opts->exec_events && btf_has_typedef(btf, "btf_trace_sched_process_exec"),
                 &features, KSM_BPF_FEATURE_EXEC);
        btf__free(btf);

        if (opts->sync_interval_usec > 0)
                b->skel->rodata->sync_interval_ns = opts->sync_interval_usec * NSEC_PER_USEC;
        (void) bpf_map__set_max_entries(b->skel->maps.procs, opts->max_processes ?: KSM_BPF_MAX_PROCESSES_DEFAULT);
        (void) bpf_map__set_max_entries(b->skel->maps.watched_cgroups, opts->max_cgroups ?: KSM_BPF_MAX_CGROUPS_DEFAULT);
        (void) bpf_map__set_max_entries(b->skel->maps.exec_events,
                                        features & KSM_BPF_FEATURE_EXEC ? ringbuf : (uint32_t) getpagesize());

        r = ksm_stats_bpf__load(b->skel);
        if (r < 0) {
                if (why && whylen)
                        snprintf(why, whylen, "loading the BPF programs failed: %s%s%s", strerror(-r),
                                 libbpf_last_warning[0] ? ": " : "", libbpf_last_warning);
                return r;
        }
        r = ksm_stats_bpf__attach(b->skel);
        if (r < 0) {
                if (why && whylen)
                        snprintf(why, whylen, "attaching the BPF programs failed: %s%s%s", strerror(-r),
                                 libbpf_last_warning[0] ? ": " : "", libbpf_last_warning);
                return r;
        }

        if (features & KSM_BPF_FEATURE_EXEC) {
                b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.exec_events), on_exec_record, b, NULL);
                if (!b->rb) {
                        r = -errno;
                        if (why && whylen)
                                snprintf(why, whylen, "creating the exec ring buffer failed: %s", strerror(-r));
                        return r;
                }
        }

        b->features = features;
        log_debug("BPF statistics attached (features 0x%x)", features);
        if (why && whylen)
                snprintf(why, whylen, "ok");
        *ret = TAKE_PTR(b);
        return 0;
}

KsmBpf *ksm_bpf_free(KsmBpf *b) {
        if (!b)
                return NULL;
        ring_buffer__free(b->rb);
        ksm_stats_bpf__destroy(b->skel);
        free(b);
        return NULL;
}

unsigned ksm_bpf_features(const KsmBpf *b) {
        return b ? b->features : 0;
}

int ksm_bpf_read_process(KsmBpf *b, pid_t tgid, KsmBpfProcess *ret) {
        struct ksm_stats_proc raw;
        __u32 key = (__u32) tgid;

        assert(b);
        assert(ret);

        if (tgid <= 0)
                return -EINVAL;
        if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.procs), &key, &raw) < 0)
                return -errno;
        ksm_bpf_process_from_raw(tgid, &raw, ret);
        return 0;
}

int ksm_bpf_forget(KsmBpf *b, pid_t tgid) {
        __u32 key = (__u32) tgid;

        assert(b);

        if (tgid <= 0)
                return -EINVAL;
        if (bpf_map_delete_elem(bpf_map__fd(b->skel->maps.procs), &key) < 0)
                return -errno;
        return 0;
}

/* Batched walk: one syscall per 256 entries (10,000 processes: 40 syscalls). */
#define BATCH 256U

static int foreach_batched(KsmBpf *b, int fd, KsmBpfProcessFunc f, void *userdata) {
        __u32 keys[BATCH];
        struct ksm_stats_proc values[BATCH];
        __u64 token_in = 0, token_out = 0;
        bool first = true;
        int n = 0;

        for (;;) {
                __u32 count = BATCH;
                int r, e;

                r = bpf_map_lookup_batch(fd, first ? NULL : &token_in, &token_out, keys, values, &count, NULL);
                e = r < 0 ? errno : 0;
                if (r < 0 && e != ENOENT)
                        return first ? -e : -EIO;       /* first: caller falls back */
                for (__u32 i = 0; i < count; i++) {
                        KsmBpfProcess p;

                        ksm_bpf_process_from_raw((pid_t) keys[i], &values[i], &p);
                        r = f(&p, userdata);
                        if (r < 0)
                                return r;
                        n++;
                }
                if (e == ENOENT)
                        return n;
                token_in = token_out;
                first = false;
        }
}

int ksm_bpf_foreach_process(KsmBpf *b, KsmBpfProcessFunc f, void *userdata) {
        int fd, r, n = 0;
        __u32 key, next;
        bool have_key = false;

        assert(b);
        assert(f);

        fd = bpf_map__fd(b->skel->maps.procs);
        r = foreach_batched(b, fd, f, userdata);
        if (r >= 0 || !IN_SET(r, -EINVAL, -ENOTSUP, -EOPNOTSUPP))
                return r;

        /* Kernels without batch operations on this map type. */
        while (bpf_map_get_next_key(fd, have_key ? &key : NULL, &next) == 0) {
                struct ksm_stats_proc raw;
                KsmBpfProcess p;

                key = next;
                have_key = true;
                if (bpf_map_lookup_elem(fd, &key, &raw) < 0)
                        continue;       /* deleted meanwhile */
                ksm_bpf_process_from_raw((pid_t) key, &raw, &p);
                r = f(&p, userdata);
                if (r < 0)
                        return r;
                n++;
        }
        return n;
}

int ksm_bpf_scans(KsmBpf *b, KsmBpfScan *ret, size_t n, uint64_t *ret_total) {
        struct ksm_stats_scan ring[KSM_STATS_SCAN_SLOTS];
        uint64_t before, after = 0;

        assert(b);

        /* The ring is written by ksmd while we copy: retry until no scan ended meanwhile. */
        for (unsigned attempt = 0; attempt < 8; attempt++) {
                before = __atomic_load_n(&b->skel->bss->n_scans, __ATOMIC_ACQUIRE);
                memcpy(ring, (const void *) b->skel->bss->scans, sizeof(ring));
                after = __atomic_load_n(&b->skel->bss->n_scans, __ATOMIC_ACQUIRE);
                if (before == after)
                        break;
        }
        if (ret_total)
                *ret_total = after;
        return (int) ksm_bpf_scans_from_ring(ring, after, ret, n);
}

int ksm_bpf_advisor(KsmBpf *b, KsmBpfAdvisor *ret) {
        const struct ksm_stats_advisor *a;
        uint64_t n;

        assert(b);
        assert(ret);

        if (!(b->features & KSM_BPF_FEATURE_ADVISOR))
                return -EOPNOTSUPP;
        a = &b->skel->bss->advisor;
        do {
                n = __atomic_load_n(&a->n_decisions, __ATOMIC_ACQUIRE);
                *ret = (KsmBpfAdvisor) {
                        .n_decisions = n,
                        .time_usec = a->time_ns / NSEC_PER_USEC,
                        .scan_time_sec = a->scan_time_sec,
                        .pages_to_scan = a->pages_to_scan,
                        .cpu_percent = a->cpu_percent,
                };
        } while (__atomic_load_n(&a->n_decisions, __ATOMIC_ACQUIRE) != n);
        return 0;
}

int ksm_bpf_counters(KsmBpf *b, KsmBpfCounters *ret) {
        const struct ksm_stats_counters *c;

        assert(b);
        assert(ret);

        c = &b->skel->bss->counters;
        *ret = (KsmBpfCounters) {
                .unattributed = __atomic_load_n(&c->unattributed, __ATOMIC_RELAXED),
                .map_full = __atomic_load_n(&c->map_full, __ATOMIC_RELAXED),
                .exec_seen = __atomic_load_n(&c->exec_seen, __ATOMIC_RELAXED),
                .exec_filtered = __atomic_load_n(&c->exec_filtered, __ATOMIC_RELAXED),
                .exec_dropped = __atomic_load_n(&c->exec_dropped, __ATOMIC_RELAXED),
                .syncs = __atomic_load_n(&c->syncs, __ATOMIC_RELAXED),
                .pair_undone = __atomic_load_n(&c->pair_undone, __ATOMIC_RELAXED),
        };
        return 0;
}

int ksm_bpf_exec_fd(KsmBpf *b) {
        assert(b);

        if (!b->rb)
                return -EOPNOTSUPP;
        return ring_buffer__epoll_fd(b->rb);
}

int ksm_bpf_exec_consume(KsmBpf *b, KsmBpfExecFunc f, void *userdata) {
        int r;

        assert(b);
        assert(f);

        if (!b->rb)
                return -EOPNOTSUPP;
        b->exec_func = f;
        b->exec_userdata = userdata;
        b->exec_error = 0;
        r = ring_buffer__consume(b->rb);
        b->exec_func = NULL;
        b->exec_userdata = NULL;
        if (b->exec_error < 0)
                return b->exec_error;
        return r;
}

int ksm_bpf_watch_cgroup(KsmBpf *b, uint64_t cgroup_id, bool watch) {
        int fd;
        __u64 key = cgroup_id;
        __u8 one = 1;

        assert(b);

        fd = bpf_map__fd(b->skel->maps.watched_cgroups);
        if (watch) {
                if (bpf_map_update_elem(fd, &key, &one, BPF_NOEXIST) < 0) {
                        if (errno == EEXIST)
                                return 0;
                        return -errno;
                }
                b->n_watched++;
        } else {
                if (bpf_map_delete_elem(fd, &key) < 0)
                        return -errno;
                b->n_watched--;
        }
        /* The set is filled before the filter is switched on, and the filter off before it empties. */
        __atomic_store_n(&b->skel->bss->watch_enabled, b->n_watched > 0, __ATOMIC_RELEASE);
        return 0;
}
