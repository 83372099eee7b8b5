/* For every model in ../shared/models: every hidden_states.N, pooler_output and logits tensor of
 * ../shared/fixtures/<model>/hidden_states.safetensors (transformers 5.17, fp32) reproduced within
 * 1e-4 absolute at every unpadded position, fed the fixture's own ids, type ids and mask; with the
 * weights packed (the default) and mapped (BERT_WEIGHTS_MAPPED), which reads F32 files' weights in
 * place and falls back to packing for F16/BF16 ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "encoder/encoder.h"
#include "support.h"

/* HF's fp32 reference vs our fp32 arithmetic (different summation orders): the project's tolerance. */
#define ATOL 1e-4

typedef struct fixture {
    char *data;
    size_t len;
    bert__checkpoint ck;
} fixture;

static void fixture_open(const char *model, fixture *f)
{
    char rel[256], err[512];
    snprintf(rel, sizeof rel, "fixtures/%s/hidden_states.safetensors", model);
    memset(f, 0, sizeof *f);
    assert_int_equal(bert__read_file(test_shared_path(rel), &f->data, &f->len, err, sizeof err), BERT_OK);
    if (bert__safetensors_parse((const unsigned char *)f->data, f->len, rel, 0, &f->ck, err, sizeof err) != BERT_OK)
        fail_msg("%s", err);
}

static const bert__tensor *get(const fixture *f, const char *name)
{
    const bert__tensor *t = bert__checkpoint_find(&f->ck, name);
    if (!t)
        fail_msg("fixture tensor %s missing", name);
    return t;
}

/* Max |a - b| over rows where mask is set (row = one position of `width` floats). */
static double max_diff(const float *got, const bert__tensor *ref, const int32_t *mask, size_t rows, size_t width)
{
    const float *want = (const float *)(const void *)ref->data;
    double worst = 0;
    for (size_t r = 0; r < rows; r++) {
        if (mask && !mask[r])
            continue;
        for (size_t i = 0; i < width; i++) {
            double d = got[r * width + i] - want[r * width + i];
            if (d < 0)
                d = -d;
            if (!(d <= worst)) /* NaN counts as the worst */
                worst = d != d ? 1e30 : d;
        }
    }
    return worst;
}

/* Runs the fixture through the model loaded with `weights`; returns the bytes it read in place. */
static size_t run_model_as(const char *name, bert_weights weights)
{
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/models/%s", test_shared_dir(), name);
    bert_model *m = NULL;
    bert_model_params mp = bert_model_default_params();
    mp.weights = weights;
    if (bert_model_load(dir, &mp, &m, err, sizeof err) != BERT_OK)
        fail_msg("%s", err);
    bert_model_info in = bert_model_get_info(m);
    fixture f;
    fixture_open(name, &f);
    const bert__tensor *ids_t = get(&f, "input_ids"), *types_t = get(&f, "token_type_ids"),
                       *mask_t = get(&f, "attention_mask");
    const size_t B = ids_t->shape[0], T = ids_t->shape[1], H = in.hidden_size;
    const int32_t *ids = (const int32_t *)(const void *)ids_t->data;
    const int32_t *types = (const int32_t *)(const void *)types_t->data;
    const int32_t *mask32 = (const int32_t *)(const void *)mask_t->data;
    uint8_t mask[4096];
    assert_true(B * T <= sizeof mask);
    for (size_t i = 0; i < B * T; i++)
        mask[i] = (uint8_t)(mask32[i] != 0);

    bert_ctx *ctx = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
    bert_run_params rp = bert_run_default_params();
    rp.all_hidden_states = 1;
    if (bert_ctx_run(ctx, ids, types, mask, B, T, &rp) != BERT_OK)
        fail_msg("%s: %s", name, bert_ctx_errmsg(ctx));

    double worst = 0;
    size_t compared = 0;
    for (size_t l = 0; l <= in.n_layers; l++) {
        char key[64];
        snprintf(key, sizeof key, "hidden_states.%zu", l);
        double d = max_diff(bert_ctx_hidden(ctx, (int)l), get(&f, key), mask32, B * T, H);
        if (d > ATOL)
            fail_msg("%s: %s differs by %g (> %g)", name, key, d, ATOL);
        worst = d > worst ? d : worst;
        compared++;
    }
    /* the pooled output is the first token's dense + activation: BERT's and ALBERT's pooler, the
     * classification head's inner layer of the families that have one there */
    const bert__tensor *pool = bert__checkpoint_find(&f.ck, "pooler_output");
    if (!pool)
        pool = bert__checkpoint_find(&f.ck, "classifier_hidden");
    if (pool) {
        assert_non_null(bert_ctx_pooled(ctx));
        double d = max_diff(bert_ctx_pooled(ctx), pool, NULL, B, H);
        if (d > ATOL)
            fail_msg("%s: %s differs by %g", name, pool->name, d);
        worst = d > worst ? d : worst;
        compared++;
    } else {
        assert_null(bert_ctx_pooled(ctx));
    }
    const bert__tensor *logits = bert__checkpoint_find(&f.ck, "logits");
    if (logits) {
        assert_non_null(bert_ctx_logits(ctx));
        const int per_token = logits->ndim == 3;
        double d =
            max_diff(bert_ctx_logits(ctx), logits, per_token ? mask32 : NULL, per_token ? B * T : B, in.n_labels);
        if (d > ATOL)
            fail_msg("%s: logits differ by %g", name, d);
        worst = d > worst ? d : worst;
        compared++;
    }
    printf("%s (%s weights): %zu tensors compared (batch %zu x %zu), max |diff| %.3g\n", name,
           weights == BERT_WEIGHTS_MAPPED ? "mapped" : "packed", compared, B, T, worst);
    assert_true(compared >= in.n_layers + 1);
    bert_ctx_free(ctx);
    bert__checkpoint_close(&f.ck);
    bert__free(f.data);
    bert_model_free(m);
    return in.mapped_bytes;
}

