/* Sentence embeddings as sentence-transformers computes them: the folder's Pooling (one or more
 * modes, concatenated in its order: cls, max, mean, mean_sqrt_len, weightedmean, lasttoken), its
 * Dense modules, its Normalize; or one pooling mode chosen by the caller (the pooler output too). */
#include <math.h>
#include <string.h>

#include "../encoder/encoder.h"
#include "head.h"

/* The pooling modes this head applies: the folder's, or the one the params name (0: the pooler). */
static unsigned modes_of(const bert_head *h)
{
    static const unsigned bit[] = {[BERT_POOL_CLS] = BERT__ST_CLS,
                                   [BERT_POOL_MEAN] = BERT__ST_MEAN,
                                   [BERT_POOL_POOLER] = 0,
                                   [BERT_POOL_MAX] = BERT__ST_MAX,
                                   [BERT_POOL_MEAN_SQRT_LEN] = BERT__ST_MEAN_SQRT,
                                   [BERT_POOL_WEIGHTED_MEAN] = BERT__ST_WEIGHTED,
                                   [BERT_POOL_LAST_TOKEN] = BERT__ST_LAST};
    if (h->p.pooling == BERT_POOL_AUTO)
        return h->m->st.present ? h->m->st.modes : BERT__ST_MEAN;
    return bit[h->p.pooling];
}

static size_t pooled_dim(const bert_model *m, unsigned modes)
{
    size_t n = 0;
    for (unsigned b = 1; b < BERT__ST_ALL; b <<= 1)
        n += (modes & b) != 0;
    return (n ? n : 1) * m->cfg.info.hidden_size;
}

static bert_status check_embed(const bert_model *m, const bert_head_params *p, char *errbuf, size_t errbuf_size)
{
    if (p->pooling == BERT_POOL_POOLER && !bert_model_get_info(m).has_pooler)
        return bert__errbuf_set(
            errbuf, errbuf_size, BERT_E_UNSUPPORTED,
            "pooling \"pooler\" needs a checkpoint with a pooler; this %s has none (use cls or mean)",
            bert_model_get_info(m).arch_name);
    /* another pooling in front of the folder's Dense modules must give them their width */
    if (m->st.present && m->st.n_dense && p->pooling != BERT_POOL_AUTO &&
        m->st.dense[0].lin.in != m->cfg.info.hidden_size)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "this folder's first Dense module takes %zu values, which only its own pooling gives; "
                                "leave the pooling to the folder",
                                m->st.dense[0].lin.in);
    return BERT_OK;
}

/* out[0..H) = one pooling mode over row's attended tokens (hid: the row's [T, H] hidden state). */
static void pool_one(unsigned mode, const float *hid, const uint8_t *mask, size_t T, size_t H, float *out)
{
    size_t n = 0, last = 0;
    for (size_t t = 0; t < T; t++)
        if (mask[t]) {
            n++;
            last = t;
        }
    if (mode == BERT__ST_CLS || mode == BERT__ST_LAST) {
        memcpy(out, hid + (mode == BERT__ST_CLS ? 0 : last) * H, H * sizeof *out);
        return;
    }
    for (size_t k = 0; k < H; k++) {
        double acc = mode == BERT__ST_MAX ? -INFINITY : 0, wsum = 0;
        for (size_t t = 0; t < T; t++) {
            if (!mask[t])
                continue;
            const double v = hid[t * H + k];
            if (mode == BERT__ST_MAX)
                acc = v > acc ? v : acc;
            else if (mode == BERT__ST_WEIGHTED) {
                acc += (double)(t + 1) * v;
                wsum += (double)(t + 1);
            } else
                acc += v;
        }
        if (mode == BERT__ST_MEAN)
            acc /= (double)(n ? n : 1);
        else if (mode == BERT__ST_MEAN_SQRT)
            acc /= sqrt((double)(n ? n : 1));
        else if (mode == BERT__ST_WEIGHTED)
            acc /= wsum > 0 ? wsum : 1;
        out[k] = (float)acc;
    }
}

static bert_status run_embed(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts,
                             bert_result *r)
{
    (void)texts;
    const bert_model *m = h->m;
    const size_t H = m->cfg.info.hidden_size;
    const bert_batch_view v = bert_batch_get(b);
    const float *hid = bert_ctx_hidden(ctx, -1), *pooled = bert_ctx_pooled(ctx);
    const unsigned modes = modes_of(h);
    const int dense = m->st.present && m->st.n_dense;
    size_t width = pooled_dim(m, modes), dim = width;
    for (size_t k = 0; dense && k < m->st.n_dense; k++) {
        width = m->st.dense[k].lin.out > width ? m->st.dense[k].lin.out : width;
        dim = m->st.dense[k].lin.out;
    }
    /* the pooled vectors, then each Dense module's output, in two [rows, width] buffers */
    float *buf = bert__malloc(2 * v.n_rows * width * sizeof(float));
    if (!buf || bert__result_reset(r, v.n_rows, dim) != BERT_OK) {
        bert__free(buf);
        return bert__result_fail(r, BERT_E_NOMEM, "embed: allocating results for %zu rows", v.n_rows);
    }
    size_t cur = pooled_dim(m, modes);
    for (size_t i = 0; i < v.n_rows; i++) {
        float *out = buf + i * cur;
        if (!modes) { /* the pooler output */
            memcpy(out, pooled + i * H, H * sizeof *out);
            continue;
        }
        for (unsigned bit = 1; bit < BERT__ST_ALL; bit <<= 1)
            if (modes & bit) {
                pool_one(bit, hid + i * v.seq_len * H, v.attention_mask + i * v.seq_len, v.seq_len, H, out);
                out += H;
            }
    }
    float *x = buf, *y = buf + v.n_rows * width;
    for (size_t k = 0; dense && k < m->st.n_dense; k++) {
        const bert__st_dense *d = &m->st.dense[k];
        char msg[256];
        bert_status st =
            bert__matmul(ctx->d, x, v.n_rows, cur, &d->lin, y, d->lin.out, BERT__POST_NONE, 0, msg, sizeof msg);
        if (st != BERT_OK) {
            bert__free(buf);
            return bert__result_fail(r, st, "embed: Dense module %zu: %s", k, msg);
        }
        bert__st_act(d->act, y, v.n_rows * d->lin.out);
        float *t = x;
        x = y;
        y = t;
        cur = d->lin.out;
    }
    const int normalize = h->p.normalize || (m->st.present && m->st.normalize);
    for (size_t i = 0; i < v.n_rows; i++) {
        float *out = r->scores + i * dim;
        memcpy(out, x + i * dim, dim * sizeof *out);
        if (normalize) {
            double ss = 0;
            for (size_t k = 0; k < dim; k++)
                ss += (double)out[k] * out[k];
            double norm = sqrt(ss);
            if (norm < 1e-12)
                norm = 1e-12; /* torch.nn.functional.normalize's eps */
            for (size_t k = 0; k < dim; k++)
                out[k] = (float)(out[k] / norm);
        }
        r->labels[i] = 0;
    }
    bert__free(buf);
    return BERT_OK;
}

const bert__head_ops bert__head_embed = {"embed", BERT_TASK_EMBED, check_embed, run_embed, 0, 0};
