/* The real bert-classify binary on SST-2 dev (872 sentences) with the embedded default model:
 * every predicted label equal to the argmax of fixtures/mini-sst2/dev_reference.jsonl, every
 * probability within 1e-4 of the softmax of the reference logits, and the accuracy it reports equal
 * to metrics.json (to 1e-6). */
#define _POSIX_C_SOURCE 200809L /* popen, getline */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support.h"

#define ATOL 1e-4

static void test_bert_classify_sst2_dev(void **state)
{
    (void)state;
    char cmd[4096], errpath[512];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s --input tsv --header --text-col 1 --label-col 2 --format jsonl %s 2> %s",
             BERT_CLASSIFY_BIN, test_shared_path("data/glue/SST-2/dev.tsv"), errpath);
    json_t *ref = test_read_jsonl(test_shared_path("fixtures/mini-sst2/dev_reference.jsonl"));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *line = NULL;
    size_t cap = 0, n = 0;
    double worst = 0;
    while (getline(&line, &cap, p) > 0) {
        json_error_t je;
        json_t *got = json_loads(line, 0, &je);
        assert_non_null(got);
        assert_true(n < json_array_size(ref));
        json_t *r = json_array_get(ref, n);
        assert_int_equal(json_integer_value(json_object_get(got, "line")), (json_int_t)n + 2);
        assert_string_equal(json_string_value(json_object_get(got, "text")),
                            json_string_value(json_object_get(r, "text_a")));
        double l0 = json_number_value(json_array_get(json_object_get(r, "logits"), 0));
        double l1 = json_number_value(json_array_get(json_object_get(r, "logits"), 1));
        double p1 = 1.0 / (1.0 + exp(l0 - l1));
        json_t *sc = json_object_get(got, "scores");
        double g0 = json_number_value(json_object_get(sc, "negative")), g1 = json_number_value(json_object_get(sc, "positive"));
        assert_true(fabs(g1 - p1) <= ATOL && fabs(g0 - (1 - p1)) <= ATOL);
        worst = fmax(worst, fabs(g1 - p1));
        assert_string_equal(json_string_value(json_object_get(got, "label")), l1 > l0 ? "positive" : "negative");
        json_decref(got);
        n++;
    }
    free(line);
    assert_int_equal(pclose(p), 0);
    assert_int_equal(n, 872);
    FILE *e = fopen(errpath, "r");
    assert_non_null(e);
    char buf[512] = "";
    double acc = -1;
    while (fgets(buf, sizeof buf, e))
        if (strstr(buf, "accuracy "))
            acc = strtod(strstr(buf, "accuracy ") + 9, NULL);
    fclose(e);
    json_t *metrics = test_read_json(test_shared_path("fixtures/mini-sst2/metrics.json"));
    double want = json_number_value(json_object_get(json_object_get(metrics, "dev_metrics"), "accuracy"));
    printf("bert-classify SST-2 dev: %zu rows, labels = reference argmax, max |p diff| %.3g, accuracy %.10f "
           "(metrics.json %.10f)\n",
           n, worst, acc, want);
    assert_true(fabs(acc - want) < 1e-6);
    json_decref(metrics);
    json_decref(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bert_classify_sst2_dev)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
