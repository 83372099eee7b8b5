/* For every model in ../shared/models: every hidden_states.N, pooler_output and logits tensor of
 * ../shared/fixtures/<model>/hidden_states.safetensors (transformers 5.17, fp32) reproduced within
 * 1e-4 absolute at every unpadded position, fed the fixture's own ids, type ids and mask; with the
 * weights packed (the default) and mapped (BERT_WEIGHTS_MAPPED), which reads F32 files' weights in
 * place and falls back to packing for F16/BF16 ones.
 * The heads no fixture covers (ALBERT's and ELECTRA's masked LM at embedding_size, ELECTRA's
 * replaced-token discriminator) on checkpoints made here: a fixture model's encoder plus random
 * head tensors under transformers' names, the encoder still matching its fixture and the head's
 * outputs matching the head's formula evaluated in double from the verified last hidden state. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

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

/* ---- heads without a fixture ---- */

typedef struct extra {
    const char *name;
    size_t rows, cols; /* cols 0: a vector */
    int ones;          /* a LayerNorm weight: 1 + noise */
    float *v;
} extra;

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* dir/model.safetensors = the fixture model's tensors (bytes as stored) + the extras (F32), and
 * dir/config.json = its config with architectures[0] = arch. */
static const char *synth_model(const char *base, const char *arch, extra *x, size_t nx)
{
    char rel[256], err[512];
    static char dir[600];
    snprintf(dir, sizeof dir, "%s/%s-%s", test_tmpdir(), base, arch);
    snprintf(rel, sizeof rel, "%s/models/%s/config.json", test_shared_dir(), base);
    json_error_t je;
    json_t *cfg = json_load_file(rel, 0, &je);
    assert_non_null(cfg);
    json_object_set_new(cfg, "architectures", json_pack("[s]", arch));
    char *cs = json_dumps(cfg, JSON_INDENT(1));
    assert_non_null(cs);
    assert_int_equal(mkdir(dir, 0777) == 0 || errno == EEXIST, 1);
    test_write_file(dir, "config.json", cs, strlen(cs));
    free(cs);
    json_decref(cfg);
    snprintf(rel, sizeof rel, "%s/models/%s/model.safetensors", test_shared_dir(), base);
    char *src;
    size_t len;
    bert__checkpoint ck;
    memset(&ck, 0, sizeof ck);
    assert_int_equal(bert__read_file(rel, &src, &len, err, sizeof err), BERT_OK);
    assert_int_equal(bert__safetensors_parse((const unsigned char *)src, len, rel, 0, &ck, err, sizeof err), BERT_OK);
    static const char *const dt[3] = {"F32", "F16", "BF16"};
    json_t *hdr = json_object();
    size_t off = 0;
    for (size_t i = 0; i < ck.n; i++) {
        const bert__tensor *t = &ck.tensors[i];
        json_t *shape = json_array();
        for (size_t d = 0; d < t->ndim; d++)
            json_array_append_new(shape, json_integer((json_int_t)t->shape[d]));
        json_object_set_new(hdr, t->name,
                            json_pack("{s:s, s:o, s:[I, I]}", "dtype", dt[t->dtype], "shape", shape, "data_offsets",
                                      (json_int_t)off, (json_int_t)(off + t->nbytes)));
        off += t->nbytes;
    }
    unsigned seed = 77;
    for (size_t i = 0; i < nx; i++) {
        const size_t n = x[i].rows * (x[i].cols ? x[i].cols : 1);
        x[i].v = malloc(n * sizeof(float));
        assert_non_null(x[i].v);
        for (size_t k = 0; k < n; k++)
            x[i].v[k] = (x[i].ones ? 1.f : 0.f) + ((float)(lcg(&seed) & 0xFFFF) / 65536.f - 0.5f) * 0.4f;
        json_t *shape = x[i].cols ? json_pack("[I, I]", (json_int_t)x[i].rows, (json_int_t)x[i].cols)
                                  : json_pack("[I]", (json_int_t)x[i].rows);
        json_object_set_new(hdr, x[i].name,
                            json_pack("{s:s, s:o, s:[I, I]}", "dtype", "F32", "shape", shape, "data_offsets",
                                      (json_int_t)off, (json_int_t)(off + n * sizeof(float))));
        off += n * sizeof(float);
    }
    char *hs = json_dumps(hdr, JSON_COMPACT);
    assert_non_null(hs);
    size_t hl = strlen(hs), pad = (8 - hl % 8) % 8;
    char *out = malloc(8 + hl + pad + off);
    assert_non_null(out);
    for (int b = 0; b < 8; b++)
        out[b] = (char)(((hl + pad) >> (8 * b)) & 0xFF);
    memcpy(out + 8, hs, hl);
    memset(out + 8 + hl, ' ', pad);
    char *p = out + 8 + hl + pad;
    for (size_t i = 0; i < ck.n; i++) {
        memcpy(p, ck.tensors[i].data, ck.tensors[i].nbytes);
        p += ck.tensors[i].nbytes;
    }
    for (size_t i = 0; i < nx; i++) {
        const size_t n = x[i].rows * (x[i].cols ? x[i].cols : 1);
        memcpy(p, x[i].v, n * sizeof(float));
        p += n * sizeof(float);
    }
    test_write_file(dir, "model.safetensors", out, (size_t)(p - out));
    free(out);
    free(hs);
    json_decref(hdr);
    bert__checkpoint_close(&ck);
    bert__free(src);
    return dir;
}

