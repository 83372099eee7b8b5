/* The fast paths of issue #8 against references:
 * - attention (AVX-512, AVX2 and portable paths, each this CPU can run) against a double-precision
 *   reference, for lengths that hit every kernel tail, with causal masking and key masks with holes;
 * - padding-free batches: a right-padded batch (run packed) gives every sequence the logits it has
 *   alone, zeros at the padding, and the same through all_hidden_states;
 * - bf16 and int8 precisions on mini-sst2's SST-2 dev set against HF's fp32 reference: accuracy
 *   drop at most 0.5 points, logits within the tolerances stated below;
 * - one int8 product equals exact integer arithmetic on the same quantised values (catches 16-bit
 *   saturation in oneDNN's kernels on CPUs without VNNI); the brgemm layout's packing equals
 *   oneDNN's own reorder byte for byte; and so do bert__qgemm's (both its paths,
 *   every tile and block edge, and through bert__matmul); the activation quantisation's vector
 *   path equals its portable loop and the formula;
 * - cls_only runs (the last layer on [CLS] rows only) against full runs;
 * - every model family in f32 on each attention path this CPU has (the relative position terms go
 *   through all of them) against transformers, and in bf16 and int8, their distance to f32 reported;
 * - a bad precision value is an error. */
#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "encoder/encoder.h"
#include "support.h"

static float frand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (float)((*s >> 8) & 0xFFFF) / 32768.f - 1.f;
}

/* out[rows, H] by the textbook formula, in double; masked keys get HF's float minimum added */
static void attention_ref(const float *qkv, size_t H, size_t heads, const bert__seg *sg, size_t n, const uint8_t *mask,
                          int causal, double *out)
{
    const size_t dh = H / heads, ld = 3 * H;
    double *s = malloc(1024 * sizeof *s);
    assert_non_null(s);
    for (size_t g = 0; g < n; g++)
        for (size_t h = 0; h < heads; h++)
            for (size_t i = 0; i < sg[g].len; i++) {
                const float *q = qkv + (sg[g].off + i) * ld + h * dh;
                double mx = -INFINITY, sum = 0;
                for (size_t j = 0; j < sg[g].len; j++) {
                    const float *k = qkv + (sg[g].off + j) * ld + H + h * dh;
                    double a = 0;
                    for (size_t d = 0; d < dh; d++)
                        a += (double)q[d] * k[d];
                    a /= sqrt((double)dh);
                    if ((mask && !mask[sg[g].off + j]) || (causal && j > i))
                        a += -3.4028234663852886e38;
                    s[j] = a;
                    mx = a > mx ? a : mx;
                }
                for (size_t j = 0; j < sg[g].len; j++) {
                    s[j] = exp(s[j] - mx);
                    sum += s[j];
                }
                double *o = out + (sg[g].off + i) * H + h * dh;
                for (size_t d = 0; d < dh; d++) {
                    double a = 0;
                    for (size_t j = 0; j < sg[g].len; j++)
                        a += s[j] / sum * qkv[(sg[g].off + j) * ld + 2 * H + h * dh + d];
                    o[d] = a;
                }
            }
    free(s);
}

static void check_attention(size_t H, size_t heads, const size_t *lens, size_t n, int causal, int with_mask)
{
    bert__seg sg[16];
    size_t rows = 0, maxlen = 0;
    for (size_t g = 0; g < n; g++) {
        sg[g].off = rows;
        sg[g].len = lens[g];
        rows += lens[g];
        maxlen = lens[g] > maxlen ? lens[g] : maxlen;
    }
    unsigned seed = 42;
    float *qkv = malloc(rows * 3 * H * sizeof *qkv), *out = malloc(rows * H * sizeof *out);
    double *ref = malloc(rows * H * sizeof *ref);
    uint8_t *mask = malloc(rows);
    const size_t per = bert__attention_scratch(maxlen, H / heads);
    const int threads = omp_get_max_threads();
    float *scratch = malloc((size_t)threads * per * sizeof *scratch);
    assert_true(qkv && out && ref && mask && scratch);
    for (size_t i = 0; i < rows * 3 * H; i++)
        qkv[i] = 2.f * frand(&seed);
    for (size_t i = 0; i < rows; i++)
        mask[i] = (uint8_t)(i % 7 != 3); /* holes everywhere, [CLS]-like first keys kept */
    for (size_t g = 0; g < n; g++)
        if (lens[g] == 3) /* one segment with every key masked: HF's result is uniform */
            memset(mask + sg[g].off, 0, 3);
    attention_ref(qkv, H, heads, sg, n, with_mask ? mask : NULL, causal, ref);
    for (int cap = BERT__SIMD_PORTABLE; cap <= BERT__SIMD_AVX512; cap++) {
        if (bert__simd_cap(cap) != cap)
            continue; /* a path this CPU cannot run: the lower ones are all checked */
        memset(out, 0xFF, rows * H * sizeof *out);
        bert__attention(qkv, H, heads, sg, n, with_mask ? mask : NULL, causal, NULL, out, scratch, per);
        double worst = 0;
        for (size_t i = 0; i < rows * H; i++) {
            const double e = fabs(out[i] - ref[i]);
            worst = e > worst || isnan(e) ? (isnan(e) ? INFINITY : e) : worst;
        }
        if (worst > 1e-5)
            fail_msg("attention H %zu heads %zu causal %d mask %d path %d: max error %g", H, heads, causal, with_mask,
                     cap, worst);
    }
    bert__simd_cap(BERT__SIMD_AVX512);
    free(qkv);
    free(out);
    free(ref);
    free(mask);
    free(scratch);
}

static void test_attention_matches_reference(void **state)
{
    (void)state;
    static const size_t lens[] = {1, 2, 3, 5, 16, 17, 37, 64, 65, 130};
    const size_t n = sizeof lens / sizeof *lens;
    for (int causal = 0; causal < 2; causal++)
        for (int m = 0; m < 2; m++) {
            check_attention(128, 2, lens, n, causal, m); /* dh 64: full 4-vector kernels */
            check_attention(72, 3, lens, n, causal, m);  /* dh 24: masked tails */
            check_attention(32, 4, lens, n, causal, m);  /* dh 8 */
            check_attention(60, 3, lens, n, causal, m);  /* dh 20: a 4-lane tail in the AVX2 path */
        }
}

/* oneDNN 2.6 runs bf16 matmuls on AVX512_CORE and up (natively with AVX512_BF16, emulated
 * without); on AVX2-only CPUs it has none. Known independently of the library under test. */
/* oneDNN 2.6 has bf16 matmuls from AVX-512 on: asked of oneDNN, so that DNNL_MAX_CPU_ISA=AVX2 runs
 * these tests as an AVX2-only CPU would */
