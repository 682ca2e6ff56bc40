/*  cli/cmd_alerts.c - `sentinel alerts`: the CDC side of alerts
 *
 *  The duty epidemiologist's commands over the alert store (list, show,
 *  ack, verify, report), `ingest` for alerts given as JSON lines, and
 *  `serve`, the alerting daemon: it takes alerts from the analyzer over the
 *  transport (each applied and its position stored in one transaction, then
 *  acknowledged), runs the delivery outbox, closes quiet alerts and serves
 *  the HTTP API, until SIGTERM or SIGINT.
 */
#include "cli.h"

#include "alr_config.h"
#include "api.h"
#include "lifecycle.h"
#include "outbox.h"
#include "report.h"
#include "sentinel/log.h"
#include "sentinel/mem.h"
#include "sentinel/metrics.h"
#include "sentinel/transport.h"
#include "store.h"
#include "store_intake.h"
#include "store_json.h"

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CMD "alerts"
#define TICK_EVERY_MS 60000 /* quiet-period check */

static const char s_usage[] =
    "usage: sentinel alerts -c CONFIG COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  list [--json]                       alerts, newest first\n"
    "  show ID [--json]                    one alert: evidence, history,\n"
    "                                      deliveries\n"
    "  ack ID --by NAME [--note TEXT]      record the acknowledgement\n"
    "  verify ID --outcome discarded|monitoring|confirmed\n"
    "         [--grade I|II|III|IV] [--by NAME] [--note TEXT]\n"
    "                                      record the verification outcome\n"
    "  report [--since YYYY-MM-DD] [--json]\n"
    "                                      response times and outcomes per\n"
    "                                      level and rule\n"
    "  ingest FILE                         take alerts from JSON lines ('-':\n"
    "                                      stdin)\n"
    "  serve                               run the alerting daemon\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 usage or configuration error,\n"
    "3 some ingested alerts were refused.\n";

/* Set by the signal handler; the one mutable static, as signal handlers
 * can only talk through such a flag. */
static volatile sig_atomic_t s_stop;

/* Parsed command line. */
typedef struct s_args {
    const char *config;  /* -c */
    const char *command; /* list, show, … */
    const char *target;  /* ID or FILE */
    const char *by, *note, *outcome, *grade, *since;
    int json; /* --json */
} s_args_t;

/* What every command opens. */
typedef struct s_env {
    alr_config_t *cfg;     /* the configuration */
    alr_store_t *store;    /* the alert store */
    alr_lifecycle_t *life; /* lifecycle over it */
} s_env_t;

/* ------------------------------------------------------------- arguments */

static int
s_flag(const char *name, int *i, int argc, char **argv, const char **out)
{
    if (strcmp(argv[*i], name) != 0) {
        return 0;
    }
    if (*i + 1 >= argc) {
        return -1;
    }
    *out = argv[++*i];
    return 1;
}

static int
s_parse(int argc, char **argv, s_args_t *a)
{
    static const char *const names[] = {"-c",        "--by",    "--note",
                                        "--outcome", "--grade", "--since"};
    for (int i = 1; i < argc; i++) {
        const char **slots[] = {&a->config,  &a->by,    &a->note,
                                &a->outcome, &a->grade, &a->since};
        int hit = 0;
        for (size_t k = 0; k < 6 && hit == 0; k++) {
            hit = s_flag(names[k], &i, argc, argv, slots[k]);
        }
        if (hit < 0) {
            return cli_usage(CMD, "option '%s' needs a value", argv[i]);
        }
        if (hit > 0) {
            continue;
        }
        if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
        } else if (argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
            return cli_usage(CMD, "unknown option '%s'", argv[i]);
        } else if (a->command == NULL) {
            a->command = argv[i];
        } else if (a->target == NULL) {
            a->target = argv[i];
        } else {
            return cli_usage(CMD, "unexpected argument '%s'", argv[i]);
        }
    }
    if (a->config == NULL) {
        return cli_usage(CMD, "missing -c CONFIG");
    }
    return a->command ? CLI_EXIT_OK : cli_usage(CMD, "missing command");
}

static int
s_open(const s_args_t *a, s_env_t *env)
{
    sn_err_t err = {0};
    if (alr_config_load(a->config, &env->cfg, &err) != SN_OK) {
        fprintf(stderr, "sentinel alerts: %s\n", sn_err_text(&err));
        return CLI_EXIT_USAGE;
    }
    sn_log_setup(env->cfg->log_level, env->cfg->log_format);
    if (alr_store_open(env->cfg->store, &env->store, &err) != SN_OK) {
        fprintf(stderr, "sentinel alerts: %s\n", sn_err_text(&err));
        return CLI_EXIT_FAILURE;
    }
    env->life = alr_lifecycle_new(env->store, &env->cfg->life);
    return CLI_EXIT_OK;
}

