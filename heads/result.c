/* bert_result: what a head produced for one batch, kept until the next run on the same result. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "head.h"

bert_status bert_result_new(bert_result **out, char *errbuf, size_t errbuf_size)
{
    if (!out)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_result_new: out is NULL");
    *out = bert__calloc(1, sizeof **out);
    if (!*out)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "bert_result_new: allocating the result");
    return BERT_OK;
}

void bert_result_free(bert_result *r)
{
    if (!r)
        return;
    bert__free(r->scores);
    bert__free(r->labels);
    bert__free(r->ents);
    bert__free(r->ent_start);
    bert__free(r->fills);
    bert__free(r->fill_start);
    bert__free(r->strings);
    bert__free(r);
}

const char *bert_result_errmsg(const bert_result *r)
{
    return r ? r->errmsg : "bert_result_errmsg: NULL result";
}

bert_status bert__result_fail(bert_result *r, bert_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
    r->n_rows = 0;
    return st;
}

bert_status bert__result_reset(bert_result *r, size_t n_rows, size_t per_row)
{
    r->errmsg[0] = '\0';
    r->n_rows = 0;
    r->n_ents = r->n_fills = r->strings_len = 0;
    r->n_scores = per_row;
    if (per_row && n_rows > SIZE_MAX / per_row)
        return BERT_E_NOMEM;
    size_t c = r->labels_cap;
    if (bert__grow((void **)&r->scores, &r->scores_cap, n_rows * per_row + 1, sizeof *r->scores) ||
        bert__grow((void **)&r->labels, &c, n_rows + 1, sizeof *r->labels))
        return BERT_E_NOMEM;
    r->labels_cap = c;
    c = r->starts_cap;
    size_t c2 = c;
    if (bert__grow((void **)&r->ent_start, &c, n_rows + 1, sizeof *r->ent_start) ||
        bert__grow((void **)&r->fill_start, &c2, n_rows + 1, sizeof *r->fill_start))
        return BERT_E_NOMEM;
    r->starts_cap = c < c2 ? c : c2;
    memset(r->ent_start, 0, (n_rows + 1) * sizeof *r->ent_start);
    memset(r->fill_start, 0, (n_rows + 1) * sizeof *r->fill_start);
    r->n_rows = n_rows;
    return BERT_OK;
}

/* Strings are stored as offsets (in the pointer fields) until bert__result_finish. */
static bert_status store(bert_result *r, const char *s, size_t n, size_t *off)
{
    if (bert__grow((void **)&r->strings, &r->strings_cap, r->strings_len + n + 1, 1) != BERT_OK)
        return BERT_E_NOMEM;
    memcpy(r->strings + r->strings_len, s, n);
    r->strings[r->strings_len + n] = '\0';
    *off = r->strings_len;
    r->strings_len += n + 1;
    return BERT_OK;
}

bert_status bert__result_add_entity(bert_result *r, const char *label, float score, int32_t index, const char *word,
                                    size_t word_len, bert_span bytes, bert_span chars)
{
    size_t off;
    if (bert__grow((void **)&r->ents, &r->ents_cap, r->n_ents + 1, sizeof *r->ents) != BERT_OK ||
        store(r, word, word_len, &off) != BERT_OK)
        return BERT_E_NOMEM;
    bert_entity *e = &r->ents[r->n_ents++];
    e->label = label; /* lives in the model's id2label, or is a tag stored below */
    e->score = score;
    e->index = index;
    e->word = (const char *)(uintptr_t)off;
    e->bytes = bytes;
    e->chars = chars;
    return BERT_OK;
}

bert_status bert__result_add_fill(bert_result *r, size_t position, int32_t token_id, const char *token,
                                  size_t token_len, float score)
{
    size_t off;
    if (bert__grow((void **)&r->fills, &r->fills_cap, r->n_fills + 1, sizeof *r->fills) != BERT_OK ||
        store(r, token, token_len, &off) != BERT_OK)
        return BERT_E_NOMEM;
    bert_fill *f = &r->fills[r->n_fills++];
    f->position = position;
    f->token_id = token_id;
    f->token = (const char *)(uintptr_t)off; /* vocabulary entries are not NUL-terminated: copied */
    f->score = score;
    return BERT_OK;
}

void bert__result_mark_row(bert_result *r, size_t row)
{
    r->ent_start[row] = r->n_ents;
    r->fill_start[row] = r->n_fills;
}

void bert__result_finish(bert_result *r)
{
    for (size_t i = 0; i < r->n_ents; i++)
        r->ents[i].word = r->strings + (uintptr_t)r->ents[i].word;
    for (size_t i = 0; i < r->n_fills; i++)
        r->fills[i].token = r->strings + (uintptr_t)r->fills[i].token;
}

size_t bert_result_n_rows(const bert_result *r)
{
    return r ? r->n_rows : 0;
}

size_t bert_result_n_scores(const bert_result *r)
{
    return r ? r->n_scores : 0;
}

const float *bert_result_scores(const bert_result *r, size_t row)
{
    return r && row < r->n_rows && r->n_scores ? r->scores + row * r->n_scores : NULL;
}

int32_t bert_result_label(const bert_result *r, size_t row)
{
    return r && row < r->n_rows && r->n_scores ? r->labels[row] : -1;
}

size_t bert_result_dim(const bert_result *r)
{
    return bert_result_n_scores(r);
}

const float *bert_result_vector(const bert_result *r, size_t row)
{
    return bert_result_scores(r, row);
}

const bert_entity *bert_result_entities(const bert_result *r, size_t row, size_t *n)
{
    if (!r || row >= r->n_rows) {
        if (n)
            *n = 0;
        return NULL;
    }
    if (n)
        *n = r->ent_start[row + 1] - r->ent_start[row];
    return r->ents ? r->ents + r->ent_start[row] : NULL;
}

const bert_fill *bert_result_fills(const bert_result *r, size_t row, size_t *n)
{
    if (!r || row >= r->n_rows) {
        if (n)
            *n = 0;
        return NULL;
    }
    if (n)
        *n = r->fill_start[row + 1] - r->fill_start[row];
    return r->fills ? r->fills + r->fill_start[row] : NULL;
}
