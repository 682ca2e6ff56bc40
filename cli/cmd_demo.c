/*  cli/cmd_demo.c - `sentinel demo`: the end-to-end demo
 *
 *  Placeholder until the demo lands: --help prints the usage, anything else says
 *  plainly that the command is not available and exits 2.
 */
#include "cli.h"

static const char s_usage[] =
    "usage: sentinel demo [--dir DIR]\n";

int
cli_demo(int argc, char **argv)
{
    return cli_not_built(argc, argv, s_usage, "the demo");
}
