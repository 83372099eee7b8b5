/* The oneDNN matmul rate bert-bench compares the encoder with: one [M x K] x [K x N] product of the
 * model's FFN shape (K = hidden, N = intermediate), weights packed as the library packs them, in
 * the compute type of the precision (f32, bf16 x bf16, u8 x s8), run repeatedly for about 0.3 s on
 * the given threads; the best rate is the peak (the machine is shared: the best run is the one
 * least disturbed). Same method as ../shared/bench/gemm_peak.c. And the CPU's own f32 FMA peak
 * (registers only), the floor no kernel can pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dnnl.h>
#include <omp.h>

#include "bench.h"
#include "cli.h"

#define OK(call)                                                                                                       \
    do {                                                                                                               \
        if ((call) != dnnl_success)                                                                                    \
            goto done;                                                                                                 \
    } while (0)

double bench_matmul_peak(int threads, bert_precision prec, size_t M, size_t K, size_t N)
{
    const dnnl_data_type_t sdt = prec == BERT_PRECISION_BF16 ? dnnl_bf16 : prec == BERT_PRECISION_INT8 ? dnnl_u8
                                                                                                        : dnnl_f32;
    const dnnl_data_type_t wdt = prec == BERT_PRECISION_INT8 ? dnnl_s8 : sdt;
    const dnnl_data_type_t ddt = prec == BERT_PRECISION_INT8 ? dnnl_s32 : dnnl_f32;
    dnnl_engine_t eng = NULL;
    dnnl_stream_t st = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t p = NULL;
    dnnl_memory_t mem[3] = {NULL, NULL, NULL};
    double best = 0;
    const int prev = omp_get_max_threads();
    omp_set_num_threads(threads > 0 ? threads : prev);
    dnnl_memory_desc_t smd, wmd, dmd;
    const dnnl_dims_t sd = {(dnnl_dim_t)M, (dnnl_dim_t)K}, wd = {(dnnl_dim_t)K, (dnnl_dim_t)N},
                      dd = {(dnnl_dim_t)M, (dnnl_dim_t)N};
    dnnl_matmul_desc_t md;
    OK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    OK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    OK(dnnl_memory_desc_init_by_tag(&smd, 2, sd, sdt, dnnl_ab));
    OK(dnnl_memory_desc_init_by_tag(&wmd, 2, wd, wdt, dnnl_format_tag_any));
    OK(dnnl_memory_desc_init_by_tag(&dmd, 2, dd, ddt, dnnl_ab));
    OK(dnnl_matmul_desc_init(&md, &smd, &wmd, NULL, &dmd));
    OK(dnnl_primitive_desc_create(&pd, &md, NULL, eng, NULL));
    OK(dnnl_primitive_create(&p, pd));
    const dnnl_memory_desc_t *mds[3] = {&smd, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), &dmd};
    for (int i = 0; i < 3; i++) {
        OK(dnnl_memory_create(&mem[i], mds[i], eng, DNNL_MEMORY_ALLOCATE));
        void *h = NULL;
        OK(dnnl_memory_get_data_handle(mem[i], &h));
        memset(h, 0, dnnl_memory_desc_get_size(mds[i])); /* zeros: no denormals, same speed */
    }
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, mem[0]}, {DNNL_ARG_WEIGHTS, mem[1]}, {DNNL_ARG_DST, mem[2]}};
    const double flop = 2.0 * (double)M * (double)K * (double)N;
    double t_end = cli_now() + 0.3;
    for (int r = 0; r < 1000 && (r < 20 || cli_now() < t_end); r++) {
        const double t0 = cli_now();
        OK(dnnl_primitive_execute(p, st, 3, args));
        OK(dnnl_stream_wait(st));
        const double rate = flop / (cli_now() - t0) / 1e9;
        if (r >= 2 && rate > best)
            best = rate;
    }
    if (prec == BERT_PRECISION_F32) {
        /* f32 also by dnnl_sgemm on row-padded plain weights: what the library runs below AVX-512,
         * where it outpaces the matmul primitive; the peak is the better of the two */
        const size_t ldb = N + 16;
        float *a = calloc(M * K, sizeof *a), *b = calloc(K * ldb, sizeof *b), *c = calloc(M * N, sizeof *c);
        t_end = cli_now() + 0.3;
        for (int r = 0; a && b && c && r < 1000 && (r < 20 || cli_now() < t_end); r++) {
            const double t0 = cli_now();
            if (dnnl_sgemm('N', 'N', (dnnl_dim_t)M, (dnnl_dim_t)N, (dnnl_dim_t)K, 1.f, a, (dnnl_dim_t)K, b,
                           (dnnl_dim_t)ldb, 0.f, c, (dnnl_dim_t)N) != dnnl_success)
                break;
            const double rate = flop / (cli_now() - t0) / 1e9;
            if (r >= 2 && rate > best)
                best = rate;
        }
        free(a);
        free(b);
        free(c);
    }
