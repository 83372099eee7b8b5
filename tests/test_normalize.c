/* The normalisation stage, one rule at a time: HF BertNormalizer's character classes, accent
 * stripping and lower-casing, and the UTF-8 decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tokenizer/tokenizer_int.h"

static void test_whitespace_is_unicode_white_space(void **state)
{
    (void)state;
    const int32_t ws[] = {' ', '\t', '\n', '\r', 0x0B, 0x0C, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029,
                          0x202F, 0x205F, 0x3000};
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
        assert_true(bert__cp_is_whitespace(ws[i]));
    const int32_t not_ws[] = {'a', 0x200B /* zero width space is Cf, not White_Space */, 0xFEFF, 0x180E, 0};
    for (size_t i = 0; i < sizeof not_ws / sizeof not_ws[0]; i++)
        assert_false(bert__cp_is_whitespace(not_ws[i]));
}

static void test_control_covers_other_categories_but_not_tab_newline(void **state)
{
    (void)state;
    assert_false(bert__cp_is_control('\t'));
    assert_false(bert__cp_is_control('\n'));
    assert_false(bert__cp_is_control('\r'));
    assert_true(bert__cp_is_control(0x01));
    assert_true(bert__cp_is_control(0x7F));
    assert_true(bert__cp_is_control(0x0B));   /* Cc: dropped before it could count as whitespace */
    assert_true(bert__cp_is_control(0x200D)); /* ZWJ, Cf */
    assert_true(bert__cp_is_control(0xAD));   /* soft hyphen, Cf */
    assert_true(bert__cp_is_control(0xE000)); /* private use, Co */
    /* HF's tables, not today's Unicode (tokenizer/hf_unicode.c): an unassigned code point is kept
     * (the word becomes [UNK]); U+061C (Cf since Unicode 6.3) is removed, U+2066 too */
    assert_false(bert__cp_is_control(0x0378));
    assert_false(bert__cp_is_control(0x10FFFF));
    assert_true(bert__cp_is_control(0xFFFD));
    assert_true(bert__cp_is_control(0));
    assert_true(bert__cp_is_control(0x061C));
    assert_true(bert__cp_is_control(0x2066));
    assert_false(bert__cp_is_control('a'));
    assert_false(bert__cp_is_control(0x4E2D));
}

static void test_punctuation_includes_ascii_symbols_and_unicode_p(void **state)
{
    (void)state;
    const char *ascii = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    for (const char *p = ascii; *p; p++)
        assert_true(bert__cp_is_punct((unsigned char)*p));
    assert_true(bert__cp_is_punct(0x00AB)); /* « Pi */
    assert_true(bert__cp_is_punct(0x2014)); /* — Pd */
    assert_true(bert__cp_is_punct(0x3002)); /* 。 Po */
    assert_false(bert__cp_is_punct(0x00A9)); /* © is So, not punctuation */
    /* where HF's punctuation table and today's Unicode differ */
    assert_false(bert__cp_is_punct(0x061D)); /* Po since Unicode 14: not in HF's table */
    assert_true(bert__cp_is_punct(0x166D));  /* So today, Po in HF's table */
    assert_false(bert__cp_is_punct('a'));
    assert_false(bert__cp_is_punct(' '));
}

static void test_cjk_blocks(void **state)
{
    (void)state;
    assert_true(bert__cp_is_cjk(0x4E2D));  /* 中 */
    assert_true(bert__cp_is_cjk(0x3400));
    assert_true(bert__cp_is_cjk(0x20000));
    assert_true(bert__cp_is_cjk(0xF900));
    assert_false(bert__cp_is_cjk(0x3042)); /* hiragana is not isolated */
    assert_false(bert__cp_is_cjk(0xAC00)); /* hangul neither */
    assert_false(bert__cp_is_cjk(0x2B820)); /* the Rust table starts that block at 0x2B920 */
}

