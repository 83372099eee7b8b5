/* SuperGLUE JSONL files, turned into the inputs BERT baselines use: sentence pairs for BoolQ, CB,
 * RTE, WiC (the word before the first sentence), AX-b and AX-g; WSC as one text with the two spans
 * marked (*noun* and #pronoun#); COPA as one pair per choice; MultiRC as one pair per answer;
 * ReCoRD as one pair per candidate entity with the query's @placeholder filled in. An example's id
 * is its "idx" as JSON text, so the submission repeats it exactly. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dataset.h"

typedef struct reader {
    const bert__task *t;
    const char *path;
    size_t line;
    int test;
    char *err;
    size_t err_size;
} reader;

static bert_status bad(reader *r, bert_status st, const char *fmt, ...) BERT__PRINTF(3, 4);
static bert_status bad(reader *r, bert_status st, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bert__errbuf_set(r->err, r->err_size, st, "%s:%zu: %s", r->path, r->line, msg);
}

static const char *str(json_t *o, const char *k, size_t *n)
{
    json_t *v = json_object_get(o, k);
    *n = 0;
    if (!json_is_string(v))
        return NULL;
    *n = json_string_length(v);
    return json_string_value(v);
}

/* The gold label as the task's label index: JSON booleans, 0/1 integers or label strings. */
static bert_status gold(reader *r, json_t *o, int32_t *out)
{
    json_t *v = json_object_get(o, "label");
    *out = -1;
    if (!v) {
        if (r->test)
            return BERT_OK;
        return bad(r, BERT_E_FORMAT, "field \"%s\" is missing", "label");
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
    } else if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        *out = i >= 0 && (size_t)i < r->t->n_labels ? (int32_t)i : -1;
    } else if (json_is_string(v)) {
        *out = bert__task_label(r->t, json_string_value(v), json_string_length(v));
    }
    if (*out < 0) {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        bert_status st = bad(r, BERT_E_FORMAT, "unknown label %s", s ? s : "?");
        free(s);
        return st;
    }
    return BERT_OK;
}

