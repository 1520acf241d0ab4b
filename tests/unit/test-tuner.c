/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-tuner.c - the pure tuner: every mode replayed over observation sequences recorded on the
 * development machine (tests/fixtures/tuner/, see the README there) and over synthetic ones
 * where a test needs exact numbers: adaptive (sprint on new memory, maintain after unproductive full
 * scans, CPU budget, pressure gating, no oscillation), the 2009 ksmtuned arithmetic and its config
 * parser, the kernel advisor, static and off; names, invalid arguments, determinism.
 *
 * Every step of every replay goes through check_decision(), which holds the invariants of the
 * contract: knobs only written when they differ from the observation, values in the kernel's ranges,
 * pages_to_scan never written while the advisor stays on, a reason for every change.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "macro.h"
#include "parse-util.h"
#include "tuner.h"

#define MIB (1024ULL * 1024ULL)
#define KSM_KNOB_MAX 4294967295LL               /* pages_to_scan, sleep_millisecs: unsigned int */

/* Observation sequences (fixtures/tuner/NAME.tsv) */

typedef struct SeqMark {
        char name[32];                          /* the recorder's "mark" column: what the script did next */
        usec_t usec;                            /* the first sample that carries it */
} SeqMark;

typedef struct Seq {
        TunerObservation *obs;
        size_t n;
        SeqMark *marks;                         /* each change of the mark column */
        size_t n_marks;
} Seq;

enum {
        COL_T_USEC, COL_PAGES_SHARING, COL_PAGES_SHARED, COL_PAGES_UNSHARED, COL_PAGES_VOLATILE,
        COL_FULL_SCANS, COL_PAGES_SCANNED, COL_RUN, COL_PAGES_TO_SCAN, COL_SLEEP_MILLISECS,
        COL_ADVISOR_MODE, COL_KSMD_CPU_NS, COL_MEM_TOTAL_KB, COL_MEM_AVAILABLE_KB, COL_MEM_FREE_KB,
        COL_BUFFERS_KB, COL_CACHED_KB, COL_PSI_SOME_AVG10, COL_MARK, _COL_MAX,
};

static const char *const col_names[_COL_MAX] = {
        "t_usec", "pages_sharing", "pages_shared", "pages_unshared", "pages_volatile",
        "full_scans", "pages_scanned", "run", "pages_to_scan", "sleep_millisecs",
        "advisor_mode", "ksmd_cpu_ns", "mem_total_kb", "mem_available_kb", "mem_free_kb",
        "buffers_kb", "cached_kb", "psi_some_avg10", "mark",
};

/* Splits @line at tabs in place; returns the number of fields (at most @max). */
static size_t split_tabs(char *line, char **fields, size_t max) {
        size_t n = 0;

        for (char *p = line; n < max; ) {
                fields[n++] = p;
                p = strchr(p, '\t');
                if (!p)
                        break;
                *p++ = 0;
        }
        return n;
}

static uint64_t field_u64(const char *rel, size_t line, const char *s) {
        uint64_t v;

        if (safe_atou64(s, &v) < 0)
                fail_msg("%s:%zu: '%s' is not a number", rel, line, s);
        return v;
}

/*
 * Loads a recorded TSV (header line, then one sample every 250 ms) into observations the way the
 * manager fills them: page_size 4096, counters, CPU and PSI present, the knobs as read.
 * new_mergeable_bytes and committed_kb are left 0 for the test to set.
 */
static void seq_load(const char *rel, Seq *ret) {
        _cleanup_free_ char *text = fixture_read(rel);
        size_t col[_COL_MAX], lines = 0, n = 0, lineno = 1;
        char *fields[64], *p, *eol;
        size_t nf;

        for (p = text; *p; p++)
                lines += *p == '\n';
        *ret = (Seq) {
                .obs = calloc(lines, sizeof(TunerObservation)),
                .marks = calloc(lines, sizeof(SeqMark)),
        };
        assert_non_null(ret->obs);
        assert_non_null(ret->marks);

        eol = strchr(text, '\n');
        assert_non_null(eol);
        *eol = 0;
        nf = split_tabs(text, fields, ELEMENTSOF(fields));
        for (size_t c = 0; c < _COL_MAX; c++) {
                col[c] = SIZE_MAX;
                for (size_t i = 0; i < nf; i++)
                        if (streq(fields[i], col_names[c]))
                                col[c] = i;
                if (col[c] == SIZE_MAX)
                        fail_msg("%s: no column '%s'", rel, col_names[c]);
        }

        for (p = eol + 1; *p; p = eol + 1) {
                TunerObservation *o = &ret->obs[n];
                uint64_t psi;

                lineno++;
                eol = strchr(p, '\n');
                assert_non_null(eol);
                *eol = 0;
                assert_int_equal(split_tabs(p, fields, ELEMENTSOF(fields)), nf);

                *o = (TunerObservation) {
                        .now_usec = field_u64(rel, lineno, fields[col[COL_T_USEC]]),
                        .page_size = 4096,
                        .have_counters = true,
                        .pages_sharing = field_u64(rel, lineno, fields[col[COL_PAGES_SHARING]]),
                        .pages_shared = field_u64(rel, lineno, fields[col[COL_PAGES_SHARED]]),
                        .pages_unshared = field_u64(rel, lineno, fields[col[COL_PAGES_UNSHARED]]),
                        .pages_volatile = field_u64(rel, lineno, fields[col[COL_PAGES_VOLATILE]]),
                        .full_scans = field_u64(rel, lineno, fields[col[COL_FULL_SCANS]]),
                        .pages_scanned = field_u64(rel, lineno, fields[col[COL_PAGES_SCANNED]]),
                        .run = (int64_t) field_u64(rel, lineno, fields[col[COL_RUN]]),
                        .pages_to_scan = (int64_t) field_u64(rel, lineno, fields[col[COL_PAGES_TO_SCAN]]),
                        .sleep_msec = (int64_t) field_u64(rel, lineno, fields[col[COL_SLEEP_MILLISECS]]),
                        .advisor_mode = (int64_t) field_u64(rel, lineno, fields[col[COL_ADVISOR_MODE]]),
                        .have_cpu = true,
                        .ksmd_cpu_ns = field_u64(rel, lineno, fields[col[COL_KSMD_CPU_NS]]),
                        .mem_total_kb = field_u64(rel, lineno, fields[col[COL_MEM_TOTAL_KB]]),
                        .mem_available_kb = field_u64(rel, lineno, fields[col[COL_MEM_AVAILABLE_KB]]),
                        .mem_free_kb = field_u64(rel, lineno, fields[col[COL_MEM_FREE_KB]]),
                        .buffers_kb = field_u64(rel, lineno, fields[col[COL_BUFFERS_KB]]),
                        .cached_kb = field_u64(rel, lineno, fields[col[COL_CACHED_KB]]),
                        .have_psi = true,
                };
                if (parse_fixed2(fields[col[COL_PSI_SOME_AVG10]], &psi) < 0)
                        fail_msg("%s:%zu: bad PSI '%s'", rel, lineno, fields[col[COL_PSI_SOME_AVG10]]);
                o->psi_some_avg10_pmy = (uint32_t) psi;
                if (ret->n_marks == 0 || !streq(ret->marks[ret->n_marks - 1].name, fields[col[COL_MARK]])) {
                        SeqMark *m = &ret->marks[ret->n_marks++];

                        snprintf(m->name, sizeof(m->name), "%s", fields[col[COL_MARK]]);
                        m->usec = o->now_usec;
                }
                if (n > 0)
                        assert_true(o->now_usec > ret->obs[n - 1].now_usec);
                n++;
        }
        ret->n = n;
        assert_true(n > 0);
}

static void seq_done(Seq *s) {
        free(s->obs);
        free(s->marks);
        *s = (Seq) {};
}

/* Index of the first sample at or after the script's step @mark; fails the test if there is none. */
static size_t seq_mark(const Seq *s, const char *mark) {
        for (size_t m = 0; m < s->n_marks; m++)
                if (streq(s->marks[m].name, mark))
                        for (size_t i = 0; i < s->n; i++)
                                if (s->obs[i].now_usec >= s->marks[m].usec)
                                        return i;
        fail_msg("no sample marked '%s'", mark);
        return SIZE_MAX;
}

/* Time of the script's step @mark. */
static usec_t seq_mark_usec(const Seq *s, const char *mark) {
        for (size_t m = 0; m < s->n_marks; m++)
                if (streq(s->marks[m].name, mark))
                        return s->marks[m].usec;
        fail_msg("no sample marked '%s'", mark);
        return 0;
}

/*
 * Keeps every @stride-th sample: the daemon steps the tuner once a second, the recorder sampled at
 * 4 Hz.  A mark then points at the first kept sample after it, the tick that would have seen it.
 */
static void seq_thin(Seq *s, size_t stride) {
        size_t n = 0;

        for (size_t i = 0; i < s->n; i += stride)
                s->obs[n++] = s->obs[i];
        s->n = n;
}

/* Invariants of every decision */

static bool mode_writes_pages(TunerMode m) {
        return IN_SET(m, TUNER_MODE_ADAPTIVE, TUNER_MODE_KSMTUNED, TUNER_MODE_STATIC);
}

static void check_decision(const TunerConfig *c, const TunerObservation *o, const TunerDecision *d, int r) {
        bool any = d->set_run || d->set_pages_to_scan || d->set_sleep || d->set_advisor;

        assert_true(r == 0 || r == 1);
        assert_int_equal(r, any);
        if (c->mode == TUNER_MODE_OFF)
                assert_int_equal(r, 0);
        if (r > 0)
                assert_true(d->reason[0] != 0);         /* every change says why */
        assert_non_null(tuner_phase_to_string(d->phase));

        if (d->set_run) {
                assert_true(d->run != o->run);
                assert_true(d->run == 0 || d->run == 1);        /* never 2: merged pages stand */
        }
        if (d->set_pages_to_scan) {
                assert_true(mode_writes_pages(c->mode));
                assert_true(d->pages_to_scan != o->pages_to_scan);
                assert_true(d->pages_to_scan >= 0 && d->pages_to_scan <= KSM_KNOB_MAX);
                /* The kernel refuses pages_to_scan while the advisor runs: it must go off in the same decision. */
                if (o->advisor_mode == 1)
                        assert_true(d->set_advisor && d->advisor_mode == 0);
        }
        if (d->set_sleep) {
                assert_true(mode_writes_pages(c->mode));
                assert_true(d->sleep_msec != o->sleep_msec);
                assert_true(d->sleep_msec >= 0 && d->sleep_msec <= KSM_KNOB_MAX);
        }
        if (d->set_advisor) {
                assert_true(d->advisor_mode == 0 || d->advisor_mode == 1);
                if (d->advisor_mode == 0)
                        assert_int_equal(o->advisor_mode, 1);
                else
                        assert_int_equal(c->mode, TUNER_MODE_ADVISOR);
        }

        switch (c->mode) {
        case TUNER_MODE_ADAPTIVE:
                if (d->set_pages_to_scan)
                        assert_true((d->pages_to_scan >= (int64_t) c->min_pages_to_scan &&
                                     d->pages_to_scan <= (int64_t) c->sprint_pages_to_scan) ||
                                    d->pages_to_scan == (int64_t) c->maintain_pages_to_scan);
                /* held to the budget: never faster than the sprint pace */
                if (d->set_sleep)
                        assert_true((d->sleep_msec >= (int64_t) c->sprint_sleep_msec && d->sleep_msec <= 60000) ||
                                    d->sleep_msec == (int64_t) c->maintain_sleep_msec);
                break;
        case TUNER_MODE_KSMTUNED:
                if (d->set_pages_to_scan)
                        assert_true(d->pages_to_scan >= c->ksmtuned.npages_min &&
                                    d->pages_to_scan <= c->ksmtuned.npages_max);
                if (d->set_sleep)
                        assert_true(d->sleep_msec >= 10);
                break;
        case TUNER_MODE_ADVISOR:
                assert_false(d->set_pages_to_scan);
                assert_false(d->set_sleep);
                break;
        default:
                break;
        }
}

