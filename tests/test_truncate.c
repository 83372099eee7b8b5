/* Truncation windows against cases checked on HF tokenizers 0.23 (Node binding) by hand:
 * Encoding::truncate stepping, longest_first's split of a pair, the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "tokenizer/truncate.h"

typedef struct {
    size_t s1[64], e1[64], s2[64], e2[64];
    bert__windows w1, w2;
    char msg[256];
} fx;

static bert_status run(fx *f, bert_truncation st, size_t max_len, size_t stride, size_t n1, const size_t *n2)
{
    f->w1.start = f->s1;
    f->w1.stop = f->e1;
    f->w1.cap = 64;
    f->w2.start = f->s2;
    f->w2.stop = f->e2;
    f->w2.cap = 64;
    f->msg[0] = '\0';
    return bert__truncate(st, max_len, stride, n1, n2, &f->w1, &f->w2, f->msg, sizeof f->msg);
}

static void test_truncate_single_steps_by_window_minus_stride(void **state)
{
    (void)state;
    fx f;
    /* 26 tokens, window 10, stride 3: [0,10) [7,17) [14,24) [21,26) */
    assert_int_equal(run(&f, BERT_TRUNCATION_LONGEST_FIRST, 10, 3, 26, NULL), BERT_OK);
    assert_int_equal(f.w1.n, 4);
    assert_int_equal(f.s1[1], 7);
    assert_int_equal(f.e1[1], 17);
    assert_int_equal(f.s1[3], 21);
    assert_int_equal(f.e1[3], 26);
    /* fits: one window, nothing cut */
    assert_int_equal(run(&f, BERT_TRUNCATION_LONGEST_FIRST, 10, 0, 10, NULL), BERT_OK);
    assert_int_equal(f.w1.n, 1);
    assert_int_equal(f.e1[0], 10);
}

static void test_truncate_zero_window_moves_everything_to_overflow(void **state)
{
    (void)state;
    fx f;
    size_t n2 = 3;
    assert_int_equal(run(&f, BERT_TRUNCATION_ONLY_FIRST, 0, 0, 2, &n2), BERT_OK);
    assert_int_equal(f.w1.n, 2);
    assert_int_equal(f.e1[0], 0);
    assert_int_equal(f.e1[1], 2);
    assert_int_equal(f.w2.n, 2);
    assert_int_equal(f.e2[0], 0);
    assert_int_equal(f.e2[1], 3);
}

static void test_truncate_longest_first_pair_gives_first_the_floor(void **state)
{
    (void)state;
    fx f;
    size_t n2 = 20;
    /* both long: 13 = 6 + 7, the first sequence gets the smaller half */
    assert_int_equal(run(&f, BERT_TRUNCATION_LONGEST_FIRST, 13, 0, 20, &n2), BERT_OK);
    assert_int_equal(f.e1[0], 6);
    assert_int_equal(f.e2[0], 7);
    /* first short: it is kept whole, the second takes the rest */
    n2 = 30;
    assert_int_equal(run(&f, BERT_TRUNCATION_LONGEST_FIRST, 13, 0, 3, &n2), BERT_OK);
    assert_int_equal(f.w1.n, 1);
    assert_int_equal(f.e1[0], 3);
    assert_int_equal(f.e2[0], 10);
    /* second short and first long: the first is cut */
    n2 = 2;
    assert_int_equal(run(&f, BERT_TRUNCATION_LONGEST_FIRST, 13, 0, 30, &n2), BERT_OK);
    assert_int_equal(f.e1[0], 11);
    assert_int_equal(f.w2.n, 1);
}

static void test_truncate_only_second_cuts_only_the_pair(void **state)
{
    (void)state;
    fx f;
    size_t n2 = 14;
    assert_int_equal(run(&f, BERT_TRUNCATION_ONLY_SECOND, 5, 1, 2, &n2), BERT_OK);
    assert_int_equal(f.w1.n, 1);
    assert_int_equal(f.e2[0], 3);
    assert_int_equal(f.s2[1], 2); /* window 3, stride 1: step 2 */
}

static void test_truncate_refusals(void **state)
{
    (void)state;
    fx f;
    size_t n2 = 3;
    assert_int_equal(run(&f, BERT_TRUNCATION_ONLY_FIRST, 3, 0, 1, &n2), BERT_E_TRUNCATION);
    assert_non_null(strstr(f.msg, "too short"));
    assert_int_equal(run(&f, BERT_TRUNCATION_ONLY_SECOND, 4, 0, 9, NULL), BERT_E_TRUNCATION);
    assert_non_null(strstr(f.msg, "second sequence"));
    assert_int_equal(run(&f, BERT_TRUNCATION_LONGEST_FIRST, 6, 6, 9, NULL), BERT_E_TRUNCATION);
    assert_non_null(strstr(f.msg, "stride 6"));
    /* the stride is only checked when a cut happens, as in HF */
    assert_int_equal(run(&f, BERT_TRUNCATION_LONGEST_FIRST, 6, 6, 5, NULL), BERT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncate_single_steps_by_window_minus_stride),
        cmocka_unit_test(test_truncate_zero_window_moves_everything_to_overflow),
        cmocka_unit_test(test_truncate_longest_first_pair_gives_first_the_floor),
        cmocka_unit_test(test_truncate_only_second_cuts_only_the_pair),
        cmocka_unit_test(test_truncate_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
