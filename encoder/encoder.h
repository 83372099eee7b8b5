/* Internal interfaces of the encoder folder; never installed. */
#ifndef BERT_ENCODER_H
#define BERT_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include <dnnl.h>

#include <bert/generate.h>
#include <bert/model.h>

#include "../common/common.h"
#include "arch.h"

/* The activation a dense product may end in (a oneDNN post-op, or bert__act). */
typedef enum bert__post {
    BERT__POST_NONE = 0,
    BERT__POST_GELU_ERF,
    BERT__POST_GELU_TANH,
    BERT__POST_RELU,
    BERT__POST_SILU,
    BERT__POST_TANH
} bert__post;

/* ---- config.c: config.json ---- */
typedef struct bert__config {
    bert_model_info info; /* arch_name/dtype/model_type point into the strings below */
    char arch_name[64];
    char dtype[8];
    char model_type[32];
    char **labels; /* [n_labels] id2label names, owned */
    int tie_word_embeddings;
    int32_t pad_token_id;
    const bert__family *fam;
    size_t embedding_size;     /* the embedding tables' width (hidden_size unless projected) */
    size_t n_groups;           /* weight sets: n_layers, or ALBERT's num_hidden_groups */
    bert__positions positions; /* the family's, or DeBERTa's position_biased_input */
    int32_t pos_offset;        /* BERT__POS_FROM_PAD: padding_idx + 1 */
    int pool_act, lm_act;      /* bert__post of the pooling dense and the LM transform */
    /* relative positions: MPNet's buckets; DeBERTa's span (position_buckets, or
     * max_relative_positions without buckets), log buckets, terms and LayerNorm */
    size_t rel_buckets, rel_max_distance;
    size_t rel_span, rel_log_buckets, rel_max_pos;
    int c2p, p2c, rel_ln;
} bert__config;

bert_status bert__config_read(const char *path, bert__config *cfg, char *errbuf, size_t errbuf_size);
/* The same on bytes in memory (path only names them in messages). */
bert_status bert__config_parse(const char *data, size_t len, const char *path, bert__config *cfg, char *errbuf,
                               size_t errbuf_size);
void bert__config_free(bert__config *cfg);

/* ---- safetensors.c: mapped, validated checkpoint files ---- */
typedef enum bert__dtype { BERT__F32 = 0, BERT__F16 = 1, BERT__BF16 = 2 } bert__dtype;

typedef struct bert__tensor {
    char *name;
    bert__dtype dtype;
    size_t ndim;
    size_t shape[4];
    const unsigned char *data; /* inside the mapping */
    size_t nbytes;
    int file; /* index of the shard it lives in */
} bert__tensor;

typedef struct bert__checkpoint {
    bert__tensor *tensors;
    size_t n;
    void **maps; /* one mapping per shard */
    size_t *map_len;
    char **paths;
    size_t n_files;
} bert__checkpoint;

/* Opens dir/model.safetensors, or every shard of dir/model.safetensors.index.json. */
bert_status bert__checkpoint_open(const char *dir, bert__checkpoint *ck, char *errbuf, size_t errbuf_size);
/* Parses one safetensors image of len bytes (the validation rules, without I/O; for tests/fuzzing).
 * Tensors are appended to ck with file index `file`. */
bert_status bert__safetensors_parse(const unsigned char *data, size_t len, const char *name, int file,
                                    bert__checkpoint *ck, char *errbuf, size_t errbuf_size);
const bert__tensor *bert__checkpoint_find(const bert__checkpoint *ck, const char *name);
void bert__checkpoint_close(bert__checkpoint *ck);

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

/* ---- the model ---- */
typedef struct bert__linear {
    const float *w; /* [out, in] row-major F32, as HF stores it; NULL when only the packed form is kept */
    const float *b; /* [out] or NULL */
    size_t in, out;
    /* Packed once at load into the blocked layout oneDNN's matmul reads fastest, in the model's
     * compute type (f32, bf16 or s8); NULL when w is used as it is. */
    const void *packed;
    dnnl_memory_desc_t packed_md;
    dnnl_data_type_t wdt; /* f32, bf16 or s8: the type of packed */
    const float *wscale;  /* s8: the dequantisation scale of each output channel */
    int qgemm;            /* s8: packed for bert__qgemm (6-bit weights), not for oneDNN */
    /* BERT_WEIGHTS_MAPPED: the weight as HF stores it, [out, in], in the checkpoint's mapping,
     * read transposed by dnnl_sgemm. A fused QKV keeps its parts apart (the file stores query,
     * key and value apart): part i gives the out / n_parts columns from i * out / n_parts.
     * n_parts 0: not used. */
    const float *parts[3];
    size_t n_parts;
} bert__linear;

