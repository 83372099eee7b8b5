/* bert_ctx: per-thread run state (oneDNN engine, stream and primitive cache, one workspace) and
 * the forward pass orchestration. Arithmetic lives in oneDNN and kernels.c; here are only buffer
 * choices and index arithmetic. */
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "encoder.h"

bert_ctx_params bert_ctx_default_params(void)
{
    bert_ctx_params p;
    memset(&p, 0, sizeof p);
    p.attn_mode = BERT_ATTN_AUTO;
    return p;
}

bert_run_params bert_run_default_params(void)
{
    bert_run_params p;
    memset(&p, 0, sizeof p);
    p.attn_mode = BERT_ATTN_AUTO;
    return p;
}

bert_status bert_ctx_new(const bert_model *m, const bert_ctx_params *params, bert_ctx **out, char *errbuf,
                         size_t errbuf_size)
{
    const bert_ctx_params def = bert_ctx_default_params();
    const bert_ctx_params *p = params ? params : &def;
    if (!m || !out)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_ctx_new: NULL argument");
    *out = NULL;
    if (p->n_threads < 0 || (unsigned)p->attn_mode > BERT_ATTN_CAUSAL)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG,
                                "bert_ctx_new: n_threads must be >= 0 and attn_mode one of the bert_attn_mode values");
    bert_ctx *c = bert__calloc(1, sizeof *c);
    if (!c)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "bert_ctx_new: allocating the context");
    c->m = m;
    c->n_threads = p->n_threads ? p->n_threads : omp_get_max_threads();
    c->mode = p->attn_mode;
    c->hidden = bert__calloc(m->cfg.info.n_layers + 1, sizeof *c->hidden);
    if (!c->hidden) {
        bert_ctx_free(c);
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "bert_ctx_new: allocating the context");
    }
    char msg[256];
    bert_status st = bert__dnnl_new(&c->d, msg, sizeof msg);
    if (st != BERT_OK) {
        bert_ctx_free(c);
        return bert__errbuf_set(errbuf, errbuf_size, st, "bert_ctx_new: %s", msg);
    }
    *out = c;
    return BERT_OK;
}

void bert_ctx_free(bert_ctx *ctx)
{
    if (!ctx)
        return;
    bert__dnnl_free(ctx->d);
    bert__free(ctx->ws);
    bert__free(ctx->hidden);
    bert__free(ctx->segs);
    bert__free(ctx->pos_buf);
    bert__free(ctx->lm_rows);
    bert__free(ctx->lm_out);
    bert__kv_free(ctx);
    bert__free(ctx);
}

const char *bert_ctx_errmsg(const bert_ctx *ctx)
{
    return ctx ? ctx->errmsg : "bert_ctx_errmsg: NULL context";
}

static bert_status fail(bert_ctx *c, bert_status st, const char *fmt, ...) BERT__PRINTF(3, 4);
static bert_status fail(bert_ctx *c, bert_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
    va_end(ap);
    c->valid = 0;
    return st;
}

/* Padding-free execution: when every row of the mask is ones then zeros (right padding) and some
 * row is padded, the layers run on the real tokens only, packed one sequence after another, and
 * attention runs per sequence. Otherwise each row is one segment of T tokens and the mask (if any)
 * is applied inside attention. Returns the number of rows the dense layers run on. */
static size_t segment(bert_ctx *c, const uint8_t *mask, size_t B, size_t T, int *packed, int *need_mask)
{
    size_t rows = 0;
    int prefix = mask != NULL, padded = 0;
    *need_mask = 0;
    for (size_t b = 0; b < B; b++) {
        size_t len = T;
        if (mask) {
            const uint8_t *m = mask + b * T;
            len = 0;
            while (len < T && m[len])
                len++;
            for (size_t j = len; j < T; j++)
                if (m[j])
                    prefix = 0; /* a hole: not right padding */
            if (len == 0)
                prefix = 0;
            padded |= len < T;
        }
        c->segs[b].len = len;
    }
    *packed = prefix && padded;
    for (size_t b = 0; b < B; b++) {
        if (!*packed)
            c->segs[b].len = T;
        c->segs[b].off = rows;
        rows += c->segs[b].len;
    }
    *need_mask = !*packed && padded;
    if (mask && !*packed && !prefix)
        *need_mask = 1;
    return rows;
}

