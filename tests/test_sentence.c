/* Sentence embeddings, cross-encoders and zero-shot classification against the references in
 * ../shared/fixtures:
 * - every sentence-transformers folder (mean + Normalize; CLS + Dense 32->16 tanh + Normalize; an
 *   XLM-R body with max pooling and named prompts; an MPNet body with mean_sqrt_len and
 *   max_seq_length 16) on 40 STS-B sentences through encode(): ids identical, embeddings within 1e-5;
 * - cross-encoders (CrossEncoder.predict): one label with its sigmoid, three labels with identity and
 *   softmax, the raw logits, and the ranking of 8 passages for 3 questions: scores within 1e-4, the
 *   same order;
 * - HF's zero-shot-classification pipeline on 56 calls (2-5 labels, multi_label both ways, a custom
 *   template, labels given as a comma-separated string), for the NLI model and for the same weights
 *   with the labels permuted: labels in the same order, scores within 1e-4;
 * - the refusals: a Dense module with only pytorch_model.bin, unknown pooling modes, module types and
 *   activations, a zero-shot model without an entailment label, an empty label list. */
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

#include "support.h"

#define load test_load_model

static json_t *fixture(const char *model, const char *file)
{
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/%s/%s", model, file);
    return test_read_json(test_shared_path(rel));
}

/* The batch's row r equals the JSON list of ids. */
static void assert_ids(const bert_batch *b, size_t r, json_t *ids)
{
    const bert_batch_view v = bert_batch_get(b);
    if (v.lengths[r] != json_array_size(ids))
        fail_msg("row %zu: %zu tokens, the reference has %zu", r, v.lengths[r], json_array_size(ids));
    for (size_t t = 0; t < v.lengths[r]; t++)
        assert_int_equal(v.ids[r * v.seq_len + t], (int32_t)json_integer_value(json_array_get(ids, t)));
}

/* Encodes rows (texts, optionally prefixed) as sentence-transformers does (truncated to the
 * folder's max_seq_length) and embeds them; returns the largest difference from the references. */
static double embed_rows(bert_model *m, json_t *rows, const char *prompt, size_t *truncated)
{
    bert_head_params hp = bert_head_default_params();
    hp.name = "embed";
    test_run r;
    test_run_open(&r, m, &hp);
    const bert_st_info si = bert_model_st_info(m);
    bert_encode_params ep = bert_encode_default_params();
    if (si.max_seq_length) {
        ep.truncation = BERT_TRUNCATION_LONGEST_FIRST;
        ep.max_length = si.max_seq_length;
    }
    double worst = 0;
    *truncated = 0;
    const size_t n = json_array_size(rows);
    for (size_t s = 0; s < n; s += 8) { /* encode(batch_size=8) */
        const size_t k = n - s < 8 ? n - s : 8;
        char text[8][1024];
        bert_text in[8];
        for (size_t i = 0; i < k; i++) {
            json_t *row = json_array_get(rows, s + i);
            const char *t = json_string_value(json_object_get(row, "text"));
            if (prompt) { /* the reference text is the prompted one: build it from its parts */
                assert_int_equal(strncmp(t, prompt, strlen(prompt)), 0);
                snprintf(text[i], sizeof text[i], "%s%s", prompt, t + strlen(prompt));
            } else {
                snprintf(text[i], sizeof text[i], "%s", t);
            }
            in[i] = (bert_text){text[i], strlen(text[i]), NULL, 0};
        }
        if (bert_batch_encode(r.b, bert_model_tokenizer(m), in, k, &ep) != BERT_OK)
            fail_msg("%s", bert_batch_errmsg(r.b));
        for (size_t i = 0; i < k; i++) {
            assert_ids(r.b, i, json_object_get(json_array_get(rows, s + i), "input_ids"));
            *truncated += bert_batch_get(r.b).truncated[i] != 0;
        }
        if (bert_head_run(r.h, r.ctx, r.b, in, r.res) != BERT_OK)
            fail_msg("%s", bert_result_errmsg(r.res));
        assert_int_equal(bert_result_dim(r.res), si.dim);
        for (size_t i = 0; i < k; i++) {
            json_t *e = json_object_get(json_array_get(rows, s + i), "embedding");
            assert_int_equal(json_array_size(e), si.dim);
            for (size_t d = 0; d < si.dim; d++) {
                const double diff = fabs(bert_result_vector(r.res, i)[d] - json_number_value(json_array_get(e, d)));
                worst = diff > worst || diff != diff ? diff : worst;
            }
        }
    }
    test_run_close(&r);
    return worst;
}

