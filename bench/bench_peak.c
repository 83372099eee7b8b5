/* The oneDNN matmul rate bert-bench compares the encoder with: one [M x K] x [K x N] product of the
 * model's FFN shape (K = hidden, N = intermediate), weights packed as the library packs them, in
 * the compute type of the precision (f32, bf16 x bf16, u8 x s8), run repeatedly for about 0.3 s on
 * the given threads; the best rate is the peak (the machine is shared: the best run is the one
 * least disturbed). Same method as ../shared/bench/gemm_peak.c. */
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
