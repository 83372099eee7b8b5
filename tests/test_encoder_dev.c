/* mini-sst2 and mini-stsb on their whole dev sets: logits within 1e-4 of
 * ../shared/fixtures/<model>/dev_reference.jsonl (fed the reference input ids, in padded batches),
 * from full runs and from cls_only runs (the last layer on the [CLS] rows only) alike,
 * the SST-2 argmax identical for all 872 examples, and our own tokenization (longest_first to 128,
 * as the reference run did) giving exactly the reference input ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "support.h"

#define ATOL  1e-4 /* the project's float tolerance against HF's fp32 outputs */
#define BATCH 32
#define MAX_T 128

static void run_dev(const char *model, size_t expect_rows)
{
    char dir[512], rel[256], err[512];
    snprintf(dir, sizeof dir, "%s/models/%s", test_shared_dir(), model);
    snprintf(rel, sizeof rel, "fixtures/%s/dev_reference.jsonl", model);
    json_t *rows = test_read_jsonl(test_shared_path(rel));
    assert_int_equal(json_array_size(rows), expect_rows);
    bert_model *m = NULL;
    if (bert_model_load(dir, NULL, &m, err, sizeof err) != BERT_OK)
        fail_msg("%s", err);
    const size_t nl = bert_model_get_info(m).n_labels;
    bert_ctx *ctx = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &ctx, err, sizeof err), BERT_OK);
    bert_batch *tb = NULL;
    assert_int_equal(bert_batch_new(&tb, err, sizeof err), BERT_OK);
    bert_encode_params ep = bert_encode_default_params();
    ep.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    ep.max_length = MAX_T;

    static int32_t ids[BATCH * MAX_T], types[BATCH * MAX_T];
    static uint8_t mask[BATCH * MAX_T];
    size_t compared = 0, argmax_same = 0, tok_same = 0;
    double worst = 0;
    for (size_t start = 0; start < json_array_size(rows); start += BATCH) {
        size_t n = json_array_size(rows) - start < BATCH ? json_array_size(rows) - start : BATCH, T = 0;
        assert_int_equal(test_fill_batch(rows, start, n, BATCH * MAX_T, ids, types, mask, &T), 0);
        assert_true(T <= MAX_T);
        for (size_t r = 0; r < n; r++) {
            json_t *row = json_array_get(rows, start + r);
            json_t *ji = json_object_get(row, "input_ids");
            /* our tokenizer on the raw text gives the same ids */
            json_t *a = json_object_get(row, "text_a"), *b = json_object_get(row, "text_b");
            bert_text t = {json_string_value(a), json_string_length(a), json_is_string(b) ? json_string_value(b) : NULL,
                           json_is_string(b) ? json_string_length(b) : 0};
            assert_int_equal(bert_batch_encode(tb, bert_model_tokenizer(m), &t, 1, &ep), BERT_OK);
            bert_batch_view v = bert_batch_get(tb);
            int same = v.lengths[0] == json_array_size(ji);
            for (size_t i = 0; same && i < v.lengths[0]; i++)
                same = v.ids[i] == ids[r * T + i];
            tok_same += same;
        }
        for (int cls = 0; cls < 2; cls++) {
            bert_run_params rp = bert_run_default_params();
            rp.cls_only = cls;
            if (bert_ctx_run(ctx, ids, types, mask, n, T, &rp) != BERT_OK)
                fail_msg("%s", bert_ctx_errmsg(ctx));
            const float *lg = bert_ctx_logits(ctx);
            assert_non_null(lg);
            for (size_t r = 0; r < n; r++) {
                json_t *ref = json_object_get(json_array_get(rows, start + r), "logits");
                assert_int_equal(json_array_size(ref), nl);
                size_t am_got = 0, am_ref = 0;
                for (size_t k = 0; k < nl; k++) {
                    double want = json_number_value(json_array_get(ref, k)), d = lg[r * nl + k] - want;
                    d = d < 0 ? -d : d;
                    if (!(d <= ATOL))
                        fail_msg("%s example %zu logit %zu (cls_only %d): %g vs reference %g", model, start + r, k, cls,
                                 lg[r * nl + k], want);
                    worst = d > worst ? d : worst;
                    if (lg[r * nl + k] > lg[r * nl + am_got])
                        am_got = k;
                    if (want > json_number_value(json_array_get(ref, am_ref)))
                        am_ref = k;
                }
                argmax_same += am_got == am_ref;
                compared += cls == 0;
            }
        }
    }
    printf("%s: %zu dev examples, max |logit diff| %.3g, argmax identical %zu, tokenization identical %zu\n", model,
           compared, worst, argmax_same, tok_same);
    assert_int_equal(compared, expect_rows);
    assert_int_equal(argmax_same, 2 * expect_rows); /* full and cls_only runs */
    assert_int_equal(tok_same, expect_rows);
    bert_batch_free(tb);
    bert_ctx_free(ctx);
    bert_model_free(m);
    json_decref(rows);
}

static void test_sst2_dev_logits_and_argmax(void **state)
{
    (void)state;
    run_dev("mini-sst2", 872);
}

static void test_stsb_dev_regression_values(void **state)
{
    (void)state;
    run_dev("mini-stsb", 1500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sst2_dev_logits_and_argmax),
        cmocka_unit_test(test_stsb_dev_regression_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