done:
    for (int i = 0; i < 3; i++)
        if (mem[i])
            dnnl_memory_destroy(mem[i]);
    if (p)
        dnnl_primitive_destroy(p);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (st)
        dnnl_stream_destroy(st);
    if (eng)
        dnnl_engine_destroy(eng);
    omp_set_num_threads(prev);
    return best;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* 12 independent FMA chains (different starting values, or the compiler folds them into one),
 * enough to cover the FMA latency on two pipes; n iterations of 12 FMAs. */
#define FMA_LOOP(T, SET1, FMA, ADD, LANES)                                                                             \
    T a0 = SET1(0.10f), a1 = SET1(0.11f), a2 = SET1(0.12f), a3 = SET1(0.13f), a4 = SET1(0.14f), a5 = SET1(0.15f);   \
    T a6 = SET1(0.16f), a7 = SET1(0.17f), a8 = SET1(0.18f), a9 = SET1(0.19f), a10 = SET1(0.20f), a11 = SET1(0.21f); \
    const T m = SET1(0.9999f), c = SET1(1e-6f);                                                                     \
    for (long i = 0; i < n; i++) {                                                                                 \
        a0 = FMA(a0, m, c), a1 = FMA(a1, m, c), a2 = FMA(a2, m, c), a3 = FMA(a3, m, c);                            \
        a4 = FMA(a4, m, c), a5 = FMA(a5, m, c), a6 = FMA(a6, m, c), a7 = FMA(a7, m, c);                            \
        a8 = FMA(a8, m, c), a9 = FMA(a9, m, c), a10 = FMA(a10, m, c), a11 = FMA(a11, m, c);                        \
    }                                                                                                              \
    T s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));                                       \
    s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));                                                                   \
    float out[LANES];                                                                                              \
    memcpy(out, &s, sizeof out);                                                                                   \
    return out[0];

__attribute__((target("avx512f"))) static float fma512(long n)
{
    FMA_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16)
}

__attribute__((target("avx2,fma"))) static float fma256(long n)
{
    FMA_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8)
}

double bench_fma_peak(int threads)
{
    __builtin_cpu_init();
    const int lanes = __builtin_cpu_supports("avx512f") ? 16 : __builtin_cpu_supports("fma") ? 8 : 0;
    if (!lanes)
        return 0;
    const int nt = threads > 0 ? threads : omp_get_max_threads();
    const long n = 20000000;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        float sink = 0;
        const double t0 = cli_now();
#pragma omp parallel num_threads(nt) reduction(+ : sink)
        sink += lanes == 16 ? fma512(n) : fma256(n);
        const double rate = (double)nt * (double)n * 12 * 2 * lanes / (cli_now() - t0) / 1e9;
        best = rate > best && sink == sink ? rate : best;
    }
    return best;
}
#else
double bench_fma_peak(int threads)
{
    (void)threads;
    return 0;
}
#endif
