/* Token classification (NER) with the entity aggregation of Hugging Face's token-classification
 * pipeline (transformers pipelines/token_classification.py): per-token softmax, pre-entities
 * without special tokens (subwords detected by the token being longer than the text it covers, as
 * HF does for "##" tokenizers), words aggregated by first/average/max, then B-/I- grouping, and
 * finally the "O" label dropped. */
#include <math.h>
#include <string.h>

#include <bert/generate.h>

#include "head.h"

typedef struct pre_entity {
    const float *scores; /* [n_labels] */
    const char *word;    /* the token, or the text it covers for [UNK] */
    size_t word_len;
    int32_t id;
    int32_t index;
    int is_subword;
    bert_span bytes, chars;
} pre_entity;

/* An entity before grouping (HF's dict with "entity", "score", "word", "start", "end"). */
typedef struct entity {
    size_t label;
    float score;
    int32_t index;
    size_t first, last; /* range of pre-entities whose words make up this entity's word */
    bert_span bytes, chars;
} entity;

typedef struct scratch {
    pre_entity *pre;
    entity *ents;
    float *scores;
    const char **words;
    size_t *lens;
    char *buf;
    size_t buf_cap;
} scratch;

static bert_status check_ner(const bert_model *m, const bert_head_params *p, char *errbuf, size_t errbuf_size)
{
    (void)p;
    bert_model_info in = bert_model_get_info(m);
    if (in.arch != BERT_ARCH_TOKEN_CLASSIFICATION)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "head \"ner\" needs a BertForTokenClassification checkpoint; this one is %s",
                                in.arch_name);
    if (in.problem == BERT_PROBLEM_MULTI_LABEL)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "head \"ner\" needs entity labels; %s gives one sigmoid per token (%s: replaced-token "
                                "detection), read by bert_ctx_logits",
                                in.arch_name, bert_model_label(m, 0));
    if (!bert_model_tokenizer(m))
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED, "head \"ner\" needs the model's vocab.txt");
    return BERT_OK;
}

