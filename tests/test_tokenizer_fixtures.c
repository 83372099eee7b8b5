/* Every row of ../shared/fixtures/tokenizer/<vocab>.jsonl (HF tokenizers 0.23 outputs) reproduced exactly:
 * input ids, token type ids, tokens, byte offsets, code-point offsets and sequence ids; and every
 * row of truncation.jsonl (main window and each overflowing window; error rows -> error status).
 * Each test prints how many rows it compared, and fails if that count is not the file's row count. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "support.h"

#define MAX_REPORTED 5

static size_t mismatches;

static void report(size_t row, const char *text, const char *fmt, ...)
{
    if (++mismatches > MAX_REPORTED)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "row %zu (%.60s): ", row, text);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int int_array_equal(json_t *arr, const int32_t *v, size_t n)
{
    if (!json_is_array(arr) || json_array_size(arr) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (json_integer_value(json_array_get(arr, i)) != v[i])
            return 0;
    return 1;
}

static int span_array_equal(json_t *arr, const bert_span *v, size_t n)
{
    if (!json_is_array(arr) || json_array_size(arr) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(arr, i);
        if ((size_t)json_integer_value(json_array_get(p, 0)) != v[i].begin ||
            (size_t)json_integer_value(json_array_get(p, 1)) != v[i].end)
            return 0;
    }
    return 1;
}

/* Compares row r of the batch with the fixture object; returns 1 if equal. */
static int compare_row(const bert_batch *b, const bert_batch_view *v, size_t r, json_t *row, const bert_text *t,
                       size_t idx)
{
    const size_t n = v->lengths[r], base = r * v->seq_len;
    const char *text = t->a;
    if (!int_array_equal(json_object_get(row, "input_ids"), v->ids + base, n)) {
        report(idx, text, "input_ids differ (%zu tokens here, %zu in fixture)", n,
               json_array_size(json_object_get(row, "input_ids")));
        return 0;
    }
    if (!int_array_equal(json_object_get(row, "token_type_ids"), v->type_ids + base, n)) {
        report(idx, text, "token_type_ids differ");
        return 0;
    }
    json_t *toks = json_object_get(row, "tokens");
    for (size_t i = 0; i < n; i++) {
        size_t tl = 0;
        const char *s = bert_batch_token(b, r, i, &tl);
        const char *want = json_string_value(json_array_get(toks, i));
        if (!s || !want || json_string_length(json_array_get(toks, i)) != tl || memcmp(want, s, tl) != 0) {
            report(idx, text, "token %zu is '%.*s', fixture '%s'", i, (int)tl, s ? s : "", want ? want : "?");
            return 0;
        }
    }
    if (!span_array_equal(json_object_get(row, "byte_offsets"), v->offsets + base, n)) {
        report(idx, text, "byte_offsets differ");
        return 0;
    }
    json_t *seq = json_object_get(row, "sequence_ids");
    bert_span cps[1];
    json_t *chars = json_object_get(row, "char_offsets");
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(seq, i);
        int32_t want = json_is_null(s) ? -1 : (int32_t)json_integer_value(s);
        if (want != v->sequence_ids[base + i]) {
            report(idx, text, "sequence id %zu is %d, fixture %d", i, v->sequence_ids[base + i], want);
            return 0;
        }
        cps[0] = v->offsets[base + i];
        if (want >= 0) {
            const char *src = want == 1 ? t->b : t->a;
            size_t len = want == 1 ? t->b_len : t->a_len;
            if (bert_spans_to_codepoints(src, len, &v->offsets[base + i], 1, cps) != BERT_OK) {
                report(idx, text, "token %zu: byte span not convertible", i);
                return 0;
            }
        }
        json_t *p = json_array_get(chars, i);
        if ((size_t)json_integer_value(json_array_get(p, 0)) != cps[0].begin ||
            (size_t)json_integer_value(json_array_get(p, 1)) != cps[0].end) {
            report(idx, text, "char offset %zu is [%zu,%zu]", i, cps[0].begin, cps[0].end);
            return 0;
        }
    }
    return 1;
}

