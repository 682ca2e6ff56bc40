/*  bench/simdata.h - the simulated series the detector benchmarks share
 *
 *  Seasonal Poisson counts with a level of their own per series and an
 *  outbreak now and then, from a fixed-seed xorshift64* generator, so every
 *  benchmark run (and R, which is given the same numbers) sees the same data.
 *
 *  Threading: pure; the caller owns every buffer.
 */
#ifndef SENTINEL_BENCH_SIMDATA_H
#define SENTINEL_BENCH_SIMDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Fill y[0..n-1] with series number `seed`, of `freq` periods per year.
 *  `sparse` draws a low level (0.05..3.05), as the sparse district series
 *  of the reference set have. */
void bench_sim_series(double *y, size_t n, int freq, uint64_t seed,
                      bool sparse);

#endif
