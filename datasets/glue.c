/* GLUE TSV files: tab-separated with no quoting (fields hold bare '"'), some with a UTF-8 BOM on the
 * header (MRPC), some with CRLF (diagnostic-full) or no final newline (CoLA dev, AX). Each data row
 * must have the task's columns, a known label or, for STS-B, a number; errors name file and line. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bert/tokenizer.h>

#include "dataset.h"

typedef struct field {
    const char *s;
    size_t n;
} field;

/* Splits line into at most max fields; returns the number of fields in the line. */
static size_t split(const char *line, size_t len, field *f, size_t max)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        if (k < max) {
            f[k].s = line + start;
            f[k].n = i - start;
        }
        k++;
        start = i + 1;
    }
    return k;
}

static int cmp_id(const void *a, const void *b)
{
    const unsigned long long x = ((const unsigned long long *)a)[0], y = ((const unsigned long long *)b)[0];
    return (x > y) - (x < y);
}

/* Each index once: a leaderboard file with a duplicate row is scored wrong or refused. */
static bert_status unique_ids(const bert__dataset *ds, const char *path, char *err, size_t err_size)
{
    unsigned long long *v = bert__malloc((ds->n_ex + 1) * 2 * sizeof *v);
    if (!v)
        return bert__errbuf_set(err, err_size, BERT_E_NOMEM, "%s: allocating the index check", path);
    for (size_t e = 0; e < ds->n_ex; e++) {
        v[2 * e] = strtoull(ds->ex[e].id, NULL, 10);
        v[2 * e + 1] = e;
    }
    qsort(v, ds->n_ex, 2 * sizeof *v, cmp_id);
    bert_status st = BERT_OK;
    for (size_t e = 1; e < ds->n_ex && st == BERT_OK; e++)
        if (v[2 * e] == v[2 * e - 2])
            st = bert__errbuf_set(err, err_size, BERT_E_FORMAT, "%s: index %llu appears twice (data rows %llu and %llu)",
                                  path, v[2 * e], (v[2 * e - 1] < v[2 * e + 1] ? v[2 * e - 1] : v[2 * e + 1]) + 1,
                                  (v[2 * e - 1] < v[2 * e + 1] ? v[2 * e + 1] : v[2 * e - 1]) + 1);
    bert__free(v);
    return st;
}

bert_status bert__glue_parse(const bert__task *t, const char *data, size_t len, const char *path, int test,
                        bert__dataset *ds, char *err, size_t err_size)
{
    bert_status st = BERT_OK;
    const bert__tsv *L = test ? &t->test_tsv : &t->dev_tsv;
    size_t pos = 0, lineno = 0, row = 0;
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        pos = 3; /* MRPC's header starts with a BOM */
    while (pos < len && st == BERT_OK) {
        char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len, n = end - pos;
        const char *line = data + pos;
        pos = end + 1;
        lineno++;
        if (n && line[n - 1] == '\r')
            n--;
        if (lineno == 1 && L->header)
            continue;
        if (n == 0)
            continue; /* a blank last line */
        size_t bad = 0;
        if (bert_utf8_check(line, n, &bad) != BERT_OK) {
            st = bert__errbuf_set(err, err_size, BERT_E_FORMAT, "%s:%zu: malformed UTF-8 at byte %zu of the line",
                                  path, lineno, bad);
            break;
        }
        field f[32];
        size_t nf = split(line, n, f, 32);
        if (nf < (size_t)L->ncols) {
            st = bert__errbuf_set(err, err_size, BERT_E_FORMAT, "%s:%zu: %zu columns, %s needs at least %d", path,
                                  lineno, nf, t->name, L->ncols);
            break;
        }
        if (L->idx >= 0 && (f[L->idx].n == 0 || f[L->idx].n > 18 || strspn(f[L->idx].s, "0123456789") < f[L->idx].n)) {
            /* the leaderboard file copies it: it must be what the leaderboard matches rows by */
            st = bert__errbuf_set(err, err_size, BERT_E_FORMAT, "%s:%zu: index '%.*s' is not a non-negative integer",
                                  path, lineno, (int)(f[L->idx].n > 32 ? 32 : f[L->idx].n), f[L->idx].s);
            break;
        }
        char rowid[32];
        int rl = snprintf(rowid, sizeof rowid, "%zu", row++);
        bert__example *e = L->idx >= 0 ? bert__ds_add_example(ds, f[L->idx].s, f[L->idx].n)
                                       : bert__ds_add_example(ds, rowid, (size_t)rl);
        if (!e || !bert__ds_add_instance(ds, f[L->a].s, f[L->a].n, L->b >= 0 ? f[L->b].s : NULL,
                                         L->b >= 0 ? f[L->b].n : 0)) {
            st = bert__errbuf_set(err, err_size, BERT_E_NOMEM, "%s:%zu: allocating the example", path, lineno);
            break;
        }
        if (L->label == -1)
            continue;
        const field *lf = L->label == -2 ? &f[(nf < 32 ? nf : 32) - 1] : &f[L->label];
        if (t->kind == BERT__K_REGRESS) {
            char buf[64];
            char *endp = NULL;
            if (lf->n == 0 || lf->n >= sizeof buf) {
                st = bert__errbuf_set(err, err_size, BERT_E_FORMAT, "%s:%zu: bad score '%.*s'", path, lineno,
                                      (int)(lf->n > 32 ? 32 : lf->n), lf->s);
                break;
            }
            memcpy(buf, lf->s, lf->n);
            buf[lf->n] = '\0';
            errno = 0;
            double v = strtod(buf, &endp);
            if (*endp || errno || !isfinite(v)) {
                st = bert__errbuf_set(err, err_size, BERT_E_FORMAT, "%s:%zu: bad score '%s' (not a number)", path,
                                      lineno, buf);
                break;
            }
            e->gold_value = v;
            e->gold = 0;
        } else {
            e->gold = bert__task_label(t, lf->s, lf->n);
            if (e->gold < 0) {
                char labels[256] = "";
                for (size_t k = 0; k < t->n_labels; k++)
                    snprintf(labels + strlen(labels), sizeof labels - strlen(labels), "%s%s", k ? ", " : "",
                             t->labels[k]);
                st = bert__errbuf_set(err, err_size, BERT_E_FORMAT, "%s:%zu: unknown label '%.*s' (%s labels: %s)",
                                      path, lineno, (int)(lf->n > 32 ? 32 : lf->n), lf->s, t->name, labels);
                break;
            }
        }
    }
    if (st == BERT_OK && L->idx >= 0)
        st = unique_ids(ds, path, err, err_size);
    return st;
}
