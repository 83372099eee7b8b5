/* Building blocks shared by the hand-vectorised AVX2 paths (x86-64, GCC or Clang only: callers
 * pick them at run time through bert__simd_level, so the rest of the file stays portable). */
#ifndef BERT_ENCODER_AVX2_H
#define BERT_ENCODER_AVX2_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define BERT__HAVE_AVX2_CODE 1
#define BERT__AVX2           __attribute__((target("avx2,fma")))
#define BERT__INLINE_AVX2    static inline __attribute__((always_inline, target("avx2,fma")))

/* r[0..7], eight rows of eight floats, becomes its transpose: 24 shuffles for 64 values instead of
 * 64 scalar moves with strided stores. */
BERT__INLINE_AVX2 void bert__transpose8x8(__m256 r[8])
{
    __m256 t[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
        r[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
        r[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
        r[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
        r[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
    }
    for (int k = 0; k < 4; k++) {
        t[k] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x20);
        t[k + 4] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x31);
    }
    for (int k = 0; k < 8; k++)
        r[k] = t[k];
}
#else
#define BERT__HAVE_AVX2_CODE 0
#endif

#endif
