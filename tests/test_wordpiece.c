/* The WordPiece stage on a small vocabulary: longest match first, "##" continuations, [UNK] for a
 * word with an unmatched piece and for words over max_input_chars_per_word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "tokenizer/tokenizer_int.h"

static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"
                            "un\n##aff\n##able\naff\nable\nunaff\n##a\nb\n##b\na\n##ü\nü\n##bb\n";
enum { UNK = 1, UN = 5, AFF_C = 6, ABLE_C = 7, UNAFF = 10, A_C = 11, B = 12, B_C = 13, A = 14, UE_C = 15, BB_C = 17 };

static bert_tokenizer *make(size_t max_chars)
{
    bert_tokenizer_config cfg = bert_tokenizer_default_config();
    cfg.max_input_chars_per_word = max_chars;
    bert_tokenizer *tok = NULL;
    char err[256];
    assert_int_equal(bert_tokenizer_new_from_vocab(vocab, sizeof vocab - 1, "test", &cfg, &tok, err, sizeof err),
                     BERT_OK);
    return tok;
}

/* Runs WordPiece on one word of ASCII/UTF-8 bytes (no normalisation), spans = byte positions. */
static size_t pieces(const bert_tokenizer *tok, const char *s, int32_t *ids, bert_span *spans)
{
    bert__word w;
    assert_int_equal(bert__word_init(&w, tok->cfg.max_input_chars_per_word), BERT_OK);
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w.n_chars++;
        if (i < w.cap) {
            w.bytes[w.len] = s[i];
            w.orig_b[w.len] = i;
            w.orig_e[w.len] = i + 1;
            w.len++;
        }
    }
    w.span.begin = 0;
    w.span.end = n;
    bert__seq out;
    memset(&out, 0, sizeof out);
    assert_int_equal(bert__wordpiece(tok, &w, 7, &out), BERT_OK);
    for (size_t i = 0; i < out.n; i++) {
        ids[i] = out.ids[i];
        spans[i] = out.offsets[i];
        assert_int_equal(out.words[i], 7);
    }
    size_t k = out.n;
    bert__seq_free(&out);
    bert__word_free(&w);
    return k;
}

static void test_wordpiece_longest_match_first(void **state)
{
    (void)state;
    bert_tokenizer *tok = make(100);
    int32_t ids[16];
    bert_span sp[16];
    /* "unaff" is in the vocabulary whole, so it wins over "un" + "##aff". */
    assert_int_equal(pieces(tok, "unaffable", ids, sp), 2);
    assert_int_equal(ids[0], UNAFF);
    assert_int_equal(ids[1], ABLE_C);
    assert_int_equal(sp[1].begin, 5);
    assert_int_equal(sp[1].end, 9);
    assert_int_equal(pieces(tok, "abbb", ids, sp), 3); /* a ##bb ##b */
    assert_int_equal(ids[0], A);
    assert_int_equal(ids[1], BB_C);
    assert_int_equal(ids[2], B_C);
    bert_tokenizer_free(tok);
}

static void test_wordpiece_continuations_need_the_prefix(void **state)
{
    (void)state;
    bert_tokenizer *tok = make(100);
    int32_t ids[16];
    bert_span sp[16];
    /* "able" exists whole but a continuation must use "##able". */
    assert_int_equal(pieces(tok, "unable", ids, sp), 2);
    assert_int_equal(ids[0], UN);
    assert_int_equal(ids[1], ABLE_C);
    /* multi-byte pieces are matched on character boundaries */
    assert_int_equal(pieces(tok, "a\xC3\xBC", ids, sp), 2);
    assert_int_equal(ids[1], UE_C);
    assert_int_equal(sp[1].begin, 1);
    assert_int_equal(sp[1].end, 3);
    bert_tokenizer_free(tok);
}

static void test_wordpiece_unmatched_piece_makes_whole_word_unk(void **state)
{
    (void)state;
    bert_tokenizer *tok = make(100);
    int32_t ids[16];
    bert_span sp[16];
    assert_int_equal(pieces(tok, "unaffz", ids, sp), 1);
    assert_int_equal(ids[0], UNK);
    assert_int_equal(sp[0].begin, 0);
    assert_int_equal(sp[0].end, 6);
    assert_int_equal(pieces(tok, "zz", ids, sp), 1);
    assert_int_equal(ids[0], UNK);
    bert_tokenizer_free(tok);
}

static void test_wordpiece_word_over_char_limit_is_unk(void **state)
{
    (void)state;
    bert_tokenizer *tok = make(4);
    int32_t ids[16];
    bert_span sp[16];
    assert_int_equal(pieces(tok, "abbb", ids, sp), 3);       /* 4 chars: allowed */
    assert_int_equal(pieces(tok, "abbbb", ids, sp), 1);      /* 5 chars: [UNK] */
    assert_int_equal(ids[0], UNK);
    assert_int_equal(sp[0].end, 5);
    /* 4 characters in 8 bytes: the limit counts characters, so this is still split */
    assert_int_equal(pieces(tok, "\xC3\xBC\xC3\xBC\xC3\xBC\xC3\xBC", ids, sp), 4);
    assert_int_equal(ids[3], UE_C);
    bert_tokenizer_free(tok);
}

static void test_wordpiece_default_limit_is_100_characters(void **state)
{
    (void)state;
    bert_tokenizer *tok = make(100);
    char w[102];
    int32_t ids[128];
    bert_span sp[128];
    memset(w, 'b', 100);
    w[100] = '\0';
    assert_int_equal(pieces(tok, w, ids, sp), 51); /* b, 49 x ##bb, ##b */
    w[100] = 'b';
    w[101] = '\0';
    assert_int_equal(pieces(tok, w, ids, sp), 1);
    assert_int_equal(ids[0], UNK);
    bert_tokenizer_free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wordpiece_longest_match_first),
        cmocka_unit_test(test_wordpiece_continuations_need_the_prefix),
        cmocka_unit_test(test_wordpiece_unmatched_piece_makes_whole_word_unk),
        cmocka_unit_test(test_wordpiece_word_over_char_limit_is_unk),
        cmocka_unit_test(test_wordpiece_default_limit_is_100_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