static int cpu_has_bf16_matmul(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx512_core:
    case dnnl_cpu_isa_avx512_core_vnni:
    case dnnl_cpu_isa_avx512_core_bf16:
    case dnnl_cpu_isa_avx512_core_amx:
        return 1;
    default:
        return 0;
    }
}

static bert_model *load(const char *name, bert_precision p)
{
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/models/%s", test_shared_dir(), name);
    bert_model_params mp = bert_model_default_params();
    mp.precision = p;
    bert_model *m = NULL;
    if (bert_model_load(dir, &mp, &m, err, sizeof err) != BERT_OK)
        fail_msg("%s", err);
    return m;
}

/* A right-padded batch runs packed; every row must equal the sequence run alone. */
static void test_padding_free_batch_equals_single_runs(void **state)
{
    (void)state;
    bert_model *m = load("mini-sst2", BERT_PRECISION_F32);
    const bert_model_info in = bert_model_get_info(m);
    const size_t H = in.hidden_size, L = in.n_layers;
    char err[512];
    bert_ctx *batch = NULL, *one = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &batch, err, sizeof err), BERT_OK);
    assert_int_equal(bert_ctx_new(m, NULL, &one, err, sizeof err), BERT_OK);
    enum { B = 5, T = 40 };
    static const size_t lens[B] = {12, 40, 3, 27, 9};
    int32_t ids[B * T] = {0}, types[B * T] = {0};
    uint8_t mask[B * T] = {0};
    unsigned seed = 7;
    for (size_t b = 0; b < B; b++)
        for (size_t i = 0; i < lens[b]; i++) {
            ids[b * T + i] = i == 0 ? 101 : i + 1 == lens[b] ? 102 : 1000 + (int32_t)((frand(&seed) + 1.f) * 9000);
            types[b * T + i] = i > lens[b] / 2;
            mask[b * T + i] = 1;
        }
    bert_run_params rp = bert_run_default_params();
    rp.all_hidden_states = 1;
    assert_int_equal(bert_ctx_run(batch, ids, types, mask, B, T, &rp), BERT_OK);
    for (size_t b = 0; b < B; b++) {
        assert_int_equal(bert_ctx_run(one, ids + b * T, types + b * T, NULL, 1, lens[b], &rp), BERT_OK);
        const float *lb = bert_ctx_logits(batch) + b * in.n_labels, *lo = bert_ctx_logits(one);
        for (size_t k = 0; k < in.n_labels; k++)
            assert_float_equal(lb[k], lo[k], 1e-5);
        for (size_t l = 0; l <= L; l++) {
            const float *hb = bert_ctx_hidden(batch, (int)l) + b * T * H, *ho = bert_ctx_hidden(one, (int)l);
            for (size_t i = 0; i < lens[b] * H; i++)
                assert_float_equal(hb[i], ho[i], 1e-5);
            for (size_t i = lens[b] * H; i < T * H; i++) /* padding: zeros, documented */
                assert_true(hb[i] == 0.f);
        }
    }
    bert_ctx_free(batch);
    bert_ctx_free(one);
    bert_model_free(m);
}

/* cls_only: the last layer on [CLS] rows only. Packed (right padding) and padded (a hole in a
 * mask) batches: logits and pooled output as the full run's (1e-5), the last hidden state equal at
 * each row's first position and zero elsewhere; earlier layers untouched. Token-level models and
 * causal attention refuse it. */
static void test_cls_only(void **state)
{
    (void)state;
    bert_model *m = load("mini-sst2", BERT_PRECISION_F32);
    const bert_model_info in = bert_model_get_info(m);
    const size_t H = in.hidden_size, L = in.n_layers;
    char err[512];
    bert_ctx *full = NULL, *cls = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &full, err, sizeof err), BERT_OK);
    assert_int_equal(bert_ctx_new(m, NULL, &cls, err, sizeof err), BERT_OK);
    enum { B = 4, T = 21 };
    static const size_t lens[B] = {21, 5, 13, 1};
    int32_t ids[B * T] = {0};
    uint8_t mask[B * T] = {0};
    unsigned seed = 3;
    for (size_t b = 0; b < B; b++)
        for (size_t i = 0; i < lens[b]; i++) {
            ids[b * T + i] = i == 0 ? 101 : 1000 + (int32_t)((frand(&seed) + 1.f) * 9000);
            mask[b * T + i] = 1;
        }
    for (int holes = 0; holes < 2; holes++) {
        if (holes)
            mask[2 * T + 4] = 0; /* not right padding: the padded path with the mask applied */
        bert_run_params rp = bert_run_default_params();
        rp.all_hidden_states = 1;
        assert_int_equal(bert_ctx_run(full, ids, NULL, mask, B, T, &rp), BERT_OK);
        rp.cls_only = 1;
        if (bert_ctx_run(cls, ids, NULL, mask, B, T, &rp) != BERT_OK)
            fail_msg("%s", bert_ctx_errmsg(cls));
        for (size_t i = 0; i < B * in.n_labels; i++)
            assert_float_equal(bert_ctx_logits(cls)[i], bert_ctx_logits(full)[i], 1e-5);
        for (size_t i = 0; i < B * H; i++)
            assert_float_equal(bert_ctx_pooled(cls)[i], bert_ctx_pooled(full)[i], 1e-5);
        for (size_t l = 0; l < L; l++)
            for (size_t i = 0; i < B * T * H; i++)
                assert_float_equal(bert_ctx_hidden(cls, (int)l)[i], bert_ctx_hidden(full, (int)l)[i], 1e-5);
        const float *hc = bert_ctx_hidden(cls, -1), *hf = bert_ctx_hidden(full, -1);
        for (size_t b = 0; b < B; b++)
            for (size_t t = 0; t < T; t++)
                for (size_t i = 0; i < H; i++) {
                    const size_t k = (b * T + t) * H + i;
                    if (t == 0)
                        assert_float_equal(hc[k], hf[k], 1e-5);
                    else
                        assert_true(hc[k] == 0.f);
                }
    }
    bert_run_params rp = bert_run_default_params();
    rp.cls_only = 1;
    rp.attn_mode = BERT_ATTN_CAUSAL;
    assert_int_equal(bert_ctx_run(cls, ids, NULL, mask, B, T, &rp), BERT_E_INVALID_ARG);
    assert_non_null(strstr(bert_ctx_errmsg(cls), "cls_only"));
    bert_ctx_free(full);
    bert_ctx_free(cls);
    bert_model_free(m);

    m = load("mini-conll03-ner", BERT_PRECISION_F32);
    assert_int_equal(bert_ctx_new(m, NULL, &cls, err, sizeof err), BERT_OK);
    rp.attn_mode = BERT_ATTN_AUTO;
    assert_int_equal(bert_ctx_run(cls, ids, NULL, mask, B, T, &rp), BERT_E_INVALID_ARG);
    assert_non_null(strstr(bert_ctx_errmsg(cls), "token-level"));
    bert_ctx_free(cls);
    bert_model_free(m);
}

