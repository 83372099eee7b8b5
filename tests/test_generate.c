/* The causal decoder and generation:
 * - fixtures/tiny-causal/greedy_reference.json: output_ids reproduced token for token for both
 *   prompts, and their decoded text identical;
 * - the cached path and a full recomputation give the same next-token logits within 1e-5 at every
 *   step of a 24-token generation;
 * - sampling with the same seed gives the same tokens twice (and another seed differs);
 * - bad parameters are clear errors; the cache stops at max_position_embeddings. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "support.h"

#define CACHE_ATOL 1e-5 /* the bound: cached and recomputed logits, both our fp32 arithmetic */

static bert_model *model;
static bert_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/models/tiny-causal", test_shared_dir());
    if (bert_model_load(dir, NULL, &model, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return bert_ctx_new(model, NULL, &ctx, err, sizeof err) == BERT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bert_ctx_free(ctx);
    bert_model_free(model);
    return 0;
}

static void test_greedy_reference(void **state)
{
    (void)state;
    json_t *ref = test_read_json(test_shared_path("fixtures/tiny-causal/greedy_reference.json"));
    assert_int_equal(json_array_size(ref), 2);
    for (size_t r = 0; r < json_array_size(ref); r++) {
        json_t *row = json_array_get(ref, r), *pj = json_object_get(row, "prompt_ids"),
               *oj = json_object_get(row, "output_ids");
        int32_t prompt[64], out[128];
        size_t np = json_array_size(pj), n = 0;
        for (size_t i = 0; i < np; i++)
            prompt[i] = (int32_t)json_integer_value(json_array_get(pj, i));
        /* the prompt as the fixture built it: [CLS] + WordPieces, no final [SEP] */
        bert_batch *b = NULL;
        assert_int_equal(bert_batch_new(&b, NULL, 0), BERT_OK);
        json_t *pt = json_object_get(row, "prompt");
        bert_text t = {json_string_value(pt), json_string_length(pt), NULL, 0};
        assert_int_equal(bert_batch_encode(b, bert_model_tokenizer(model), &t, 1, NULL), BERT_OK);
        bert_batch_view v = bert_batch_get(b);
        assert_int_equal(v.lengths[0] - 1, np);
        assert_memory_equal(v.ids, prompt, np * sizeof(int32_t));
        bert_batch_free(b);

        bert_generate_params gp = bert_generate_default_params();
        gp.max_new_tokens = 24;
        if (bert_generate(ctx, prompt, np, &gp, out, 128, &n, NULL, NULL) != BERT_OK)
            fail_msg("%s", bert_ctx_errmsg(ctx));
        assert_int_equal(n, json_array_size(oj));
        for (size_t i = 0; i < n; i++)
            if (out[i] != json_integer_value(json_array_get(oj, i)))
                fail_msg("prompt %zu: token %zu is %d, reference %d", r, i, out[i],
                         (int)json_integer_value(json_array_get(oj, i)));
        char text[2048];
        size_t len = 0;
        assert_int_equal(bert_tokenizer_decode(bert_model_tokenizer(model), out, n, 1, text, sizeof text, &len), BERT_OK);
        assert_string_equal(text, json_string_value(json_object_get(row, "text")));
        printf("greedy prompt %zu: %zu tokens identical, text identical\n", r, n);
    }
    json_decref(ref);
}

static void test_cached_and_recomputed_logits_agree(void **state)
{
    (void)state;
    const size_t V = bert_model_get_info(model).vocab_size;
    int32_t ids[64] = {101, 2320, 2588, 1037, 2051};
    size_t n = 5;
    static float cached[30522];
    double worst = 0;
    assert_int_equal(bert_ctx_prefill(ctx, ids, n), BERT_OK);
    for (size_t step = 0; step < 24; step++) {
        memcpy(cached, bert_ctx_next_logits(ctx), V * sizeof(float));
        /* full recomputation of the whole prefix, causal, then the LM head at its last position */
        bert_run_params rp = bert_run_default_params();
        rp.attn_mode = BERT_ATTN_CAUSAL;
        assert_int_equal(bert_ctx_run(ctx, ids, NULL, NULL, 1, n, &rp), BERT_OK);
        size_t row = 0, pos = n - 1;
        const float *full = bert_ctx_lm_logits(ctx, &row, &pos, 1);
        assert_non_null(full);
        size_t best = 0;
        for (size_t i = 0; i < V; i++) {
            double d = fabs((double)full[i] - cached[i]);
            worst = d > worst ? d : worst;
            if (d > CACHE_ATOL)
                fail_msg("step %zu, token %zu: cached %g vs recomputed %g", step, i, cached[i], full[i]);
            if (cached[i] > cached[best])
                best = i;
        }
        ids[n++] = (int32_t)best;
        /* the run above reset the cache: rebuild it from the prefix, then take the step */
        assert_int_equal(bert_ctx_cache_len(ctx), 0);
        assert_int_equal(bert_ctx_prefill(ctx, ids, n - 1), BERT_OK);
        assert_int_equal(bert_ctx_step(ctx, (int32_t)best), BERT_OK);
        assert_int_equal(bert_ctx_cache_len(ctx), n);
    }
    printf("cache vs recompute: 24 steps, max |logit diff| %.3g\n", worst);
    /* and use_cache = 0 generates the same tokens as use_cache = 1 */
    bert_generate_params gp = bert_generate_default_params();
    gp.max_new_tokens = 24;
    int32_t a[64], b[64];
    size_t na, nb;
    assert_int_equal(bert_generate(ctx, ids, 5, &gp, a, 64, &na, NULL, NULL), BERT_OK);
    gp.use_cache = 0;
    assert_int_equal(bert_generate(ctx, ids, 5, &gp, b, 64, &nb, NULL, NULL), BERT_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof(int32_t));
    assert_memory_equal(a, ids, na * sizeof(int32_t));
}

static int stop_after_3(int32_t id, void *user)
{
    (void)id;
    return ++*(int *)user == 3;
}

static void test_sampling_is_reproducible(void **state)
{
    (void)state;
    const int32_t prompt[3] = {101, 1996, 4248};
    bert_generate_params gp = bert_generate_default_params();
    gp.do_sample = 1;
    gp.temperature = 1.5f;
    gp.top_k = 40;
    gp.top_p = 0.9f;
    gp.seed = 42;
    gp.max_new_tokens = 24;
    gp.eos_id = 0; /* never produced here: run the full length */
    int32_t a[32], b[32], c[32];
    size_t na, nb, nc;
    assert_int_equal(bert_generate(ctx, prompt, 3, &gp, a, 32, &na, NULL, NULL), BERT_OK);
    assert_int_equal(bert_generate(ctx, prompt, 3, &gp, b, 32, &nb, NULL, NULL), BERT_OK);
    assert_int_equal(na, 27);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof(int32_t));
    gp.seed = 43;
    assert_int_equal(bert_generate(ctx, prompt, 3, &gp, c, 32, &nc, NULL, NULL), BERT_OK);
    assert_memory_not_equal(a, c, na * sizeof(int32_t));
    /* top_k 1 sampling is greedy */
    gp.top_k = 1;
    gp.do_sample = 1;
    assert_int_equal(bert_generate(ctx, prompt, 3, &gp, a, 32, &na, NULL, NULL), BERT_OK);
    gp.do_sample = 0;
    assert_int_equal(bert_generate(ctx, prompt, 3, &gp, b, 32, &nb, NULL, NULL), BERT_OK);
    assert_memory_equal(a, b, na * sizeof(int32_t));
    /* a temperature near 0 (the smallest float, with every token and the nucleus kept) is greedy
     * too: the logits over it overflowed float, and the least likely token came out every step */
    gp.do_sample = 1;
    gp.top_k = 0;
    gp.top_p = 1.f;
    gp.temperature = 1e-45f;
    assert_int_equal(bert_generate(ctx, prompt, 3, &gp, c, 32, &nc, NULL, NULL), BERT_OK);
    assert_int_equal(nc, nb);
    assert_memory_equal(c, b, nb * sizeof(int32_t));
    gp.temperature = 1.5f;
    /* a streaming callback can stop it */
    int calls = 0;
    assert_int_equal(bert_generate(ctx, prompt, 3, &gp, a, 32, &na, stop_after_3, &calls), BERT_OK);
    assert_int_equal(na, 6);
}