static bert__example *example(reader *r, bert__dataset *ds, json_t *o)
{
    json_t *idx = json_object_get(o, "idx");
    char *s = idx ? json_dumps(idx, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    char fallback[32];
    snprintf(fallback, sizeof fallback, "%zu", ds->n_ex);
    bert__example *e = bert__ds_add_example(ds, s ? s : fallback, strlen(s ? s : fallback));
    free(s);
    (void)r;
    return e;
}

/* text with the words of span 1 wrapped in '*' and those of span 2 in '#' (word = space-separated). */
static char *mark_spans(const char *text, size_t n, long i1, size_t w1, long i2, size_t w2)
{
    char *out = bert__malloc(n + 8);
    if (!out)
        return NULL;
    size_t k = 0;
    long word = 0;
    int in_word = 0;
    for (size_t i = 0; i <= n; i++) {
        const int sp = i == n || text[i] == ' ';
        if (!sp && !in_word) { /* a word starts */
            if (word == i1 || word == i2)
                out[k++] = word == i1 ? '*' : '#';
            in_word = 1;
        }
        if (sp && in_word) { /* a word ends */
            if (word == i1 + (long)w1 - 1 || word == i2 + (long)w2 - 1)
                out[k++] = word == i1 + (long)w1 - 1 ? '*' : '#';
            in_word = 0;
            word++;
        }
        if (i < n)
            out[k++] = text[i];
    }
    out[k] = '\0';
    return out;
}

static size_t words_in(const char *s)
{
    size_t n = 0;
    for (int in = 0; *s; s++) {
        if (*s != ' ' && !in)
            n++;
        in = *s != ' ';
    }
    return n;
}

static bert_status pair(reader *r, bert__dataset *ds, json_t *o, const char *ka, const char *kb)
{
    size_t na, nb;
    const char *a = str(o, ka, &na), *b = str(o, kb, &nb);
    if (!a || !b)
        return bad(r, BERT_E_FORMAT, "field \"%s\" is missing or not a string", a ? kb : ka);
    bert__example *e = example(r, ds, o);
    if (!e || !bert__ds_add_instance(ds, a, na, b, nb))
        return bad(r, BERT_E_NOMEM, "%s", "out of memory");
    return gold(r, o, &e->gold);
}

static bert_status record(reader *r, bert__dataset *ds, json_t *o)
{
    const char *name = r->t->name;
    bert_status st;
    if (!strcmp(name, "BoolQ"))
        return pair(r, ds, o, "question", "passage");
    if (!strcmp(name, "CB") || !strcmp(name, "RTE-SG") || !strcmp(name, "AX-g")) {
        if ((st = pair(r, ds, o, "premise", "hypothesis")) != BERT_OK || strcmp(name, "AX-g"))
            return st;
        json_t *pid = json_object_get(o, "pair_id");
        char *s = pid ? json_dumps(pid, JSON_ENCODE_ANY) : NULL;
        ds->ex[ds->n_ex - 1].group = s ? bert__strndup(s, strlen(s)) : NULL;
        free(s);
        if (!ds->ex[ds->n_ex - 1].group)
            return bad(r, BERT_E_FORMAT, "field \"%s\" is missing", "pair_id");
        return BERT_OK;
    }
    if (!strcmp(name, "AX-b"))
        return pair(r, ds, o, "sentence1", "sentence2");
    if (!strcmp(name, "WiC")) {
        size_t nw, n1;
        const char *w = str(o, "word", &nw), *s1 = str(o, "sentence1", &n1);
        if (!w || !s1)
            return bad(r, BERT_E_FORMAT, "%s", "fields \"word\" and \"sentence1\" must be strings");
        char *a = bert__malloc(nw + n1 + 3);
        if (!a)
            return bad(r, BERT_E_NOMEM, "%s", "out of memory");
        snprintf(a, nw + n1 + 3, "%.*s: %.*s", (int)nw, w, (int)n1, s1);
        json_t *tmp = json_object();
        json_object_set_new(tmp, "a", json_string(a));
        json_object_set(tmp, "sentence2", json_object_get(o, "sentence2"));
        json_object_set(tmp, "idx", json_object_get(o, "idx"));
        if (json_object_get(o, "label"))
            json_object_set(tmp, "label", json_object_get(o, "label"));
        bert__free(a);
        st = pair(r, ds, tmp, "a", "sentence2");
        json_decref(tmp);
        return st;
    }
    if (!strcmp(name, "WSC")) {
        size_t n, n1, n2;
        const char *text = str(o, "text", &n);
        json_t *tg = json_object_get(o, "target");
        const char *s1 = str(tg, "span1_text", &n1), *s2 = str(tg, "span2_text", &n2);
        json_t *i1 = json_object_get(tg, "span1_index"), *i2 = json_object_get(tg, "span2_index");
        if (!text || !s1 || !s2 || !json_is_integer(i1) || !json_is_integer(i2))
            return bad(r, BERT_E_FORMAT, "%s", "needs \"text\" and a \"target\" with span texts and word indexes");
        char *b1 = bert__strndup(s1, n1), *b2 = bert__strndup(s2, n2);
        char *m = b1 && b2 ? mark_spans(text, n, (long)json_integer_value(i1), words_in(b1),
                                        (long)json_integer_value(i2), words_in(b2))
                           : NULL;
        bert__free(b1);
        bert__free(b2);
        bert__example *e = m ? example(r, ds, o) : NULL;
        if (!e || !bert__ds_add_instance(ds, m, strlen(m), NULL, 0)) {
            bert__free(m);
            return bad(r, BERT_E_NOMEM, "%s", "out of memory");
        }
        bert__free(m);
        return gold(r, o, &e->gold);
    }
    if (!strcmp(name, "COPA")) {
        size_t np, nq;
        const char *p = str(o, "premise", &np), *q = str(o, "question", &nq);
        if (!p || !q)
            return bad(r, BERT_E_FORMAT, "%s", "fields \"premise\" and \"question\" must be strings");
        const char *ask = !strcmp(q, "cause") ? "What was the cause of this?" : "What happened as a result?";
        char *a = bert__malloc(np + 40);
        bert__example *e = a ? example(r, ds, o) : NULL;
        if (!e) {
            bert__free(a);
            return bad(r, BERT_E_NOMEM, "%s", "out of memory");
        }
        snprintf(a, np + 40, "%.*s %s", (int)np, p, ask);
        for (int c = 1; c <= 2; c++) {
            char key[16];
            size_t nc;
            snprintf(key, sizeof key, "choice%d", c);
            const char *ch = str(o, key, &nc);
            if (!ch || !bert__ds_add_instance(ds, a, strlen(a), ch, nc)) {
                bert__free(a);
                return bad(r, BERT_E_FORMAT, "field \"%s\" is missing or not a string", key);
            }
        }
        bert__free(a);
        return gold(r, o, &e->gold);
    }
    if (!strcmp(name, "MultiRC")) {
        json_t *p = json_object_get(o, "passage");
        size_t np;
        const char *text = str(p, "text", &np);
        json_t *qs = json_object_get(p, "questions");
        if (!text || !json_is_array(qs))
            return bad(r, BERT_E_FORMAT, "%s", "needs \"passage\" with \"text\" and \"questions\"");
        if (!example(r, ds, o))
            return bad(r, BERT_E_NOMEM, "%s", "out of memory");
        for (size_t qi = 0; qi < json_array_size(qs); qi++) {
            json_t *q = json_array_get(qs, qi), *as = json_object_get(q, "answers");
            size_t nq;
            const char *qt = str(q, "question", &nq);
            if (!qt || !json_is_array(as))
                return bad(r, BERT_E_FORMAT, "%s", "a question needs \"question\" and \"answers\"");
            for (size_t ai = 0; ai < json_array_size(as); ai++) {
                json_t *an = json_array_get(as, ai);
                size_t na;
                const char *at = str(an, "text", &na);
                if (!at)
                    return bad(r, BERT_E_FORMAT, "%s", "an answer needs \"text\"");
                char *b = bert__malloc(nq + na + 2);
                if (!b)
                    return bad(r, BERT_E_NOMEM, "%s", "out of memory");
                snprintf(b, nq + na + 2, "%.*s %.*s", (int)nq, qt, (int)na, at);
                bert__instance *x = bert__ds_add_instance(ds, text, np, b, strlen(b));
                bert__free(b);
                if (!x)
                    return bad(r, BERT_E_NOMEM, "%s", "out of memory");
                x->q_idx = (long)json_integer_value(json_object_get(q, "idx"));
                x->a_idx = (long)json_integer_value(json_object_get(an, "idx"));
                bert_status gs = gold(r, an, &x->gold);
                if (gs != BERT_OK)
                    return gs;
            }
        }
        return BERT_OK;
    }
    /* ReCoRD: one example per query, candidates = the passage's entities */
    json_t *p = json_object_get(o, "passage"), *ents = json_object_get(p, "entities"), *qas = json_object_get(o, "qas");
    size_t np;
    const char *text = str(p, "text", &np);
    if (!text || !json_is_array(ents) || !json_is_array(qas))
        return bad(r, BERT_E_FORMAT, "%s", "needs \"passage\" with \"text\" and \"entities\", and \"qas\"");
    for (size_t qi = 0; qi < json_array_size(qas); qi++) {
        json_t *q = json_array_get(qas, qi);
        size_t nq;
        const char *query = str(q, "query", &nq);
        const char *ph = query ? strstr(query, "@placeholder") : NULL;
        if (!ph)
            return bad(r, BERT_E_FORMAT, "%s", "a query needs \"query\" with @placeholder");
        if (!example(r, ds, q))
            return bad(r, BERT_E_NOMEM, "%s", "out of memory");
        bert__example *e = &ds->ex[ds->n_ex - 1];
        json_t *answers = json_object_get(q, "answers");
        if (json_is_array(answers)) {
            size_t total = 1;
            for (size_t k = 0; k < json_array_size(answers); k++)
                total += json_string_length(json_object_get(json_array_get(answers, k), "text")) + 1;
            e->group = bert__calloc(total, 1);
            if (!e->group)
                return bad(r, BERT_E_NOMEM, "%s", "out of memory");
            for (size_t k = 0; k < json_array_size(answers); k++) {
                const char *at = json_string_value(json_object_get(json_array_get(answers, k), "text"));
                if (k)
                    strcat(e->group, "\x1f");
                strcat(e->group, at ? at : "");
            }
            e->gold = 0;
        } else if (!r->test) {
            return bad(r, BERT_E_FORMAT, "field \"%s\" is missing", "answers");
        }
        for (size_t k = 0; k < json_array_size(ents); k++) {
            json_t *en = json_array_get(ents, k);
            json_int_t s = json_integer_value(json_object_get(en, "start")),
                       t = json_integer_value(json_object_get(en, "end"));
            if (s < 0 || t < s || (size_t)t >= np)
                return bad(r, BERT_E_FORMAT, "%s", "an entity's start/end fall outside the passage");
            const char *cand = text + s;
            size_t nc = (size_t)(t - s + 1); /* ReCoRD's end is inclusive */
            int dup = 0;
            for (size_t j = e->first; j < ds->n_in && !dup; j++)
                dup = strlen(ds->in[j].candidate) == nc && !memcmp(ds->in[j].candidate, cand, nc);
            if (dup)
                continue;
            size_t fl = nq - strlen("@placeholder") + nc;
            char *filled = bert__malloc(fl + 1);
            if (!filled)
                return bad(r, BERT_E_NOMEM, "%s", "out of memory");
            size_t pre = (size_t)(ph - query);
            memcpy(filled, query, pre);
            memcpy(filled + pre, cand, nc);
            memcpy(filled + pre + nc, ph + 12, nq - pre - 12);
            filled[fl] = '\0';
            bert__instance *x = bert__ds_add_instance(ds, text, np, filled, fl);
            bert__free(filled);
            if (!x || !(x->candidate = bert__strndup(cand, nc)))
                return bad(r, BERT_E_NOMEM, "%s", "out of memory");
        }
    }
    return BERT_OK;
}

bert_status bert__superglue_parse(const bert__task *t, const char *data, size_t len, const char *path, int test,
                        bert__dataset *ds, char *err, size_t err_size)
{
    bert_status st = BERT_OK;
    reader r = {t, path, 0, test, err, err_size};
    size_t pos = 0;
    while (pos < len && st == BERT_OK) {
        char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len, n = end - pos;
        const char *line = data + pos;
        pos = end + 1;
        r.line++;
        if (n && line[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;
        json_error_t je;
        json_t *o = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
        if (!o || !json_is_object(o)) {
            st = bert__errbuf_set(err, err_size, BERT_E_FORMAT, "%s:%zu: invalid JSON at column %d: %s", path, r.line,
                                  o ? 1 : je.column, o ? "not an object" : je.text);
            json_decref(o);
            break;
        }
        st = record(&r, ds, o);
        json_decref(o);
    }
    return st;
}