static double gelu_d(double x, int tanh_form)
{
    if (tanh_form)
        return 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    return 0.5 * x * (1 + erf(x / sqrt(2.0)));
}

/* out[o] = act(W x + b) over rows of W [n_out, n_in] */
static void dense_d(const float *w, const float *b, const double *x, size_t n_in, size_t n_out, int act_tanh_gelu,
                    int act, double *out)
{
    for (size_t o = 0; o < n_out; o++) {
        double a = b ? b[o] : 0;
        for (size_t i = 0; i < n_in; i++)
            a += (double)w[o * n_in + i] * x[i];
        out[o] = act ? gelu_d(a, act_tanh_gelu) : a;
    }
}

static void layer_norm_d(double *x, size_t n, const float *g, const float *b, double eps)
{
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var /= (double)n;
    for (size_t i = 0; i < n; i++)
        x[i] = (x[i] - mean) / sqrt(var + eps) * g[i] + b[i];
}

/* The fixture's inputs through the synthesized model: the hidden states still the fixture's; then
 * the masked-LM logits at every real position (lm) or the discriminator's logits, against the
 * head's formula in double. */
static void check_synth(const char *base, const char *dir, int lm, int gelu_tanh, extra *x)
{
    char err[512];
    bert_model *m = NULL;
    bert_model_params mp = bert_model_default_params();
    mp.load_tokenizer = 0;
    if (bert_model_load(dir, &mp, &m, err, sizeof err) != BERT_OK)
        fail_msg("%s", err);
    const bert_model_info in = bert_model_get_info(m);
    fixture f;
    fixture_open(base, &f);
    const bert__tensor *it = get(&f, "input_ids"), *tt = get(&f, "token_type_ids"), *mt = get(&f, "attention_mask");
    const size_t B = it->shape[0], T = it->shape[1], H = in.hidden_size, E = in.embedding_size, V = in.vocab_size;
    const int32_t *m32 = (const int32_t *)(const void *)mt->data;
    uint8_t mask[4096];
    for (size_t i = 0; i < B * T; i++)
        mask[i] = m32[i] != 0;
    bert_ctx *ctx = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
    if (bert_ctx_run(ctx, (const int32_t *)(const void *)it->data, (const int32_t *)(const void *)tt->data, mask, B, T,
                     NULL) != BERT_OK)
        fail_msg("%s", bert_ctx_errmsg(ctx));
    char key[32];
    snprintf(key, sizeof key, "hidden_states.%zu", in.n_layers);
    const double dh = max_diff(bert_ctx_hidden(ctx, -1), get(&f, key), m32, B * T, H);
    assert_true(dh <= ATOL);
    const float *last = bert_ctx_hidden(ctx, -1);
    double *xd = malloc(H * sizeof *xd), *t = malloc(H * sizeof *t), *y = malloc(V * sizeof *y), worst = 0;
    assert_true(xd && t && y);
    size_t checked = 0;
    for (size_t r = 0; r < B * T; r++) {
        if (!m32[r])
            continue;
        for (size_t i = 0; i < H; i++)
            xd[i] = last[r * H + i];
        if (lm) {
            /* x[0] dense [E, H], x[1] its bias, x[2] LayerNorm weight, x[3] its bias, x[4] the
             * decoder bias; the decoder weight is the word embeddings (tied) */
            dense_d(x[0].v, x[1].v, xd, H, E, gelu_tanh, 1, t);
            layer_norm_d(t, E, x[2].v, x[3].v, in.layer_norm_eps);
            char found[8];
            (void)found;
            const size_t row = r / T, pos = r % T;
            const float *got = bert_ctx_lm_logits(ctx, &row, &pos, 1);
            assert_non_null(got);
            const float *word = m->word_emb;
            dense_d(word, x[4].v, t, E, V, 0, 0, y);
            for (size_t v = 0; v < V; v++) {
                const double d = fabs(got[v] - y[v]);
                worst = d > worst ? d : worst;
            }
        } else {
            /* x[0] dense [H, H] + x[1], hidden_act (gelu); x[2] [1, H] + x[3] */
            dense_d(x[0].v, x[1].v, xd, H, H, 0, 1, t);
            dense_d(x[2].v, x[3].v, t, H, 1, 0, 0, y);
            const double d = fabs(bert_ctx_logits(ctx)[r] - y[0]);
            worst = d > worst ? d : worst;
        }
        checked++;
    }
    printf("%s as %s: hidden states within %.3g of the fixture, %zu positions' %s within %.3g of the formula\n", base,
           in.arch_name, dh, checked, lm ? "LM logits" : "replaced-token logits", worst);
    assert_true(worst <= ATOL);
    if (!lm) { /* one sigmoid per token is no entity tagger */
        bert_head_params hp = bert_head_default_params();
        hp.name = "ner";
        bert_head *h = NULL;
        assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_E_UNSUPPORTED);
        assert_non_null(
            strstr(err, "head \"ner\" needs entity labels; ElectraForPreTraining gives one sigmoid per token"));
    }
    free(xd);
    free(t);
    free(y);
    bert_ctx_free(ctx);
    bert__checkpoint_close(&f.ck);
    bert__free(f.data);
    bert_model_free(m);
}

