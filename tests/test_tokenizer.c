/* The tokenizer through its public API, stage by stage (pre-tokenisation, clean text, CJK,
 * special tokens), encoding (pairs, padding, overflow) and bad input. Expected values for the
 * truncation cases were checked on HF tokenizers 0.23 by hand. */
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

static bert_tokenizer *uncased;
static bert_tokenizer *uncased_nocjk;
static bert_batch *batch;

static int setup(void **state)
{
    (void)state;
    char err[512];
    const char *v = test_shared_path("data/vocab/bert-base-uncased/vocab.txt");
    if (bert_tokenizer_load_vocab(v, NULL, &uncased, err, sizeof err) != BERT_OK)
        return -1;
    bert_tokenizer_config c = bert_tokenizer_default_config();
    c.tokenize_chinese_chars = 0;
    if (bert_tokenizer_load_vocab(v, &c, &uncased_nocjk, err, sizeof err) != BERT_OK)
        return -1;
    return bert_batch_new(&batch, err, sizeof err) == BERT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bert_batch_free(batch);
    bert_tokenizer_free(uncased);
    bert_tokenizer_free(uncased_nocjk);
    return 0;
}

/* Encodes one text (or pair) with p and returns row r's tokens joined by ' ' into buf. */
static const char *tokens(const bert_tokenizer *tok, const char *a, const char *b, const bert_encode_params *p,
                          size_t r)
{
    static char buf[4096];
    bert_text t = {a, strlen(a), b, b ? strlen(b) : 0};
    bert_encode_params def = bert_encode_default_params();
    bert_status st = bert_batch_encode(batch, tok, &t, 1, p ? p : &def);
    if (st != BERT_OK)
        fail_msg("encode failed: %s", bert_batch_errmsg(batch));
    bert_batch_view v = bert_batch_get(batch);
    assert_true(r < v.n_rows);
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < v.lengths[r]; i++) {
        size_t n = 0;
        const char *s = bert_tokenizer_id_to_token(tok, v.ids[r * v.seq_len + i], &n);
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%.*s", i ? " " : "", (int)n, s);
    }
    return buf;
}

static void test_pretokenize_splits_whitespace_and_punctuation_with_byte_offsets(void **state)
{
    (void)state;
    assert_string_equal(tokens(uncased, "Hello,  world!", NULL, NULL, 0), "[CLS] hello , world ! [SEP]");
    bert_batch_view v = bert_batch_get(batch);
    assert_int_equal(v.offsets[1].begin, 0);
    assert_int_equal(v.offsets[1].end, 5);
    assert_int_equal(v.offsets[3].begin, 8); /* two spaces skipped */
    assert_int_equal(v.offsets[3].end, 13);
    assert_int_equal(v.word_ids[1], 0);
    assert_int_equal(v.word_ids[2], 1);
    assert_int_equal(v.word_ids[4], 3);
    assert_int_equal(v.word_ids[0], -1);
    assert_string_equal(tokens(uncased, "$5+x", NULL, NULL, 0), "[CLS] $ 5 + x [SEP]");
}

static void test_clean_text_drops_controls_and_maps_whitespace(void **state)
{
    (void)state;
    static const char text[] = "a\0b\x01"
                               "c\xe2\x80\x8b"
                               "d\xef\xbf\xbd"
                               "e\xc2\xa0"
                               "f";
    bert_text t = {text, sizeof text - 1, NULL, 0};
    assert_int_equal(bert_batch_encode(batch, uncased, &t, 1, NULL), BERT_OK);
    bert_batch_view v = bert_batch_get(batch);
    /* NUL, U+0001, U+200B and U+FFFD vanish (joining "abcde"), NBSP separates "f" */
    assert_int_equal(v.lengths[0], 2 + 2 + 1);
    assert_int_equal(v.offsets[v.lengths[0] - 2].begin, sizeof text - 2);
}