static void test_embeddings_match_sentence_transformers(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t dim, max_len;
        int normalize;
    } folders[] = {{"tiny-sbert-meanpool", 32, 256, 1},
                   {"tiny-sbert-cls-dense", 16, 256, 1},
                   {"tiny-sbert-max-prompts", 32, 512, 0},
                   {"tiny-sbert-meansqrt", 32, 16, 0}};
    for (size_t f = 0; f < sizeof folders / sizeof folders[0]; f++) {
        bert_model *m = load(folders[f].name);
        const bert_st_info si = bert_model_st_info(m);
        assert_true(si.present);
        assert_int_equal(si.dim, folders[f].dim);
        assert_int_equal(si.max_seq_length, folders[f].max_len);
        assert_int_equal(si.normalize, folders[f].normalize);
        json_t *ref = fixture(folders[f].name, "embeddings_reference.json");
        size_t truncated;
        const double d = embed_rows(m, json_object_get(ref, "embeddings"), NULL, &truncated);
        printf("%s: %zu sentences (%zu truncated), embeddings within %.3g of sentence-transformers\n", folders[f].name,
               json_array_size(json_object_get(ref, "embeddings")), truncated, d);
        assert_true(d <= 1e-5);
        assert_int_equal(truncated, (size_t)json_integer_value(json_object_get(ref, "truncated_rows")));
        json_t *prompted = json_object_get(ref, "prompted");
        if (prompted) {
            assert_int_equal(si.n_prompts, 2);
            assert_null(si.default_prompt_name);
            const char *names[2] = {"query", "passage"};
            for (int k = 0; k < 2; k++) {
                json_t *p = json_object_get(prompted, names[k]);
                const char *text = bert_model_prompt(m, names[k]);
                assert_non_null(text);
                assert_string_equal(text, json_string_value(json_object_get(p, "prompt")));
                const double dp = embed_rows(m, json_object_get(p, "embeddings"), text, &truncated);
                printf("%s with prompt \"%s\": within %.3g\n", folders[f].name, names[k], dp);
                assert_true(dp <= 1e-5);
            }
            assert_null(bert_model_prompt(m, "document"));
        }
        json_decref(ref);
        bert_model_free(m);
    }
}

/* Scores pairs with the rerank head; returns the largest difference from field (per label). */
static double rerank_pairs(bert_model *m, json_t *pairs, int softmax, const char *field, double *logit_diff)
{
    bert_head_params hp = bert_head_default_params();
    hp.name = "rerank";
    hp.softmax = softmax;
    test_run r;
    test_run_open(&r, m, &hp);
    const size_t n = json_array_size(pairs), nl = bert_model_get_info(m).n_labels;
    double worst = 0;
    *logit_diff = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(pairs, i);
        json_t *a = json_object_get(p, "text_a"), *t = json_object_get(p, "text_b");
        bert_text in = {json_string_value(a), json_string_length(a), json_string_value(t), json_string_length(t)};
        assert_int_equal(bert_batch_encode(r.b, bert_model_tokenizer(m), &in, 1, NULL), BERT_OK);
        assert_ids(r.b, 0, json_object_get(p, "input_ids"));
        if (bert_head_run(r.h, r.ctx, r.b, &in, r.res) != BERT_OK)
            fail_msg("%s", bert_result_errmsg(r.res));
        json_t *want = json_object_get(p, field), *lg = json_object_get(p, "logits");
        for (size_t k = 0; k < nl; k++) {
            const double w = json_is_array(want) ? json_number_value(json_array_get(want, k)) : json_number_value(want);
            const double d = fabs(bert_result_scores(r.res, 0)[k] - w);
            const double dl = fabs(bert_ctx_logits(r.ctx)[k] - json_number_value(json_array_get(lg, k)));
            worst = d > worst || d != d ? d : worst;
            *logit_diff = dl > *logit_diff ? dl : *logit_diff;
        }
    }
    test_run_close(&r);
    return worst;
}

