/* u8 x s8 products for CPUs whose best int8 instructions are AVX2's (no VNNI), on weights packed for
 * them at load.
 *
 * Without VNNI an int8 dot product on AVX2 is vpmaddubsw (u8 x s8 byte pairs into saturating 16-bit
 * sums), then vpmaddwd against ones (pairs of those into 32 bits), then vpaddd. oneDNN 2.6 runs all
 * three for every 32 products, with 7-bit weights so that no 16-bit sum saturates. Here the weights
 * have 6 bits (|q| <= 31): two vpmaddubsw results added in 16 bits stay within 4 x 255 x 31 = 31620,
 * so one vpmaddwd and one vpaddd serve 64 products, 3 multiplies per 64 products instead of 4, and
 * the arithmetic is still exact, and faster than oneDNN's AVX2 u8 x s8 kernels on bert-base's shapes
 * (docs/performance.md has the measurements). The price is a bit of weight precision: mini-sst2's SST-2 dev accuracy 0.8819
 * against 0.8830 with oneDNN's 7-bit weights and 0.8842 in f32 (test_precision).
 *
 * Layout, per block of 16 output channels (columns), per group of 8 inputs (k), 128 bytes:
 * [columns 0-7 x k 0-3][columns 8-15 x k 0-3][columns 0-7 x k 4-7][columns 8-15 x k 4-7], each
 * column's 4 bytes together (what vpmaddubsw + vpmaddwd sum into one 32-bit lane). Channels past N
 * and inputs past K are zero. After the blocks: each channel's sum of its quantised weights (the
 * source zero point's correction), padded to the blocks' 16 columns. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "avx2.h"
#include "encoder.h"

enum { NR = 16, KG = 8, MR = 4, BLOCK_BYTES = NR * KG, MC = 128 };

static size_t k_groups(size_t K)
{
    return (K + KG - 1) / KG;
}

static size_t n_blocks(size_t N)
{
    return (N + NR - 1) / NR;
}

size_t bert__qgemm_lda(size_t K)
{
    return k_groups(K) * KG;
}

size_t bert__qgemm_packed_bytes(size_t K, size_t N)
{
    return n_blocks(N) * (k_groups(K) * BLOCK_BYTES + NR * sizeof(int32_t));
}

static int32_t *col_sums(const void *packed, size_t K, size_t N)
{
    return (int32_t *)(void *)((unsigned char *)packed + n_blocks(N) * k_groups(K) * BLOCK_BYTES);
}

/* round(v) clamped to +-31, NaN to 0 (a corrupt weight gives a wrong answer, never undefined behaviour) */
static int8_t quantise(float v)
{
    v = v == v ? nearbyintf(v) : 0.f;
    return (int8_t)(v > 31.f ? 31.f : v < -31.f ? -31.f : v);
}

/* byte offset of column c within a group of 8 inputs: which 8-column half, then 4 bytes a column */
static size_t col_at(size_t c)
{
    return (c / 8) * 32 + (c % 8) * 4;
}

/* byte offset of input k of column c within its block: the group, the 4-input half, the column */
static size_t byte_at(size_t k, size_t c)
{
    return (k / KG) * BLOCK_BYTES + (k % KG / 4) * 64 + col_at(c) + k % 4;
}

/* Channel n (column c of its block) from input k0 on, one byte at a time; returns its sum */
static int32_t pack_tail(const float *row, size_t k0, size_t K, float inv, size_t c, int8_t *blk)
{
    int32_t sum = 0;
    for (size_t k = k0; k < K; k++) {
        const int8_t q = quantise(row[k] * inv);
        blk[byte_at(k, c)] = q;
        sum += q;
    }
    return sum;
}

#if BERT__HAVE_AVX2_CODE
/* 8 inputs of a channel at a time: rounded, clamped and narrowed in registers, then the two 4-byte
 * halves stored where the group wants them (a byte loop was a large share of an int8 load) */
