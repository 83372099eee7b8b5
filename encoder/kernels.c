/* Plain loops over raw arrays: no allocation, no oneDNN, no failure (callers checked the
 * preconditions). The heavy work is oneDNN's; these are the memory-bound pieces around it. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "avx2.h"
#include "encoder.h"

static float f16_bits_to_f32(uint32_t h)
{
    const uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    uint32_t bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (man << 13); /* inf / nan */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else {
        /* subnormal: normalise the mantissa */
        uint32_t e = 113, m = man;
        while (!(m & 0x400)) {
            m <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((m & 0x3FF) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* All 65536 half values, built once: conversion at load is then one load per weight instead of a
 * branchy decode (it was 40% of mini-sst2's load time). */
static float f16_table[65536];
static pthread_once_t f16_once = PTHREAD_ONCE_INIT;
static void f16_table_init(void)
{
    for (uint32_t h = 0; h < 65536; h++)
        f16_table[h] = f16_bits_to_f32(h);
}

void bert__f16_to_f32(const uint16_t *restrict src, float *restrict dst, size_t n)
{
    pthread_once(&f16_once, f16_table_init);
    for (size_t i = 0; i < n; i++)
        dst[i] = f16_table[src[i]];
}

void bert__bf16_to_f32(const uint16_t *restrict src, float *restrict dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint32_t bits = (uint32_t)src[i] << 16;
        memcpy(&dst[i], &bits, sizeof bits);
    }
}

void bert__embed_segs(const float *restrict word, const float *restrict pos, const float *restrict type,
                      const int32_t *restrict ids, const int32_t *restrict types, const int32_t *restrict pos_ids,
                      size_t T, const bert__seg *segs, size_t B, size_t H, float *restrict out)
{
    for (size_t b = 0; b < B; b++) {
        for (size_t t = 0; t < segs[b].len; t++) {
            const size_t r = b * T + t;
            const float *w = word + (size_t)ids[r] * H;
            float *o = out + (segs[b].off + t) * H;
            /* HF adds (word + type) first, then position: keep the order for bit-closeness */
            if (type) {
                const float *y = type + (size_t)(types ? types[r] : 0) * H;
                for (size_t h = 0; h < H; h++)
                    o[h] = w[h] + y[h];
            } else {
                memcpy(o, w, H * sizeof *o);
            }
            if (pos) {
                const float *p = pos + (size_t)(pos_ids ? pos_ids[r] : (int32_t)t) * H;
                for (size_t h = 0; h < H; h++)
                    o[h] += p[h];
            }
        }
    }
}

void bert__act(bert__post act, float *x, size_t n)
{
    switch (act) {
    case BERT__POST_NONE:
        return;
    case BERT__POST_GELU_ERF:
        for (size_t i = 0; i < n; i++)
            x[i] = 0.5f * x[i] * (1.f + erff(x[i] * 0.70710678118654752f));
        return;
    case BERT__POST_GELU_TANH:
        for (size_t i = 0; i < n; i++)
            x[i] = 0.5f * x[i] * (1.f + tanhf(0.79788456080286536f * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
        return;
    case BERT__POST_RELU:
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] > 0.f ? x[i] : 0.f;
        return;
    case BERT__POST_SILU:
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] / (1.f + expf(-x[i]));
        return;
    case BERT__POST_TANH:
        for (size_t i = 0; i < n; i++)
            x[i] = tanhf(x[i]);
        return;
    }
}

void bert__attn_step(const float *restrict q, const float *restrict k, const float *restrict v, size_t n, size_t heads,
                     size_t dh, size_t H, float scale, float *restrict scores, float *restrict out)
{
    for (size_t h = 0; h < heads; h++) {
        const float *qh = q + h * dh;
        float mx = -FLT_MAX;
        for (size_t j = 0; j < n; j++) {
            const float *kj = k + j * H + h * dh;
            float s = 0;
            for (size_t d = 0; d < dh; d++)
                s += qh[d] * kj[d];
            scores[j] = s * scale;
            mx = scores[j] > mx ? scores[j] : mx;
        }
        float sum = 0;
        for (size_t j = 0; j < n; j++) {
            scores[j] = expf(scores[j] - mx);
            sum += scores[j];
        }
        float *oh = out + h * dh;
        for (size_t d = 0; d < dh; d++)
            oh[d] = 0;
        for (size_t j = 0; j < n; j++) {
            const float p = scores[j] / sum, *vj = v + j * H + h * dh;
            for (size_t d = 0; d < dh; d++)
                oh[d] += p * vj[d];
        }
    }
}

/* The conversions in front of bf16 and u8 matmuls run once per linear layer on the whole
 * activation matrix: memory-bound, so they are spread over the ctx's threads and compiled for
 * AVX-512 as well as the baseline (the clone is picked once, at load, by the dynamic linker). */
#if defined(__x86_64__) && defined(__has_attribute)
/* not under sanitizers: the clones' ifunc resolver runs before the sanitizer runtime is up (TSan
 * crashed there) */
#if __has_attribute(target_clones) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && \
    !defined(__clang__)
#define BERT__CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef BERT__CLONES
#define BERT__CLONES
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define BERT__NO_NAN_CARE __attribute__((optimize("finite-math-only", "no-signed-zeros")))
#else
#define BERT__NO_NAN_CARE
#endif
/* below this many elements a parallel region costs more than it saves */
#define BERT__PAR_MIN 65536

BERT__CLONES void bert__to_bf16(const float *restrict src, size_t rows, size_t cols, size_t ld, uint16_t *restrict dst)
{
#pragma omp parallel for schedule(static) if (BERT__OMP_PARALLEL && rows * cols >= BERT__PAR_MIN)
    for (size_t r = 0; r < rows; r++) {
        const float *s = src + r * ld;
        uint16_t *o = dst + r * cols;
        for (size_t c = 0; c < cols; c++) {
            uint32_t u;
            memcpy(&u, &s[c], sizeof u);
            /* round to nearest even; a NaN keeps a mantissa bit so it stays a NaN */
            const uint32_t nan = (u & 0x7FFFFFFFu) > 0x7F800000u;
            const uint32_t rnd = u + 0x7FFFu + ((u >> 16) & 1u);
            o[c] = (uint16_t)(nan ? (u >> 16) | 0x40u : rnd >> 16);
        }
    }
}

/* no NaN or signed-zero care: the range only sets a quantisation scale (a NaN input is garbage
 * either way), and it lets the reductions become MINPS/MAXPS */
BERT__NO_NAN_CARE BERT__CLONES void bert__minmax(const float *restrict src, size_t rows, size_t cols, size_t ld,
                                                 float *mn, float *mx)
{
    float lo = INFINITY, hi = -INFINITY;
#pragma omp parallel for schedule(static) reduction(min   \
                                                    : lo) \
    reduction(max                                         \
              : hi) if (BERT__OMP_PARALLEL && rows * cols >= BERT__PAR_MIN)
    for (size_t r = 0; r < rows; r++) {
        const float *s = src + r * ld;
        for (size_t c = 0; c < cols; c++) {
            lo = s[c] < lo ? s[c] : lo;
            hi = s[c] > hi ? s[c] : hi;
        }
    }
    *mn = lo;
    *mx = hi;
}

/* Every weight at load and every result after a run pass through here, so it is vectorised (the
 * exponent bits compared as integers: no floating-point exception, and the compiler's NaN rules do
 * not apply) and spread over the threads for large arrays. */
BERT__CLONES size_t bert__first_nonfinite(const float *p, size_t n)
{
    const uint32_t *u = (const uint32_t *)(const void *)p;
    const size_t block = 4096, n_blocks = (n + block - 1) / block;
    size_t first = n;
#pragma omp parallel for schedule(static) reduction(min : first) if (BERT__OMP_PARALLEL && n >= 4 * BERT__PAR_MIN)
    for (size_t b = 0; b < n_blocks; b++) {
        const size_t end = (b + 1) * block < n ? (b + 1) * block : n;
        uint32_t any = 0;
        for (size_t i = b * block; i < end; i++)
            any |= (u[i] & 0x7F800000u) == 0x7F800000u;
        if (any)
            for (size_t i = b * block; i < end; i++)
                if ((u[i] & 0x7F800000u) == 0x7F800000u) {
                    first = i < first ? i : first;
                    break;
                }
    }
    return first;
}

/* per weight row at load (int8 scales): over the threads, as a scalar loop on one thread it was a
 * visible part of an int8 load */
BERT__NO_NAN_CARE BERT__CLONES void bert__absmax_rows(const float *restrict w, size_t rows, size_t cols,
                                                      float *restrict out)
{
#pragma omp parallel for schedule(static) if (BERT__OMP_PARALLEL && rows * cols >= BERT__PAR_MIN)
    for (size_t r = 0; r < rows; r++) {
        const float *s = w + r * cols;
        float mx = 0.f;
        for (size_t c = 0; c < cols; c++) {
            const float a = fabsf(s[c]);
            mx = a > mx ? a : mx;
        }
        out[r] = mx;
    }
}

static int cpu_level(void)
{
#if BERT__HAVE_AVX2_CODE
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512f")                                 ? BERT__SIMD_AVX512
            : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? BERT__SIMD_AVX2
                                                                              : BERT__SIMD_PORTABLE;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
#else
    return BERT__SIMD_PORTABLE;
#endif
}

/* One cap for every hand-vectorised path, so that tests can hold each to its portable loop (or to
 * AVX2 on an AVX-512 CPU) and check them against each other. */
static int simd_cap = BERT__SIMD_AVX512;

int bert__simd_level(void)
{
    const int cpu = cpu_level(), cap = __atomic_load_n(&simd_cap, __ATOMIC_RELAXED);
    return cpu < cap ? cpu : cap;
}

int bert__simd_cap(int cap)
{
    __atomic_store_n(&simd_cap, cap, __ATOMIC_RELAXED);
    return bert__simd_level();
}

/* Returns 1 when s holds a NaN or infinity (whose byte is then 0): the caller must not pass the
 * product of a value that is no number off as a number. */
static int quantize_row(const float *restrict s, size_t cols, float inv_scale, int32_t zp, uint8_t *restrict o)
{
    const float z = (float)zp;
    int bad = 0;
    for (size_t c = 0; c < cols; c++) {
        float v = nearbyintf(s[c] * inv_scale) + z;
        if (!(fabsf(s[c]) <= FLT_MAX) || v != v) { /* v: a NaN scale from a range that held one */
            bad = 1;
            v = 0.f;
        }
        v = v < 0.f ? 0.f : v > 255.f ? 255.f : v;
        o[c] = (uint8_t)v;
    }
    return bad;
}

#if BERT__HAVE_AVX2_CODE
/* The same 32 values at a time: cvtps rounds to nearest even (as nearbyintf does in the default
 * mode) and the two saturating packs are the clamp to [0, 255]. The compiler's vectorisation of
 * quantize_row clamped in float and narrowed lane by lane, twice as slow as its pass over the
 * range. |s * inv_scale| stays below 2^31: the
 * scale comes from the tensor's own range. */
BERT__AVX2 static int quantize_row_avx2(const float *restrict s, size_t cols, float inv_scale, int32_t zp,
                                        uint8_t *restrict o)
{
    const __m256 inv = _mm256_set1_ps(inv_scale);
    const __m256i z = _mm256_set1_epi32(zp), order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    /* cvtps gives INT_MIN for a NaN or a value out of int range, which a finite value scaled by
     * its tensor's own range never is: that lane is the NaN/infinity check, at one compare */
    const __m256i invalid = _mm256_set1_epi32(INT32_MIN);
    __m256i bad = _mm256_setzero_si256();
    size_t c = 0;
    for (; c + 32 <= cols; c += 32) {
        __m256i q[4];
        for (int k = 0; k < 4; k++) {
            const __m256i i = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(s + c + 8 * k), inv));
            bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(i, invalid));
            q[k] = _mm256_add_epi32(i, z);
        }
        /* per 128-bit lane: packs interleave a and b in groups of 4, packus in groups of 8 */
        const __m256i w = _mm256_packus_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
        _mm256_storeu_si256((__m256i *)(void *)(o + c), _mm256_permutevar8x32_epi32(w, order));
    }
    return quantize_row(s + c, cols - c, inv_scale, zp, o + c) | !_mm256_testz_si256(bad, bad);
}
#else
/* never called: bert__simd_level() is BERT__SIMD_PORTABLE off x86 */
static int quantize_row_avx2(const float *restrict s, size_t cols, float inv_scale, int32_t zp, uint8_t *restrict o)
{
    return quantize_row(s, cols, inv_scale, zp, o);
}
#endif

size_t bert__quantize_u8(const float *restrict src, size_t rows, size_t cols, size_t ld, float inv_scale, int32_t zp,
                         uint8_t *restrict dst, size_t ldd)
{
    const int avx2 = bert__simd_level() >= BERT__SIMD_AVX2;
    size_t bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad) if (BERT__OMP_PARALLEL && rows * cols >= BERT__PAR_MIN)
    for (size_t r = 0; r < rows; r++) {
        if (avx2)
            bad += (size_t)quantize_row_avx2(src + r * ld, cols, inv_scale, zp, dst + r * ldd);
        else
            bad += (size_t)quantize_row(src + r * ld, cols, inv_scale, zp, dst + r * ldd);
        memset(dst + r * ldd + cols, 0, ldd - cols);
    }
    return bad;
}