/* Sizes every buffer for B x T (R rows through the dense layers) and splits one block among them
 * (64-byte aligned). The hidden states are always [B, T, H]; packed runs work in their own buffer
 * and scatter into it. */
static bert_status plan(bert_ctx *c, size_t B, size_t T, size_t R, int packed, int all_hidden)
{
    const bert_model_info *in = &c->m->cfg.info;
    const size_t H = in->hidden_size, BT = B * T, L = in->n_layers;
    const size_t A = 16; /* floats per 64 bytes */
#define UP(x) (((x) + A - 1) / A * A)
    const size_t n_hidden = all_hidden ? L + 1 : 1;
    c->attn_scratch = UP(bert__attention_scratch(T, H / in->n_heads)) + UP(bert__relpos_scratch(c->m, T));
    const size_t sizes[8] = {UP(R * 3 * H),
                             UP((size_t)c->n_threads * c->attn_scratch),
                             UP(R * H),
                             UP(R * in->intermediate_size),
                             UP(B * H),
                             UP(BT * (in->n_labels ? in->n_labels : 1)),
                             packed ? UP(R * H) : 0,
                             c->m->tok_dense.w ? UP(BT * H) : 0};
    size_t total = n_hidden * UP(BT * H);
    for (int i = 0; i < 8; i++)
        total += sizes[i];
#undef UP
    if (total > c->ws_floats) {
        bert__free(c->ws);
        c->ws = bert__calloc(total + A, sizeof(float));
        c->ws_floats = c->ws ? total : 0;
        if (!c->ws)
            return BERT_E_NOMEM;
    }
    float *p = (float *)(((uintptr_t)c->ws + 63) & ~(uintptr_t)63);
    for (size_t l = 0; l <= L; l++)
        c->hidden[l] = NULL;
    for (size_t l = 0; l < n_hidden; l++) {
        c->hidden[all_hidden ? l : L] = p;
        p += (BT * H + A - 1) / A * A;
    }
    float **bufs[8] = {&c->qkv, &c->scratch, &c->attn, &c->inter, &c->pooled, &c->logits, &c->xp, &c->tok};
    for (int i = 0; i < 8; i++) {
        *bufs[i] = p;
        p += sizes[i];
    }
    if (!packed)
        c->xp = NULL;
    return BERT_OK;
}

/* Segments' rows of the packed buffer x into [B, T, H], zeros at the padding. */
static void scatter(const bert_ctx *c, const float *x, size_t B, size_t T, float *out)
{
    const size_t H = c->m->cfg.info.hidden_size;
    for (size_t b = 0; b < B; b++) {
        const bert__seg *sg = &c->segs[b];
        memcpy(out + b * T * H, x + sg->off * H, sg->len * H * sizeof(float));
        memset(out + (b * T + sg->len) * H, 0, (T - sg->len) * H * sizeof(float));
    }
}

bert__post bert__activation(bert_activation a)
{
    switch (a) {
    case BERT_ACT_GELU:
        return BERT__POST_GELU_ERF;
    case BERT_ACT_GELU_TANH:
        return BERT__POST_GELU_TANH;
    case BERT_ACT_RELU:
        return BERT__POST_RELU;
    case BERT_ACT_SILU:
        return BERT__POST_SILU;
    case BERT_ACT_TANH:
        return BERT__POST_TANH;
    }
    return BERT__POST_NONE;
}

bert_status bert__embeddings(bert_ctx *c, const int32_t *ids, const int32_t *types, const int32_t *pos_ids, size_t T,
                             const bert__seg *segs, size_t B, size_t R, float *x, float *tmp, char *msg, size_t n)
{
    const bert_model *m = c->m;
    const bert_model_info *in = &m->cfg.info;
    const size_t H = in->hidden_size, E = m->cfg.embedding_size;
    /* projected families build the E-wide rows in tmp first */
    float *e = m->emb_proj.w ? tmp : x;
    bert__embed_segs(m->word_emb, m->pos_emb, m->type_emb, ids, m->type_emb ? types : NULL, pos_ids, T, segs, B, E, e);
    bert_status st = bert__layer_norm_dnnl(c->d, e, R, E, m->emb_ln_g, m->emb_ln_b, in->layer_norm_eps, msg, n);
    if (st == BERT_OK && m->emb_proj.w)
        st = bert__matmul(c->d, e, R, E, &m->emb_proj, x, H, BERT__POST_NONE, 0, msg, n);
    return st;
}

