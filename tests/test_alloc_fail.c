/* Allocation-failure walks: fail the k-th allocation for k = 0, 1, ... until the call succeeds.
 * Every failing run must return BERT_E_NOMEM, leave no half-built handle, and leak nothing (the
 * sanitizer build's LeakSanitizer checks the last part). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "common/common.h"
#include "support.h"

#define MAX_WALK 10000

static void test_tokenizer_load_walk(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/m", test_tmpdir());
    mkdir(dir, 0700);
    const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##s\n";
    const char cfg[] = "{\"do_lower_case\": true, \"never_split\": [\"hello\", \"x\"], \"mask_token\": \"[MASK]\"}";
    test_write_file(dir, "vocab.txt", vocab, sizeof vocab - 1);
    test_write_file(dir, "tokenizer_config.json", cfg, sizeof cfg - 1);
    long k;
    for (k = 0; k < MAX_WALK; k++) {
        bert_tokenizer *tok = (bert_tokenizer *)dir;
        char err[256] = "";
        bert__alloc_fail_after(k);
        bert_status st = bert_tokenizer_load(dir, NULL, &tok, err, sizeof err);
        bert__alloc_fail_after(-1);
        if (st == BERT_OK) {
            bert_tokenizer_free(tok);
            break;
        }
        assert_int_equal(st, BERT_E_NOMEM);
        assert_null(tok);
        assert_true(strlen(err) > 0);
    }
    printf("tokenizer load: %ld allocations failed in turn\n", k);
    assert_true(k > 5 && k < MAX_WALK);
}

static void test_batch_encode_walk(void **state)
{
    (void)state;
    bert_tokenizer *tok = NULL;
    char err[256];
    assert_int_equal(bert_tokenizer_load_vocab(test_shared_path("data/vocab/bert-base-uncased/vocab.txt"), NULL, &tok,
                                               err, sizeof err),
                     BERT_OK);
    bert_text t[2] = {{"Hello, world! [SEP] caf\xc3\xa9", 22, "a pair of texts", 15},
                      {"one more line with a few more words in it than the others", 58, NULL, 0}};
    bert_encode_params p = bert_encode_default_params();
    p.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    p.max_length = 8;
    p.stride = 1;
    p.return_overflowing = 1;
    long k;
    for (k = 0; k < MAX_WALK; k++) {
        bert_batch *b = NULL;
        bert__alloc_fail_after(k);
        bert_status st = bert_batch_new(&b, err, sizeof err);
        if (st == BERT_OK)
            st = bert_batch_encode(b, tok, t, 2, &p);
        bert__alloc_fail_after(-1);
        if (st == BERT_OK) {
            assert_true(bert_batch_get(b).n_rows > 2);
            bert_batch_free(b);
            break;
        }
        assert_int_equal(st, BERT_E_NOMEM);
        if (b) {
            assert_int_equal(bert_batch_get(b).n_rows, 0);
            assert_true(strlen(bert_batch_errmsg(b)) > 0);
        }
        bert_batch_free(b);
    }
    printf("batch encode: %ld allocations failed in turn\n", k);
    assert_true(k > 5 && k < MAX_WALK);
    bert_tokenizer_free(tok);
}

/* tokenizer.json: loading (vocabulary, merges or scores, components, template) and encoding through
 * the pipeline (arenas, normalizers, pre-tokenizers, the model, token texts), for a byte-level BPE
 * and a Unigram tokenizer; then decoding. */
static void json_walk(const char *rel)
{
    char err[512];
    bert_text t[2] = {{"Hello, world! <mask> caf\xc3\xa9 \xe2\x80\x83 na\xc3\xafve ", 31, "a pair of texts", 15},
                      {"one more line with a few more words in it than the others", 58, NULL, 0}};
    long k;
    for (k = 0; k < MAX_WALK; k++) {
        bert_tokenizer *tok = NULL;
        bert_batch *b = NULL;
        char out[512];
        size_t len = 0;
        bert__alloc_fail_after(k);
        bert_status st = bert_tokenizer_load_json(test_shared_path(rel), &tok, err, sizeof err);
        if (st == BERT_OK)
            st = bert_batch_new(&b, err, sizeof err);
        if (st == BERT_OK)
            st = bert_batch_encode(b, tok, t, 2, NULL);
        if (st == BERT_OK) {
            bert_batch_view v = bert_batch_get(b);
            st = bert_tokenizer_decode(tok, v.ids, v.lengths[0], 0, out, sizeof out, &len);
        }
        bert__alloc_fail_after(-1);
        bert_batch_free(b);
        bert_tokenizer_free(tok);
        if (st == BERT_OK)
            break;
        assert_int_equal(st, BERT_E_NOMEM);
    }
    printf("%s: %ld allocations failed in turn\n", rel, k);
    assert_true(k > 5 && k < MAX_WALK);
}