/* The kernel applies what the tuner asked for. */
static void apply(TunerObservation *knobs, const TunerDecision *d) {
        if (d->set_advisor)
                knobs->advisor_mode = d->advisor_mode;
        if (d->set_pages_to_scan)
                knobs->pages_to_scan = d->pages_to_scan;
        if (d->set_sleep)
                knobs->sleep_msec = d->sleep_msec;
        if (d->set_run)
                knobs->run = d->run;
}

/* One checked step on @o; applies the decision to @o's knobs (closed loop) and returns tuner_step()'s result. */
static int step(const TunerConfig *c, TunerObservation *o, TunerState *st, TunerDecision *d) {
        int r;

        r = tuner_step(c, o, st, d);
        check_decision(c, o, d, r);
        apply(o, d);
        return r;
}

/*
 * Replays @s through the tuner.  The counters are as recorded; with @closed_loop the knobs (run,
 * pages_to_scan, sleep_millisecs, advisor_mode) are what the tuner's own decisions left, starting
 * from the first row's recorded values, as they would be with the daemon driving ksmd.  Fills
 * ret_r[] and ret_d[] (s->n entries each).
 */
static void replay(const TunerConfig *c, const Seq *s, bool closed_loop, TunerState *st,
                   int *ret_r, TunerDecision *ret_d) {
        TunerObservation knobs = s->obs[0];

        for (size_t i = 0; i < s->n; i++) {
                TunerObservation o = s->obs[i];

                if (closed_loop) {
                        o.run = knobs.run;
                        o.pages_to_scan = knobs.pages_to_scan;
                        o.sleep_msec = knobs.sleep_msec;
                        o.advisor_mode = knobs.advisor_mode;
                }
                ret_r[i] = tuner_step(c, &o, st, &ret_d[i]);
                check_decision(c, &o, &ret_d[i], ret_r[i]);
                apply(&knobs, &ret_d[i]);
        }
}

typedef struct Replay {
        int *r;
        TunerDecision *d;
        TunerState st;
} Replay;

/* Replays @s from @initial (NULL: a zeroed TunerState, as the manager starts). */
static void replay_new(const TunerConfig *c, const Seq *s, bool closed_loop, const TunerState *initial,
                       Replay *ret) {
        memset(ret, 0, sizeof(*ret));           /* padding too: test_deterministic compares states bytewise */
        ret->r = calloc(s->n, sizeof(int));
        ret->d = calloc(s->n, sizeof(TunerDecision));
        if (initial)
                ret->st = *initial;
        assert_non_null(ret->r);
        assert_non_null(ret->d);
        replay(c, s, closed_loop, &ret->st, ret->r, ret->d);
}

static void replay_done(Replay *rp) {
        free(rp->r);
        free(rp->d);
        *rp = (Replay) {};
}

/* First index >= @from whose decision is in @phase, or SIZE_MAX. */
static size_t find_phase(const Seq *s, const Replay *rp, size_t from, TunerPhase phase) {
        for (size_t i = from; i < s->n; i++)
                if (rp->d[i].phase == phase)
                        return i;
        return SIZE_MAX;
}

static size_t count_changes(const Seq *s, const Replay *rp, size_t from) {
        size_t n = 0;

        for (size_t i = from; i < s->n; i++)
                n += rp->r[i] > 0;
        return n;
}

/* Synthetic observations */

/* An idle host like the development machine: 24 GiB, KSM at the kernel's defaults, nothing merged. */
static TunerObservation obs_idle(void) {
        return (TunerObservation) {
                .now_usec = 5000 * USEC_PER_SEC,
                .page_size = 4096,
                .have_counters = true,
                .full_scans = 9740,
                .pages_scanned = 148280396,
                .run = 0,
                .pages_to_scan = 100,
                .sleep_msec = 20,
                .advisor_mode = 0,
                .have_cpu = true,
                .ksmd_cpu_ns = 118432815970ULL,
                .mem_total_kb = 24608712,
                .mem_available_kb = 24263956,
                .mem_free_kb = 24329176,
                .buffers_kb = 1428,
                .cached_kb = 130196,
                .have_psi = true,
        };
}

/* Advances @o by @usec with @scans full scans that merged @merged pages, ksmd busy @cpu_pmy of the time. */
static void advance(TunerObservation *o, usec_t usec, uint64_t scans, uint64_t merged, uint64_t cpu_pmy) {
        o->now_usec += usec;
        o->full_scans += scans;
        o->pages_sharing += merged;
        o->pages_scanned += scans * 1000;
        o->ksmd_cpu_ns += usec * NSEC_PER_USEC * cpu_pmy / 10000;
        o->new_mergeable_bytes = 0;
}

static TunerConfig config_mode(TunerMode m) {
        TunerConfig c;

        tuner_config_init(&c);
        c.mode = m;
        return c;
}

/* Adaptive on the recorded sequences */

static void test_adaptive_start_sprints(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o = obs_idle();
        TunerState st = {};
        TunerDecision d;

        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_true(d.set_run && d.run == 1);
        assert_true(d.set_pages_to_scan && d.pages_to_scan == 16384);
        assert_true(d.set_sleep && d.sleep_msec == 1);
        assert_false(d.set_advisor);
        assert_non_null(strstr(d.reason, "start"));
        assert_int_equal(st.phase, TUNER_PHASE_SPRINT);

        /* Knobs already at the sprint pace: only what differs is written. */
        o = obs_idle();
        o.run = 1;
        o.pages_to_scan = 16384;
        st = (TunerState) {};
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_false(d.set_run);
        assert_false(d.set_pages_to_scan);
        assert_true(d.set_sleep && d.sleep_msec == 1);

        o.sleep_msec = 1;
        st = (TunerState) {};
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
}

/* Adaptive and the other modes on the recorded sequences */

static void seq_load_thin(const char *rel, size_t stride, Seq *ret) {
        seq_load(rel, ret);
        if (stride > 1)
                seq_thin(ret, stride);
}

/* A default adaptive tuner in maintain just before @first, as if it had been running before the recording. */
static void prime_maintain(const TunerConfig *c, const TunerObservation *first, TunerState *ret) {
        TunerObservation o = *first;
        TunerDecision d;

        *ret = (TunerState) {};
        o.now_usec -= 3 * USEC_PER_SEC;
        o.full_scans -= 2;
        for (unsigned i = 0; i < 3; i++) {
                assert_true(tuner_step(c, &o, ret, &d) >= 0);
                apply(&o, &d);
                o.now_usec += USEC_PER_SEC;
                o.full_scans++;
        }
        assert_int_equal(ret->phase, TUNER_PHASE_MAINTAIN);
}

static void test_recorded_idle(void **state) {
        static const size_t strides[] = { 1, 4 };

        for (size_t k = 0; k < ELEMENTSOF(strides); k++) {
                TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
                Replay rp;
                Seq s;

                seq_load_thin("tuner/idle.tsv", strides[k], &s);
                /* What the recording shows: with nothing mergeable ksmd sleeps even with run=1 (no mm
                 * registered), so there are no full scans at all and ksmd costs nothing. */
                assert_true(s.n >= 20);
                assert_int_equal(s.obs[s.n - 1].full_scans, s.obs[0].full_scans);
                assert_int_equal(s.obs[s.n - 1].pages_sharing, 0);
                assert_true(s.obs[s.n - 1].ksmd_cpu_ns - s.obs[0].ksmd_cpu_ns < NSEC_PER_SEC / 1000);

                /* Adaptive: the start sprint (run is 1 already), then not a single change.  Nothing ends
                 * the sprint without scans, and at no cost: ksmd does not wake up. */
                replay_new(&c, &s, /* closed_loop= */ true, NULL, &rp);
                assert_int_equal(rp.r[0], 1);
                assert_false(rp.d[0].set_run);
                assert_true(rp.d[0].set_pages_to_scan && rp.d[0].pages_to_scan == 16384);
                assert_true(rp.d[0].set_sleep && rp.d[0].sleep_msec == 1);
                assert_int_equal(count_changes(&s, &rp, 1), 0);
                for (size_t i = 0; i < s.n; i++)
                        assert_int_equal(rp.d[i].phase, TUNER_PHASE_SPRINT);
                replay_done(&rp);

                /* ksmtuned (5 s interval): free memory far above thres, nothing committed: run=0 at the
                 * first adjustment, then nothing. */
                c = config_mode(TUNER_MODE_KSMTUNED);
                c.ksmtuned.monitor_interval_usec = 5 * USEC_PER_SEC;
                replay_new(&c, &s, true, NULL, &rp);
                assert_int_equal(count_changes(&s, &rp, 0), 1);
                for (size_t i = 0; i < s.n; i++) {
                        bool due = s.obs[i].now_usec >= s.obs[0].now_usec + 5 * USEC_PER_SEC;

                        if (rp.r[i] > 0) {
                                assert_true(due);
                                assert_true(rp.d[i].set_run && rp.d[i].run == 0);
                                assert_false(rp.d[i].set_pages_to_scan);
                        }
                        assert_int_equal(rp.d[i].phase, due ? TUNER_PHASE_STOPPED : TUNER_PHASE_START);
                }
                replay_done(&rp);

                /* static at its defaults (1 / 100 / 20) is what the recording ran at: nothing to write. */
                c = config_mode(TUNER_MODE_STATIC);
                replay_new(&c, &s, true, NULL, &rp);
                assert_int_equal(count_changes(&s, &rp, 0), 0);
                replay_done(&rp);

                /* advisor: switched on once. */
                c = config_mode(TUNER_MODE_ADVISOR);
                replay_new(&c, &s, true, NULL, &rp);
                assert_int_equal(rp.r[0], 1);
                assert_true(rp.d[0].set_advisor && rp.d[0].advisor_mode == 1);
                assert_int_equal(count_changes(&s, &rp, 1), 0);
                replay_done(&rp);

                seq_done(&s);
        }
}

