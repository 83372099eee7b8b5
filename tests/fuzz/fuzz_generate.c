/* libFuzzer target: generation parameters. (1) The sampler on logits the input gives (1-256 of
 * them, ties on purpose) with any temperature, top-k and top-p: the token drawn is a valid id,
 * within the top k (ties with the k-th kept), the same for the same seed, and the most likely one
 * when the temperature is too small for any other to have a chance. (2) bert_generate on a small
 * causal model written at start, with parameters and prompt ids from the input (out of range,
 * NaN, 0 tokens): a refusal is BERT_E_INVALID_ARG or BERT_E_BUFFER_TOO_SMALL with a message; a
 * success keeps the prompt, adds valid ids only, ends at the end-of-sequence id if it comes, never
 * writes past the room it was given, and is the same with and without the key/value cache. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bert/bert.h>

#include "encoder/encoder.h"
#include "fuzz.h"
#include "tiny_model.h"

enum { V_MODEL = 16, MAX_V = 256 };

static char dir[64];
static bert_model *model;
static bert_ctx *ctx;

static void cleanup(void)
{
    bert_ctx_free(ctx);
    bert_model_free(model);
    fuzz_tiny_remove(dir);
}

static void setup(void)
{
    char err[512] = "";
    bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = 1;
    if (fuzz_tiny_dir("fuzz_generate", dir, sizeof dir) != 0 ||
        fuzz_tiny_model(dir, "BertLMHeadModel", V_MODEL, 8, 1, NULL, NULL, 7) != 0 ||
        bert_model_load(dir, NULL, &model, err, sizeof err) != BERT_OK ||
        bert_ctx_new(model, &cp, &ctx, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "fuzz_generate: setup: %s\n", err);
        abort();
    }
    atexit(cleanup);
}

/* A float from 4 input bytes: any bit pattern (NaN, infinities, denormals, negative zero). */
static float f32(const uint8_t *b)
{
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void sampler(const uint8_t *d, size_t size)
{
    /* d[0..4) temperature, d[4] top_k, d[5..9) top_p, d[9..17) seed, then the logits, a byte each */
    if (size < 18)
        return;
    bert_generate_params p = bert_generate_default_params();
    p.do_sample = 1;
    p.temperature = f32(d);
    p.top_k = d[4] % 8 == 7 ? 0 : d[4] / 8;
    p.top_p = f32(d + 5);
    memcpy(&p.seed, d + 9, 8);
    /* bert_generate refuses these before sampling (its own checks are fuzzed below) */
    if (!(p.temperature > 0.f) || !isfinite(p.temperature) || !(p.top_p > 0.f && p.top_p <= 1.f))
        return;
    const uint8_t *lb = d + 17;
    const size_t V = size - 17 > MAX_V ? MAX_V : size - 17;
    float l[MAX_V];
    for (size_t i = 0; i < V; i++)
        l[i] = ((float)lb[i] - 128.f) / 4.f;
    static bert__cand c[MAX_V];
    uint64_t rng = p.seed, rng2 = p.seed;
    const int32_t id = bert__sample(l, V, &p, &rng, c);
    if (id < 0 || (size_t)id >= V)
        abort();
    if (bert__sample(l, V, &p, &rng2, c) != id || rng != rng2)
        abort();
    size_t above = 0, best = 0;
    for (size_t i = 0; i < V; i++) {
        above += l[i] > l[id];
        best = l[i] > l[best] ? i : best;
    }
    if (p.top_k && above >= p.top_k)
        abort(); /* outside the top k, ties with the k-th included */
    /* so small a temperature that every other token's weight underflows to 0: the argmax (or one
     * tied with it) */
    double gap = INFINITY;
    for (size_t i = 0; i < V; i++)
        if (l[i] < l[best])
            gap = fmin(gap, (double)l[best] - (double)l[i]);
    if (isfinite(gap) && gap / (double)p.temperature > 800.0 && l[id] != l[best])
        abort();
}

static void generation(const uint8_t *d, size_t size)
{
    /* d[0] flags, d[1] max_new_tokens, d[2..6) temperature, d[6] top_k, d[7..11) top_p, d[11] eos,
     * d[12] the room, then prompt ids (a byte each, some out of range) */
    if (size < 13)
        return;
    bert_generate_params p = bert_generate_default_params();
    p.do_sample = d[0] & 1;
    p.max_new_tokens = d[1] % 12;
    p.temperature = d[0] & 2 ? f32(d + 2) : (float)d[2] / 64.f;
    p.top_k = d[6] % 20;
    p.top_p = d[0] & 4 ? f32(d + 7) : (float)d[7] / 255.f;
    p.eos_id = d[0] & 8 ? (int32_t)(d[11] % (V_MODEL + 2)) - 1 : -1;
    p.seed = d[0] >> 4;
    const size_t n_prompt = size - 13 > 20 ? 20 : size - 13;
    int32_t prompt[20], out[64], again[64];
    for (size_t i = 0; i < n_prompt; i++)
        prompt[i] = d[13 + i] < 250 ? d[13 + i] % V_MODEL : (int32_t)d[13 + i] - 252; /* -2..3 */
    const size_t cap = d[12] % 40;
    for (size_t i = 0; i < 64; i++)
        out[i] = again[i] = -7;
    size_t n = 0, n2 = 0;
    p.use_cache = 1;
    const bert_status st = bert_generate(ctx, n_prompt ? prompt : NULL, n_prompt, &p, out, cap, &n, NULL, NULL);
    for (size_t i = cap; i < 64; i++)
        if (out[i] != -7)
            abort(); /* wrote past the room it had */
    if (st != BERT_OK) {
        if ((st != BERT_E_INVALID_ARG && st != BERT_E_BUFFER_TOO_SMALL) || !bert_ctx_errmsg(ctx)[0])
            abort();
        return;
    }
    if (n < n_prompt || n > n_prompt + p.max_new_tokens || memcmp(out, prompt, n_prompt * sizeof *out) != 0)
        abort();
    for (size_t i = n_prompt; i < n; i++) {
        if (out[i] < 0 || out[i] >= V_MODEL)
            abort();
        if (p.eos_id >= 0 && out[i] == p.eos_id && i + 1 != n)
            abort(); /* went on past the end-of-sequence id */
    }
    if (d[0] & 16) { /* the same without the cache: every prefix run again */
        p.use_cache = 0;
        if (bert_generate(ctx, prompt, n_prompt, &p, again, cap, &n2, NULL, NULL) != BERT_OK)
            abort();
        /* the same tokens, unless two logits are so close that the two paths' last-bit differences
         * decide between them: only greedy search is compared (a sampled draw near a boundary may
         * differ, and an end-of-sequence id then comes at another step) */
        if (!p.do_sample && (n2 != n || memcmp(out, again, n * sizeof *out) != 0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 4096)
        return 0;
    if (!model)
        setup();
    if (data[0] & 1)
        sampler(data + 1, size - 1);
    else
        generation(data + 1, size - 1);
    return 0;
}
