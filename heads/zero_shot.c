/* Zero-shot classification with an NLI model, as Hugging Face's zero-shot-classification pipeline:
 * each text paired with one hypothesis per candidate label (the template with the label in its
 * "{}"), one forward pass per pair, then the entailment logits softmaxed over the labels, or with
 * multi_label (or a single label) each label's entailment against contradiction. The entailment
 * label is the first whose name starts with "entail" (any case); contradiction is the last label
 * when entailment is the first, else the first (a position, as the pipeline takes it). */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "../encoder/encoder.h"
#include "head.h"

static const char *const default_template = "This example is {}.";

static int entailment_id(const bert_model *m)
{
    const size_t nl = bert_model_get_info(m).n_labels;
    for (size_t i = 0; i < nl; i++) {
        const char *s = bert_model_label(m, i), *e = "entail";
        size_t k = 0;
        while (e[k] && s[k] && tolower((unsigned char)s[k]) == e[k])
            k++;
        if (!e[k])
            return (int)i;
    }
    return -1;
}

/* The hypothesis: template with its "{}" replaced by label and "{{" / "}}" unescaped, as Python's
 * str.format; -1 when the template has no "{}" or a brace Python would refuse. */
static long format_hypothesis(const char *tpl, const char *label, char *out, size_t cap)
{
    size_t k = 0;
    int placed = 0;
#define PUT(c)            \
    do {                  \
        if (k + 1 < cap)  \
            out[k] = (c); \
        k++;              \
    } while (0)
    for (const char *p = tpl; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            PUT(*p);
            p++;
        } else if (p[0] == '{' && p[1] == '}') {
            for (const char *l = label; *l; l++)
                PUT(*l);
            placed = 1;
            p++;
        } else if (*p == '{' || *p == '}') {
            return -1;
        } else {
            PUT(*p);
        }
    }
#undef PUT
    if (cap)
        out[k < cap ? k : cap - 1] = '\0';
    return placed ? (long)k : -1;
}

static bert_status check_zero_shot(const bert_model *m, const bert_head_params *p, char *errbuf, size_t errbuf_size)
{
    const bert_model_info in = bert_model_get_info(m);
    if (in.arch != BERT_ARCH_SEQUENCE_CLASSIFICATION)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "head \"zero-shot\" needs an NLI model (a sequence classifier); this one is %s",
                                in.arch_name);
    if (entailment_id(m) < 0)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_LABEL,
                                "head \"zero-shot\" needs an NLI model with an entailment label (a label2id name "
                                "starting with \"entail\"); this one's labels start with \"%s\"",
                                bert_model_label(m, 0) ? bert_model_label(m, 0) : "");
    if (!bert_model_tokenizer(m))
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "head \"zero-shot\" needs the model's tokenizer to pair texts with hypotheses");
    if (p->n_labels == 0 || !p->labels)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG,
                                "head \"zero-shot\" needs at least one candidate label");
    for (size_t i = 0; i < p->n_labels; i++) {
        if (!p->labels[i] || !p->labels[i][0])
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG,
                                    "head \"zero-shot\": candidate label %zu is empty", i);
        char tmp[8];
        if (format_hypothesis(p->hypothesis_template ? p->hypothesis_template : default_template, p->labels[i], tmp,
                              sizeof tmp) < 0)
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG,
                                    "head \"zero-shot\": the hypothesis template \"%s\" has no \"{}\" for the label "
                                    "(or a lone brace; write {{ and }} for braces)",
                                    p->hypothesis_template);
    }
    return BERT_OK;
}