/* SST-2 dev on mini-sst2 from the reference input ids, in batches of 32. Returns the accuracy and
 * the largest logit difference from HF's fp32 logits. */
static double sst2_dev(bert_precision p, double *worst)
{
    json_t *rows = test_read_jsonl(test_shared_path("fixtures/mini-sst2/dev_reference.jsonl"));
    assert_int_equal(json_array_size(rows), 872);
    bert_model *m = load("mini-sst2", p);
    char err[512];
    bert_ctx *ctx = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
    enum { BATCH = 32, MAX_T = 128 };
    static int32_t ids[BATCH * MAX_T], types[BATCH * MAX_T];
    static uint8_t mask[BATCH * MAX_T];
    size_t correct = 0;
    *worst = 0;
    for (size_t start = 0; start < json_array_size(rows); start += BATCH) {
        size_t n = json_array_size(rows) - start < BATCH ? json_array_size(rows) - start : BATCH, T = 0;
        assert_int_equal(test_fill_batch(rows, start, n, BATCH * MAX_T, ids, types, mask, &T), 0);
        if (bert_ctx_run(ctx, ids, types, mask, n, T, NULL) != BERT_OK)
            fail_msg("%s", bert_ctx_errmsg(ctx));
        const float *lg = bert_ctx_logits(ctx);
        for (size_t r = 0; r < n; r++) {
            json_t *row = json_array_get(rows, start + r), *ref = json_object_get(row, "logits");
            for (size_t k = 0; k < 2; k++) {
                const double e = fabs(lg[r * 2 + k] - json_real_value(json_array_get(ref, k)));
                *worst = e > *worst ? e : *worst;
            }
            correct += (lg[r * 2 + 1] > lg[r * 2]) == (json_integer_value(json_object_get(row, "label")) == 1);
        }
    }
    bert_ctx_free(ctx);
    bert_model_free(m);
    json_decref(rows);
    return (double)correct / 872.0;
}

static void test_reduced_precision_accuracy(void **state)
{
    (void)state;
    double w32, w16, w8;
    const double a32 = sst2_dev(BERT_PRECISION_F32, &w32);
    assert_float_equal(a32, 0.8841743119266054, 1e-9); /* metrics.json */
    assert_true(w32 <= 1e-4);
    const double a8 = sst2_dev(BERT_PRECISION_INT8, &w8);
    print_message("SST-2 dev accuracy: f32 %.4f, int8 %.4f (max logit diff %.3f)\n", a32, a8, w8);
    /* issue #8: at most 0.5 points below fp32, and close in value: measured 0.37 with VNNI (8-bit
     * weights), 0.43 with oneDNN's 7-bit ones and 0.51 with bert__qgemm's 6-bit ones (AVX2), on
     * logits that span about +-4 */
    assert_true(a8 >= a32 - 0.005);
    assert_true(w8 < 0.6);
    if (!cpu_has_bf16_matmul()) {
        /* the documented contract instead of an answer: BERT_E_UNSUPPORTED naming bf16 */
        char dir[512], err[512];
        snprintf(dir, sizeof dir, "%s/models/mini-sst2", test_shared_dir());
        bert_model_params mp = bert_model_default_params();
        mp.precision = BERT_PRECISION_BF16;
        bert_model *m = NULL;
        assert_int_equal(bert_model_load(dir, &mp, &m, err, sizeof err), BERT_E_UNSUPPORTED);
        assert_null(m);
        assert_non_null(strstr(err, "no bf16 matmul for this CPU"));
        print_message("bf16: this CPU has no AVX-512, BERT_E_UNSUPPORTED as documented\n");
        return;
    }
    const double a16 = sst2_dev(BERT_PRECISION_BF16, &w16);
    print_message("SST-2 dev accuracy: bf16 %.4f (max logit diff %.3f)\n", a16, w16);
    assert_true(a16 >= a32 - 0.005);
    assert_true(w16 < 0.25); /* measured 0.10 */
}

/* The weight quantisation of weights.c: per output channel, max |w| over `levels` */
static void weight_scales(const float *w, size_t N, size_t K, float levels, float *ws, float *qs)
{
    for (size_t n = 0; n < N; n++) {
        float mx = 0.f;
        for (size_t k = 0; k < K; k++)
            mx = fabsf(w[n * K + k]) > mx ? fabsf(w[n * K + k]) : mx;
        ws[n] = mx / levels;
        qs[n] = 1.f / ws[n];
    }
}

/* The activation quantisation of dnnl_ops.c: per tensor, zero exact, 255 levels; x (n values) to
 * u, with the scale and zero point it used */
static void quantise_source(const float *x, size_t n, uint8_t *u, float *scale, int32_t *zero_point)
{
    float mn = 0.f, mx = 0.f;
    for (size_t i = 0; i < n; i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    const float sc = (mx - mn) / 255.f;
    const int32_t zp = (int32_t)lrintf(-mn / sc);
    for (size_t i = 0; i < n; i++)
        u[i] = (uint8_t)fminf(fmaxf(nearbyintf(x[i] * (1.f / sc)) + (float)zp, 0.f), 255.f);
    *scale = sc;
    *zero_point = zp;
}

/* The u8 x s8 product oneDNN computes for a packed int8 weight must be the exact product of the
 * quantised values: any gap is the kernel's arithmetic (e.g. saturating 16-bit pair sums), not the
 * quantisation, which the reference repeats. Activations span the whole u8 range on purpose. */
static void test_int8_matmul_is_exact(void **state)
{
    (void)state;
    enum { M = 37, K = 256, N = 96 };
    char msg[512];
    unsigned seed = 11;
    float *w = malloc(sizeof(float) * N * K), *x = malloc(sizeof(float) * M * K), *y = malloc(sizeof(float) * M * N);
    float b[N], qs[N], ws[N];
    assert_true(w && x && y);
    for (size_t i = 0; i < (size_t)N * K; i++)
        w[i] = frand(&seed) * 0.05f;
    for (size_t i = 0; i < (size_t)M * K; i++)
        x[i] = frand(&seed) * 3.f + 1.f; /* [-2, 4]: an asymmetric range, a non-zero zero point */
    /* as weights.c packs them for oneDNN's kernels */
    weight_scales(w, N, K, bert__int8_has_vnni() ? 127.f : 63.f, ws, qs);
    for (size_t n = 0; n < N; n++)
        b[n] = frand(&seed);
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    assert_int_equal(dnnl_engine_create(&eng, dnnl_cpu, 0), dnnl_success);
    assert_int_equal(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags), dnnl_success);
    dnnl_memory_desc_t md;
    if (bert__pack_desc(eng, K, N, BERT_PRECISION_INT8, &md, msg, sizeof msg) != BERT_OK)
        fail_msg("%s", msg);
    void *packed = aligned_alloc(64, (dnnl_memory_desc_get_size(&md) + 63) / 64 * 64);
    assert_non_null(packed);
    if (bert__pack(eng, stream, w, K, N, &md, qs, packed, msg, sizeof msg) != BERT_OK)
        fail_msg("%s", msg);
    bert__dnnl *d = NULL;
    assert_int_equal(bert__dnnl_new(&d, msg, sizeof msg), BERT_OK);
    const bert__linear lin = {
        .b = b, .in = K, .out = N, .packed = packed, .packed_md = md, .wdt = dnnl_s8, .wscale = ws};
    if (bert__matmul(d, x, M, K, &lin, y, N, BERT__POST_NONE, 0, msg, sizeof msg) != BERT_OK)
        fail_msg("%s", msg);
    uint8_t *u = malloc((size_t)M * K);
    assert_non_null(u);
    float sc;
    int32_t zp;
    quantise_source(x, (size_t)M * K, u, &sc, &zp);
    double worst = 0;
    for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++) {
            double acc = 0;
            for (size_t k = 0; k < K; k++) {
                const float q = fminf(fmaxf(nearbyintf(w[n * K + k] * qs[n]), -128.f), 127.f);
                acc += ((double)u[m * K + k] - zp) * q;
            }
            const double e = fabs(acc * sc * ws[n] + b[n] - y[m * N + n]);
            worst = e > worst ? e : worst;
        }
    /* outputs are O(1); float rounding of scales and bias is ~1e-6, a saturated pair sum ~0.1-0.5 */
    if (worst > 1e-4)
        fail_msg("int8 matmul differs from exact int8 arithmetic by %g (VNNI %d)", worst, bert__int8_has_vnni());
    bert__dnnl_free(d);
    free(u);
    free(packed);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(eng);
    free(w);
    free(x);
    free(y);
}

