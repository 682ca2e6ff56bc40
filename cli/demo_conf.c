/*  cli/demo_conf.c - the demo's embedded configuration and its sites
 *
 *  The templates below are complete daemon configurations with the demo
 *  folder and the ports filled in; the deploy folder's YAML files are the
 * commented production examples they were cut from. CURVE is off on purpose:
 * every socket is an ipc file in DIR/run or a 127.0.0.1 port, and the demo says
 * so when it starts. Never do this across machines.
 */
#include "demo_conf.h"

#include "sentinel/mem.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MARKER ".sentinel-demo" /* the file that makes a folder ours */
#define S_IPC_MAX 100             /* longest ipc:// path ZeroMQ takes */

/* -- the folder ----------------------------------------------------------- */

static int
s_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level == 0) {
        return 0; /* keep the folder itself */
    }
    return remove(path) == 0 ? 0 : -1;
}

/* @return 1 when `dir` has entries, 0 when empty, -1 when unreadable. */
static int
s_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return -1;
    }
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL) {
        found = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(d);
    return found;
}

const char *
cli_demo_conf_folder(cli_demo_conf_t *conf, const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        return "cannot create the demo folder";
    }
    char real[PATH_MAX];
    if (realpath(dir, real) == NULL || strlen(real) >= sizeof conf->dir) {
        return "cannot resolve the demo folder";
    }
    memcpy(conf->dir, real, strlen(real) + 1); /* it fits: checked above */
    if (strlen(real) + 32 > S_IPC_MAX) {
        return "the demo folder's path is too long for ipc:// sockets "
               "(choose a shorter --dir)";
    }
    char marker[PATH_MAX + 32];
    snprintf(marker, sizeof marker, "%s/%s", real, S_MARKER);
    int full = s_has_entries(real);
    if (full < 0) {
        return "cannot read the demo folder";
    }
    if (full && access(marker, F_OK) != 0) {
        return "the folder is not empty and was not made by 'sentinel demo' "
               "(no .sentinel-demo file): refusing to overwrite it";
    }
    if (full && nftw(real, s_rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        return "cannot empty the previous demo folder";
    }
    FILE *f = fopen(marker, "w");
    if (f == NULL) {
        return "cannot write the demo folder's marker file";
    }
    fputs("made by 'sentinel demo': it empties this folder on its next run\n",
          f);
    fclose(f);
    return 0;
}

cli_demo_path_t
cli_demo_path(const cli_demo_conf_t *conf, const char *rel)
{
    cli_demo_path_t p;
    snprintf(p.s, sizeof p.s, "%s/%s", conf->dir, rel);
    return p;
}

/* -- ports and sites ---------------------------------------------------------
 */

/* The sockets that hold the ports picked so far: each stays bound until
 * every port is picked, so the kernel cannot hand one out twice. */
typedef struct s_ports {
    int fd[CLI_DEMO_SITES * 2 + 3];
    int n;
} s_ports_t;

/* @return a TCP port on 127.0.0.1 that no other pick of `held` has, free
 * a moment ago, or -1. */
static int
s_free_port(s_ports_t *held)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    int cap = (int)(sizeof held->fd / sizeof held->fd[0]);
    if (fd >= 0 && port > 0 && held->n < cap) {
        held->fd[held->n++] = fd;
    } else if (fd >= 0) {
        close(fd);
    }
    return port;
}

int
cli_demo_conf_ports(cli_demo_conf_t *conf)
{
    static const char *const counties[] = {"330102", "330105", "330106"};
    static const struct {
        const char *tag;
        sn_source_t source;
        double mean;
    } kinds[] = {{"h", SN_SOURCE_HOSPITAL, 8},
                 {"f", SN_SOURCE_FEVER_CLINIC, 5},
                 {"p", SN_SOURCE_PHARMACY, 12}};
    s_ports_t held = {.n = 0};
    int ok = 1;
    for (int c = 0; c < 3; c++) {
        for (int k = 0; k < 3; k++) {
            cli_demo_site_t *s = &conf->sites[c * 3 + k];
            snprintf(s->id, sizeof s->id, "%s-%s", kinds[k].tag, counties[c]);
            snprintf(s->region, sizeof s->region, "%s", counties[c]);
            s->source = kinds[k].source;
            s->mean = kinds[k].mean;
            s->mllp_port = k == 0 ? s_free_port(&held) : 0;
            s->metrics_port = s_free_port(&held);
            ok = ok && s->mllp_port >= 0 && s->metrics_port > 0;
        }
    }
    conf->analyzer_metrics = s_free_port(&held);
    conf->alerting_metrics = s_free_port(&held);
    conf->cap_port = s_free_port(&held);
    ok = ok && conf->analyzer_metrics > 0 && conf->alerting_metrics > 0 &&
         conf->cap_port > 0;
    for (int i = 0; i < held.n; i++) {
        close(held.fd[i]);
    }
    return ok ? 0 : -1;
}

