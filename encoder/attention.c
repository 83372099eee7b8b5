/* Self-attention over segments: each segment (a sequence's rows in the fused [rows, 3H] QKV
 * buffer) attends only to itself, so a batch of sequences of different lengths needs no padding,
 * and work items (segment, head) are spread over the threads with each item's score matrix staying
 * in its thread's cache. Scores, softmax and the weighted sum are one pass per item: no [B, heads,
 * T, T] tensor is written or read back. The AVX-512 path is register-blocked (4 rows x up to 64
 * columns of accumulators), the AVX2 path likewise with 6 rows x 16 columns (12 of the 16 ymm registers);
 * the portable path is plain loops for other CPUs. */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "avx2.h"
#include "encoder.h"

#define ROUND16(n) (((n) + 15) & ~(size_t)15)

size_t bert__attention_scratch(size_t max_len, size_t dh)
{
    const size_t Lp = ROUND16(max_len);
    return Lp * Lp + 2 * ROUND16(dh) * Lp + 16; /* scores, keys, values (repacked), alignment slack */
}

/* ---- portable path ---- */

/* S rows [0, mr) (stride lds) += B rows (stride L), the first L columns */
static inline void add_rows(float *restrict S, size_t lds, const float *restrict B, size_t L, size_t mr)
{
    for (size_t r = 0; r < mr; r++)
        for (size_t j = 0; j < L; j++)
            S[r * lds + j] += B[r * L + j];
}

/* Softmax of row s[0..L) in place where key j counts when valid(j); HF adds the float minimum to
 * masked scores, so a row with no valid key comes out uniform, and so does it here. */
static void softmax_row(float *s, size_t L, size_t n_causal, const uint8_t *mask)
{
    float mx = -FLT_MAX;
    size_t valid = 0;
    for (size_t j = 0; j < n_causal; j++)
        if (!mask || mask[j]) {
            mx = s[j] > mx ? s[j] : mx;
            valid++;
        }
    if (!valid) {
        for (size_t j = 0; j < L; j++)
            s[j] = 1.f / (float)L;
        return;
    }
    float sum = 0.f;
    for (size_t j = 0; j < L; j++) {
        const int ok = j < n_causal && (!mask || mask[j]);
        s[j] = ok ? expf(s[j] - mx) : 0.f;
        sum += s[j];
    }
    const float inv = 1.f / sum;
    for (size_t j = 0; j < n_causal; j++)
        s[j] *= inv;
}

/* Bm: the relative position term [L, L] added to the scaled scores, or NULL */
static void item_generic(const float *Q, const float *K, const float *V, size_t ld, size_t L, size_t dh, float scale,
                         int causal, const uint8_t *mask, float *out, size_t ldo, float *S, const float *Bm)
{
    for (size_t i = 0; i < L; i++) {
        float *s = S + i * L;
        for (size_t j = 0; j < L; j++) {
            float acc = 0.f;
            for (size_t d = 0; d < dh; d++)
                acc += Q[i * ld + d] * K[j * ld + d];
            s[j] = acc * scale + (Bm ? Bm[i * L + j] : 0.f);
        }
        const size_t nc = causal ? i + 1 : L;
        softmax_row(s, L, nc, mask);
        /* a row with every key masked is uniform over all L keys (HF), causal or not */
        const size_t n = mask ? L : nc;
        float *o = out + i * ldo;
        for (size_t d = 0; d < dh; d++)
            o[d] = 0.f;
        for (size_t j = 0; j < n; j++) {
            const float p = s[j];
            for (size_t d = 0; d < dh; d++)
                o[d] += p * V[j * ld + d];
        }
    }
}

/* ---- AVX-512 path ---- */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define BERT__AVX512        __attribute__((target("avx512f")))
#define BERT__INLINE_AVX512 static inline __attribute__((always_inline, target("avx512f")))

/* P = e^f for f = X - N ln2 (Cody-Waite, two parts of ln2), by its degree-7 Taylor polynomial: the
 * shared core of exp512 and exp256, spelled with the vector width's intrinsics */