/* Where the int8 weights' layout carries the zero-point compensation (oneDNN's brgemm kernels, on
 * CPUs with VNNI or AMX), bert__pack blocks them with a fast reorder and writes the column sums
 * itself: the bytes must equal what oneDNN's own (slow) reorder of the same quantised values
 * writes, blocks, padding and sums alike, at shapes on and off the 64 x 64 blocks. */
static void test_int8_pack_matches_onednn(void **state)
{
    (void)state;
    static const size_t shapes[][2] = {{64, 64}, {100, 70}, {37, 129}, {768, 256}, {256, 1024}};
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    char msg[512];
    assert_int_equal(dnnl_engine_create(&eng, dnnl_cpu, 0), dnnl_success);
    assert_int_equal(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags), dnnl_success);
    unsigned seed = 5;
    size_t compared = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const size_t K = shapes[s][0], N = shapes[s][1];
        dnnl_memory_desc_t md;
        if (bert__pack_desc(eng, K, N, BERT_PRECISION_INT8, &md, msg, sizeof msg) != BERT_OK)
            fail_msg("%s", msg);
        if (md.extra.flags == 0) {
            /* a layout without compensation is one oneDNN reorder: test_int8_matmul_is_exact covers it */
            assert_false(bert__int8_has_vnni() && md.format_desc.blocking.inner_nblks != 0);
            continue;
        }
        float *w = malloc(sizeof(float) * N * K), *ws = malloc(sizeof(float) * N), *qs = malloc(sizeof(float) * N);
        int8_t *q = malloc(N * K);
        const size_t bytes = dnnl_memory_desc_get_size(&md);
        unsigned char *ours = aligned_alloc(64, (bytes + 63) / 64 * 64),
                      *ref = aligned_alloc(64, (bytes + 63) / 64 * 64);
        assert_true(w && ws && qs && q && ours && ref);
        for (size_t i = 0; i < N * K; i++)
            w[i] = frand(&seed) * 0.1f;
        w[0] = 0.1f; /* a full-scale value: +127 */
        w[K + 1] = -0.1f;
        weight_scales(w, N, K, 127.f, ws, qs);
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < K; k++)
                q[n * K + k] = (int8_t)fminf(fmaxf(nearbyintf(w[n * K + k] * qs[n]), -128.f), 127.f);
        memset(ours, 0xA5, bytes);
        if (bert__pack(eng, stream, w, K, N, &md, qs, ours, msg, sizeof msg) != BERT_OK)
            fail_msg("%s", msg);
        /* oneDNN's reorder of the same s8 values, [K, N] read from HF's [N, K] */
        dnnl_memory_desc_t qmd;
        const dnnl_dims_t dims = {(dnnl_dim_t)K, (dnnl_dim_t)N}, str = {1, (dnnl_dim_t)K};
        assert_int_equal(dnnl_memory_desc_init_by_strides(&qmd, 2, dims, dnnl_s8, str), dnnl_success);
        dnnl_primitive_desc_t pd;
        dnnl_primitive_t r;
        dnnl_memory_t a, b;
        memset(ref, 0, bytes);
        assert_int_equal(dnnl_reorder_primitive_desc_create(&pd, &qmd, eng, &md, eng, NULL), dnnl_success);
        assert_int_equal(dnnl_primitive_create(&r, pd), dnnl_success);
        assert_int_equal(dnnl_memory_create(&a, &qmd, eng, q), dnnl_success);
        assert_int_equal(dnnl_memory_create(&b, &md, eng, ref), dnnl_success);
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}};
        assert_int_equal(dnnl_primitive_execute(r, stream, 2, args), dnnl_success);
        assert_int_equal(dnnl_stream_wait(stream), dnnl_success);
        for (size_t i = 0; i < bytes; i++)
            if (ours[i] != ref[i])
                fail_msg("K %zu N %zu: byte %zu of %zu is %d, oneDNN's reorder wrote %d", K, N, i, bytes, ours[i],
                         ref[i]);
        compared += bytes;
        dnnl_memory_destroy(a);
        dnnl_memory_destroy(b);
        dnnl_primitive_destroy(r);
        dnnl_primitive_desc_destroy(pd);
        free(w);
        free(ws);
        free(qs);
        free(q);
        free(ours);
        free(ref);
    }
    print_message("int8 packing with compensation: %zu bytes equal to oneDNN's reorder\n", compared);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(eng);
}

/* bert_ctx_kernels names what ran each precision's products, with the types: u8s8 for int8 (on a
 * CPU with VNNI, oneDNN's brgemm kernel, which the packed layout was chosen for), bf16bf16 for bf16,
 * f32 otherwise; empty before a run. */
