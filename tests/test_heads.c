/* Heads against Hugging Face's pipelines:
 * - NER: the 150 texts of fixtures/mini-conll03-ner/pipeline_reference.json under aggregation none,
 *   simple, first, average and max: entity lists identical (entity/group, word, start, end in
 *   characters, index for none), scores within 1e-4;
 * - fill-mask: fixtures/mini-mlm/fill_mask_reference.json top-5 tokens identical, scores within 1e-4;
 * - classify on SST-2 dev: probabilities = softmax of the reference logits within 1e-4; multi-label
 *   (sigmoid) and regression heads on the tiny models' fixture logits; embeddings pooling. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "encoder/encoder.h"
#include "support.h"

#define ATOL 1e-4 /* the project's float tolerance against HF's fp32 outputs (printed to 6 digits) */

#define load test_load_model

static size_t mismatches;
static void report(const char *fmt, ...)
{
    if (++mismatches > 8)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void test_ner_pipeline_all_strategies(void **state)
{
    (void)state;
    bert_model *m = load("mini-conll03-ner");
    json_t *ref = test_read_json(test_shared_path("fixtures/mini-conll03-ner/pipeline_reference.json"));
    json_t *texts = json_object_get(ref, "texts");
    const size_t n = json_array_size(texts);
    assert_int_equal(n, 150);
    static const char *const names[5] = {"none", "simple", "first", "average", "max"};
    char err[512];
    bert_ctx *ctx = NULL;
    bert_batch *b = NULL;
    bert_result *res = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
    assert_int_equal(bert_batch_new(&b, err, sizeof err), BERT_OK);
    assert_int_equal(bert_result_new(&res, err, sizeof err), BERT_OK);
    bert_text in[16];
    size_t total_entities = 0;
    mismatches = 0;
    for (int a = 0; a < 5; a++) {
        bert_head_params hp = bert_head_default_params();
        hp.name = "ner";
        hp.aggregation = (bert_aggregation)a;
        bert_head *h = NULL;
        assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_OK);
        json_t *want_all = json_object_get(json_object_get(ref, "strategies"), names[a]);
        for (size_t s = 0; s < n; s += 16) {
            size_t k = n - s < 16 ? n - s : 16;
            for (size_t i = 0; i < k; i++) {
                json_t *t = json_array_get(texts, s + i);
                in[i].a = json_string_value(t);
                in[i].a_len = json_string_length(t);
                in[i].b = NULL;
                in[i].b_len = 0;
            }
            assert_int_equal(bert_batch_encode(b, bert_model_tokenizer(m), in, k, NULL), BERT_OK);
            if (bert_head_run(h, ctx, b, in, res) != BERT_OK)
                fail_msg("%s", bert_result_errmsg(res));
            for (size_t i = 0; i < k; i++) {
                size_t ne = 0;
                const bert_entity *e = bert_result_entities(res, i, &ne);
                json_t *want = json_array_get(want_all, s + i);
                if (ne != json_array_size(want)) {
                    report("%s text %zu: %zu entities, reference %zu", names[a], s + i, ne, json_array_size(want));
                    continue;
                }
                for (size_t j = 0; j < ne; j++) {
                    json_t *w = json_array_get(want, j);
                    const char *label = json_string_value(json_object_get(w, a == 0 ? "entity" : "entity_group"));
                    const char *word = json_string_value(json_object_get(w, "word"));
                    size_t st = (size_t)json_integer_value(json_object_get(w, "start"));
                    size_t en = (size_t)json_integer_value(json_object_get(w, "end"));
                    double sc = json_number_value(json_object_get(w, "score"));
                    if (strcmp(label, e[j].label) || strcmp(word, e[j].word) || st != e[j].chars.begin ||
                        en != e[j].chars.end || fabs(sc - e[j].score) > ATOL ||
                        (a == 0 && json_integer_value(json_object_get(w, "index")) != e[j].index))
                        report("%s text %zu entity %zu: got %s '%s' [%zu,%zu] %.6f, reference %s '%s' [%zu,%zu] %.6f",
                               names[a], s + i, j, e[j].label, e[j].word, e[j].chars.begin, e[j].chars.end,
                               (double)e[j].score, label, word, st, en, sc);
                    total_entities++;
                }
            }
        }
        bert_head_free(h);
    }
    printf("ner: 150 texts x 5 strategies, %zu entities compared, %zu mismatches\n", total_entities, mismatches);
    assert_true(total_entities > 500);
    assert_int_equal(mismatches, 0);
    bert_result_free(res);
    bert_batch_free(b);
    bert_ctx_free(ctx);
    json_decref(ref);
    bert_model_free(m);
}

