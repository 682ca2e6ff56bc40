/*  cli/cmd_simulate.c - `sentinel simulate`: synthetic feeds
 *
 *  Placeholder until the simulator lands: --help prints the usage, anything else says
 *  plainly that the command is not available and exits 2.
 */
#include "cli.h"

static const char s_usage[] =
    "usage: sentinel simulate …\n";

int
cli_simulate(int argc, char **argv)
{
    return cli_not_built(argc, argv, s_usage, "the simulator");
}