#define EXP_REDUCED_POLY(T, SET1, FMA, FNMA, X, N, P) \
    do {                                              \
        T f_ = FNMA(N, SET1(0.693145752f), X);        \
        f_ = FNMA(N, SET1(1.42860677e-06f), f_);      \
        P = SET1(1.f / 5040.f);                       \
        P = FMA(P, f_, SET1(1.f / 720.f));            \
        P = FMA(P, f_, SET1(1.f / 120.f));            \
        P = FMA(P, f_, SET1(1.f / 24.f));             \
        P = FMA(P, f_, SET1(1.f / 6.f));              \
        P = FMA(P, f_, SET1(0.5f));                   \
        P = FMA(P, f_, SET1(1.f));                    \
        P = FMA(P, f_, SET1(1.f));                    \
    } while (0)

/* e^x for x <= 0 (scores minus the row maximum): Cody-Waite reduction to [-ln2/2, ln2/2], degree-7
 * Taylor polynomial (relative error below 1e-8 there), scaled by 2^n. */
BERT__INLINE_AVX512 __m512 exp512(__m512 x)
{
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 p;
    EXP_REDUCED_POLY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_fnmadd_ps, x, n, p);
    return _mm512_scalef_ps(p, n);
}

static inline __mmask16 tail_mask(size_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* S[r, 0 .. W*NV) = scale * Q[r, :] . Kt[:, 0 .. W*NV) for MR rows, W-lane vectors of type T: one
 * body for both widths, spelled with each width's intrinsics (PFX: _mm512 or _mm256) */
#define QK_KERNEL_W(NAME, ATTR, T, W, PFX, MR, NV)                                                                \
    ATTR void NAME##_##MR##x##NV(const float *Q, size_t ldq, const float *Kt, size_t ldk, size_t dh, float scale, \
                                 float *S, size_t lds)                                                            \
    {                                                                                                             \
        T acc[MR][NV];                                                                                            \
        for (int r = 0; r < MR; r++)                                                                              \
            for (int v = 0; v < NV; v++)                                                                          \
                acc[r][v] = PFX##_setzero_ps();                                                                   \
        for (size_t d = 0; d < dh; d++) {                                                                         \
            T k[NV];                                                                                              \
            for (int v = 0; v < NV; v++)                                                                          \
                k[v] = PFX##_loadu_ps(Kt + d * ldk + W * v);                                                      \
            for (int r = 0; r < MR; r++) {                                                                        \
                const T q = PFX##_set1_ps(Q[(size_t)r * ldq + d]);                                                \
                for (int v = 0; v < NV; v++)                                                                      \
                    acc[r][v] = PFX##_fmadd_ps(q, k[v], acc[r][v]);                                               \
            }                                                                                                     \
        }                                                                                                         \
        const T sc = PFX##_set1_ps(scale);                                                                        \
        for (int r = 0; r < MR; r++)                                                                              \
            for (int v = 0; v < NV; v++)                                                                          \
                PFX##_storeu_ps(S + (size_t)r * lds + W * v, PFX##_mul_ps(acc[r][v], sc));                        \
    }
#define QK_KERNEL(MR, NV) QK_KERNEL_W(qk, BERT__INLINE_AVX512, __m512, 16, _mm512, MR, NV)
QK_KERNEL(4, 4)
QK_KERNEL(4, 2)
QK_KERNEL(4, 1)
QK_KERNEL(1, 4)
QK_KERNEL(1, 1)

/* O[r, c0 .. c0 + 16*NV) = sum_j P[r, j] V[j, c0 ..) for MR rows; the last vector masked by m */
#define PV_KERNEL(MR, NV)                                                                                            \
    BERT__INLINE_AVX512 void pv_##MR##x##NV(const float *P, size_t ldp, size_t n, const float *V, size_t ldv,        \
                                            float *O, size_t ldo, __mmask16 m)                                       \
    {                                                                                                                \
        __m512 acc[MR][NV];                                                                                          \
        for (int r = 0; r < MR; r++)                                                                                 \
            for (int v = 0; v < NV; v++)                                                                             \
                acc[r][v] = _mm512_setzero_ps();                                                                     \
        for (size_t j = 0; j < n; j++) {                                                                             \
            __m512 x[NV];                                                                                            \
            for (int v = 0; v < NV; v++)                                                                             \
                x[v] = _mm512_maskz_loadu_ps(v == NV - 1 ? m : (__mmask16)0xFFFF, V + j * ldv + 16 * v);             \
            for (int r = 0; r < MR; r++) {                                                                           \
                const __m512 p = _mm512_set1_ps(P[(size_t)r * ldp + j]);                                             \
                for (int v = 0; v < NV; v++)                                                                         \
                    acc[r][v] = _mm512_fmadd_ps(p, x[v], acc[r][v]);                                                 \
            }                                                                                                        \
        }                                                                                                            \
        for (int r = 0; r < MR; r++)                                                                                 \
            for (int v = 0; v < NV; v++)                                                                             \
                _mm512_mask_storeu_ps(O + (size_t)r * ldo + 16 * v, v == NV - 1 ? m : (__mmask16)0xFFFF, acc[r][v]); \
    }