static void fill_mask_top5(const char *name)
{
    bert_model *m = load(name);
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/%s/fill_mask_reference.json", name);
    json_t *ref = test_read_json(test_shared_path(rel));
    char err[512];
    bert_ctx *ctx = NULL;
    bert_batch *b = NULL;
    bert_result *res = NULL;
    bert_head *h = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
    assert_int_equal(bert_batch_new(&b, err, sizeof err), BERT_OK);
    assert_int_equal(bert_result_new(&res, err, sizeof err), BERT_OK);
    assert_int_equal(bert_head_new(m, NULL, &h, err, sizeof err), BERT_OK); /* fill-mask from architectures */
    assert_string_equal(bert_head_name(h), "fill-mask");
    const size_t n = json_array_size(ref);
    bert_text in[16];
    assert_true(n > 0 && n <= 16);
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_object_get(json_array_get(ref, i), "text");
        in[i] = (bert_text){json_string_value(t), json_string_length(t), NULL, 0};
    }
    assert_int_equal(bert_batch_encode(b, bert_model_tokenizer(m), in, n, NULL), BERT_OK);
    const bert_batch_view bv = bert_batch_get(b);
    for (size_t i = 0; i < n; i++) { /* the model's own tokenizer gives the reference's ids */
        json_t *ids = json_object_get(json_array_get(ref, i), "input_ids");
        assert_int_equal(bv.lengths[i], json_array_size(ids));
        for (size_t t = 0; t < bv.lengths[i]; t++)
            assert_int_equal(bv.ids[i * bv.seq_len + t], (int32_t)json_integer_value(json_array_get(ids, t)));
    }
    if (bert_head_run(h, ctx, b, in, res) != BERT_OK)
        fail_msg("%s", bert_result_errmsg(res));
    size_t compared = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array_get(ref, i), *top = json_object_get(row, "top5");
        size_t nf = 0;
        const bert_fill *f = bert_result_fills(res, i, &nf);
        assert_int_equal(nf, json_array_size(top));
        for (size_t j = 0; j < nf; j++) {
            json_t *w = json_array_get(top, j);
            assert_int_equal(f[j].position, (size_t)json_integer_value(json_object_get(row, "mask_position")));
            assert_int_equal(f[j].token_id, (int32_t)json_integer_value(json_object_get(w, "token_id")));
            assert_string_equal(f[j].token, json_string_value(json_object_get(w, "token")));
            double d = fabs(f[j].score - json_number_value(json_object_get(w, "score")));
            assert_true(d <= ATOL);
            worst = d > worst ? d : worst;
            compared++;
        }
    }
    printf("fill-mask %s: %zu sentences, %zu predictions identical, max |score diff| %.3g\n", name, n, compared, worst);
    assert_int_equal(compared, 5 * n);
    bert_head_free(h);
    bert_result_free(res);
    bert_batch_free(b);
    bert_ctx_free(ctx);
    json_decref(ref);
    bert_model_free(m);
}

static void test_fill_mask_top5(void **state)
{
    (void)state;
    fill_mask_top5("mini-mlm");
    fill_mask_top5("tiny-distilbert-mlm"); /* vocab_transform/vocab_projector, tied */
    fill_mask_top5("tiny-roberta-mlm");    /* lm_head, tied, byte-level BPE tokens */
}