static void test_cjk_ideographs_become_words_only_when_enabled(void **state)
{
    (void)state;
    assert_string_equal(tokens(uncased, "\xe4\xb8\xad\xe6\x96\x87x", NULL, NULL, 0), "[CLS] 中 文 x [SEP]");
    /* without isolation the ideographs are one word with "x", split by WordPiece */
    assert_string_equal(tokens(uncased_nocjk, "\xe4\xb8\xad\xe6\x96\x87x", NULL, NULL, 0), "[CLS] 中 ##文 ##x [SEP]");
}

static void test_accents_stripped_and_lowercased_with_original_offsets(void **state)
{
    (void)state;
    assert_string_equal(tokens(uncased, "Caf\xc3\xa9", NULL, NULL, 0), "[CLS] cafe [SEP]");
    bert_batch_view v = bert_batch_get(batch);
    assert_int_equal(v.offsets[1].end, 5); /* the é is two bytes of the original */
}

static void test_special_tokens_in_text_are_matched_on_raw_text(void **state)
{
    (void)state;
    assert_string_equal(tokens(uncased, "x[SEP]y [MASK]", NULL, NULL, 0), "[CLS] x [SEP] y [MASK] [SEP]");
    bert_batch_view v = bert_batch_get(batch);
    assert_int_equal(v.offsets[2].begin, 1);
    assert_int_equal(v.offsets[2].end, 6);
    assert_int_equal(v.special_tokens_mask[2], 0); /* it came from the text */
    /* lower-casing happens after the match, so "[sep]" is ordinary text */
    assert_string_equal(tokens(uncased, "[sep]", NULL, NULL, 0), "[CLS] [ sep ] [SEP]");
}

static void test_pair_type_ids_sequence_ids_and_special_mask(void **state)
{
    (void)state;
    assert_string_equal(tokens(uncased, "a b", "c", NULL, 0), "[CLS] a b [SEP] c [SEP]");
    bert_batch_view v = bert_batch_get(batch);
    const int32_t type[] = {0, 0, 0, 0, 1, 1}, seq[] = {-1, 0, 0, -1, 1, -1};
    const uint8_t special[] = {1, 0, 0, 1, 0, 1};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(v.type_ids[i], type[i]);
        assert_int_equal(v.sequence_ids[i], seq[i]);
        assert_int_equal(v.special_tokens_mask[i], special[i]);
        assert_int_equal(v.attention_mask[i], 1);
    }
    assert_int_equal(v.offsets[4].begin, 0); /* offsets of text b count in text b */
    assert_int_equal(v.word_ids[4], 0);
}

static void test_batch_padding_longest_and_max_length(void **state)
{
    (void)state;
    bert_text t[2] = {{"a", 1, NULL, 0}, {"a b c", 5, NULL, 0}};
    assert_int_equal(bert_batch_encode(batch, uncased, t, 2, NULL), BERT_OK);
    bert_batch_view v = bert_batch_get(batch);
    assert_int_equal(v.n_rows, 2);
    assert_int_equal(v.seq_len, 5);
    assert_int_equal(v.lengths[0], 3);
    assert_int_equal(v.ids[3], 0); /* [PAD] */
    assert_int_equal(v.attention_mask[3], 0);
    assert_int_equal(v.special_tokens_mask[3], 1);
    assert_int_equal(v.sequence_ids[4], -1);
    assert_int_equal(v.sample_index[1], 1);
    bert_encode_params p = bert_encode_default_params();
    p.padding = BERT_PADDING_MAX_LENGTH;
    p.max_length = 16;
    assert_int_equal(bert_batch_encode(batch, uncased, t, 2, &p), BERT_OK);
    v = bert_batch_get(batch);
    assert_int_equal(v.seq_len, 16);
    assert_int_equal(v.attention_mask[16 + 5], 0);
    assert_int_equal(v.attention_mask[16 + 4], 1);
}