static void
s_close(s_env_t *env)
{
    alr_lifecycle_destroy(&env->life);
    alr_store_destroy(&env->store);
    alr_config_destroy(&env->cfg);
}

static int
s_fail(const sn_err_t *err)
{
    fprintf(stderr, "sentinel alerts: %s\n", sn_err_text(err));
    return err->code == SN_ENOTFOUND || err->code == SN_EINVAL ||
                   err->code == SN_ESTATE
               ? CLI_EXIT_USAGE
               : CLI_EXIT_FAILURE;
}

static int
s_id(const char *text, int64_t *id)
{
    char *end = NULL;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (text == NULL || *end != '\0' || v <= 0) {
        return cli_usage(CMD, "expected an alert ID, got '%s'",
                         text ? text : "");
    }
    *id = v;
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------- list, show */

static const char *
s_jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static int
s_list(s_env_t *env, const s_args_t *a)
{
    char *json = NULL;
    sn_err_t err = {0};
    if (alr_store_list_json(env->store, 1000, &json, &err) != SN_OK) {
        return s_fail(&err);
    }
    if (a->json) {
        printf("%s\n", json);
        free(json);
        return CLI_EXIT_OK;
    }
    json_t *arr = json_loads(json, 0, NULL);
    free(json);
    printf("%5s %-6s %-6s %-16s %-10s %-8s %-10s %-12s %s\n", "id", "state",
           "level", "rule", "condition", "region", "day", "acked_by",
           "outcome");
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        printf("%5lld %-6s %-6s %-16s %-10s %-8s %-10s %-12s %s\n",
               (long long)json_integer_value(json_object_get(o, "id")),
               s_jstr(o, "state"), s_jstr(o, "level"), s_jstr(o, "rule"),
               s_jstr(o, "condition"), s_jstr(o, "region"), s_jstr(o, "day"),
               s_jstr(o, "ack_by"), s_jstr(o, "outcome"));
    }
    json_decref(arr);
    return CLI_EXIT_OK;
}

static void
s_show_text(const json_t *o)
{
    printf("alert %lld: %s %s warning, rule %s\n",
           (long long)json_integer_value(json_object_get(o, "id")),
           s_jstr(o, "state"), s_jstr(o, "level"), s_jstr(o, "rule"));
    printf("condition %s, region %s, day %s\nsummary: %s\n",
           s_jstr(o, "condition"), s_jstr(o, "region"), s_jstr(o, "day"),
           s_jstr(o, "summary"));
    printf("opened %s, acknowledged %s by %s, verified %s: %s\n\n",
           s_jstr(o, "opened"), s_jstr(o, "ack_time"), s_jstr(o, "ack_by"),
           s_jstr(o, "verify_time"), s_jstr(o, "outcome"));
    printf("evidence:\n%-28s %-14s %-10s %-12s %-10s %8s %8s %8s %8s\n",
           "series", "source", "site", "detector", "day", "observed",
           "expected", "bound", "score");
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(o, "evidence"), i, r)
    {
        printf("%-28s %-14s %-10s %-12s %-10s", s_jstr(r, "series_key"),
               s_jstr(r, "source"), s_jstr(r, "site_id"), s_jstr(r, "detector"),
               s_jstr(r, "day"));
        static const char *const nums[] = {"observed", "expected", "upperbound",
                                           "score"};
        for (size_t k = 0; k < 4; k++) {
            const json_t *v = json_object_get(r, nums[k]);
            json_is_number(v) ? printf(" %8.6g", json_number_value(v))
                              : printf(" %8s", "NA");
        }
        printf("\n");
    }
    printf("\nhistory:\n");
    json_array_foreach(json_object_get(o, "history"), i, r)
    {
        char t[SN_TIME_STR_MAX];
        printf(
            "  %s %-12s %s %s\n",
            sn_time_format(json_integer_value(json_object_get(r, "at_ms")), t),
            s_jstr(r, "kind"), s_jstr(r, "by"), s_jstr(r, "detail"));
    }
}