/* -- the templates ------------------------------------------------------- */

/* The analyzer: days close by the data (wall_clock off) since years are
 * replayed in a minute; EARS C2 on every daily series and Farrington on
 * weekly county and prefecture totals (three years of history). */
static const char s_analyzer_yaml[] =
    "# analyzer.yaml - written by 'sentinel demo' (see deploy/sentinel.yaml)\n"
    "# DEMO ONLY: curve is off; every socket is local to this machine.\n"
    "analyzer:\n"
    "  state_dir: %1$s/analyzer\n"
    "  dead_letter: %1$s/analyzer/dead-letter.jsonl\n"
    "  metrics: 127.0.0.1:%2$d\n"
    "  checkpoint_ms: 200\n"
    "  date_basis: report\n"
    "  lateness_days: 6\n"
    "  idle_days: 30\n"
    "  horizon_days: 60\n"
    "  wall_clock: false\n"
    "  window_days: 1096\n"
    "  dedup_capacity: 400000\n"
    "transport:\n"
    "  kind: zmq\n"
    "  endpoint: ipc://%1$s/run/events.ipc\n"
    "  curve: false\n"
    "alerts:\n"
    "  transport:\n"
    "    kind: zmq\n"
    "    endpoint: ipc://%1$s/run/alerts.ipc\n"
    "    sender_id: analyzer\n"
    "    curve: false\n"
    "  spool:\n"
    "    dir: %1$s/analyzer/outbox\n"
    "    fsync: batch\n"
    "archive:\n"
    "  path: %1$s/archive.h5\n"
    "  flush_interval: 1\n"
    "series:\n"
    "  - condition: ili\n"
    "    sources: [hospital, fever_clinic, pharmacy]\n"
    "    levels: [site, county, prefecture]\n"
    "detectors:\n"
    "  - name: ears-c2\n"
    "    method: ears-c2\n"
    "    params: {alpha: 0.001, baseline: 28}\n"
    "  - name: farrington-flexible\n"
    "    method: farrington-flexible\n"
    "    weekly: true\n"
    "    levels: [county, prefecture]\n"
    "    params: {b: 2, w: 3}\n"
    "rules:\n"
    "  - {name: class-a-case, kind: threshold, level: red, classes: A}\n"
    "  - {name: single-source, kind: single, level: blue,\n"
    "     detector: ears-c2}\n"
    "  - {name: multi-source, kind: multi-source, level: yellow, k: 2,\n"
    "     days: 3, detector: ears-c2}\n"
    "  - {name: multi-site, kind: multi-site, level: orange, k: 4, days: 3,\n"
    "     group: prefecture, detector: ears-c2}\n"
    "  - {name: spread, kind: spread, level: orange, k: 3, days: 3,\n"
    "     group: prefecture, series: county, detector: ears-c2}\n"
    "  - {name: all-sources, kind: multi-source, level: red, k: 3, days: 7,\n"
    "     group: prefecture, series: prefecture, detector: ears-c2}\n"
    "health:\n"
    "  silent_days: 3\n"
    "  level: blue\n";

/* The alerting daemon: quiet days counted on the replayed data. */
static const char s_alerting_yaml[] =
    "# alerting.yaml - written by 'sentinel demo' (see "
    "deploy/alerting.yaml)\n"
    "# DEMO ONLY: curve is off; every socket is local to this machine.\n"
    "alerting:\n"
    "  store: %1$s/alerting/alerts.db\n"
    "  quiet_days: 7\n"
    "  clock: data\n"
    "  metrics: 127.0.0.1:%2$d\n"
    "  tick_ms: 50\n"
    "  cap:\n"
    "    sender: sentinel.demo.local\n"
    "    status: Exercise\n"
    "    restriction: \"Demo: CDC duty epidemiologists only\"\n"
    "    language: en-US\n"
    "  outbox:\n"
    "    base_ms: 100\n"
    "    max_ms: 1000\n"
    "  sinks:\n"
    "    - name: cap-webhook\n"
    "      kind: webhook\n"
    "      url: http://127.0.0.1:%3$d/cap\n"
    "      format: cap\n"
    "      secret_file: %1$s/etc/webhook.secret\n"
    "      timeout_ms: 5000\n"
    "    - name: pub\n"
    "      kind: zmq\n"
    "      endpoint: ipc://%1$s/run/alerts-pub.ipc\n"
    "      format: json\n"
    "    - name: alert-log\n"
    "      kind: log\n"
    "      path: %1$s/alerts.jsonl\n"
    "transport:\n"
    "  kind: zmq\n"
    "  endpoint: ipc://%1$s/run/alerts.ipc\n"
    "  curve: false\n"
    "log:\n"
    "  level: info\n"
    "  format: logfmt\n";

