/*  bench/simdata.c - the simulated series the detector benchmarks share
 *
 *  See simdata.h. The Poisson draw is by multiplication of uniforms for
 *  small means and a rounded normal above 60, which is plenty for a load.
 */
#include "simdata.h"

#include <math.h>

/* xorshift64*: a fixed seed makes the data the same in every run. */
static double
s_unif(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return (double)((*x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double
s_poisson(uint64_t *x, double mean)
{
    if (mean > 60) {
        double u1 = s_unif(x), u2 = s_unif(x);
        double z = sqrt(-2 * log(u1 + 1e-300)) * cos(2 * M_PI * u2);
        return fmax(0, round(mean + sqrt(mean) * z));
    }
    double l = exp(-mean), p = s_unif(x);
    int k = 0;
    while (p > l) {
        p *= s_unif(x);
        k++;
    }
    return k;
}

void
bench_sim_series(double *y, size_t n, int freq, uint64_t seed, bool sparse)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    double level = 1 + 20 * s_unif(&x);
    if (sparse) {
        level = 0.05 + 3 * s_unif(&x) * s_unif(&x);
    }
    for (size_t t = 0; t < n; t++) {
        double season = 1 + 0.5 * sin(2 * M_PI * (double)t / freq);
        double mean = level * season * (s_unif(&x) < 0.01 ? 3 : 1);
        y[t] = s_poisson(&x, mean);
    }
}