static BERT__AVX2 int32_t pack_row_avx2(const float *row, size_t K, float inv, size_t c, int8_t *blk)
{
    const __m256 s = _mm256_set1_ps(inv), lo = _mm256_set1_ps(-31.f), hi = _mm256_set1_ps(31.f);
    __m256i sum = _mm256_setzero_si256();
    size_t k = 0;
    for (; k + KG <= K; k += KG) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(row + k), s);
        v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q)); /* NaN to 0 */
        v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __m256i q = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi));
        sum = _mm256_add_epi32(sum, q);
        /* per 128-bit lane: 4 values to 16 bits, then to 8; the lane's low 4 bytes hold them */
        const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(q, q), _mm256_setzero_si256());
        const int32_t w0 = _mm_cvtsi128_si32(_mm256_castsi256_si128(b));
        const int32_t w1 = _mm_cvtsi128_si32(_mm256_extracti128_si256(b, 1));
        memcpy(blk + byte_at(k, c), &w0, 4);
        memcpy(blk + byte_at(k + 4, c), &w1, 4);
    }
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
    return _mm_cvtsi128_si32(t) + pack_tail(row, k, K, inv, c, blk);
}
#else
static int32_t pack_row_avx2(const float *row, size_t K, float inv, size_t c, int8_t *blk)
{
    return pack_tail(row, 0, K, inv, c, blk);
}
#endif

void bert__qgemm_pack(const float *w, size_t K, size_t N, const float *inv_scale, void *dst)
{
    const size_t K8 = k_groups(K), NB = n_blocks(N);
    const int avx2 = bert__simd_level() >= BERT__SIMD_AVX2;
    int8_t *out = dst;
    int32_t *sums = col_sums(dst, K, N);
#pragma omp parallel for schedule(static) if (BERT__OMP_PARALLEL && N * K >= 65536)
    for (size_t nb = 0; nb < NB; nb++) {
        int8_t *blk = out + nb * K8 * BLOCK_BYTES;
        memset(blk, 0, K8 * BLOCK_BYTES);
        for (size_t c = 0; c < NR; c++) {
            const size_t n = nb * NR + c;
            if (n >= N)
                sums[n] = 0;
            else if (avx2)
                sums[n] = pack_row_avx2(w + n * K, K, inv_scale[n], c, blk);
            else
                sums[n] = pack_tail(w + n * K, 0, K, inv_scale[n], c, blk);
        }
    }
}

/* What a tile's epilogue needs: dst = (acc - zp * colsum) * a_scale * wscale[n] + bias[n] (+ dst) */
typedef struct qargs {
    const uint8_t *a;
    size_t lda, K8, N, ldd;
    const int8_t *b;
    const int32_t *sums;
    int32_t zp;
    float a_scale;
    const float *wscale, *bias;
    float *dst;
    int accumulate;
} qargs;

/* One output value from an exact 32-bit sum; the vector path computes the same, lane by lane. */
static float finish(const qargs *q, int32_t acc, size_t n, float old)
{
    const float v = fmaf((float)(acc - q->zp * q->sums[n]), q->a_scale * q->wscale[n], q->bias ? q->bias[n] : 0.f);
    return q->accumulate ? v + old : v;
}

static void tile_portable(const qargs *q, size_t m0, size_t mr, size_t nb)
{
    const int8_t *blk = q->b + nb * q->K8 * BLOCK_BYTES;
    for (size_t r = 0; r < mr; r++) {
        const uint8_t *a = q->a + (m0 + r) * q->lda;
        for (size_t c = 0; c < NR && nb * NR + c < q->N; c++) {
            const size_t n = nb * NR + c;
            int32_t acc = 0;
            for (size_t k = 0; k < q->K8 * KG; k++)
                acc += (int32_t)a[k] * blk[byte_at(k, c)];
            float *o = q->dst + (m0 + r) * q->ldd + n;
            *o = finish(q, acc, n, *o);
        }
    }
}

#if BERT__HAVE_AVX2_CODE
/* The epilogue's per-channel terms of one column block, computed once for all its rows */
typedef struct cols16 {
    float sc[NR], bi[NR];
    int32_t zs[NR];
    size_t n0, nv; /* first channel, channels that exist */
} cols16;

