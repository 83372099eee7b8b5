/* A cross-encoder: a sequence classifier scoring (query, passage) pairs, as sentence-transformers'
 * CrossEncoder.predict does: the logits through its activation (config.json's, else sigmoid for one
 * label and identity for more), or a softmax over the labels when asked (apply_softmax). Ranking a
 * query's passages is ordering these scores (bert_rank). */
#include <math.h>
#include <string.h>

#include "../encoder/encoder.h"
#include "head.h"

static bert_status check_rerank(const bert_model *m, const bert_head_params *p, char *errbuf, size_t errbuf_size)
{
    (void)p;
    const bert_model_info in = bert_model_get_info(m);
    if (in.arch != BERT_ARCH_SEQUENCE_CLASSIFICATION)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "head \"rerank\" needs a cross-encoder (a sequence classifier); this one is %s",
                                in.arch_name);
    return BERT_OK;
}

static bert_status run_rerank(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts,
                              bert_result *r)
{
    (void)texts;
    const size_t rows = bert_batch_get(b).n_rows, nl = bert_model_get_info(h->m).n_labels;
    const float *logits = bert_ctx_logits(ctx);
    if (!logits)
        return bert__result_fail(r, BERT_E_INTERNAL, "rerank: the model produced no logits");
    if (bert__result_reset(r, rows, nl) != BERT_OK)
        return bert__result_fail(r, BERT_E_NOMEM, "rerank: allocating results for %zu rows", rows);
    const int act = h->m->st.ce_act >= 0 ? h->m->st.ce_act : nl == 1 ? BERT__ST_SIGMOID : BERT__ST_IDENTITY;
    for (size_t i = 0; i < rows; i++) {
        const float *l = logits + i * nl;
        float *s = r->scores + i * nl;
        size_t best = 0;
        for (size_t k = 1; k < nl; k++)
            best = l[k] > l[best] ? k : best;
        if (h->p.softmax) {
            double sum = 0;
            for (size_t k = 0; k < nl; k++)
                sum += exp((double)l[k] - l[best]);
            for (size_t k = 0; k < nl; k++)
                s[k] = (float)(exp((double)l[k] - l[best]) / sum);
        } else {
            memcpy(s, l, nl * sizeof *s);
            bert__st_act(act, s, nl);
        }
        r->labels[i] = (int32_t)best;
    }
    return BERT_OK;
}

const bert__head_ops bert__head_rerank = {"rerank", BERT_TASK_RERANK, check_rerank, run_rerank, 1, 0};