static void test_kernels_are_reported(void **state)
{
    (void)state;
    static const bert_precision precs[3] = {BERT_PRECISION_F32, BERT_PRECISION_INT8, BERT_PRECISION_BF16};
    static const char *const types[3] = {"f32f32", "u8s8", "bf16bf16"};
    const int32_t ids[4] = {101, 2023, 2003, 102};
    for (int i = 0; i < 3; i++) {
        if (precs[i] == BERT_PRECISION_BF16 && !cpu_has_bf16_matmul())
            continue; /* test_reduced_precision_accuracy checks the refusal there */
        bert_model *m = load("tiny-gelu-3labels", precs[i]);
        char err[512];
        bert_ctx *ctx = NULL;
        assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
        assert_string_equal(bert_ctx_kernels(ctx), "");
        assert_int_equal(bert_ctx_run(ctx, ids, NULL, NULL, 1, 4, NULL), BERT_OK);
        const char *k = bert_ctx_kernels(ctx);
        print_message("%s on %s: %s\n", types[i], bert_cpu_isa(), k);
        assert_non_null(strstr(k, types[i]));
        if (precs[i] == BERT_PRECISION_INT8 && bert__int8_has_vnni())
            assert_non_null(strstr(k, "brg:"));
        bert_ctx_free(ctx);
        bert_model_free(m);
    }
    assert_true(strlen(bert_cpu_isa()) > 0);
}

/* exact: sum_k (a[m, k] - zp) * q[n, k], q as bert__qgemm_pack rounds and clamps w[n, k] * is[n] */
static double qgemm_ref(const uint8_t *a, size_t lda, const float *w, const float *is, size_t K, int32_t zp, size_t m,
                        size_t n)
{
    double acc = 0;
    for (size_t k = 0; k < K; k++) {
        const float v = w[n * K + k] * is[n];
        const float q = v == v ? fminf(fmaxf(nearbyintf(v), -31.f), 31.f) : 0.f; /* NaN: 0 */
        acc += ((double)a[m * lda + k] - zp) * q;
    }
    return acc;
}

/* bert__qgemm (the int8 products where oneDNN's best is AVX2): its AVX2 paths and its portable loops
 * pack the same bytes (NaN and huge weights included) and give the same floats, bit for bit, and
 * both equal exact integer arithmetic on the quantised values, for row counts around its 4-row tiles and 128-row
 * blocks, inputs not a multiple of 8, channels around its 16-column blocks, with and without bias and accumulation.
 * Activations 255 against weights at +-31 everywhere are the largest 16-bit pair sums it forms (31620): any saturation
 * or a 7-bit weight would show. */
static void test_qgemm_is_exact(void **state)
{
    (void)state;
    const size_t Ms[] = {1, 3, 4, 5, 37, 131}, Ks[] = {8, 13, 256, 260}, Ns[] = {1, 15, 16, 17, 100};
    unsigned seed = 5;
    for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++)
        for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
            for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++) {
                const size_t M = Ms[mi], K = Ks[ki], N = Ns[ni], lda = bert__qgemm_lda(K);
                const int extreme = (mi + ni) % 3 == 0, acc_on = (mi + ki) % 2, with_bias = ni % 2;
                float *w = malloc(sizeof(float) * N * K), *is = malloc(sizeof(float) * N),
                      *ws = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N),
                      *y[2] = {malloc(sizeof(float) * M * N), malloc(sizeof(float) * M * N)};
                uint8_t *a = malloc(M * lda);
                const size_t pb = bert__qgemm_packed_bytes(K, N);
                void *packed = aligned_alloc(64, (pb + 63) / 64 * 64);
                assert_true(w && is && ws && b && y[0] && y[1] && a && packed);
                for (size_t i = 0; i < N * K; i++)
                    w[i] = extreme ? (i % 3 ? 1.f : -1.f) : frand(&seed);
                if (!extreme && N * K > 9) { /* a corrupt checkpoint's values: defined results */
                    w[3] = NAN;
                    w[N * K - 9] = -1e30f;
                }
                for (size_t n = 0; n < N; n++) {
                    is[n] = extreme ? 40.f : 31.f / (1.f + 0.1f * (float)(n % 7)); /* some values clamp */
                    ws[n] = 0.5f / is[n];
                    b[n] = frand(&seed);
                }
                for (size_t i = 0; i < M * lda; i++)
                    a[i] = extreme ? 255 : (uint8_t)(frand(&seed) * 127.f + 128.f);
                for (size_t m = 0; m < M; m++) /* bert__quantize_u8 leaves the row padding zero */
                    memset(a + m * lda + K, 0, lda - K);
                const int32_t zp = extreme ? 0 : 77;
                const float a_scale = 0.03f;
                bert__qgemm_pack(w, K, N, is, packed);
                void *packed2 = aligned_alloc(64, (pb + 63) / 64 * 64);
                assert_non_null(packed2);
                memset(packed2, 0x5A, pb);
                assert_int_equal(bert__simd_cap(BERT__SIMD_PORTABLE), BERT__SIMD_PORTABLE);
                bert__qgemm_pack(w, K, N, is, packed2);
                bert__simd_cap(BERT__SIMD_AVX512);
                if (memcmp(packed, packed2, pb))
                    fail_msg("K %zu N %zu: the AVX2 and portable packing differ", K, N);
                free(packed2);
                for (int way = 0; way < 2; way++) {
                    for (size_t i = 0; i < M * N; i++)
                        y[way][i] = (float)(i % 5) - 2.f;
                    if (way)
                        assert_int_equal(bert__simd_cap(BERT__SIMD_PORTABLE), BERT__SIMD_PORTABLE);
                    bert__qgemm(a, M, K, zp, a_scale, packed, N, ws, with_bias ? b : NULL, y[way], N, acc_on);
                    bert__simd_cap(BERT__SIMD_AVX512);
                }
                if (memcmp(y[0], y[1], sizeof(float) * M * N))
                    fail_msg("M %zu K %zu N %zu: the AVX2 and portable paths differ", M, K, N);
                for (size_t m = 0; m < M; m++)
                    for (size_t n = 0; n < N; n++) {
                        const double ref = qgemm_ref(a, lda, w, is, K, zp, m, n) * a_scale * ws[n] +
                                           (with_bias ? b[n] : 0.) + (acc_on ? (double)((m * N + n) % 5) - 2. : 0.);
                        /* outputs up to ~1e3 (the extreme case): float rounding of the scale product */
                        if (fabs(ref - y[0][m * N + n]) > 1e-4 * (1. + fabs(ref)))
                            fail_msg("M %zu K %zu N %zu: [%zu, %zu] = %.7g, exact %.7g", M, K, N, m, n,
                                     (double)y[0][m * N + n], ref);
                    }
                free(w);
                free(is);
                free(ws);
                free(b);
                free(y[0]);
                free(y[1]);
                free(a);
                free(packed);
            }
}

/* The same products through bert__matmul, as the encoder calls them: the f32 source quantised per
 * tensor (zero point and all), bias, the residual accumulated in place, an activation after. */
