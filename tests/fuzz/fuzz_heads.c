/* libFuzzer target: the NER head's post-processing (Hugging Face's token-classification pipeline:
 * per-token softmax, sub-word detection, word aggregation by none/simple/first/average/max, B-/I-
 * grouping, character offsets). A small token-classification model written at start tokenizes and
 * runs the text the input gives; then the logits are replaced by values the input gives too, so
 * the fuzzer steers every label, tie and score, and the head runs on them. Every entity must lie
 * inside its text on character boundaries, its character span must be its byte span counted in
 * code points, its score a probability, its label one of the model's (a group without B-/I- when
 * aggregating, never "O"), and entities come in text order. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bert/bert.h>

#include "fuzz.h"
#include "heads/head.h"
#include "tiny_model.h"

static const char *const labels[] = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-MISC", NULL};
enum { N_LABELS = 6 };

static char dir[64];
static bert_model *model;
static bert_ctx *ctx;
static bert_head *heads[5];
static bert_batch *batch;
static bert_result *result;

static void cleanup(void)
{
    for (int i = 0; i < 5; i++)
        bert_head_free(heads[i]);
    bert_result_free(result);
    bert_batch_free(batch);
    bert_ctx_free(ctx);
    bert_model_free(model);
    fuzz_tiny_remove(dir);
}

static void setup(void)
{
    char err[512];
    bert_model_params mp = bert_model_default_params();
    bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = 1;
    if (fuzz_tiny_dir("fuzz_heads", dir, sizeof dir) != 0 ||
        fuzz_tiny_model(dir, "BertForTokenClassification", 30522, 8, 1, labels, FUZZ_VOCAB, 42) != 0 ||
        bert_model_load(dir, &mp, &model, err, sizeof err) != BERT_OK ||
        bert_ctx_new(model, &cp, &ctx, err, sizeof err) != BERT_OK || bert_batch_new(&batch, err, sizeof err) ||
        bert_result_new(&result, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "fuzz_heads: setup: %s\n", err);
        abort();
    }
    for (int a = 0; a < 5; a++) {
        bert_head_params hp = bert_head_default_params();
        hp.name = "ner";
        hp.aggregation = (bert_aggregation)a;
        if (bert_head_new(model, &hp, &heads[a], err, sizeof err) != BERT_OK)
            abort();
    }
    atexit(cleanup);
}

static int known_label(const char *l, int grouped)
{
    for (int i = 1; i < N_LABELS; i++)
        if (!strcmp(l, grouped ? labels[i] + 2 : labels[i]))
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 4096)
        return 0;
    if (!model)
        setup();
    /* byte 0: the aggregation and how logits are read; then the text up to a NUL; then logits */
    const int agg = data[0] % 5, coarse = (data[0] >> 3) & 1;
    const uint8_t *text = data + 1, *nul = memchr(text, 0, size - 1);
    const size_t len = nul ? (size_t)(nul - text) : size - 1;
    const uint8_t *lg = nul ? nul + 1 : data + size;
    const size_t n_lg = (size_t)(data + size - lg);
    size_t bad;
    if (bert_utf8_check((const char *)text, len, &bad) != BERT_OK)
        return 0;
    bert_text t = {(const char *)text, len, NULL, 0};
    bert_encode_params ep = bert_encode_default_params();
    ep.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    ep.max_length = 64;
    if (bert_batch_encode(batch, bert_model_tokenizer(model), &t, 1, &ep) != BERT_OK)
        return 0;
    if (bert_ctx_run_batch(ctx, batch, NULL) != BERT_OK)
        abort();
    /* the input's logits over the model's (ties and equal rows on purpose: coarse steps) */
    const bert_batch_view v = bert_batch_get(batch);
    float *logits = (float *)(uintptr_t)bert_ctx_logits(ctx);
    for (size_t i = 0; n_lg && i < v.n_rows * v.seq_len * N_LABELS; i++)
        logits[i] = coarse ? (float)(lg[i % n_lg] % 4) : ((float)lg[i % n_lg] - 128.f) / 8.f;
    const bert_head *h = heads[agg];
    const bert_status st = h->ops->run(h, ctx, batch, &t, result);
    if (st != BERT_OK) {
        if (st != BERT_E_NOMEM)
            abort();
        return 0;
    }
    size_t n = 0;
    const bert_entity *e = bert_result_entities(result, 0, &n);
    size_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        bert_span chars;
        if (e[i].bytes.begin > e[i].bytes.end || e[i].bytes.end > len || !e[i].word || !e[i].label)
            abort();
        if (bert_spans_to_codepoints(t.a, len, &e[i].bytes, 1, &chars) != BERT_OK || chars.begin != e[i].chars.begin ||
            chars.end != e[i].chars.end)
            abort();
        if (!(e[i].score >= 0.f && e[i].score <= 1.f))
            abort();
        if (!known_label(e[i].label, agg != BERT_AGG_NONE))
            abort();
        if ((agg == BERT_AGG_NONE) != (e[i].index >= 0))
            abort();
        if (e[i].bytes.begin < prev)
            abort();
        prev = e[i].bytes.begin;
    }
    return 0;
}