/* Both ways, and what each read in place: packed, the F32 embedding tables; mapped, also every
 * layer's four matmul weights and the pooler's (F32 files), nothing more for F16/BF16 files. */
static void run_model(const char *name)
{
    const size_t packed = run_model_as(name, BERT_WEIGHTS_PACKED);
    const size_t mapped = run_model_as(name, BERT_WEIGHTS_MAPPED);
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/models/%s", test_shared_dir(), name);
    bert_model *m = NULL;
    if (bert_model_load(dir, NULL, &m, err, sizeof err) != BERT_OK)
        fail_msg("%s", err);
    const bert_model_info in = bert_model_get_info(m);
    const size_t H = in.hidden_size, f32 = !strcmp(in.dtype, "F32");
    if (strcmp(in.model_type, "bert") != 0) {
        /* other layouts (projections, shared groups, relative tables): what is read in place
         * only grows with BERT_WEIGHTS_MAPPED, and only for F32 files */
        bert_model_free(m);
        assert_true(f32 ? mapped > packed : mapped == packed);
        return;
    }
    const size_t tables = (in.vocab_size + in.max_positions + in.type_vocab_size) * H * sizeof(float);
    const size_t layers = in.n_layers * (4 * H * H + 2 * H * in.intermediate_size) * sizeof(float);
    const size_t pooler = in.has_pooler ? H * H * sizeof(float) : 0;
    bert_model_free(m);
    assert_true(packed >= (f32 ? tables : 0));
    assert_true(packed <= (f32 ? tables + in.vocab_size * H * sizeof(float) : 0)); /* + an untied LM decoder */
    assert_int_equal(mapped, f32 ? packed + layers + pooler : packed);
}

#define MODEL_TEST(fn, name)     \
    static void fn(void **state) \
    {                            \
        (void)state;             \
        run_model(name);         \
    }
MODEL_TEST(test_mini_mlm, "mini-mlm")
MODEL_TEST(test_mini_sst2, "mini-sst2")
MODEL_TEST(test_mini_stsb, "mini-stsb")
MODEL_TEST(test_mini_conll03_ner, "mini-conll03-ner")
MODEL_TEST(test_tiny_gelu_3labels, "tiny-gelu-3labels")
MODEL_TEST(test_tiny_gelunew_multilabel, "tiny-gelunew-multilabel")
MODEL_TEST(test_tiny_relu_regression, "tiny-relu-regression")
MODEL_TEST(test_tiny_maxpos64_type1, "tiny-maxpos64-type1")
MODEL_TEST(test_tiny_ner_5labels, "tiny-ner-5labels")
MODEL_TEST(test_tiny_causal, "tiny-causal")
MODEL_TEST(test_tiny_distilbert_seqcls, "tiny-distilbert-seqcls")
MODEL_TEST(test_tiny_distilbert_tokcls, "tiny-distilbert-tokcls")
MODEL_TEST(test_tiny_distilbert_mlm, "tiny-distilbert-mlm")
MODEL_TEST(test_tiny_roberta_seqcls, "tiny-roberta-seqcls")
MODEL_TEST(test_tiny_roberta_tokcls, "tiny-roberta-tokcls")
MODEL_TEST(test_tiny_roberta_mlm, "tiny-roberta-mlm")
MODEL_TEST(test_tiny_xlmr_seqcls, "tiny-xlmr-seqcls")
MODEL_TEST(test_tiny_electra_seqcls, "tiny-electra-seqcls")
MODEL_TEST(test_tiny_albert_seqcls, "tiny-albert-seqcls")
MODEL_TEST(test_tiny_debertav3_seqcls, "tiny-debertav3-seqcls")
MODEL_TEST(test_tiny_mpnet_seqcls, "tiny-mpnet-seqcls")

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mini_mlm),
        cmocka_unit_test(test_mini_sst2),
        cmocka_unit_test(test_mini_stsb),
        cmocka_unit_test(test_mini_conll03_ner),
        cmocka_unit_test(test_tiny_gelu_3labels),
        cmocka_unit_test(test_tiny_gelunew_multilabel),
        cmocka_unit_test(test_tiny_relu_regression),
        cmocka_unit_test(test_tiny_maxpos64_type1),
        cmocka_unit_test(test_tiny_ner_5labels),
        cmocka_unit_test(test_tiny_causal),
        cmocka_unit_test(test_tiny_distilbert_seqcls),
        cmocka_unit_test(test_tiny_distilbert_tokcls),
        cmocka_unit_test(test_tiny_distilbert_mlm),
        cmocka_unit_test(test_tiny_roberta_seqcls),
        cmocka_unit_test(test_tiny_roberta_tokcls),
        cmocka_unit_test(test_tiny_roberta_mlm),
        cmocka_unit_test(test_tiny_xlmr_seqcls),
        cmocka_unit_test(test_tiny_electra_seqcls),
        cmocka_unit_test(test_tiny_albert_seqcls),
        cmocka_unit_test(test_tiny_debertav3_seqcls),
        cmocka_unit_test(test_tiny_mpnet_seqcls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