/* One row's 8 inputs against the block's 16 columns: 16-bit sums of 4 products each (|sum| <= 4 x
 * 255 x 31, no saturation), pairs of them added in 16 bits, then widened into the two accumulators */
BERT__INLINE_AVX2 void row_step(const uint8_t *a, const int8_t *b, __m256i ones, __m256i *x0, __m256i *x1)
{
    int32_t lo, hi;
    memcpy(&lo, a, 4);
    memcpy(&hi, a + 4, 4);
    const __m256i a0 = _mm256_set1_epi32(lo), a1 = _mm256_set1_epi32(hi);
    __m256i p = _mm256_maddubs_epi16(a0, _mm256_load_si256((const __m256i *)(const void *)b));
    p = _mm256_add_epi16(p, _mm256_maddubs_epi16(a1, _mm256_load_si256((const __m256i *)(const void *)(b + 64))));
    *x0 = _mm256_add_epi32(*x0, _mm256_madd_epi16(p, ones));
    __m256i s = _mm256_maddubs_epi16(a0, _mm256_load_si256((const __m256i *)(const void *)(b + 32)));
    s = _mm256_add_epi16(s, _mm256_maddubs_epi16(a1, _mm256_load_si256((const __m256i *)(const void *)(b + 96))));
    *x1 = _mm256_add_epi32(*x1, _mm256_madd_epi16(s, ones));
}

BERT__INLINE_AVX2 void finish_row(const qargs *q, const cols16 *cb, size_t m, __m256i x0, __m256i x1)
{
    float *o = q->dst + m * q->ldd + cb->n0;
    float tmp[NR];
    float *t = cb->nv == NR ? o : tmp; /* a partial last block goes through a full-width copy */
    if (cb->nv < NR)
        memcpy(tmp, o, cb->nv * sizeof *o);
    for (int h = 0; h < 2; h++) {
        const __m256i z = _mm256_loadu_si256((const __m256i *)(const void *)(cb->zs + 8 * h));
        __m256 v = _mm256_cvtepi32_ps(_mm256_sub_epi32(h ? x1 : x0, z));
        v = _mm256_fmadd_ps(v, _mm256_loadu_ps(cb->sc + 8 * h), _mm256_loadu_ps(cb->bi + 8 * h));
        if (q->accumulate)
            v = _mm256_add_ps(v, _mm256_loadu_ps(t + 8 * h));
        _mm256_storeu_ps(t + 8 * h, v);
    }
    if (cb->nv < NR)
        memcpy(o, tmp, cb->nv * sizeof *o);
}

_Static_assert(MR == 4, "dot_rows writes out four rows");

/* The sums of mr (1..MR, a constant where inlined) rows against one column block, into x[2 r + h]
 * for row r and column half h */
BERT__INLINE_AVX2 void dot_rows(const uint8_t *a, size_t lda, const int8_t *b, size_t K8, const int mr, __m256i *x)
{
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    const __m256i ones = _mm256_set1_epi16(1);
    for (size_t g = 0; g < K8; g++, b += BLOCK_BYTES, a += KG) {
        row_step(a, b, ones, &c00, &c01);
        if (mr > 1)
            row_step(a + lda, b, ones, &c10, &c11);
        if (mr > 2)
            row_step(a + 2 * lda, b, ones, &c20, &c21);
        if (mr > 3)
            row_step(a + 3 * lda, b, ones, &c30, &c31);
    }
    x[0] = c00;
    x[1] = c01;
    x[2] = c10;
    x[3] = c11;
    x[4] = c20;
    x[5] = c21;
    x[6] = c30;
    x[7] = c31;
}

/* The loop on its own, not inlined into the block's: the accumulators are named variables, each
 * row's step written out, and nothing else is live, so all eight stay in registers. Inlined into
 * the block with the epilogue's values around (and the accumulators in an array), gcc 12 kept
 * three of them on the stack, a load and a store each per step, and whole products slowed down
 * measurably. */
