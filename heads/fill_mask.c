/* Fill-mask: the masked-LM head at every [MASK], softmax over the vocabulary, top-k (HF's
 * FillMaskPipeline). */
#include <math.h>
#include <string.h>

#include "../encoder/encoder.h"
#include "head.h"

static bert_status check_fill(const bert_model *m, const bert_head_params *p, char *errbuf, size_t errbuf_size)
{
    bert_model_info in = bert_model_get_info(m);
    if (p->top_k > 64)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "fill-mask: top_k %zu is over 64", p->top_k);
    if (in.arch != BERT_ARCH_MASKED_LM && in.arch != BERT_ARCH_CAUSAL_LM)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "head \"fill-mask\" needs a checkpoint with an LM head (BertForMaskedLM); this one is %s",
                                in.arch_name);
    if (!bert_model_tokenizer(m) || bert_tokenizer_special_id(bert_model_tokenizer(m), BERT_SPECIAL_MASK) < 0)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "head \"fill-mask\" needs the model's vocab.txt with a [MASK] token");
    return BERT_OK;
}

static bert_status run_fill(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts,
                            bert_result *r)
{
    (void)texts;
    const bert_tokenizer *tok = bert_model_tokenizer(h->m);
    const int32_t mask_id = bert_tokenizer_special_id(tok, BERT_SPECIAL_MASK);
    const size_t V = bert_model_get_info(h->m).vocab_size, k = h->p.top_k;
    const bert_batch_view v = bert_batch_get(b);
    if (bert__result_reset(r, v.n_rows, 0) != BERT_OK)
        return bert__result_fail(r, BERT_E_NOMEM, "fill-mask: allocating results");
    for (size_t i = 0; i < v.n_rows; i++) {
        bert__result_mark_row(r, i);
        size_t rows[64], pos[64], n = 0;
        for (size_t t = 0; t < v.lengths[i]; t++) {
            if (v.ids[i * v.seq_len + t] != mask_id)
                continue;
            if (n == 64)
                return bert__result_fail(r, BERT_E_TOO_LONG, "fill-mask: row %zu has more than 64 [MASK] tokens", i);
            rows[n] = i;
            pos[n++] = t;
        }
        if (n == 0)
            continue;
        const float *logits = NULL;
        bert_status st = bert__ctx_lm_logits(ctx, rows, pos, n, &logits);
        if (st != BERT_OK)
            return bert__result_fail(r, st, "fill-mask: %s", bert_ctx_errmsg(ctx));
        for (size_t m = 0; m < n; m++) {
            const float *l = logits + m * V;
            float mx = l[0];
            for (size_t j = 1; j < V; j++)
                mx = l[j] > mx ? l[j] : mx;
            double sum = 0;
            for (size_t j = 0; j < V; j++)
                sum += exp((double)l[j] - mx);
            /* top-k by insertion: k is small next to V */
            int32_t best[64];
            size_t kk = k, have = 0;
            for (size_t j = 0; j < V; j++) {
                if (have == kk && l[j] <= l[best[kk - 1]])
                    continue;
                size_t at = have < kk ? have++ : kk - 1;
                while (at > 0 && l[best[at - 1]] < l[j]) {
                    best[at] = best[at - 1];
                    at--;
                }
                best[at] = (int32_t)j;
            }
            for (size_t j = 0; j < have; j++) {
                size_t sl = 0;
                const char *s = bert_tokenizer_id_to_token(tok, best[j], &sl);
                float p = (float)(exp((double)l[best[j]] - mx) / sum);
                if (bert__result_add_fill(r, pos[m], best[j], s ? s : "", sl, p) != BERT_OK)
                    return bert__result_fail(r, BERT_E_NOMEM, "fill-mask: allocating results");
            }
        }
    }
    bert__result_mark_row(r, v.n_rows);
    bert__result_finish(r);
    return BERT_OK;
}

const bert__head_ops bert__head_fill_mask = {"fill-mask", BERT_TASK_FILL_MASK, check_fill, run_fill, 0, 0};