static void test_qgemm_linear(void **state)
{
    (void)state;
    enum { M = 19, K = 100, N = 33 };
    char msg[512];
    unsigned seed = 9;
    float w[N * K], x[M * K], y[M * N], b[N], is[N], ws[N];
    for (size_t i = 0; i < (size_t)N * K; i++)
        w[i] = frand(&seed) * 0.05f;
    for (size_t i = 0; i < (size_t)M * K; i++)
        x[i] = frand(&seed) * 3.f + 1.f; /* [-2, 4]: a non-zero zero point */
    weight_scales(w, N, K, 31.f, ws, is);
    for (size_t n = 0; n < N; n++)
        b[n] = frand(&seed);
    void *packed = aligned_alloc(64, (bert__qgemm_packed_bytes(K, N) + 63) / 64 * 64);
    assert_non_null(packed);
    bert__qgemm_pack(w, K, N, is, packed);
    bert__dnnl *d = NULL;
    assert_int_equal(bert__dnnl_new(&d, msg, sizeof msg), BERT_OK);
    const bert__linear lin = {
        .b = b, .in = K, .out = N, .packed = packed, .wdt = dnnl_s8, .wscale = ws, .gemm = BERT__GEMM_QGEMM};
    for (size_t i = 0; i < (size_t)M * N; i++)
        y[i] = 0.25f * (float)(i % 9) - 1.f;
    if (bert__matmul(d, x, M, K, &lin, y, N, BERT__POST_RELU, 1, msg, sizeof msg) != BERT_OK)
        fail_msg("%s", msg);
    uint8_t a[M * K];
    float sc;
    int32_t zp;
    quantise_source(x, (size_t)M * K, a, &sc, &zp);
    int positive = 0, zero = 0;
    for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++) {
            const double v = qgemm_ref(a, K, w, is, K, zp, m, n) * sc * ws[n] + b[n] + 0.25 * ((m * N + n) % 9) - 1.;
            const double ref = v > 0 ? v : 0;
            positive += ref > 0;
            zero += ref == 0;
            if (fabs(ref - y[m * N + n]) > 1e-4)
                fail_msg("[%zu, %zu] = %.7g, exact %.7g", m, n, (double)y[m * N + n], ref);
        }
    assert_true(positive > 50 && zero > 50); /* the activation had both sides to act on */
    bert__dnnl_free(d);
    free(packed);
}

/* The activation quantisation's vector path (AVX2 CPUs) against its portable loop and the formula,
 * byte for byte: row tails of every width below 32, a row stride wider than the row, exact ties
 * (round half to even) and values past both ends of [0, 255]. */
static void test_quantize_paths_agree(void **state)
{
    (void)state;
    enum { ROWS = 5, LD = 131 };
    float x[ROWS * LD];
    uint8_t a[ROWS * LD], b[ROWS * LD];
    unsigned seed = 7;
    for (size_t i = 0; i < ROWS * LD; i++)
        x[i] = frand(&seed) * 40.f;
    for (size_t i = 0; i < ROWS * LD; i += 3)
        x[i] = (float)((int)(i % 301) - 40) + 0.5f; /* ties, below 0 and above 255 after the shift */
    for (size_t cols = 1; cols <= 130; cols++) {
        const int32_t zp = (int32_t)(cols % 7) * 11;
        memset(a, 0xAA, sizeof a);
        memset(b, 0x55, sizeof b);
        assert_int_equal(bert__quantize_u8(x, ROWS, cols, LD, cols % 2 ? 1.f : 3.25f, zp, a, cols), 0);
        assert_int_equal(bert__simd_cap(BERT__SIMD_PORTABLE), BERT__SIMD_PORTABLE);
        assert_int_equal(bert__quantize_u8(x, ROWS, cols, LD, cols % 2 ? 1.f : 3.25f, zp, b, cols), 0);
        bert__simd_cap(BERT__SIMD_AVX512);
        for (size_t r = 0; r < ROWS; r++)
            for (size_t c = 0; c < cols; c++) {
                const float v =
                    fminf(fmaxf(nearbyintf(x[r * LD + c] * (cols % 2 ? 1.f : 3.25f)) + (float)zp, 0.f), 255.f);
                if (a[r * cols + c] != (uint8_t)v || b[r * cols + c] != (uint8_t)v)
                    fail_msg("cols %zu row %zu col %zu: x %g -> %u (vector) %u (portable), expected %u", cols, r, c,
                             (double)x[r * LD + c], a[r * cols + c], b[r * cols + c], (unsigned)v);
            }
    } /* a NaN or an infinity in a row (at the vector part or the tail): both paths count the rows that
       * hold one, and their bytes there are 0, never a NaN's undefined conversion */
    static const uint32_t specials[3] = {0x7FC00000u, 0x7F800000u, 0xFF800000u};
    for (int k = 0; k < 3; k++)
        for (size_t at = 0; at < 70; at += 33) {
            float y[2 * LD];
            memcpy(y, x, sizeof y);
            memcpy(&y[LD + at], &specials[k], 4); /* row 1 only */
            for (int path = 0; path < 2; path++) {
                bert__simd_cap(path ? BERT__SIMD_PORTABLE : BERT__SIMD_AVX512);
                memset(a, 0xAA, sizeof a);
                assert_int_equal(bert__quantize_u8(y, 2, 70, LD, 1.f, 3, a, 70), 1);
                assert_int_equal(a[70 + at], 0);
            }
            bert__simd_cap(BERT__SIMD_AVX512);
        }
}

/* The load-time weight transpose (the packed F32 layout below AVX-512): the vector paths (the
 * streaming one needs 32-byte aligned destination rows, the other takes any) and the portable loop
 * all give exactly src's transpose for every shape edge (8 x 8 blocks, 64 x 64 tiles and the
 * rest), with strides wider than the rows, and leave the destination's row padding alone. */