static void test_truncation_stops_tokenizing_at_max_length_words_like_hf(void **state)
{
    (void)state;
    bert_encode_params p = bert_encode_default_params();
    p.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    p.max_length = 8;
    p.return_overflowing = 1;
    /* HF 0.23: a b c d e f | g h ##h  (tokenizing stops after the word reaching 8 tokens) */
    assert_string_equal(tokens(uncased, "a b c d e f g hh ii jj", NULL, &p, 0), "[CLS] a b c d e f [SEP]");
    assert_int_equal(bert_batch_get(batch).n_rows, 2);
    assert_string_equal(tokens(uncased, "a b c d e f g hh ii jj", NULL, &p, 1), "[CLS] g h ##h [SEP]");
}

static void test_pair_overflow_rows_in_hf_order(void **state)
{
    (void)state;
    bert_encode_params p = bert_encode_default_params();
    p.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    p.max_length = 5;
    p.return_overflowing = 1;
    static const char *const want[] = {"a|d", "b|d", "b|e", "b|f", "c|d", "c|e", "c|f", "a|e", "a|f"};
    tokens(uncased, "a b c", "d e f", &p, 0);
    bert_batch_view v = bert_batch_get(batch);
    assert_int_equal(v.n_rows, 9);
    for (size_t r = 0; r < 9; r++) {
        char exp[64];
        snprintf(exp, sizeof exp, "[CLS] %c [SEP] %c [SEP]", want[r][0], want[r][2]);
        assert_string_equal(tokens(uncased, "a b c", "d e f", &p, r), exp);
        assert_int_equal(bert_batch_get(batch).sample_index[r], 0);
    }
}

static void test_truncation_refusals_are_errors_with_messages(void **state)
{
    (void)state;
    bert_encode_params p = bert_encode_default_params();
    bert_text pair = {"a b c", 5, "d", 1};
    p.truncation = BERT_TRUNCATION_ONLY_SECOND;
    p.max_length = 4;
    assert_int_equal(bert_batch_encode(batch, uncased, &pair, 1, &p), BERT_E_TRUNCATION);
    assert_non_null(strstr(bert_batch_errmsg(batch), "too short"));
    assert_int_equal(bert_batch_get(batch).n_rows, 0);
    p.max_length = 2; /* fewer than [CLS] [SEP] [SEP] */
    assert_int_equal(bert_batch_encode(batch, uncased, &pair, 1, &p), BERT_E_TRUNCATION);
    assert_non_null(strstr(bert_batch_errmsg(batch), "smaller than the 3 special tokens"));
    p.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    p.max_length = 0;
    assert_int_equal(bert_batch_encode(batch, uncased, &pair, 1, &p), BERT_E_INVALID_ARG);
    p.max_length = 6; /* a window of 4 tokens */
    p.stride = 4;
    p.return_overflowing = 1;
    bert_text one = {"a b c d e f g", 13, NULL, 0};
    assert_int_equal(bert_batch_encode(batch, uncased, &one, 1, &p), BERT_E_TRUNCATION);
    assert_non_null(strstr(bert_batch_errmsg(batch), "stride 4"));
    p.stride = 3;
    assert_int_equal(bert_batch_encode(batch, uncased, &one, 1, &p), BERT_OK);
    assert_string_equal(bert_batch_errmsg(batch), "");
}

static void test_malformed_utf8_names_the_byte_or_is_replaced(void **state)
{
    (void)state;
    bert_text t[2] = {{"fine", 4, NULL, 0}, {"ok \xff bad", 8, NULL, 0}};
    assert_int_equal(bert_batch_encode(batch, uncased, t, 2, NULL), BERT_E_UTF8);
    assert_non_null(strstr(bert_batch_errmsg(batch), "input 1, text a: malformed UTF-8 at byte 3"));
    bert_encode_params p = bert_encode_default_params();
    p.on_invalid_utf8 = BERT_INVALID_UTF8_REPLACE;
    assert_int_equal(bert_batch_encode(batch, uncased, t, 2, &p), BERT_OK);
    assert_string_equal(tokens(uncased, "ok \xff bad", NULL, &p, 0), "[CLS] ok bad [SEP]");
    bert_text pair = {"x", 1, "\xe2\x82", 2}; /* truncated sequence in text b */
    assert_int_equal(bert_batch_encode(batch, uncased, &pair, 1, NULL), BERT_E_UTF8);
    assert_non_null(strstr(bert_batch_errmsg(batch), "text b: malformed UTF-8 at byte 0"));
    size_t bad = 99;
    assert_int_equal(bert_utf8_check("ab\xc0\xaf", 4, &bad), BERT_E_UTF8);
    assert_int_equal(bad, 2);
    assert_int_equal(bert_utf8_check("h\xc3\xa9", 3, &bad), BERT_OK);
}