static void test_classify_sst2_probabilities(void **state)
{
    (void)state;
    bert_model *m = load("mini-sst2");
    json_t *rows = test_read_jsonl(test_shared_path("fixtures/mini-sst2/dev_reference.jsonl"));
    char err[512];
    bert_ctx *ctx = NULL;
    bert_batch *b = NULL;
    bert_result *res = NULL;
    bert_head *h = NULL;
    bert_head_params hp = bert_head_default_params();
    hp.name = "sentiment";
    assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
    assert_int_equal(bert_batch_new(&b, err, sizeof err), BERT_OK);
    assert_int_equal(bert_result_new(&res, err, sizeof err), BERT_OK);
    assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_OK);
    bert_encode_params ep = bert_encode_default_params();
    ep.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    ep.max_length = 128;
    size_t n = json_array_size(rows), correct = 0;
    bert_text in[32];
    for (size_t s = 0; s < n; s += 32) {
        size_t k = n - s < 32 ? n - s : 32;
        for (size_t i = 0; i < k; i++) {
            json_t *t = json_object_get(json_array_get(rows, s + i), "text_a");
            in[i] = (bert_text){json_string_value(t), json_string_length(t), NULL, 0};
        }
        assert_int_equal(bert_batch_encode(b, bert_model_tokenizer(m), in, k, &ep), BERT_OK);
        assert_int_equal(bert_head_run(h, ctx, b, in, res), BERT_OK);
        for (size_t i = 0; i < k; i++) {
            json_t *row = json_array_get(rows, s + i), *lg = json_object_get(row, "logits");
            double l0 = json_number_value(json_array_get(lg, 0)), l1 = json_number_value(json_array_get(lg, 1));
            double p1 = 1.0 / (1.0 + exp(l0 - l1));
            const float *p = bert_result_scores(res, i);
            assert_true(fabs(p[1] - p1) <= ATOL && fabs(p[0] - (1 - p1)) <= ATOL);
            assert_int_equal(bert_result_label(res, i), l1 > l0 ? 1 : 0);
            correct += bert_result_label(res, i) == (int32_t)json_integer_value(json_object_get(row, "label"));
        }
    }
    json_t *metrics = test_read_json(test_shared_path("fixtures/mini-sst2/metrics.json"));
    double acc = (double)correct / (double)n;
    printf("sentiment: %zu SST-2 dev sentences, accuracy %.10f (metrics.json %.10f)\n", n, acc,
           json_number_value(json_object_get(json_object_get(metrics, "dev_metrics"), "accuracy")));
    assert_true(fabs(acc - json_number_value(json_object_get(json_object_get(metrics, "dev_metrics"), "accuracy"))) <
                1e-6);
    json_decref(metrics);
    bert_head_free(h);
    bert_result_free(res);
    bert_batch_free(b);
    bert_ctx_free(ctx);
    json_decref(rows);
    bert_model_free(m);
}

enum { RAW, SIGMOID, SOFTMAX };

/* Runs a head of a tiny model on its hidden_states fixture texts, tokenized by the model's own
 * tokenizer (ids checked against the fixture's), and checks the scores against the fixture logits
 * through the head's function (raw, sigmoid or softmax). */