static BERT__AVX2 __attribute__((noinline)) void dot_tile(const uint8_t *a, size_t lda, const int8_t *b, size_t K8,
                                                          int mr, __m256i *x)
{
    switch (mr) {
    case 4:
        dot_rows(a, lda, b, K8, 4, x);
        break;
    case 3:
        dot_rows(a, lda, b, K8, 3, x);
        break;
    case 2:
        dot_rows(a, lda, b, K8, 2, x);
        break;
    default:
        dot_rows(a, lda, b, K8, 1, x);
        break;
    }
}

/* mr (1..MR) rows from m0 against one column block: the sums, then the epilogue row by row */
BERT__INLINE_AVX2 void tile_rows(const qargs *q, const cols16 *cb, size_t m0, int mr, const int8_t *blk)
{
    __m256i x[2 * MR];
    dot_tile(q->a + m0 * q->lda, q->lda, blk, q->K8, mr, x);
    for (int r = 0; r < mr; r++)
        finish_row(q, cb, m0 + (size_t)r, x[2 * r], x[2 * r + 1]);
}

/* Rows [m0, m1) of column block nb */
static BERT__AVX2 void block_avx2(const qargs *q, size_t m0, size_t m1, size_t nb)
{
    cols16 cb;
    cb.n0 = nb * NR;
    cb.nv = q->N - cb.n0 < NR ? q->N - cb.n0 : NR;
    for (size_t c = 0; c < NR; c++) {
        cb.sc[c] = c < cb.nv ? q->a_scale * q->wscale[cb.n0 + c] : 0.f;
        cb.bi[c] = c < cb.nv && q->bias ? q->bias[cb.n0 + c] : 0.f;
        cb.zs[c] = q->zp * q->sums[cb.n0 + c];
    }
    const int8_t *blk = q->b + nb * q->K8 * BLOCK_BYTES;
    for (size_t m = m0; m < m1; m += MR)
        tile_rows(q, &cb, m, m1 - m < MR ? (int)(m1 - m) : MR, blk);
}
#else
/* never called: bert__simd_level() is BERT__SIMD_PORTABLE off x86 */
static void block_avx2(const qargs *q, size_t m0, size_t m1, size_t nb)
{
    tile_portable(q, m0, m1 - m0, nb);
}
#endif

void bert__qgemm(const uint8_t *a, size_t M, size_t K, int32_t zp, float a_scale, const void *packed, size_t N,
                 const float *wscale, const float *bias, float *dst, size_t ldd, int accumulate)
{
    const qargs q = {.a = a,
                     .lda = bert__qgemm_lda(K),
                     .K8 = k_groups(K),
                     .N = N,
                     .ldd = ldd,
                     .b = packed,
                     .sums = col_sums(packed, K, N),
                     .zp = zp,
                     .a_scale = a_scale,
                     .wscale = wscale,
                     .bias = bias,
                     .dst = dst,
                     .accumulate = accumulate};
    const int avx2 = bert__simd_level() >= BERT__SIMD_AVX2;
    const size_t MB = (M + MC - 1) / MC, NB = n_blocks(N);
    /* rows in blocks of MC (their u8 source stays in L2 while the columns pass), columns the inner
     * index: a thread's static share is a run of column blocks, of one row block where M <= MC
     * (b1 x 128), else of whole row blocks. Splitting columns over all row blocks instead, or
     * dynamic scheduling, was no faster. */
#pragma omp parallel for collapse(2) schedule(static) if (BERT__OMP_PARALLEL && M * N * K >= 262144)
    for (size_t mb = 0; mb < MB; mb++)
        for (size_t nb = 0; nb < NB; nb++) {
            const size_t m1 = (mb + 1) * MC < M ? (mb + 1) * MC : M;
            if (avx2)
                block_avx2(&q, mb * MC, m1, nb);
            else
                tile_portable(&q, mb * MC, m1 - mb * MC, nb);
        }
}
