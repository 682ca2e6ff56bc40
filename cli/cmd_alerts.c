/*  cli/cmd_alerts.c - `sentinel alerts`: the CDC side of alerts
 *
 *  Placeholder until alerting lands: --help prints the usage, anything else says
 *  plainly that the command is not available and exits 2.
 */
#include "cli.h"

static const char s_usage[] =
    "usage: sentinel alerts -c sentinel.yaml list|show|ack|verify|report …\n";

int
cli_alerts(int argc, char **argv)
{
    return cli_not_built(argc, argv, s_usage, "alerting");
}