static void test_recorded_workload_sprint(void **state) {
        static const size_t strides[] = { 4, 1 };

        for (size_t k = 0; k < ELEMENTSOF(strides); k++) {
                TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
                size_t start, m, conv = SIZE_MAX;
                uint64_t final;
                usec_t t_start;
                Replay rp;
                Seq s;

                /* 4 ksm-filler × 64 MiB (16 distinct pages each) appear while ksmd runs at the sprint
                 * pace; the daemon would report them as 256 MiB made mergeable. */
                seq_load_thin("tuner/workload-sprint.tsv", strides[k], &s);
                start = seq_mark(&s, "fillers-start");
                t_start = seq_mark_usec(&s, "fillers-start");
                s.obs[seq_mark(&s, "fillers-ready")].new_mergeable_bytes = 256 * MIB;
                final = s.obs[s.n - 1].pages_sharing;
                assert_true(final >= 65000);                    /* 65536 pages, 259 kept as stable pages */
                for (size_t i = start; i < s.n && conv == SIZE_MAX; i++)
                        if (s.obs[i].pages_sharing * 10 >= final * 9)
                                conv = i;
                assert_true(conv != SIZE_MAX);
                assert_true(s.obs[conv].now_usec - t_start <= USEC_PER_SEC);   /* 90 % within a second */

                replay_new(&c, &s, true, NULL, &rp);

                /* Sprint while full scans yield, maintain only once the saving is (nearly) complete ... */
                m = find_phase(&s, &rp, 0, TUNER_PHASE_MAINTAIN);
                assert_true(m != SIZE_MAX);
                assert_true(m > start);
                for (size_t i = 0; i < m; i++)
                        assert_int_equal(rp.d[i].phase, TUNER_PHASE_SPRINT);
                assert_true(s.obs[m].pages_sharing * 100 >= final * 99);
                assert_true(s.obs[m].now_usec - t_start <= 2 * USEC_PER_SEC);
                assert_true(s.obs[m].full_scans - s.obs[conv].full_scans >= c.idle_scans);

                /* ... with exactly the maintain knobs ... */
                assert_int_equal(rp.r[m], 1);
                assert_true(rp.d[m].set_pages_to_scan && rp.d[m].pages_to_scan == 100);
                assert_true(rp.d[m].set_sleep && rp.d[m].sleep_msec == 500);
                assert_false(rp.d[m].set_run);
                assert_false(rp.d[m].set_advisor);
                assert_non_null(strstr(rp.d[m].reason, "full scans without yield"));

                /* ... and no change after that, through the rest of the recording. */
                assert_int_equal(count_changes(&s, &rp, m + 1), 0);
                for (size_t i = m; i < s.n; i++)
                        assert_int_equal(rp.d[i].phase, TUNER_PHASE_MAINTAIN);
                replay_done(&rp);

                /* Why idle_scans is 2: the full scan that found the new memory merged nothing (the first
                 * pass only checksums).  With idle_scans 1 and no trigger, the sprint would have ended
                 * right there, before a single page was merged. */
                if (strides[k] == 1) {
                        size_t early;

                        s.obs[seq_mark(&s, "fillers-ready")].new_mergeable_bytes = 0;
                        c.idle_scans = 1;
                        c.sprint_trigger_bytes = UINT64_MAX;
                        replay_new(&c, &s, true, NULL, &rp);
                        early = find_phase(&s, &rp, 0, TUNER_PHASE_MAINTAIN);
                        assert_true(early != SIZE_MAX);
                        assert_int_equal(s.obs[early].pages_sharing, 0);
                        assert_true(s.obs[early].full_scans > s.obs[early - 1].full_scans);
                        replay_done(&rp);
                }
                seq_done(&s);
        }
}

static void test_recorded_workload_maintain(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerState primed;
        size_t ready, expect = SIZE_MAX;
        Replay rp;
        Seq s;

        c.maintain_sleep_msec = 200;    /* the maintain pace this sequence was recorded at */

        /* The same workload appearing while ksmd runs at the maintain pace (recorded at 1 Hz). */
        seq_load("tuner/workload-maintain.tsv", &s);
        ready = seq_mark(&s, "fillers-ready");
        prime_maintain(&c, &s.obs[0], &primed);

        /* Made mergeable by the daemon: a sprint at the next tick, the reason naming the amount. */
        s.obs[ready].new_mergeable_bytes = 256 * MIB;
        replay_new(&c, &s, true, &primed, &rp);
        assert_int_equal(count_changes(&s, &rp, 0), count_changes(&s, &rp, ready));
        assert_int_equal(rp.r[ready], 1);
        assert_int_equal(rp.d[ready].phase, TUNER_PHASE_SPRINT);
        assert_true(rp.d[ready].set_pages_to_scan && rp.d[ready].pages_to_scan == 16384);
        assert_true(rp.d[ready].set_sleep && rp.d[ready].sleep_msec == 1);
        assert_string_equal(rp.d[ready].reason, "sprint: 256.0 MiB of new mergeable memory");
        replay_done(&rp);

        /* Made mergeable by someone else (the process itself): only ksmd's rmap_items show it, and at
         * the maintain pace (200 ms) they grow by 500 a second.  The sprint comes once they add up to 64 MiB. */
        s.obs[ready].new_mergeable_bytes = 0;
        for (size_t i = 0; i < s.n && expect == SIZE_MAX; i++)
                if (s.obs[i].pages_unshared + s.obs[i].pages_volatile >= 16384)
                        expect = i;
        assert_true(expect != SIZE_MAX);
        assert_true(s.obs[expect].now_usec - s.obs[ready].now_usec >= 25 * USEC_PER_SEC);
        replay_new(&c, &s, true, &primed, &rp);
        assert_int_equal(count_changes(&s, &rp, 0), count_changes(&s, &rp, expect));
        for (size_t i = 0; i < expect; i++)
                assert_int_equal(rp.d[i].phase, TUNER_PHASE_MAINTAIN);
        assert_int_equal(rp.r[expect], 1);
        assert_int_equal(rp.d[expect].phase, TUNER_PHASE_SPRINT);
        assert_true(rp.d[expect].set_pages_to_scan && rp.d[expect].pages_to_scan == 16384);
        assert_non_null(strstr(rp.d[expect].reason, "MiB of new mergeable memory"));
        replay_done(&rp);
        seq_done(&s);
}

static void test_recorded_churn(void **state) {
        static const size_t strides[] = { 4, 1 };

        for (size_t k = 0; k < ELEMENTSOF(strides); k++) {
                TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
                size_t ready, m;
                usec_t last_change = 0;
                Replay rp;
                Seq s;

                /* 256 MiB rewriting 10 % of its pages every second.  ksmd re-merges the rewritten pages
                 * as fast as they are written, so full scans stop adding to pages_sharing: maintain,
                 * and then no flapping while the rewrites go on. */
                seq_load_thin("tuner/churn.tsv", strides[k], &s);
                ready = seq_mark(&s, "churn-ready");
                s.obs[ready].new_mergeable_bytes = 256 * MIB;
                replay_new(&c, &s, true, NULL, &rp);
                m = find_phase(&s, &rp, 0, TUNER_PHASE_MAINTAIN);
                assert_true(m != SIZE_MAX);
                assert_true(m >= ready);
                assert_true(s.obs[m].now_usec - seq_mark_usec(&s, "churn-ready") <= 3 * USEC_PER_SEC);
                assert_int_equal(count_changes(&s, &rp, m + 1), 0);
                replay_done(&rp);

                /* A budget of 20 % of a CPU with the default burst (10 s of CPU above it): ksmd at
                 * about 30 % for 20 s spends 2 s of it, so the sprint keeps its pace. */
                c.cpu_budget_pmy = 2000;
                replay_new(&c, &s, true, NULL, &rp);
                m = find_phase(&s, &rp, 0, TUNER_PHASE_MAINTAIN);
                for (size_t i = 1; i < m; i++)
                        assert_null(strstr(rp.d[i].reason, "budget"));
                replay_done(&rp);

                /* No burst: held to the budget from the first over-budget step: a slower pace
                 * (fewer pages or longer sleeps, never below the floor), at most once per hold-off. */
                c.cpu_budget_burst_usec = 0;
                replay_new(&c, &s, true, NULL, &rp);
                m = find_phase(&s, &rp, 0, TUNER_PHASE_MAINTAIN);
                for (size_t i = 1; i < m; i++) {
                        if (rp.r[i] == 0)
                                continue;
                        assert_true(rp.d[i].set_pages_to_scan || rp.d[i].set_sleep);
                        if (rp.d[i].set_pages_to_scan) {
                                assert_true(rp.d[i].pages_to_scan <= 16384);
                                assert_true(rp.d[i].pages_to_scan >= (int64_t) c.min_pages_to_scan);
                        }
                        if (rp.d[i].set_sleep)
                                assert_true(rp.d[i].sleep_msec > 1);
                        assert_non_null(strstr(rp.d[i].reason, "budget: ksmd at"));
                        if (last_change > 0)
                                assert_true(s.obs[i].now_usec - last_change >= c.hold_off_usec);
                        last_change = s.obs[i].now_usec;
                }
                if (strides[k] == 1)
                        assert_true(last_change > 0);           /* ksmd at 24 % while merging */
                replay_done(&rp);
                seq_done(&s);
        }
}

/* Every mode over every recording, open and closed loop, 4 Hz and 1 Hz: the invariants of
 * check_decision() hold at every step; with the advisor on at the start every mode but advisor and
 * off switches it off before anything else. */
static void test_recorded_every_mode(void **state) {
        static const char *const files[] = {
                "tuner/idle.tsv", "tuner/workload-sprint.tsv", "tuner/churn.tsv", "tuner/workload-maintain.tsv",
        };

        for (size_t f = 0; f < ELEMENTSOF(files); f++)
                for (size_t stride = 1; stride <= 4; stride += 3)
                        for (TunerMode mode = 0; mode < _TUNER_MODE_MAX; mode++)
                                for (unsigned variant = 0; variant < 3; variant++) {
                                        TunerConfig c = config_mode(mode);
                                        Replay rp;
                                        Seq s;

                                        c.ksmtuned.monitor_interval_usec = 2 * USEC_PER_SEC;
                                        seq_load_thin(files[f], stride, &s);
                                        if (variant == 2)
                                                s.obs[0].advisor_mode = 1;
                                        replay_new(&c, &s, /* closed_loop= */ variant > 0, NULL, &rp);
                                        if (variant == 2 && IN_SET(mode, TUNER_MODE_ADAPTIVE, TUNER_MODE_STATIC)) {
                                                assert_true(rp.d[0].set_advisor);
                                                assert_int_equal(rp.d[0].advisor_mode, 0);
                                        }
                                        replay_done(&rp);
                                        seq_done(&s);
                                }
}

static bool decision_equal(const TunerDecision *a, const TunerDecision *b) {
        return a->set_run == b->set_run && a->set_pages_to_scan == b->set_pages_to_scan &&
               a->set_sleep == b->set_sleep && a->set_advisor == b->set_advisor &&
               a->run == b->run && a->pages_to_scan == b->pages_to_scan && a->sleep_msec == b->sleep_msec &&
               a->advisor_mode == b->advisor_mode && a->advisor_target_scan_time == b->advisor_target_scan_time &&
               a->advisor_max_cpu == b->advisor_max_cpu &&
               a->advisor_min_pages_to_scan == b->advisor_min_pages_to_scan &&
               a->advisor_max_pages_to_scan == b->advisor_max_pages_to_scan &&
               a->phase == b->phase && streq(a->reason, b->reason);
}

static void test_deterministic(void **state) {
        static const char *const files[] = {
                "tuner/workload-sprint.tsv", "tuner/churn.tsv", "tuner/workload-maintain.tsv",
        };

        for (size_t f = 0; f < ELEMENTSOF(files); f++)
                for (TunerMode mode = 0; mode < _TUNER_MODE_MAX; mode++) {
                        TunerConfig c = config_mode(mode);
                        Replay a, b;
                        Seq s;

                        c.ksmtuned.monitor_interval_usec = 3 * USEC_PER_SEC;
                        c.cpu_budget_pmy = 2000;
                        seq_load(files[f], &s);
                        s.obs[s.n / 3].new_mergeable_bytes = 100 * MIB;
                        replay_new(&c, &s, true, NULL, &a);
                        replay_new(&c, &s, true, NULL, &b);
                        for (size_t i = 0; i < s.n; i++) {
                                assert_int_equal(a.r[i], b.r[i]);
                                assert_true(decision_equal(&a.d[i], &b.d[i]));
                        }
                        assert_memory_equal(&a.st, &b.st, sizeof(a.st));
                        replay_done(&a);
                        replay_done(&b);
                        seq_done(&s);
                }
}

/* Adaptive, synthetic: exact thresholds */

