/* bert-serve's routes, their validation and the metrics (see api.h). */
#define _POSIX_C_SOURCE 200809L
#include "api.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <bert/bert.h>

/* ---- metrics (Prometheus text format) ---- */
static const char *const routes[] = {"/embed",     "/predict",   "/rerank",  "/tokenize",      "/decode",
                                     "/info",      "/health",    "/metrics", "/v1/embeddings", "/ner",
                                     "/fill-mask", "/zero-shot", "other"};
enum { N_ROUTES = sizeof routes / sizeof routes[0] };
static const int statuses[] = {200, 400, 401, 404, 405, 413, 422, 424, 429, 500, 503};
enum { N_STATUSES = sizeof statuses / sizeof statuses[0] };
static const double time_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
enum { N_TB = sizeof time_buckets / sizeof time_buckets[0] };
static const double size_buckets[] = {1, 2, 4, 8, 16, 32, 64, 128};
enum { N_SB = sizeof size_buckets / sizeof size_buckets[0] };

typedef struct histogram {
    unsigned long long counts[16]; /* per bucket, then +Inf */
    double sum;
    unsigned long long n;
} histogram;

static struct {
    pthread_mutex_t mu;
    unsigned long long requests[N_ROUTES][N_STATUSES];
    histogram queue_s, tokenize_s, inference_s, batch_requests;
} metrics = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void observe(histogram *h, const double *bounds, size_t nb, double v)
{
    size_t i = 0;
    while (i < nb && v > bounds[i])
        i++;
    h->counts[i]++;
    h->sum += v;
    h->n++;
}

static void print_histogram(FILE *f, const char *name, const char *help, const histogram *h, const double *bounds,
                            size_t nb)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cum = 0;
    for (size_t i = 0; i < nb; i++) {
        cum += h->counts[i];
        fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], cum);
    }
    cum += h->counts[nb];
    fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n%s_count %llu\n", name, cum, name, h->sum, name, h->n);
}

static void reply_json(reply *r, int status, json_t *v)
{
    r->status = status;
    r->type = "application/json";
    r->body = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(v);
    if (!r->body) { /* out of memory building the reply */
        r->status = 500;
        r->body = strdup("{\"error\":\"out of memory\",\"error_type\":\"Backend\"}");
    }
}