static int
s_show(s_env_t *env, const s_args_t *a)
{
    int64_t id;
    int rc = s_id(a->target, &id);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    char *json = NULL;
    sn_err_t err = {0};
    if (alr_store_show_json(env->store, id, &json, &err) != SN_OK) {
        return s_fail(&err);
    }
    if (a->json) {
        printf("%s\n", json);
    } else {
        json_t *o = json_loads(json, 0, NULL);
        s_show_text(o);
        json_decref(o);
    }
    free(json);
    return CLI_EXIT_OK;
}

/* ----------------------------------------------------------- ack, verify */

static int
s_ack(s_env_t *env, const s_args_t *a)
{
    int64_t id;
    int rc = s_id(a->target, &id);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if (a->by == NULL) {
        return cli_usage(CMD, "ack needs --by NAME");
    }
    sn_err_t err = {0};
    if (alr_lifecycle_ack(env->life, id, a->by, a->note, sn_time_now(), &err) !=
        SN_OK) {
        return s_fail(&err);
    }
    printf("alert %lld acknowledged by %s\n", (long long)id, a->by);
    return CLI_EXIT_OK;
}

static int
s_verify(s_env_t *env, const s_args_t *a)
{
    int64_t id;
    alr_outcome_t outcome;
    int grade = 0, rc = s_id(a->target, &id);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if (alr_outcome_parse(a->outcome, &outcome) != SN_OK) {
        return cli_usage(CMD, "verify needs --outcome discarded, monitoring "
                              "or confirmed");
    }
    if (a->grade != NULL && alr_grade_parse(a->grade, &grade) != SN_OK) {
        return cli_usage(CMD, "--grade: expected I, II, III or IV, got '%s'",
                         a->grade);
    }
    const char *by = a->by ? a->by : getenv("USER");
    sn_err_t err = {0};
    if (alr_lifecycle_verify(env->life, id, outcome, grade, by ? by : "unknown",
                             a->note, sn_time_now(), &err) != SN_OK) {
        return s_fail(&err);
    }
    printf("alert %lld verified: %s%s%s\n", (long long)id,
           alr_outcome_name(outcome), grade ? ", grade " : "",
           alr_grade_name(grade));
    return CLI_EXIT_OK;
}