static void test_transpose_paths_agree(void **state)
{
    (void)state;
    const size_t dims[] = {1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 72, 129};
    const size_t nd = sizeof dims / sizeof *dims;
    enum { MAX = 129, LDS = MAX + 5 };
    const size_t ldds[2] = {MAX + 11 /* rows unaligned */, MAX + 15 /* 144: rows 64-byte aligned */};
    /* C11: an aligned_alloc size is a multiple of the alignment */
    float *src = aligned_alloc(64, (sizeof(float) * MAX * LDS + 63) / 64 * 64),
          *dst = aligned_alloc(64, (sizeof(float) * MAX * 144 + 63) / 64 * 64);
    assert_non_null(src);
    assert_non_null(dst);
    for (size_t i = 0; i < (size_t)MAX * LDS; i++)
        src[i] = (float)i;
    for (int way = 0; way < 2; way++) {
        if (way)
            assert_int_equal(bert__simd_cap(BERT__SIMD_PORTABLE), BERT__SIMD_PORTABLE);
        else
            bert__simd_cap(BERT__SIMD_AVX512);
        for (int l = 0; l < 2; l++)
            for (size_t a = 0; a < nd; a++)
                for (size_t b = 0; b < nd; b++) {
                    const size_t N = dims[a], K = dims[b], LDD = ldds[l];
                    for (size_t i = 0; i < (size_t)MAX * LDD; i++)
                        dst[i] = -1.f;
                    bert__transpose(src, N, K, LDS, dst, LDD);
                    for (size_t k = 0; k < MAX; k++)
                        for (size_t n = 0; n < LDD; n++) {
                            const float want = k < K && n < N ? src[n * LDS + k] : -1.f;
                            if (dst[k * LDD + n] != want)
                                fail_msg("%s, ldd %zu, N %zu K %zu: dst[%zu][%zu] = %g, expected %g",
                                         way ? "portable" : "vector", LDD, N, K, k, n, (double)dst[k * LDD + n],
                                         (double)want);
                        }
                }
    }
    bert__simd_cap(BERT__SIMD_AVX512);
    free(src);
    free(dst);
}

/* The int8 weight scales' row maxima: every row, every column (the first and the last included),
 * negative values by magnitude, a zero row as 0; large enough to run over the threads. */
static void test_absmax_rows(void **state)
{
    (void)state;
    enum { ROWS = 67, COLS = 1029 };
    float *w = malloc(sizeof(float) * ROWS * COLS), out[ROWS];
    assert_non_null(w);
    unsigned seed = 11;
    for (size_t i = 0; i < (size_t)ROWS * COLS; i++)
        w[i] = frand(&seed);
    for (size_t r = 0; r < ROWS; r++) {
        const size_t c = r % 3 == 0 ? 0 : r % 3 == 1 ? COLS - 1 : (r * 37) % COLS;
        w[r * COLS + c] = (r % 2 ? -1.f : 1.f) * (float)(10 + r); /* the row's largest magnitude */
    }
    for (size_t c = 0; c < COLS; c++)
        w[5 * COLS + c] = 0.f;
    bert__absmax_rows(w, ROWS, COLS, out);
    for (size_t r = 0; r < ROWS; r++)
        assert_float_equal(out[r], r == 5 ? 0.f : (float)(10 + r), 0.f);
    free(w);
}

/* The family fixtures' inputs through one model; the last hidden state and the logits copied out. */
static void run_family(const char *name, bert_precision prec, float *hidden, float *logits, size_t *n_hidden,
                       size_t *n_logits, double *vs_hf)
{
    char dir[512], rel[256], err[512];
    snprintf(dir, sizeof dir, "%s/models/%s", test_shared_dir(), name);
    snprintf(rel, sizeof rel, "fixtures/%s/hidden_states.safetensors", name);
    bert_model_params mp = bert_model_default_params();
    mp.precision = prec;
    mp.load_tokenizer = 0;
    bert_model *m = NULL;
    if (bert_model_load(dir, &mp, &m, err, sizeof err) != BERT_OK)
        fail_msg("%s", err);
    char *data;
    size_t len;
    bert__checkpoint ck;
    memset(&ck, 0, sizeof ck);
    assert_int_equal(bert__read_file(test_shared_path(rel), &data, &len, err, sizeof err), BERT_OK);
    assert_int_equal(bert__safetensors_parse((const unsigned char *)data, len, rel, 0, &ck, err, sizeof err), BERT_OK);
    const bert__tensor *it = bert__checkpoint_find(&ck, "input_ids"),
                       *mt = bert__checkpoint_find(&ck, "attention_mask");
    const bert__tensor *lt = bert__checkpoint_find(&ck, "logits");
    const size_t B = it->shape[0], T = it->shape[1], H = bert_model_get_info(m).hidden_size;
    const size_t nl = bert_model_get_info(m).n_labels;
    uint8_t mask[1024];
    assert_true(B * T <= sizeof mask);
    for (size_t i = 0; i < B * T; i++)
        mask[i] = ((const int32_t *)(const void *)mt->data)[i] != 0;
    bert_ctx *ctx = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
    const bert__tensor *tt = bert__checkpoint_find(&ck, "token_type_ids");
    if (bert_ctx_run(ctx, (const int32_t *)(const void *)it->data, (const int32_t *)(const void *)tt->data, mask, B, T,
                     NULL) != BERT_OK)
        fail_msg("%s: %s", name, bert_ctx_errmsg(ctx));
    *n_hidden = B * T * H;
    memcpy(hidden, bert_ctx_hidden(ctx, -1), *n_hidden * sizeof(float));
    *n_logits = 0;
    *vs_hf = 0;
    if (lt && lt->ndim == 2) {
        *n_logits = B * nl;
        memcpy(logits, bert_ctx_logits(ctx), *n_logits * sizeof(float));
        for (size_t i = 0; i < *n_logits; i++) {
            const double d = fabs(logits[i] - ((const float *)(const void *)lt->data)[i]);
            *vs_hf = d > *vs_hf ? d : *vs_hf;
        }
    }
    bert_ctx_free(ctx);
    bert__checkpoint_close(&ck);
    bert__free(data);
    bert_model_free(m);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - b[i]);
        w = d > w || d != d ? d : w;
    }
    return w;
}

static void test_every_family_every_path_and_precision(void **state)
{
    (void)state;
    static const char *const models[] = {"tiny-gelu-3labels",     "tiny-distilbert-seqcls", "tiny-roberta-seqcls",
                                         "tiny-xlmr-seqcls",      "tiny-electra-seqcls",    "tiny-albert-seqcls",
                                         "tiny-debertav3-seqcls", "tiny-mpnet-seqcls"};
    enum { CAP = 6 * 80 * 32 };
    float *h32 = malloc(CAP * sizeof(float)), *h = malloc(CAP * sizeof(float)), l32[64], l[64];
    assert_non_null(h32);
    assert_non_null(h);
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        size_t nh, nlg;
        double hf;
        /* f32 on every attention path: within the project's 1e-4 of transformers */
        for (int cap = BERT__SIMD_PORTABLE; cap <= BERT__SIMD_AVX512; cap++) {
            if (bert__simd_cap(cap) != cap)
                continue;
            run_family(models[k], BERT_PRECISION_F32, h32, l32, &nh, &nlg, &hf);
            assert_true(nh <= CAP && nlg <= 64);
            if (!(hf <= 1e-4))
                fail_msg("%s f32 (simd level %d): logits %g from transformers", models[k], cap, hf);
        }
        bert__simd_cap(BERT__SIMD_AVX512);
        run_family(models[k], BERT_PRECISION_F32, h32, l32, &nh, &nlg, &hf);
        const bert_precision precs[2] = {BERT_PRECISION_BF16, BERT_PRECISION_INT8};
        for (int pi = 0; pi < 2; pi++) {
            if (precs[pi] == BERT_PRECISION_BF16 && !cpu_has_bf16_matmul())
                continue;
            double hf_r;
            run_family(models[k], precs[pi], h, l, &nh, &nlg, &hf_r);
            const double dh = max_abs_diff(h, h32, nh), dl = max_abs_diff(l, l32, nlg);
            printf("%-24s %s: last hidden state within %.3g of f32, logits within %.3g (f32: %.2g from HF)\n",
                   models[k], pi ? "int8" : "bf16", dh, dl, hf);
            /* the tiny models' weights are large (init range 0.2) and their LayerNorm'd outputs O(1):
             * a reduced precision moves them by a few hundredths, a wrong formula by far more */
            if (!(dh < 0.5 && dl < 0.5))
                fail_msg("%s %s: hidden %g, logits %g from f32", models[k], pi ? "int8" : "bf16", dh, dl);
        }
    }
    free(h32);
    free(h);
}

