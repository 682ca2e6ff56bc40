/*  analyzer/simulate.c - reproducible synthetic feeds with injected outbreaks
 *
 *  The generator is xoshiro256** seeded through splitmix64; Poisson counts
 *  use Knuth's product method below a mean of 30 and a rounded normal
 *  (Box-Muller) above, which is exact enough for surveillance counts and
 *  fully determined by the seed. Outbreak cases are placed one by one: a
 *  day drawn from the triangular curve, then a site drawn uniformly among
 *  the sites of the outbreak's region and sources, so the size is exact.
 */
#include "simulate.h"

#include "sentinel/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The generator's state. */
typedef struct s_rng {
    uint64_t s[4]; /* xoshiro256** state */
} s_rng_t;

static uint64_t
s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void
s_rng_seed(s_rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        r->s[i] = s_splitmix(&seed);
    }
}

static uint64_t
s_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t
s_next(s_rng_t *r)
{
    uint64_t *s = r->s, result = s_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return result;
}

/* A uniform double in [0, 1). */
static double
s_unif(s_rng_t *r)
{
    return (double)(s_next(r) >> 11) * 0x1.0p-53;
}

static uint32_t
s_poisson(s_rng_t *r, double mean)
{
    if (mean <= 0) {
        return 0;
    }
    if (mean < 30) {
        double limit = exp(-mean), p = 1;
        uint32_t k = 0;
        do {
            k++;
            p *= s_unif(r);
        } while (p > limit);
        return k - 1;
    }
    double u1 = s_unif(r), u2 = s_unif(r);
    double z = sqrt(-2 * log(u1 > 0 ? u1 : 1e-300)) * cos(2 * M_PI * u2);
    double v = floor(mean + sqrt(mean) * z + 0.5);
    return v < 0 ? 0 : (uint32_t)v;
}

void
ana_sim_opts_default(ana_sim_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->start = sn_day_from_ymd(2024, 1, 1);
    o->days = 365;
    snprintf(o->condition, sizeof o->condition, "ili");
    o->amplitude = 0.3;
    o->peak_doy = 20;
    for (int i = 0; i < 5; i++) {
        o->dow[i] = 1.0;
    }
    o->dow[5] = 0.7;
    o->dow[6] = 0.6;
}

/* ---- events ------------------------------------------------------------- */

/* One run's working state. */
typedef struct s_run {
    const ana_sim_opts_t *o; /* the scenario */
    s_rng_t rng;             /* the generator */
    uint32_t **ob_days;      /* per outbreak: cases per day */
    ana_sim_fn fn;           /* the callback */
    void *arg;               /* its argument */
} s_run_t;

static double
s_mean(const ana_sim_opts_t *o, const ana_sim_site_t *site, sn_day_t day)
{
    int y, m, d;
    sn_day_to_ymd(day, &y, &m, &d);
    int doy = day - sn_day_from_ymd(y, 1, 1);
    double season =
        1 + o->amplitude * cos(2 * M_PI * (doy - o->peak_doy) / 365.25);
    return site->mean * season * o->dow[sn_day_weekday(day) - 1];
}

static int
s_emit(s_run_t *r, const ana_sim_site_t *site, const char *condition,
       sn_day_t day, uint32_t count, const char *tag, uint32_t *serial)
{
    const ana_sim_opts_t *o = r->o;
    uint32_t events = o->aggregate ? (count > 0) : count;
    char ymd[SN_DAY_STR_MAX];
    sn_day_format(day, ymd);
    for (uint32_t i = 0; i < events; i++) {
        sn_event_t ev;
        sn_event_init(&ev);
        snprintf(ev.site_id, sizeof ev.site_id, "%s", site->site_id);
        snprintf(ev.region, sizeof ev.region, "%s", site->region);
        snprintf(ev.condition, sizeof ev.condition, "%s", condition);
        snprintf(ev.event_id, sizeof ev.event_id, "%.32s-%s%s-%u",
                 site->site_id, ymd, tag, (*serial)++);
        ev.source = site->source;
        ev.count = o->aggregate ? count : 1;
        ev.report_time = (sn_time_t)day * 86400000 +
                         (sn_time_t)(7 * 3600 + s_unif(&r->rng) * 50000) * 1000;
        ev.onset_date = day - (sn_day_t)(s_unif(&r->rng) * 3);
        ev.age_years = (int32_t)(s_unif(&r->rng) * 80);
        ev.sex = s_unif(&r->rng) < 0.5 ? SN_SEX_MALE : SN_SEX_FEMALE;
        int rc = r->fn(&ev, r->arg);
        if (rc != 0) {
            return rc;
        }
    }
    return SN_OK;
}

