/*  cli/demo_conf.h - the demo's embedded configuration and its sites
 *
 *  The demo writes one configuration per daemon into DIR/etc, from the
 *  templates embedded here: the analyzer (ZeroMQ on ipc:// sockets in
 *  DIR/run, CURVE off because everything stays on this machine, the HDF5
 *  archive DIR/archive.h5), the alerting daemon (SQLite store, a CAP
 *  webhook to the demo's own receiver, a ZeroMQ PUB the demo subscribes to,
 *  the JSON-lines alert log) and one collector per site. The sites are nine
 *  in three counties of prefecture 3301: a sentinel hospital sending HL7
 *  over MLLP, a fever clinic sending JSON lines and a pharmacy sending CSV
 *  in each county.
 *
 *  Threading: main thread only.
 */
#ifndef SENTINEL_CLI_DEMO_CONF_H
#define SENTINEL_CLI_DEMO_CONF_H

#include <stdbool.h>

#include "sentinel/event.h"

#define CLI_DEMO_SITES 9
#define CLI_DEMO_PREFECTURE "3301"

/* One demo site and its collector. */
typedef struct cli_demo_site {
    char id[SN_SITE_ID_MAX + 1]; /* site code, e.g. "h-330102" */
    char region[8];              /* its county */
    sn_source_t source;          /* hospital, fever_clinic, pharmacy */
    double mean;                 /* baseline cases per day */
    int mllp_port;               /* hospitals: the collector's listener */
    int metrics_port;            /* the collector's /metrics */
} cli_demo_site_t;

/* Where everything lives, and the ports chosen at start. */
typedef struct cli_demo_conf {
    char dir[512];        /* the demo folder, absolute */
    int analyzer_metrics; /* port of the analyzer's /metrics */
    int alerting_metrics; /* port of the alerting daemon's /metrics */
    int cap_port;         /* the demo's CAP webhook receiver */
    cli_demo_site_t sites[CLI_DEMO_SITES];
} cli_demo_conf_t;

/** Prepare the demo folder `dir`: create it, or empty it when it holds the
 *  demo's marker file; refuse a folder that is not empty and has no marker
 *  (nothing of the user's is ever deleted). Fills conf->dir with the
 *  absolute path. @return 0, or an error message (static) on failure. */
const char *cli_demo_conf_folder(cli_demo_conf_t *conf, const char *dir);

/** Choose free loopback ports and fill the site table. @return 0 or -1. */
int cli_demo_conf_ports(cli_demo_conf_t *conf);

/** Write DIR/etc/analyzer.yaml, alerting.yaml and one collector YAML per
 *  site, and the folders they name. @return 0 or -1 (errno set). */
int cli_demo_conf_write(const cli_demo_conf_t *conf);

/* A path inside the demo folder, returned by value (no static buffers). */
typedef struct cli_demo_path {
    char s[1100]; /* "DIR/REL", NUL-terminated */
} cli_demo_path_t;

/** @return "DIR/REL". */
cli_demo_path_t cli_demo_path(const cli_demo_conf_t *conf, const char *rel);

#endif
