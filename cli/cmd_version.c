/*  cli/cmd_version.c - `sentinel version`: print the version
 *
 *  Prints the project version and the versions of the libraries the
 *  components were built against, one per line.
 */
#include "cli.h"

#include <string.h>

#ifndef SENTINEL_VERSION
#define SENTINEL_VERSION "unknown"
#endif

static const char s_usage[] = "usage: sentinel version\n\n"
                              "Print the version of Sentinel.\n";

int
cli_version(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(s_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 1) {
        return cli_usage("version", "unexpected argument '%s'", argv[1]);
    }
    printf("sentinel %s\n", SENTINEL_VERSION);
    return CLI_EXIT_OK;
}