static bool
s_site_in(const ana_sim_site_t *site, const ana_sim_outbreak_t *ob,
          sn_day_t day)
{
    return strncmp(site->region, ob->region, strlen(ob->region)) == 0 &&
           (ob->sources == 0 || (ob->sources & (1u << site->source))) &&
           (site->first == 0 || day >= site->first) &&
           (site->silent_from == 0 || day < site->silent_from);
}

/* Spread each outbreak's cases over its days along a triangle. */
static void
s_plan_outbreaks(s_run_t *r)
{
    const ana_sim_opts_t *o = r->o;
    r->ob_days = sn_calloc(o->n_outbreaks + 1, sizeof *r->ob_days);
    for (size_t k = 0; k < o->n_outbreaks; k++) {
        const ana_sim_outbreak_t *ob = &o->outbreaks[k];
        r->ob_days[k] = sn_calloc((size_t)ob->days, sizeof(uint32_t));
        double total = 0;
        for (int i = 0; i < ob->days; i++) {
            total += fmin(i + 1, ob->days - i);
        }
        for (uint32_t c = 0; c < ob->size; c++) {
            double u = s_unif(&r->rng) * total, acc = 0;
            int i = 0;
            while (i < ob->days - 1 &&
                   (acc += fmin(i + 1, ob->days - i)) <= u) {
                i++;
            }
            r->ob_days[k][i]++;
        }
    }
}

/* The outbreak cases of one day: each to a uniformly drawn matching site. */
static int
s_outbreak_day(s_run_t *r, sn_day_t day, uint32_t *serial)
{
    const ana_sim_opts_t *o = r->o;
    for (size_t k = 0; k < o->n_outbreaks; k++) {
        const ana_sim_outbreak_t *ob = &o->outbreaks[k];
        if (day < ob->start || day >= ob->start + ob->days) {
            continue;
        }
        size_t match[ANA_SIM_MAX_SITES], n = 0;
        for (size_t s = 0; s < o->n_sites && n < ANA_SIM_MAX_SITES; s++) {
            if (s_site_in(&o->sites[s], ob, day)) {
                match[n++] = s;
            }
        }
        uint32_t cases = r->ob_days[k][day - ob->start];
        uint32_t *per = sn_calloc(n + 1, sizeof *per);
        for (uint32_t c = 0; c < cases && n > 0; c++) {
            per[(size_t)(s_unif(&r->rng) * (double)n)]++;
        }
        const char *cond = ob->condition[0] ? ob->condition : o->condition;
        int rc = SN_OK;
        for (size_t i = 0; i < n && rc == SN_OK; i++) {
            if (per[i] > 0) {
                rc = s_emit(r, &o->sites[match[i]], cond, day, per[i], "-ob",
                            serial);
            }
        }
        free(per);
        if (rc != SN_OK) {
            return rc;
        }
    }
    return SN_OK;
}

static int
s_check(const ana_sim_opts_t *o, sn_err_t *err)
{
    if (o->n_sites == 0 || o->n_sites > ANA_SIM_MAX_SITES) {
        return sn_err_set(err, SN_EINVAL, "simulate: 1 to %d sites needed",
                          ANA_SIM_MAX_SITES);
    }
    if (o->days < 1 || o->days > 36600) {
        return sn_err_set(err, SN_EINVAL,
                          "simulate: days %d is outside 1..36600", o->days);
    }
    for (size_t k = 0; k < o->n_outbreaks; k++) {
        if (o->outbreaks[k].days < 1 || o->outbreaks[k].days > 365) {
            return sn_err_set(err, SN_EINVAL,
                              "simulate: outbreak %zu: days %d is outside "
                              "1..365",
                              k + 1, o->outbreaks[k].days);
        }
    }
    return SN_OK;
}

int
ana_sim_run(const ana_sim_opts_t *o, ana_sim_fn fn, void *arg, sn_err_t *err)
{
    int rc = s_check(o, err);
    if (rc != SN_OK) {
        return rc;
    }
    s_run_t r = {o, {{0}}, NULL, fn, arg};
    s_rng_seed(&r.rng, o->seed);
    s_plan_outbreaks(&r);
    for (sn_day_t day = o->start; day < o->start + o->days && rc == SN_OK;
         day++) {
        uint32_t serial = 0;
        for (size_t s = 0; s < o->n_sites && rc == SN_OK; s++) {
            const ana_sim_site_t *site = &o->sites[s];
            if ((site->first != 0 && day < site->first) ||
                (site->silent_from != 0 && day >= site->silent_from)) {
                continue;
            }
            uint32_t c = s_poisson(&r.rng, s_mean(o, site, day));
            rc = s_emit(&r, site, o->condition, day, c, "", &serial);
        }
        if (rc == SN_OK) {
            rc = s_outbreak_day(&r, day, &serial);
        }
    }
    for (size_t k = 0; k < o->n_outbreaks; k++) {
        free(r.ob_days[k]);
    }
    free(r.ob_days);
    return rc;
}

