/* Decoding strategies over the causal decoder: greedy, or sampling after transformers' logits
 * warpers in their order (temperature, then top-k, then top-p), with a seeded generator of our own
 * (splitmix64) so that a seed always gives the same tokens. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bert/generate.h>

#include "encoder.h"

bert_generate_params bert_generate_default_params(void)
{
    bert_generate_params p;
    memset(&p, 0, sizeof p);
    p.max_new_tokens = 20;
    p.temperature = 1.f;
    p.top_k = 50;
    p.top_p = 1.f;
    p.eos_id = -1;
    p.use_cache = 1;
    return p;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int by_logit_desc(const void *a, const void *b)
{
    const bert__cand *x = a, *y = b;
    if (x->logit != y->logit)
        return x->logit < y->logit ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

static int32_t argmax(const float *l, size_t V)
{
    size_t b = 0;
    for (size_t i = 1; i < V; i++)
        if (l[i] > l[b])
            b = i;
    return (int32_t)b;
}

int32_t bert__sample(const float *l, size_t V, const bert_generate_params *p, uint64_t *rng, bert__cand *c)
{
    /* in double: a float logit over a temperature as small as float allows (1e-45) stays finite
     * (1e48), so a tiny temperature tends to greedy search as it should; in float it overflowed to
     * infinity, the probabilities became NaN, and the least likely kept token was drawn */
    for (size_t i = 0; i < V; i++) {
        c[i].logit = (double)l[i] / (double)p->temperature;
        c[i].id = (int32_t)i;
    }
    qsort(c, V, sizeof *c, by_logit_desc);
    size_t keep = V;
    if (p->top_k && p->top_k < keep) {
        keep = p->top_k;
        while (keep < V && c[keep].logit == c[keep - 1].logit)
            keep++; /* HF's top-k keeps every token tied with the k-th */
    }
    double mx = c[0].logit, sum = 0;
    for (size_t i = 0; i < keep; i++)
        sum += exp(c[i].logit - mx);
    if (p->top_p < 1.f) {
        /* smallest prefix whose probability reaches top_p (at least one token) */
        double acc = 0;
        size_t n = 0;
        while (n < keep) {
            acc += exp(c[n].logit - mx) / sum;
            n++;
            if (acc >= p->top_p)
                break;
        }
        keep = n;
        sum = 0;
        for (size_t i = 0; i < keep; i++)
            sum += exp(c[i].logit - mx);
    }
    double u = (double)(splitmix64(rng) >> 11) * (1.0 / 9007199254740992.0) * sum, acc = 0;
    for (size_t i = 0; i < keep; i++) {
        acc += exp(c[i].logit - mx);
        if (u < acc)
            return c[i].id;
    }
    return c[keep - 1].id;
}

bert_status bert_generate(bert_ctx *ctx, const int32_t *prompt, size_t n_prompt, const bert_generate_params *params,
                          int32_t *out, size_t cap, size_t *n_out, bert_token_fn fn, void *user)
{
    if (!ctx)
        return BERT_E_INVALID_ARG;
    const bert_generate_params def = bert_generate_default_params();
    const bert_generate_params *p = params ? params : &def;
    const bert_model *m = ctx->m;
    const size_t V = m->cfg.info.vocab_size, P = m->cfg.info.max_positions;
    ctx->errmsg[0] = '\0';
    if (n_out)
        *n_out = 0;
#define BAD(...)                                                \
    do {                                                        \
        snprintf(ctx->errmsg, sizeof ctx->errmsg, __VA_ARGS__); \
        return BERT_E_INVALID_ARG;                              \
    } while (0)
    if (!prompt || n_prompt == 0)
        BAD("bert_generate: the prompt is empty");
    if (!n_out || (!out && cap))
        BAD("bert_generate: NULL output");
    if (p->do_sample && !(p->temperature > 0.f))
        BAD("bert_generate: temperature %g must be > 0 when sampling", (double)p->temperature);
    if (p->temperature < 0.f)
        BAD("bert_generate: temperature %g is negative", (double)p->temperature);
    if (!(p->top_p > 0.f && p->top_p <= 1.f))
        BAD("bert_generate: top_p %g is outside (0, 1]", (double)p->top_p);
    if (n_prompt > P)
        BAD("bert_generate: the prompt has %zu tokens, over max_position_embeddings %zu", n_prompt, P);
#undef BAD
    if (n_prompt + p->max_new_tokens < n_prompt || cap < n_prompt + p->max_new_tokens) {
        *n_out = n_prompt + p->max_new_tokens;
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_generate: the output needs room for %zu ids, it has %zu",
                 n_prompt + p->max_new_tokens, cap);
        return BERT_E_BUFFER_TOO_SMALL;
    }
    const bert_tokenizer *tok = m->tok;
    const int32_t eos = p->eos_id >= 0 ? p->eos_id : (tok ? bert_tokenizer_special_id(tok, BERT_SPECIAL_SEP) : -1);
    bert__cand *c = NULL;
    if (p->do_sample && !(c = bert__calloc(V, sizeof *c))) {
        snprintf(ctx->errmsg, sizeof ctx->errmsg, "bert_generate: allocating the sampling buffer");
        return BERT_E_NOMEM;
    }
    memcpy(out, prompt, n_prompt * sizeof *out);
    size_t n = n_prompt;
    uint64_t rng = p->seed;
    bert_status st = bert_ctx_prefill(ctx, out, n);
    while (st == BERT_OK && n < n_prompt + p->max_new_tokens) {
        const float *l = bert_ctx_next_logits(ctx);
        int32_t id = p->do_sample ? bert__sample(l, V, p, &rng, c) : argmax(l, V);
        out[n++] = id;
        if (id == eos || (fn && fn(id, user)))
            break;
        if (n == n_prompt + p->max_new_tokens)
            break;
        if (n >= P) {
            bert__log(BERT_LOG_INFO, "bert_generate: stopped at max_position_embeddings (%zu)", P);
            break;
        }
        /* the cached step, or (use_cache 0) the whole prefix again: both give the same logits */
        st = p->use_cache ? bert_ctx_step(ctx, id) : bert_ctx_prefill(ctx, out, n);
    }
    bert__free(c);
    *n_out = n;
    return st;
}