typedef struct bert__layer {
    bert__linear qkv; /* fused query|key|value: [3H, H] */
    bert__linear attn_out;
    const float *ln1_g, *ln1_b;
    bert__linear inter;
    bert__linear out;
    const float *ln2_g, *ln2_b;
    /* DeBERTa: the relative embeddings projected by this layer's query and key, [2 * span, H] */
    const float *rel_q, *rel_k;
} bert__layer;

/* The masked/causal LM head: transform (dense + activation + LayerNorm), then the decoder, whose
 * weight is the word embeddings when tied (HF's default; the tensor is then absent from the file). */
typedef struct bert__lm_head {
    bert__linear transform;
    const float *ln_g, *ln_b;
    bert__linear decoder; /* [V, H] + bias [V] */
} bert__lm_head;

struct bert_model {
    bert__config cfg;
    const float *word_emb, *pos_emb, *type_emb; /* [V,E] [P,E] [Tv,E]; pos/type NULL where the family has none */
    const float *emb_ln_g, *emb_ln_b;
    bert__linear emb_proj;   /* E -> H after the embeddings' LayerNorm (ELECTRA, ALBERT); w NULL without */
    const float *rel_bias;   /* MPNet: [buckets, heads] */
    const float *rel_emb;    /* DeBERTa: [2 * span, H], LayerNorm'd */
    bert__layer *layers;     /* [n_layers]; ALBERT's layers are copies of their group's */
    bert__linear pooler;     /* w NULL without a pooler */
    bert__linear classifier; /* w NULL without a classifier */
    bert__lm_head lm;        /* decoder.w NULL without an LM head */
    float *arena;            /* every converted weight lives here */
    size_t arena_floats;
    void *packed; /* the encoder layers' matmul weights, pre-packed */
    size_t packed_bytes;
    bert_precision precision;
    bert_weights weights_mode;
    bert__checkpoint ck; /* kept mapped while uses_mapping: F32 embeddings are used in place */
    int uses_mapping;
    bert_tokenizer *tok;
};

/* ---- generate.c ---- */
typedef struct bert__cand {
    double logit;
    int32_t id;
} bert__cand;
/* Draws a token from logits [V] after p's temperature, top-k (ties with the k-th kept, as HF) and
 * top-p; rng is the generation's state, c [V] scratch. */
int32_t bert__sample(const float *l, size_t V, const bert_generate_params *p, uint64_t *rng, bert__cand *c);

/* ---- weights.c ---- */
bert_status bert__weights_load(bert_model *m, const char *dir, char *errbuf, size_t errbuf_size);

/* ---- dnnl_ops.c: oneDNN primitives cached per shape in a ctx ---- */
typedef struct bert__dnnl bert__dnnl;

bert_status bert__dnnl_new(bert__dnnl **out, char *msg, size_t msg_size);
void bert__dnnl_free(bert__dnnl *d);
/* dst[M, N] (row stride ldd) = act(src[M, K] (row stride lds) . W^T + b) (+ dst when accumulate).
 * With bf16 or s8 packed weights the F32 src is converted (bf16) or dynamically quantised (u8 with
 * a per-call scale and zero point) into a buffer owned by d first. */
bert_status bert__matmul(bert__dnnl *d, const float *src, size_t M, size_t lds, const bert__linear *lin, float *dst,
                         size_t ldd, bert__post post, int accumulate, char *msg, size_t msg_size);
/* The same with the source and destination types spelled out: src may be bf16 already (for bf16
 * weights), dst may be bf16 (then it feeds the next bf16 matmul without a conversion). */
bert_status bert__matmul_t(bert__dnnl *d, const void *src, dnnl_data_type_t sdt, size_t M, size_t lds,
                           const bert__linear *lin, void *dst, dnnl_data_type_t ddt, size_t ldd, bert__post post,
                           int accumulate, char *msg, size_t msg_size);
/* The implementations that have run d's dense products, comma-separated in the order first used:
 * oneDNN's names ("brg:avx512_core_vnni", "gemm:jit", ...), "sgemm" for dnnl_sgemm, "qgemm:avx2". */
const char *bert__dnnl_kernels(const bert__dnnl *d);
/* oneDNN's effective ISA on this CPU (DNNL_MAX_CPU_ISA may cap it), e.g. "avx512_core_amx". */
const char *bert__cpu_isa_name(void);
/* Whether oneDNN's u8 x s8 kernels on this CPU use VNNI (exact 32-bit accumulation); without it
 * they pair products into saturating 16-bit sums and the weights are quantised to 7 bits. */
int bert__int8_has_vnni(void);
/* The int8 weights' levels either side of zero, from the kernels that will run them: 127 with VNNI
 * (oneDNN), 31 for bert__qgemm (where oneDNN's best is AVX2), 63 for oneDNN's other kernels (their
 * 16-bit pair sums would saturate with 8 bits). */
float bert__int8_weight_levels(void);
int bert__int8_uses_qgemm(void);
/* The blocked layout the matmul prefers for a K x N weight in the compute type of prec. */
bert_status bert__pack_desc(dnnl_engine_t eng, size_t K, size_t N, bert_precision prec, dnnl_memory_desc_t *md,
                            char *msg, size_t msg_size);