PV_KERNEL(4, 4)
PV_KERNEL(4, 3)
PV_KERNEL(4, 2)
PV_KERNEL(4, 1)
PV_KERNEL(1, 4)
PV_KERNEL(1, 3)
PV_KERNEL(1, 2)
PV_KERNEL(1, 1)

BERT__INLINE_AVX512 void softmax_row512(float *s, size_t L, size_t n, const uint8_t *mask)
{
    if (mask) { /* masked keys are rare (left padding, holes): the exact semantics, in scalar */
        softmax_row(s, L, n, mask);
        return;
    }
    __m512 vmx = _mm512_set1_ps(-FLT_MAX);
    for (size_t j = 0; j < n; j += 16)
        vmx = _mm512_max_ps(vmx, _mm512_mask_loadu_ps(vmx, tail_mask(n - j), s + j));
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmx));
    __m512 vsum = _mm512_setzero_ps();
    for (size_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        const __m512 e = _mm512_maskz_mov_ps(m, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), mx)));
        vsum = _mm512_add_ps(vsum, e);
        _mm512_mask_storeu_ps(s + j, m, e);
    }
    const __m512 inv = _mm512_set1_ps(1.f / _mm512_reduce_add_ps(vsum));
    for (size_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        _mm512_mask_storeu_ps(s + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + j), inv));
    }
    for (size_t j = n; j < L; j++)
        s[j] = 0.f;
}

/* rows [i0, i0 + MR) of O = P . V over keys [0, n) (n: the longest causal row of the block) */
BERT__AVX512 static void pv_rows(int mr, const float *P, size_t ldp, size_t n, const float *V, size_t ldv, size_t dh,
                                 float *O, size_t ldo)
{
    for (size_t c = 0; c < dh; c += 64) {
        const size_t w = dh - c < 64 ? dh - c : 64, nv = (w + 15) / 16;
        const __mmask16 m = tail_mask(w - (nv - 1) * 16);
        const float *v = V + c;
        float *o = O + c;
        if (mr == 4) {
            switch (nv) {
            case 4:
                pv_4x4(P, ldp, n, v, ldv, o, ldo, m);
                break;
            case 3:
                pv_4x3(P, ldp, n, v, ldv, o, ldo, m);
                break;
            case 2:
                pv_4x2(P, ldp, n, v, ldv, o, ldo, m);
                break;
            default:
                pv_4x1(P, ldp, n, v, ldv, o, ldo, m);
                break;
            }
        } else {
            switch (nv) {
            case 4:
                pv_1x4(P, ldp, n, v, ldv, o, ldo, m);
                break;
            case 3:
                pv_1x3(P, ldp, n, v, ldv, o, ldo, m);
                break;
            case 2:
                pv_1x2(P, ldp, n, v, ldv, o, ldo, m);
                break;
            default:
                pv_1x1(P, ldp, n, v, ldv, o, ldo, m);
                break;
            }
        }
    }
}