static void check_tiny(const char *name, const char *head, int mode)
{
    bert_model *m = load(name);
    char rel[256], err[512];
    snprintf(rel, sizeof rel, "fixtures/%s/hidden_states.json", name);
    json_t *meta = test_read_json(test_shared_path(rel));
    snprintf(rel, sizeof rel, "fixtures/%s/hidden_states.safetensors", name);
    char *data;
    size_t len;
    bert__checkpoint ck;
    memset(&ck, 0, sizeof ck);
    assert_int_equal(bert__read_file(test_shared_path(rel), &data, &len, err, sizeof err), BERT_OK);
    assert_int_equal(bert__safetensors_parse((const unsigned char *)data, len, rel, 0, &ck, err, sizeof err), BERT_OK);
    const bert__tensor *lt = bert__checkpoint_find(&ck, "logits");
    assert_non_null(lt);
    const float *want = (const float *)(const void *)lt->data;
    json_t *texts = json_object_get(meta, "texts");
    bert_text in[8];
    size_t n = json_array_size(texts);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(texts, i);
        json_t *a = json_array_get(p, 0), *b2 = json_array_get(p, 1);
        in[i] =
            (bert_text){json_string_value(a), json_string_length(a), json_is_string(b2) ? json_string_value(b2) : NULL,
                        json_is_string(b2) ? json_string_length(b2) : 0};
    }
    bert_ctx *ctx = NULL;
    bert_batch *b = NULL;
    bert_result *res = NULL;
    bert_head *h = NULL;
    bert_head_params hp = bert_head_default_params();
    hp.name = head;
    assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
    assert_int_equal(bert_batch_new(&b, err, sizeof err), BERT_OK);
    assert_int_equal(bert_result_new(&res, err, sizeof err), BERT_OK);
    assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_OK);
    assert_int_equal(bert_batch_encode(b, bert_model_tokenizer(m), in, n, NULL), BERT_OK);
    const bert__tensor *it = bert__checkpoint_find(&ck, "input_ids"),
                       *mt = bert__checkpoint_find(&ck, "attention_mask");
    const bert_batch_view bv = bert_batch_get(b);
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < it->shape[1]; t++) {
            const int32_t *fi = (const int32_t *)(const void *)it->data, *fm = (const int32_t *)(const void *)mt->data;
            if (!fm[i * it->shape[1] + t]) {
                assert_int_equal(bv.lengths[i], t);
                break;
            }
            assert_int_equal(bv.ids[i * bv.seq_len + t], fi[i * it->shape[1] + t]);
        }
    if (bert_head_run(h, ctx, b, in, res) != BERT_OK)
        fail_msg("%s: %s", name, bert_result_errmsg(res));
    const size_t nl = bert_result_n_scores(res);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nl; k++) {
            double w = want[i * nl + k], expect = w;
            if (mode == SIGMOID)
                expect = 1.0 / (1.0 + exp(-w));
            if (mode == SOFTMAX) {
                double mx = want[i * nl], sum = 0;
                for (size_t j = 1; j < nl; j++)
                    mx = want[i * nl + j] > mx ? want[i * nl + j] : mx;
                for (size_t j = 0; j < nl; j++)
                    sum += exp(want[i * nl + j] - mx);
                expect = exp(w - mx) / sum;
            }
            if (fabs(bert_result_scores(res, i)[k] - expect) > ATOL)
                fail_msg("%s row %zu label %zu: %g, expected %g", name, i, k, bert_result_scores(res, i)[k], expect);
        }
    printf("%s (%s): %zu rows x %zu scores within %g\n", name, head, n, nl, ATOL);
    bert_head_free(h);
    bert_result_free(res);
    bert_batch_free(b);
    bert_ctx_free(ctx);
    bert__checkpoint_close(&ck);
    bert__free(data);
    json_decref(meta);
    bert_model_free(m);
}

static void test_multilabel_sigmoid_and_regression(void **state)
{
    (void)state;
    check_tiny("tiny-gelunew-multilabel", "classify", SIGMOID);
    check_tiny("tiny-relu-regression", "classify", RAW);
}

/* Every family's sequence classifier from text to probabilities: its tokenizer.json, its
 * embeddings and attention, its head layout. */
