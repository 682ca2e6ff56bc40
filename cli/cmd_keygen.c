/*  cli/cmd_keygen.c - `sentinel keygen`: CURVE key pairs
 *
 *  Placeholder until the transport lands: --help prints the usage, anything else says
 *  plainly that the command is not available and exits 2.
 */
#include "cli.h"

static const char s_usage[] =
    "usage: sentinel keygen -o NAME\n";

int
cli_keygen(int argc, char **argv)
{
    return cli_not_built(argc, argv, s_usage, "the transport");
}
