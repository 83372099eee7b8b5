/* Eight threads share one loaded model and tokenizer, each with its own context, batch and result:
 * every thread's classification probabilities, NER entities and greedy generation are bit-identical
 * to a single thread's. Also run under ThreadSanitizer by .ci/run. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "support.h"

#define N_THREADS  8
#define N_TEXTS    64
#define GEN_TOKENS 12

static bert_model *sst2, *ner, *causal;
static json_t *dev;
static const char *texts[N_TEXTS];

typedef struct outcome {
    float probs[N_TEXTS * 2];
    char entities[4096];
    int32_t generated[32];
    size_t n_generated;
    int ok;
} outcome;

static void work(outcome *o)
{
    char err[256];
    bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = 1; /* eight application threads, each computing alone */
    bert_ctx *c1 = NULL, *c2 = NULL, *c3 = NULL;
    bert_batch *b = NULL;
    bert_result *r = NULL;
    bert_head *h1 = NULL, *h2 = NULL;
    bert_head_params hp = bert_head_default_params();
    hp.aggregation = BERT_AGG_SIMPLE;
    o->ok = 0;
    if (bert_ctx_new(sst2, &cp, &c1, err, sizeof err) || bert_ctx_new(ner, &cp, &c2, err, sizeof err) ||
        bert_ctx_new(causal, &cp, &c3, err, sizeof err) || bert_batch_new(&b, err, sizeof err) ||
        bert_result_new(&r, err, sizeof err) || bert_head_new(sst2, NULL, &h1, err, sizeof err) ||
        bert_head_new(ner, &hp, &h2, err, sizeof err))
        goto done;
    bert_text in[N_TEXTS];
    for (size_t i = 0; i < N_TEXTS; i++)
        in[i] = (bert_text){texts[i], strlen(texts[i]), NULL, 0};
    for (size_t s = 0; s < N_TEXTS; s += 16) {
        if (bert_batch_encode(b, bert_model_tokenizer(sst2), in + s, 16, NULL) || bert_head_run(h1, c1, b, in + s, r))
            goto done;
        for (size_t i = 0; i < 16; i++)
            memcpy(o->probs + (s + i) * 2, bert_result_scores(r, i), 2 * sizeof(float));
    }
    if (bert_batch_encode(b, bert_model_tokenizer(ner), in, 16, NULL) || bert_head_run(h2, c2, b, in, r))
        goto done;
    size_t k = 0;
    for (size_t i = 0; i < 16; i++) {
        size_t n = 0;
        const bert_entity *e = bert_result_entities(r, i, &n);
        for (size_t j = 0; j < n && k < sizeof o->entities - 128; j++)
            k += (size_t)snprintf(o->entities + k, sizeof o->entities - k, "%zu:%s:%s:%zu-%zu:%a;", i, e[j].label,
                                  e[j].word, e[j].chars.begin, e[j].chars.end, (double)e[j].score);
    }
    const int32_t prompt[4] = {101, 1996, 4248, 2829};
    bert_generate_params gp = bert_generate_default_params();
    gp.max_new_tokens = GEN_TOKENS;
    gp.eos_id = 0;
    if (bert_generate(c3, prompt, 4, &gp, o->generated, 32, &o->n_generated, NULL, NULL))
        goto done;
    o->ok = 1;
done:
    bert_head_free(h1);
    bert_head_free(h2);
    bert_result_free(r);
    bert_batch_free(b);
    bert_ctx_free(c1);
    bert_ctx_free(c2);
    bert_ctx_free(c3);
}

static void *thread_main(void *arg)
{
    work(arg);
    return NULL;
}

#define load test_load_model

static void test_eight_threads_share_one_model(void **state)
{
    (void)state;
    sst2 = load("mini-sst2");
    ner = load("mini-conll03-ner");
    causal = load("tiny-causal");
    dev = test_read_jsonl(test_shared_path("fixtures/mini-sst2/dev_reference.jsonl"));
    for (size_t i = 0; i < N_TEXTS; i++)
        texts[i] = json_string_value(json_object_get(json_array_get(dev, i), "text_a"));
    static outcome single, many[N_THREADS];
    work(&single);
    assert_true(single.ok);
    assert_true(strlen(single.entities) > 0); /* SST-2 sentences name people and places too */
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &many[i]), 0);
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N_THREADS; i++) {
        assert_true(many[i].ok);
        assert_memory_equal(many[i].probs, single.probs, sizeof single.probs); /* bit-identical */
        assert_string_equal(many[i].entities, single.entities);
        assert_int_equal(many[i].n_generated, single.n_generated);
        assert_memory_equal(many[i].generated, single.generated, single.n_generated * sizeof(int32_t));
    }
    printf("threads: %d threads x (%d classifications, 16 NER texts, %zu-token generation) bit-identical to one\n",
           N_THREADS, N_TEXTS, single.n_generated);
    json_decref(dev);
    bert_model_free(sst2);
    bert_model_free(ner);
    bert_model_free(causal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_eight_threads_share_one_model)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