static void test_classify_every_family(void **state)
{
    (void)state;
    static const char *const models[] = {"tiny-distilbert-seqcls", "tiny-roberta-seqcls", "tiny-xlmr-seqcls",
                                         "tiny-electra-seqcls",    "tiny-albert-seqcls",  "tiny-debertav3-seqcls",
                                         "tiny-mpnet-seqcls"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        check_tiny(models[i], "classify", SOFTMAX);
}

static void test_embed_pooling_and_head_errors(void **state)
{
    (void)state;
    bert_model *m = load("mini-sst2");
    char err[512];
    bert_ctx *ctx = NULL;
    bert_batch *b = NULL;
    bert_result *res = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
    assert_int_equal(bert_batch_new(&b, err, sizeof err), BERT_OK);
    assert_int_equal(bert_result_new(&res, err, sizeof err), BERT_OK);
    bert_text in[2] = {{"a short one", 11, NULL, 0}, {"and a somewhat longer sentence here", 35, NULL, 0}};
    assert_int_equal(bert_batch_encode(b, bert_model_tokenizer(m), in, 2, NULL), BERT_OK);
    const size_t H = bert_model_get_info(m).hidden_size;
    for (int pool = 0; pool < 3; pool++) {
        bert_head_params hp = bert_head_default_params();
        hp.name = "embed";
        hp.pooling = (bert_pooling)pool;
        hp.normalize = pool == 1;
        bert_head *h = NULL;
        assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_OK);
        assert_int_equal(bert_head_run(h, ctx, b, in, res), BERT_OK);
        assert_int_equal(bert_result_dim(res), H);
        const float *hid = bert_ctx_hidden(ctx, -1), *v = bert_result_vector(res, 0);
        const size_t T = bert_ctx_seq_len(ctx);
        if (pool == 0)
            assert_memory_equal(v, hid, H * sizeof(float));
        if (pool == 2)
            assert_memory_equal(v, bert_ctx_pooled(ctx), H * sizeof(float));
        if (pool == 1) {
            /* row 0 has 5 real tokens of T: its mean ignores the padding; and the vector has norm 1 */
            double norm = 0, x0 = 0;
            for (size_t t = 0; t < 5; t++)
                x0 += hid[t * H];
            for (size_t k = 0; k < H; k++)
                norm += (double)v[k] * v[k];
            assert_true(fabs(norm - 1) < 1e-5);
            assert_int_equal(bert_batch_get(b).lengths[0], 5);
            assert_true(T > 5);
            double raw = 0;
            for (size_t k = 0; k < H; k++) {
                double s = 0;
                for (size_t t = 0; t < 5; t++)
                    s += hid[t * H + k];
                raw += (s / 5) * (s / 5);
            }
            assert_true(fabs(v[0] - (x0 / 5) / sqrt(raw)) < 1e-5);
        }
        bert_head_free(h);
    }
    /* misfits and unknown names */
    bert_head *h = NULL;
    bert_head_params hp = bert_head_default_params();
    hp.name = "ner";
    assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_E_UNSUPPORTED);
    assert_non_null(strstr(err, "needs a BertForTokenClassification"));
    hp.name = "fill-mask";
    assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_E_UNSUPPORTED);
    hp.name = "translate";
    assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_E_INVALID_ARG);
    assert_non_null(strstr(err, "unknown head \"translate\""));
    assert_null(h);
    const char *const *names = bert_head_names();
    size_t k = 0;
    while (names[k])
        k++;
    assert_int_equal(k, 7);
    bert_model *ner = load("mini-conll03-ner");
    hp.name = "embed";
    hp.pooling = BERT_POOL_POOLER;
    assert_int_equal(bert_head_new(ner, &hp, &h, err, sizeof err), BERT_E_UNSUPPORTED); /* no pooler */
    hp.name = "sentiment";
    assert_int_equal(bert_head_new(ner, &hp, &h, err, sizeof err), BERT_E_UNSUPPORTED);
    bert_model_free(ner);
    bert_result_free(res);
    bert_batch_free(b);
    bert_ctx_free(ctx);
    bert_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ner_pipeline_all_strategies),
        cmocka_unit_test(test_fill_mask_top5),
        cmocka_unit_test(test_classify_every_family),
        cmocka_unit_test(test_classify_sst2_probabilities),
        cmocka_unit_test(test_multilabel_sigmoid_and_regression),
        cmocka_unit_test(test_embed_pooling_and_head_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
