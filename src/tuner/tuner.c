/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tuner.c - the pure tuner (see tuner.h for the modes).
 *
 * Why "sprint, then maintain" (DESIGN.md §8): every configuration spends about the same ksmd
 * CPU-seconds per GiB saved, slow settings only delay the saving; a page is merged only on ksmd's
 * second pass over it.  So: scan fast while there is new memory and full scans keep yielding, then
 * drop to a pace that costs almost nothing.  A full scan yields when pages_sharing grew by at least
 * min_yield_pages during it; `idle_scans` scans in a row without yield end the sprint (the first
 * pass over new memory only checksums, hence the default of 2).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ksm-report.h"
#include "macro.h"
#include "parse-util.h"
#include "tuner.h"

static const char *const mode_names[_TUNER_MODE_MAX] = {
        [TUNER_MODE_ADAPTIVE] = "adaptive",
        [TUNER_MODE_KSMTUNED] = "ksmtuned",
        [TUNER_MODE_ADVISOR] = "advisor",
        [TUNER_MODE_STATIC] = "static",
        [TUNER_MODE_OFF] = "off",
};

static const char *const phase_names[_TUNER_PHASE_MAX] = {
        [TUNER_PHASE_START] = "start",
        [TUNER_PHASE_SPRINT] = "sprint",
        [TUNER_PHASE_MAINTAIN] = "maintain",
        [TUNER_PHASE_STOPPED] = "stopped",
        [TUNER_PHASE_RUNNING] = "running",
        [TUNER_PHASE_ERROR] = "error",
};

const char *tuner_mode_to_string(TunerMode m) {
        return m >= 0 && m < _TUNER_MODE_MAX ? mode_names[m] : NULL;
}

TunerMode tuner_mode_from_string(const char *s) {
        for (TunerMode m = 0; s && m < _TUNER_MODE_MAX; m++)
                if (streq(s, mode_names[m]))
                        return m;
        return _TUNER_MODE_INVALID;
}

const char *tuner_phase_to_string(TunerPhase p) {
        return p >= 0 && p < _TUNER_PHASE_MAX ? phase_names[p] : NULL;
}

void ksmtuned_settings_init(KsmtunedSettings *k) {
        *k = (KsmtunedSettings) {
                .monitor_interval_usec = 60 * USEC_PER_SEC,
                .sleep_msec = 10,
                .npages_boost = 300,
                .npages_decay = -50,
                .npages_min = 64,
                .npages_max = 1250,
                .thres_coef = 20,
                .thres_const_kb = 2048,
        };
}

void tuner_config_init(TunerConfig *c) {
        *c = (TunerConfig) {
                .mode = TUNER_MODE_ADAPTIVE,
                .sprint_pages_to_scan = 16384,
                .sprint_sleep_msec = 1,
                .maintain_pages_to_scan = 100,
                .maintain_sleep_msec = 500,
                .min_pages_to_scan = 100,
                .cpu_budget_pmy = 5000,
                .cpu_budget_burst_usec = 10 * USEC_PER_SEC,
                .sprint_trigger_bytes = 64ULL << 20,
                .idle_scans = 2,
                .min_yield_pages = 64,
                .stop_when_unpressured = true,
                .hold_off_usec = 2 * USEC_PER_SEC,
                .advisor_target_scan_time_sec = 200,
                .advisor_max_cpu = 70,
                .advisor_min_pages_to_scan = 500,
                .advisor_max_pages_to_scan = 30000,
                .use_zero_pages = -1,
                .smart_scan = -1,
                .max_page_sharing = -1,
                .max_page_sharing_max = -1,
                .fragmentation_pages = 1024,
                .merge_across_nodes = -1,
                .static_run = 1,
                .static_pages_to_scan = 100,
                .static_sleep_msec = 20,
        };
        ksmtuned_settings_init(&c->ksmtuned);
}

