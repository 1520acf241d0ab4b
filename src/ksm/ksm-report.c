/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-report.c - derived figures.
 *
 * Two "saved" figures, because they answer different questions:
 *   saved_bytes  = (pages_sharing + ksm_zero_pages) * PAGE_SIZE   memory no longer duplicated
 *   profit_bytes = general_profit (6.1+)                           the same minus the rmap_items'
 *                                                                  own cost (~64 B per scanned page)
 */
#include <errno.h>
#include <string.h>

#include "ksm-report.h"
#include "macro.h"

void ksm_report_compute(const KsmSnapshot *s, uint64_t page_size, KsmReport *ret) {
        KsmReport r = {};
        int64_t shared = ksm_snapshot_get(s, KSM_KNOB_PAGES_SHARED, -1);
        int64_t sharing = ksm_snapshot_get(s, KSM_KNOB_PAGES_SHARING, -1);
        int64_t unshared = ksm_snapshot_get(s, KSM_KNOB_PAGES_UNSHARED, -1);
        int64_t zero = ksm_snapshot_get(s, KSM_KNOB_KSM_ZERO_PAGES, 0);
        int64_t profit = ksm_snapshot_get(s, KSM_KNOB_GENERAL_PROFIT, INT64_MIN);

        if (profit != INT64_MIN) {
                r.have_profit = true;
                r.profit_bytes = profit;
        }
        if (sharing >= 0)
                r.saved_bytes = ((uint64_t) sharing + (uint64_t) MAX(zero, 0)) * page_size;
        if (sharing >= 0 && shared > 0) {
                r.have_sharing_ratio = true;
                r.sharing_ratio_pmy = (uint64_t) sharing * 10000U / (uint64_t) shared;
        }
        {
                int64_t chains = ksm_snapshot_get(s, KSM_KNOB_STABLE_NODE_CHAINS, -1);
                int64_t dups = ksm_snapshot_get(s, KSM_KNOB_STABLE_NODE_DUPS, -1);

                if (chains > 0 && dups >= 0) {
                        r.have_fragmentation = true;
                        r.dups_per_chain_pmy = (uint64_t) dups * 10000U / (uint64_t) chains;
                }
        }
        if (unshared >= 0 && sharing > 0) {
                r.have_unshared_ratio = true;
                r.unshared_ratio_pmy = (uint64_t) unshared * 10000U / (uint64_t) sharing;
        }
        *ret = r;
}

uint64_t cpu_usage_pmy(nsec_t cpu_delta_ns, usec_t wall_delta_usec) {
        if (wall_delta_usec == 0)
                return 0;
        /* cpu_ns / (wall_us * 1000) * 10000 == cpu_ns * 10 / wall_us; rounded to nearest.
         * Round via the remainder: adding wall/2 first could overflow. */
        if (cpu_delta_ns > UINT64_MAX / 10)
                return UINT64_MAX;
        return cpu_delta_ns * 10 / wall_delta_usec +
               (cpu_delta_ns * 10 % wall_delta_usec >= wall_delta_usec - wall_delta_usec / 2);
}

static json_t *pmy_json(uint64_t pmy) {
        return json_real((double) pmy / 10000.0);
}

json_t *ksm_report_to_json(const KsmSnapshot *s, const KsmReport *r) {
        json_t *root = json_object(), *knobs = json_object(), *counters = json_object(),
               *derived = json_object(), *absent = json_array(), *errors = json_object();
        int64_t run = ksm_snapshot_get(s, KSM_KNOB_RUN, -1);

        if (!root || !knobs || !counters || !derived || !absent || !errors) {
                json_decref(root);
                json_decref(knobs);
                json_decref(counters);
                json_decref(derived);
                json_decref(absent);
                json_decref(errors);
                return NULL;
        }

        json_object_set_new(root, "run_mode", run >= 0 ? json_string(ksm_run_mode_to_string(run)) : json_null());
        for (KsmKnob k = 0; k < _KSM_KNOB_MAX; k++) {
                const KsmKnobInfo *info = ksm_knob_info(k);
                json_t *target = info->writable ? knobs : counters, *v;

                if (!s->present[k]) {
                        json_array_append_new(absent, json_string(info->name));
                        continue;
                }
                if (s->error[k] < 0) {
                        json_object_set_new(errors, info->name, json_string(strerror(-s->error[k])));
                        json_object_set_new(target, info->name, json_null());
                        continue;
                }
                if (info->type == KSM_TYPE_ADVISOR)
                        v = json_string(ksm_advisor_mode_to_string(s->value[k]));
                else if (info->type == KSM_TYPE_BOOL)
                        v = json_boolean(s->value[k]);
                else
                        v = json_integer(s->value[k]);
                json_object_set_new(target, info->name, v);
        }

        json_object_set_new(derived, "saved_bytes", json_integer((json_int_t) r->saved_bytes));
        json_object_set_new(derived, "profit_bytes", r->have_profit ? json_integer(r->profit_bytes) : json_null());
        json_object_set_new(derived, "sharing_ratio",
                            r->have_sharing_ratio ? pmy_json(r->sharing_ratio_pmy) : json_null());
        json_object_set_new(derived, "unshared_per_sharing",
                            r->have_unshared_ratio ? pmy_json(r->unshared_ratio_pmy) : json_null());
        json_object_set_new(derived, "stable_node_dups_per_chain",
                            r->have_fragmentation ? pmy_json(r->dups_per_chain_pmy) : json_null());
        json_object_set_new(derived, "ksmd_cpu_percent",
                            r->have_cpu ? json_real((double) r->ksmd_cpu_pmy / 100.0) : json_null());
        json_object_set_new(derived, "ksmd_cpu_sample_usec",
                            r->have_cpu ? json_integer((json_int_t) r->cpu_sample_usec) : json_null());

        json_object_set_new(root, "knobs", knobs);
        json_object_set_new(root, "counters", counters);
        json_object_set_new(root, "derived", derived);
        json_object_set_new(root, "absent", absent);
        json_object_set_new(root, "errors", errors);
        return root;
}

json_t *ksm_stat_to_json(const KsmStat *st) {
        json_t *o = json_object();

        if (!o)
                return NULL;
#define FIELD(bit, name, val) json_object_set_new(o, name, (st->fields & (bit)) ? (val) : json_null())
        FIELD(KSM_STAT_MERGE_ANY, "merge_any", json_boolean(st->merge_any));
        FIELD(KSM_STAT_MERGEABLE, "mergeable", json_boolean(st->mergeable));
        FIELD(KSM_STAT_RMAP_ITEMS, "rmap_items", json_integer((json_int_t) st->rmap_items));
        FIELD(KSM_STAT_MERGING_PAGES, "merging_pages", json_integer((json_int_t) st->merging_pages));
        FIELD(KSM_STAT_ZERO_PAGES, "zero_pages", json_integer((json_int_t) st->zero_pages));
        FIELD(KSM_STAT_PROCESS_PROFIT, "profit_bytes", json_integer(st->process_profit));
#undef FIELD
        return o;
}
