/* The benchmarks of bert-bench, one file each. */
#ifndef BERT_BENCH_H
#define BERT_BENCH_H
#include "opts.h"
/* argv[0] is the benchmark's name, its options follow */
int bench_make_model(int argc, char **argv);
int bench_model(int argc, char **argv);
extern const cli_opt bench_make_model_opts[], bench_model_opts[];
#include <stddef.h>
#include <bert/model.h>
/* best GFLOP/s (GOP/s for int8) of oneDNN's matmul [M x K] x [K x N] in prec's compute types */
double bench_matmul_peak(int threads, bert_precision prec, size_t M, size_t K, size_t N);
/* The CPU's f32 FMA rate on `threads` threads (GFLOP/s, registers only; 0 where not measured). */
double bench_fma_peak(int threads);
#endif
