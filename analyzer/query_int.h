/*  analyzer/query_int.h - the row printer the queries share
 *
 *  Folder-private to query.c and query_out.c: one printer takes rows of
 *  text cells and writes them as CSV (quoted where a cell holds a comma,
 *  quote or line break), JSON lines (numeric columns as numbers, "NA" as
 *  null; jansson does the escaping) or an aligned table (rows are kept
 *  until the end, when the column widths are known).
 *
 *  Threading: one printer per thread.
 */
#ifndef SENTINEL_ANALYZER_QUERY_INT_H
#define SENTINEL_ANALYZER_QUERY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "query.h"

typedef struct ana_query_out ana_query_out_t; /* opaque; query_out.c */

/** Start printing `ncol` columns named `names` (copied) to `out`;
 *  numeric[i] marks a number column (may be NULL: all text). Prints the
 *  CSV header at once. Never returns NULL; the caller owns the result and
 *  ends it with ana_query_out_end(). */
ana_query_out_t *ana_query_out_new(ana_query_format_t fmt, FILE *out,
                                   const char *const *names,
                                   const bool *numeric, size_t ncol);

/** Print (or, for a table, keep) one row of ncol cells, copied. */
void ana_query_out_row(ana_query_out_t *self, const char *const *cells);

/** Print what is kept, free the printer and set *self_p to NULL.
 *  @return SN_OK, or SN_EIO "cannot write the output" when `out` failed. */
int ana_query_out_end(ana_query_out_t **self_p, sn_err_t *err);

/** Write `v` as text into buf (32 bytes): "NA" for NaN, an integer
 *  without decimals, else up to 6 significant digits. @return buf. */
char *ana_query_out_num(double v, char *buf);

#endif
