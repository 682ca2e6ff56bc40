/*  analyzer/plot.c - draw a queried series as a PNG, SVG or PDF picture
 *
 *  One cairo drawing for the three file types: a PNG is an image surface
 *  written at the end, SVG and PDF are vector surfaces that write as they
 *  draw. The plot area maps row i to the middle of its bar slot and counts
 *  from 0 up to a "nice" maximum (1, 2 or 5 times a power of ten), so the
 *  axis ticks fall on round numbers.
 */
#include "plot.h"

#include "sentinel/mem.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S_LEFT 80.0 /* margins of the plot area */
#define S_RIGHT 30.0
#define S_TOP 70.0
#define S_BOTTOM 70.0
#define S_YTICKS 5  /* about this many count ticks */
#define S_XLABELS 7 /* about this many date labels */
#define S_FONT "sans-serif"

/* What is drawn and where. */
typedef struct s_plot {
    const ana_query_series_t *s; /* the table; borrowed */
    const char *det;             /* detector drawn, or NULL */
    int obs, ub, ex, alarm;      /* column indexes, -1 when absent */
    size_t n;                    /* rows */
    double ymax;                 /* top of the count axis */
    double x0, x1, y0, y1;       /* plot area: left, right, bottom, top */
} s_plot_t;

/* @return 1, 2 or 5 times a power of ten, at least v / S_YTICKS. */
static double
s_tick_step(double v)
{
    double raw = v / S_YTICKS, p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static double
s_val(const s_plot_t *p, int col, size_t i)
{
    return col < 0 ? NAN : ana_query_series_value(p->s, col, i);
}

/* Find the columns to draw and the top of the count axis. */
static void
s_scale(s_plot_t *p)
{
    char name[96];
    const char *w = ana_query_series_weekly(p->s) ? "alarms" : "alarm";
    p->obs = ana_query_series_column(p->s, "observed");
    snprintf(name, sizeof name, "%s.upperbound", p->det ? p->det : "");
    p->ub = p->det ? ana_query_series_column(p->s, name) : -1;
    snprintf(name, sizeof name, "%s.expected", p->det ? p->det : "");
    p->ex = p->det ? ana_query_series_column(p->s, name) : -1;
    snprintf(name, sizeof name, "%s.%s", p->det ? p->det : "", w);
    p->alarm = p->det ? ana_query_series_column(p->s, name) : -1;
    double top = 0;
    for (size_t i = 0; i < p->n; i++) {
        double v[3] = {s_val(p, p->obs, i), s_val(p, p->ub, i),
                       s_val(p, p->ex, i)};
        for (int k = 0; k < 3; k++) {
            top = isfinite(v[k]) && v[k] > top ? v[k] : top;
        }
    }
    top = top > 0 ? top * 1.12 : 1;
    double step = s_tick_step(top);
    p->ymax = ceil(top / step) * step;
    p->x0 = S_LEFT;
    p->x1 = ANA_PLOT_WIDTH - S_RIGHT;
    p->y0 = ANA_PLOT_HEIGHT - S_BOTTOM;
    p->y1 = S_TOP;
}

static double
s_x(const s_plot_t *p, double i)
{
    return p->x0 + (p->x1 - p->x0) * (i + 0.5) / (double)p->n;
}

static double
s_y(const s_plot_t *p, double v)
{
    return p->y0 - (p->y0 - p->y1) * v / p->ymax;
}

static void
s_text(cairo_t *cr, double x, double y, const char *t, double align)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, t, &e);
    cairo_move_to(cr, x - e.width * align - e.x_bearing, y);
    cairo_show_text(cr, t);
}

/* Count axis: grid lines, tick labels and the axis title. */
static void
s_draw_yaxis(cairo_t *cr, const s_plot_t *p)
{
    double step = s_tick_step(p->ymax);
    cairo_set_font_size(cr, 12);
    for (double v = 0; v <= p->ymax + step / 2; v += step) {
        char t[32];
        snprintf(t, sizeof t, "%g", v);
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, p->x0, s_y(p, v));
        cairo_line_to(cr, p->x1, s_y(p, v));
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        s_text(cr, p->x0 - 8, s_y(p, v) + 4, t, 1.0);
    }
    cairo_save(cr);
    cairo_translate(cr, 22, (p->y0 + p->y1) / 2);
    cairo_rotate(cr, -M_PI / 2);
    cairo_set_font_size(cr, 14);
    s_text(cr, 0, 0,
           ana_query_series_weekly(p->s) ? "cases per week" : "cases per day",
           0.5);
    cairo_restore(cr);
}