static void test_text_is_not_assumed_nul_terminated(void **state)
{
    (void)state;
    const char buf[] = {'h', 'e', 'l', 'l', 'o', 'X', 'X'};
    bert_text t = {buf, 5, NULL, 0};
    assert_int_equal(bert_batch_encode(batch, uncased, &t, 1, NULL), BERT_OK);
    bert_batch_view v = bert_batch_get(batch);
    assert_int_equal(v.lengths[0], 3);
    assert_int_equal(v.ids[1], bert_tokenizer_token_to_id(uncased, "hello", 5));
    bert_text empty = {NULL, 0, NULL, 0};
    assert_int_equal(bert_batch_encode(batch, uncased, &empty, 1, NULL), BERT_OK);
    assert_int_equal(bert_batch_get(batch).lengths[0], 2);
}

static void test_null_arguments_are_rejected(void **state)
{
    (void)state;
    bert_text t = {"a", 1, NULL, 0};
    assert_int_equal(bert_batch_encode(NULL, uncased, &t, 1, NULL), BERT_E_INVALID_ARG);
    assert_int_equal(bert_batch_encode(batch, NULL, &t, 1, NULL), BERT_E_INVALID_ARG);
    assert_int_equal(bert_batch_encode(batch, uncased, NULL, 1, NULL), BERT_E_INVALID_ARG);
    bert_text bad = {NULL, 3, NULL, 0};
    assert_int_equal(bert_batch_encode(batch, uncased, &bad, 1, NULL), BERT_E_INVALID_ARG);
    bert_encode_params p = bert_encode_default_params();
    p.truncation = (bert_truncation)9;
    assert_int_equal(bert_batch_encode(batch, uncased, &t, 1, &p), BERT_E_INVALID_ARG);
    assert_int_equal(bert_batch_encode(batch, uncased, &t, 0, NULL), BERT_OK);
    assert_int_equal(bert_batch_get(batch).n_rows, 0);
    assert_null(bert_tokenizer_id_to_token(uncased, -1, NULL));
    assert_null(bert_tokenizer_id_to_token(uncased, 30522, NULL));
    assert_int_equal(bert_tokenizer_token_to_id(uncased, "no-such-token", 13), -1);
    assert_int_equal(bert_tokenizer_special_id(uncased, BERT_SPECIAL_MASK), 103);
    bert_batch_free(NULL);
    bert_tokenizer_free(NULL);
}

static void test_spans_to_codepoints(void **state)
{
    (void)state;
    const char *s = "h\xc3\xa9llo \xf0\x9f\x98\x80!";
    bert_span in[3] = {{0, 6}, {7, 11}, {11, 12}}, out[3];
    assert_int_equal(bert_spans_to_codepoints(s, strlen(s), in, 3, out), BERT_OK);
    assert_int_equal(out[0].end, 5);
    assert_int_equal(out[1].begin, 6);
    assert_int_equal(out[1].end, 7);
    assert_int_equal(out[2].end, 8);
    bert_span mid = {2, 3};
    assert_int_equal(bert_spans_to_codepoints(s, strlen(s), &mid, 1, out), BERT_E_INVALID_ARG);
    bert_span past = {0, 99};
    assert_int_equal(bert_spans_to_codepoints(s, strlen(s), &past, 1, out), BERT_E_INVALID_ARG);
}