static void test_bad_parameters_and_limits(void **state)
{
    (void)state;
    const int32_t prompt[2] = {101, 1996};
    int32_t out[600];
    size_t n = 0;
    bert_generate_params gp = bert_generate_default_params();
    gp.do_sample = 1;
    gp.top_p = 1.5f;
    assert_int_equal(bert_generate(ctx, prompt, 2, &gp, out, 600, &n, NULL, NULL), BERT_E_INVALID_ARG);
    assert_non_null(strstr(bert_ctx_errmsg(ctx), "top_p 1.5 is outside (0, 1]"));
    gp.top_p = 0.f;
    assert_int_equal(bert_generate(ctx, prompt, 2, &gp, out, 600, &n, NULL, NULL), BERT_E_INVALID_ARG);
    gp.top_p = 1.f;
    gp.temperature = -1.f;
    assert_int_equal(bert_generate(ctx, prompt, 2, &gp, out, 600, &n, NULL, NULL), BERT_E_INVALID_ARG);
    assert_non_null(strstr(bert_ctx_errmsg(ctx), "temperature"));
    gp = bert_generate_default_params();
    assert_int_equal(bert_generate(ctx, prompt, 0, &gp, out, 600, &n, NULL, NULL), BERT_E_INVALID_ARG);
    assert_non_null(strstr(bert_ctx_errmsg(ctx), "prompt is empty"));
    assert_int_equal(bert_generate(ctx, prompt, 2, &gp, out, 10, &n, NULL, NULL), BERT_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 22);
    /* the cache is bounded: generation stops at max_position_embeddings, a step past it errs */
    gp.max_new_tokens = 580;
    gp.eos_id = 0;
    assert_int_equal(bert_generate(ctx, prompt, 2, &gp, out, 600, &n, NULL, NULL), BERT_OK);
    assert_int_equal(n, 512);
    assert_int_equal(bert_ctx_cache_len(ctx), 511);
    assert_int_equal(bert_ctx_step(ctx, out[511]), BERT_OK);
    assert_int_equal(bert_ctx_step(ctx, 1996), BERT_E_TOO_LONG);
    assert_int_equal(bert_ctx_step(ctx, -4), BERT_E_TOO_LONG);
    assert_int_equal(bert_ctx_prefill(ctx, prompt, 2), BERT_OK);
    assert_int_equal(bert_ctx_step(ctx, 30522), BERT_E_INVALID_ARG);
    /* a model without an LM head cannot generate */
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/models/tiny-gelu-3labels", test_shared_dir());
    bert_model *m = NULL;
    bert_ctx *c = NULL;
    assert_int_equal(bert_model_load(dir, NULL, &m, err, sizeof err), BERT_OK);
    assert_int_equal(bert_ctx_new(m, NULL, &c, err, sizeof err), BERT_OK);
    assert_int_equal(bert_ctx_prefill(c, prompt, 2), BERT_E_UNSUPPORTED);
    assert_non_null(strstr(bert_ctx_errmsg(c), "no LM head"));
    bert_ctx_free(c);
    bert_model_free(m);
}