/* HF's position ids for the family: NULL (position t) or, numbered from the padding index,
 * padding_idx + the count of non-pad ids up to and including t (padding_idx at pad ids). */
static void positions(bert_ctx *c, const int32_t *ids, size_t B, size_t T)
{
    const bert__config *cfg = &c->m->cfg;
    c->pos_ids = NULL;
    if (cfg->positions != BERT__POS_FROM_PAD)
        return;
    for (size_t b = 0; b < B; b++) {
        int32_t count = 0;
        for (size_t t = 0; t < T; t++) {
            const int real = ids[b * T + t] != cfg->pad_token_id;
            count += real;
            c->pos_buf[b * T + t] = real ? cfg->pad_token_id + count : cfg->pad_token_id;
        }
    }
    c->pos_ids = c->pos_buf;
}

/* The fused QKV product of x's R rows and attention over the segments, into c->attn. */
static bert_status self_attention(bert_ctx *c, size_t l, const bert__layer *y, const float *x, size_t R, size_t n_segs,
                                  const uint8_t *key_mask, int causal, char *msg, size_t n)
{
    const bert_model_info *in = &c->m->cfg.info;
    const size_t H = in->hidden_size;
    bert_status st;
    if ((st = bert__matmul(c->d, x, R, H, &y->qkv, c->qkv, 3 * H, BERT__POST_NONE, 0, msg, n)) != BERT_OK)
        return st;
    if (c->kv_fill) /* prefill: keep this layer's keys and values for the incremental steps */
        bert__kv_store(c, l, c->qkv, R);
    const bert__attn_bias bias = {c->m, y, bert__relpos_scale(c->m)};
    bert__attention(c->qkv, H, in->n_heads, c->segs, n_segs, key_mask, causal,
                    c->m->cfg.fam->relative != BERT__REL_NONE ? &bias : NULL, c->attn, c->scratch, c->attn_scratch);
    return BERT_OK;
}

/* The rest of a post-LN layer on `rows` rows: x = LN(x + attn . Wo + bo), then x = LN(x + FFN(x)).
 * x is the residual stream on entry and the layer's output on return. */
bert_status bert__post_attention(bert_ctx *c, const bert__layer *y, const float *attn, float *x, size_t rows, char *msg,
                                 size_t n)
{
    const bert_model_info *in = &c->m->cfg.info;
    const size_t H = in->hidden_size, I = in->intermediate_size;
    /* bf16: the FFN's inner activation goes straight out in bf16, the next matmul's input type */
    const dnnl_data_type_t it = c->m->precision == BERT_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
    bert_status st;
    /* the residuals are accumulated in place by a sum post-op */
    if ((st = bert__matmul(c->d, attn, rows, H, &y->attn_out, x, H, BERT__POST_NONE, 1, msg, n)) != BERT_OK ||
        (st = bert__layer_norm_dnnl(c->d, x, rows, H, y->ln1_g, y->ln1_b, in->layer_norm_eps, msg, n)) != BERT_OK ||
        (st = bert__matmul_t(c->d, x, dnnl_f32, rows, H, &y->inter, c->inter, it, I, bert__activation(in->activation),
                             0, msg, n)) != BERT_OK ||
        (st = bert__matmul_t(c->d, c->inter, it, rows, I, &y->out, x, dnnl_f32, H, BERT__POST_NONE, 1, msg, n)) !=
            BERT_OK ||
        (st = bert__layer_norm_dnnl(c->d, x, rows, H, y->ln2_g, y->ln2_b, in->layer_norm_eps, msg, n)) != BERT_OK)
        return st;
    return BERT_OK;
}

/* One post-LN transformer layer on R rows: x is the input on entry and the output on return. */
static bert_status layer(bert_ctx *c, size_t l, const bert__layer *y, float *x, size_t R, size_t n_segs,
                         const uint8_t *key_mask, int causal, char *msg, size_t n)
{
    bert_status st = self_attention(c, l, y, x, R, n_segs, key_mask, causal, msg, n);
    return st != BERT_OK ? st : bert__post_attention(c, y, c->attn, x, R, msg, n);
}

/* The last layer when only [CLS] outputs are read: keys and values (and so the fused QKV product
 * and attention) still need every row, but from the attention output on only the first row of
 * each segment goes on. Its rows are gathered into the free QKV buffer ([B, H] attention output,
 * then [B, H] residual stream), and x gets them back with zeros elsewhere. */
