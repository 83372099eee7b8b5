/* The runtime's room: the loaded model, the per-thread context and the layer builder shared by
 * batched runs and the decoder's cached step. Internal; never installed. */
#ifndef BERT_RUNTIME_H
#define BERT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include <bert/generate.h>
#include <bert/model.h>

#include "backend.h"
#include "kernels.h"
#include "loader.h"

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

/* The masked/causal LM head: transform (dense H -> E + activation + LayerNorm; E the embedding
 * width), then the decoder, whose weight is the word embeddings when tied (HF's default; the
 * tensor is then absent from the file). */
typedef struct bert__lm_head {
    bert__linear transform;
    const float *ln_g, *ln_b;
    bert__linear decoder; /* [V, E] + bias [V] */
} bert__lm_head;

/* ---- st.c: a sentence-transformers folder's modules ---- */
enum {
    BERT__ST_CLS = 1,
    BERT__ST_MAX = 2,
    BERT__ST_MEAN = 4,
    BERT__ST_MEAN_SQRT = 8,
    BERT__ST_WEIGHTED = 16,
    BERT__ST_LAST = 32,
    BERT__ST_ALL = 64 /* one past the last mode bit */
};
enum { BERT__ST_IDENTITY = 0, BERT__ST_TANH, BERT__ST_RELU, BERT__ST_GELU, BERT__ST_SIGMOID };
enum { BERT__ST_MAX_DENSE = 8 };
typedef struct bert__st_dense {
    bert__linear lin; /* plain F32 [out, in] */
    int act;          /* BERT__ST_* */
} bert__st_dense;
typedef struct bert__st {
    int present;    /* the folder has modules.json */
    unsigned modes; /* BERT__ST_CLS | ...: pooled vectors concatenated in this bit order */
    bert__st_dense dense[BERT__ST_MAX_DENSE];
    size_t n_dense;
    int normalize;
    size_t dim;            /* the embedding's width after pooling and Dense */
    size_t max_seq_length; /* 0: none given */
    char **prompt_names, **prompts;
    size_t n_prompts;
    char *default_prompt; /* NULL: none */
    int ce_act;           /* a cross-encoder's configured activation (BERT__ST_*), -1: the default */
} bert__st;
bert_status bert__st_load(const char *dir, size_t hidden, bert__st *st, char *errbuf, size_t errbuf_size);
void bert__st_free(bert__st *st);
const char *bert__st_prompt(const bert__st *st, const char *name);
/* x[i] = act(x[i]) for a Dense module's or a cross-encoder's activation (BERT__ST_*). */
void bert__st_act(int act, float *x, size_t n);

struct bert_model {
    bert__st st;
    bert__config cfg;
    const float *word_emb, *pos_emb, *type_emb; /* [V,E] [P,E] [Tv,E]; pos/type NULL where the family has none */
    const float *emb_ln_g, *emb_ln_b;
    bert__linear emb_proj;   /* E -> H after the embeddings' LayerNorm (ELECTRA, ALBERT); w NULL without */
    const float *rel_bias;   /* MPNet: [buckets, heads] */
    const float *rel_emb;    /* DeBERTa: [2 * span, H], LayerNorm'd */
    bert__layer *layers;     /* [n_layers]; ALBERT's layers are copies of their group's */
    bert__linear pooler;     /* w NULL without a pooler */
    bert__linear classifier; /* w NULL without a classifier */
    bert__linear tok_dense;  /* ELECTRA's discriminator: dense + hidden_act before the per-token
                                classifier; w NULL without */
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
    float *tok;     /* [B, T, H]: the discriminator's dense output, or NULL */
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
#endif
