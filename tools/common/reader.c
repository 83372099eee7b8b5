#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Column c (1-based) of a TAB-separated line: GLUE-style files have no quoting. */
static int column(const char *line, size_t len, size_t c, const char **out, size_t *out_len)
{
    size_t start = 0;
    for (size_t k = 1; k < c; k++) {
        const char *tab = memchr(line + start, '\t', len - start);
        if (!tab)
            return -1;
        start = (size_t)(tab - line) + 1;
    }
    const char *tab = memchr(line + start, '\t', len - start);
    *out = line + start;
    *out_len = (tab ? (size_t)(tab - line) : len) - start;
    return 0;
}

static size_t n_columns(const char *line, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += line[i] == '\t';
    return n;
}

static int field(json_t *obj, const char *name, const char **out, size_t *out_len, char *err, size_t err_size)
{
    json_t *v = json_object_get(obj, name);
    if (!v) {
        snprintf(err, err_size, "field \"%s\" is missing", name);
        return -1;
    }
    if (json_is_string(v)) {
        *out = json_string_value(v);
        *out_len = json_string_length(v);
        return 0;
    }
    snprintf(err, err_size, "field \"%s\" must be a string", name);
    return -1;
}

int reader_parse(const reader_opts *o, const char *line, size_t len, reader_record *rec, char *err, size_t err_size)
{
    memset(rec, 0, sizeof *rec);
    if (len && line[len - 1] == '\r')
        len--;
    if (o->format == READER_TEXT) {
        rec->a = line;
        rec->a_len = len;
        return 0;
    }
    if (o->format == READER_TSV) {
        const size_t cols[3] = {o->text_col, o->pair_col, o->label_col};
        const char **dst[3] = {&rec->a, &rec->b, &rec->label};
        size_t *dst_len[3] = {&rec->a_len, &rec->b_len, &rec->label_len};
        for (int i = 0; i < 3; i++) {
            if (cols[i] == 0)
                continue;
            if (column(line, len, cols[i], dst[i], dst_len[i]) != 0) {
                snprintf(err, err_size, "column %zu is missing (the line has %zu)", cols[i], n_columns(line, len));
                return -1;
            }
        }
        return 0;
    }
    json_error_t je;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, err_size, "invalid JSON at column %d: %s", je.column, je.text);
        return -1;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, err_size, "the line is not a JSON object");
        return -1;
    }
    rec->owned = root;
    if (field(root, o->text_field ? o->text_field : "text", &rec->a, &rec->a_len, err, err_size) != 0)
        goto fail;
    if (o->pair_field && field(root, o->pair_field, &rec->b, &rec->b_len, err, err_size) != 0)
        goto fail;
    if (o->label_field) {
        json_t *v = json_object_get(root, o->label_field);
        if (!v) {
            snprintf(err, err_size, "field \"%s\" is missing", o->label_field);
            goto fail;
        }
        if (json_is_integer(v)) {
            /* numeric labels are compared by id: keep them as their decimal text */
            char *s = json_dumps(v, JSON_ENCODE_ANY);
            if (!s)
                goto fail;
            json_object_set_new(root, "\x01label", json_string(s));
            free(s);
            v = json_object_get(root, "\x01label");
        }
        if (!json_is_string(v)) {
            snprintf(err, err_size, "field \"%s\" must be a string or an integer", o->label_field);
            goto fail;
        }
        rec->label = json_string_value(v);
        rec->label_len = json_string_length(v);
    }
    return 0;
fail:
    json_decref(root);
    rec->owned = NULL;
    return -1;
}

void reader_record_free(reader_record *rec)
{
    if (rec->owned)
        json_decref((json_t *)rec->owned);
    memset(rec, 0, sizeof *rec);
}

static long hex4(const char *p, size_t left)
{
    if (left < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        const char c = p[i];
        const int d = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

size_t reader_lone_surrogates(char *line, size_t len, int fix)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (line[i] != '\\')
            continue;
        if (line[i + 1] != 'u') {
            i++; /* any other escape, \\ included: its second character is not a backslash to read */
            continue;
        }
        const long v = hex4(line + i + 2, len - i - 2);
        if (v < 0xD800 || v > 0xDFFF) {
            i += 1;
            continue;
        }
        const long w = v <= 0xDBFF && i + 7 < len && line[i + 6] == '\\' && line[i + 7] == 'u'
                           ? hex4(line + i + 8, len - i - 8)
                           : -1;
        if (w >= 0xDC00 && w <= 0xDFFF) { /* a proper pair */
            i += 11;
            continue;
        }
        n++;
        if (fix)
            memcpy(line + i + 2, "fffd", 4);
        i += 5;
    }
    return n;
}

int reader_parse_group(const char *line, size_t len, const char *qfield, const char *pfield, reader_group *g, char *err,
                       size_t err_size)
{
    memset(g, 0, sizeof *g);
    if (len && line[len - 1] == '\r')
        len--;
    json_error_t je;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, err_size, "invalid JSON at column %d: %s", je.column, je.text);
        return -1;
    }
    g->owned = root;
    if (!json_is_object(root)) {
        snprintf(err, err_size, "a line must be a JSON object {\"%s\": ..., \"%s\": [...]}", qfield, pfield);
        goto fail;
    }
    if (field(root, qfield, &g->query, &g->query_len, err, err_size) != 0)
        goto fail;
    json_t *ps = json_object_get(root, pfield);
    if (!json_is_array(ps)) {
        snprintf(err, err_size, "field \"%s\" must be a list of strings", pfield);
        goto fail;
    }
    g->n = json_array_size(ps);
    if (g->n == 0) {
        snprintf(err, err_size, "field \"%s\" is an empty list: nothing to rank", pfield);
        goto fail;
    }
    g->passages = calloc(g->n, sizeof *g->passages);
    g->passage_lens = calloc(g->n, sizeof *g->passage_lens);
    if (!g->passages || !g->passage_lens) {
        snprintf(err, err_size, "out of memory for %zu passages", g->n);
        goto fail;
    }
    for (size_t i = 0; i < g->n; i++) {
        json_t *v = json_array_get(ps, i);
        if (!json_is_string(v)) {
            snprintf(err, err_size, "field \"%s\"[%zu] must be a string", pfield, i);
            goto fail;
        }
        g->passages[i] = json_string_value(v);
        g->passage_lens[i] = json_string_length(v);
    }
    return 0;
fail:
    reader_group_free(g);
    return -1;
}

void reader_group_free(reader_group *g)
{
    free(g->passages);
    free(g->passage_lens);
    json_decref(g->owned);
    memset(g, 0, sizeof *g);
}