static void test_tokenizer_json_walk(void **state)
{
    (void)state;
    json_walk("data/tokenizers/roberta-base/tokenizer.json");
    json_walk("models/tiny-xlmr-seqcls/tokenizer.json");
    json_walk("models/tiny-albert-seqcls/tokenizer.json");
}

static void test_model_load_and_run_walk(void **state)
{
    (void)state;
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/models/tiny-gelu-3labels", test_shared_dir());
    const int32_t ids[8] = {101, 7592, 1010, 2088, 102, 101, 2088, 102};
    const uint8_t mask[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    long k;
    for (k = 0; k < MAX_WALK; k++) {
        bert_model *m = (bert_model *)dir; /* must come back NULL on failure */
        bert_ctx *c = NULL;
        bert__alloc_fail_after(k);
        bert_status st = bert_model_load(dir, NULL, &m, err, sizeof err);
        if (st != BERT_OK) {
            assert_null(m);
        } else {
            c = (bert_ctx *)dir;
            st = bert_ctx_new(m, NULL, &c, err, sizeof err);
            if (st != BERT_OK) {
                assert_null(c);
            } else {
                st = bert_ctx_run(c, ids, NULL, mask, 2, 4, NULL);
                if (st != BERT_OK)
                    assert_null(bert_ctx_hidden(c, -1)); /* no half-valid results */
            }
        }
        bert__alloc_fail_after(-1);
        if (st == BERT_OK)
            assert_non_null(bert_ctx_logits(c));
        else
            assert_int_equal(st, BERT_E_NOMEM);
        bert_ctx_free(c);
        bert_model_free(m);
        if (st == BERT_OK)
            break;
    }
    printf("model load + ctx + run: %ld allocations failed in turn\n", k);
    assert_true(k > 10 && k < MAX_WALK);
}

static void test_heads_walk(void **state)
{
    (void)state;
    static const char *const models[3] = {"mini-conll03-ner", "tiny-gelu-3labels", "tiny-causal"};
    for (int mi = 0; mi < 3; mi++) {
        char dir[512], err[512];
        snprintf(dir, sizeof dir, "%s/models/%s", test_shared_dir(), models[mi]);
        bert_model *m = NULL;
        bert_ctx *c = NULL;
        assert_int_equal(bert_model_load(dir, NULL, &m, err, sizeof err), BERT_OK);
        assert_int_equal(bert_ctx_new(m, NULL, &c, err, sizeof err), BERT_OK);
        bert_text t[2] = {{"Peter Blackburn visited Brussels and [MASK] Paris.", 49, NULL, 0},
                          {"EU rejects German call to boycott British lamb.", 47, NULL, 0}};
        long k;
        for (k = 0; k < MAX_WALK; k++) {
            bert_batch *b = NULL;
            bert_result *r = NULL;
            bert_head *h = NULL;
            bert_head_params hp = bert_head_default_params();
            hp.aggregation = BERT_AGG_AVERAGE;
            hp.name = mi == 2 ? "fill-mask" : NULL;
            bert__alloc_fail_after(k);
            bert_status st = bert_batch_new(&b, err, sizeof err);
            if (st == BERT_OK)
                st = bert_result_new(&r, err, sizeof err);
            if (st == BERT_OK)
                st = bert_head_new(m, &hp, &h, err, sizeof err);
            if (st == BERT_OK)
                st = bert_batch_encode(b, bert_model_tokenizer(m), t, 2, NULL);
            if (st == BERT_OK)
                st = bert_head_run(h, c, b, t, r);
            bert__alloc_fail_after(-1);
            if (st != BERT_OK) {
                assert_int_equal(st, BERT_E_NOMEM);
                if (r)
                    assert_int_equal(bert_result_n_rows(r), 0);
            }
            bert_head_free(h);
            bert_result_free(r);
            bert_batch_free(b);
            if (st == BERT_OK)
                break;
        }
        printf("%s head: %ld allocations failed in turn\n", models[mi], k);
        assert_true(k > 3 && k < MAX_WALK);
        bert_ctx_free(c);
        bert_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heads_walk),
        cmocka_unit_test(test_model_load_and_run_walk),
        cmocka_unit_test(test_tokenizer_load_walk),
        cmocka_unit_test(test_batch_encode_walk),
        cmocka_unit_test(test_tokenizer_json_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