/* A 50 MB line: one word of 50 M characters is one [UNK] (linear, no per-word buffer growth), and
 * with truncation a 50 MB text of words stops after max_length tokens. No timing is asserted. */
static void test_huge_line_linear_and_bounded(void **state)
{
    (void)state;
    const size_t n = 50u << 20;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'x', n);
    bert_text t = {big, n, NULL, 0};
    assert_int_equal(bert_batch_encode(batch, uncased, &t, 1, NULL), BERT_OK);
    bert_batch_view v = bert_batch_get(batch);
    assert_int_equal(v.lengths[0], 3);
    assert_int_equal(v.ids[1], 100);
    assert_int_equal(v.offsets[1].end, n);
    for (size_t i = 0; i + 5 <= n; i += 5)
        memcpy(big + i, "word ", 5);
    bert_encode_params p = bert_encode_default_params();
    p.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    p.max_length = 512;
    assert_int_equal(bert_batch_encode(batch, uncased, &t, 1, &p), BERT_OK);
    assert_int_equal(bert_batch_get(batch).lengths[0], 512);
    /* and 4 MB of words fully: one token per word */
    t.a_len = 4u << 20;
    assert_int_equal(bert_batch_encode(batch, uncased, &t, 1, NULL), BERT_OK);
    assert_int_equal(bert_batch_get(batch).lengths[0], (4u << 20) / 5 + (((4u << 20) % 5) ? 1 : 0) + 2);
    free(big);
}

/* A tokenizer.json that cannot be used names what and where: malformed JSON its line and column, an
 * unsupported component its JSON path and type, a bad regex Oniguruma's reason. */
static bert_status load_json_text(const char *text, char *err, size_t n)
{
    char path[] = "/tmp/bert_tokjson_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    bert_tokenizer *tok = NULL;
    bert_status st = bert_tokenizer_load_json(path, &tok, err, n);
    remove(path);
    if (st == BERT_OK)
        bert_tokenizer_free(tok);
    else
        assert_null(tok);
    return st;
}

