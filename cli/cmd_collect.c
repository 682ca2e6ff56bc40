/*  cli/cmd_collect.c - `sentinel collect`: publish feeds or run the site daemon
 *
 *  Placeholder until the collector lands: --help prints the usage, anything else says
 *  plainly that the command is not available and exits 2.
 */
#include "cli.h"

static const char s_usage[] =
    "usage: sentinel collect -c collector.yaml [FILE…]\n";

int
cli_collect(int argc, char **argv)
{
    return cli_not_built(argc, argv, s_usage, "the collector");
}