/* TEI's error body: {"error": message, "error_type": kind} */
void reply_error(reply *r, int status, const char *kind, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a message may quote the request (a JSON parser's "near ..."), cut anywhere: JSON strings
     * must be UTF-8, so bytes that are not become '?' */
    size_t bad, len = strlen(msg);
    while (bert_utf8_check(msg, len, &bad) != BERT_OK && bad < len)
        msg[bad] = '?';
    reply_json(r, status, json_pack("{s:s, s:s}", "error", msg, "error_type", kind));
}

/* The texts of a request field: a string, or a non-empty list of strings (pairs: two-string lists,
 * when pairs is set). *n_out texts; NULL with the reply set on a bad field. */
static bert_text *read_texts(const server *s, json_t *v, const char *field, int pairs, int *single, size_t *n_out,
                             reply *r)
{
    *single = json_is_string(v);
    const size_t n = *single ? 1 : json_is_array(v) ? json_array_size(v) : 0;
    if (n == 0) {
        reply_error(r, 422, "Validation", "%s: expected a string or a non-empty list of %s", field,
                    pairs ? "strings or [text, text_pair] lists" : "strings");
        return NULL;
    }
    if (n > s->o->max_client_batch) {
        reply_error(r, 413, "Validation", "%s: batch size %zu is over --max-client-batch-size %zu", field, n,
                    s->o->max_client_batch);
        return NULL;
    }
    bert_text *t = calloc(n, sizeof *t);
    if (!t) {
        reply_error(r, 500, "Backend", "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = *single ? v : json_array_get(v, i);
        if (json_is_string(e)) {
            t[i] = (bert_text){json_string_value(e), json_string_length(e), NULL, 0};
        } else if (pairs && json_is_array(e) && json_array_size(e) == 2 && json_is_string(json_array_get(e, 0)) &&
                   json_is_string(json_array_get(e, 1))) {
            json_t *a = json_array_get(e, 0), *b = json_array_get(e, 1);
            t[i] =
                (bert_text){json_string_value(a), json_string_length(a), json_string_value(b), json_string_length(b)};
        } else {
            reply_error(r, 422, "Validation", "%s[%zu]: expected a string%s", field, i,
                        pairs ? " or a [text, text_pair] list" : "");
            free(t);
            return NULL;
        }
    }
    *n_out = n;
    return t;
}

/* Counts the tokens of texts (no truncation); too long an input is a 413 unless truncate. */
static int count_tokens(const server *s, const bert_text *t, size_t n, int truncate, const char *field, size_t *tokens,
                        reply *r)
{
    char err[256];
    bert_batch *b = NULL;
    if (bert_batch_new(&b, err, sizeof err) != BERT_OK) {
        reply_error(r, 500, "Backend", "%s", err);
        return -1;
    }
    const double t0 = serve_now();
    int rc = 0;
    if (bert_batch_encode(b, s->tok, t, n, NULL) != BERT_OK) {
        reply_error(r, 422, "Tokenizer", "%s: %s", field, bert_batch_errmsg(b));
        rc = -1;
    } else {
        const bert_batch_view v = bert_batch_get(b);
        *tokens = 0;
        for (size_t i = 0; i < v.n_rows; i++) {
            if (v.lengths[i] > s->max_input && !truncate) {
                reply_error(r, 413, "Validation",
                            "%s[%zu]: the input has %zu tokens, more than the %zu allowed (send \"truncate\": true to "
                            "cut it)",
                            field, i, v.lengths[i], s->max_input);
                rc = -1;
                break;
            }
            *tokens += v.lengths[i] < s->max_input ? v.lengths[i] : s->max_input;
        }
    }
    bert_batch_free(b);
    pthread_mutex_lock(&metrics.mu);
    observe(&metrics.tokenize_s, time_buckets, N_TB, serve_now() - t0);
    pthread_mutex_unlock(&metrics.mu);
    return rc;
}

/* Runs a job through the batcher; -1 with the reply set when it could not. */
static int run_job(server *s, serve_job *j, reply *r)
{
    const int q = serve_submit(s->b, j);
    if (q == -2) {
        reply_error(r, 503, "Overloaded", "the request waited --request-timeout %g s in the queue; retry later",
                    s->o->timeout_s);
        return -1;
    }
    if (q != 0) {
        reply_error(r, 429, "Overloaded", "the queue is full (--max-concurrent-requests %zu); retry later",
                    s->o->max_concurrent);
        return -1;
    }
    pthread_mutex_lock(&metrics.mu);
    observe(&metrics.queue_s, time_buckets, N_TB, j->queued_s);
    observe(&metrics.inference_s, time_buckets, N_TB, j->run_s);
    observe(&metrics.batch_requests, size_buckets, N_SB, (double)j->batch_requests);
    pthread_mutex_unlock(&metrics.mu);
    if (j->status != BERT_OK) {
        reply_error(r, j->status == BERT_E_NOMEM ? 500 : 422, "Backend", "%s", j->err);
        free(j->out);
        j->out = NULL;
        return -1;
    }
    return 0;
}

static int get_bool(json_t *req, const char *key, int def, int *out, reply *r)
{
    json_t *v = json_object_get(req, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v)) {
        reply_error(r, 422, "Validation", "%s: expected true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

/* Vectors of a finished embed job, L2-normalised when asked. */
static json_t *vectors(const serve_job *j, int normalize)
{
    json_t *all = json_array();
    for (size_t i = 0; i < j->n; i++) {
        const float *v = j->out + i * j->dim;
        double ss = 0;
        for (size_t k = 0; k < j->dim; k++)
            ss += (double)v[k] * v[k];
        const double norm = normalize && ss > 0 ? sqrt(ss) : 1;
        json_t *row = json_array();
        for (size_t k = 0; k < j->dim; k++)
            json_array_append_new(row, json_real((double)(float)(v[k] / norm)));
        json_array_append_new(all, row);
    }
    return all;
}

/* OpenAI's token input: [id, ...] (one sequence) or [[id, ...], ...]; each row whole (nothing added:
 * the client sends what the model reads), at most the maximum length. -1 with the reply set. */
static int read_ids(const server *s, json_t *in, int32_t ***ids_out, size_t **lens_out, size_t *n_out, size_t *tokens,
                    reply *r)
{
    const int flat = json_is_integer(json_array_get(in, 0));
    const size_t n = flat ? 1 : json_array_size(in);
    if (n > s->o->max_client_batch) {
        reply_error(r, 413, "Validation", "input: batch size %zu is over --max-client-batch-size %zu", n,
                    s->o->max_client_batch);
        return -1;
    }
    int32_t **ids = calloc(n, sizeof *ids);
    size_t *lens = calloc(n, sizeof *lens);
    *tokens = 0;
    for (size_t i = 0; ids && lens && i < n; i++) {
        json_t *row = flat ? in : json_array_get(in, i);
        const size_t m = json_is_array(row) ? json_array_size(row) : 0;
        if (m == 0 || m > s->max_input) {
            if (m > s->max_input)
                reply_error(r, 413, "Validation", "input[%zu]: %zu tokens, more than the %zu allowed", i, m,
                            s->max_input);
            else
                reply_error(r, 422, "Validation", "input[%zu]: expected a non-empty list of token ids", i);
            goto fail;
        }
        ids[i] = malloc(m * sizeof **ids);
        if (!ids[i])
            break;
        for (size_t k = 0; k < m; k++) {
            json_t *e = json_array_get(row, k);
            if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > INT32_MAX) {
                reply_error(r, 422, "Validation", "input%s[%zu]: expected a token id (a non-negative integer)",
                            flat ? "" : "[..]", k);
                goto fail;
            }
            ids[i][k] = (int32_t)json_integer_value(e);
        }
        lens[i] = m;
        *tokens += m;
    }
    if (!ids || !lens || (n && !ids[n - 1])) {
        reply_error(r, 500, "Backend", "out of memory");
        goto fail;
    }
    *ids_out = ids;
    *lens_out = lens;
    *n_out = n;
    return 0;
fail:
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
    free(lens);
    return -1;
}

/* The prompt named by the request (or the folder's default), prepended into owned copies. */
static int apply_prompt(server *s, json_t *req, bert_text *t, size_t n, char ***owned, reply *r)
{
    *owned = NULL;
    json_t *pn = json_object_get(req, "prompt_name");
    const char *name = json_is_string(pn) ? json_string_value(pn) : bert_model_st_info(s->m).default_prompt_name;
    if (pn && !json_is_null(pn) && !json_is_string(pn)) {
        reply_error(r, 422, "Validation", "prompt_name: expected a string");
        return -1;
    }
    if (!name)
        return 0;
    const char *p = bert_model_prompt(s->m, name);
    if (!p) {
        reply_error(r, 422, "Validation", "prompt_name: the model has no prompt named '%s'", name);
        return -1;
    }
    *owned = calloc(n, sizeof **owned);
    for (size_t i = 0; *owned && i < n; i++) {
        const size_t pl = strlen(p);
        (*owned)[i] = malloc(pl + t[i].a_len + 1);
        if (!(*owned)[i])
            break;
        memcpy((*owned)[i], p, pl);
        memcpy((*owned)[i] + pl, t[i].a, t[i].a_len);
        (*owned)[i][pl + t[i].a_len] = '\0';
        t[i].a = (*owned)[i];
        t[i].a_len += pl;
    }
    return 0;
}

static void free_owned(char **owned, size_t n)
{
    for (size_t i = 0; owned && i < n; i++)
        free(owned[i]);
    free(owned);
}

static void route_embed(server *s, json_t *req, reply *r, int openai)
{
    const char *field = openai ? "input" : "inputs";
    json_t *in = json_object_get(req, field);
    int single, normalize = 1, truncate = 0, base64 = 0;
    size_t n = 0, tokens = 0;
    if (openai) {
        json_t *ef = json_object_get(req, "encoding_format");
        if (ef && !json_is_null(ef)) {
            if (!json_is_string(ef) ||
                (strcmp(json_string_value(ef), "float") && strcmp(json_string_value(ef), "base64"))) {
                reply_error(r, 422, "Validation", "encoding_format: expected \"float\" or \"base64\"");
                return;
            }
            base64 = !strcmp(json_string_value(ef), "base64");
        }
    } else if (get_bool(req, "normalize", 1, &normalize, r) || get_bool(req, "truncate", 0, &truncate, r)) {
        return;
    }
    /* OpenAI's token input: a list of ids (one sequence) or a list of such lists */
    int32_t **ids = NULL;
    size_t *lens = NULL;
    const int token_input =
        openai && json_is_array(in) && json_array_size(in) && !json_is_string(json_array_get(in, 0));
    bert_text *t = NULL;
    char **owned = NULL;
    if (token_input) {
        if (read_ids(s, in, &ids, &lens, &n, &tokens, r) != 0)
            return;
    } else {
        t = read_texts(s, in, field, 0, &single, &n, r);
        if (!t || apply_prompt(s, req, t, n, &owned, r) != 0 ||
            count_tokens(s, t, n, truncate, field, &tokens, r) != 0) {
            free_owned(owned, n);
            free(t);
            return;
        }
    }
    serve_job j = {.kind = token_input ? SERVE_EMBED_IDS : SERVE_EMBED,
                   .texts = t,
                   .ids = (const int32_t *const *)ids,
                   .id_lens = lens,
                   .n = n,
                   .tokens = tokens};
    if (run_job(s, &j, r) == 0) {
        if (!openai) {
            reply_json(r, 200, vectors(&j, normalize));
        } else {
            json_t *data = json_array(), *vs = vectors(&j, 1);
            for (size_t i = 0; i < n; i++) {
                json_t *emb;
                if (base64) { /* the little-endian float32 bytes, base64: what OpenAI's clients decode */
                    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                    const size_t nb = j.dim * 4;
                    unsigned char *raw = malloc(nb);
                    char *txt = malloc((nb + 2) / 3 * 4 + 1);
                    if (!raw || !txt) {
                        free(raw);
                        free(txt);
                        emb = json_null();
                    } else {
                        for (size_t k = 0; k < j.dim; k++) {
                            const float f = (float)json_real_value(json_array_get(json_array_get(vs, i), k));
                            uint32_t u;
                            memcpy(&u, &f, 4);
                            for (int b = 0; b < 4; b++)
                                raw[k * 4 + (size_t)b] = (unsigned char)(u >> (8 * b));
                        }
                        size_t o = 0;
                        for (size_t k = 0; k < nb; k += 3) {
                            const uint32_t v = (uint32_t)raw[k] << 16 | (k + 1 < nb ? (uint32_t)raw[k + 1] << 8 : 0) |
                                               (k + 2 < nb ? raw[k + 2] : 0);
                            txt[o++] = tbl[v >> 18 & 63];
                            txt[o++] = tbl[v >> 12 & 63];
                            txt[o++] = k + 1 < nb ? tbl[v >> 6 & 63] : '=';
                            txt[o++] = k + 2 < nb ? tbl[v & 63] : '=';
                        }
                        txt[o] = '\0';
                        emb = json_string(txt);
                        free(raw);
                        free(txt);
                    }
                } else {
                    emb = json_incref(json_array_get(vs, i));
                }
                json_array_append_new(data, json_pack("{s:s, s:o, s:I}", "object", "embedding", "embedding", emb,
                                                      "index", (json_int_t)i));
            }
            json_decref(vs);
            json_t *model = json_object_get(req, "model");
            reply_json(r, 200,
                       json_pack("{s:s, s:o, s:s, s:{s:I, s:I}}", "object", "list", "data", data, "model",
                                 json_is_string(model) ? json_string_value(model) : s->model_id, "usage",
                                 "prompt_tokens", (json_int_t)tokens, "total_tokens", (json_int_t)tokens));
        }
    }
    free(j.out);
    free_owned(owned, n);
    free(t);
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
    free(lens);
}

/* Scores of logits row l: raw, sigmoid (one label) or softmax, as TEI's /predict and /rerank. */
static void scores_of(const float *l, size_t nl, int raw, double *out)
{
    if (raw) {
        for (size_t k = 0; k < nl; k++)
            out[k] = l[k];
        return;
    }
    if (nl == 1) {
        out[0] = 1.0 / (1.0 + exp(-(double)l[0]));
        return;
    }
    double mx = l[0], sum = 0;
    for (size_t k = 1; k < nl; k++)
        mx = l[k] > mx ? l[k] : mx;
    for (size_t k = 0; k < nl; k++)
        sum += exp((double)l[k] - mx);
    for (size_t k = 0; k < nl; k++)
        out[k] = exp((double)l[k] - mx) / sum;
}

static int need_classifier(const server *s, reply *r, const char *route)
{
    if (s->classifier)
        return 0;
    reply_error(r, 424, "Backend",
                "%s needs a sequence-classification model (a classifier or cross-encoder); this one "
                "is %s",
                route, bert_model_get_info(s->m).arch_name);
    return -1;
}

static void route_predict(server *s, json_t *req, reply *r)
{
    int single, raw = 0, truncate = 0;
    size_t n = 0, tokens = 0;
    if (need_classifier(s, r, "/predict") || get_bool(req, "raw_scores", 0, &raw, r) ||
        get_bool(req, "truncate", 0, &truncate, r))
        return;
    json_t *in = json_object_get(req, "inputs");
    /* a lone pair ["a", "b"] is one input, as TEI reads it */
    int lone_pair = json_is_array(in) && json_array_size(in) == 2 && json_is_string(json_array_get(in, 0)) &&
                    json_is_string(json_array_get(in, 1)) && s->o->max_client_batch;
    json_t *wrapped = lone_pair ? json_pack("[O]", in) : NULL;
    bert_text *t = read_texts(s, lone_pair ? wrapped : in, "inputs", 1, &single, &n, r);
    single |= lone_pair;
    if (!t || count_tokens(s, t, n, truncate, "inputs", &tokens, r) != 0) {
        free(t);
        json_decref(wrapped);
        return;
    }
    serve_job j = {.kind = SERVE_LOGITS, .texts = t, .n = n, .tokens = tokens};
    if (run_job(s, &j, r) == 0) {
        json_t *all = json_array();
        double sc[1024];
        const size_t nl = j.dim < 1024 ? j.dim : 1024;
        for (size_t i = 0; i < n; i++) {
            scores_of(j.out + i * j.dim, nl, raw, sc);
            size_t order[1024];
            float f[1024];
            for (size_t k = 0; k < nl; k++)
                f[k] = (float)sc[k];
            bert_rank(f, nl, order);
            json_t *row = json_array();
            for (size_t k = 0; k < nl; k++)
                json_array_append_new(row, json_pack("{s:f, s:s}", "score", (double)f[order[k]], "label",
                                                     bert_model_label(s->m, order[k])));
            json_array_append_new(all, row);
        }
        if (single) {
            json_t *one = json_incref(json_array_get(all, 0));
            json_decref(all);
            all = one;
        }
        reply_json(r, 200, all);
    }
    free(j.out);
    free(t);
    json_decref(wrapped);
}

static void route_rerank(server *s, json_t *req, reply *r)
{
    int single, raw = 0, truncate = 0, return_text = 0;
    size_t n = 0, tokens = 0;
    if (need_classifier(s, r, "/rerank") || get_bool(req, "raw_scores", 0, &raw, r) ||
        get_bool(req, "truncate", 0, &truncate, r) || get_bool(req, "return_text", 0, &return_text, r))
        return;
    json_t *q = json_object_get(req, "query");
    if (!json_is_string(q)) {
        reply_error(r, 422, "Validation", "query: expected a string");
        return;
    }
    json_t *texts = json_object_get(req, "texts");
    if (!json_is_array(texts)) {
        reply_error(r, 422, "Validation", "texts: expected a non-empty list of strings");
        return;
    }
    bert_text *t = read_texts(s, texts, "texts", 0, &single, &n, r);
    if (!t)
        return;
    for (size_t i = 0; i < n; i++) {
        t[i].b = t[i].a;
        t[i].b_len = t[i].a_len;
        t[i].a = json_string_value(q);
        t[i].a_len = json_string_length(q);
    }
    if (count_tokens(s, t, n, truncate, "texts", &tokens, r) != 0) {
        free(t);
        return;
    }
    serve_job j = {.kind = SERVE_LOGITS, .texts = t, .n = n, .tokens = tokens};
    if (run_job(s, &j, r) == 0) {
        float *sc = malloc(n * sizeof *sc);
        size_t *order = malloc(n * sizeof *order);
        if (!sc || !order) {
            reply_error(r, 500, "Backend", "out of memory");
        } else {
            for (size_t i = 0; i < n; i++) {
                double d;
                scores_of(j.out + i * j.dim, 1, raw, &d); /* the first label's score, as TEI */
                sc[i] = (float)d;
            }
            bert_rank(sc, n, order);
            json_t *all = json_array();
            for (size_t k = 0; k < n; k++) {
                json_t *e = json_pack("{s:I, s:f}", "index", (json_int_t)order[k], "score", (double)sc[order[k]]);
                if (return_text)
                    json_object_set_new(e, "text", json_stringn(t[order[k]].b, t[order[k]].b_len));
                json_array_append_new(all, e);
            }
            reply_json(r, 200, all);
        }
        free(sc);
        free(order);
    }
    free(j.out);
    free(t);
}

static void route_tokenize(server *s, json_t *req, reply *r)
{
    int single, add = 1;
    size_t n = 0;
    if (get_bool(req, "add_special_tokens", 1, &add, r))
        return;
    bert_text *t = read_texts(s, json_object_get(req, "inputs"), "inputs", 0, &single, &n, r);
    if (!t)
        return;
    char err[256];
    bert_batch *b = NULL;
    bert_encode_params ep = bert_encode_default_params();
    ep.add_special_tokens = add;
    if (bert_batch_new(&b, err, sizeof err) != BERT_OK || bert_batch_encode(b, s->tok, t, n, &ep) != BERT_OK) {
        reply_error(r, 422, "Tokenizer", "inputs: %s", b ? bert_batch_errmsg(b) : err);
    } else {
        const bert_batch_view v = bert_batch_get(b);
        json_t *all = json_array();
        for (size_t i = 0; i < v.n_rows; i++) {
            json_t *row = json_array();
            for (size_t k = 0; k < v.lengths[i]; k++) {
                const size_t at = i * v.seq_len + k;
                size_t tl = 0;
                const char *tt = bert_batch_token(b, i, k, &tl);
                const int special = v.special_tokens_mask[at];
                json_t *e = json_pack("{s:I, s:s%, s:b}", "id", (json_int_t)v.ids[at], "text", tt ? tt : "", tl,
                                      "special", special);
                json_object_set_new(e, "start", special ? json_null() : json_integer((json_int_t)v.offsets[at].begin));
                json_object_set_new(e, "stop", special ? json_null() : json_integer((json_int_t)v.offsets[at].end));
                json_array_append_new(row, e);
            }
            json_array_append_new(all, row);
        }
        reply_json(r, 200, all);
    }
    bert_batch_free(b);
    free(t);
}

/* Runs a head on the request's texts (one batch of its own) into res; -1 with the reply set. */
static int run_head(server *s, const bert_head_params *hp, const bert_text *t, size_t n, size_t tokens,
                    bert_result *res, reply *r)
{
    char err[512];
    bert_head *h = NULL;
    if (bert_head_new(s->m, hp, &h, err, sizeof err) != BERT_OK) {
        reply_error(r, 424, "Backend", "%s", err);
        return -1;
    }
    serve_job j = {.kind = SERVE_HEAD, .texts = t, .n = n, .tokens = tokens, .head = h, .res = res};
    const int rc = run_job(s, &j, r);
    free(j.out);
    bert_head_free(h);
    return rc;
}

/* The texts of "inputs" with their token count; NULL with the reply set. */
static bert_text *head_inputs(server *s, json_t *req, int *single, size_t *n, size_t *tokens, reply *r)
{
    int truncate = 0;
    if (get_bool(req, "truncate", 0, &truncate, r))
        return NULL;
    bert_text *t = read_texts(s, json_object_get(req, "inputs"), "inputs", 0, single, n, r);
    if (t && count_tokens(s, t, *n, truncate, "inputs", tokens, r) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

/* The "inputs" of a request through head hp into *res: the texts (the caller frees them and *res),
 * or NULL with the reply set. */
static bert_text *head_on_inputs(server *s, json_t *req, const bert_head_params *hp, int *single, size_t *n,
                                 bert_result **res, reply *r)
{
    size_t tokens = 0;
    char err[256];
    bert_text *t = head_inputs(s, req, single, n, &tokens, r);
    if (t && bert_result_new(res, err, sizeof err) != BERT_OK)
        reply_error(r, 500, "Backend", "%s", err);
    else if (t && run_head(s, hp, t, *n, tokens, *res, r) == 0)
        return t;
    free(t);
    return NULL;
}

static json_t *maybe_single(json_t *all, int single)
{
    if (!single)
        return all;
    json_t *one = json_incref(json_array_get(all, 0));
    json_decref(all);
    return one;
}

/* POST /ner: Hugging Face's token-classification pipeline, entities per input */
static void route_ner(server *s, json_t *req, reply *r)
{
    static const char *const aggs[] = {"none", "simple", "first", "average", "max"};
    bert_head_params hp = bert_head_default_params();
    hp.name = "ner";
    hp.aggregation = BERT_AGG_SIMPLE;
    json_t *a = json_object_get(req, "aggregation_strategy");
    if (a && !json_is_null(a)) {
        size_t k;
        for (k = 0; k < 5; k++)
            if (json_is_string(a) && !strcmp(json_string_value(a), aggs[k]))
                break;
        if (k == 5) {
            reply_error(r, 422, "Validation", "aggregation_strategy: expected none, simple, first, average or max");
            return;
        }
        hp.aggregation = (bert_aggregation)k;
    }
    int single;
    size_t n = 0;
    bert_result *res = NULL;
    bert_text *t = head_on_inputs(s, req, &hp, &single, &n, &res, r);
    if (t) {
        json_t *all = json_array();
        for (size_t i = 0; i < n; i++) {
            size_t ne = 0;
            const bert_entity *e = bert_result_entities(res, i, &ne);
            json_t *row = json_array();
            for (size_t k = 0; k < ne; k++) {
                json_t *o =
                    json_pack("{s:s, s:f, s:s, s:I, s:I}", hp.aggregation == BERT_AGG_NONE ? "entity" : "entity_group",
                              e[k].label, "score", (double)e[k].score, "word", e[k].word, "start",
                              (json_int_t)e[k].chars.begin, "end", (json_int_t)e[k].chars.end);
                if (e[k].index >= 0)
                    json_object_set_new(o, "index", json_integer(e[k].index));
                json_array_append_new(row, o);
            }
            json_array_append_new(all, row);
        }
        reply_json(r, 200, maybe_single(all, single));
    }
    bert_result_free(res);
    free(t);
}

/* POST /fill-mask: the top-k tokens for each mask, per input */
static void route_fill_mask(server *s, json_t *req, reply *r)
{
    bert_head_params hp = bert_head_default_params();
    hp.name = "fill-mask";
    json_t *k = json_object_get(req, "top_k");
    if (k && !json_is_null(k)) {
        if (!json_is_integer(k) || json_integer_value(k) < 1 || json_integer_value(k) > 64) {
            reply_error(r, 422, "Validation", "top_k: expected an integer from 1 to 64");
            return;
        }
        hp.top_k = (size_t)json_integer_value(k);
    }
    int single;
    size_t n = 0;
    bert_result *res = NULL;
    bert_text *t = head_on_inputs(s, req, &hp, &single, &n, &res, r);
    if (t) {
        json_t *all = json_array();
        for (size_t i = 0; i < n; i++) {
            size_t nf = 0;
            const bert_fill *f = bert_result_fills(res, i, &nf);
            json_t *row = json_array();
            for (size_t q = 0; q < nf; q++)
                json_array_append_new(row, json_pack("{s:I, s:f, s:I, s:s}", "position", (json_int_t)f[q].position,
                                                     "score", (double)f[q].score, "token", (json_int_t)f[q].token_id,
                                                     "token_str", f[q].token));
            json_array_append_new(all, row);
        }
        reply_json(r, 200, maybe_single(all, single));
    }
    bert_result_free(res);
    free(t);
}

/* POST /zero-shot: HF's zero-shot-classification pipeline, {"sequence", "labels", "scores"} */
static void route_zero_shot(server *s, json_t *req, reply *r)
{
    bert_head_params hp = bert_head_default_params();
    hp.name = "zero-shot";
    json_t *cl = json_object_get(req, "candidate_labels"), *tpl = json_object_get(req, "hypothesis_template");
    const char *labels[256];
    size_t nl = 0;
    char *split = NULL;
    if (json_is_string(cl)) { /* the pipeline's comma-separated string */
        split = strdup(json_string_value(cl));
        for (char *save = NULL, *x = split ? strtok_r(split, ",", &save) : NULL; x && nl < 256;
             x = strtok_r(NULL, ",", &save)) {
            while (*x == ' ')
                x++;
            size_t l = strlen(x);
            while (l && x[l - 1] == ' ')
                x[--l] = '\0';
            if (l)
                labels[nl++] = x;
        }
    } else if (json_is_array(cl)) {
        for (size_t i = 0; i < json_array_size(cl) && nl < 256; i++) {
            if (!json_is_string(json_array_get(cl, i))) {
                reply_error(r, 422, "Validation", "candidate_labels[%zu]: expected a string", i);
                return;
            }
            labels[nl++] = json_string_value(json_array_get(cl, i));
        }
    }
    if (nl == 0) {
        free(split);
        reply_error(r, 422, "Validation",
                    "candidate_labels: expected a non-empty list of labels (or a comma-separated string)");
        return;
    }
    if (tpl && !json_is_null(tpl) && !json_is_string(tpl)) {
        free(split);
        reply_error(r, 422, "Validation", "hypothesis_template: expected a string with {}");
        return;
    }
    hp.labels = labels;
    hp.n_labels = nl;
    hp.hypothesis_template = json_is_string(tpl) ? json_string_value(tpl) : NULL;
    int multi = 0, single;
    size_t n = 0, tokens = 0;
    bert_text *t = NULL;
    char err[256];
    bert_result *res = NULL;
    if (get_bool(req, "multi_label", 0, &multi, r) == 0 && (hp.multi_label = multi, 1) &&
        (t = head_inputs(s, req, &single, &n, &tokens, r)) != NULL) {
        if (bert_result_new(&res, err, sizeof err) != BERT_OK)
            reply_error(r, 500, "Backend", "%s", err);
        else if (run_head(s, &hp, t, n, tokens * nl, res, r) == 0) {
            json_t *all = json_array();
            size_t order[256];
            for (size_t i = 0; i < n; i++) {
                const float *sc = bert_result_scores(res, i);
                bert_rank(sc, nl, order);
                json_t *ls = json_array(), *ss = json_array();
                for (size_t k = 0; k < nl; k++) {
                    json_array_append_new(ls, json_string(labels[order[k]]));
                    json_array_append_new(ss, json_real((double)sc[order[k]]));
                }
                json_array_append_new(
                    all, json_pack("{s:s%, s:o, s:o}", "sequence", t[i].a, t[i].a_len, "labels", ls, "scores", ss));
            }
            reply_json(r, 200, maybe_single(all, single));
        }
    }
    bert_result_free(res);
    free(t);
    free(split);
}

/* POST /decode: token ids back to text with the tokenizer's decoder */
static void route_decode(server *s, json_t *req, reply *r)
{
    int skip = 1;
    if (get_bool(req, "skip_special_tokens", 1, &skip, r))
        return;
    json_t *ids = json_object_get(req, "ids");
    const int single = json_is_array(ids) && (json_array_size(ids) == 0 || json_is_integer(json_array_get(ids, 0)));
    const size_t n = !json_is_array(ids) ? 0 : single ? 1 : json_array_size(ids);
    if (n == 0) {
        reply_error(r, 422, "Validation", "ids: expected a list of token ids, or a list of such lists");
        return;
    }
    json_t *all = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = single ? ids : json_array_get(ids, i);
        const size_t m = json_is_array(row) ? json_array_size(row) : 0;
        int32_t *v = malloc((m ? m : 1) * sizeof *v);
        if (!json_is_array(row) || !v) {
            free(v);
            json_decref(all);
            reply_error(r, 422, "Validation", "ids[%zu]: expected a list of token ids", i);
            return;
        }
        for (size_t k = 0; k < m; k++) {
            json_t *e = json_array_get(row, k);
            if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > INT32_MAX) {
                free(v);
                json_decref(all);
                reply_error(r, 422, "Validation", "ids%s[%zu]: expected a token id", single ? "" : "[..]", k);
                return;
            }
            v[k] = (int32_t)json_integer_value(e);
        }
        size_t need = 0;
        bert_status st = bert_tokenizer_decode(s->tok, v, m, skip, NULL, 0, &need);
        char *txt = st == BERT_OK || st == BERT_E_BUFFER_TOO_SMALL ? malloc(need + 1) : NULL;
        if (!txt || bert_tokenizer_decode(s->tok, v, m, skip, txt, need + 1, &need) != BERT_OK) {
            free(v);
            free(txt);
            json_decref(all);
            reply_error(r, 422, "Validation", "ids: an id is outside the vocabulary (%zu tokens)",
                        bert_tokenizer_vocab_size(s->tok));
            return;
        }
        json_array_append_new(all, json_stringn(txt, need));
        free(v);
        free(txt);
    }
    reply_json(r, 200, all);
}

/* TEI's /info: its fields (model_type a classifier, a reranker for one label, or an embedding with
 * its pooling), and ours (model_name, model_family). */
static void route_info(server *s, reply *r)
{
    const bert_model_info in = bert_model_get_info(s->m);
    json_t *type;
    if (s->classifier) {
        json_t *id2label = json_object(), *label2id = json_object();
        for (size_t i = 0; i < in.n_labels; i++) {
            char k[32];
            snprintf(k, sizeof k, "%zu", i);
            json_object_set_new(id2label, k, json_string(bert_model_label(s->m, i)));
            json_object_set_new(label2id, bert_model_label(s->m, i), json_integer((json_int_t)i));
        }
        type = json_pack("{s:{s:o, s:o}}", in.n_labels == 1 ? "reranker" : "classifier", "id2label", id2label,
                         "label2id", label2id);
    } else {
        const char *pool = bert_model_st_info(s->m).pooling;
        type = json_pack("{s:{s:s}}", "embedding", "pooling", pool ? pool : "mean");
    }
    static const char *const dtypes[] = {"float32", "bfloat16", "int8"};
    json_t *v = json_pack("{s:s, s:n, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:s, s:n, s:n}", "model_id",
                          s->model_id, "model_sha", "model_dtype", dtypes[s->o->precision % 3], "model_type", type,
                          "max_concurrent_requests", (json_int_t)s->o->max_concurrent, "max_input_length",
                          (json_int_t)s->max_input, "max_batch_tokens", (json_int_t)s->o->max_batch_tokens,
                          "max_batch_requests", (json_int_t)s->o->max_batch_requests, "max_client_batch_size",
                          (json_int_t)s->o->max_client_batch, "tokenization_workers", (json_int_t)s->o->workers,
                          "auto_truncate", 0, "version", bert_version_string(), "sha", "docker_label");
    if (v) {
        json_object_set_new(v, "model_name", json_string(s->name));
        json_object_set_new(v, "model_family", json_string(in.model_type));
    }
    reply_json(r, 200, v);
}

static void route_metrics(serve_group *g, reply *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        reply_error(r, 500, "Backend", "out of memory");
        return;
    }
    pthread_mutex_lock(&metrics.mu);
    fprintf(f, "# HELP bert_requests_total HTTP requests by route and status.\n# TYPE bert_requests_total counter\n");
    for (size_t i = 0; i < N_ROUTES; i++)
        for (size_t k = 0; k < N_STATUSES; k++)
            if (metrics.requests[i][k])
                fprintf(f, "bert_requests_total{route=\"%s\",status=\"%d\"} %llu\n", routes[i], statuses[k],
                        metrics.requests[i][k]);
    fprintf(f, "# HELP bert_queue_depth Requests queued or running, by model.\n# TYPE bert_queue_depth gauge\n");
    for (size_t i = 0; i < g->n; i++)
        fprintf(f, "bert_queue_depth{model=\"%s\"} %zu\n", g->s[i].name, serve_queue_depth(g->s[i].b));
    print_histogram(f, "bert_batch_requests", "Requests per batch, per request.", &metrics.batch_requests, size_buckets,
                    N_SB);
    print_histogram(f, "bert_queue_seconds", "Time a request waited for its batch.", &metrics.queue_s, time_buckets,
                    N_TB);
    print_histogram(f, "bert_tokenization_seconds", "Time counting a request's tokens.", &metrics.tokenize_s,
                    time_buckets, N_TB);
    print_histogram(f, "bert_inference_seconds", "Time of the batch a request ran in.", &metrics.inference_s,
                    time_buckets, N_TB);
    pthread_mutex_unlock(&metrics.mu);
    fclose(f);
    r->status = 200;
    r->type = "text/plain; version=0.0.4";
    r->body = buf;
}

void serve_count_request(const char *url, int status)
{
    size_t ri = N_ROUTES - 1, si = 0;
    for (size_t i = 0; i + 1 < N_ROUTES; i++)
        if (!strcmp(url, routes[i]))
            ri = i;
    for (size_t k = 0; k < N_STATUSES; k++)
        if (statuses[k] == status)
            si = k;
    pthread_mutex_lock(&metrics.mu);
    metrics.requests[ri][si]++;
    pthread_mutex_unlock(&metrics.mu);
}

/* The model a request names: by name, the first without one; NULL with the reply set. An OpenAI
 * request naming a model a one-model server does not know still gets that model: OpenAI's clients
 * always send a name. */
static server *pick(serve_group *g, const char *name, int openai, reply *r)
{
    if (!name)
        return &g->s[0];
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->s[i].name, name))
            return &g->s[i];
    if (openai && g->n == 1)
        return &g->s[0];
    char list[512] = "";
    for (size_t i = 0, k = 0; i < g->n && k < sizeof list; i++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", g->s[i].name);
    reply_error(r, 404, "Validation", "model: no model named '%s' here (%s)", name, list);
    return NULL;
}

void serve_dispatch(serve_group *g, const char *url, const char *method, const char *model, const char *body,
                    size_t len, int too_large, reply *r)
{
    const int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    server *s = &g->s[0];
    if (get && model && !(s = pick(g, model, 0, r)))
        return;
    if (!strcmp(url, "/health") || !strcmp(url, "/info") || !strcmp(url, "/metrics")) {
        if (!get) {
            reply_error(r, 405, "Validation", "%s takes GET", url);
            return;
        }
        if (!strcmp(url, "/health")) {
            r->status = 200;
            r->type = "application/json";
            r->body = strdup("{}");
        } else if (!strcmp(url, "/info")) {
            route_info(s, r);
        } else {
            route_metrics(g, r);
        }
        return;
    }
    static const char *const posts[] = {"/embed",  "/predict", "/rerank",    "/tokenize", "/v1/embeddings",
                                        "/decode", "/ner",     "/fill-mask", "/zero-shot"};
    size_t k;
    for (k = 0; k < sizeof posts / sizeof posts[0]; k++)
        if (!strcmp(url, posts[k]))
            break;
    if (k == sizeof posts / sizeof posts[0]) {
        reply_error(r, 404, "Validation",
                    "no route %s (POST /embed, /predict, /rerank, /tokenize, /decode, /v1/embeddings, /ner, "
                    "/fill-mask, /zero-shot; GET /info, /health, /metrics)",
                    url);
        return;
    }
    if (!post) {
        reply_error(r, 405, "Validation", "%s takes POST", url);
        return;
    }
    if (too_large) {
        reply_error(r, 413, "Validation", "the request body is over --payload-limit %zu bytes", s->o->payload_limit);
        return;
    }
    json_error_t je;
    json_t *req = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!req || !json_is_object(req)) {
        if (req)
            reply_error(r, 422, "Validation", "the body must be a JSON object");
        else
            reply_error(r, 422, "Validation", "invalid JSON at line %d, column %d: %s", je.line, je.column, je.text);
        json_decref(req);
        return;
    }
    json_t *mf = json_object_get(req, "model");
    if (mf && !json_is_null(mf) && !json_is_string(mf)) {
        reply_error(r, 422, "Validation", "model: expected the name of a model");
        json_decref(req);
        return;
    }
    if (!(s = pick(g, json_is_string(mf) ? json_string_value(mf) : model, k == 4, r))) {
        json_decref(req);
        return;
    }
    switch (k) {
    case 0:
        route_embed(s, req, r, 0);
        break;
    case 1:
        route_predict(s, req, r);
        break;
    case 2:
        route_rerank(s, req, r);
        break;
    case 3:
        route_tokenize(s, req, r);
        break;
    case 4:
        route_embed(s, req, r, 1);
        break;
    case 5:
        route_decode(s, req, r);
        break;
    case 6:
        route_ner(s, req, r);
        break;
    case 7:
        route_fill_mask(s, req, r);
        break;
    default:
        route_zero_shot(s, req, r);
        break;
    }
    json_decref(req);
}