/* The row stride of md where it is F32 laid out plain [K][N] row-major (rows possibly padded), else 0. */
size_t bert__pack_plain_ld(const dnnl_memory_desc_t *md, size_t N);
/* Reorders w ([N, K] row-major F32, HF's [out, in]) into dst laid out as md. For s8, row n is
 * multiplied by qscale[n] first (with rounding and saturation). */
bert_status bert__pack(dnnl_engine_t eng, dnnl_stream_t stream, const float *w, size_t K, size_t N,
                       const dnnl_memory_desc_t *md, const float *qscale, void *dst, char *msg, size_t msg_size);
/* In-place LayerNorm over rows of H with scale g and shift b. */
bert_status bert__layer_norm_dnnl(bert__dnnl *d, float *x, size_t rows, size_t H, const float *g, const float *b,
                                  float eps, char *msg, size_t msg_size);

/* ---- ctx.c / decoder.c: the per-thread run state ---- */
struct bert_ctx {
    const bert_model *m;
    bert__dnnl *d;
    int n_threads;
    bert_attn_mode mode;
    char errmsg[512];

    float *ws; /* one block, split below */
    size_t ws_floats;
    float **hidden; /* [n_layers + 1] pointers: embeddings output, then each layer's output */
    float *qkv;     /* [R, 3H] for the R rows the dense layers run on (B*T, or the real tokens) */
    float *scratch; /* attention: n_threads blocks of attn_scratch floats */
    size_t attn_scratch;
    float *attn;     /* [R, H] attention context */
    float *inter;    /* [R, I] (bf16 values in bf16 precision) */
    float *xp;       /* [R, H] the packed run's hidden state, or NULL when rows are not packed */
    bert__seg *segs; /* [B] each sequence's rows */
    size_t segs_cap;
    int32_t *pos_ids; /* [B, T] the run's position ids, or NULL for position t */
    int32_t *pos_buf;
    size_t pos_cap;
    float *pooled;  /* [B, H] */
    float *logits;  /* [B, n_labels] or [B, T, n_labels] */
    float *lm_rows; /* [n, H] gathered rows for the LM head, then transformed in place */
    float *lm_out;  /* [n, V] */
    size_t lm_cap;  /* rows the two LM buffers hold */
    size_t B, T;    /* the last successful run */
    int all_hidden; /* the last run kept every layer */
    int valid;

    /* incremental decoding (decoder.c): keys and values of every layer for one sequence */
    float *kv;     /* [n_layers, 2, max_positions, H] */
    size_t kv_len; /* positions cached */
    int kv_fill;   /* set during a prefill: layer() stores K and V */
    float *step;   /* one token's buffers: x [H], qkv [3H], attn [H], inter [I], scores [P] */
};

bert__post bert__activation(bert_activation a);
/* The embeddings of the segments' tokens (lookup, LayerNorm, projection) into x [R, H]. */
bert_status bert__embeddings(bert_ctx *c, const int32_t *ids, const int32_t *types, const int32_t *pos_ids, size_t T,
                             const bert__seg *segs, size_t B, size_t R, float *x, float *tmp, char *msg, size_t n);
/* The layer builder's second half, shared by batched runs and the decoder's cached step: on
 * `rows` rows, x = LN(x + attn . Wo + bo), then x = LN(x + FFN(x)) (the FFN's inner activation in
 * ctx->inter, bf16 in bf16 precision). x is the residual stream on entry, the output on return. */
bert_status bert__post_attention(bert_ctx *c, const bert__layer *y, const float *attn, float *x, size_t rows, char *msg,
                                 size_t n);
/* bert_ctx_lm_logits with its status. */
bert_status bert__ctx_lm_logits(bert_ctx *ctx, const size_t *rows, const size_t *positions, size_t n,
                                const float **out);
/* Grows the LM head buffers to n rows. */
bert_status bert__lm_reserve(bert_ctx *ctx, size_t n);
/* LM head on ctx->lm_rows[0..n) -> ctx->lm_out [n, V]; lm_rows is overwritten. */
bert_status bert__lm_head_run(bert_ctx *ctx, size_t n, char *msg, size_t msg_size);
/* decoder.c: keys/values of layer l for positions [0, T) of the fused qkv buffer [T, 3H]. */
void bert__kv_store(bert_ctx *ctx, size_t l, const float *qkv, size_t T);
void bert__kv_free(bert_ctx *ctx);
/* kernels.c: one query against n cached keys/values per head: out[h] = softmax(q.K^T*scale).V */
void bert__attn_step(const float *restrict q, const float *restrict k, const float *restrict v, size_t n, size_t heads,
                     size_t dh, size_t H, float scale, float *restrict scores, float *restrict out);

#endif