/* Starts adaptive on an idle host with default config; returns with the sprint applied. */
static void start_sprint(const TunerConfig *c, TunerObservation *o, TunerState *st) {
        TunerDecision d;

        *o = obs_idle();
        *st = (TunerState) {};
        assert_int_equal(step(c, o, st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
}

static void test_adaptive_maintain_after_idle_scans(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o;
        TunerState st;
        TunerDecision d;

        start_sprint(&c, &o, &st);

        /* Scans that merge at least min_yield_pages (64) each keep the sprint going. */
        for (unsigned i = 0; i < 10; i++) {
                advance(&o, USEC_PER_SEC, 1, 64, 2000);
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        }
        advance(&o, USEC_PER_SEC, 3, 3 * 64, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);

        /* A step in which no full scan completed counts for nothing, however little merged. */
        for (unsigned i = 0; i < 5; i++) {
                advance(&o, USEC_PER_SEC, 0, 0, 2000);
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        }

        /* One scan short of yield (63 merges): not yet. */
        advance(&o, USEC_PER_SEC, 1, 63, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_int_equal(st.idle_scan_count, 1);

        /* A yielding scan in between starts the count again. */
        advance(&o, USEC_PER_SEC, 1, 500, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(st.idle_scan_count, 0);

        advance(&o, USEC_PER_SEC, 1, 0, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);

        /* The second unproductive full scan (idle_scans = 2): maintain, with exactly the maintain knobs. */
        advance(&o, USEC_PER_SEC, 1, 10, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        assert_false(d.set_run);                        /* already 1 */
        assert_false(d.set_advisor);
        assert_true(d.set_pages_to_scan && d.pages_to_scan == 100);
        assert_true(d.set_sleep && d.sleep_msec == 500);
        assert_non_null(strstr(d.reason, "2 full scans without yield"));
        assert_int_equal(o.pages_to_scan, 100);
        assert_int_equal(o.sleep_msec, 500);

        /* Maintain holds, whatever the scans yield in crumbs. */
        for (unsigned i = 0; i < 100; i++) {
                advance(&o, USEC_PER_SEC, i % 3, i % 50, 10);
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        }

        /* Several scans in one step, merging less than 64 each: all of them count. */
        start_sprint(&c, &o, &st);
        advance(&o, USEC_PER_SEC, 3, 3 * 64 - 1, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);

        /* Other settings: idle_scans 4, min_yield_pages 1000. */
        c.idle_scans = 4;
        c.min_yield_pages = 1000;
        start_sprint(&c, &o, &st);
        for (unsigned i = 0; i < 3; i++) {
                advance(&o, USEC_PER_SEC, 1, 999, 2000);
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        }
        advance(&o, USEC_PER_SEC, 1, 999, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        assert_non_null(strstr(d.reason, "4 full scans without yield (< 1000 merges each)"));
}

/* Brings a default adaptive tuner into maintain. */
static void reach_maintain(const TunerConfig *c, TunerObservation *o, TunerState *st) {
        TunerDecision d;

        start_sprint(c, o, st);
        for (unsigned i = 0; i < 2; i++) {
                advance(o, USEC_PER_SEC, 1, 0, 100);
                (void) step(c, o, st, &d);
        }
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        assert_int_equal(o->pages_to_scan, (int64_t) c->maintain_pages_to_scan);
}

static void test_adaptive_new_memory_sprints(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o;
        TunerState st;
        TunerDecision d;

        reach_maintain(&c, &o, &st);

        /* Just below the trigger (64 MiB): stays. */
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.new_mergeable_bytes = 64 * MIB - 1;
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);

        /* At the trigger: sprint, and the reason names the amount. */
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.new_mergeable_bytes = 64 * MIB;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_true(d.set_pages_to_scan && d.pages_to_scan == 16384);
        assert_true(d.set_sleep && d.sleep_msec == 1);
        assert_false(d.set_run);
        assert_string_equal(d.reason, "sprint: 64.0 MiB of new mergeable memory");

        /* More new memory during the sprint keeps it going past idle_scans. */
        advance(&o, USEC_PER_SEC, 1, 0, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 0);
        advance(&o, USEC_PER_SEC, 1, 0, 2000);
        o.new_mergeable_bytes = 3ULL << 30;
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_int_equal(st.idle_scan_count, 0);
        advance(&o, USEC_PER_SEC, 1, 0, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        advance(&o, USEC_PER_SEC, 1, 0, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);

        /* A lower trigger from the config. */
        c.sprint_trigger_bytes = 1536 * 1024;
        reach_maintain(&c, &o, &st);
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.new_mergeable_bytes = 1536 * 1024;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_string_equal(d.reason, "sprint: 1.5 MiB of new mergeable memory");
}

static void test_adaptive_erosion_sprints(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o;
        TunerState st;
        TunerDecision d;
        uint64_t peak;

        /* In maintain, pages_sharing first rises a little (its peak counts), then the saving erodes
         * (pages rewritten): a fall of 64 MiB (16384 pages of 4 KiB) from the peak is a sprint. */
        reach_maintain(&c, &o, &st);
        o.pages_sharing += 100000;
        advance(&o, USEC_PER_SEC, 0, 0, 10);
        assert_int_equal(step(&c, &o, &st, &d), 0);
        peak = o.pages_sharing;
        for (unsigned i = 1; i <= 16; i++) {
                advance(&o, USEC_PER_SEC, 0, 0, 10);
                o.pages_sharing = peak - i * 1024 + (i == 16);  /* 16383 below the peak at the end */
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        }
        advance(&o, USEC_PER_SEC, 0, 0, 10);
        o.pages_sharing = peak - 16384;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_string_equal(d.reason, "sprint: the saving eroded by 64.0 MiB since maintain began");

        /* A fall from before maintain began does not count: the peak starts with the phase. */
        reach_maintain(&c, &o, &st);
        for (unsigned i = 0; i < 10; i++) {
                advance(&o, USEC_PER_SEC, 0, 0, 10);
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        }
}

static void test_adaptive_rmap_growth_sprints(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o;
        TunerState st;
        TunerDecision d;

        /* pages_unshared + pages_volatile (new rmap_items) grow by 64 MiB (16384 pages of 4 KiB) in one step. */
        reach_maintain(&c, &o, &st);
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.pages_unshared += 8192;
        o.pages_volatile += 8191;
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.pages_volatile += 1;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_string_equal(d.reason, "sprint: 64.0 MiB of new mergeable memory");

        /* At the maintain pace (100 pages per 500 ms) ksmd adds at most 200 rmap_items a second: the
         * growth adds up over the whole maintain phase, not per step. */
        reach_maintain(&c, &o, &st);
        for (unsigned i = 0; i < 32; i++) {
                advance(&o, USEC_PER_SEC, 0, 0, 10);
                o.pages_volatile += 512;
                assert_int_equal(step(&c, &o, &st, &d), i == 31);
        }
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_string_equal(d.reason, "sprint: 64.0 MiB of new mergeable memory");

        /* ... from the lowest point: rmap_items that went away (merged, unmapped) are not counted twice. */
        o = obs_idle();
        o.pages_unshared = 20000;
        st = (TunerState) {};
        assert_int_equal(step(&c, &o, &st, &d), 1);
        for (unsigned i = 0; i < 2; i++) {
                advance(&o, USEC_PER_SEC, 1, 0, 10);
                (void) step(&c, &o, &st, &d);
        }
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.pages_unshared = 5000;                        /* merged */
        assert_int_equal(step(&c, &o, &st, &d), 0);
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.pages_unshared = 5000 + 16383;
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.pages_unshared = 5000 + 16384;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);

        /* The page size is the observation's: 1024 pages of 64 KiB are 64 MiB. */
        reach_maintain(&c, &o, &st);
        o.page_size = 65536;
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.pages_volatile += 1024;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
}

/* New memory in the very step in which the sprint would end keeps it going (no maintain blip). */
static void test_adaptive_trigger_beats_idle_scans(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o;
        TunerState st;
        TunerDecision d;

        start_sprint(&c, &o, &st);
        advance(&o, USEC_PER_SEC, 1, 0, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 0);
        advance(&o, USEC_PER_SEC, 1, 0, 2000);
        o.new_mergeable_bytes = 128 * MIB;
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_int_equal(st.idle_scan_count, 0);

        /* Same with the new memory seen as rmap_items: the first pass over it only checksums, so the
         * scan that found it yielded nothing. */
        start_sprint(&c, &o, &st);
        advance(&o, USEC_PER_SEC, 1, 0, 2000);
        assert_int_equal(step(&c, &o, &st, &d), 0);
        advance(&o, USEC_PER_SEC, 1, 0, 2000);
        o.pages_volatile += 16384;
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
}

static void test_adaptive_steady_input_no_oscillation(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o;
        TunerState st;
        TunerDecision d;
        unsigned changes = 0;

        /* Merged memory, scans that yield nothing, ksmd at a steady 40 % (between half and all of the budget). */
        start_sprint(&c, &o, &st);
        o.pages_sharing = 100000;
        o.pages_shared = 500;
        o.pages_unshared = 2000;
        for (unsigned i = 0; i < 3600; i++) {
                advance(&o, USEC_PER_SEC, 2, 0, 4000);
                changes += step(&c, &o, &st, &d);
        }
        assert_int_equal(changes, 1);                   /* the one change to maintain */
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);

        /* A sprint at a steady 40 % CPU with yielding scans: no pace change either. */
        start_sprint(&c, &o, &st);
        changes = 0;
        for (unsigned i = 0; i < 3600; i++) {
                advance(&o, USEC_PER_SEC, 1, 1000, 4000);
                changes += step(&c, &o, &st, &d);
        }
        assert_int_equal(changes, 0);
        assert_int_equal(o.pages_to_scan, 16384);

        /* Identical observations (same timestamp, nothing moves): nothing to do after the first. */
        start_sprint(&c, &o, &st);
        for (unsigned i = 0; i < 100; i++)
                assert_int_equal(step(&c, &o, &st, &d), 0);
}

/* One step of ksmd scanning @pages pages at @cpu_pmy of a CPU, with a yielding full scan. */
static void advance_scan(TunerObservation *o, usec_t usec, uint64_t pages, uint64_t cpu_pmy) {
        advance(o, usec, 1, 1000, cpu_pmy);
        o->pages_scanned += pages - 1000;
}

static void test_adaptive_cpu_budget_burst(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o;
        TunerState st;
        TunerDecision d;
        unsigned throttled_at = 0, resumed_at = 0;

        /* ksmd at 100 % of a CPU scanning 300000 pages per CPU-second, budget 50 %, burst 10 s of
         * CPU: the credit (10 s) drains by 0.5 s per second, so the sprint keeps its pace for 20 s. */
        start_sprint(&c, &o, &st);
        for (unsigned i = 1; i <= 19; i++) {
                advance_scan(&o, USEC_PER_SEC, 300000, 10000);
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        }
        assert_int_equal(st.credit_ns, (int64_t) NSEC_PER_SEC / 2);
        assert_false(st.throttled);
        assert_int_equal(st.scan_rate, 300000);

        /* Burst used up: held to the budget at once (no hold-off wait): batches of 50 ms of CPU at
         * the measured rate (15000 pages) and as long a sleep (50 ms): ksmd scans half the time. */
        advance_scan(&o, USEC_PER_SEC, 300000, 10000);
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_true(st.throttled);
        assert_true(d.set_pages_to_scan && d.pages_to_scan == 15000);
        assert_true(d.set_sleep && d.sleep_msec == 50);
        assert_false(d.set_run);
        assert_string_equal(d.reason, "budget: ksmd at 100.00 % of a CPU, budget 50 %, burst used up: "
                                      "pages_to_scan 15000, sleep 50 ms");

        /* At the budget: nothing changes, however long it lasts (no oscillation). */
        for (unsigned i = 0; i < 60; i++) {
                advance_scan(&o, USEC_PER_SEC, 150000, 5000);
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_true(st.throttled);
        }

        /* ksmd well under the budget (little left to scan): the credit comes back at 0.4 s per
         * second, and at half the burst (5 s) the sprint pace returns. */
        for (unsigned i = 1; i <= 30 && !resumed_at; i++) {
                advance_scan(&o, USEC_PER_SEC, 30000, 1000);
                if (step(&c, &o, &st, &d) == 0)
                        continue;
                resumed_at = i;
                assert_true(d.set_pages_to_scan && d.pages_to_scan == 16384);
                assert_true(d.set_sleep && d.sleep_msec == 1);
                assert_non_null(strstr(d.reason, "credit back to"));
        }
        assert_true(resumed_at >= 12 && resumed_at <= 14);
        assert_false(st.throttled);

        /* A larger burst lasts longer: 30 s of CPU at 100 % against 50 % lasts 60 s. */
        c.cpu_budget_burst_usec = 30 * USEC_PER_SEC;
        start_sprint(&c, &o, &st);
        for (unsigned i = 1; i <= 70 && !throttled_at; i++) {
                advance_scan(&o, USEC_PER_SEC, 300000, 10000);
                if (step(&c, &o, &st, &d) > 0)
                        throttled_at = i;
        }
        assert_int_equal(throttled_at, 60);

        /* A budget of 20 %: four times as long a sleep as a batch. */
        c = config_mode(TUNER_MODE_ADAPTIVE);
        c.cpu_budget_pmy = 2000;
        c.cpu_budget_burst_usec = 0;
        start_sprint(&c, &o, &st);
        advance_scan(&o, USEC_PER_SEC, 300000, 10000);
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_true(d.pages_to_scan == 15000 && d.sleep_msec == 200);
        assert_string_equal(d.reason, "budget: ksmd at 100.00 % of a CPU, budget 20 %: pages_to_scan 15000, sleep 200 ms");

        /* A slow scan rate: the batch is never below min_pages_to_scan, and the sleep follows. */
        start_sprint(&c, &o, &st);
        advance_scan(&o, USEC_PER_SEC, 1000, 10000);
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_true(d.pages_to_scan == 100);            /* 1000 * 50 ms = 50 pages, floor 100 */
        assert_true(d.sleep_msec == 400);               /* 100 pages = 100 ms of CPU; x 4 */
}

static void test_adaptive_cpu_budget(void **state) {
        static const int64_t down[] = { 10240, 6400, 4000, 2500, 1562, 976, 610, 381, 238, 148, 100 };
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o;
        TunerState st;
        TunerDecision d;
        usec_t last_change;
        size_t k = 0;

        /* No scan rate (a kernel without pages_scanned, before 6.8) and no burst: ksmd at 80 % of
         * a CPU against a budget of 50 %: pages_to_scan scaled by 5000/8000 after each hold-off. */
        c.cpu_budget_burst_usec = 0;
        start_sprint(&c, &o, &st);
        o.pages_scanned = 0;
        last_change = 0;
        for (unsigned i = 0; i < 40; i++) {
                int r;

                advance(&o, USEC_PER_SEC, 1, 1000, 8000);
                o.pages_scanned = 0;
                r = step(&c, &o, &st, &d);
                assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
                if (r == 0)
                        continue;
                if (last_change > 0)
                        assert_true(o.now_usec - last_change >= c.hold_off_usec);      /* not more often than hold_off */
                last_change = o.now_usec;
                assert_true(k < ELEMENTSOF(down));
                assert_true(d.set_pages_to_scan);
                assert_int_equal(d.pages_to_scan, down[k]);
                assert_false(d.set_sleep);
                assert_false(d.set_run);
                if (k == 0)
                        assert_string_equal(d.reason,
                                            "budget: ksmd at 80.00 % of a CPU, budget 50 %: pages_to_scan 10240, sleep 1 ms");
                k++;
        }
        assert_int_equal(k, ELEMENTSOF(down));          /* down to the floor (min_pages_to_scan) and not below */
        assert_int_equal(o.pages_to_scan, 100);

        /* Between half the budget and the budget plus 10 %: hold. */
        for (unsigned i = 0; i < 20; i++) {
                advance(&o, USEC_PER_SEC, 1, 1000, 5400);
                o.pages_scanned = 0;
                assert_int_equal(step(&c, &o, &st, &d), 0);
                advance(&o, USEC_PER_SEC, 1, 1000, 2600);
                o.pages_scanned = 0;
                assert_int_equal(step(&c, &o, &st, &d), 0);
        }

        /* Below half the budget: doubled after each hold-off, up to sprint_pages_to_scan and never above. */
        {
                static const int64_t up[] = { 200, 400, 800, 1600, 3200, 6400, 12800, 16384 };

                k = 0;
                last_change = 0;
                for (unsigned i = 0; i < 40; i++) {
                        int r;

                        advance(&o, USEC_PER_SEC, 1, 1000, 1000);
                        o.pages_scanned = 0;
                        r = step(&c, &o, &st, &d);
                        if (r == 0)
                                continue;
                        if (last_change > 0)
                                assert_true(o.now_usec - last_change >= c.hold_off_usec);
                        last_change = o.now_usec;
                        assert_true(k < ELEMENTSOF(up));
                        assert_int_equal(d.pages_to_scan, up[k]);
                        assert_non_null(strstr(d.reason, "budget"));
                        k++;
                }
                assert_int_equal(k, ELEMENTSOF(up));
                assert_int_equal(o.pages_to_scan, 16384);
        }

        /* A higher floor and a longer hold-off from the config. */
        c.min_pages_to_scan = 5000;
        c.hold_off_usec = 5 * USEC_PER_SEC;
        start_sprint(&c, &o, &st);
        last_change = 0;
        for (unsigned i = 0; i < 60; i++) {
                advance(&o, USEC_PER_SEC, 1, 1000, 10000);
                o.pages_scanned = 0;
                if (step(&c, &o, &st, &d) == 0)
                        continue;
                if (last_change > 0)
                        assert_true(o.now_usec - last_change >= 5 * USEC_PER_SEC);
                last_change = o.now_usec;
                assert_true(d.pages_to_scan >= 5000);
        }
        assert_int_equal(o.pages_to_scan, 5000);

        /* No CPU figure (ksmd's schedstat unreadable): no budget decision on old numbers. */
        c = config_mode(TUNER_MODE_ADAPTIVE);
        c.cpu_budget_burst_usec = 0;
        start_sprint(&c, &o, &st);
        o.have_cpu = false;
        for (unsigned i = 0; i < 10; i++) {
                advance(&o, USEC_PER_SEC, 1, 1000, 9000);
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        }
        assert_int_equal(o.pages_to_scan, 16384);
}

static void test_adaptive_pressure_gating(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o;
        TunerState st = {};
        TunerDecision d;

        c.pressure_only = true;
        c.mem_available_below_pmy = 1000;               /* 10 % */
        c.psi_some_above_pmy = 500;                     /* 5.00 % */

        /* No pressure, stop_when_unpressured (default): run=0, merged pages stand. */
        o = obs_idle();
        o.run = 1;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);
        assert_true(d.set_run && d.run == 0);
        assert_false(d.set_pages_to_scan);
        assert_false(d.set_sleep);
        assert_string_equal(d.reason, "no memory pressure: stopped, merged pages stand");
        for (unsigned i = 0; i < 10; i++) {
                advance(&o, USEC_PER_SEC, 0, 0, 0);
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_STOPPED);
        }

        /* Exactly at the thresholds is not pressure (below / above are strict). */
        advance(&o, USEC_PER_SEC, 0, 0, 0);
        o.mem_available_kb = o.mem_total_kb / 10;
        while (o.mem_available_kb * 10000 / o.mem_total_kb < 1000)
                o.mem_available_kb++;
        o.psi_some_avg10_pmy = 500;
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);

        /* MemAvailable below 10 %: sprint, and the reason says why. */
        advance(&o, USEC_PER_SEC, 0, 0, 0);
        o.mem_available_kb = o.mem_total_kb / 20;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_true(d.set_run && d.run == 1);
        assert_true(d.set_pages_to_scan && d.pages_to_scan == 16384);
        assert_true(d.set_sleep && d.sleep_msec == 1);
        assert_non_null(strstr(d.reason, "memory pressure"));
        assert_non_null(strstr(d.reason, "MemAvailable 4 % of MemTotal"));

        /* Pressure gone: stopped again. */
        advance(&o, USEC_PER_SEC, 1, 1000, 3000);
        o.mem_available_kb = o.mem_total_kb / 2;
        o.psi_some_avg10_pmy = 0;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);
        assert_true(d.set_run && d.run == 0);

        /* PSI memory some avg10 above 5 %: sprint. */
        advance(&o, USEC_PER_SEC, 0, 0, 0);
        o.psi_some_avg10_pmy = 1234;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_non_null(strstr(d.reason, "PSI memory some avg10 12.34 %"));

        /* Without PSI (have_psi false) its figure is no pressure. */
        advance(&o, USEC_PER_SEC, 0, 0, 0);
        o.have_psi = false;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);

        /* Thresholds at 0 are off. */
        c.psi_some_above_pmy = 0;
        advance(&o, USEC_PER_SEC, 0, 0, 0);
        o.have_psi = true;
        o.psi_some_avg10_pmy = 9999;
        assert_int_equal(step(&c, &o, &st, &d), 0);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);

        /* stop_when_unpressured off: maintain without pressure, sprint when it appears, maintain when it goes. */
        c = config_mode(TUNER_MODE_ADAPTIVE);
        c.pressure_only = true;
        c.psi_some_above_pmy = 1000;
        c.stop_when_unpressured = false;
        o = obs_idle();
        st = (TunerState) {};
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        assert_true(d.set_run && d.run == 1);
        assert_false(d.set_pages_to_scan);              /* 100 already */
        assert_true(d.set_sleep && d.sleep_msec == 500);
        assert_string_equal(d.reason, "no memory pressure: maintain");
        for (unsigned i = 0; i < 5; i++) {
                advance(&o, USEC_PER_SEC, 1, 0, 10);
                assert_int_equal(step(&c, &o, &st, &d), 0);
        }

        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.psi_some_avg10_pmy = 2000;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
        assert_true(d.set_pages_to_scan && d.pages_to_scan == 16384);
        assert_non_null(strstr(d.reason, "memory pressure"));

        /* Under lasting pressure the sprint ends as usual once scans stop yielding, and does not restart. */
        for (unsigned i = 0; i < 2; i++) {
                advance(&o, USEC_PER_SEC, 1, 0, 3000);
                (void) step(&c, &o, &st, &d);
        }
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        for (unsigned i = 0; i < 20; i++) {
                advance(&o, USEC_PER_SEC, 1, 0, 10);
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);
        }

        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.psi_some_avg10_pmy = 0;
        assert_int_equal(step(&c, &o, &st, &d), 0);     /* maintain pace already */
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);

        /* Pressure again after a pressure-free spell: a new sprint. */
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.psi_some_avg10_pmy = 2000;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_SPRINT);
}

