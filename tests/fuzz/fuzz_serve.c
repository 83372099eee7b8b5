/* libFuzzer target: bert-serve's request handling (tools/serve/api.c) on bodies the input gives,
 * through the real routes, batchers and models (a small NLI sequence classifier, a token classifier
 * and a masked LM, written at start), without the HTTP layer. Byte 0 picks the route, byte 1 the
 * model (the ?model= value: a body's "model" field may name another), the method and the
 * payload-limit flag; the rest is the body. Every answer must be one of
 * the statuses the server documents, with a body; JSON routes answer JSON, errors TEI's
 * {"error", "error_type"}. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <bert/bert.h>

#include "api.h"
#include "fuzz.h"
#include "tiny_model.h"

static const char *const labels[] = {"entailment", "neutral", "contradiction", NULL};
static const char *const tags[] = {"O", "B-PER", "I-PER", NULL};
static const char *const archs[3] = {"BertForSequenceClassification", "BertForTokenClassification", "BertForMaskedLM"};
static char dirs[3][64];
static opts o;
static server servers[3];
static serve_group group = {servers, 3};
static const char *const names[3] = {"nli", "ner", "mlm"};

static void cleanup(void)
{
    for (int k = 0; k < 3; k++) {
        serve_batcher_free(servers[k].b);
        bert_model_free(servers[k].m);
        fuzz_tiny_remove(dirs[k]);
    }
}

static void setup(void)
{
    char err[512];
    o.workers = 1;
    o.threads = 1;
    o.max_batch_tokens = 512;
    o.max_batch_requests = 8;
    o.max_concurrent = 4;
    o.max_client_batch = 8;
    o.payload_limit = 4096;
    for (int k = 0; k < 3; k++) {
        server *s = &servers[k];
        char name[32];
        snprintf(name, sizeof name, "fuzz_serve%d", k);
        bert_model_params mp = bert_model_default_params();
        if (fuzz_tiny_dir(name, dirs[k], sizeof dirs[k]) != 0 ||
            fuzz_tiny_model(dirs[k], archs[k], 30522, 8, 1,
                            k == 1   ? tags
                            : k == 0 ? labels
                                     : NULL,
                            FUZZ_VOCAB, 7 + (uint64_t)k) != 0 ||
            bert_model_load(dirs[k], &mp, &s->m, err, sizeof err) != BERT_OK) {
            fprintf(stderr, "fuzz_serve: setup: %s\n", err);
            abort();
        }
        s->o = &o;
        s->tok = bert_model_tokenizer(s->m);
        s->model_id = dirs[k];
        s->name = names[k];
        s->classifier = k == 0;
        s->max_input = 32;
        bert_encode_params ep = bert_encode_default_params();
        ep.truncation = BERT_TRUNCATION_LONGEST_FIRST;
        ep.max_length = s->max_input;
        serve_limits lim = {1, 1, o.max_batch_tokens, o.max_batch_requests, o.max_concurrent, 0};
        if (serve_batcher_new(&s->b, s->m, &lim, &ep, err, sizeof err) != 0) {
            fprintf(stderr, "fuzz_serve: setup: %s\n", err);
            abort();
        }
    }
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const urls[] = {"/embed",   "/predict", "/rerank",    "/tokenize",  "/v1/embeddings",
                                       "/decode",  "/ner",     "/fill-mask", "/zero-shot", "/info",
                                       "/metrics", "/health",  "/nothing"};
    if (size < 2 || size > 8192)
        return 0;
    if (!servers[0].m)
        setup();
    const char *url = urls[data[0] % (sizeof urls / sizeof urls[0])];
    /* the model by ?model= (bits 0-1: nli, ner, mlm, none) unless the body names one */
    const char *model = (data[1] & 3) == 3 ? NULL : names[data[1] & 3];
    const char *method = data[1] & 0x40 ? "GET" : "POST";
    reply r = {0, NULL, NULL};
    serve_dispatch(&group, url, method, model, (const char *)data + 2, size - 2, (data[1] & 0x80) != 0, &r);
    static const int ok[] = {200, 404, 405, 413, 422, 424, 429, 500, 503};
    int known = 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        known |= r.status == ok[i];
    if (!known || !r.body || !r.type)
        abort();
    if (!strcmp(r.type, "application/json")) {
        json_error_t je;
        json_t *v = json_loads(r.body, JSON_DECODE_ANY, &je);
        if (!v || (r.status != 200 &&
                   (!json_is_string(json_object_get(v, "error")) || !json_is_string(json_object_get(v, "error_type")))))
            abort();
        json_decref(v);
    }
    free(r.body);
    return 0;
}