static bert_status last_layer_cls(bert_ctx *c, size_t l, const bert__layer *y, float *x, size_t R, size_t n_segs,
                                  const uint8_t *key_mask, char *msg, size_t n)
{
    const size_t H = c->m->cfg.info.hidden_size, B = n_segs;
    bert_status st = self_attention(c, l, y, x, R, n_segs, key_mask, 0, msg, n);
    if (st != BERT_OK)
        return st;
    float *a = c->qkv, *h = c->qkv + B * H; /* R >= B rows of 3H: room for both */
    for (size_t b = 0; b < B; b++) {
        memcpy(a + b * H, c->attn + c->segs[b].off * H, H * sizeof(float));
        memcpy(h + b * H, x + c->segs[b].off * H, H * sizeof(float));
    }
    if ((st = bert__post_attention(c, y, a, h, B, msg, n)) != BERT_OK)
        return st;
    memset(x, 0, R * H * sizeof(float));
    for (size_t b = 0; b < B; b++)
        memcpy(x + c->segs[b].off * H, h + b * H, H * sizeof(float));
    return BERT_OK;
}

static bert_status forward(bert_ctx *c, const int32_t *ids, const int32_t *types, const uint8_t *mask, size_t B,
                           size_t T, size_t R, int packed, int need_mask, int all, int causal, int cls, char *msg,
                           size_t n)
{
    const bert_model *m = c->m;
    const bert_model_info *in = &m->cfg.info;
    const size_t H = in->hidden_size, L = in->n_layers;
    bert_status st;
    /* packed: work in xp and scatter; padded: work in the hidden buffers themselves */
    float *x = packed ? c->xp : all ? c->hidden[0] : c->hidden[L];
    /* the attention buffer (R x H >= R x E) is free until the first layer */
    if ((st = bert__embeddings(c, ids, types, c->pos_ids, T, c->segs, B, R, x, c->attn, msg, n)) != BERT_OK)
        return st;
    const uint8_t *km = need_mask ? mask : NULL;
    for (size_t l = 0; l < L; l++) {
        if (all) {
            if (packed)
                scatter(c, x, B, T, c->hidden[l]);
            else {
                memcpy(c->hidden[l + 1], c->hidden[l], R * H * sizeof(float));
                x = c->hidden[l + 1];
            }
        }
        st = cls && l + 1 == L ? last_layer_cls(c, l, &m->layers[l], x, R, B, km, msg, n)
                               : layer(c, l, &m->layers[l], x, R, B, km, causal, msg, n);
        if (st != BERT_OK)
            return st;
    }
    if (packed)
        scatter(c, x, B, T, c->hidden[L]);
    x = c->hidden[L];
    if (m->pooler.packed || m->pooler.w) {
        /* dense + tanh on each row's first ([CLS]) position */
        /* the [CLS] rows gathered (attn is free now): with rows T * H apart or tanh as a post-op,
         * oneDNN 2.6 takes its reference matmul for packed weights, orders of magnitude slower */
        for (size_t b = 0; b < B; b++)
            memcpy(c->attn + b * H, x + b * T * H, H * sizeof(float));
        if ((st = bert__matmul(c->d, c->attn, B, H, &m->pooler, c->pooled, H, BERT__POST_NONE, 0, msg, n)) != BERT_OK)
            return st;
        bert__act((bert__post)m->cfg.pool_act, c->pooled, B * H);
    }
    if (m->classifier.w) {
        const size_t nl = in->n_labels;
        if (in->arch == BERT_ARCH_TOKEN_CLASSIFICATION && m->tok_dense.w) {
            if ((st = bert__matmul(c->d, x, B * T, H, &m->tok_dense, c->tok, H, BERT__POST_NONE, 0, msg, n)) != BERT_OK)
                return st;
            bert__act(bert__activation(in->activation), c->tok, B * T * H);
            st = bert__matmul(c->d, c->tok, B * T, H, &m->classifier, c->logits, nl, BERT__POST_NONE, 0, msg, n);
        } else if (in->arch == BERT_ARCH_TOKEN_CLASSIFICATION)
            st = bert__matmul(c->d, x, B * T, H, &m->classifier, c->logits, nl, BERT__POST_NONE, 0, msg, n);
        else
            st = bert__matmul(c->d, c->pooled, B, H, &m->classifier, c->logits, nl, BERT__POST_NONE, 0, msg, n);
    }
    return st;
}