static void test_cross_encoders_and_ranking(void **state)
{
    (void)state;
    double dl;
    bert_model *m = load("tiny-crossencoder");
    json_t *ref = fixture("tiny-crossencoder", "crossencoder_reference.json");
    double d = rerank_pairs(m, json_object_get(ref, "pairs"), 0, "score", &dl);
    printf("tiny-crossencoder: %zu BoolQ pairs, sigmoid scores within %.3g, logits within %.3g\n",
           json_array_size(json_object_get(ref, "pairs")), d, dl);
    assert_true(d <= 1e-4 && dl <= 1e-4);
    /* the ranking: each question against the 8 passages, scores and order */
    json_t *rank = json_object_get(ref, "rank"), *passages = json_object_get(rank, "passages");
    bert_head_params hp = bert_head_default_params();
    hp.name = "rerank";
    test_run r;
    test_run_open(&r, m, &hp);
    size_t qi;
    json_t *q;
    double worst = 0;
    json_array_foreach(json_object_get(rank, "queries"), qi, q)
    {
        bert_text in[8];
        const size_t np = json_array_size(passages);
        assert_true(np == 8);
        for (size_t i = 0; i < np; i++) {
            json_t *qq = json_object_get(q, "query"), *pp = json_array_get(passages, i);
            in[i] = (bert_text){json_string_value(qq), json_string_length(qq), json_string_value(pp),
                                json_string_length(pp)};
        }
        assert_int_equal(bert_batch_encode(r.b, bert_model_tokenizer(m), in, np, NULL), BERT_OK);
        assert_int_equal(bert_head_run(r.h, r.ctx, r.b, in, r.res), BERT_OK);
        float scores[8];
        size_t order[8];
        for (size_t i = 0; i < np; i++) {
            scores[i] = bert_result_scores(r.res, i)[0];
            const double dd = fabs(scores[i] - json_number_value(json_array_get(json_object_get(q, "scores"), i)));
            worst = dd > worst ? dd : worst;
        }
        bert_rank(scores, np, order);
        for (size_t i = 0; i < np; i++)
            assert_int_equal(order[i], (size_t)json_integer_value(json_array_get(json_object_get(q, "ranking"), i)));
    }
    printf("tiny-crossencoder: 3 questions x 8 passages ranked as sentence-transformers, scores within %.3g\n", worst);
    assert_true(worst <= 1e-4);
    test_run_close(&r);
    json_decref(ref);
    bert_model_free(m);

    m = load("tiny-crossencoder-3way");
    ref = fixture("tiny-crossencoder-3way", "crossencoder_reference.json");
    d = rerank_pairs(m, json_object_get(ref, "pairs"), 0, "scores_default", &dl);
    const double ds = rerank_pairs(m, json_object_get(ref, "pairs"), 1, "softmax", &dl);
    printf("tiny-crossencoder-3way: %zu CB pairs, identity within %.3g, softmax within %.3g\n",
           json_array_size(json_object_get(ref, "pairs")), d, ds);
    assert_true(d <= 1e-4 && ds <= 1e-4 && dl <= 1e-4);
    json_decref(ref);
    bert_model_free(m);
}