static size_t cp_len(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

static size_t argmax(const float *s, size_t n)
{
    size_t b = 0;
    for (size_t k = 1; k < n; k++)
        if (s[k] > s[b])
            b = k;
    return b;
}

/* HF's get_tag: "B-X" -> (B, X), "I-X" -> (I, X), anything else -> (I, itself). */
static const char *tag_of(const char *label, int *is_b)
{
    *is_b = label[0] == 'B' && label[1] == '-';
    if ((label[0] == 'B' || label[0] == 'I') && label[1] == '-')
        return label + 2;
    return label;
}

/* The group name: the label after its first '-' (HF: split("-", 1)[-1]). */
static const char *group_of(const char *label)
{
    const char *d = strchr(label, '-');
    return d ? d + 1 : label;
}

/* Decodes the words of pre-entities [first, last] like tokenizer.convert_tokens_to_string: the
 * WordPiece join, or the tokenizer.json decoder over the tokens' ids. */
static bert_status join_words(const bert_tokenizer *tok, scratch *s, size_t first, size_t last, size_t *len)
{
    if (!bert__tokenizer_word_aware(tok)) {
        int32_t ids[256];
        size_t n = 0;
        for (size_t i = first; i <= last && n < sizeof ids / sizeof ids[0]; i++)
            ids[n++] = s->pre[i].id;
        size_t need = 0;
        bert_status st = bert_tokenizer_decode(tok, ids, n, 0, NULL, 0, &need);
        if (st != BERT_OK && st != BERT_E_BUFFER_TOO_SMALL)
            return st;
        if (bert__grow((void **)&s->buf, &s->buf_cap, need + 1, 1) != BERT_OK)
            return BERT_E_NOMEM;
        st = bert_tokenizer_decode(tok, ids, n, 0, s->buf, s->buf_cap, len);
        return st;
    }
    size_t need = 1;
    for (size_t i = first; i <= last; i++) {
        s->words[i - first] = s->pre[i].word;
        s->lens[i - first] = s->pre[i].word_len;
        need += s->pre[i].word_len + 1;
    }
    if (bert__grow((void **)&s->buf, &s->buf_cap, need, 1) != BERT_OK)
        return BERT_E_NOMEM;
    *len = bert__wordpiece_join(s->words, s->lens, last - first + 1, s->buf, s->buf_cap);
    return BERT_OK;
}

static bert_status emit(const bert_head *h, bert_result *r, scratch *s, const char *label, float score, int32_t index,
                        size_t first, size_t last, bert_span bytes, bert_span chars)
{
    size_t len;
    if (join_words(bert_model_tokenizer(h->m), s, first, last, &len) != BERT_OK)
        return BERT_E_NOMEM;
    return bert__result_add_entity(r, label, score, index, s->buf, len, bytes, chars);
}

/* HF's aggregate_word over pre-entities [a, b] for FIRST / MAX / AVERAGE. */
static void aggregate_word(const scratch *s, size_t a, size_t b, bert_aggregation agg, size_t nl, float *avg,
                           entity *out)
{
    if (agg == BERT_AGG_FIRST) {
        out->label = argmax(s->pre[a].scores, nl);
        out->score = s->pre[a].scores[out->label];
    } else if (agg == BERT_AGG_MAX) {
        size_t best = a;
        float best_v = s->pre[a].scores[argmax(s->pre[a].scores, nl)];
        for (size_t i = a + 1; i <= b; i++) {
            float v = s->pre[i].scores[argmax(s->pre[i].scores, nl)];
            if (v > best_v) {
                best = i;
                best_v = v;
            }
        }
        out->label = argmax(s->pre[best].scores, nl);
        out->score = s->pre[best].scores[out->label];
    } else {
        for (size_t k = 0; k < nl; k++) {
            double sum = 0;
            for (size_t i = a; i <= b; i++)
                sum += s->pre[i].scores[k];
            avg[k] = (float)(sum / (double)(b - a + 1));
        }
        out->label = argmax(avg, nl);
        out->score = avg[out->label];
    }
    out->index = -1;
    out->first = a;
    out->last = b;
    out->bytes.begin = s->pre[a].bytes.begin;
    out->bytes.end = s->pre[b].bytes.end;
    out->chars.begin = s->pre[a].chars.begin;
    out->chars.end = s->pre[b].chars.end;
}

/* HF's group_entities + group_sub_entities, then the "O" filter. */
static bert_status group(const bert_head *h, bert_result *r, scratch *s, const entity *e, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && i > start) {
            int bi, last_bi;
            const char *tag = tag_of(bert_model_label(h->m, e[i].label), &bi);
            const char *last = tag_of(bert_model_label(h->m, e[i - 1].label), &last_bi);
            if (!strcmp(tag, last) && !bi)
                continue; /* same entity continues */
        }
        if (i == start)
            continue;
        /* close the group [start, i) */
        const char *name = group_of(bert_model_label(h->m, e[start].label));
        if (strcmp(name, "O") != 0) {
            double sum = 0;
            for (size_t k = start; k < i; k++)
                sum += e[k].score;
            bert_span bytes = {e[start].bytes.begin, e[i - 1].bytes.end};
            bert_span chars = {e[start].chars.begin, e[i - 1].chars.end};
            if (emit(h, r, s, name, (float)(sum / (double)(i - start)), -1, e[start].first, e[i - 1].last, bytes,
                     chars) != BERT_OK)
                return BERT_E_NOMEM;
        }
        start = i;
    }
    return BERT_OK;
}