bert_status bert_ctx_run(bert_ctx *ctx, const int32_t *ids, const int32_t *type_ids, const uint8_t *mask, size_t batch,
                         size_t seq_len, const bert_run_params *params)
{
    if (!ctx)
        return BERT_E_INVALID_ARG;
    const bert_run_params def = bert_run_default_params();
    const bert_run_params *p = params ? params : &def;
    const bert_model_info *in = &ctx->m->cfg.info;
    ctx->errmsg[0] = '\0';
    ctx->valid = 0;
    if (!ctx->kv_fill)
        ctx->kv_len = 0; /* an ordinary run reuses the buffers the cache was built from */
    if (!ids || batch == 0 || seq_len == 0)
        return fail(ctx, BERT_E_INVALID_ARG, "bert_ctx_run: ids is NULL or the batch is empty (%zu x %zu)", batch,
                    seq_len);
    if ((unsigned)p->attn_mode > BERT_ATTN_CAUSAL)
        return fail(ctx, BERT_E_INVALID_ARG, "bert_ctx_run: attn_mode %d is not a bert_attn_mode", (int)p->attn_mode);
    const size_t max_len = in->max_positions - (size_t)ctx->m->cfg.pos_offset;
    if (seq_len > max_len)
        return fail(ctx, BERT_E_TOO_LONG,
                    "bert_ctx_run: sequence length %zu exceeds %zu (max_position_embeddings %zu%s)", seq_len, max_len,
                    in->max_positions, ctx->m->cfg.pos_offset ? ", positions counted from padding_idx + 1" : "");
    if (batch > SIZE_MAX / seq_len / in->hidden_size / 4)
        return fail(ctx, BERT_E_TOO_LONG, "bert_ctx_run: batch %zu x %zu is too large", batch, seq_len);
    for (size_t i = 0; i < batch * seq_len; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= in->vocab_size)
            return fail(ctx, BERT_E_INVALID_ARG, "bert_ctx_run: row %zu, position %zu: token id %d is outside [0, %zu)",
                        i / seq_len, i % seq_len, (int)ids[i], in->vocab_size);
        if (type_ids && ctx->m->type_emb && (type_ids[i] < 0 || (size_t)type_ids[i] >= in->type_vocab_size))
            return fail(ctx, BERT_E_INVALID_ARG,
                        "bert_ctx_run: row %zu, position %zu: token type id %d is outside [0, %zu) (type_vocab_size)",
                        i / seq_len, i % seq_len, (int)type_ids[i], in->type_vocab_size);
    }
    bert_attn_mode mode = p->attn_mode != BERT_ATTN_AUTO ? p->attn_mode : ctx->mode;
    const int causal = mode == BERT_ATTN_CAUSAL || (mode == BERT_ATTN_AUTO && in->is_decoder);
    if (p->cls_only && (causal || ctx->kv_fill || in->arch == BERT_ARCH_TOKEN_CLASSIFICATION ||
                        in->arch == BERT_ARCH_MASKED_LM || in->arch == BERT_ARCH_CAUSAL_LM))
        return fail(ctx, BERT_E_INVALID_ARG,
                    "bert_ctx_run: cls_only needs a model whose outputs come from [CLS] (sequence classification, "
                    "multiple choice, base) and bidirectional attention; this one is %s",
                    causal ? "causal" : "token-level");
    if (batch > ctx->segs_cap) {
        bert__seg *sg = bert__reallocarray(ctx->segs, batch, sizeof *sg);
        if (!sg)
            return fail(ctx, BERT_E_NOMEM, "bert_ctx_run: allocating the workspace for %zu x %zu", batch, seq_len);
        ctx->segs = sg;
        ctx->segs_cap = batch;
    }
    if (ctx->m->cfg.positions == BERT__POS_FROM_PAD && batch * seq_len > ctx->pos_cap) {
        int32_t *pb = bert__reallocarray(ctx->pos_buf, batch * seq_len, sizeof *pb);
        if (!pb)
            return fail(ctx, BERT_E_NOMEM, "bert_ctx_run: allocating the workspace for %zu x %zu", batch, seq_len);
        ctx->pos_buf = pb;
        ctx->pos_cap = batch * seq_len;
    }
    positions(ctx, ids, batch, seq_len);
    int packed, need_mask;
    const size_t rows = segment(ctx, mask, batch, seq_len, &packed, &need_mask);
    if (plan(ctx, batch, seq_len, rows, packed, p->all_hidden_states) != BERT_OK)
        return fail(ctx, BERT_E_NOMEM, "bert_ctx_run: allocating the workspace for %zu x %zu", batch, seq_len);

    const int prev_threads = omp_get_max_threads();
    omp_set_num_threads(ctx->n_threads);
    char msg[384] = "";
    bert_status st = forward(ctx, ids, type_ids, mask, batch, seq_len, rows, packed, need_mask, p->all_hidden_states,
                             causal, p->cls_only != 0, msg, sizeof msg);
    omp_set_num_threads(prev_threads);
    if (st != BERT_OK)
        return fail(ctx, st, "bert_ctx_run (%zu x %zu): %s", batch, seq_len, msg);
    /* finite weights can still overflow (an activation past FLT_MAX): a result is a number or an
     * error, never a NaN handed on as a score */
    const size_t H = in->hidden_size, nl = in->n_labels ? in->n_labels : 1;
    const struct {
        const char *name;
        const float *v;
        size_t n;
    } outs[3] = {{"the last hidden state", ctx->hidden[in->n_layers], batch * seq_len * H},
                 {"the pooled output", ctx->m->pooler.packed || ctx->m->pooler.w ? ctx->pooled : NULL, batch * H},
                 {"the logits", ctx->m->classifier.w ? ctx->logits : NULL,
                  in->arch == BERT_ARCH_TOKEN_CLASSIFICATION ? batch * seq_len * nl : batch * nl}};
    for (int k = 0; k < 3; k++) {
        const size_t i = outs[k].v ? bert__first_nonfinite(outs[k].v, outs[k].n) : outs[k].n;
        if (i < outs[k].n)
            return fail(ctx, BERT_E_NUMERIC,
                        "bert_ctx_run (%zu x %zu): %s holds %s (row %zu): the model's weights overflow float "
                        "arithmetic on this input",
                        batch, seq_len, outs[k].name, isnan(outs[k].v[i]) ? "NaN" : "an infinity",
                        k == 0   ? i / (seq_len * H)
                        : k == 1 ? i / H
                                 : i / (outs[k].n / batch));
    }
    ctx->B = batch;
    ctx->T = seq_len;
    ctx->all_hidden = p->all_hidden_states;
    ctx->valid = 1;
    return BERT_OK;
}

