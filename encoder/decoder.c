/* The causal decoder is a masking mode of the same stack, not a second model: the prefill is an
 * ordinary forward pass with the causal mask that also keeps each layer's keys and values; a step
 * runs the same layers (same weights, same oneDNN matmuls) on one new position, attending to the
 * cached keys and values. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "encoder.h"

void bert__kv_free(bert_ctx *ctx)
{
    bert__free(ctx->kv);
    bert__free(ctx->step);
    ctx->kv = ctx->step = NULL;
    ctx->kv_len = 0;
}

static bert_status kv_alloc(bert_ctx *ctx)
{
    if (ctx->kv)
        return BERT_OK;
    const bert_model_info *in = &ctx->m->cfg.info;
    const size_t H = in->hidden_size, P = in->max_positions;
    ctx->kv = bert__calloc(in->n_layers * 2 * P, H * sizeof(float));
    /* x [H], qkv [3H], attn [H], the embeddings' scratch [max(E, I)], scores [P] */
    ctx->step = bert__calloc(5 * H + in->intermediate_size + P, sizeof(float));
    if (!ctx->kv || !ctx->step) {
        bert__kv_free(ctx);
        return BERT_E_NOMEM;
    }
    return BERT_OK;
}

/* [H] key (which 0) or value (which 1) row of layer l at position p */
static float *kv_row(const bert_ctx *ctx, size_t l, int which, size_t p)
{
    const bert_model_info *in = &ctx->m->cfg.info;
    return ctx->kv + ((l * 2 + (size_t)which) * in->max_positions + p) * in->hidden_size;
}

void bert__kv_store(bert_ctx *ctx, size_t l, const float *qkv, size_t T)
{
    const size_t H = ctx->m->cfg.info.hidden_size;
    for (size_t t = 0; t < T; t++) {
        memcpy(kv_row(ctx, l, 0, t), qkv + t * 3 * H + H, H * sizeof(float));
        memcpy(kv_row(ctx, l, 1, t), qkv + t * 3 * H + 2 * H, H * sizeof(float));
    }
}

static bert_status need_lm(bert_ctx *ctx, const char *fn)
{
    if (ctx->m->cfg.fam->relative != BERT__REL_NONE) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg,
                 "%s: incremental decoding is not implemented for relative positions (model_type \"%s\")", fn,
                 ctx->m->cfg.fam->model_type);
        return BERT_E_UNSUPPORTED;
    }
    if (!ctx->m->lm.decoder.w) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "%s: %s has no LM head to predict the next token", fn,
                 ctx->m->cfg.info.arch_name);
        return BERT_E_UNSUPPORTED;
    }
    return BERT_OK;
}

/* LM logits of the row at x [H] into ctx->lm_out. */
static bert_status next_logits(bert_ctx *ctx, const float *x, char *msg, size_t n)
{
    const size_t H = ctx->m->cfg.info.hidden_size;
    if (bert__lm_reserve(ctx, 1) != BERT_OK) {
        snprintf(msg, n, "allocating the logits");
        return BERT_E_NOMEM;
    }
    memcpy(ctx->lm_rows, x, H * sizeof(float));
    return bert__lm_head_run(ctx, 1, msg, n);
}

bert_status bert_ctx_prefill(bert_ctx *ctx, const int32_t *ids, size_t n)
{
    if (!ctx)
        return BERT_E_INVALID_ARG;
    ctx->errmsg[0] = '\0';
    ctx->kv_len = 0;
    bert_status st = need_lm(ctx, "bert_ctx_prefill");
    if (st != BERT_OK)
        return st;
    if (!ids || n == 0) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_ctx_prefill: the prompt is empty");
        return BERT_E_INVALID_ARG;
    }
    if (kv_alloc(ctx) != BERT_OK) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_ctx_prefill: allocating the key/value cache");
        return BERT_E_NOMEM;
    }
    bert_run_params rp = bert_run_default_params();
    rp.attn_mode = BERT_ATTN_CAUSAL;
    ctx->kv_fill = 1;
    st = bert_ctx_run(ctx, ids, NULL, NULL, 1, n, &rp);
    ctx->kv_fill = 0;
    if (st != BERT_OK)
        return st; /* bert_ctx_run set the message */
    const size_t H = ctx->m->cfg.info.hidden_size;
    char msg[384];
    const int prev = omp_get_max_threads();
    omp_set_num_threads(ctx->n_threads);
    st = next_logits(ctx, ctx->hidden[ctx->m->cfg.info.n_layers] + (n - 1) * H, msg, sizeof msg);
    omp_set_num_threads(prev);
    if (st != BERT_OK) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_ctx_prefill: %s", msg);
        return st;
    }
    ctx->kv_len = n;
    return BERT_OK;
}