int ksmtuned_conf_parse(const char *text, KsmtunedSettings *k, unsigned *ret_line, char *ret_key, size_t key_size) {
        static const struct {
                const char *key;
                size_t offset;
                int64_t min;
        } keys[] = {
                { "KSM_SLEEP_MSEC",   offsetof(KsmtunedSettings, sleep_msec),     0 },
                { "KSM_NPAGES_BOOST", offsetof(KsmtunedSettings, npages_boost),   -1000000000LL },
                { "KSM_NPAGES_DECAY", offsetof(KsmtunedSettings, npages_decay),   -1000000000LL },
                { "KSM_NPAGES_MIN",   offsetof(KsmtunedSettings, npages_min),     0 },
                { "KSM_NPAGES_MAX",   offsetof(KsmtunedSettings, npages_max),     0 },
                { "KSM_THRES_COEF",   offsetof(KsmtunedSettings, thres_coef),     0 },
                { "KSM_THRES_CONST",  offsetof(KsmtunedSettings, thres_const_kb), 0 },
        };
        KsmtunedSettings n = *k;
        unsigned line = 0, min_line = 0, max_line = 0;
        const char *p = text;

        while (p && *p) {
                const char *eol = strchr(p, '\n');
                size_t len = eol ? (size_t) (eol - p) : strlen(p);
                char buf[256], *key, *val, *eq, *hash;
                int64_t v;

                line++;
                if (len >= sizeof(buf))
                        len = sizeof(buf) - 1;
                memcpy(buf, p, len);
                buf[len] = 0;
                p = eol ? eol + 1 : NULL;

                hash = strchr(buf, '#');
                if (hash)
                        *hash = 0;
                key = buf;
                while (*key == ' ' || *key == '\t')
                        key++;
                if (strneq(key, "export ", 7))
                        key += 7;
                eq = strchr(key, '=');
                if (!eq)
                        continue;               /* blank, comment or not an assignment */
                *eq = 0;
                val = eq + 1;
                {
                        char *e = val + strlen(val);

                        while (e > val && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                                *--e = 0;
                        if (e - val >= 2 && (val[0] == '"' || val[0] == '\'') && e[-1] == val[0]) {
                                e[-1] = 0;
                                val++;
                        }
                }

                if (streq(key, "KSM_MONITOR_INTERVAL")) {
                        if (safe_atoi64(val, &v) < 0 || v <= 0 || v > 86400)
                                goto bad;
                        n.monitor_interval_usec = (usec_t) v * USEC_PER_SEC;
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (streq(key, keys[i].key)) {
                                if (safe_atoi64(val, &v) < 0 || v < keys[i].min || v > 1000000000LL)
                                        goto bad;
                                *(int64_t *) ((uint8_t *) &n + keys[i].offset) = v;
                                if (keys[i].offset == offsetof(KsmtunedSettings, npages_min))
                                        min_line = line;
                                else if (keys[i].offset == offsetof(KsmtunedSettings, npages_max))
                                        max_line = line;
                                break;
                        }
                continue;       /* DEBUG, LOGFILE…: ignored, as by the script */
        bad:
                if (ret_line)
                        *ret_line = line;
                if (ret_key)
                        snprintf(ret_key, key_size, "%s", key);
                return -EINVAL;
        }
        if (n.npages_max < n.npages_min) {
                /* Blame the later of the two assignments: that is where the pair stopped making sense. */
                if (ret_line)
                        *ret_line = MAX(min_line, max_line);
                if (ret_key)
                        snprintf(ret_key, key_size, "%s", max_line >= min_line ? "KSM_NPAGES_MAX" : "KSM_NPAGES_MIN");
                return -EINVAL;
        }
        *k = n;
        return 0;
}

/* Asks for knob values, writing only those that differ from what the kernel has now. */
static void want_run(const TunerObservation *o, TunerDecision *d, int64_t run) {
        if (o->run != run) {
                d->set_run = true;
                d->run = run;
        }
}

static void want_pace(const TunerObservation *o, TunerDecision *d, int64_t pages, int64_t sleep_msec) {
        if (o->pages_to_scan != pages) {
                d->set_pages_to_scan = true;
                d->pages_to_scan = pages;
        }
        if (o->sleep_msec != sleep_msec) {
                d->set_sleep = true;
                d->sleep_msec = sleep_msec;
        }
}

/* pages_to_scan is refused while the advisor runs: every mode but advisor turns it off first. */
static void want_no_advisor(const TunerObservation *o, TunerDecision *d) {
        if (o->advisor_mode == 1) {
                d->set_advisor = true;
                d->advisor_mode = 0;
        }
}

static bool changes(const TunerDecision *d) {
        return d->set_run || d->set_pages_to_scan || d->set_sleep || d->set_advisor || d->set_use_zero_pages ||
               d->set_smart_scan || d->set_max_page_sharing || d->set_merge_across_nodes;
}

/* The knobs owned in every mode (see tuner.h).  Runs after the mode's own decision. */
/*
 * max_page_sharing within its bounds: a content shared by more than max_page_sharing mappings needs
 * another KSM page per max_page_sharing of them (a stable-node chain of dups).  When those extra
 * pages (dups - chains) reach fragmentation_pages, the tuner raises the limit to
 * max_page_sharing_max, once: the kernel only accepts a change with nothing shared, so it applies
 * when nothing is (or, with unmerge_to_change, after unmerging everything).
 */
static void choose_max_page_sharing(const TunerConfig *c, const TunerObservation *o, TunerState *st, TunerDecision *d) {
        int64_t base = c->max_page_sharing >= 2 ? c->max_page_sharing : o->max_page_sharing;
        int64_t current = st->max_page_sharing ?: base;
        int64_t waste;

        if (c->max_page_sharing_max < 2 || o->stable_node_chains < 0 || o->stable_node_dups < 0 || base < 2 ||
            current >= c->max_page_sharing_max)
                return;
        waste = o->stable_node_dups - o->stable_node_chains;
        if (waste < (int64_t) c->fragmentation_pages)
                return;
        st->max_page_sharing = c->max_page_sharing_max;
        snprintf(d->reason + strlen(d->reason), sizeof(d->reason) - strlen(d->reason),
                 "%sfragmentation: %" PRIi64 " extra KSM pages in %" PRIi64 " stable-node chains: max_page_sharing %" PRIi64
                 " -> %" PRIi64, d->reason[0] ? "; " : "", waste, o->stable_node_chains, current, st->max_page_sharing);
}

static void want_owned_knobs(const TunerConfig *c, const TunerObservation *o, const TunerState *st, TunerDecision *d) {
        int64_t want_mpg = st->max_page_sharing ?: c->max_page_sharing;
        bool mpg = want_mpg >= 2 && o->max_page_sharing >= 0 && o->max_page_sharing != want_mpg;
        bool man = c->merge_across_nodes >= 0 && o->merge_across_nodes >= 0 && o->merge_across_nodes != c->merge_across_nodes;

        if (c->use_zero_pages >= 0 && o->use_zero_pages >= 0 && o->use_zero_pages != c->use_zero_pages) {
                d->set_use_zero_pages = true;
                d->use_zero_pages = c->use_zero_pages;
        }
        if (c->smart_scan >= 0 && o->smart_scan >= 0 && o->smart_scan != c->smart_scan) {
                d->set_smart_scan = true;
                d->smart_scan = c->smart_scan;
        }
        if (!mpg && !man)
                return;
        if (o->pages_shared == 0) {
                /* Nothing shared: the kernel accepts the change now; the mode's run write follows it. */
                if (mpg) {
                        d->set_max_page_sharing = true;
                        d->max_page_sharing = want_mpg;
                }
                if (man) {
                        d->set_merge_across_nodes = true;
                        d->merge_across_nodes = c->merge_across_nodes;
                }
                return;
        }
        if (c->unmerge_to_change) {
                /* Unmerge everything first (run=2), nothing else this step; the next step, with
                 * pages_shared at 0, writes the knob and the mode's own run value. */
                d->set_pages_to_scan = d->set_sleep = false;
                d->set_run = o->run != 2;
                d->run = 2;
                snprintf(d->reason, sizeof(d->reason), "unmerging all pages (run=2) to change %s",
                         man ? "merge_across_nodes" : "max_page_sharing");
                return;
        }
        snprintf(d->reason + strlen(d->reason), sizeof(d->reason) - strlen(d->reason),
                 "%s%s differs from the config but can only change with no shared pages (tuner.unmerge_to_change)",
                 d->reason[0] ? "; " : "", man ? "merge_across_nodes" : "max_page_sharing");
}

static void step_ksmtuned(const TunerConfig *c, const TunerObservation *o, TunerState *st, TunerDecision *d) {
        const KsmtunedSettings *k = &c->ksmtuned;
        int64_t total = (int64_t) o->mem_total_kb, thres, free_kb, sleep_msec;

        if (st->next_ksmtuned_usec == 0) {
                /* The script sleeps one interval before its first adjustment. */
                st->next_ksmtuned_usec = o->now_usec + k->monitor_interval_usec;
                snprintf(d->reason, sizeof(d->reason), "ksmtuned: first adjustment after %" PRIu64 " s",
                         k->monitor_interval_usec / USEC_PER_SEC);
                return;
        }
        if (o->now_usec < st->next_ksmtuned_usec || total <= 0)
                return;
        st->next_ksmtuned_usec = o->now_usec + k->monitor_interval_usec;

        thres = total * k->thres_coef / 100;
        if (k->thres_const_kb > thres)
                thres = k->thres_const_kb;
        free_kb = (int64_t) (o->mem_free_kb + o->buffers_kb + o->cached_kb);

        want_no_advisor(o, d);
        if ((int64_t) o->committed_kb + thres < total && free_kb > thres) {
                want_run(o, d, 0);
                d->phase = TUNER_PHASE_STOPPED;
                snprintf(d->reason, sizeof(d->reason), "ksmtuned: committed %" PRIu64 " + thres %" PRIi64
                         " < total %" PRIi64 " kB and free %" PRIi64 " > thres: stop", o->committed_kb, thres, total, free_kb);
                return;
        }
        st->npages += free_kb < thres ? k->npages_boost : k->npages_decay;
        if (st->npages < k->npages_min)
                st->npages = k->npages_min;
        else if (st->npages > k->npages_max)
                st->npages = k->npages_max;
        sleep_msec = k->sleep_msec * 16 * 1024 * 1024 / total;
        if (sleep_msec <= 10)
                sleep_msec = 10;
        if (sleep_msec > UINT32_MAX)            /* KSM_SLEEP_MSEC up to 10^9 on a small host */
                sleep_msec = UINT32_MAX;
        want_pace(o, d, st->npages, sleep_msec);
        want_run(o, d, 1);
        d->phase = TUNER_PHASE_RUNNING;
        snprintf(d->reason, sizeof(d->reason), "ksmtuned: free %" PRIi64 " %s thres %" PRIi64 " kB: %s, npages %" PRIi64
                 ", sleep %" PRIi64 " ms", free_kb, free_kb < thres ? "<" : ">=", thres,
                 free_kb < thres ? "boost" : "decay", st->npages, sleep_msec);
}

static bool pressured(const TunerConfig *c, const TunerObservation *o, char *why, size_t size) {
        if (c->mem_available_below_pmy > 0 && o->mem_total_kb > 0 &&
            o->mem_available_kb * 10000 / o->mem_total_kb < c->mem_available_below_pmy) {
                snprintf(why, size, "MemAvailable %" PRIu64 " %% of MemTotal", o->mem_available_kb * 100 / o->mem_total_kb);
                return true;
        }
        if (c->psi_some_above_pmy > 0 && o->have_psi && o->psi_some_avg10_pmy > c->psi_some_above_pmy) {
                snprintf(why, size, "PSI memory some avg10 %" PRIu32 ".%02" PRIu32 " %%",
                         o->psi_some_avg10_pmy / 100, o->psi_some_avg10_pmy % 100);
                return true;
        }
        return false;
}

/* Batches of about this much ksmd CPU time when the budget sets the pace. */
#define THROTTLE_BATCH_USEC (50 * USEC_PER_MSEC)

/*
 * The sprint's pace.  While the budget has credit, the configured sprint pace (near full speed: a
 * burst of new memory is merged as fast as the machine can).  Once the credit is spent, the pace
 * that holds ksmd at the budget: batches of ~50 ms of ksmd CPU at the measured scan rate, and a
 * sleep that makes scanning that share of the time (duty = budget), never faster than the sprint
 * pace.  Without a measured rate (no pages_scanned counter: Linux < 6.8), pages_to_scan is scaled
 * by budget / measured CPU instead.  Changes at most once per hold_off.
 */
static void sprint_pace(const TunerConfig *c, const TunerObservation *o, TunerState *st, TunerDecision *d,
                        bool cpu_valid, bool same_phase) {
        uint64_t pages = st->current_pages_to_scan ?: c->sprint_pages_to_scan;
        uint64_t sleep_msec = st->current_sleep_msec ?: c->sprint_sleep_msec;
        bool may_change = same_phase && o->now_usec >= st->last_change_usec + c->hold_off_usec && cpu_valid;

        if (!same_phase) {
                /* A new sprint starts at full pace if there is credit (with no burst allowed at all,
                 * the budget holds from the start: the credit is never above 0). */
                st->throttled = c->cpu_budget_burst_usec == 0 && st->have_credit && st->credit_ns < 0;
                pages = c->sprint_pages_to_scan;
                sleep_msec = c->sprint_sleep_msec;
        } else if (!st->throttled && st->have_credit && st->credit_ns <= 0 && cpu_valid &&
                   st->last_cpu_pmy > c->cpu_budget_pmy) {
                st->throttled = true;
                may_change = true;      /* the burst is spent: hold ksmd to the budget now */
        } else if (st->throttled && c->cpu_budget_burst_usec > 0 &&
                   st->credit_ns >= (int64_t) (c->cpu_budget_burst_usec * NSEC_PER_USEC / 2) && may_change) {
                st->throttled = false;
                pages = c->sprint_pages_to_scan;
                sleep_msec = c->sprint_sleep_msec;
                snprintf(d->reason, sizeof(d->reason), "budget: credit back to %" PRIi64 " ms of CPU: sprint pace",
                         st->credit_ns / (int64_t) NSEC_PER_MSEC);
        }

        if (st->throttled && may_change) {
                uint64_t want_pages, want_sleep;

                if (st->scan_rate > 0) {
                        uint64_t budget = MIN(c->cpu_budget_pmy, 10000U), batch_usec;

                        want_pages = CLAMP(st->scan_rate * THROTTLE_BATCH_USEC / USEC_PER_SEC, c->min_pages_to_scan,
                                           c->sprint_pages_to_scan);
                        batch_usec = want_pages * USEC_PER_SEC / st->scan_rate;
                        want_sleep = DIV_ROUND_UP(batch_usec * (10000 - budget) / budget, USEC_PER_MSEC);
                        want_sleep = CLAMP(want_sleep, MAX(c->sprint_sleep_msec, 1U), 60000U);
                } else if (st->last_cpu_pmy > c->cpu_budget_pmy + c->cpu_budget_pmy / 10) {
                        want_pages = MAX(c->min_pages_to_scan, pages * c->cpu_budget_pmy / st->last_cpu_pmy);
                        want_sleep = sleep_msec;
                } else if (st->last_cpu_pmy < c->cpu_budget_pmy / 2 && pages < c->sprint_pages_to_scan) {
                        want_pages = MIN(c->sprint_pages_to_scan, pages * 2);
                        want_sleep = sleep_msec;
                } else {
                        want_pages = pages;
                        want_sleep = sleep_msec;
                }
                /* Hysteresis: a change of less than a fifth in both is not worth a write. */
                if (want_pages * 5 < pages * 4 || want_pages * 4 > pages * 5 ||
                    want_sleep * 5 < sleep_msec * 4 || want_sleep * 4 > sleep_msec * 5) {
                        pages = want_pages;
                        sleep_msec = want_sleep;
                        snprintf(d->reason, sizeof(d->reason), "budget: ksmd at %" PRIu32 ".%02" PRIu32
                                 " %% of a CPU, budget %" PRIu32 " %%%s: pages_to_scan %" PRIu64 ", sleep %" PRIu64 " ms",
                                 st->last_cpu_pmy / 100, st->last_cpu_pmy % 100, c->cpu_budget_pmy / 100,
                                 c->cpu_budget_burst_usec > 0 ? ", burst used up" : "", pages, sleep_msec);
                }
        }
        st->current_pages_to_scan = pages;
        st->current_sleep_msec = sleep_msec;
        want_run(o, d, 1);
        want_pace(o, d, (int64_t) pages, (int64_t) sleep_msec);
}

/* @cpu_valid: st->last_cpu_pmy was measured by this step (ksmd's CPU time read now and before). */
static void step_adaptive(const TunerConfig *c, const TunerObservation *o, TunerState *st, TunerDecision *d,
                          bool cpu_valid) {
        uint64_t page = o->page_size ?: 4096;
        uint64_t rmap_new = o->pages_unshared + o->pages_volatile;
        /* Growth since the last step, or in maintain since the phase began (its lowest point): at the
         * maintain pace ksmd adds rmap_items for new memory at only about 2 MiB/s (100 pages per 200 ms),
         * so growth per step alone would never reach sprint_trigger_bytes there. */
        uint64_t grew = st->have_last && rmap_new > st->last_unshared_volatile ? rmap_new - st->last_unshared_volatile : 0;
        /* In maintain, a saving that erodes (pages rewritten, their sharing broken) by as much as
         * sprint_trigger is new work too: the budget bounds what keeping it costs. */
        uint64_t eroded = st->phase == TUNER_PHASE_MAINTAIN && st->maintain_peak_sharing > o->pages_sharing ?
                                  st->maintain_peak_sharing - o->pages_sharing : 0;
        bool trigger = o->new_mergeable_bytes >= c->sprint_trigger_bytes || grew * page >= c->sprint_trigger_bytes ||
                       eroded * page >= c->sprint_trigger_bytes;
        bool pressure = false, pressure_began;
        TunerPhase phase = st->phase;
        char why[96] = "";

        want_no_advisor(o, d);

        /* Yield bookkeeping per completed full scan. */
        if (st->phase == TUNER_PHASE_START || o->full_scans < st->scan_start_full_scans) {
                st->scan_start_full_scans = o->full_scans;
                st->scan_start_sharing = o->pages_sharing;
        } else if (o->full_scans > st->scan_start_full_scans) {
                uint64_t scans = o->full_scans - st->scan_start_full_scans;
                uint64_t yield = o->pages_sharing > st->scan_start_sharing ? o->pages_sharing - st->scan_start_sharing : 0;

                if (yield >= c->min_yield_pages * scans)
                        st->idle_scan_count = 0;
                else
                        st->idle_scan_count += (unsigned) MIN(scans, 1000U);
                st->scan_start_full_scans = o->full_scans;
                st->scan_start_sharing = o->pages_sharing;
        }

        if (c->pressure_only)
                pressure = pressured(c, o, why, sizeof(why));
        /* Without stop_when_unpressured the phase before pressure is maintain, not stopped: remember
         * whether the last step saw pressure, so that its arrival starts a sprint there too. */
        pressure_began = c->pressure_only && pressure && !st->pressured;
        st->pressured = pressure;

        if (c->pressure_only && !pressure) {
                phase = c->stop_when_unpressured ? TUNER_PHASE_STOPPED : TUNER_PHASE_MAINTAIN;
                snprintf(d->reason, sizeof(d->reason), "no memory pressure: %s",
                         phase == TUNER_PHASE_STOPPED ? "stopped, merged pages stand" : "maintain");
        } else if (phase == TUNER_PHASE_START || phase == TUNER_PHASE_STOPPED || pressure_began) {
                snprintf(d->reason, sizeof(d->reason), "%s%s%s: sprint to find what there is to merge",
                         phase == TUNER_PHASE_START ? "start" : "memory pressure", why[0] ? ", " : "", why);
                phase = TUNER_PHASE_SPRINT;
                st->idle_scan_count = 0;
        } else if (trigger && phase != TUNER_PHASE_SPRINT) {
                char b[FORMAT_BYTES_MAX];

                phase = TUNER_PHASE_SPRINT;
                st->idle_scan_count = 0;
                st->current_pages_to_scan = 0;
                if (eroded * page >= c->sprint_trigger_bytes && o->new_mergeable_bytes < c->sprint_trigger_bytes &&
                    grew * page < c->sprint_trigger_bytes)
                        snprintf(d->reason, sizeof(d->reason), "sprint: the saving eroded by %s since maintain began",
                                 format_bytes(b, sizeof(b), (int64_t) (eroded * page)));
                else
                        snprintf(d->reason, sizeof(d->reason), "sprint: %s of new mergeable memory",
                                 format_bytes(b, sizeof(b), (int64_t) MAX(o->new_mergeable_bytes, grew * page)));
        } else if (phase == TUNER_PHASE_SPRINT && st->idle_scan_count >= c->idle_scans && !trigger) {
                phase = TUNER_PHASE_MAINTAIN;
                snprintf(d->reason, sizeof(d->reason), "maintain: %u full scans without yield (< %" PRIu64 " merges each)",
                         st->idle_scan_count, c->min_yield_pages);
        } else if (trigger && phase == TUNER_PHASE_SPRINT)
                st->idle_scan_count = 0;        /* more new memory: the sprint goes on */

        if (phase != TUNER_PHASE_SPRINT) {
                st->current_pages_to_scan = st->current_sleep_msec = 0;
                st->throttled = false;
        }

        switch (phase) {
        case TUNER_PHASE_SPRINT:
                sprint_pace(c, o, st, d, cpu_valid, phase == st->phase);
                break;
        case TUNER_PHASE_MAINTAIN:
                want_run(o, d, 1);
                want_pace(o, d, (int64_t) c->maintain_pages_to_scan, (int64_t) c->maintain_sleep_msec);
                break;
        case TUNER_PHASE_STOPPED:
                want_run(o, d, 0);
                break;
        default:
                break;
        }
        d->phase = phase;
        if (phase != TUNER_PHASE_MAINTAIN || rmap_new < st->last_unshared_volatile)
                st->last_unshared_volatile = rmap_new;
        if (phase != TUNER_PHASE_MAINTAIN || st->phase != TUNER_PHASE_MAINTAIN || o->pages_sharing > st->maintain_peak_sharing)
                st->maintain_peak_sharing = o->pages_sharing;
}

int tuner_step(const TunerConfig *c, const TunerObservation *o, TunerState *st, TunerDecision *d) {
        bool cpu_valid = false;

        if (!c || !o || !st || !d)
                return -EINVAL;

        *d = (TunerDecision) { .phase = st->phase };

        if (o->have_cpu) {
                if (st->last_cpu_usec > 0 && o->now_usec > st->last_cpu_usec && o->ksmd_cpu_ns >= st->last_cpu_ns) {
                        nsec_t used = o->ksmd_cpu_ns - st->last_cpu_ns;
                        usec_t wall = o->now_usec - st->last_cpu_usec;
                        int64_t burst = (int64_t) MIN(c->cpu_budget_burst_usec, (usec_t) INT64_MAX / NSEC_PER_USEC / 2) *
                                        (int64_t) NSEC_PER_USEC;
                        int64_t earned = (int64_t) MIN(wall, (usec_t) 100 * USEC_PER_DAY) * (int64_t) NSEC_PER_USEC / 10000 *
                                         (int64_t) c->cpu_budget_pmy;

                        st->last_cpu_pmy = (uint32_t) MIN(cpu_usage_pmy(used, wall), 1000000U);
                        cpu_valid = true;
                        if (!st->have_credit) {
                                st->credit_ns = burst;
                                st->have_credit = true;
                        }
                        /* Debt is remembered only up to one burst (or one second of CPU when no burst is
                         * allowed), so an old overrun does not throttle forever. */
                        st->credit_ns = CLAMP(st->credit_ns + earned - (int64_t) MIN(used, (nsec_t) INT64_MAX / 2),
                                              -MAX(burst, (int64_t) NSEC_PER_SEC), burst);
                        if (o->pages_scanned > st->last_pages_scanned && used >= 20 * NSEC_PER_MSEC &&
                            st->last_pages_scanned > 0) {
                                uint64_t rate = (o->pages_scanned - st->last_pages_scanned) * NSEC_PER_SEC / used;

                                st->scan_rate = st->scan_rate ? (st->scan_rate + rate) / 2 : rate;
                        }
                }
                st->last_cpu_ns = o->ksmd_cpu_ns;
                st->last_cpu_usec = o->now_usec;
                st->last_pages_scanned = o->pages_scanned;
        }

        switch (c->mode) {
        case TUNER_MODE_OFF:
                break;
        case TUNER_MODE_STATIC:
                want_no_advisor(o, d);
                want_run(o, d, c->static_run);
                if (c->static_run == 1)
                        want_pace(o, d, (int64_t) c->static_pages_to_scan, (int64_t) c->static_sleep_msec);
                d->phase = c->static_run == 1 ? TUNER_PHASE_RUNNING : TUNER_PHASE_STOPPED;
                snprintf(d->reason, sizeof(d->reason), "static values from the config");
                break;
        case TUNER_MODE_ADVISOR:
                if (o->advisor_mode < 0) {
                        d->phase = TUNER_PHASE_ERROR;
                        snprintf(d->reason, sizeof(d->reason),
                                 "the kernel has no KSM advisor (advisor_mode appeared in Linux 6.8): choose another mode");
                        break;
                }
                if (o->advisor_mode != 1 || st->phase != TUNER_PHASE_RUNNING) {
                        d->set_advisor = true;
                        d->advisor_mode = 1;
                        d->advisor_target_scan_time = (int64_t) c->advisor_target_scan_time_sec;
                        d->advisor_max_cpu = (int64_t) c->advisor_max_cpu;
                        d->advisor_min_pages_to_scan = (int64_t) c->advisor_min_pages_to_scan;
                        d->advisor_max_pages_to_scan = (int64_t) c->advisor_max_pages_to_scan;
                }
                want_run(o, d, 1);
                d->phase = TUNER_PHASE_RUNNING;
                snprintf(d->reason, sizeof(d->reason), "advisor: target scan time %" PRIu64 " s, CPU %" PRIu64 " %% at most",
                         c->advisor_target_scan_time_sec, c->advisor_max_cpu);
                break;
        case TUNER_MODE_KSMTUNED:
                step_ksmtuned(c, o, st, d);
                if (d->phase == TUNER_PHASE_START)
                        d->phase = st->phase;
                break;
        case TUNER_MODE_ADAPTIVE:
                step_adaptive(c, o, st, d, cpu_valid);
                break;
        default:
                return -EINVAL;
        }

        if (c->mode != TUNER_MODE_OFF && d->phase != TUNER_PHASE_ERROR) {
                choose_max_page_sharing(c, o, st, d);
                want_owned_knobs(c, o, st, d);
        }

        if (changes(d)) {
                st->last_change_usec = o->now_usec;
                /* A knob changed behind our back is put back: say so rather than nothing. */
                if (!d->reason[0])
                        snprintf(d->reason, sizeof(d->reason), "%s: restoring the knobs of this phase",
                                 tuner_phase_to_string(d->phase));
        }
        st->phase = d->phase;
        st->have_last = true;
        return changes(d) ? 1 : 0;
}
