/* Sentence embeddings: [CLS], the mean over attended tokens, or the pooler output; optionally
 * L2-normalised (as sentence-transformers' Normalize). */
#include <math.h>
#include <string.h>

#include "head.h"

static bert_status check_embed(const bert_model *m, const bert_head_params *p, char *errbuf, size_t errbuf_size)
{
    if (p->pooling == BERT_POOL_POOLER && !bert_model_get_info(m).has_pooler)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "pooling \"pooler\" needs a checkpoint with a pooler; this %s has none (use cls or mean)",
                                bert_model_get_info(m).arch_name);
    return BERT_OK;
}

static bert_status run_embed(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts,
                             bert_result *r)
{
    (void)texts;
    const size_t H = bert_model_get_info(h->m).hidden_size;
    const bert_batch_view v = bert_batch_get(b);
    const float *hid = bert_ctx_hidden(ctx, -1), *pooled = bert_ctx_pooled(ctx);
    if (bert__result_reset(r, v.n_rows, H) != BERT_OK)
        return bert__result_fail(r, BERT_E_NOMEM, "embed: allocating results for %zu rows", v.n_rows);
    for (size_t i = 0; i < v.n_rows; i++) {
        float *out = r->scores + i * H;
        const float *row = hid + i * v.seq_len * H;
        if (h->p.pooling == BERT_POOL_CLS) {
            memcpy(out, row, H * sizeof *out);
        } else if (h->p.pooling == BERT_POOL_POOLER) {
            memcpy(out, pooled + i * H, H * sizeof *out);
        } else {
            /* sum in double, then divide by the attended count (clamped to 1 like sentence-transformers) */
            double acc[4096];
            const size_t chunk = sizeof acc / sizeof acc[0];
            for (size_t c0 = 0; c0 < H; c0 += chunk) {
                size_t c1 = c0 + chunk < H ? c0 + chunk : H, n = 0;
                memset(acc, 0, sizeof acc);
                for (size_t t = 0; t < v.seq_len; t++) {
                    if (!v.attention_mask[i * v.seq_len + t])
                        continue;
                    n++;
                    for (size_t k = c0; k < c1; k++)
                        acc[k - c0] += row[t * H + k];
                }
                for (size_t k = c0; k < c1; k++)
                    out[k] = (float)(acc[k - c0] / (double)(n ? n : 1));
            }
        }
        if (h->p.normalize) {
            double ss = 0;
            for (size_t k = 0; k < H; k++)
                ss += (double)out[k] * out[k];
            double norm = sqrt(ss);
            if (norm < 1e-12)
                norm = 1e-12; /* torch.nn.functional.normalize's eps */
            for (size_t k = 0; k < H; k++)
                out[k] = (float)(out[k] / norm);
        }
        r->labels[i] = 0;
    }
    return BERT_OK;
}

const bert__head_ops bert__head_embed = {"embed", BERT_TASK_EMBED, check_embed, run_embed, 0};
