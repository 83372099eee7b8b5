/* The one-time transpose of a linear layer's weight at load. HF stores it [out][in]; dnnl_sgemm
 * reads it fastest as [in][out] with padded rows (see bert__pack_desc), so every F32 weight of a
 * packed model passes through here once. oneDNN's reorder made this a large share of a packed load;
 * 8 x 8 blocks through registers in 64 x 64 tiles, written out with streaming stores, are several
 * times faster. */
#include <stddef.h>
#include <stdint.h>

#include "avx2.h"
#include "encoder.h"

/* a tile's source rows (64 x 256 bytes) and its staging block (16 KiB) stay in L1 */
#define TILE 64

static void tile_portable(const float *restrict src, size_t lds, float *restrict dst, size_t ldd, size_t n0, size_t n1,
                          size_t k0, size_t k1)
{
    for (size_t n = n0; n < n1; n++)
        for (size_t k = k0; k < k1; k++)
            dst[k * ldd + n] = src[n * lds + k];
}

#if BERT__HAVE_AVX2_CODE
/* Any tile: 8 x 8 blocks straight to the destination, the edges one by one. */
BERT__AVX2 static void tile_avx2_any(const float *restrict src, size_t lds, float *restrict dst, size_t ldd, size_t n0,
                                     size_t n1, size_t k0, size_t k1)
{
    const size_t n8 = n0 + ((n1 - n0) & ~(size_t)7), k8 = k0 + ((k1 - k0) & ~(size_t)7);
    for (size_t n = n0; n < n8; n += 8)
        for (size_t k = k0; k < k8; k += 8) {
            __m256 r[8];
            for (size_t i = 0; i < 8; i++)
                r[i] = _mm256_loadu_ps(src + (n + i) * lds + k);
            bert__transpose8x8(r);
            for (size_t i = 0; i < 8; i++)
                _mm256_storeu_ps(dst + (k + i) * ldd + n, r[i]);
        }
    tile_portable(src, lds, dst, ldd, n0, n8, k8, k1);
    tile_portable(src, lds, dst, ldd, n8, n1, k0, k1);
}

/* A tile whose sides are multiples of 8 and whose destination rows are 32-byte aligned: transposed
 * into a staging block first, then each destination row written in one run of streaming stores.
 * Whole cache lines are written without being read first, and not kept: the destination is ~340
 * MB of fresh memory nothing reads until the first run (a third off the transpose). */
BERT__AVX2 static void tile_avx2(const float *restrict src, size_t lds, float *restrict dst, size_t ldd, size_t n0,
                                 size_t n1, size_t k0, size_t k1)
{
    const size_t w = n1 - n0, h = k1 - k0;
    if (w % 8 || h % 8 || ldd % 8 || ((uintptr_t)(dst + k0 * ldd + n0) & 31)) {
        tile_avx2_any(src, lds, dst, ldd, n0, n1, k0, k1);
        return;
    }
    float stage[TILE * TILE] __attribute__((aligned(32)));
    for (size_t n = 0; n < w; n += 8)
        for (size_t k = 0; k < h; k += 8) {
            __m256 r[8];
            for (size_t i = 0; i < 8; i++)
                r[i] = _mm256_loadu_ps(src + (n0 + n + i) * lds + k0 + k);
            bert__transpose8x8(r);
            for (size_t i = 0; i < 8; i++)
                _mm256_store_ps(stage + (k + i) * w + n, r[i]);
        }
    for (size_t k = 0; k < h; k++) {
        float *d = dst + (k0 + k) * ldd + n0;
        for (size_t n = 0; n < w; n += 8)
            _mm256_stream_ps(d + n, _mm256_load_ps(stage + k * w + n));
    }
    /* streaming stores are weakly ordered: make them visible before the threads part */
    _mm_sfence();
}
#else
/* never called: bert__simd_level() is BERT__SIMD_PORTABLE off x86 */
static void tile_avx2(const float *restrict src, size_t lds, float *restrict dst, size_t ldd, size_t n0, size_t n1,
                      size_t k0, size_t k1)
{
    tile_portable(src, lds, dst, ldd, n0, n1, k0, k1);
}
#endif

static void tile(int avx2, const float *restrict src, size_t N, size_t K, size_t lds, float *restrict dst, size_t ldd,
                 long t, long tk)
{
    const size_t n0 = (size_t)(t / tk) * TILE, k0 = (size_t)(t % tk) * TILE;
    const size_t n1 = n0 + TILE < N ? n0 + TILE : N, k1 = k0 + TILE < K ? k0 + TILE : K;
    if (avx2)
        tile_avx2(src, lds, dst, ldd, n0, n1, k0, k1);
    else
        tile_portable(src, lds, dst, ldd, n0, n1, k0, k1);
}

void bert__transpose(const float *restrict src, size_t N, size_t K, size_t lds, float *restrict dst, size_t ldd)
{
    const int avx2 = bert__simd_level() >= BERT__SIMD_AVX2;
    const long tn = (long)((N + TILE - 1) / TILE), tk = (long)((K + TILE - 1) / TILE);
    for (long t = 0; t < tn * tk; t++)
        tile(avx2, src, N, K, lds, dst, ldd, t, tk);
}
