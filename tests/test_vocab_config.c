/* Loading: vocab.txt line rules, tokenizer_config.json fields, and the errors for bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "support.h"

#define SPECIALS "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"

static bert_status from(const char *vocab, bert_tokenizer **tok, char *err, size_t n)
{
    return bert_tokenizer_new_from_vocab(vocab, strlen(vocab), "vocab.txt", NULL, tok, err, n);
}

static void test_vocab_crlf_and_missing_final_newline(void **state)
{
    (void)state;
    bert_tokenizer *tok = NULL;
    char err[256];
    assert_int_equal(from("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello", &tok, err, sizeof err), BERT_OK);
    assert_int_equal(bert_tokenizer_vocab_size(tok), 5);
    assert_int_equal(bert_tokenizer_token_to_id(tok, "[UNK]", 5), 1);
    assert_int_equal(bert_tokenizer_token_to_id(tok, "hello", 5), 4);
    assert_int_equal(bert_tokenizer_special_id(tok, BERT_SPECIAL_MASK), -1);
    size_t n = 0;
    assert_memory_equal(bert_tokenizer_id_to_token(tok, 3, &n), "[SEP]", 5);
    assert_int_equal(n, 5);
    bert_tokenizer_free(tok);
}

static void test_vocab_splits_on_newline_only_keeping_u2028(void **state)
{
    (void)state;
    bert_tokenizer *tok = NULL;
    char err[256];
    assert_int_equal(bert_tokenizer_load_vocab(test_shared_path("data/vocab/bert-base-chinese/vocab.txt"), NULL, &tok,
                                               err, sizeof err),
                     BERT_OK);
    assert_int_equal(bert_tokenizer_vocab_size(tok), 21128);
    assert_true(bert_tokenizer_token_to_id(tok, "\xe2\x80\xa8", 3) >= 0);
    assert_true(bert_tokenizer_token_to_id(tok, "##\xe2\x80\xa8", 5) >= 0);
    bert_tokenizer_free(tok);
}

static void test_vocab_duplicate_line_takes_over_lookup(void **state)
{
    (void)state;
    bert_tokenizer *tok = NULL;
    char err[256];
    assert_int_equal(from(SPECIALS "x\ny\nx\n", &tok, err, sizeof err), BERT_OK);
    assert_int_equal(bert_tokenizer_token_to_id(tok, "x", 1), 7);
    assert_memory_equal(bert_tokenizer_id_to_token(tok, 5, NULL), "x", 1);
    bert_tokenizer_free(tok);
}

static void test_vocab_errors(void **state)
{
    (void)state;
    bert_tokenizer *tok = (bert_tokenizer *)&tok;
    char err[256];
    assert_int_equal(from("", &tok, err, sizeof err), BERT_E_FORMAT);
    assert_null(tok);
    assert_non_null(strstr(err, "vocab.txt: empty vocabulary"));
    assert_int_equal(from("[CLS]\n[SEP]\nhello\n", &tok, err, sizeof err), BERT_E_FORMAT);
    assert_non_null(strstr(err, "'[UNK]' is not in the vocabulary"));
    assert_int_equal(bert_tokenizer_new_from_vocab("[UNK]\na\0b\n", 10, "v.txt", NULL, &tok, err, sizeof err),
                     BERT_E_FORMAT);
    assert_non_null(strstr(err, "v.txt:2: NUL byte"));
    /* a Latin-1 token (caf\xe9): no UTF-8 text can ever produce it */
    assert_int_equal(bert_tokenizer_new_from_vocab("[UNK]\nab\ncaf\xe9\n", 13, "v.txt", NULL, &tok, err, sizeof err),
                     BERT_E_FORMAT);
    assert_non_null(strstr(err, "v.txt:3: malformed UTF-8 at byte 3 of the token"));
    assert_int_equal(bert_tokenizer_load_vocab("/nonexistent/vocab.txt", NULL, &tok, err, sizeof err), BERT_E_IO);
    assert_non_null(strstr(err, "/nonexistent/vocab.txt: cannot open"));
    assert_int_equal(bert_tokenizer_load_vocab(test_tmpdir(), NULL, &tok, err, sizeof err), BERT_E_IO);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(bert_tokenizer_load_vocab(NULL, NULL, &tok, err, sizeof err), BERT_E_INVALID_ARG);
    bert_tokenizer_config c = bert_tokenizer_default_config();
    c.max_input_chars_per_word = 0;
    assert_int_equal(bert_tokenizer_new_from_vocab(SPECIALS, 30, "v", &c, &tok, NULL, 0), BERT_E_INVALID_ARG);
}