/* Every pipeline call of the reference through one model; the largest score difference. */
static double zero_shot_calls(const char *name, json_t *calls)
{
    bert_model *m = load(name);
    char err[512];
    test_run r;
    test_run_open(&r, m, NULL);
    double worst = 0;
    size_t ci;
    json_t *c;
    json_array_foreach(calls, ci, c)
    {
        /* labels as a list, or as the pipeline splits a string: on commas, stripped, empties dropped */
        char buf[512], *labels[8];
        size_t nl = 0;
        json_t *cl = json_object_get(c, "candidate_labels");
        if (json_is_string(cl)) {
            snprintf(buf, sizeof buf, "%s", json_string_value(cl));
            for (char *tok = strtok(buf, ","); tok && nl < 8; tok = strtok(NULL, ",")) {
                while (*tok == ' ')
                    tok++;
                size_t l = strlen(tok);
                while (l && tok[l - 1] == ' ')
                    tok[--l] = '\0';
                if (l)
                    labels[nl++] = tok;
            }
        } else {
            for (size_t i = 0; i < json_array_size(cl) && nl < 8; i++)
                labels[nl++] = (char *)json_string_value(json_array_get(cl, i));
        }
        bert_head_params hp = bert_head_default_params();
        hp.name = "zero-shot";
        hp.labels = (const char *const *)labels;
        hp.n_labels = nl;
        hp.multi_label = json_is_true(json_object_get(c, "multi_label"));
        if (json_is_true(json_object_get(c, "template_passed")))
            hp.hypothesis_template = json_string_value(json_object_get(c, "hypothesis_template"));
        bert_head *h = NULL;
        if (bert_head_new(m, &hp, &h, err, sizeof err) != BERT_OK)
            fail_msg("%s", err);
        json_t *seq = json_object_get(c, "sequence");
        bert_text in = {json_string_value(seq), json_string_length(seq), NULL, 0};
        assert_int_equal(bert_batch_encode(r.b, bert_model_tokenizer(m), &in, 1, NULL), BERT_OK);
        if (bert_head_run(h, r.ctx, r.b, &in, r.res) != BERT_OK)
            fail_msg("%s", bert_result_errmsg(r.res));
        assert_int_equal(bert_result_n_rows(r.res), 1);
        size_t order[8];
        bert_rank(bert_result_scores(r.res, 0), nl, order);
        json_t *want_labels = json_object_get(c, "labels"), *want_scores = json_object_get(c, "scores");
        assert_int_equal(json_array_size(want_labels), nl);
        for (size_t i = 0; i < nl; i++) {
            assert_string_equal(labels[order[i]], json_string_value(json_array_get(want_labels, i)));
            const double d =
                fabs(bert_result_scores(r.res, 0)[order[i]] - json_number_value(json_array_get(want_scores, i)));
            worst = d > worst || d != d ? d : worst;
        }
        assert_int_equal((size_t)bert_result_label(r.res, 0), order[0]);
        bert_head_free(h);
    }
    test_run_close(&r);
    bert_model_free(m);
    return worst;
}

static void test_zero_shot_matches_the_pipeline(void **state)
{
    (void)state;
    json_t *ref = fixture("tiny-nli-zeroshot", "zeroshot_reference.json");
    json_t *calls = json_object_get(ref, "calls");
    const double a = zero_shot_calls("tiny-nli-zeroshot", calls);
    const double b = zero_shot_calls("tiny-nli-zeroshot-revlabels", calls); /* the same answers */
    printf("zero-shot: %zu pipeline calls, labels in the same order, scores within %.3g (permuted labels: %.3g)\n",
           json_array_size(calls), a, b);
    assert_true(a <= 1e-4 && b <= 1e-4);
    json_decref(ref);
}