static void test_adaptive_advisor_off_first(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o = obs_idle();
        TunerState st = {};
        TunerDecision d;

        o.advisor_mode = 1;
        o.run = 1;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_true(d.set_advisor);
        assert_int_equal(d.advisor_mode, 0);
        assert_true(d.set_pages_to_scan && d.pages_to_scan == 16384);
        assert_int_equal(o.advisor_mode, 0);

        /* Switched on again behind our back: off again, with the pace. */
        advance(&o, USEC_PER_SEC, 1, 1000, 100);
        o.advisor_mode = 1;
        o.pages_to_scan = 2000;                 /* the advisor's choice */
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_true(d.set_advisor && d.advisor_mode == 0);
        assert_true(d.set_pages_to_scan && d.pages_to_scan == 16384);

        /* A kernel without the advisor (-1): nothing to switch off. */
        o = obs_idle();
        o.advisor_mode = -1;
        st = (TunerState) {};
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_false(d.set_advisor);
}

/* Knobs set behind the tuner's back are put back, and the reason says so. */
static void test_adaptive_restores_knobs(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o;
        TunerState st;
        TunerDecision d;

        reach_maintain(&c, &o, &st);
        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.sleep_msec = 20;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_true(d.set_sleep && d.sleep_msec == 500);
        assert_int_equal(d.phase, TUNER_PHASE_MAINTAIN);

        advance(&o, USEC_PER_SEC, 1, 0, 10);
        o.run = 0;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_true(d.set_run && d.run == 1);
}

/* ksmtuned: the 2009 script's arithmetic */

/* Steps ksmtuned mode at @t (absolute usec) and returns the result. */
static int step_at(const TunerConfig *c, TunerObservation *o, TunerState *st, TunerDecision *d, usec_t t) {
        o->now_usec = t;
        return step(c, o, st, d);
}

