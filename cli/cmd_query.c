/*  cli/cmd_query.c - `sentinel query`: read the archive
 *
 *  Placeholder until the archive reader lands: --help prints the usage, anything else says
 *  plainly that the command is not available and exits 2.
 */
#include "cli.h"

static const char s_usage[] =
    "usage: sentinel query -a ARCHIVE list|series|alerts …\n";

int
cli_query(int argc, char **argv)
{
    return cli_not_built(argc, argv, s_usage, "the archive reader");
}