BERT__AVX512 static void item_avx512(const float *Q, const float *K, const float *V, size_t ld, size_t L, size_t dh,
                                     float scale, int causal, const uint8_t *mask, float *out, size_t ldo,
                                     float *scratch, const float *Bm)
{
    const size_t Lp = ROUND16(L);
    float *S = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63), *Kt = S + Lp * Lp;
    /* keys transposed to [dh, Lp], zero-padded: the score kernel then reads whole vectors */
    for (size_t j = 0; j < L; j++) /* each key row read once, in order; Kt stays in L1 */
        for (size_t d = 0; d < dh; d++)
            Kt[d * Lp + j] = K[j * ld + d];
    for (size_t d = 0; d < dh; d++)
        for (size_t j = L; j < Lp; j++)
            Kt[d * Lp + j] = 0.f;
    for (size_t i = 0, mr; i < L; i += mr) {
        mr = L - i >= 4 ? 4 : 1; /* blocks of 4 rows, the tail one row at a time */
        /* causal rows need only the columns up to their last row */
        const size_t cols = causal ? ROUND16(i + mr) : Lp;
        size_t j = 0;
        for (; j + 64 <= cols; j += 64) {
            if (mr == 4)
                qk_4x4(Q + i * ld, ld, Kt + j, Lp, dh, scale, S + i * Lp + j, Lp);
            else
                qk_1x4(Q + i * ld, ld, Kt + j, Lp, dh, scale, S + i * Lp + j, Lp);
        }
        for (; j + 32 <= cols && mr == 4; j += 32)
            qk_4x2(Q + i * ld, ld, Kt + j, Lp, dh, scale, S + i * Lp + j, Lp);
        for (; j < cols; j += 16) {
            if (mr == 4)
                qk_4x1(Q + i * ld, ld, Kt + j, Lp, dh, scale, S + i * Lp + j, Lp);
            else
                qk_1x1(Q + i * ld, ld, Kt + j, Lp, dh, scale, S + i * Lp + j, Lp);
        }
        if (Bm)
            add_rows(S + i * Lp, Lp, Bm + i * L, L, mr);
        for (size_t r = 0; r < mr; r++)
            softmax_row512(S + (i + r) * Lp, L, causal ? i + r + 1 : L, mask);
        const size_t n = causal && !mask ? i + mr : L; /* see item_generic */
        pv_rows((int)mr, S + i * Lp, Lp, n, V, ld, dh, out + i * ldo, ldo);
    }
}

/* ---- AVX2 + FMA path (no AVX-512: e.g. AMD Zen 2/3); the same structure in 8-wide vectors ---- */

/* e^x for x <= 0: the reduction and polynomial of exp512, with 2^n built in the exponent bits */
BERT__INLINE_AVX2 __m256 exp256(__m256 x)
{
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
    const __m256 n =
        _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 p;
    EXP_REDUCED_POLY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_fnmadd_ps, x, n, p);
    /* n >= -126 after the clamp: 2^n is a normal float */
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* the first n lanes (n <= 8) as a maskload/maskstore mask */
BERT__INLINE_AVX2 __m256i lanes256(size_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define QK_KERNEL256(MR, NV) QK_KERNEL_W(qk256, BERT__INLINE_AVX2, __m256, 8, _mm256, MR, NV)
QK_KERNEL256(6, 2)
QK_KERNEL256(1, 2)

/* O[r, 0 .. 8*NV) = sum_j P[r, j] V[j, 0 ..) for MR rows. MASKED: the one vector's lanes limited
 * by m (column tails only: a masked load in every inner loop costs about a tenth of a layer) */
#define PV_KERNEL256(MR, NV, MASKED)                                                                               \
    BERT__INLINE_AVX2 void pv256_##MR##x##NV##_##MASKED(const float *P, size_t ldp, size_t n, const float *V,      \
                                                        size_t ldv, float *O, size_t ldo, __m256i m)               \
    {                                                                                                              \
        __m256 acc[MR][NV];                                                                                        \
        (void)m;                                                                                                   \
        for (int r = 0; r < MR; r++)                                                                               \
            for (int v = 0; v < NV; v++)                                                                           \
                acc[r][v] = _mm256_setzero_ps();                                                                   \
        for (size_t j = 0; j < n; j++) {                                                                           \
            __m256 x[NV];                                                                                          \
            for (int v = 0; v < NV; v++)                                                                           \
                x[v] = MASKED ? _mm256_maskload_ps(V + j * ldv + 8 * v, m) : _mm256_loadu_ps(V + j * ldv + 8 * v); \
            for (int r = 0; r < MR; r++) {                                                                         \
                const __m256 p = _mm256_broadcast_ss(P + (size_t)r * ldp + j);                                     \
                for (int v = 0; v < NV; v++)                                                                       \
                    acc[r][v] = _mm256_fmadd_ps(p, x[v], acc[r][v]);                                               \
            }                                                                                                      \
        }                                                                                                          \
        for (int r = 0; r < MR; r++)                                                                               \
            for (int v = 0; v < NV; v++) {                                                                         \
                if (MASKED)                                                                                        \
                    _mm256_maskstore_ps(O + (size_t)r * ldo + 8 * v, m, acc[r][v]);                                \
                else                                                                                               \
                    _mm256_storeu_ps(O + (size_t)r * ldo + 8 * v, acc[r][v]);                                      \
            }                                                                                                      \
    }