/* Date axis: about S_XLABELS evenly spaced row dates and the axis title. */
static void
s_draw_xaxis(cairo_t *cr, const s_plot_t *p)
{
    size_t every = (p->n + S_XLABELS - 1) / S_XLABELS;
    cairo_set_font_size(cr, 12);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (size_t i = 0; i < p->n; i += every) {
        char d[SN_DAY_STR_MAX];
        sn_day_format(ana_query_series_day(p->s, i), d);
        cairo_move_to(cr, s_x(p, (double)i), p->y0);
        cairo_line_to(cr, s_x(p, (double)i), p->y0 + 5);
        cairo_stroke(cr);
        s_text(cr, s_x(p, (double)i), p->y0 + 20, d, 0.5);
    }
    cairo_move_to(cr, p->x0, p->y0);
    cairo_line_to(cr, p->x1, p->y0);
    cairo_move_to(cr, p->x0, p->y0);
    cairo_line_to(cr, p->x0, p->y1);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 14);
    s_text(cr, (p->x0 + p->x1) / 2, ANA_PLOT_HEIGHT - 18,
           ana_query_series_weekly(p->s) ? "week (first day)" : "date", 0.5);
}

static void
s_draw_bars(cairo_t *cr, const s_plot_t *p)
{
    double w = (p->x1 - p->x0) / (double)p->n;
    double gap = w > 4 ? w * 0.15 : 0;
    cairo_set_source_rgb(cr, 0.55, 0.70, 0.85);
    for (size_t i = 0; i < p->n; i++) {
        double v = s_val(p, p->obs, i);
        if (isfinite(v) && v > 0) {
            double x = p->x0 + w * (double)i + gap / 2;
            cairo_rectangle(cr, x, s_y(p, v), w - gap, p->y0 - s_y(p, v));
        }
    }
    cairo_fill(cr);
}

/* A line through the finite values of column `col`, broken at gaps. */
static void
s_draw_line(cairo_t *cr, const s_plot_t *p, int col, bool dashed)
{
    if (col < 0) {
        return;
    }
    double dash[] = {6, 4};
    cairo_set_dash(cr, dash, dashed ? 2 : 0, 0);
    cairo_set_line_width(cr, dashed ? 1.5 : 2.2);
    bool down = false;
    for (size_t i = 0; i < p->n; i++) {
        double v = s_val(p, col, i);
        if (!isfinite(v)) {
            down = false;
            continue;
        }
        v = v > p->ymax ? p->ymax : v;
        if (down) {
            cairo_line_to(cr, s_x(p, (double)i), s_y(p, v));
        } else {
            cairo_move_to(cr, s_x(p, (double)i), s_y(p, v));
        }
        down = true;
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, dash, 0, 0);
    cairo_set_line_width(cr, 1);
}

/* A red triangle above the bar of each row whose alarm was raised. */
static void
s_draw_alarms(cairo_t *cr, const s_plot_t *p)
{
    cairo_set_source_rgb(cr, 0.85, 0.1, 0.1);
    for (size_t i = 0; p->alarm >= 0 && i < p->n; i++) {
        if (!(s_val(p, p->alarm, i) > 0)) {
            continue;
        }
        double v = s_val(p, p->obs, i);
        double x = s_x(p, (double)i);
        double y = s_y(p, isfinite(v) ? v : 0) - 6;
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x - 6, y - 10);
        cairo_line_to(cr, x + 6, y - 10);
        cairo_close_path(cr);
    }
    cairo_fill(cr);
}

/* One legend entry at (x, y): a swatch of `kind` and its text. */
static double
s_legend_item(cairo_t *cr, double x, double y, int kind, const char *t)
{
    static const double rgb[4][3] = {{0.55, 0.70, 0.85},
                                     {0.80, 0.30, 0.05},
                                     {0.35, 0.35, 0.35},
                                     {0.85, 0.10, 0.10}};
    cairo_set_source_rgb(cr, rgb[kind][0], rgb[kind][1], rgb[kind][2]);
    if (kind == 0) {
        cairo_rectangle(cr, x, y - 9, 16, 10);
        cairo_fill(cr);
    } else if (kind == 3) {
        cairo_move_to(cr, x + 8, y + 1);
        cairo_line_to(cr, x + 2, y - 9);
        cairo_line_to(cr, x + 14, y - 9);
        cairo_fill(cr);
    } else {
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, x, y - 4);
        cairo_line_to(cr, x + 16, y - 4);
        cairo_stroke(cr);
        cairo_set_line_width(cr, 1);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_text_extents_t e;
    cairo_text_extents(cr, t, &e);
    s_text(cr, x + 22, y, t, 0);
    return x + 22 + e.x_advance + 18;
}

