/*  common/date.c - calendar arithmetic on days since 1970-01-01
 *
 *  Civil-from-days and days-from-civil follow Howard Hinnant's algorithms,
 *  which are exact over the whole proleptic Gregorian calendar and need no
 *  time zone or locale, unlike mktime().
 */
#include "sentinel/date.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

sn_day_t
sn_day_from_ymd(int year, int month, int day)
{
    int y = year - (month <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int mp = (month + 9) % 12;
    int doy = (153 * mp + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (sn_day_t)(era * 146097 + doe - 719468);
}

void
sn_day_to_ymd(sn_day_t d, int *year, int *month, int *day)
{
    /* In 64 bits: any int32 day, even one read off the wire, must not
     * overflow the shift to the 0000-03-01 epoch. */
    int64_t z = (int64_t)d + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = (int)(z - era * 146097);
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = m;
    *day = doy - (153 * mp + 2) / 5 + 1;
}

bool
sn_day_is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
sn_day_weekday(sn_day_t d)
{
    /* 1970-01-01 was a Thursday (4). */
    int w = (int)((d % 7 + 7) % 7); /* 0 = Thursday */
    return (w + 3) % 7 + 1;
}

static int
s_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return month == 2 && sn_day_is_leap(year) ? 29 : days[month - 1];
}

/* Read exactly `n` digits at s into *out. */
static bool
s_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Parse "YYYY-MM-DD" at the start of s, without looking past it. */
static bool
s_parse_ymd(const char *s, sn_day_t *out)
{
    int y, m, d;
    if (!s_digits(s, 4, &y) || s[4] != '-' || !s_digits(s + 5, 2, &m) ||
        s[7] != '-' || !s_digits(s + 8, 2, &d)) {
        return false;
    }
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > s_days_in_month(y, m)) {
        return false;
    }
    *out = sn_day_from_ymd(y, m, d);
    return true;
}

int
sn_day_parse(const char *s, sn_day_t *out)
{
    sn_day_t d;
    if (s == NULL || strlen(s) != 10 || !s_parse_ymd(s, &d)) {
        return SN_EPARSE;
    }
    *out = d;
    return SN_OK;
}

char *
sn_day_format(sn_day_t d, char *buf)
{
    int y, m, dd;
    sn_day_to_ymd(d, &y, &m, &dd);
    snprintf(buf, SN_DAY_STR_MAX, "%04u-%02u-%02u", (unsigned)y % 10000u,
             (unsigned)m % 100u, (unsigned)dd % 100u);
    return buf;
}

/* Parse the "THH:MM:SS[.fff][Z|±HH:MM]" part after the date. */
static bool
s_parse_clock(const char *p, int64_t *ms_of_day, int64_t *offset_ms)
{
    int hh, mm, ss, frac = 0;
    if ((*p != 'T' && *p != 't' && *p != ' ') || !s_digits(p + 1, 2, &hh) ||
        p[3] != ':' || !s_digits(p + 4, 2, &mm) || p[6] != ':' ||
        !s_digits(p + 7, 2, &ss) || hh > 23 || mm > 59 || ss > 60) {
        return false;
    }
    p += 9;
    if (*p == '.') {
        int digits = 0;
        for (p++; isdigit((unsigned char)*p); p++, digits++) {
            if (digits < 3) {
                frac = frac * 10 + (*p - '0');
            }
        }
        if (digits == 0) {
            return false;
        }
        for (; digits < 3; digits++) {
            frac *= 10;
        }
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!s_digits(p + 1, 2, &oh) || p[3] != ':' ||
            !s_digits(p + 4, 2, &om) || oh > 23 || om > 59) {
            return false;
        }
        off = ((int64_t)oh * 60 + om) * 60000 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p != '\0') {
        return false;
    }
    *ms_of_day = (((int64_t)hh * 60 + mm) * 60 + (ss > 59 ? 59 : ss)) * 1000 +
                 frac;
    *offset_ms = off;
    return true;
}

int
sn_time_parse(const char *s, sn_time_t *out)
{
    sn_day_t d;
    if (s == NULL || strlen(s) < 10 || !s_parse_ymd(s, &d)) {
        return SN_EPARSE;
    }
    int64_t ms = 0, off = 0;
    if (s[10] != '\0' && !s_parse_clock(s + 10, &ms, &off)) {
        return SN_EPARSE;
    }
    *out = (sn_time_t)d * 86400000 + ms - off;
    return SN_OK;
}

char *
sn_time_format(sn_time_t t, char *buf)
{
    /* The day in 64 bits, so that ms stays within one day even for a time
     * whose day does not fit sn_day_t (a hostile report_time). */
    int64_t ms = t % 86400000;
    int64_t d = t / 86400000 - (ms < 0);
    ms += ms < 0 ? 86400000 : 0;
    int y, m, dd;
    sn_day_to_ymd((sn_day_t)d, &y, &m, &dd);
    snprintf(buf, SN_TIME_STR_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)dd % 100u,
             (unsigned)(ms / 3600000) % 100u, (unsigned)(ms / 60000 % 60),
             (unsigned)(ms / 1000 % 60), (unsigned)(ms % 1000));
    return buf;
}

sn_day_t
sn_time_day(sn_time_t t)
{
    int64_t d = t / 86400000;
    if (t % 86400000 < 0) {
        d--;
    }
    return (sn_day_t)d;
}

sn_time_t
sn_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (sn_time_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sn_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