static int
s_report(s_env_t *env, const s_args_t *a)
{
    sn_time_t since = 0;
    if (a->since != NULL && sn_time_parse(a->since, &since) != SN_OK) {
        return cli_usage(CMD, "--since: expected YYYY-MM-DD, got '%s'",
                         a->since);
    }
    alr_report_row_t *rows = NULL;
    size_t n = 0;
    sn_err_t err = {0};
    if (alr_report_build(env->store, since, &rows, &n, &err) != SN_OK) {
        return s_fail(&err);
    }
    if (a->json) {
        char *json = alr_report_json(rows, n);
        printf("%s\n", json);
        free(json);
    } else {
        alr_report_print(stdout, rows, n);
    }
    free(rows);
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- ingest */

static int
s_ingest(s_env_t *env, const s_args_t *a)
{
    if (a->target == NULL) {
        return cli_usage(CMD, "ingest needs a FILE ('-' for stdin)");
    }
    FILE *f = strcmp(a->target, "-") == 0 ? stdin : fopen(a->target, "r");
    if (f == NULL) {
        fprintf(stderr, "sentinel alerts: cannot read %s\n", a->target);
        return CLI_EXIT_FAILURE;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, refused = 0;
    ssize_t len;
    int rc = CLI_EXIT_OK;
    while (rc == CLI_EXIT_OK && (len = getline(&line, &cap, f)) > 0) {
        lineno++;
        sn_alert_t *alert = NULL;
        sn_err_t err = {0};
        int r = sn_alert_from_json(line, (size_t)len, &alert, &err);
        r = r ? r
              : alr_lifecycle_intake(env->life, alert, sn_time_now(), NULL,
                                     &err);
        if (r == SN_EDB) {
            rc = s_fail(&err);
        } else if (r != SN_OK) {
            fprintf(stderr, "sentinel alerts: %s:%zu: %s\n", a->target, lineno,
                    sn_err_text(&err));
            refused++;
        }
        sn_alert_destroy(&alert);
    }
    free(line);
    if (f != stdin) {
        fclose(f);
    }
    return rc != CLI_EXIT_OK ? rc : refused ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
}

/* ----------------------------------------------------------------- serve */

/* The daemon's parts, owned by the main thread. */
typedef struct s_daemon {
    s_env_t *env;          /* config, store, lifecycle */
    alr_outbox_t *outbox;  /* deliveries */
    alr_api_t *api;        /* HTTP API, or NULL */
    sn_receiver_t *rx;     /* transport intake, or NULL */
    sn_metrics_t *metrics; /* counters, served when configured */
    int m_taken;           /* metric ids */
    int m_refused;
    int m_delivered;
    int m_failed;
    int m_pending;
    int64_t failed_seen; /* outbox failures already counted */
} s_daemon_t;

static void
s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* One record from the transport: applied and its position stored in one
 * transaction. A refused record is logged and skipped; a database error
 * stops the poll so the record comes again. */
static int
s_on_record(const sn_record_t *rec, void *arg)
{
    s_daemon_t *d = arg;
    sn_err_t err = {0};
    int64_t id = 0;
    int rc = alr_lifecycle_intake_record(d->env->life, rec->data, rec->len,
                                         rec->sender_id, rec->seq,
                                         sn_time_now(), &id, &err);
    char q[SN_ERR_MSG_MAX + 16];
    if (rc == SN_EDB) {
        sn_log(SN_LOG_ERROR, "alerting", "intake_failed", "reason=%s",
               sn_log_quote(q, sizeof q, sn_err_text(&err)));
        return rc;
    }
    if (rc != SN_OK) {
        sn_metrics_add(d->metrics, d->m_refused, 1);
        sn_log(SN_LOG_WARN, "alerting", "alert_refused", "reason=%s",
               sn_log_quote(q, sizeof q, sn_err_text(&err)));
        return SN_OK;
    }
    sn_metrics_add(d->metrics, d->m_taken, 1);
    sn_log(SN_LOG_INFO, "alerting", "alert_taken", "sender=%s seq=%llu id=%lld",
           rec->sender_id, (unsigned long long)rec->seq, (long long)id);
    return SN_OK;
}

static int
s_restore(const char *sender, uint64_t seq, void *arg)
{
    return sn_receiver_set_position(arg, sender, seq);
}

static void
s_metrics_register(s_daemon_t *d)
{
    sn_metrics_t *m = sn_metrics_new("sentinel_alerting");
    d->m_taken = sn_metrics_register(m, "alerts_taken", SN_METRIC_COUNTER,
                                     "alerts taken from the transport");
    d->m_refused = sn_metrics_register(m, "alerts_refused", SN_METRIC_COUNTER,
                                       "records refused (not a valid alert)");
    d->m_delivered = sn_metrics_register(m, "deliveries", SN_METRIC_COUNTER,
                                         "notifications delivered to sinks");
    d->m_failed = sn_metrics_register(m, "delivery_failures", SN_METRIC_COUNTER,
                                      "failed delivery attempts (retried)");
    d->m_pending = sn_metrics_register(m, "outbox_pending", SN_METRIC_GAUGE,
                                       "deliveries waiting in the outbox");
    d->metrics = m;
}

static int
s_daemon_start(s_daemon_t *d, sn_err_t *err)
{
    const alr_config_t *cfg = d->env->cfg;
    s_metrics_register(d);
    d->outbox = alr_outbox_new(d->env->store, &cfg->outbox);
    int rc = alr_config_make_sinks(cfg, d->outbox, err);
    if (rc == SN_OK && cfg->metrics != NULL) {
        rc = sn_metrics_serve(d->metrics, cfg->metrics,
                              10 * cfg->tick_ms + 10000, err);
    }
    if (rc == SN_OK && cfg->api_listen != NULL) {
        rc = alr_api_start(cfg->store, &cfg->life, cfg->api_listen,
                           cfg->api_token, &d->api, err);
    }
    if (rc == SN_OK && cfg->has_transport) {
        sn_transport_opts_t t = cfg->transport;
        t.state_dir = NULL; /* positions live in the store */
        rc = sn_receiver_new(&t, &d->rx, err);
        rc =
            rc ? rc : alr_store_positions(d->env->store, s_restore, d->rx, err);
    }
    return rc;
}

static void
s_daemon_stop(s_daemon_t *d)
{
    sn_receiver_destroy(&d->rx);
    alr_api_destroy(&d->api);
    alr_outbox_destroy(&d->outbox);
    sn_metrics_destroy(&d->metrics);
}

/* Wait for records (or just the tick) and take them. */
static int
s_daemon_intake(s_daemon_t *d, sn_err_t *err)
{
    int tick = d->env->cfg->tick_ms;
    if (d->rx == NULL) {
        struct timespec ts = {tick / 1000, (long)(tick % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return SN_OK;
    }
    int n = sn_receiver_poll(d->rx, tick, s_on_record, d, err);
    if (n > 0) {
        return sn_receiver_commit(d->rx, err);
    }
    return n < 0 ? n : SN_OK; /* a record that failed comes again */
}

/* One outbox pass, counted. @return delivered or SN_EDB. */
static int
s_daemon_deliver(s_daemon_t *d, sn_time_t now, sn_err_t *err)
{
    int n = alr_outbox_run(d->outbox, now, err);
    if (n > 0) {
        sn_metrics_add(d->metrics, d->m_delivered, n);
    }
    int64_t failed = alr_outbox_failures(d->outbox);
    sn_metrics_add(d->metrics, d->m_failed, failed - d->failed_seen);
    d->failed_seen = failed;
    sn_metrics_set(d->metrics, d->m_pending, alr_store_pending(d->env->store));
    sn_metrics_beat(d->metrics);
    return n;
}

/* Close quiet alerts. "Today" is the wall clock's day, or with
 * `clock: data` the newest evidence day (a replay's own calendar). */
static int
s_daemon_tick(s_daemon_t *d, sn_time_t now, sn_err_t *err)
{
    sn_day_t today = sn_time_day(now);
    if (d->env->cfg->data_clock) {
        int rc = alr_store_newest_day(d->env->store, &today, err);
        if (rc != SN_OK) {
            return rc == SN_ENOTFOUND ? SN_OK : rc;
        }
    }
    return alr_lifecycle_tick(d->env->life, today, now, err);
}

static int
s_daemon_loop(s_daemon_t *d)
{
    sn_time_t last_tick = 0;
    char q[SN_ERR_MSG_MAX + 16];
    while (!s_stop) {
        sn_err_t err = {0};
        int rc = s_daemon_intake(d, &err);
        sn_time_t now = sn_time_now();
        if (rc >= 0) {
            rc = s_daemon_deliver(d, now, &err);
        }
        if (rc >= 0 && now - last_tick >= TICK_EVERY_MS) {
            rc = s_daemon_tick(d, now, &err);
            last_tick = now;
        }
        if (rc < 0) {
            sn_log(SN_LOG_ERROR, "alerting", "loop_error", "reason=%s",
                   sn_log_quote(q, sizeof q, sn_err_text(&err)));
            rc = alr_outbox_run(d->outbox, now, &err); /* deliver anyway */
        }
    }
    return CLI_EXIT_OK;
}

static int
s_serve(s_env_t *env)
{
    s_daemon_t d = {0};
    d.env = env;
    sn_err_t err = {0};
    /* SIGTERM and SIGINT stay blocked (since main()) while the daemon
     * starts, so its threads inherit the mask and a stop that comes early
     * waits; they are unblocked for the loop, which ends at once then. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (s_daemon_start(&d, &err) != SN_OK) {
        s_daemon_stop(&d);
        fprintf(stderr, "sentinel alerts: %s\n", sn_err_text(&err));
        return CLI_EXIT_FAILURE;
    }
    sn_log(SN_LOG_INFO, "alerting", "started", "store=%s sinks=%zu api=%s",
           env->cfg->store, env->cfg->n_sinks,
           d.api ? env->cfg->api_listen : "off");
    cli_signals_release();
    int rc = s_daemon_loop(&d);
    s_daemon_stop(&d);
    sn_log(SN_LOG_INFO, "alerting", "stopped", NULL);
    return rc;
}

/* ------------------------------------------------------------------ main */

int
cli_alerts(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(s_usage, stdout);
        return CLI_EXIT_OK;
    }
    s_args_t a = {0};
    int rc = s_parse(argc, argv, &a);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    static const struct {
        const char *name;
        int (*fn)(s_env_t *, const s_args_t *);
    } cmds[] = {{"list", s_list},     {"show", s_show},
                {"ack", s_ack},       {"verify", s_verify},
                {"report", s_report}, {"ingest", s_ingest}};
    size_t k = 0;
    while (k < 6 && strcmp(cmds[k].name, a.command) != 0) {
        k++;
    }
    if (k == 6 && strcmp(a.command, "serve") != 0) {
        return cli_usage(CMD, "unknown command '%s'", a.command);
    }
    if (k < 6) {
        cli_signals_release(); /* not the daemon: Ctrl-C stops it */
    }
    s_env_t env = {0};
    rc = s_open(&a, &env);
    if (rc == CLI_EXIT_OK) {
        rc = k < 6 ? cmds[k].fn(&env, &a) : s_serve(&env);
    }
    s_close(&env);
    return rc;
}
