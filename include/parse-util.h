/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parse-util.h - strict number, size and duration parsers.  No atoi(), no silent truncation: every
 * parser rejects empty input, trailing garbage, signs where they make no sense and overflow.
 * Non-logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "time-util.h"

/* Decimal unsigned 64-bit.  -EINVAL on syntax (empty, sign, trailing junk), -ERANGE on overflow. */
int safe_atou64(const char *s, uint64_t *ret);
/* Decimal signed 64-bit.  Same errors. */
int safe_atoi64(const char *s, int64_t *ret);
/* Like safe_atou64() but for uint32_t. */
int safe_atou32(const char *s, uint32_t *ret);

/* Parses a decimal with up to two fractional digits ("12.34") into hundredths (1234). */
int parse_fixed2(const char *s, uint64_t *ret);

/*
 * Parses a duration: "250ms", "10s", "5min", "1h", "1.5s", "1s 500ms"; a bare number is seconds.
 * Units: us, ms, s, sec, m, min, h, hr.  -EINVAL on syntax, -ERANGE on overflow.
 */
int parse_duration_usec(const char *s, usec_t *ret);

/*
 * Parses a size in bytes: decimal digits with an optional suffix K, M, G or T (powers of 1024,
 * upper case), "64M" = 67108864; no sign, fraction, space or "B".  -EINVAL on syntax, -ERANGE on
 * overflow of uint64_t.
 */
int parse_size(const char *s, uint64_t *ret);

/* Formats bytes as "1.5 GiB" / "812.0 KiB" / "12 B" (binary units, one decimal). Handles negatives. */
const char *format_bytes(char *buf, size_t size, int64_t bytes);
#define FORMAT_BYTES_MAX 24

/* Formats a permyriad value as "12.34" (no percent sign). */
const char *format_pmy(char *buf, size_t size, uint64_t pmy);
#define FORMAT_PMY_MAX 24

/* Formats a duration compactly: "250ms", "10s", "5min 3s". */
const char *format_duration(char *buf, size_t size, usec_t usec);
#define FORMAT_DURATION_MAX 32
