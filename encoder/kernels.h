/* Plain loops over raw arrays, each with its reference twin in the tests: conversions,
 * embeddings, activations, quantisation, transposes, the int8 product of AVX2 CPUs, attention and
 * its relative position terms. No allocation, no failure. Internal; never installed. */
#ifndef BERT_KERNELS_H
#define BERT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

struct bert_model;
struct bert__layer;

/* The activation a dense product may end in (a oneDNN post-op, or bert__act). */
typedef enum bert__post {
    BERT__POST_NONE = 0,
    BERT__POST_GELU_ERF,
    BERT__POST_GELU_TANH,
    BERT__POST_RELU,
    BERT__POST_SILU,
    BERT__POST_TANH
} bert__post;

typedef struct bert__seg {
    size_t off, len; /* first row in the [rows, 3H] QKV buffer, and the number of rows */
} bert__seg;

/* ---- kernels.c: plain loops over raw arrays (no allocation, no failure) ---- */
/* The widest vector ISA the hand-vectorised paths (attention, quantisation, the load's transpose)
 * may use: what this CPU runs (cached after the first call), at most the tests' cap. */
enum { BERT__SIMD_PORTABLE = 0, BERT__SIMD_AVX2 = 1 /* AVX2 + FMA */, BERT__SIMD_AVX512 = 2 /* AVX-512F */ };
int bert__simd_level(void);
/* Tests: cap every hand-vectorised path at this level (BERT__SIMD_AVX512, the default: the best the
 * CPU has); returns the level that will run, lower than cap where the CPU lacks it. */
int bert__simd_cap(int cap);
void bert__f16_to_f32(const uint16_t *restrict src, float *restrict dst, size_t n);
void bert__bf16_to_f32(const uint16_t *restrict src, float *restrict dst, size_t n);
/* out rows of each segment: (word[ids[b*T + t]] + type[types[b*T + t]]) + pos[p] with p =
 * pos_ids[b*T + t] (or t when pos_ids is NULL), written at row segs[b].off + t for t < segs[b].len;
 * type NULL or types NULL: no type term (types NULL with a table: type 0); pos NULL: none. */
void bert__embed_segs(const float *restrict word, const float *restrict pos, const float *restrict type,
                      const int32_t *restrict ids, const int32_t *restrict types, const int32_t *restrict pos_ids,
                      size_t T, const bert__seg *segs, size_t B, size_t H, float *restrict out);
/* x[i] = act(x[i]) for the activations a dense layer may end in (BERT__POST_NONE: unchanged). */
void bert__act(bert__post act, float *x, size_t n);
/* dst (dense, rows x cols) = src (rows x cols, row stride ld) in bf16, rounded to nearest even. */
void bert__to_bf16(const float *restrict src, size_t rows, size_t cols, size_t ld, uint16_t *restrict dst);
/* out[r] = max |w[r, c]| over the dense rows x cols matrix w. */
void bert__absmax_rows(const float *restrict w, size_t rows, size_t cols, float *restrict out);
/* The index of the first NaN or infinity among p[0..n), or n when every value is finite. */
size_t bert__first_nonfinite(const float *p, size_t n);
/* Smallest and largest value of src (rows x cols, row stride ld). */
void bert__minmax(const float *restrict src, size_t rows, size_t cols, size_t ld, float *mn, float *mx);
/* dst = saturate_u8(round(src * inv_scale) + zp), rows x cols with row stride ldd >= cols (ties to
 * even); the ldd - cols bytes past each row are set to 0. Returns the number of rows holding a NaN or
 * an infinity (their bytes there are 0): an int8 product has no way to carry them. */
size_t bert__quantize_u8(const float *restrict src, size_t rows, size_t cols, size_t ld, float inv_scale, int32_t zp,
                         uint8_t *restrict dst, size_t ldd);

/* ---- qgemm.c: u8 x s8 products where oneDNN's best int8 kernels are AVX2's (no VNNI), on
 * 6-bit weights in a layout of their own ---- */
/* The row stride of the u8 source bert__qgemm reads (K rounded up; bert__quantize_u8 zeroes the rest)
 * and the bytes a packed [N, K] weight takes. */
size_t bert__qgemm_lda(size_t K);
size_t bert__qgemm_packed_bytes(size_t K, size_t N);
/* Quantises w ([N, K] F32, HF's [out, in]) to round(w[n, k] * inv_scale[n]) clamped to +-31 and
 * packs it into dst (bert__qgemm_packed_bytes, 32-byte aligned). */
void bert__qgemm_pack(const float *w, size_t K, size_t N, const float *inv_scale, void *dst);
/* dst[m, n] = a_scale * wscale[n] * sum_k (a[m, k] - zp) * q[n, k] + bias[n] (+ dst[m, n] with
 * accumulate), a: M x K u8 with row stride bert__qgemm_lda(K); over the calling thread's OpenMP team. */
void bert__qgemm(const uint8_t *a, size_t M, size_t K, int32_t zp, float a_scale, const void *packed, size_t N,
                 const float *wscale, const float *bias, float *dst, size_t ldd, int accumulate);

/* ---- transpose.c: dst[k * ldd + n] = src[n * lds + k] for n < N, k < K, on the calling thread
 * (the loader splits a weight's rows over the threads) ---- */
void bert__transpose(const float *restrict src, size_t N, size_t K, size_t lds, float *restrict dst, size_t ldd);

/* ---- relpos.c: relative position terms of the attention scores ---- */
typedef struct bert__attn_bias {
    const struct bert_model *m;
    const struct bert__layer *y; /* the layer (DeBERTa: its projected relative embeddings) */
    float scale;                 /* the scores' scale (DeBERTa: 1 / sqrt(dh * (1 + c2p + p2c))) */
} bert__attn_bias;
/* Floats of scratch bert__relpos_fill needs (its [L, L] output and its work) for L tokens; 0 for a
 * family without relative positions. */
size_t bert__relpos_scratch(const struct bert_model *m, size_t L);
float bert__relpos_scale(const struct bert_model *m);
/* B [L, L] = the term added to the scaled scores of head h for a segment whose queries and keys
 * are q and k (rows ld apart). */
void bert__relpos_fill(const bert__attn_bias *ab, const float *q, const float *k, size_t ld, size_t L, size_t h,
                       float *B, float *work);

/* ---- attention.c: self-attention per (segment, head), over the ctx's threads ---- */
/* Floats of scratch one thread needs for segments up to max_len rows (without a bias's). */
size_t bert__attention_scratch(size_t max_len, size_t dh);
/* out[rows, H] (context, heads side by side) = softmax(Q K^T * scale [+ bias] [+ mask]) V for each
 * segment; scale 1/sqrt(dh) without a bias.
 * key_mask: per row, 0 for keys to ignore (HF's padding mask), or NULL; causal: row i sees keys <= i.
 * scratch: omp_get_max_threads() blocks of scratch_per_thread floats (with a bias, rounded up
 * bert__attention_scratch + bert__relpos_scratch). */
void bert__attention(const float *qkv, size_t H, size_t heads, const bert__seg *segs, size_t n_segs,
                     const uint8_t *key_mask, int causal, const bert__attn_bias *bias, float *out, float *scratch,
                     size_t scratch_per_thread);

/* kernels.c: one query against n cached keys/values per head: out[h] = softmax(q.K^T*scale).V */
void bert__attn_step(const float *restrict q, const float *restrict k, const float *restrict v, size_t n, size_t heads,
                     size_t dh, size_t H, float scale, float *restrict scores, float *restrict out);

#endif