static void text_of(json_t *row, bert_text *t)
{
    json_t *a = json_object_get(row, "text"), *b = json_object_get(row, "text_pair");
    t->a = json_string_value(a);
    t->a_len = json_string_length(a);
    t->b = json_is_string(b) ? json_string_value(b) : NULL;
    t->b_len = json_is_string(b) ? json_string_length(b) : 0;
}

static void run_rows(const char *name, bert_tokenizer *tok, size_t min_rows);

static void run_vocab(const char *name, int lower)
{
    char rel[256];
    snprintf(rel, sizeof rel, "data/vocab/%s/vocab.txt", name);
    bert_tokenizer_config cfg = bert_tokenizer_default_config();
    cfg.do_lower_case = lower;
    char err[512];
    bert_tokenizer *tok = NULL;
    assert_int_equal(bert_tokenizer_load_vocab(test_shared_path(rel), &cfg, &tok, err, sizeof err), BERT_OK);
    run_rows(name, tok, 1000);
}

/* A fixture made by HF from a tokenizer.json, read by bert_tokenizer_load_json. */
static void run_json(const char *name, const char *json_rel)
{
    char err[512];
    bert_tokenizer *tok = NULL;
    bert_status st = bert_tokenizer_load_json(test_shared_path(json_rel), &tok, err, sizeof err);
    if (st != BERT_OK)
        fail_msg("%s: %s", json_rel, err);
    run_rows(name, tok, 500);
}

static void run_rows(const char *name, bert_tokenizer *tok, size_t min_rows)
{
    char rel[256], err[512];
    snprintf(rel, sizeof rel, "fixtures/tokenizer/%s.jsonl", name);
    json_t *rows = test_read_jsonl(test_shared_path(rel));
    bert_batch *b = NULL;
    assert_int_equal(bert_batch_new(&b, err, sizeof err), BERT_OK);
    bert_encode_params p = bert_encode_default_params();

    mismatches = 0;
    size_t compared = 0, pairs = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *row = json_array_get(rows, i);
        bert_text t;
        text_of(row, &t);
        bert_status st = bert_batch_encode(b, tok, &t, 1, &p);
        if (st != BERT_OK) {
            report(i, t.a, "status %s: %s", bert_status_name(st), bert_batch_errmsg(b));
            continue;
        }
        bert_batch_view v = bert_batch_get(b);
        assert_int_equal(v.n_rows, 1);
        compare_row(b, &v, 0, row, &t, i);
        compared++;
        pairs += t.b != NULL;
    }
    printf("%s: compared %zu rows (%zu pairs), %zu mismatches\n", name, compared, pairs, mismatches);
    assert_int_equal(compared, json_array_size(rows));
    assert_true(compared > min_rows);
    assert_int_equal(mismatches, 0);
    bert_batch_free(b);
    json_decref(rows);
    bert_tokenizer_free(tok);
}

static void test_fixture_uncased(void **state)
{
    (void)state;
    run_vocab("bert-base-uncased", 1);
}

static void test_fixture_cased(void **state)
{
    (void)state;
    run_vocab("bert-base-cased", 0);
}

static void test_fixture_multilingual_cased(void **state)
{
    (void)state;
    run_vocab("bert-base-multilingual-cased", 0);
}

static void test_fixture_chinese(void **state)
{
    (void)state;
    run_vocab("bert-base-chinese", 0);
}

static void test_json_roberta_base(void **state)
{
    (void)state;
    run_json("roberta-base", "data/tokenizers/roberta-base/tokenizer.json");
}

static void test_json_t5_small(void **state)
{
    (void)state;
    run_json("t5-small", "data/tokenizers/t5-small/tokenizer.json");
}

static void test_json_xlmr(void **state)
{
    (void)state;
    run_json("xlmr-unigram8k", "models/tiny-xlmr-seqcls/tokenizer.json");
}

