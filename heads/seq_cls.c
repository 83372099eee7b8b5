/* Sequence classification: softmax over the labels (single-label), a sigmoid per label
 * (multi-label) or the raw value (regression), as transformers' problem_type defines them. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "head.h"

static bert_status check_classify(const bert_model *m, const bert_head_params *p, char *errbuf, size_t errbuf_size)
{
    (void)p;
    bert_model_info in = bert_model_get_info(m);
    if (in.arch != BERT_ARCH_SEQUENCE_CLASSIFICATION)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "head \"classify\" needs a BertForSequenceClassification checkpoint; this one is %s",
                                in.arch_name);
    return BERT_OK;
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

static bert_status check_sentiment(const bert_model *m, const bert_head_params *p, char *errbuf, size_t errbuf_size)
{
    bert_status st = check_classify(m, p, errbuf, errbuf_size);
    if (st != BERT_OK)
        return st;
    const char *a = bert_model_label(m, 0), *b = bert_model_label(m, 1);
    if (bert_model_get_info(m).n_labels != 2 || !ieq(a, "negative") || !ieq(b, "positive"))
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_LABEL,
                                "head \"sentiment\" needs the labels negative/positive; this model has %zu labels "
                                "starting with \"%s\" (use the \"classify\" head)",
                                bert_model_get_info(m).n_labels, a ? a : "");
    return BERT_OK;
}

static bert_status run_classify(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts,
                                bert_result *r)
{
    (void)texts;
    const bert_model_info in = bert_model_get_info(h->m);
    const size_t rows = bert_batch_get(b).n_rows, nl = in.n_labels;
    const float *logits = bert_ctx_logits(ctx);
    if (!logits)
        return bert__result_fail(r, BERT_E_INTERNAL, "classify: the model produced no logits");
    if (bert__result_reset(r, rows, nl) != BERT_OK)
        return bert__result_fail(r, BERT_E_NOMEM, "classify: allocating results for %zu rows", rows);
    for (size_t i = 0; i < rows; i++) {
        const float *l = logits + i * nl;
        float *s = r->scores + i * nl;
        size_t best = 0;
        for (size_t k = 1; k < nl; k++)
            if (l[k] > l[best])
                best = k;
        if (in.problem == BERT_PROBLEM_REGRESSION) {
            memcpy(s, l, nl * sizeof *s);
        } else if (in.problem == BERT_PROBLEM_MULTI_LABEL) {
            for (size_t k = 0; k < nl; k++)
                s[k] = (float)(1.0 / (1.0 + exp(-(double)l[k])));
        } else {
            double sum = 0;
            for (size_t k = 0; k < nl; k++)
                sum += exp((double)l[k] - l[best]);
            for (size_t k = 0; k < nl; k++)
                s[k] = (float)(exp((double)l[k] - l[best]) / sum);
        }
        r->labels[i] = in.problem == BERT_PROBLEM_REGRESSION ? 0 : (int32_t)best;
    }
    return BERT_OK;
}

const bert__head_ops bert__head_classify = {"classify", BERT_TASK_CLASSIFY, check_classify, run_classify, 1, 0};
const bert__head_ops bert__head_sentiment = {"sentiment", BERT_TASK_CLASSIFY, check_sentiment, run_classify, 1, 0};