static void test_tokenizer_json_refusals(void **state)
{
    (void)state;
    char err[512];
    const char *model =
        "\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"<unk>\", 0.0], [\"a\", -1.0]]}";
    char buf[1024];
    assert_int_equal(load_json_text("{\n  \"model\": {,\n}", err, sizeof err), BERT_E_FORMAT);
    assert_non_null(strstr(err, "line 2"));
    snprintf(buf, sizeof buf,
             "{%s, \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": "
             "\"WhitespaceSplit\"}, {\"type\": \"Foo\"}]}}",
             model);
    assert_int_equal(load_json_text(buf, err, sizeof err), BERT_E_UNSUPPORTED);
    assert_non_null(strstr(err, "pre_tokenizer.pretokenizers[1].type \"Foo\" is not supported"));
    snprintf(buf, sizeof buf,
             "{%s, \"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"(a\"}, "
             "\"content\": \"b\"}}",
             model);
    assert_int_equal(load_json_text(buf, err, sizeof err), BERT_E_FORMAT);
    assert_non_null(strstr(err, "normalizer.pattern: regex /(a/ is refused by Oniguruma"));
    assert_int_equal(load_json_text("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}",
                                    err, sizeof err),
                     BERT_E_FORMAT);
    assert_non_null(strstr(err, "model.merges[0]"));
    snprintf(buf, sizeof buf, "{%s, \"post_processor\": {\"type\": \"Nope\"}}", model);
    assert_int_equal(load_json_text(buf, err, sizeof err), BERT_E_UNSUPPORTED);
    assert_non_null(strstr(err, "post_processor.type \"Nope\""));
    /* ids far past the number of tokens (a few bytes that would take gigabytes of dense tables) */
    assert_int_equal(load_json_text("{\"model\": {\"type\": \"WordLevel\", \"unk_token\": \"a\", \"vocab\": "
                                    "{\"a\": 0, \"b\": 2000000000}}}",
                                    err, sizeof err),
                     BERT_E_UNSUPPORTED);
    assert_non_null(strstr(err, "model.vocab: token ids reach 2000000000 with 2 tokens"));
    assert_int_equal(load_json_text("{\"model\": {\"type\": \"WordLevel\", \"unk_token\": \"a\", \"vocab\": "
                                    "{\"a\": 0}}, \"added_tokens\": [{\"id\": 100000, \"content\": \"[X]\"}]}",
                                    err, sizeof err),
                     BERT_E_UNSUPPORTED);
    /* a few holes are fine */
    assert_int_equal(load_json_text("{\"model\": {\"type\": \"WordLevel\", \"unk_token\": \"a\", \"vocab\": "
                                    "{\"a\": 0, \"b\": 60000}}}",
                                    err, sizeof err),
                     BERT_OK);
    snprintf(buf, sizeof buf, "{%s, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}}", model);
    assert_int_equal(load_json_text(buf, err, sizeof err), BERT_OK);
}

/* A WordLevel tokenizer.json with a single_word added token ("cat" only as a word of its own), the
 * Whitespace pre-tokenizer, a template, no decoder, and truncation and padding sections: ids,
 * offsets, attention mask and decoding as HF tokenizers 0.23 gives them (checked with its npm
 * package). */
static void test_tokenizer_json_wordlevel_single_word_defaults(void **state)
{
    (void)state;
    static const char json[] =
        "{\"version\": \"1.0\", \"truncation\": {\"direction\": \"Right\", \"max_length\": 6, \"strategy\": "
        "\"LongestFirst\", \"stride\": 0}, \"padding\": {\"strategy\": {\"Fixed\": 6}, \"direction\": \"Right\", "
        "\"pad_to_multiple_of\": null, \"pad_id\": 0, \"pad_type_id\": 0, \"pad_token\": \"[PAD]\"}, \"added_tokens\": "
        "[{\"id\": 0, \"content\": \"[PAD]\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
        "\"normalized\": false, \"special\": true}, {\"id\": 1, \"content\": \"[UNK]\", \"single_word\": false, "
        "\"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}, {\"id\": 2, \"content\": "
        "\"cat\", \"single_word\": true, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": "
        "false}, {\"id\": 3, \"content\": \"[SEP]\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
        "\"normalized\": false, \"special\": true}], \"normalizer\": {\"type\": \"Lowercase\"}, \"pre_tokenizer\": "
        "{\"type\": \"Whitespace\"}, \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": "
        "[{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 0}}], "
        "\"pair\": [{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"[SEP]\", "
        "\"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}, {\"SpecialToken\": {\"id\": \"[SEP]\", "
        "\"type_id\": 1}}], \"special_tokens\": {\"[SEP]\": {\"id\": \"[SEP]\", \"ids\": [3], \"tokens\": "
        "[\"[SEP]\"]}}}, \"decoder\": null, \"model\": {\"type\": \"WordLevel\", \"unk_token\": \"[UNK]\", \"vocab\": "
        "{\"[PAD]\": 0, \"[UNK]\": 1, \"cat\": 2, \"[SEP]\": 3, \"the\": 4, \"sat\": 5, \"concat\": 6, \"cats\": 7, "
        "\",\": 8, \"!\": 9}}}";
    char err[256];
    bert_tokenizer *tok = NULL;
    assert_int_equal(bert_tokenizer_new_from_json(json, sizeof json - 1, "wl.json", &tok, err, sizeof err), BERT_OK);
    const bert_encode_params p = bert_tokenizer_encode_params(tok);
    assert_int_equal(p.truncation, BERT_TRUNCATION_LONGEST_FIRST);
    assert_int_equal(p.max_length, 6);
    assert_int_equal(p.padding, BERT_PADDING_MAX_LENGTH);
    static const struct {
        const char *text;
        int32_t ids[6];
        size_t off[6][2];
        int real;
    } want[] = {
        {"The cat sat", {4, 2, 5, 3, 0, 0}, {{0, 3}, {4, 7}, {8, 11}, {0, 0}, {0, 0}, {0, 0}}, 4},
        {"concat cats, cat!", {6, 7, 8, 2, 9, 3}, {{0, 6}, {7, 11}, {11, 12}, {13, 16}, {16, 17}, {0, 0}}, 6},
        {"xcat cat_ cat", {1, 1, 2, 3, 0, 0}, {{0, 4}, {5, 9}, {10, 13}, {0, 0}, {0, 0}, {0, 0}}, 4},
        {"The cat sat on the mat today", {4, 2, 5, 1, 4, 3}, {{0, 3}, {4, 7}, {8, 11}, {12, 14}, {15, 18}, {0, 0}}, 6},
    };
    bert_batch *b = NULL;
    assert_int_equal(bert_batch_new(&b, err, sizeof err), BERT_OK);
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        bert_text t = {want[k].text, strlen(want[k].text), NULL, 0};
        assert_int_equal(bert_batch_encode(b, tok, &t, 1, &p), BERT_OK);
        bert_batch_view v = bert_batch_get(b);
        assert_int_equal(v.n_rows, 1);
        assert_int_equal(v.seq_len, 6);
        for (size_t i = 0; i < 6; i++) {
            assert_int_equal(v.ids[i], want[k].ids[i]);
            assert_int_equal(v.offsets[i].begin, want[k].off[i][0]);
            assert_int_equal(v.offsets[i].end, want[k].off[i][1]);
            assert_int_equal(v.attention_mask[i], i < (size_t)want[k].real);
        }
    }
    const int32_t ids[] = {4, 2, 5, 3};
    char out[64];
    size_t len = 0;
    assert_int_equal(bert_tokenizer_decode(tok, ids, 4, 0, out, sizeof out, &len), BERT_OK);
    assert_string_equal(out, "the cat sat [SEP]");
    assert_int_equal(bert_tokenizer_decode(tok, ids, 4, 1, out, sizeof out, &len), BERT_OK);
    assert_string_equal(out, "the cat sat");
    bert_batch_free(b);
    bert_tokenizer_free(tok);
}