bert_status bert_ctx_run_batch(bert_ctx *ctx, const bert_batch *b, const bert_run_params *params)
{
    if (!ctx)
        return BERT_E_INVALID_ARG;
    if (!b)
        return fail(ctx, BERT_E_INVALID_ARG, "bert_ctx_run_batch: NULL batch");
    bert_batch_view v = bert_batch_get(b);
    return bert_ctx_run(ctx, v.ids, v.type_ids, v.attention_mask, v.n_rows, v.seq_len, params);
}

const char *bert_ctx_kernels(const bert_ctx *ctx)
{
    return ctx ? bert__dnnl_kernels(ctx->d) : "";
}

const char *bert_cpu_isa(void)
{
    return bert__cpu_isa_name();
}

const float *bert_ctx_hidden(const bert_ctx *ctx, int layer)
{
    if (!ctx || !ctx->valid)
        return NULL;
    const int L = (int)ctx->m->cfg.info.n_layers;
    if (layer < 0)
        layer = L;
    if (layer > L)
        return NULL;
    return ctx->hidden[layer];
}

const float *bert_ctx_pooled(const bert_ctx *ctx)
{
    return ctx && ctx->valid && (ctx->m->pooler.packed || ctx->m->pooler.w) ? ctx->pooled : NULL;
}

const float *bert_ctx_logits(const bert_ctx *ctx)
{
    return ctx && ctx->valid && ctx->m->classifier.w ? ctx->logits : NULL;
}

size_t bert_ctx_batch(const bert_ctx *ctx)
{
    return ctx && ctx->valid ? ctx->B : 0;
}

size_t bert_ctx_seq_len(const bert_ctx *ctx)
{
    return ctx && ctx->valid ? ctx->T : 0;
}