static void test_ksmtuned_first_adjustment_after_interval(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_KSMTUNED);
        TunerObservation o = obs_idle();
        TunerState st = {};
        TunerDecision d;
        usec_t t0 = o.now_usec;

        o.run = 1;
        o.advisor_mode = 1;
        assert_int_equal(step_at(&c, &o, &st, &d, t0), 0);
        assert_int_equal(d.phase, TUNER_PHASE_START);
        assert_string_equal(d.reason, "ksmtuned: first adjustment after 60 s");

        /* The script sleeps a whole interval first: nothing at all before it, not even the advisor. */
        for (usec_t t = t0 + USEC_PER_SEC; t < t0 + 60 * USEC_PER_SEC; t += USEC_PER_SEC) {
                assert_int_equal(step_at(&c, &o, &st, &d, t), 0);
                assert_int_equal(d.phase, TUNER_PHASE_START);
        }

        /* total 24608712 kB (this machine), thres = max(24608712 * 20 / 100, 2048) = 4921742;
         * free = 24329176 + 1428 + 130196 = 24460800 > thres and committed 0 + thres < total: stop. */
        assert_int_equal(step_at(&c, &o, &st, &d, t0 + 60 * USEC_PER_SEC), 1);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);
        assert_true(d.set_run && d.run == 0);
        assert_true(d.set_advisor && d.advisor_mode == 0);
        assert_false(d.set_pages_to_scan);
        assert_false(d.set_sleep);
        assert_string_equal(d.reason, "ksmtuned: committed 0 + thres 4921742 < total 24608712 kB "
                                      "and free 24460800 > thres: stop");

        /* Every interval from the last adjustment on; run is 0 already, so nothing to write. */
        assert_int_equal(step_at(&c, &o, &st, &d, t0 + 119 * USEC_PER_SEC), 0);
        assert_int_equal(st.next_ksmtuned_usec, t0 + 120 * USEC_PER_SEC);
        assert_int_equal(step_at(&c, &o, &st, &d, t0 + 121 * USEC_PER_SEC), 0);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);
        assert_int_equal(st.next_ksmtuned_usec, t0 + 181 * USEC_PER_SEC);
        assert_non_null(strstr(d.reason, "stop"));

        /* KSM_MONITOR_INTERVAL from the config. */
        c.ksmtuned.monitor_interval_usec = 5 * USEC_PER_SEC;
        o = obs_idle();
        st = (TunerState) {};
        assert_int_equal(step_at(&c, &o, &st, &d, t0), 0);
        assert_string_equal(d.reason, "ksmtuned: first adjustment after 5 s");
        assert_int_equal(st.next_ksmtuned_usec, t0 + 5 * USEC_PER_SEC);
}

static void test_ksmtuned_boost_decay(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_KSMTUNED);
        TunerObservation o = obs_idle();
        TunerState st = {};
        TunerDecision d;
        usec_t t = o.now_usec;
        int64_t expect;

        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);

        /* free < thres (4921742): boost from npages 0: 300, 600, 900, 1200, then clamped to
         * KSM_NPAGES_MAX 1250. */
        o.mem_free_kb = 4000000;
        o.buffers_kb = 500000;
        o.cached_kb = 421741;                   /* free = 4921741 = thres - 1 */
        t += 60 * USEC_PER_SEC;
        assert_int_equal(step_at(&c, &o, &st, &d, t), 1);
        assert_int_equal(d.phase, TUNER_PHASE_RUNNING);
        assert_true(d.set_pages_to_scan && d.pages_to_scan == 300);
        assert_true(d.set_sleep && d.sleep_msec == 10);         /* max(10 * 16 Mi / 24608712, 10) = max(6, 10) */
        assert_true(d.set_run && d.run == 1);
        assert_string_equal(d.reason, "ksmtuned: free 4921741 < thres 4921742 kB: boost, npages 300, sleep 10 ms");
        for (expect = 600; expect <= 1200; expect += 300) {
                t += 60 * USEC_PER_SEC;
                assert_int_equal(step_at(&c, &o, &st, &d, t), 1);
                assert_true(d.set_pages_to_scan && d.pages_to_scan == expect);
                assert_false(d.set_sleep);
                assert_false(d.set_run);
        }
        t += 60 * USEC_PER_SEC;
        assert_int_equal(step_at(&c, &o, &st, &d, t), 1);
        assert_int_equal(d.pages_to_scan, 1250);
        t += 60 * USEC_PER_SEC;
        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);      /* 1250 again: written only when it differs */
        assert_int_equal(st.npages, 1250);
        assert_int_equal(d.phase, TUNER_PHASE_RUNNING);

        /* free == thres is not below it: decay by 50 (committed + thres = total, so no stop). */
        o.cached_kb += 1;
        o.committed_kb = 24608712 - 4921742;
        for (expect = 1200; expect >= 100; expect -= 50) {
                t += 60 * USEC_PER_SEC;
                assert_int_equal(step_at(&c, &o, &st, &d, t), 1);
                assert_int_equal(d.pages_to_scan, expect);
                assert_non_null(strstr(d.reason, "free 4921742 >= thres 4921742 kB: decay"));
        }
        t += 60 * USEC_PER_SEC;
        assert_int_equal(step_at(&c, &o, &st, &d, t), 1);
        assert_int_equal(d.pages_to_scan, 64);                 /* 100 - 50 clamped to KSM_NPAGES_MIN */
        t += 60 * USEC_PER_SEC;
        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);

        /* committed one kB less: committed + thres < total and free > thres? free == thres: still running. */
        o.committed_kb -= 1;
        t += 60 * USEC_PER_SEC;
        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);
        assert_int_equal(d.phase, TUNER_PHASE_RUNNING);
        /* ... and with one kB more free: stop. */
        o.cached_kb += 1;
        t += 60 * USEC_PER_SEC;
        assert_int_equal(step_at(&c, &o, &st, &d, t), 1);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);
        assert_true(d.set_run && d.run == 0);

        /* The first decision a decay: 0 - 50 clamped to 64. */
        o = obs_idle();
        o.committed_kb = 24608712;
        st = (TunerState) {};
        t = o.now_usec;
        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);
        assert_int_equal(step_at(&c, &o, &st, &d, t + 60 * USEC_PER_SEC), 1);
        assert_int_equal(d.pages_to_scan, 64);
        assert_int_equal(d.sleep_msec, 10);
        assert_true(d.set_run && d.run == 1);
}

static void test_ksmtuned_sleep_and_thres(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_KSMTUNED);
        TunerObservation o = obs_idle();
        TunerState st = {};
        TunerDecision d;
        usec_t t = o.now_usec;

        /* A 2 GiB host: sleep = 10 * 16777216 / 2097152 = 80; thres = 2097152 * 20 / 100 = 419430. */
        o.mem_total_kb = 2097152;
        o.mem_free_kb = 419429;
        o.buffers_kb = o.cached_kb = 0;
        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);
        assert_int_equal(step_at(&c, &o, &st, &d, t + 60 * USEC_PER_SEC), 1);
        assert_int_equal(d.sleep_msec, 80);
        assert_int_equal(d.pages_to_scan, 300);
        assert_string_equal(d.reason, "ksmtuned: free 419429 < thres 419430 kB: boost, npages 300, sleep 80 ms");

        /* A tiny host: total * 20 % = 1600 < KSM_THRES_CONST 2048, so thres is 2048;
         * sleep 10 * 16 Mi / 8000 = 20971. */
        o = obs_idle();
        o.mem_total_kb = 8000;
        o.mem_free_kb = 2047;
        o.buffers_kb = o.cached_kb = 0;
        st = (TunerState) {};
        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);
        assert_int_equal(step_at(&c, &o, &st, &d, t + 60 * USEC_PER_SEC), 1);
        assert_int_equal(d.sleep_msec, 20971);
        assert_non_null(strstr(d.reason, "free 2047 < thres 2048 kB: boost"));
        o.mem_free_kb = 2049;
        assert_int_equal(step_at(&c, &o, &st, &d, t + 120 * USEC_PER_SEC), 1);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);

        /* A big host: 256 GiB gives 0 ms, which the script raises to 10. */
        o = obs_idle();
        o.mem_total_kb = 268435456;
        o.mem_free_kb = 1000;
        st = (TunerState) {};
        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);
        assert_int_equal(step_at(&c, &o, &st, &d, t + 60 * USEC_PER_SEC), 1);
        assert_int_equal(d.sleep_msec, 10);

        /* Other KSM_SLEEP_MSEC, KSM_THRES_COEF, KSM_NPAGES_*: 100 * 16 Mi / 24608712 = 68 ms;
         * thres 80 % = 19686969. */
        c.ksmtuned.sleep_msec = 100;
        c.ksmtuned.thres_coef = 80;
        c.ksmtuned.npages_boost = 1000;
        c.ksmtuned.npages_max = 2500;
        o = obs_idle();                         /* free 24460800 > thres, committed 0 + thres < total: stop */
        st = (TunerState) {};
        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);
        assert_int_equal(step_at(&c, &o, &st, &d, t + 60 * USEC_PER_SEC), 0);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);
        o.mem_free_kb = 19000000;
        o.buffers_kb = o.cached_kb = 0;
        for (int64_t expect = 1000; expect <= 3000; expect += 1000) {
                t += 60 * USEC_PER_SEC;
                assert_int_equal(step_at(&c, &o, &st, &d, t + 60 * USEC_PER_SEC), 1);
                assert_int_equal(d.pages_to_scan, MIN(expect, 2500));
                assert_non_null(strstr(d.reason, "thres 19686969 kB: boost"));
        }
        assert_int_equal(o.sleep_msec, 68);

        /* KSM_SLEEP_MSEC at the parser's bound on a 2 GiB host: within the kernel's unsigned int. */
        c = config_mode(TUNER_MODE_KSMTUNED);
        c.ksmtuned.sleep_msec = 1000000000;
        o = obs_idle();
        o.mem_total_kb = 2097152;
        o.mem_free_kb = 1000;
        o.buffers_kb = o.cached_kb = 0;
        st = (TunerState) {};
        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);
        assert_int_equal(step_at(&c, &o, &st, &d, t + 60 * USEC_PER_SEC), 1);
        assert_int_equal(d.sleep_msec, KSM_KNOB_MAX);

        /* No MemTotal (meminfo unreadable): no decision. */
        o = obs_idle();
        o.mem_total_kb = 0;
        st = (TunerState) {};
        assert_int_equal(step_at(&c, &o, &st, &d, t), 0);
        assert_int_equal(step_at(&c, &o, &st, &d, t + 60 * USEC_PER_SEC), 0);
}

/* ksmtuned.conf */

static const char ksmtuned_conf_real[] =
        "# Configuration file for ksmtuned.\n"
        "\n"
        "# How long ksmtuned should sleep between tuning adjustments\n"
        "KSM_MONITOR_INTERVAL=30\n"
        "\n"
        "# Millisecond sleep between ksm scans for 16Gb server.\n"
        "# Smaller servers sleep more, bigger sleep less.\n"
        "KSM_SLEEP_MSEC=\"20\"\n"
        "\n"
        "export KSM_NPAGES_BOOST=600\n"
        "KSM_NPAGES_DECAY='-100'\n"
        "  KSM_NPAGES_MIN=128   # raised from 64\n"
        "\tKSM_NPAGES_MAX=2500\r\n"
        "\n"
        "KSM_THRES_COEF=30\n"
        "# KSM_THRES_CONST=2048\n"
        "\n"
        "# uncomment the following if you want ksmtuned debug info\n"
        "\n"
        "LOGFILE=/var/log/ksmtuned\n"
        "DEBUG=1\n"
        "KSM_SOMETHING_NEW=yes\n"
        "KSM_THRES_CONST = 4096\n";     /* not a shell assignment (spaces): the script ignores it too */