/* ---- parsing ------------------------------------------------------------ */

/* Split `text` at ':' into at most `max` parts held in `buf`. */
static size_t
s_split(const char *text, char *buf, size_t size, char **parts, size_t max)
{
    snprintf(buf, size, "%s", text);
    size_t n = 0;
    char *p = buf;
    while (n < max) {
        parts[n++] = p;
        p = strchr(p, ':');
        if (p == NULL) {
            break;
        }
        *p++ = '\0';
    }
    return n;
}

int
ana_sim_site_parse(const char *text, ana_sim_site_t *out, sn_err_t *err)
{
    char buf[256], *part[5], *end;
    if (s_split(text, buf, sizeof buf, part, 5) != 4) {
        return sn_err_set(err, SN_EINVAL,
                          "site '%s': expected ID:REGION:SOURCE:MEAN", text);
    }
    ana_sim_site_t s;
    memset(&s, 0, sizeof s);
    if (strlen(part[0]) == 0 || strlen(part[0]) > SN_SITE_ID_MAX ||
        strlen(part[1]) != 6) {
        return sn_err_set(err, SN_EINVAL,
                          "site '%s': bad site id or region (6 digits)", text);
    }
    if (sn_source_parse(part[2], &s.source) != SN_OK) {
        return sn_err_set(err, SN_EINVAL, "site '%s': unknown source '%s'",
                          text, part[2]);
    }
    s.mean = strtod(part[3], &end);
    if (*end != '\0' || !(s.mean >= 0 && s.mean < 1e6)) {
        return sn_err_set(err, SN_EINVAL, "site '%s': bad mean '%s'", text,
                          part[3]);
    }
    snprintf(s.site_id, sizeof s.site_id, "%s", part[0]);
    snprintf(s.region, sizeof s.region, "%s", part[1]);
    *out = s;
    return SN_OK;
}

static int
s_sources_parse(char *list, uint32_t *bits)
{
    *bits = 0;
    for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
        sn_source_t src;
        if (sn_source_parse(tok, &src) != SN_OK) {
            return SN_EINVAL;
        }
        *bits |= 1u << src;
    }
    return SN_OK;
}

int
ana_sim_outbreak_parse(const char *text, ana_sim_outbreak_t *out, sn_err_t *err)
{
    char buf[256], *part[7], *end1, *end2;
    size_t n = s_split(text, buf, sizeof buf, part, 7);
    ana_sim_outbreak_t ob;
    memset(&ob, 0, sizeof ob);
    if (n < 4 || n > 6) {
        return sn_err_set(err, SN_EINVAL,
                          "outbreak '%s': expected REGION:START:DAYS:SIZE"
                          "[:SOURCES][:CONDITION]",
                          text);
    }
    long days = strtol(part[2], &end1, 10);
    long size = strtol(part[3], &end2, 10);
    if (strlen(part[0]) == 0 || strlen(part[0]) > 6 ||
        sn_day_parse(part[1], &ob.start) != SN_OK || *end1 || *end2 ||
        days < 1 || days > 365 || size < 0 || size > 100000000) {
        return sn_err_set(err, SN_EINVAL,
                          "outbreak '%s': bad region, date, days (1..365) or "
                          "size",
                          text);
    }
    if (n >= 5 && part[4][0] && s_sources_parse(part[4], &ob.sources)) {
        return sn_err_set(err, SN_EINVAL, "outbreak '%s': unknown source",
                          text);
    }
    if (n == 6) {
        snprintf(ob.condition, sizeof ob.condition, "%s", part[5]);
    }
    snprintf(ob.region, sizeof ob.region, "%s", part[0]);
    ob.days = (int)days;
    ob.size = (uint32_t)size;
    *out = ob;
    return SN_OK;
}

/* ---- writers ------------------------------------------------------------ */

static const char *const s_formats[] = {"jsonl", "csv", "hl7"};

int
ana_sim_format_parse(const char *name, ana_sim_format_t *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, s_formats[i]) == 0) {
            *out = (ana_sim_format_t)i;
            return SN_OK;
        }
    }
    return SN_ENOTFOUND;
}