static void test_json_debertav3(void **state)
{
    (void)state;
    run_json("debertav3-unigram8k", "models/tiny-debertav3-seqcls/tokenizer.json");
}

static void test_json_mpnet(void **state)
{
    (void)state;
    run_json("mpnet-base", "models/tiny-mpnet-seqcls/tokenizer.json");
}

/* The same WordPiece rows through a tokenizer.json: HF's own file for the uncased vocabulary, and
 * for the other three one written here from vocab.txt with BERT's components (the file HF's
 * BertWordPieceTokenizer saves), so vocab.txt and tokenizer.json must agree token for token. */
static void test_json_bert_uncased(void **state)
{
    (void)state;
    run_json("bert-base-uncased", "models/mini-sst2/tokenizer.json");
}

static void run_generated_json(const char *name, int lower)
{
    char rel[256], path[] = "/tmp/bert_fixture_json_XXXXXX";
    snprintf(rel, sizeof rel, "data/vocab/%s/vocab.txt", name);
    FILE *v = fopen(test_shared_path(rel), "rb");
    assert_non_null(v);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    json_t *vocab = json_object();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int id = 0;
    while ((n = getline(&line, &cap, v)) > 0) {
        size_t len = (size_t)n;
        if (line[len - 1] == '\n')
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        json_object_setn_new(vocab, line, len, json_integer(id++));
    }
    free(line);
    fclose(v);
    const char *sp[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    json_t *added = json_array();
    for (int i = 0; i < 5; i++)
        json_array_append_new(added, json_pack("{s:i,s:s,s:b,s:b,s:b,s:b,s:b}", "id",
                                               (int)json_integer_value(json_object_get(vocab, sp[i])), "content",
                                               sp[i], "single_word", 0, "lstrip", 0, "rstrip", 0, "normalized", 0,
                                               "special", 1));
    json_t *root = json_pack(
        "{s:s,s:o,s:{s:s,s:b,s:b,s:n,s:b},s:{s:s},s:{s:s,s:[s,I],s:[s,I]},s:{s:s,s:s,s:b},s:{s:s,s:s,s:s,s:i,s:o}}",
        "version", "1.0", "added_tokens", added, "normalizer", "type", "BertNormalizer", "clean_text", 1,
        "handle_chinese_chars", 1, "strip_accents", "lowercase", lower, "pre_tokenizer", "type", "BertPreTokenizer",
        "post_processor", "type", "BertProcessing", "sep", "[SEP]",
        (json_int_t)json_integer_value(json_object_get(vocab, "[SEP]")), "cls", "[CLS]",
        (json_int_t)json_integer_value(json_object_get(vocab, "[CLS]")), "decoder", "type", "WordPiece", "prefix",
        "##", "cleanup", 1, "model", "type", "WordPiece", "unk_token", "[UNK]", "continuing_subword_prefix", "##",
        "max_input_chars_per_word", 100, "vocab", vocab);
    assert_non_null(root);
    assert_int_equal(json_dumpf(root, f, 0), 0);
    fclose(f);
    json_decref(root);
    char err[512];
    bert_tokenizer *tok = NULL;
    bert_status st = bert_tokenizer_load_json(path, &tok, err, sizeof err);
    remove(path);
    if (st != BERT_OK)
        fail_msg("%s: %s", name, err);
    run_rows(name, tok, 1000);
}

static void test_json_bert_cased(void **state)
{
    (void)state;
    run_generated_json("bert-base-cased", 0);
}

static void test_json_bert_multilingual(void **state)
{
    (void)state;
    run_generated_json("bert-base-multilingual-cased", 0);
}

static void test_json_bert_chinese(void **state)
{
    (void)state;
    run_generated_json("bert-base-chinese", 0);
}

static void test_json_albert(void **state)
{
    (void)state;
    run_json("albert-unigram8k", "models/tiny-albert-seqcls/tokenizer.json");
}

static bert_truncation strategy_of(const char *s)
{
    if (!strcmp(s, "longest_first"))
        return BERT_TRUNCATION_LONGEST_FIRST;
    if (!strcmp(s, "only_first"))
        return BERT_TRUNCATION_ONLY_FIRST;
    if (!strcmp(s, "only_second"))
        return BERT_TRUNCATION_ONLY_SECOND;
    fail_msg("unknown strategy %s", s);
    return BERT_TRUNCATION_NONE;
}

static void test_fixture_truncation(void **state)
{
    (void)state;
    char err[512];
    bert_tokenizer *tok = NULL;
    assert_int_equal(bert_tokenizer_load_vocab(test_shared_path("data/vocab/bert-base-uncased/vocab.txt"), NULL, &tok,
                                               err, sizeof err),
                     BERT_OK);
    json_t *rows = test_read_jsonl(test_shared_path("fixtures/tokenizer/truncation.jsonl"));
    bert_batch *b = NULL;
    assert_int_equal(bert_batch_new(&b, err, sizeof err), BERT_OK);

    mismatches = 0;
    size_t compared = 0, errors = 0, windows = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *row = json_array_get(rows, i);
        bert_text t;
        text_of(row, &t);
        bert_encode_params p = bert_encode_default_params();
        p.truncation = strategy_of(json_string_value(json_object_get(row, "strategy")));
        p.max_length = (size_t)json_integer_value(json_object_get(row, "max_length"));
        json_t *stride = json_object_get(row, "stride");
        json_t *ovf = json_object_get(row, "overflowing");
        p.stride = stride ? (size_t)json_integer_value(stride) : 0;
        p.return_overflowing = ovf != NULL;
        bert_status st = bert_batch_encode(b, tok, &t, 1, &p);
        compared++;
        if (json_object_get(row, "error")) {
            errors++;
            if (st != BERT_E_TRUNCATION)
                report(i, t.a, "expected BERT_E_TRUNCATION, got %s", bert_status_name(st));
            else if (!strstr(bert_batch_errmsg(b), "too short"))
                report(i, t.a, "message lacks the reason: %s", bert_batch_errmsg(b));
            continue;
        }
        if (st != BERT_OK) {
            report(i, t.a, "status %s: %s", bert_status_name(st), bert_batch_errmsg(b));
            continue;
        }
        bert_batch_view v = bert_batch_get(b);
        if (!compare_row(b, &v, 0, row, &t, i))
            continue;
        size_t n_ovf = ovf ? json_array_size(ovf) : 0;
        if (v.n_rows != 1 + n_ovf) {
            report(i, t.a, "%zu overflowing windows, fixture %zu", v.n_rows - 1, n_ovf);
            continue;
        }
        for (size_t w = 0; w < n_ovf; w++) {
            windows++;
            if (!int_array_equal(json_array_get(ovf, w), v.ids + (w + 1) * v.seq_len, v.lengths[w + 1]))
                report(i, t.a, "overflowing window %zu differs", w);
        }
    }
    printf("truncation: compared %zu rows (%zu error rows, %zu overflowing windows), %zu mismatches\n", compared,
           errors, windows, mismatches);
    assert_int_equal(compared, json_array_size(rows));
    assert_true(errors > 0 && windows > 0);
    assert_int_equal(mismatches, 0);
    bert_batch_free(b);
    json_decref(rows);
    bert_tokenizer_free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_uncased),
        cmocka_unit_test(test_fixture_cased),
        cmocka_unit_test(test_fixture_multilingual_cased),
        cmocka_unit_test(test_fixture_chinese),
        cmocka_unit_test(test_fixture_truncation),
        cmocka_unit_test(test_json_roberta_base),
        cmocka_unit_test(test_json_t5_small),
        cmocka_unit_test(test_json_xlmr),
        cmocka_unit_test(test_json_debertav3),
        cmocka_unit_test(test_json_albert),
        cmocka_unit_test(test_json_mpnet),
        cmocka_unit_test(test_json_bert_uncased),
        cmocka_unit_test(test_json_bert_cased),
        cmocka_unit_test(test_json_bert_multilingual),
        cmocka_unit_test(test_json_bert_chinese),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