static void test_ksmtuned_conf_parse(void **state) {
        KsmtunedSettings k, def;
        unsigned line = 4711;
        char key[64] = "untouched";

        ksmtuned_settings_init(&def);
        assert_int_equal(def.monitor_interval_usec, 60 * USEC_PER_SEC);
        assert_int_equal(def.sleep_msec, 10);
        assert_int_equal(def.npages_boost, 300);
        assert_int_equal(def.npages_decay, -50);
        assert_int_equal(def.npages_min, 64);
        assert_int_equal(def.npages_max, 1250);
        assert_int_equal(def.thres_coef, 20);
        assert_int_equal(def.thres_const_kb, 2048);

        k = def;
        assert_int_equal(ksmtuned_conf_parse(ksmtuned_conf_real, &k, &line, key, sizeof(key)), 0);
        assert_int_equal(k.monitor_interval_usec, 30 * USEC_PER_SEC);
        assert_int_equal(k.sleep_msec, 20);
        assert_int_equal(k.npages_boost, 600);
        assert_int_equal(k.npages_decay, -100);
        assert_int_equal(k.npages_min, 128);
        assert_int_equal(k.npages_max, 2500);
        assert_int_equal(k.thres_coef, 30);
        assert_int_equal(k.thres_const_kb, 2048);
        assert_int_equal(line, 4711);                   /* set only on failure */
        assert_string_equal(key, "untouched");

        /* The shipped file has everything commented out: the defaults.  Empty text too; later lines win. */
        k = def;
        assert_int_equal(ksmtuned_conf_parse("# KSM_MONITOR_INTERVAL=60\n# KSM_SLEEP_MSEC=10\n",
                                             &k, NULL, NULL, 0), 0);
        assert_memory_equal(&k, &def, sizeof(k));
        assert_int_equal(ksmtuned_conf_parse("", &k, NULL, NULL, 0), 0);
        assert_memory_equal(&k, &def, sizeof(k));
        assert_int_equal(ksmtuned_conf_parse("KSM_NPAGES_MAX=100\nKSM_NPAGES_MAX=200", &k, NULL, NULL, 0), 0);
        assert_int_equal(k.npages_max, 200);
        assert_int_equal(ksmtuned_conf_parse("KSM_NPAGES_MIN=0\nKSM_NPAGES_MAX=0\nKSM_NPAGES_BOOST=0\n",
                                             &k, NULL, NULL, 0), 0);
        assert_int_equal(k.npages_max, 0);
}

static void test_ksmtuned_conf_invalid(void **state) {
        static const struct {
                const char *text;
                unsigned line;
                const char *key;
        } cases[] = {
                { "KSM_NPAGES_BOOST=abc\n", 1, "KSM_NPAGES_BOOST" },
                { "# ksmtuned\n\nKSM_MONITOR_INTERVAL=0\n", 3, "KSM_MONITOR_INTERVAL" },
                { "KSM_MONITOR_INTERVAL=-60\n", 1, "KSM_MONITOR_INTERVAL" },
                { "KSM_MONITOR_INTERVAL=86401\n", 1, "KSM_MONITOR_INTERVAL" },
                { "KSM_MONITOR_INTERVAL=1m\n", 1, "KSM_MONITOR_INTERVAL" },
                { "DEBUG=1\nKSM_SLEEP_MSEC=10ms\n", 2, "KSM_SLEEP_MSEC" },
                { "KSM_SLEEP_MSEC=-1\n", 1, "KSM_SLEEP_MSEC" },
                { "KSM_SLEEP_MSEC=1 0\n", 1, "KSM_SLEEP_MSEC" },
                { "export KSM_NPAGES_MAX=\n", 1, "KSM_NPAGES_MAX" },
                { "KSM_NPAGES_DECAY=\"-50\n", 1, "KSM_NPAGES_DECAY" },
                { "KSM_NPAGES_DECAY=--50\n", 1, "KSM_NPAGES_DECAY" },
                { "KSM_NPAGES_BOOST=+300\n", 1, "KSM_NPAGES_BOOST" },
                { "KSM_NPAGES_BOOST=0x100\n", 1, "KSM_NPAGES_BOOST" },
                { "KSM_NPAGES_BOOST=1000000001\n", 1, "KSM_NPAGES_BOOST" },
                { "KSM_NPAGES_BOOST=99999999999999999999\n", 1, "KSM_NPAGES_BOOST" },
                { "KSM_NPAGES_MIN=-1\n", 1, "KSM_NPAGES_MIN" },
                { "KSM_THRES_COEF=1e3\n", 1, "KSM_THRES_COEF" },
                { "KSM_THRES_COEF=-20\n", 1, "KSM_THRES_COEF" },
                { "KSM_THRES_CONST=2048kB\n", 1, "KSM_THRES_CONST" },
                /* min > max: the later of the two assignments is blamed. */
                { "KSM_NPAGES_MIN=2000\n", 1, "KSM_NPAGES_MIN" },
                { "\n\nKSM_NPAGES_MAX=10\n", 3, "KSM_NPAGES_MAX" },
                { "KSM_NPAGES_MAX=10\nKSM_NPAGES_MIN=20\n", 2, "KSM_NPAGES_MIN" },
                { "KSM_NPAGES_MIN=500\n# a comment\nKSM_NPAGES_MAX=400\n", 3, "KSM_NPAGES_MAX" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                KsmtunedSettings k, def;
                unsigned line = 4711;
                char key[64] = "";

                ksmtuned_settings_init(&def);
                k = def;
                if (ksmtuned_conf_parse(cases[i].text, &k, &line, key, sizeof(key)) != -EINVAL)
                        fail_msg("case %zu '%s' was accepted", i, cases[i].text);
                if (line != cases[i].line || !streq(key, cases[i].key))
                        fail_msg("case %zu '%s': line %u key '%s', expected line %u key '%s'",
                                 i, cases[i].text, line, key, cases[i].line, cases[i].key);
                assert_memory_equal(&k, &def, sizeof(k));       /* untouched on failure */
                /* Without the reporting pointers, and with a small key buffer. */
                assert_int_equal(ksmtuned_conf_parse(cases[i].text, &k, NULL, NULL, 0), -EINVAL);
                assert_int_equal(ksmtuned_conf_parse(cases[i].text, &k, &line, key, 5), -EINVAL);
                assert_int_equal(strlen(key), 4);
        }
}

/* advisor */

static void test_advisor(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADVISOR);
        TunerObservation o = obs_idle();
        TunerState st = {};
        TunerDecision d;

        /* A kernel without the advisor (before 6.8): error, and not a single write. */
        o.advisor_mode = -1;
        for (unsigned i = 0; i < 5; i++) {
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_ERROR);
                assert_non_null(strstr(d.reason, "Linux 6.8"));
                advance(&o, USEC_PER_SEC, 1, 0, 10);
        }
        assert_int_equal(st.phase, TUNER_PHASE_ERROR);

        /* With the advisor: its knobs with the configured values, and run=1; pages_to_scan is the advisor's. */
        o = obs_idle();
        st = (TunerState) {};
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_RUNNING);
        assert_true(d.set_advisor);
        assert_int_equal(d.advisor_mode, 1);
        assert_int_equal(d.advisor_target_scan_time, 200);
        assert_int_equal(d.advisor_max_cpu, 70);
        assert_int_equal(d.advisor_min_pages_to_scan, 500);
        assert_int_equal(d.advisor_max_pages_to_scan, 30000);
        assert_true(d.set_run && d.run == 1);
        assert_false(d.set_pages_to_scan);
        assert_false(d.set_sleep);
        assert_string_equal(d.reason, "advisor: target scan time 200 s, CPU 70 % at most");

        /* Running: the advisor moves pages_to_scan, the tuner leaves it alone. */
        for (unsigned i = 0; i < 10; i++) {
                advance(&o, USEC_PER_SEC, 1, 100, 3000);
                o.pages_to_scan = 500 + i * 1000;
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_RUNNING);
        }

        /* Switched off behind our back: on again; stopped behind our back: run again. */
        o.advisor_mode = 0;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_true(d.set_advisor && d.advisor_mode == 1);
        assert_false(d.set_run);
        o.run = 0;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_false(d.set_advisor);
        assert_true(d.set_run && d.run == 1);

        /* Other values from the config; the advisor already on at start still gets them. */
        c.advisor_target_scan_time_sec = 60;
        c.advisor_max_cpu = 30;
        c.advisor_min_pages_to_scan = 100;
        c.advisor_max_pages_to_scan = 5000;
        o = obs_idle();
        o.advisor_mode = 1;
        o.run = 1;
        st = (TunerState) {};
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_true(d.set_advisor);
        assert_int_equal(d.advisor_mode, 1);
        assert_int_equal(d.advisor_target_scan_time, 60);
        assert_int_equal(d.advisor_max_cpu, 30);
        assert_int_equal(d.advisor_min_pages_to_scan, 100);
        assert_int_equal(d.advisor_max_pages_to_scan, 5000);
        assert_false(d.set_run);
        assert_int_equal(step(&c, &o, &st, &d), 0);
}

/* static and off */

static void test_static(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_STATIC);
        TunerObservation o = obs_idle();
        TunerState st = {};
        TunerDecision d;

        /* Defaults 1 / 100 / 20 on a host at the kernel defaults with run 0: only run is written. */
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_RUNNING);
        assert_true(d.set_run && d.run == 1);
        assert_false(d.set_pages_to_scan);
        assert_false(d.set_sleep);
        assert_string_equal(d.reason, "static values from the config");
        for (unsigned i = 0; i < 10; i++) {
                advance(&o, USEC_PER_SEC, 1, 1000, 9000);
                assert_int_equal(step(&c, &o, &st, &d), 0);
        }

        c.static_pages_to_scan = 5000;
        c.static_sleep_msec = 50;
        o.advisor_mode = 1;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_true(d.set_advisor && d.advisor_mode == 0);
        assert_true(d.set_pages_to_scan && d.pages_to_scan == 5000);
        assert_true(d.set_sleep && d.sleep_msec == 50);
        assert_false(d.set_run);

        /* run 0: stopped, the pace left as it is. */
        c.static_run = 0;
        assert_int_equal(step(&c, &o, &st, &d), 1);
        assert_int_equal(d.phase, TUNER_PHASE_STOPPED);
        assert_true(d.set_run && d.run == 0);
        assert_false(d.set_pages_to_scan);
        o.pages_to_scan = 77;
        assert_int_equal(step(&c, &o, &st, &d), 0);
}

static void test_off(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_OFF);
        TunerObservation o = obs_idle();
        TunerState st = {};
        TunerDecision d;

        o.advisor_mode = 1;
        for (unsigned i = 0; i < 100; i++) {
                advance(&o, USEC_PER_SEC, i % 2, 10000, 9000);
                o.new_mergeable_bytes = 1ULL << 30;
                o.mem_available_kb = 0;
                assert_int_equal(step(&c, &o, &st, &d), 0);
                assert_int_equal(d.phase, TUNER_PHASE_START);
        }
}

/* Names, defaults, invalid arguments */

static void test_names(void **state) {
        static const char *const modes[] = { "adaptive", "ksmtuned", "advisor", "static", "off" };
        static const char *const phases[] = { "start", "sprint", "maintain", "stopped", "running", "error" };

        assert_int_equal(ELEMENTSOF(modes), _TUNER_MODE_MAX);
        for (TunerMode m = 0; m < _TUNER_MODE_MAX; m++) {
                assert_string_equal(tuner_mode_to_string(m), modes[m]);
                assert_int_equal(tuner_mode_from_string(modes[m]), m);
        }
        assert_null(tuner_mode_to_string(_TUNER_MODE_MAX));
        assert_null(tuner_mode_to_string(_TUNER_MODE_INVALID));
        assert_null(tuner_mode_to_string(-1));
        assert_int_equal(tuner_mode_from_string(NULL), -EINVAL);
        assert_int_equal(tuner_mode_from_string(""), -EINVAL);
        assert_int_equal(tuner_mode_from_string("Adaptive"), -EINVAL);
        assert_int_equal(tuner_mode_from_string("adaptive "), -EINVAL);
        assert_int_equal(tuner_mode_from_string("advisor2"), -EINVAL);

        assert_int_equal(ELEMENTSOF(phases), _TUNER_PHASE_MAX);
        for (TunerPhase p = 0; p < _TUNER_PHASE_MAX; p++)
                assert_string_equal(tuner_phase_to_string(p), phases[p]);
        assert_null(tuner_phase_to_string(_TUNER_PHASE_MAX));
        assert_null(tuner_phase_to_string(-1));
}