static void test_heads_without_fixtures(void **state)
{
    (void)state;
    /* ALBERT's masked LM: predictions.dense [E, H], gelu_new (hidden_act), LayerNorm [E], tied decoder */
    extra albert[5] = {{"predictions.dense.weight", 16, 32, 0, NULL},
                       {"predictions.dense.bias", 16, 0, 0, NULL},
                       {"predictions.LayerNorm.weight", 16, 0, 1, NULL},
                       {"predictions.LayerNorm.bias", 16, 0, 0, NULL},
                       {"predictions.bias", 8000, 0, 0, NULL}};
    check_synth("tiny-albert-seqcls", synth_model("tiny-albert-seqcls", "AlbertForMaskedLM", albert, 5), 1, 1, albert);
    /* ELECTRA's generator: generator_predictions.dense [E, H], gelu, LayerNorm [E], tied generator_lm_head */
    extra gen[5] = {{"generator_predictions.dense.weight", 16, 32, 0, NULL},
                    {"generator_predictions.dense.bias", 16, 0, 0, NULL},
                    {"generator_predictions.LayerNorm.weight", 16, 0, 1, NULL},
                    {"generator_predictions.LayerNorm.bias", 16, 0, 0, NULL},
                    {"generator_lm_head.bias", 30522, 0, 0, NULL}};
    check_synth("tiny-electra-seqcls", synth_model("tiny-electra-seqcls", "ElectraForMaskedLM", gen, 5), 1, 0, gen);
    /* ELECTRA's discriminator: dense [H, H] + hidden_act, dense_prediction [1, H] */
    extra disc[4] = {{"discriminator_predictions.dense.weight", 32, 32, 0, NULL},
                     {"discriminator_predictions.dense.bias", 32, 0, 0, NULL},
                     {"discriminator_predictions.dense_prediction.weight", 1, 32, 0, NULL},
                     {"discriminator_predictions.dense_prediction.bias", 1, 0, 0, NULL}};
    check_synth("tiny-electra-seqcls", synth_model("tiny-electra-seqcls", "ElectraForPreTraining", disc, 4), 0, 0,
                disc);
    for (int i = 0; i < 5; i++) {
        free(albert[i].v);
        free(gen[i].v);
    }
    for (int i = 0; i < 4; i++)
        free(disc[i].v);
}

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
        cmocka_unit_test(test_heads_without_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