/* One site's collector: the feed kinds the simulator writes. */
static const char s_collector_yaml[] =
    "# %2$s.yaml - written by 'sentinel demo' (see deploy/collector.yaml)\n"
    "# DEMO ONLY: curve is off; every socket is local to this machine.\n"
    "metrics: 127.0.0.1:%6$d\n"
    "site:\n"
    "  id: \"%2$s\"\n"
    "  source: %3$s\n"
    "  region: \"%4$s\"\n"
    "inputs:\n"
    "  json: {}\n"
    "  csv:\n"
    "    columns: {event_id: event_id, site_id: site_id, source: source,\n"
    "              region: region, condition: condition,\n"
    "              onset_date: onset_date, report_time: report_time,\n"
    "              count: count, age_years: age_years, sex: sex}\n"
    "  hl7:\n"
    "    event_id: plain\n"
    "    unmatched: unexplained\n"
    "%5$s"
    "dead_letter:\n"
    "  path: %1$s/sites/%2$s/dead-letter.jsonl\n"
    "  fsync: batch\n"
    "spool:\n"
    "  dir: %1$s/sites/%2$s/spool\n"
    "  fsync: never               # demo speed; batch or always in "
    "production\n"
    "transport:\n"
    "  kind: zmq\n"
    "  endpoint: ipc://%1$s/run/events.ipc\n"
    "  sender_id: \"%2$s\"\n"
    "  curve: false\n"
    "log:\n"
    "  level: info\n"
    "  format: logfmt\n";

static int
s_write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    int rc = fputs(text, f) < 0 ? -1 : 0;
    rc = fclose(f) != 0 ? -1 : rc;
    return rc == 0 ? chmod(path, mode) : rc;
}

static int
s_write_collector(const cli_demo_conf_t *c, const cli_demo_site_t *s)
{
    char input[2400], sub[1200];
    char mllp[64] = "";
    if (s->mllp_port > 0) {
        snprintf(mllp, sizeof mllp, "mllp:\n  listen: \"127.0.0.1:%d\"\n",
                 s->mllp_port);
    }
    snprintf(input, sizeof input,
             "%sinbox:\n  path: %s/sites/%s/inbox\n"
             "  done: %s/sites/%s/done\n  poll_ms: 20\n"
             /* demo_feed.c writes each file then renames it in */
             "  settle_ms: 0\n",
             mllp, c->dir, s->id, c->dir, s->id);
    snprintf(sub, sizeof sub, "%s/sites/%s", c->dir, s->id);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/sites/%s/inbox", c->dir, s->id);
    mkdir(sub, 0755);
    char *yaml = sn_strdup_printf(s_collector_yaml, c->dir, s->id,
                                  sn_source_name(s->source), s->region, input,
                                  s->metrics_port);
    char *path = sn_strdup_printf("%s/etc/%s.yaml", c->dir, s->id);
    int rc = s_write_file(path, yaml, 0644);
    free(path);
    free(yaml);
    return rc;
}

int
cli_demo_conf_write(const cli_demo_conf_t *c)
{
    static const char *const dirs[] = {"etc",   "run", "analyzer", "alerting",
                                       "sites", "cap", "logs",     "plots"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (mkdir(cli_demo_path(c, dirs[i]).s, 0755) != 0) {
            return -1;
        }
    }
    char *a = sn_strdup_printf(s_analyzer_yaml, c->dir, c->analyzer_metrics);
    char *b = sn_strdup_printf(s_alerting_yaml, c->dir, c->alerting_metrics,
                               c->cap_port);
    int rc = s_write_file(cli_demo_path(c, "etc/analyzer.yaml").s, a, 0644);
    rc = rc ? rc
            : s_write_file(cli_demo_path(c, "etc/alerting.yaml").s, b, 0644);
    rc = rc ? rc
            : s_write_file(cli_demo_path(c, "etc/webhook.secret").s,
                           "demo-webhook-secret\n", 0600);
    free(a);
    free(b);
    for (int i = 0; rc == 0 && i < CLI_DEMO_SITES; i++) {
        rc = s_write_collector(c, &c->sites[i]);
    }
    return rc;
}
