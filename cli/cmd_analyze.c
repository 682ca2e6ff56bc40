/*  cli/cmd_analyze.c - `sentinel analyze`: the analyzer daemon
 *
 *  Placeholder until the analyzer lands: --help prints the usage, anything else says
 *  plainly that the command is not available and exits 2.
 */
#include "cli.h"

static const char s_usage[] =
    "usage: sentinel analyze -c sentinel.yaml\n";

int
cli_analyze(int argc, char **argv)
{
    return cli_not_built(argc, argv, s_usage, "the analyzer");
}