/* A model folder with the given tokenizer_config.json (NULL: none). */
static const char *model_dir(const char *name, const char *config)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0700);
    const char vocab[] = SPECIALS "caf\xc3\xa9\ncafe\nCafe\nfoo-bar\nfoo\n-\nbar\n<s>\n";
    test_write_file(dir, "vocab.txt", vocab, sizeof vocab - 1);
    if (config)
        test_write_file(dir, "tokenizer_config.json", config, strlen(config));
    return dir;
}

static int32_t first_id(const bert_tokenizer *tok, const char *text)
{
    bert_batch *b = NULL;
    assert_int_equal(bert_batch_new(&b, NULL, 0), BERT_OK);
    bert_text t = {text, strlen(text), NULL, 0};
    bert_encode_params p = bert_encode_default_params();
    p.add_special_tokens = 0;
    assert_int_equal(bert_batch_encode(b, tok, &t, 1, &p), BERT_OK);
    int32_t id = bert_batch_get(b).ids[0];
    bert_batch_free(b);
    return id;
}

static void test_config_fields_are_read(void **state)
{
    (void)state;
    bert_tokenizer *tok = NULL;
    char err[256];
    const char *cfg = "{\"do_lower_case\": false, \"strip_accents\": true, \"tokenize_chinese_chars\": false,"
                      " \"model_max_length\": 128, \"cls_token\": {\"content\": \"<s>\", \"lstrip\": false},"
                      " \"never_split\": [\"foo-bar\"], \"other\": [1, 2]}";
    assert_int_equal(bert_tokenizer_load(model_dir("m1", cfg), NULL, &tok, err, sizeof err), BERT_OK);
    bert_tokenizer_config c = bert_tokenizer_get_config(tok);
    assert_int_equal(c.do_lower_case, 0);
    assert_int_equal(c.strip_accents, 1);
    assert_int_equal(c.tokenize_chinese_chars, 0);
    assert_int_equal(c.model_max_length, 128);
    assert_string_equal(c.cls_token, "<s>");
    assert_int_equal(bert_tokenizer_special_id(tok, BERT_SPECIAL_CLS), 12);
    assert_int_equal(c.n_never_split, 1);
    assert_int_equal(first_id(tok, "Caf\xc3\xa9"), 7); /* accents stripped, case kept */
    assert_int_equal(first_id(tok, "foo-bar"), 8);     /* never_split keeps it whole */
    bert_tokenizer_free(tok);

    /* overrides win over the file */
    bert_tokenizer_config o = bert_tokenizer_default_config();
    o.strip_accents = 0;
    assert_int_equal(bert_tokenizer_load(model_dir("m1", NULL), &o, &tok, err, sizeof err), BERT_OK);
    assert_int_equal(first_id(tok, "caf\xc3\xa9"), 5); /* accent kept now */
    bert_tokenizer_free(tok);
}

static void test_missing_config_means_bert_defaults(void **state)
{
    (void)state;
    bert_tokenizer *tok = NULL;
    char err[256];
    assert_int_equal(bert_tokenizer_load(model_dir("m2", NULL), NULL, &tok, err, sizeof err), BERT_OK);
    bert_tokenizer_config c = bert_tokenizer_get_config(tok);
    assert_int_equal(c.do_lower_case, 1);
    assert_int_equal(c.strip_accents, -1);
    assert_int_equal(c.model_max_length, 512);
    assert_int_equal(first_id(tok, "CAF\xc3\x89"), 6); /* lower-cased and stripped: "cafe" */
    bert_tokenizer_free(tok);
}