/* dst/rel = src/rel, creating dst's subfolder. */
static void copy_file(const char *src, const char *dst, const char *rel)
{
    char from[1024];
    snprintf(from, sizeof from, "%s/%s", src, rel);
    FILE *f = fopen(from, "rb");
    assert_non_null(f);
    size_t len = 0, cap = 1 << 16;
    char *data = malloc(cap);
    assert_non_null(data);
    size_t got;
    while ((got = fread(data + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            data = realloc(data, cap *= 2);
            assert_non_null(data);
        }
    }
    fclose(f);
    char sub[256];
    snprintf(sub, sizeof sub, "%s", rel);
    char *slash = strrchr(sub, '/');
    char dir[1400];
    if (slash) {
        *slash = '\0';
        snprintf(dir, sizeof dir, "%s/%s", dst, sub);
        assert_true(mkdir(dir, 0777) == 0 || errno == EEXIST);
        test_write_file(dir, slash + 1, data, len);
    } else {
        test_write_file(dst, rel, data, len);
    }
    free(data);
}

static void expect_load_fails(const char *dir, bert_status want, const char *needle)
{
    char err[512];
    bert_model *m = NULL;
    const bert_status st = bert_model_load(dir, NULL, &m, err, sizeof err);
    if (st != want || !strstr(err, needle))
        fail_msg("%s: expected %s with \"%s\", got %s: %s", dir, bert_status_str(want), needle, bert_status_str(st),
                 err);
    assert_null(m);
}

static void test_refusals(void **state)
{
    (void)state;
    char src[512], dir[600];
    snprintf(src, sizeof src, "%s/models/tiny-sbert-cls-dense", test_shared_dir());
    snprintf(dir, sizeof dir, "%s/bin-only", test_tmpdir());
    assert_true(mkdir(dir, 0777) == 0 || errno == EEXIST);
    static const char *const files[] = {
        "config.json",         "model.safetensors",        "modules.json", "tokenizer.json", "1_Pooling/config.json",
        "2_Dense/config.json", "2_Dense/pytorch_model.bin"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        copy_file(src, dir, files[i]);
    /* sentence-transformers before 3.1 wrote the Dense weights as a pickle only */
    expect_load_fails(dir, BERT_E_UNSUPPORTED, "2_Dense: only pytorch_model.bin (a pickle) is here");
    copy_file(src, dir, "2_Dense/model.safetensors");
    bert_model *m = NULL;
    char err[512];
    assert_int_equal(bert_model_load(dir, NULL, &m, err, sizeof err), BERT_OK);
    bert_model_free(m);
    /* an unknown pooling mode, module type and activation, each by name */
    const char *pool = "{\"word_embedding_dimension\": 32, \"pooling_mode_median_tokens\": true}";
    test_write_file(dir, "1_Pooling/config.json", pool, strlen(pool));
    expect_load_fails(dir, BERT_E_UNSUPPORTED, "pooling mode \"median_tokens\" is not supported");
    copy_file(src, dir, "1_Pooling/config.json");
    const char *act = "{\"in_features\": 32, \"out_features\": 16, \"bias\": true, "
                      "\"activation_function\": \"torch.nn.modules.activation.Softsign\"}";
    test_write_file(dir, "2_Dense/config.json", act, strlen(act));
    expect_load_fails(dir, BERT_E_UNSUPPORTED, "activation_function \"torch.nn.modules.activation.Softsign\"");
    copy_file(src, dir, "2_Dense/config.json");
    const char *mods =
        "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
        " {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"},"
        " {\"idx\": 2, \"name\": \"2\", \"path\": \"2_LSTM\", \"type\": \"sentence_transformers.models.LSTM\"}]";
    test_write_file(dir, "modules.json", mods, strlen(mods));
    expect_load_fails(dir, BERT_E_UNSUPPORTED,
                      "module 2 of type \"sentence_transformers.models.LSTM\" is not supported");

    /* zero-shot needs an entailment label and candidate labels */
    m = load("tiny-crossencoder");
    bert_head_params hp = bert_head_default_params();
    hp.name = "zero-shot";
    const char *labels[2] = {"a", "b"};
    hp.labels = labels;
    hp.n_labels = 2;
    bert_head *h = NULL;
    assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_E_LABEL);
    assert_non_null(strstr(err, "needs an NLI model with an entailment label"));
    bert_model_free(m);
    m = load("tiny-nli-zeroshot");
    hp.n_labels = 0;
    assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_E_INVALID_ARG);
    assert_non_null(strstr(err, "needs at least one candidate label"));
    hp.n_labels = 2;
    hp.hypothesis_template = "This is about";
    assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_E_INVALID_ARG);
    assert_non_null(strstr(err, "has no \"{}\" for the label"));
    assert_null(h);
    bert_model_free(m);
    m = load("tiny-gelu-3labels");
    hp = bert_head_default_params();
    hp.name = "rerank";
    assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_OK); /* any sequence classifier */
    bert_head_free(h);
    bert_model_free(m);
    m = load("mini-conll03-ner");
    assert_int_equal(bert_head_new(m, &hp, &h, err, sizeof err), BERT_E_UNSUPPORTED);
    assert_non_null(strstr(err, "head \"rerank\" needs a cross-encoder"));
    bert_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embeddings_match_sentence_transformers),
        cmocka_unit_test(test_cross_encoders_and_ranking),
        cmocka_unit_test(test_zero_shot_matches_the_pipeline),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