/* One position through every layer, attending to the cache. */
static bert_status step(bert_ctx *ctx, int32_t id, char *msg, size_t n)
{
    const bert_model *m = ctx->m;
    const bert_model_info *in = &m->cfg.info;
    const size_t H = in->hidden_size, I = in->intermediate_size, nh = in->n_heads, dh = H / nh, p = ctx->kv_len;
    float *x = ctx->step, *qkv = x + H, *attn = qkv + 3 * H, *tmp = attn + H, *scores = tmp + I;
    bert_status st;
    /* embeddings: token type 0, position p (as transformers' generate continues the positions;
     * from padding_idx + 1 where the family counts so, the prompt holding no pad token) */
    const int32_t type = 0, pos = (int32_t)p + m->cfg.pos_offset;
    const bert__seg one = {0, 1};
    if ((st = bert__embeddings(ctx, &id, &type, &pos, 1, &one, 1, 1, x, tmp, msg, n)) != BERT_OK)
        return st;
    for (size_t l = 0; l < in->n_layers; l++) {
        const bert__layer *y = &m->layers[l];
        if ((st = bert__matmul(ctx->d, x, 1, H, &y->qkv, qkv, 3 * H, BERT__POST_NONE, 0, msg, n)))
            return st;
        memcpy(kv_row(ctx, l, 0, p), qkv + H, H * sizeof(float));
        memcpy(kv_row(ctx, l, 1, p), qkv + 2 * H, H * sizeof(float));
        bert__attn_step(qkv, kv_row(ctx, l, 0, 0), kv_row(ctx, l, 1, 0), p + 1, nh, dh, H, 1.f / sqrtf((float)dh),
                        scores, attn);
        /* the rest of the layer is the batched runs' own code on one row */
        if ((st = bert__post_attention(ctx, y, attn, x, 1, msg, n)) != BERT_OK)
            return st;
    }
    return next_logits(ctx, x, msg, n);
}

bert_status bert_ctx_step(bert_ctx *ctx, int32_t id)
{
    if (!ctx)
        return BERT_E_INVALID_ARG;
    ctx->errmsg[0] = '\0';
    const bert_model_info *in = &ctx->m->cfg.info;
    bert_status st = need_lm(ctx, "bert_ctx_step");
    if (st != BERT_OK)
        return st;
    if (ctx->kv_len == 0) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_ctx_step: no prefill yet (or a later bert_ctx_run reset it)");
        return BERT_E_STATE;
    }
    if (ctx->kv_len >= in->max_positions) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg,
                 "bert_ctx_step: the cache holds max_position_embeddings (%zu) positions already", in->max_positions);
        return BERT_E_TOO_LONG;
    }
    if (id < 0 || (size_t)id >= in->vocab_size) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_ctx_step: token id %d is outside [0, %zu)", (int)id,
                 in->vocab_size);
        return BERT_E_INVALID_ARG;
    }
    char msg[384] = "";
    const int prev = omp_get_max_threads();
    omp_set_num_threads(ctx->n_threads);
    st = step(ctx, id, msg, sizeof msg);
    omp_set_num_threads(prev);
    if (st != BERT_OK) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_ctx_step at position %zu: %s", ctx->kv_len, msg);
        ctx->kv_len = 0; /* the cache is half-updated: force a new prefill */
        return st;
    }
    ctx->kv_len++;
    return BERT_OK;
}

const float *bert_ctx_next_logits(const bert_ctx *ctx)
{
    return ctx && ctx->kv_len ? ctx->lm_out : NULL;
}

size_t bert_ctx_cache_len(const bert_ctx *ctx)
{
    return ctx ? ctx->kv_len : 0;
}