static void test_config_errors_name_file_and_position(void **state)
{
    (void)state;
    bert_tokenizer *tok = NULL;
    char err[512];
    assert_int_equal(bert_tokenizer_load(model_dir("m3", "{\n  \"do_lower_case\": tru\n}"), NULL, &tok, err, sizeof err),
                     BERT_E_FORMAT);
    assert_non_null(strstr(err, "tokenizer_config.json:2:"));
    assert_non_null(strstr(err, "invalid JSON"));
    assert_null(tok);
    assert_int_equal(bert_tokenizer_load(model_dir("m4", "{\"do_lower_case\": \"yes\"}"), NULL, &tok, err, sizeof err),
                     BERT_E_FORMAT);
    assert_non_null(strstr(err, "\"do_lower_case\" must be true or false"));
    assert_int_equal(bert_tokenizer_load(model_dir("m5", "[1]"), NULL, &tok, err, sizeof err), BERT_E_FORMAT);
    assert_non_null(strstr(err, "top level must be a JSON object"));
    assert_int_equal(bert_tokenizer_load(model_dir("m6", "{\"unk_token\": 3}"), NULL, &tok, err, sizeof err),
                     BERT_E_FORMAT);
    assert_non_null(strstr(err, "\"unk_token\""));
    assert_int_equal(bert_tokenizer_load(model_dir("m7", ""), NULL, &tok, err, sizeof err), BERT_E_FORMAT);
    assert_int_equal(bert_tokenizer_load(model_dir("m8", "{\"model_max_length\": -5}"), NULL, &tok, err, sizeof err),
                     BERT_E_FORMAT);
    assert_int_equal(bert_tokenizer_load(model_dir("m9", "{\"never_split\": [\"\"]}"), NULL, &tok, err, sizeof err),
                     BERT_E_FORMAT);
    assert_int_equal(bert_tokenizer_load("/nonexistent-dir", NULL, &tok, err, sizeof err), BERT_E_IO);
    assert_non_null(strstr(err, "/nonexistent-dir/vocab.txt"));
}

static void test_model_max_length_float_means_no_limit(void **state)
{
    (void)state;
    bert_tokenizer *tok = NULL;
    char err[256];
    assert_int_equal(bert_tokenizer_load(model_dir("m10", "{\"model_max_length\": 1e30}"), NULL, &tok, err,
                                         sizeof err),
                     BERT_OK);
    assert_int_equal(bert_tokenizer_get_config(tok).model_max_length, SIZE_MAX);
    bert_tokenizer_free(tok);
}

static void test_shipped_default_model_tokenizer_loads(void **state)
{
    (void)state;
    bert_tokenizer *tok = NULL;
    char err[256];
    assert_int_equal(bert_tokenizer_load(BERT_SOURCE_DIR "/models/mini-sst2", NULL, &tok, err, sizeof err), BERT_OK);
    assert_int_equal(bert_tokenizer_vocab_size(tok), 30522);
    assert_int_equal(bert_tokenizer_get_config(tok).do_lower_case, 1);
    bert_tokenizer_free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vocab_crlf_and_missing_final_newline),
        cmocka_unit_test(test_vocab_splits_on_newline_only_keeping_u2028),
        cmocka_unit_test(test_vocab_duplicate_line_takes_over_lookup),
        cmocka_unit_test(test_vocab_errors),
        cmocka_unit_test(test_config_fields_are_read),
        cmocka_unit_test(test_missing_config_means_bert_defaults),
        cmocka_unit_test(test_config_errors_name_file_and_position),
        cmocka_unit_test(test_model_max_length_float_means_no_limit),
        cmocka_unit_test(test_shipped_default_model_tokenizer_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