static bert_status run_row(const bert_head *h, bert_ctx *ctx, const bert_batch_view *v, size_t row, const bert_text *t,
                           bert_result *r, scratch *s)
{
    const bert_tokenizer *tok = bert_model_tokenizer(h->m);
    const size_t nl = bert_model_get_info(h->m).n_labels, T = v->seq_len;
    const float *logits = bert_ctx_logits(ctx) + row * T * nl;
    const int32_t unk = bert_tokenizer_special_id(tok, BERT_SPECIAL_UNK);
    const int word_aware = bert__tokenizer_word_aware(tok);
    size_t n = 0;
    for (size_t i = 0; i < v->lengths[row]; i++) {
        const size_t at = row * T + i;
        if (v->special_tokens_mask[at])
            continue;
        /* softmax in float, as the pipeline's numpy code does */
        float *sc = s->scores + n * nl;
        const float *l = logits + i * nl;
        float mx = l[argmax(l, nl)], sum = 0;
        for (size_t k = 0; k < nl; k++) {
            sc[k] = expf(l[k] - mx);
            sum += sc[k];
        }
        for (size_t k = 0; k < nl; k++)
            sc[k] /= sum;
        pre_entity *p = &s->pre[n++];
        const char *text = v->sequence_ids[at] == 1 ? t->b : t->a;
        const size_t len = v->sequence_ids[at] == 1 ? t->b_len : t->a_len;
        p->scores = sc;
        p->index = (int32_t)i;
        p->bytes = v->offsets[at];
        if (bert_spans_to_codepoints(text, len, &p->bytes, 1, &p->chars) != BERT_OK)
            return bert__result_fail(r, BERT_E_INVALID_ARG, "ner: row %zu: offsets do not match the text", row);
        p->word = bert_tokenizer_id_to_token(tok, v->ids[at], &p->word_len);
        p->id = v->ids[at];
        const size_t ref_len = p->chars.end - p->chars.begin;
        if (word_aware)
            p->is_subword = cp_len(p->word, p->word_len) != ref_len;
        else /* HF's fallback: a token not after a space and not starting with one continues a word */
            p->is_subword = p->bytes.begin > 0 && text[p->bytes.begin - 1] != ' ' &&
                            (p->bytes.begin >= len || text[p->bytes.begin] != ' ');
        if (v->ids[at] == unk) {
            p->word = text + p->bytes.begin;
            p->word_len = p->bytes.end - p->bytes.begin;
            p->is_subword = 0;
        }
    }
    size_t ne = 0;
    if (h->p.aggregation == BERT_AGG_NONE || h->p.aggregation == BERT_AGG_SIMPLE) {
        for (size_t i = 0; i < n; i++) {
            entity *e = &s->ents[ne++];
            e->label = argmax(s->pre[i].scores, nl);
            e->score = s->pre[i].scores[e->label];
            e->index = s->pre[i].index;
            e->first = e->last = i;
            e->bytes = s->pre[i].bytes;
            e->chars = s->pre[i].chars;
        }
        if (h->p.aggregation == BERT_AGG_NONE) {
            for (size_t i = 0; i < ne; i++) {
                const char *label = bert_model_label(h->m, s->ents[i].label);
                if (!strcmp(label, "O"))
                    continue;
                if (emit(h, r, s, label, s->ents[i].score, s->ents[i].index, i, i, s->ents[i].bytes, s->ents[i].chars))
                    return bert__result_fail(r, BERT_E_NOMEM, "ner: allocating entities");
            }
            return BERT_OK;
        }
    } else {
        float avg[1024];
        if (nl > sizeof avg / sizeof avg[0])
            return bert__result_fail(r, BERT_E_UNSUPPORTED, "ner: %zu labels is over 1024", nl);
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && s->pre[j].is_subword)
                j++;
            aggregate_word(s, i, j - 1, h->p.aggregation, nl, avg, &s->ents[ne++]);
            i = j;
        }
    }
    if (group(h, r, s, s->ents, ne) != BERT_OK)
        return bert__result_fail(r, BERT_E_NOMEM, "ner: allocating entities");
    return BERT_OK;
}

static bert_status run_ner(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts,
                           bert_result *r)
{
    const bert_batch_view v = bert_batch_get(b);
    const size_t nl = bert_model_get_info(h->m).n_labels;
    if (!texts)
        return bert__result_fail(r, BERT_E_INVALID_ARG, "ner: the texts the batch was encoded from are needed");
    if (!bert_ctx_logits(ctx))
        return bert__result_fail(r, BERT_E_INTERNAL, "ner: the model produced no logits");
    scratch s;
    memset(&s, 0, sizeof s);
    s.pre = bert__calloc(v.seq_len, sizeof *s.pre);
    s.ents = bert__calloc(v.seq_len, sizeof *s.ents);
    s.scores = bert__calloc(v.seq_len, nl * sizeof *s.scores);
    s.words = bert__calloc(v.seq_len, sizeof *s.words);
    s.lens = bert__calloc(v.seq_len, sizeof *s.lens);
    bert_status st = BERT_OK;
    if (!s.pre || !s.ents || !s.scores || !s.words || !s.lens || bert__result_reset(r, v.n_rows, 0) != BERT_OK) {
        st = bert__result_fail(r, BERT_E_NOMEM, "ner: allocating scratch for %zu tokens", v.seq_len);
        goto done;
    }
    for (size_t i = 0; i < v.n_rows && st == BERT_OK; i++) {
        bert__result_mark_row(r, i);
        st = run_row(h, ctx, &v, i, &texts[v.sample_index[i]], r, &s);
    }
    if (st == BERT_OK) {
        bert__result_mark_row(r, v.n_rows);
        bert__result_finish(r);
    }
done:
    bert__free(s.pre);
    bert__free(s.ents);
    bert__free(s.scores);
    bert__free(s.words);
    bert__free(s.lens);
    bert__free(s.buf);
    return st;
}

const bert__head_ops bert__head_ner = {"ner", BERT_TASK_NER, check_ner, run_ner, 0, 0};