/* UnicodeScripts: pieces where the script changes (Hiragana, Katakana and U+30FC count as Han,
 * a space joins any script, leading spaces are dropped), as HF tokenizers 0.23 splits them. */
static void test_tokenizer_json_unicode_scripts(void **state)
{
    (void)state;
    static const char json[] =
        "{\"model\": {\"type\": \"WordLevel\", \"unk_token\": \"[UNK]\", \"vocab\": {\"[UNK]\": 0}}, "
        "\"pre_tokenizer\": {\"type\": \"UnicodeScripts\"}}";
    char err[256];
    bert_tokenizer *tok = NULL;
    assert_int_equal(bert_tokenizer_new_from_json(json, sizeof json - 1, "s.json", &tok, err, sizeof err), BERT_OK);
    static const struct {
        const char *text;
        size_t n, off[3][2];
    } want[] = {
        {"\xe3\x81\xa9\xe3\x81\x93\xe3\x81\xa7\xe7\x94\x9f\xe3\x82\x8c\xe3\x80\x82Yes",
         3,
         {{0, 15}, {15, 18}, {18, 21}}},
        {"Apples are \xe3\x82\x8a\xe3\x82\x93\xe3\x81\x94 \xe6\x9e\x97\xe6\xaa\x8e", 2, {{0, 11}, {11, 27}}},
        {" abc", 1, {{1, 4}}},
        {"abc123 \xe3\x83\xbc", 3, {{0, 3}, {3, 7}, {7, 10}}},
    };
    bert_batch *b = NULL;
    assert_int_equal(bert_batch_new(&b, err, sizeof err), BERT_OK);
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        bert_text t = {want[k].text, strlen(want[k].text), NULL, 0};
        assert_int_equal(bert_batch_encode(b, tok, &t, 1, NULL), BERT_OK);
        bert_batch_view v = bert_batch_get(b);
        assert_int_equal(v.lengths[0], want[k].n);
        for (size_t i = 0; i < want[k].n; i++) {
            assert_int_equal(v.offsets[i].begin, want[k].off[i][0]);
            assert_int_equal(v.offsets[i].end, want[k].off[i][1]);
        }
    }
    bert_batch_free(b);
    bert_tokenizer_free(tok);
}