PV_KERNEL256(6, 2, 0)
PV_KERNEL256(6, 1, 1)
PV_KERNEL256(1, 2, 0)
PV_KERNEL256(1, 1, 1)

BERT__INLINE_AVX2 float hmax256(__m256 v)
{
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

BERT__INLINE_AVX2 float hsum256(__m256 v)
{
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

BERT__INLINE_AVX2 void softmax_row256(float *s, size_t L, size_t n, const uint8_t *mask)
{
    if (mask) {
        softmax_row(s, L, n, mask);
        return;
    }
    const size_t n8 = n & ~(size_t)7;
    __m256 vmx = _mm256_set1_ps(-FLT_MAX);
    for (size_t j = 0; j < n8; j += 8)
        vmx = _mm256_max_ps(vmx, _mm256_loadu_ps(s + j));
    float mx = hmax256(vmx);
    for (size_t j = n8; j < n; j++)
        mx = s[j] > mx ? s[j] : mx;
    const __m256 vm = _mm256_set1_ps(mx);
    __m256 vsum = _mm256_setzero_ps();
    for (size_t j = 0; j < n8; j += 8) {
        const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + j), vm));
        vsum = _mm256_add_ps(vsum, e);
        _mm256_storeu_ps(s + j, e);
    }
    float sum = hsum256(vsum);
    for (size_t j = n8; j < n; j++) {
        s[j] = expf(s[j] - mx);
        sum += s[j];
    }
    const __m256 inv = _mm256_set1_ps(1.f / sum);
    for (size_t j = 0; j < n8; j += 8)
        _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), inv));
    for (size_t j = n8; j < n; j++)
        s[j] *= 1.f / sum;
    for (size_t j = n; j < L; j++)
        s[j] = 0.f;
}

/* rows [i, i + mr) of O = P . V over keys [0, n): the 16-column panels of Vp, then V's last
 * dh % 16 columns in place */
BERT__AVX2 static void pv_rows256(int mr, const float *P, size_t ldp, size_t n, const float *Vp, size_t L,
                                  const float *V, size_t ldv, size_t dh, float *O, size_t ldo)
{
    size_t c = 0;
    for (; c + 16 <= dh; c += 16) {
        const float *vp = Vp + (c / 16) * L * 16;
        if (mr == 6)
            pv256_6x2_0(P, ldp, n, vp, 16, O + c, ldo, _mm256_setzero_si256());
        else
            pv256_1x2_0(P, ldp, n, vp, 16, O + c, ldo, _mm256_setzero_si256());
    }
    for (; c < dh; c += 8) {
        const __m256i m = lanes256(dh - c < 8 ? dh - c : 8);
        if (mr == 6)
            pv256_6x1_1(P, ldp, n, V + c, ldv, O + c, ldo, m);
        else
            pv256_1x1_1(P, ldp, n, V + c, ldv, O + c, ldo, m);
    }
}

/* Keys transposed into panels of 16: Kp[j / 16][d][j % 16] = K[j, d], zero for L <= j < Lp, so
 * that each 6 x 16 block of scores reads one contiguous dh x 16 panel. 8 x 8 blocks go through
 * registers, the edges one by one. */
BERT__AVX2 static void pack_keys256(const float *K, size_t ld, size_t L, size_t Lp, size_t dh, float *Kp)
{
    const size_t L8 = L & ~(size_t)7, d8 = dh & ~(size_t)7;
#define KP(j, d) Kp[((j) / 16) * dh * 16 + (d)*16 + (j) % 16]
    for (size_t j = 0; j < L8; j += 8)
        for (size_t d = 0; d < d8; d += 8) {
            __m256 r[8];
            for (int k = 0; k < 8; k++)
                r[k] = _mm256_loadu_ps(K + (j + (size_t)k) * ld + d);
            bert__transpose8x8(r);
            for (size_t k = 0; k < 8; k++)
                _mm256_storeu_ps(&KP(j, d + k), r[k]);
        }
    for (size_t j = 0; j < L; j++)
        for (size_t d = j < L8 ? d8 : 0; d < dh; d++)
            KP(j, d) = K[j * ld + d];
    for (size_t j = L; j < Lp; j++)
        for (size_t d = 0; d < dh; d++)
            KP(j, d) = 0.f;
#undef KP
}