static bert_status run_zero_shot(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts,
                                 bert_result *r)
{
    const bert_model *m = h->m;
    const bert_batch_view v = bert_batch_get(b);
    const size_t L = h->p.n_labels, nl = bert_model_get_info(m).n_labels;
    const int ent = entailment_id(m), con = ent == 0 ? (int)nl - 1 : 0;
    const char *tpl = h->p.hypothesis_template ? h->p.hypothesis_template : default_template;
    if (!texts)
        return bert__result_fail(r, BERT_E_INVALID_ARG, "zero-shot: the texts are needed to pair with hypotheses");
    size_t n = 0; /* texts: one past the largest sample index */
    for (size_t i = 0; i < v.n_rows; i++)
        n = v.sample_index[i] + 1 > n ? v.sample_index[i] + 1 : n;
    bert_batch *pairs = NULL;
    bert_text *in = bert__calloc(L, sizeof *in);
    char **hyp = bert__calloc(L, sizeof *hyp);
    float *ent_logit = bert__calloc(L, 2 * sizeof(float));
    char err[256];
    bert_status st = BERT_OK;
    if (!in || !hyp || !ent_logit || bert_batch_new(&pairs, err, sizeof err) != BERT_OK ||
        bert__result_reset(r, n, L) != BERT_OK) {
        st = bert__result_fail(r, BERT_E_NOMEM, "zero-shot: allocating %zu hypotheses", L);
        goto done;
    }
    for (size_t k = 0; k < L; k++) {
        const long len = format_hypothesis(tpl, h->p.labels[k], NULL, 0);
        hyp[k] = bert__malloc((size_t)len + 1);
        if (!hyp[k]) {
            st = bert__result_fail(r, BERT_E_NOMEM, "zero-shot: allocating hypotheses");
            goto done;
        }
        format_hypothesis(tpl, h->p.labels[k], hyp[k], (size_t)len + 1);
    }
    bert_encode_params ep = bert_encode_default_params();
    ep.truncation = BERT_TRUNCATION_ONLY_FIRST; /* the pipeline's: the hypothesis stays whole */
    ep.max_length = bert_model_get_info(m).max_positions - (size_t)m->cfg.pos_offset;
    bert_run_params rp = bert_run_default_params();
    rp.cls_only = 1;
    for (size_t t = 0; t < n; t++) {
        for (size_t k = 0; k < L; k++)
            in[k] = (bert_text){texts[t].a, texts[t].a_len, hyp[k], strlen(hyp[k])};
        if ((st = bert_batch_encode(pairs, bert_model_tokenizer(m), in, L, &ep)) != BERT_OK) {
            bert__result_fail(r, st, "zero-shot: text %zu: %s", t, bert_batch_errmsg(pairs));
            goto done;
        }
        if ((st = bert_ctx_run_batch(ctx, pairs, &rp)) != BERT_OK) {
            bert__result_fail(r, st, "zero-shot: text %zu: %s", t, bert_ctx_errmsg(ctx));
            goto done;
        }
        const float *lg = bert_ctx_logits(ctx);
        float *s = r->scores + t * L;
        if (L > 1 && !h->p.multi_label) {
            double mx = lg[ent], sum = 0;
            for (size_t k = 1; k < L; k++)
                mx = lg[k * nl + (size_t)ent] > mx ? lg[k * nl + (size_t)ent] : mx;
            for (size_t k = 0; k < L; k++)
                sum += exp((double)lg[k * nl + (size_t)ent] - mx);
            for (size_t k = 0; k < L; k++)
                s[k] = (float)(exp((double)lg[k * nl + (size_t)ent] - mx) / sum);
        } else {
            for (size_t k = 0; k < L; k++) {
                const double e = lg[k * nl + (size_t)ent], c = lg[k * nl + (size_t)con], mx = e > c ? e : c;
                s[k] = (float)(exp(e - mx) / (exp(e - mx) + exp(c - mx)));
            }
        }
        size_t best = 0;
        for (size_t k = 1; k < L; k++)
            best = s[k] >= s[best] ? k : best; /* ties: the later label, as bert_rank */
        r->labels[t] = (int32_t)best;
    }
done:
    for (size_t k = 0; hyp && k < L; k++)
        bert__free(hyp[k]);
    bert__free(hyp);
    bert__free(in);
    bert__free(ent_logit);
    bert_batch_free(pairs);
    return st;
}

const bert__head_ops bert__head_zero_shot = {"zero-shot", BERT_TASK_ZERO_SHOT, check_zero_shot, run_zero_shot, 1, 1};