/* BERT_WEIGHTS_MAPPED in a reduced precision: the layers are packed in that type as by default and
 * only the F32 pooler is read in place, so the pooled output and logits equal the packed model's
 * (1e-5: the same products, another GEMM), and mapped_bytes grows by the pooler's weight alone. */
static void test_mapped_weights_in_reduced_precision(void **state)
{
    (void)state;
    const bert_precision precs[2] = {BERT_PRECISION_INT8, BERT_PRECISION_BF16};
    for (int pi = 0; pi < (cpu_has_bf16_matmul() ? 2 : 1); pi++) {
        char dir[512], err[512];
        snprintf(dir, sizeof dir, "%s/models/tiny-gelu-3labels", test_shared_dir()); /* F32 */
        bert_model *m[2] = {NULL, NULL};
        bert_ctx *ctx[2] = {NULL, NULL};
        enum { B = 2, T = 9 };
        const int32_t ids[B * T] = {2, 40, 41, 42, 43, 44, 45, 46, 3, 2, 50, 51, 52, 3, 0, 0, 0, 0};
        const uint8_t mask[B * T] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0};
        for (int w = 0; w < 2; w++) {
            bert_model_params mp = bert_model_default_params();
            mp.precision = precs[pi];
            mp.weights = w ? BERT_WEIGHTS_MAPPED : BERT_WEIGHTS_PACKED;
            if (bert_model_load(dir, &mp, &m[w], err, sizeof err) != BERT_OK)
                fail_msg("%s", err);
            assert_int_equal(bert_ctx_new(m[w], NULL, &ctx[w], err, sizeof err), BERT_OK);
            if (bert_ctx_run(ctx[w], ids, NULL, mask, B, T, NULL) != BERT_OK)
                fail_msg("%s", bert_ctx_errmsg(ctx[w]));
        }
        const bert_model_info in = bert_model_get_info(m[0]), im = bert_model_get_info(m[1]);
        assert_true(in.has_pooler);
        assert_int_equal(im.mapped_bytes, in.mapped_bytes + in.hidden_size * in.hidden_size * sizeof(float));
        for (size_t i = 0; i < B * in.hidden_size; i++)
            assert_float_equal(bert_ctx_pooled(ctx[0])[i], bert_ctx_pooled(ctx[1])[i], 1e-5);
        for (size_t i = 0; i < B * in.n_labels; i++)
            assert_float_equal(bert_ctx_logits(ctx[0])[i], bert_ctx_logits(ctx[1])[i], 1e-5);
        for (int w = 0; w < 2; w++) {
            bert_ctx_free(ctx[w]);
            bert_model_free(m[w]);
        }
    }
}

/* Loading splits each weight's transpose over the threads, each with its own scratch piece (at
 * most 16 of them): a load with more OpenMP threads than that gives the same weights, so the same
 * logits to the bit. mini-sst2 (H 256, I 1024): 4 to 16 pieces per weight. */
static void test_load_threads_do_not_change_weights(void **state)
{
    (void)state;
    const int prev = omp_get_max_threads();
    bert_model *m[2];
    m[0] = load("mini-sst2", BERT_PRECISION_F32);
    omp_set_num_threads(24);
    m[1] = load("mini-sst2", BERT_PRECISION_F32);
    omp_set_num_threads(prev);
    const int32_t ids[8] = {101, 2023, 3185, 2001, 2307, 1998, 4569, 102};
    float logits[2][2];
    for (int i = 0; i < 2; i++) {
        char err[256];
        bert_ctx_params cp = bert_ctx_default_params();
        cp.n_threads = 2;
        bert_ctx *c = NULL;
        assert_int_equal(bert_ctx_new(m[i], &cp, &c, err, sizeof err), BERT_OK);
        if (bert_ctx_run(c, ids, NULL, NULL, 1, 8, NULL) != BERT_OK)
            fail_msg("%s", bert_ctx_errmsg(c));
        memcpy(logits[i], bert_ctx_logits(c), sizeof logits[i]);
        bert_ctx_free(c);
        bert_model_free(m[i]);
    }
    assert_memory_equal(logits[1], logits[0], sizeof logits[0]);
}

static void test_bad_precision_is_an_error(void **state)
{
    (void)state;
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/models/mini-sst2", test_shared_dir());
    bert_model_params mp = bert_model_default_params();
    mp.precision = (bert_precision)7;
    bert_model *m = NULL;
    assert_int_equal(bert_model_load(dir, &mp, &m, err, sizeof err), BERT_E_INVALID_ARG);
    assert_null(m);
    assert_non_null(strstr(err, "precision"));
    mp = bert_model_default_params();
    mp.weights = (bert_weights)2;
    assert_int_equal(bert_model_load(dir, &mp, &m, err, sizeof err), BERT_E_INVALID_ARG);
    assert_null(m);
    assert_non_null(strstr(err, "bert_weights"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attention_matches_reference),
        cmocka_unit_test(test_padding_free_batch_equals_single_runs),
        cmocka_unit_test(test_reduced_precision_accuracy),
        cmocka_unit_test(test_cls_only),
        cmocka_unit_test(test_int8_matmul_is_exact),
        cmocka_unit_test(test_int8_pack_matches_onednn),
        cmocka_unit_test(test_kernels_are_reported),
        cmocka_unit_test(test_qgemm_is_exact),
        cmocka_unit_test(test_qgemm_linear),
        cmocka_unit_test(test_quantize_paths_agree),
        cmocka_unit_test(test_transpose_paths_agree),
        cmocka_unit_test(test_absmax_rows),
        cmocka_unit_test(test_load_threads_do_not_change_weights),
        cmocka_unit_test(test_mapped_weights_in_reduced_precision),
        cmocka_unit_test(test_every_family_every_path_and_precision),
        cmocka_unit_test(test_bad_precision_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