/* Values' first dh & ~15 columns into panels of 16: Vp[c / 16][j][c % 16] = V[j, c]. The rows of V
 * are 3H floats apart, and reading 64 bytes of a new row per step stalled the weighted sum on
 * the cache; a panel is one contiguous stream (with the keys' panels, a fifth off a layer). */
BERT__AVX2 static void pack_values256(const float *V, size_t ld, size_t L, size_t dh, float *Vp)
{
    for (size_t j = 0; j < L; j++)
        for (size_t c = 0; c + 16 <= dh; c += 16) {
            float *o = Vp + (c / 16) * L * 16 + j * 16;
            _mm256_storeu_ps(o, _mm256_loadu_ps(V + j * ld + c));
            _mm256_storeu_ps(o + 8, _mm256_loadu_ps(V + j * ld + c + 8));
        }
}

BERT__AVX2 static void item_avx2(const float *Q, const float *K, const float *V, size_t ld, size_t L, size_t dh,
                                 float scale, int causal, const uint8_t *mask, float *out, size_t ldo, float *scratch,
                                 const float *Bm)
{
    const size_t Lp = ROUND16(L);
    float *S = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63), *Kp = S + Lp * Lp, *Vp = Kp + ROUND16(dh) * Lp;
    pack_keys256(K, ld, L, Lp, dh, Kp);
    pack_values256(V, ld, L, dh, Vp);
    /* 6 rows at a time: 12 accumulators keep both FMA pipes of a core busy (latency 4 x 2 pipes
     * needs 8 in flight) with room for the loop's own latencies */
    for (size_t i = 0, mr; i < L; i += mr) {
        mr = L - i >= 6 ? 6 : 1;
        const size_t cols = causal ? ROUND16(i + mr) : Lp; /* Lp and cols: multiples of 16 */
        for (size_t j = 0; j < cols; j += 16) {
            const float *kp = Kp + (j / 16) * dh * 16;
            if (mr == 6)
                qk256_6x2(Q + i * ld, ld, kp, 16, dh, scale, S + i * Lp + j, Lp);
            else
                qk256_1x2(Q + i * ld, ld, kp, 16, dh, scale, S + i * Lp + j, Lp);
        }
        if (Bm)
            add_rows(S + i * Lp, Lp, Bm + i * L, L, mr);
        for (size_t r = 0; r < mr; r++)
            softmax_row256(S + (i + r) * Lp, L, causal ? i + r + 1 : L, mask);
        const size_t n = causal && !mask ? i + mr : L; /* see item_generic */
        pv_rows256((int)mr, S + i * Lp, Lp, n, Vp, L, V, ld, dh, out + i * ldo, ldo);
    }
}

#endif

void bert__attention(const float *qkv, size_t H, size_t heads, const bert__seg *segs, size_t n_segs,
                     const uint8_t *key_mask, int causal, const bert__attn_bias *bias, float *out, float *scratch,
                     size_t scratch_per_thread)
{
    const size_t dh = H / heads, ld = 3 * H, items = n_segs * heads;
    const float scale = bias ? bias->scale : 1.f / sqrtf((float)dh);
    const int path = bert__simd_level();
#pragma omp parallel for schedule(dynamic) if (BERT__OMP_PARALLEL)
    for (long it = 0; it < (long)items; it++) {
        const bert__seg *sg = &segs[(size_t)it / heads];
        const size_t h = (size_t)it % heads;
        const float *base = qkv + sg->off * ld + h * dh;
        const uint8_t *m = key_mask ? key_mask + sg->off : NULL;
        float *o = out + sg->off * H + h * dh;
        float *s = scratch + (size_t)omp_get_thread_num() * scratch_per_thread;
        float *Bm = NULL;
        if (bias) { /* after this item's own scratch (sized for the longest segment) */
            Bm = s + ROUND16(bert__attention_scratch(sg->len, dh));
            bert__relpos_fill(bias, base, base + H, ld, sg->len, h, Bm, Bm + sg->len * sg->len);
        }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if (path == BERT__SIMD_AVX512) {
            item_avx512(base, base + H, base + 2 * H, ld, sg->len, dh, scale, causal, m, o, H, s, Bm);
            continue;
        }
        if (path == BERT__SIMD_AVX2) {
            item_avx2(base, base + H, base + 2 * H, ld, sg->len, dh, scale, causal, m, o, H, s, Bm);
            continue;
        }
#endif
        item_generic(base, base + H, base + 2 * H, ld, sg->len, dh, scale, causal, m, o, H, s, Bm);
    }
}