/* Title, a note on what is not drawn, and the legend. */
static void
s_draw_title(cairo_t *cr, const s_plot_t *p)
{
    char t[256];
    bool bounds = p->ub >= 0;
    snprintf(t, sizeof t, "%s%s%s%s", ana_query_series_key(p->s),
             p->det ? "  -  detector " : "", p->det ? p->det : "",
             ana_query_series_weekly(p->s) ? "  (weekly)" : "");
    cairo_select_font_face(cr, S_FONT, CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 17);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    s_text(cr, ANA_PLOT_WIDTH / 2.0, 26, t, 0.5);
    cairo_select_font_face(cr, S_FONT, CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    double x = p->x0;
    x = s_legend_item(cr, x, 52, 0, "observed");
    if (bounds) {
        x = s_legend_item(cr, x, 52, 1, "upper bound");
        x = s_legend_item(cr, x, 52, 2, "expected");
    }
    if (p->alarm >= 0) {
        x = s_legend_item(cr, x, 52, 3, "alarm");
    }
    if (!bounds) {
        cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
        s_text(cr, x, 52,
               "(no bounds: daily baselines do not add up over weeks or "
               "regions)",
               0);
    }
}

static void
s_draw(cairo_t *cr, s_plot_t *p)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, S_FONT, CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_line_width(cr, 1);
    s_draw_yaxis(cr, p);
    s_draw_bars(cr, p);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    s_draw_line(cr, p, p->ex, true);
    cairo_set_source_rgb(cr, 0.80, 0.30, 0.05);
    s_draw_line(cr, p, p->ub, false);
    s_draw_alarms(cr, p);
    s_draw_xaxis(cr, p);
    s_draw_title(cr, p);
}

/* @return the surface for `path` by its extension, or NULL. *png is set
 * when the picture must be written at the end. */
static cairo_surface_t *
s_surface(const char *path, bool *png)
{
    const char *dot = strrchr(path, '.');
    *png = false;
    if (dot == NULL) {
        return NULL;
    }
    if (strcasecmp(dot, ".png") == 0) {
        *png = true;
        return cairo_image_surface_create(CAIRO_FORMAT_RGB24, ANA_PLOT_WIDTH,
                                          ANA_PLOT_HEIGHT);
    }
    if (strcasecmp(dot, ".svg") == 0) {
        return cairo_svg_surface_create(path, ANA_PLOT_WIDTH, ANA_PLOT_HEIGHT);
    }
    if (strcasecmp(dot, ".pdf") == 0) {
        return cairo_pdf_surface_create(path, ANA_PLOT_WIDTH, ANA_PLOT_HEIGHT);
    }
    return NULL;
}

/* @return the detector to draw (NULL when the table has none). */
static int
s_pick_detector(const ana_query_series_t *s, const char *want, const char **out,
                sn_err_t *err)
{
    size_t n = ana_query_series_detector_count(s);
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if (want == NULL ||
            strcmp(want, ana_query_series_detector(s, i)) == 0) {
            *out = ana_query_series_detector(s, i);
            return SN_OK;
        }
    }
    if (want != NULL) {
        return sn_err_set(err, SN_ENOTFOUND,
                          "detector '%s' is not in the archive", want);
    }
    return SN_OK;
}

int
ana_plot_series(const ana_query_series_t *series, const char *detector,
                const char *path, sn_err_t *err)
{
    s_plot_t p = {.s = series, .n = ana_query_series_rows(series)};
    int rc = s_pick_detector(series, detector, &p.det, err);
    if (rc != SN_OK) {
        return rc;
    }
    bool png = false;
    cairo_surface_t *sf = s_surface(path, &png);
    if (sf == NULL) {
        return sn_err_set(err, SN_EINVAL,
                          "--plot: '%s': give a .png, .svg or .pdf file", path);
    }
    s_scale(&p);
    cairo_t *cr = cairo_create(sf);
    s_draw(cr, &p);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (st == CAIRO_STATUS_SUCCESS && png) {
        st = cairo_surface_write_to_png(sf, path);
    }
    cairo_surface_finish(sf);
    if (st == CAIRO_STATUS_SUCCESS) {
        st = cairo_surface_status(sf);
    }
    cairo_surface_destroy(sf);
    if (st != CAIRO_STATUS_SUCCESS) {
        return sn_err_set(err, SN_EIO, "%s: cannot write the plot: %s", path,
                          cairo_status_to_string(st));
    }
    return SN_OK;
}

void
ana_plot_shutdown(void)
{
    cairo_debug_reset_static_data();
}
