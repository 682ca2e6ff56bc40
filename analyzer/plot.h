/*  analyzer/plot.h - draw a queried series as a PNG, SVG or PDF picture
 *
 *  `sentinel query series KEY --plot FILE` draws what the query loaded
 *  (query.h): the observed counts as bars, the chosen detector's upper
 *  bound and expected value as lines, a red marker over every day whose
 *  alarm was raised, a title naming the key and the detector, and axes
 *  labelled with counts and dates. Weekly and roll-up tables have no
 *  bounds (they do not add up): their pictures say so under the title.
 *  Drawing is cairo's; the file type follows the file name's extension.
 *
 *  Threading: pure functions of their arguments; callable from any thread
 *  on tables that thread owns.
 */
#ifndef SENTINEL_ANALYZER_PLOT_H
#define SENTINEL_ANALYZER_PLOT_H

#include "query.h"
#include "sentinel/error.h"

#define ANA_PLOT_WIDTH 1000 /* picture size, pixels (PNG) or points */
#define ANA_PLOT_HEIGHT 520

/** Draw `series` with the columns of `detector` (NULL: the table's first
 *  detector, if any) into `path`, a .png, .svg or .pdf file.
 *  @return SN_OK; SN_EINVAL "--plot: 'F': give a .png, .svg or .pdf file";
 *  SN_ENOTFOUND "detector 'D' is not in the archive"; SN_EIO when the file
 *  cannot be written. */
int ana_plot_series(const ana_query_series_t *series, const char *detector,
                    const char *path, sn_err_t *err);

/** Free cairo's process-wide caches (fonts, patterns). Call at most once,
 *  at the end of a process that drew pictures, when no thread draws: the
 *  CLI does, so leak checkers see only real leaks. */
void ana_plot_shutdown(void);

#endif