const char *
ana_sim_format_ext(ana_sim_format_t fmt)
{
    return s_formats[fmt];
}

int
ana_sim_write_header(FILE *f, ana_sim_format_t fmt)
{
    if (fmt != ANA_SIM_CSV) {
        return SN_OK;
    }
    return fputs("event_id,revision,site_id,source,region,condition,"
                 "onset_date,report_time,count,age_years,sex\n",
                 f) < 0
               ? SN_EIO
               : SN_OK;
}

static int
s_write_csv(FILE *f, const sn_event_t *ev)
{
    char onset[SN_DAY_STR_MAX] = "", rt[SN_TIME_STR_MAX];
    if (ev->onset_date != SN_DAY_NONE) {
        sn_day_format(ev->onset_date, onset);
    }
    static const char *const sex[] = {"", "male", "female", "other"};
    return fprintf(f, "%s,%u,%s,%s,%s,%s,%s,%s,%u,%d,%s\n", ev->event_id,
                   ev->revision, ev->site_id, sn_source_name(ev->source),
                   ev->region, ev->condition, onset,
                   sn_time_format(ev->report_time, rt), ev->count,
                   ev->age_years, sex[ev->sex]) < 0
               ? SN_EIO
               : SN_OK;
}

/* Diagnosis code and chief complaint an HL7 message carries. */
static void
s_hl7_clinic(const char *condition, const char **code, const char **cc)
{
    static const struct {
        const char *cond, *code, *cc;
    } map[] = {{"ili", "J06.9", "fever and cough"},
               {"cholera", "A00", "watery diarrhoea"},
               {"diarrhoea", "R19.7", "diarrhoea"},
               {"fever", "R50", "fever"},
               {"measles", "B05", "fever with rash"},
               {"hfmd", "B08.4", "hand, foot and mouth disease"}};
    *code = "";
    *cc = condition;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i].cond, condition) == 0) {
            *code = map[i].code;
            *cc = map[i].cc;
        }
    }
}

static int
s_write_hl7(FILE *f, const sn_event_t *ev)
{
    int y, m, d;
    sn_day_to_ymd(sn_time_day(ev->report_time), &y, &m, &d);
    int secs = (int)((ev->report_time / 1000) % 86400);
    char ts[32], birth[16];
    snprintf(ts, sizeof ts, "%04d%02d%02d%02d%02d%02d", y % 10000, m % 100,
             d % 100, secs / 3600, secs / 60 % 60, secs % 60);
    int by = y - (ev->age_years > 0 ? ev->age_years : 30);
    /* A visit on 29 February: the birthday is 28 February when the birth
     * year has no 29th, so the birth date stays a real date. */
    int bd = (m == 2 && d == 29 && !sn_day_is_leap(by)) ? 28 : d;
    snprintf(birth, sizeof birth, "%04d%02d%02d", by % 10000, m % 100,
             bd % 100);
    const char *code, *cc;
    s_hl7_clinic(ev->condition, &code, &cc);
    const char *sex = ev->sex == SN_SEX_MALE     ? "M"
                      : ev->sex == SN_SEX_FEMALE ? "F"
                                                 : "U";
    for (uint32_t k = 0; k < ev->count; k++) {
        if (fprintf(f,
                    "MSH|^~\\&|SIMULATE|%s|SENTINEL|CDC|%s||ADT^A04^ADT_A01|"
                    "%s-%u|P|2.5.1\r"
                    "EVN|A04|%s|||||%s\r"
                    "PID|1||||||%s|%s\r"
                    "PV1|1|E|||||||||||||||||%s-%u|||||||||||||||||||||||||%s"
                    "\r"
                    "PV2|||^%s\r"
                    "DG1|1||%s^^I10\r\n",
                    ev->site_id, ts, ev->event_id, k, ts, ev->site_id, birth,
                    sex, ev->event_id, k, ts, cc, code) < 0) {
            return SN_EIO;
        }
    }
    return SN_OK;
}

int
ana_sim_write(FILE *f, ana_sim_format_t fmt, const sn_event_t *ev)
{
    if (fmt == ANA_SIM_CSV) {
        return s_write_csv(f, ev);
    }
    if (fmt == ANA_SIM_HL7) {
        return s_write_hl7(f, ev);
    }
    char *json = sn_event_to_json(ev);
    int rc = fprintf(f, "%s\n", json) < 0 ? SN_EIO : SN_OK;
    free(json);
    return rc;
}
