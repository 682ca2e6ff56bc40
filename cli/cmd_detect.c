/*  cli/cmd_detect.c - `sentinel detect`: run one detector over a CSV series
 *
 *  Placeholder until the detector library lands: --help prints the usage, anything else says
 *  plainly that the command is not available and exits 2.
 */
#include "cli.h"

static const char s_usage[] =
    "usage: sentinel detect --method METHOD [--param NAME=VALUE]… [--range FROM:TO] [--frequency N] FILE.csv|-\n";

int
cli_detect(int argc, char **argv)
{
    return cli_not_built(argc, argv, s_usage, "the detector library");
}