bert_status bert__ctx_lm_logits(bert_ctx *ctx, const size_t *rows, const size_t *positions, size_t n, const float **out)
{
    *out = NULL;
    if (!ctx)
        return BERT_E_INVALID_ARG;
    const bert_model *m = ctx->m;
    const bert_model_info *in = &m->cfg.info;
    const size_t H = in->hidden_size;
    ctx->errmsg[0] = '\0';
    if (!m->lm.decoder.w) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_ctx_lm_logits: %s has no LM head", in->arch_name);
        return BERT_E_UNSUPPORTED;
    }
    if (!ctx->valid || !rows || !positions || n == 0) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_ctx_lm_logits: no run yet, or no positions asked for");
        return BERT_E_STATE;
    }
    for (size_t i = 0; i < n; i++) {
        if (rows[i] >= ctx->B || positions[i] >= ctx->T) {
            snprintf(ctx->errmsg, sizeof ctx->errmsg,
                     "bert_ctx_lm_logits: pair %zu (row %zu, position %zu) is outside the last batch %zu x %zu", i,
                     rows[i], positions[i], ctx->B, ctx->T);
            return BERT_E_INVALID_ARG;
        }
    }
    if (bert__lm_reserve(ctx, n) != BERT_OK) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_ctx_lm_logits: allocating logits for %zu positions", n);
        return BERT_E_NOMEM;
    }
    const float *last = ctx->hidden[in->n_layers];
    for (size_t i = 0; i < n; i++)
        memcpy(ctx->lm_rows + i * H, last + (rows[i] * ctx->T + positions[i]) * H, H * sizeof(float));
    const int prev_threads = omp_get_max_threads();
    omp_set_num_threads(ctx->n_threads);
    char msg[384] = "";
    bert_status st = bert__lm_head_run(ctx, n, msg, sizeof msg);
    omp_set_num_threads(prev_threads);
    if (st != BERT_OK) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_ctx_lm_logits: %s", msg);
        return st;
    }
    *out = ctx->lm_out;
    return BERT_OK;
}

const float *bert_ctx_lm_logits(bert_ctx *ctx, const size_t *rows, const size_t *positions, size_t n)
{
    const float *out = NULL;
    return bert__ctx_lm_logits(ctx, rows, positions, n, &out) == BERT_OK ? out : NULL;
}

bert_status bert__lm_reserve(bert_ctx *ctx, size_t n)
{
    const size_t H = ctx->m->cfg.info.hidden_size, V = ctx->m->cfg.info.vocab_size;
    if (n <= ctx->lm_cap)
        return BERT_OK;
    float *a = bert__reallocarray(ctx->lm_rows, n, H * sizeof(float));
    if (!a)
        return BERT_E_NOMEM;
    ctx->lm_rows = a;
    float *b = bert__reallocarray(ctx->lm_out, n, V * sizeof(float));
    if (!b)
        return BERT_E_NOMEM;
    ctx->lm_out = b;
    ctx->lm_cap = n;
    return BERT_OK;
}

bert_status bert__lm_head_run(bert_ctx *ctx, size_t n, char *msg, size_t msg_size)
{
    const bert_model *m = ctx->m;
    const bert_model_info *in = &m->cfg.info;
    const size_t H = in->hidden_size, V = in->vocab_size, E = m->lm.transform.out;
    /* transform: dense H -> E + activation (into lm_out as scratch, then back), LayerNorm, then the
     * decoder E -> V */
    bert_status st = bert__matmul(ctx->d, ctx->lm_rows, n, H, &m->lm.transform, ctx->lm_out, E,
                                  (bert__post)m->cfg.lm_act, 0, msg, msg_size);
    if (st != BERT_OK)
        return st;
    memcpy(ctx->lm_rows, ctx->lm_out, n * E * sizeof(float));
    st = bert__layer_norm_dnnl(ctx->d, ctx->lm_rows, n, E, m->lm.ln_g, m->lm.ln_b, in->layer_norm_eps, msg, msg_size);
    if (st != BERT_OK)
        return st;
    st = bert__matmul(ctx->d, ctx->lm_rows, n, E, &m->lm.decoder, ctx->lm_out, V, BERT__POST_NONE, 0, msg, msg_size);
    if (st != BERT_OK)
        return st;
    /* as bert_ctx_run's results: fill-mask scores and the next token come from these */
    const size_t i = bert__first_nonfinite(ctx->lm_out, n * V);
    if (i < n * V) {
        snprintf(msg, msg_size,
                 "the LM head's logits hold %s (position %zu of %zu): the model's weights overflow "
                 "float arithmetic on this input",
                 isnan(ctx->lm_out[i]) ? "NaN" : "an infinity", i / V, n);
        return BERT_E_NUMERIC;
    }
    return BERT_OK;
}