static void test_config_defaults(void **state) {
        TunerConfig c;

        memset(&c, 0xaa, sizeof(c));
        tuner_config_init(&c);
        assert_int_equal(c.mode, TUNER_MODE_ADAPTIVE);
        assert_int_equal(c.sprint_pages_to_scan, 16384);
        assert_int_equal(c.sprint_sleep_msec, 1);
        assert_int_equal(c.maintain_pages_to_scan, 100);
        assert_int_equal(c.maintain_sleep_msec, 500);
        assert_int_equal(c.min_pages_to_scan, 100);
        assert_int_equal(c.cpu_budget_pmy, 5000);
        assert_int_equal(c.sprint_trigger_bytes, 64 * MIB);
        assert_int_equal(c.idle_scans, 2);
        assert_int_equal(c.min_yield_pages, 64);
        assert_false(c.pressure_only);
        assert_int_equal(c.mem_available_below_pmy, 0);
        assert_int_equal(c.psi_some_above_pmy, 0);
        assert_true(c.stop_when_unpressured);
        assert_int_equal(c.hold_off_usec, 2 * USEC_PER_SEC);
        assert_int_equal(c.advisor_target_scan_time_sec, 200);
        assert_int_equal(c.advisor_max_cpu, 70);
        assert_int_equal(c.advisor_min_pages_to_scan, 500);
        assert_int_equal(c.advisor_max_pages_to_scan, 30000);
        assert_true(c.static_run == 1);
        assert_int_equal(c.static_pages_to_scan, 100);
        assert_int_equal(c.static_sleep_msec, 20);
        assert_int_equal(c.ksmtuned.monitor_interval_usec, 60 * USEC_PER_SEC);
        assert_true(c.ksmtuned.npages_decay == -50);
}

static void test_invalid_arguments(void **state) {
        TunerConfig c = config_mode(TUNER_MODE_ADAPTIVE);
        TunerObservation o = obs_idle();
        TunerState st = {}, st0 = {};
        TunerDecision d;

        assert_int_equal(tuner_step(NULL, &o, &st, &d), -EINVAL);
        assert_int_equal(tuner_step(&c, NULL, &st, &d), -EINVAL);
        assert_int_equal(tuner_step(&c, &o, NULL, &d), -EINVAL);
        assert_int_equal(tuner_step(&c, &o, &st, NULL), -EINVAL);
        assert_memory_equal(&st, &st0, sizeof(st));

        c.mode = _TUNER_MODE_MAX;
        assert_int_equal(tuner_step(&c, &o, &st, &d), -EINVAL);
        c.mode = _TUNER_MODE_INVALID;
        assert_int_equal(tuner_step(&c, &o, &st, &d), -EINVAL);
        c.mode = (TunerMode) 4711;
        assert_int_equal(tuner_step(&c, &o, &st, &d), -EINVAL);
        assert_int_equal(st.phase, TUNER_PHASE_START);
}

/* The knobs owned in every mode: use_zero_pages and smart_scan directly; merge_across_nodes and
 * max_page_sharing only with no shared pages, unmerging first when allowed. */
static void test_max_page_sharing_bounds(void **state) {
        TunerConfig c;
        TunerObservation o = {
                .now_usec = 1000000, .page_size = 4096, .have_counters = true, .run = 1, .pages_to_scan = 100,
                .sleep_msec = 20, .advisor_mode = 0, .use_zero_pages = -1, .smart_scan = -1, .max_page_sharing = 256,
                .merge_across_nodes = -1, .pages_shared = 500, .pages_sharing = 90000, .mem_total_kb = 1 << 24,
                .stable_node_chains = 10, .stable_node_dups = 500,
        };
        TunerState st = {};
        TunerDecision d;

        tuner_config_init(&c);
        assert_int_equal(c.max_page_sharing_max, -1);           /* default: never adapt */
        assert_int_equal(c.fragmentation_pages, 1024);
        c.mode = TUNER_MODE_STATIC;
        c.static_pages_to_scan = 100;
        c.static_sleep_msec = 20;

        /* Without bounds, fragmentation changes nothing. */
        o.stable_node_dups = 100000;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 0);
        assert_int_equal(st.max_page_sharing, 0);

        /* With bounds, below the threshold (490 extra pages < 1024): nothing. */
        c.max_page_sharing_max = 2048;
        o.stable_node_dups = 500;
        o.now_usec += USEC_PER_SEC;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 0);
        assert_int_equal(st.max_page_sharing, 0);

        /* 1990 extra pages: raised to the bound, but with pages shared it can only be said. */
        o.stable_node_dups = 2000;
        o.now_usec += USEC_PER_SEC;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 0);
        assert_int_equal(st.max_page_sharing, 2048);
        assert_false(d.set_max_page_sharing);
        assert_non_null(strstr(d.reason, "fragmentation: 1990 extra KSM pages in 10 stable-node chains: "
                                         "max_page_sharing 256 -> 2048"));
        assert_non_null(strstr(d.reason, "max_page_sharing differs"));

        /* Once nothing is shared (everything unmerged or exited): written. */
        o.pages_shared = o.pages_sharing = 0;
        o.stable_node_chains = o.stable_node_dups = 0;
        o.now_usec += USEC_PER_SEC;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 1);
        assert_true(d.set_max_page_sharing && d.max_page_sharing == 2048);
        o.max_page_sharing = 2048;

        /* At the bound: never beyond it, whatever the fragmentation. */
        o.pages_shared = 500;
        o.stable_node_chains = 10;
        o.stable_node_dups = 100000;
        o.now_usec += USEC_PER_SEC;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 0);
        assert_int_equal(st.max_page_sharing, 2048);

        /* With unmerge_to_change: unmerge everything first (run=2), then the knob. */
        st = (TunerState) {};
        o.max_page_sharing = 256;
        c.unmerge_to_change = true;
        o.now_usec += USEC_PER_SEC;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 1);
        assert_true(d.set_run && d.run == 2);
        assert_false(d.set_max_page_sharing);

        /* The config's own value is the floor it starts from; a kernel without the counters: nothing. */
        st = (TunerState) {};
        c.unmerge_to_change = false;
        c.max_page_sharing = 512;
        o.max_page_sharing = 512;
        o.stable_node_chains = o.stable_node_dups = -1;
        o.now_usec += USEC_PER_SEC;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 0);
        assert_int_equal(st.max_page_sharing, 0);
}

static void test_owned_knobs(void **state) {
        TunerConfig c;
        TunerObservation o = {
                .now_usec = 1000000, .page_size = 4096, .have_counters = true, .run = 1, .pages_to_scan = 100,
                .sleep_msec = 20, .advisor_mode = 0, .use_zero_pages = 0, .smart_scan = 1, .max_page_sharing = 256,
                .merge_across_nodes = 1, .pages_shared = 500, .pages_sharing = 9000, .mem_total_kb = 1 << 24,
        };
        TunerState st = {};
        TunerDecision d;

        tuner_config_init(&c);
        assert_true(c.use_zero_pages == -1 && c.smart_scan == -1 && c.max_page_sharing == -1 &&
                    c.merge_across_nodes == -1 && !c.unmerge_to_change);     /* default: leave alone */
        c.mode = TUNER_MODE_STATIC;
        c.use_zero_pages = 1;
        c.smart_scan = 1;                               /* already so: not written */
        c.merge_across_nodes = 0;

        /* pages shared, unmerging not allowed: the easy knob only, and the reason says why not */
        assert_int_equal(tuner_step(&c, &o, &st, &d), 1);
        assert_true(d.set_use_zero_pages && d.use_zero_pages == 1);
        assert_false(d.set_smart_scan);
        assert_false(d.set_merge_across_nodes);
        assert_false(d.set_run);
        assert_non_null(strstr(d.reason, "merge_across_nodes differs"));

        /* allowed: unmerge everything first (run=2), nothing else from the mode in that step */
        c.unmerge_to_change = true;
        o.use_zero_pages = 1;
        o.now_usec += 1000000;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 1);
        assert_true(d.set_run && d.run == 2);
        assert_false(d.set_merge_across_nodes || d.set_pages_to_scan || d.set_sleep);
        assert_non_null(strstr(d.reason, "run=2"));

        /* once nothing is shared: the knob, then the mode's own run value */
        o.run = 2;
        o.pages_shared = o.pages_sharing = 0;
        o.now_usec += 1000000;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 1);
        assert_true(d.set_merge_across_nodes && d.merge_across_nodes == 0);
        assert_true(d.set_run && d.run == 1);

        /* a kernel without the knob (-1) is left alone; and mode off touches nothing at all */
        o.merge_across_nodes = -1;
        o.run = 1;
        o.now_usec += 1000000;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 0);
        c.mode = TUNER_MODE_OFF;
        o.use_zero_pages = 0;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 0);

        /* max_page_sharing follows the same rule */
        c.mode = TUNER_MODE_STATIC;
        c.use_zero_pages = -1;
        c.merge_across_nodes = -1;
        c.max_page_sharing = 512;
        c.unmerge_to_change = false;
        o.pages_shared = 10;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 0);
        assert_non_null(strstr(d.reason, "max_page_sharing differs"));
        o.pages_shared = 0;
        assert_int_equal(tuner_step(&c, &o, &st, &d), 1);
        assert_true(d.set_max_page_sharing && d.max_page_sharing == 512);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_owned_knobs),
                cmocka_unit_test(test_max_page_sharing_bounds),
                cmocka_unit_test(test_adaptive_start_sprints),
                cmocka_unit_test(test_recorded_idle),
                cmocka_unit_test(test_recorded_workload_sprint),
                cmocka_unit_test(test_recorded_workload_maintain),
                cmocka_unit_test(test_recorded_churn),
                cmocka_unit_test(test_recorded_every_mode),
                cmocka_unit_test(test_deterministic),
                cmocka_unit_test(test_adaptive_maintain_after_idle_scans),
                cmocka_unit_test(test_adaptive_new_memory_sprints),
                cmocka_unit_test(test_adaptive_rmap_growth_sprints),
                cmocka_unit_test(test_adaptive_erosion_sprints),
                cmocka_unit_test(test_adaptive_trigger_beats_idle_scans),
                cmocka_unit_test(test_adaptive_steady_input_no_oscillation),
                cmocka_unit_test(test_adaptive_cpu_budget),
                cmocka_unit_test(test_adaptive_cpu_budget_burst),
                cmocka_unit_test(test_adaptive_pressure_gating),
                cmocka_unit_test(test_adaptive_advisor_off_first),
                cmocka_unit_test(test_adaptive_restores_knobs),
                cmocka_unit_test(test_ksmtuned_first_adjustment_after_interval),
                cmocka_unit_test(test_ksmtuned_boost_decay),
                cmocka_unit_test(test_ksmtuned_sleep_and_thres),
                cmocka_unit_test(test_ksmtuned_conf_parse),
                cmocka_unit_test(test_ksmtuned_conf_invalid),
                cmocka_unit_test(test_advisor),
                cmocka_unit_test(test_static),
                cmocka_unit_test(test_off),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_config_defaults),
                cmocka_unit_test(test_invalid_arguments),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