/* bert_batch_set_ids: rows of ids taken whole, padded with the pad id, specials marked; bad ids
 * named by input and position. */
static void test_batch_from_ids(void **state)
{
    (void)state;
    char err[256];
    bert_batch *b = NULL;
    assert_int_equal(bert_batch_new(&b, err, sizeof err), BERT_OK);
    const int32_t r0[4] = {101, 7592, 2088, 102}, r1[2] = {101, 102};
    const int32_t *rows[2] = {r0, r1};
    const size_t lens[2] = {4, 2};
    assert_int_equal(bert_batch_set_ids(b, uncased, rows, lens, 2), BERT_OK);
    const bert_batch_view v = bert_batch_get(b);
    assert_int_equal(v.n_rows, 2);
    assert_int_equal(v.seq_len, 4);
    assert_int_equal(v.lengths[1], 2);
    assert_int_equal(v.ids[4 + 2], 0); /* [PAD] */
    assert_int_equal(v.attention_mask[4 + 2], 0);
    assert_int_equal(v.attention_mask[4 + 1], 1);
    assert_int_equal(v.special_tokens_mask[0], 1);
    assert_int_equal(v.special_tokens_mask[1], 0);
    assert_int_equal(v.type_ids[1], 0);
    assert_int_equal(v.truncated[0], 0);
    const int32_t bad[2] = {101, 30522};
    const int32_t *brow[1] = {bad};
    assert_int_equal(bert_batch_set_ids(b, uncased, brow, lens + 1, 1), BERT_E_INVALID_ARG);
    assert_non_null(strstr(bert_batch_errmsg(b), "input 0, token 1: id 30522 is outside the vocabulary"));
    const size_t zero = 0;
    assert_int_equal(bert_batch_set_ids(b, uncased, rows, &zero, 1), BERT_E_INVALID_ARG);
    bert_batch_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_from_ids),
        cmocka_unit_test(test_pretokenize_splits_whitespace_and_punctuation_with_byte_offsets),
        cmocka_unit_test(test_clean_text_drops_controls_and_maps_whitespace),
        cmocka_unit_test(test_cjk_ideographs_become_words_only_when_enabled),
        cmocka_unit_test(test_accents_stripped_and_lowercased_with_original_offsets),
        cmocka_unit_test(test_special_tokens_in_text_are_matched_on_raw_text),
        cmocka_unit_test(test_pair_type_ids_sequence_ids_and_special_mask),
        cmocka_unit_test(test_batch_padding_longest_and_max_length),
        cmocka_unit_test(test_truncation_stops_tokenizing_at_max_length_words_like_hf),
        cmocka_unit_test(test_pair_overflow_rows_in_hf_order),
        cmocka_unit_test(test_truncation_refusals_are_errors_with_messages),
        cmocka_unit_test(test_malformed_utf8_names_the_byte_or_is_replaced),
        cmocka_unit_test(test_text_is_not_assumed_nul_terminated),
        cmocka_unit_test(test_null_arguments_are_rejected),
        cmocka_unit_test(test_spans_to_codepoints),
        cmocka_unit_test(test_huge_line_linear_and_bounded),
        cmocka_unit_test(test_tokenizer_json_refusals),
        cmocka_unit_test(test_tokenizer_json_wordlevel_single_word_defaults),
        cmocka_unit_test(test_tokenizer_json_unicode_scripts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