static void test_normalize_strips_accents_then_lowercases(void **state)
{
    (void)state;
    int32_t out[BERT__NORM_MAX];
    assert_int_equal(bert__normalize_cp(0xC9, 1, 1, out), 1); /* É -> e */
    assert_int_equal(out[0], 'e');
    assert_int_equal(bert__normalize_cp(0xC9, 0, 1, out), 1); /* É -> é without stripping */
    assert_int_equal(out[0], 0xE9);
    assert_int_equal(bert__normalize_cp(0xC9, 1, 0, out), 1); /* É -> E: stripping alone keeps case */
    assert_int_equal(out[0], 'E');
    assert_int_equal(bert__normalize_cp(0x0301, 1, 1, out), 0); /* a lone combining accent vanishes */
    assert_int_equal(bert__normalize_cp(0x130, 0, 1, out), 2);  /* İ lower-cases to i + U+0307 */
    assert_int_equal(out[0], 'i');
    assert_int_equal(out[1], 0x307);
    assert_int_equal(bert__normalize_cp(0x130, 1, 1, out), 1); /* stripped first, then lowered */
    assert_int_equal(out[0], 'i');
    assert_int_equal(bert__normalize_cp(0xD55C, 1, 0, out), 3); /* 한 decomposes into three jamo */
    assert_int_equal(out[0], 0x1112);
    assert_int_equal(bert__normalize_cp(0xDF, 1, 1, out), 1); /* ß has no simple lower/upper change */
    assert_int_equal(out[0], 0xDF);
    /* HF's case mapping is newer than utf8proc's (U+1C89, Unicode 16), its mark table older (U+07FD
     * is Mn since Unicode 11, and HF keeps it) */
    assert_int_equal(bert__normalize_cp(0x1C89, 0, 1, out), 1);
    assert_int_equal(out[0], 0x1C8A);
    assert_int_equal(bert__normalize_cp(0x07FD, 1, 0, out), 1);
    assert_int_equal(out[0], 0x07FD);
}

static void test_utf8_decoder_rejects_what_the_standard_forbids(void **state)
{
    (void)state;
    int32_t c;
    assert_int_equal(bert__utf8_decode((const unsigned char *)"\xC3\xA9", 2, &c), 2);
    assert_int_equal(c, 0xE9);
    assert_int_equal(bert__utf8_decode((const unsigned char *)"\xF0\x9F\x98\x80", 4, &c), 4);
    assert_int_equal(c, 0x1F600);
    assert_int_equal(bert__utf8_decode((const unsigned char *)"\xC0\xAF", 2, &c), 0);         /* overlong */
    assert_int_equal(bert__utf8_decode((const unsigned char *)"\xE0\x80\xAF", 3, &c), 0);     /* overlong */
    assert_int_equal(bert__utf8_decode((const unsigned char *)"\xED\xA0\x80", 3, &c), 0);     /* surrogate */
    assert_int_equal(bert__utf8_decode((const unsigned char *)"\xF4\x90\x80\x80", 4, &c), 0); /* > U+10FFFF */
    assert_int_equal(bert__utf8_decode((const unsigned char *)"\x80", 1, &c), 0);             /* stray continuation */
    assert_int_equal(bert__utf8_decode((const unsigned char *)"\xE2\x82", 2, &c), 0);         /* truncated */
    char buf[4];
    assert_int_equal(bert__utf8_encode(0x1F600, buf), 4);
    assert_memory_equal(buf, "\xF0\x9F\x98\x80", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whitespace_is_unicode_white_space),
        cmocka_unit_test(test_control_covers_other_categories_but_not_tab_newline),
        cmocka_unit_test(test_punctuation_includes_ascii_symbols_and_unicode_p),
        cmocka_unit_test(test_cjk_blocks),
        cmocka_unit_test(test_normalize_strips_accents_then_lowercases),
        cmocka_unit_test(test_utf8_decoder_rejects_what_the_standard_forbids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
