/* bert-serve's request handling, apart from HTTP: the routes (TEI's and OpenAI's shapes), the
 * validation of every field, the metrics. bert-serve.c feeds it libmicrohttpd's requests; the fuzz
 * target feeds it bodies directly. */
#ifndef BERT_SERVE_API_H
#define BERT_SERVE_API_H

#include <stddef.h>

#include <bert/bert.h>

#include "batcher.h"

enum { SERVE_MAX_MODELS = 16 };

typedef struct opts {
    const char *models[SERVE_MAX_MODELS]; /* --model [NAME=]DIR, in order; none: the default model */
    size_t n_models;
    const char *host, *api_key;
    size_t port, workers, threads, max_batch_tokens, max_batch_requests, max_concurrent, max_input, max_client_batch,
        payload_limit;
    double timeout_s;
    int quiet, verbose;
    bert_precision precision;
    bert_weights weights;
} opts;

/* ---- the server's state ---- */
typedef struct server {
    const opts *o;
    bert_model *m;
    const bert_tokenizer *tok;
    serve_batcher *b;
    const char *model_id; /* its folder */
    const char *name;     /* what a request's "model" calls it */
    size_t max_input;
    int classifier; /* a sequence classifier: /predict and /rerank work */
} server;

/* A request's reply: status and JSON (or text) body. */
typedef struct reply {
    int status;
    char *body; /* malloc'd */
    const char *type;
} reply;

/* The models one server serves; a request's "model" field (or ?model= on GET routes) picks one by
 * name, the first by default. */
typedef struct serve_group {
    server *s;
    size_t n;
} serve_group;

/* Answers one request: url, method ("GET", "POST"), the ?model= query value (or NULL) and its body
 * (len bytes; too_large: it was cut at the payload limit). r->body is malloc'd (the caller frees it). */
void serve_dispatch(serve_group *g, const char *url, const char *method, const char *model, const char *body,
                    size_t len, int too_large, reply *r);
/* TEI's error body {"error": message, "error_type": kind} with the status. */
void reply_error(reply *r, int status, const char *kind, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Counts a finished request in /metrics. */
void serve_count_request(const char *url, int status);

#endif
