/* The head registry and the one interface every head is called through. */
#include "head.h"

#include <string.h>

/* Adding a head: define its bert__head_ops in a new file and list it here. */
static const bert__head_ops *const registry[] = {
    &bert__head_classify, &bert__head_sentiment, &bert__head_ner,       &bert__head_fill_mask,
    &bert__head_embed,    &bert__head_rerank,    &bert__head_zero_shot,
};
#define N_HEADS (sizeof registry / sizeof registry[0])

const char *const *bert_head_names(void)
{
    static const char *names[N_HEADS + 1];
    /* Filled on every call with the same values: harmless if two threads race here. */
    for (size_t i = 0; i < N_HEADS; i++)
        names[i] = registry[i]->name;
    names[N_HEADS] = NULL;
    return names;
}

bert_head_params bert_head_default_params(void)
{
    bert_head_params p;
    memset(&p, 0, sizeof p);
    p.top_k = 5;
    p.aggregation = BERT_AGG_NONE;
    p.pooling = BERT_POOL_AUTO;
    return p;
}

/* The head a checkpoint was trained for. */
static const char *default_head(const bert_model *m)
{
    switch (bert_model_get_info(m).arch) {
    case BERT_ARCH_SEQUENCE_CLASSIFICATION:
        return "classify";
    case BERT_ARCH_TOKEN_CLASSIFICATION:
        return "ner";
    case BERT_ARCH_MASKED_LM:
        return "fill-mask";
    case BERT_ARCH_BASE:
    case BERT_ARCH_CAUSAL_LM:
    case BERT_ARCH_MULTIPLE_CHOICE:
        break;
    }
    return "embed";
}

bert_status bert_head_new(const bert_model *m, const bert_head_params *params, bert_head **out, char *errbuf,
                          size_t errbuf_size)
{
    const bert_head_params def = bert_head_default_params();
    const bert_head_params *p = params ? params : &def;
    if (!m || !out)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_head_new: NULL argument");
    *out = NULL;
    const char *name = p->name ? p->name : default_head(m);
    const bert__head_ops *ops = NULL;
    for (size_t i = 0; i < N_HEADS; i++)
        if (!strcmp(registry[i]->name, name))
            ops = registry[i];
    if (!ops)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG,
                                "unknown head \"%s\" (classify, sentiment, ner, fill-mask, embed, rerank, zero-shot)",
                                name);
    if ((unsigned)p->aggregation > BERT_AGG_MAX || (unsigned)p->pooling > BERT_POOL_AUTO || p->top_k == 0 ||
        p->top_k > bert_model_get_info(m).vocab_size)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG,
                                "bert_head_new: aggregation, pooling or top_k (%zu) out of range", p->top_k);
    bert_status st = ops->check(m, p, errbuf, errbuf_size);
    if (st != BERT_OK)
        return st;
    bert_head *h = bert__calloc(1, sizeof *h);
    if (!h)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "bert_head_new: allocating the head");
    h->ops = ops;
    h->m = m;
    h->p = *p;
    h->p.name = ops->name;
    h->p.labels = NULL;
    h->p.hypothesis_template = NULL;
    /* the zero-shot strings are the caller's: keep copies */
    if (p->n_labels) {
        h->labels = bert__calloc(p->n_labels, sizeof *h->labels);
        for (size_t i = 0; h->labels && i < p->n_labels; i++)
            if (!(h->labels[i] = bert__strndup(p->labels[i], strlen(p->labels[i])))) {
                bert_head_free(h);
                return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "bert_head_new: copying the labels");
            }
        h->p.labels = (const char *const *)h->labels;
    }
    if (p->hypothesis_template) {
        h->hypothesis_template = bert__strndup(p->hypothesis_template, strlen(p->hypothesis_template));
        h->p.hypothesis_template = h->hypothesis_template;
    }
    if ((p->n_labels && !h->labels) || (p->hypothesis_template && !h->hypothesis_template)) {
        bert_head_free(h);
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "bert_head_new: copying the labels");
    }
    *out = h;
    return BERT_OK;
}

void bert_head_free(bert_head *h)
{
    if (!h)
        return;
    for (size_t i = 0; h->labels && i < h->p.n_labels; i++)
        bert__free(h->labels[i]);
    bert__free(h->labels);
    bert__free(h->hypothesis_template);
    bert__free(h);
}

void bert_rank(const float *scores, size_t n, size_t *order)
{
    if (!scores || !order)
        return;
    /* insertion sort, descending; an equal score goes before the earlier ones (reversed argsort) */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && scores[order[j - 1]] <= scores[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
}

const char *bert_head_name(const bert_head *h)
{
    return h ? h->ops->name : NULL;
}

bert_task bert_head_task(const bert_head *h)
{
    return h ? h->ops->task : BERT_TASK_CLASSIFY;
}

bert_status bert_head_run(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts,
                          bert_result *r)
{
    if (!r)
        return BERT_E_INVALID_ARG;
    r->errmsg[0] = '\0';
    r->n_rows = 0;
    if (!h || !ctx || !b)
        return bert__result_fail(r, BERT_E_INVALID_ARG, "bert_head_run: NULL head, context or batch");
    if (bert_batch_get(b).n_rows == 0)
        return bert__result_reset(r, 0, 0);
    bert_status st;
    if (!h->ops->own_runs) {
        bert_run_params rp = bert_run_default_params();
        rp.cls_only = h->ops->cls_only;
        if ((st = bert_ctx_run_batch(ctx, b, &rp)) != BERT_OK)
            return bert__result_fail(r, st, "%s", bert_ctx_errmsg(ctx));
    }
    st = h->ops->run(h, ctx, b, texts, r);
    if (st != BERT_OK && !r->errmsg[0])
        bert__result_fail(r, st, "%s head: %s", h->ops->name, bert_status_str(st));
    if (st != BERT_OK)
        r->n_rows = 0;
    return st;
}

size_t bert__wordpiece_join(const char *const *tokens, const size_t *lens, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *t = tokens[i];
        size_t len = lens[i];
        char piece[512];
        size_t pl = 0;
        /* tokenizers' WordPiece decoder: pieces after the first lose "##", others get a space */
        if (i != 0) {
            if (len >= 2 && t[0] == '#' && t[1] == '#') {
                t += 2;
                len -= 2;
            } else {
                piece[pl++] = ' ';
            }
        }
        if (len > sizeof piece - pl - 1)
            len = sizeof piece - pl - 1;
        memcpy(piece + pl, t, len);
        pl += len;
        /* its clean-up, per token: " ." " ?" " !" " ," lose the space (the multi-token patterns of
         * the clean-up cannot occur within one BERT token) */
        if (pl >= 2 && piece[0] == ' ' && (piece[1] == '.' || piece[1] == '?' || piece[1] == '!' || piece[1] == ','))
            memmove(piece, piece + 1, --pl);
        if (k + pl < cap) {
            memcpy(out + k, piece, pl);
            k += pl;
        }
    }
    if (cap)
        out[k < cap ? k : cap - 1] = '\0';
    return k;
}