static void test_decode_rules(void **state)
{
    (void)state;
    const bert_tokenizer *tok = bert_model_tokenizer(model);
    /* [CLS] he ' s un ##believ ##able , isn ' t he ? [SEP] */
    const char *words[] = {"[CLS]", "he", "'", "s", "un", "##bel", "##ie", "##va", "##ble", ",", "really", "!", "[SEP]"};
    int32_t ids[16];
    for (size_t i = 0; i < 13; i++) {
        ids[i] = bert_tokenizer_token_to_id(tok, words[i], strlen(words[i]));
        assert_true(ids[i] >= 0);
    }
    char out[128];
    size_t len;
    assert_int_equal(bert_tokenizer_decode(tok, ids, 13, 1, out, sizeof out, &len), BERT_OK);
    assert_string_equal(out, "he ' s unbelievable, really!");
    assert_int_equal(bert_tokenizer_decode(tok, ids, 13, 0, out, sizeof out, &len), BERT_OK);
    assert_string_equal(out, "[CLS] he ' s unbelievable, really! [SEP]");
    assert_int_equal(bert_tokenizer_decode(tok, ids, 13, 1, out, 8, &len), BERT_E_BUFFER_TOO_SMALL);
    assert_int_equal(len, strlen("he ' s unbelievable, really!"));
    int32_t bad = 99999;
    assert_int_equal(bert_tokenizer_decode(tok, &bad, 1, 1, out, sizeof out, &len), BERT_E_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_reference),          cmocka_unit_test(test_cached_and_recomputed_logits_agree),
        cmocka_unit_test(test_sampling_is_reproducible),  cmocka_unit_test(test_bad_parameters_and_limits),
        cmocka_unit_test(test_decode_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
