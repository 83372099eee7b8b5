/* Per-code-point rules of Hugging Face's BertNormalizer and BertPreTokenizer (tokenizers,
 * normalizers/bert.rs and pre_tokenizers/bert.rs), with Unicode data from utf8proc. */
#include <utf8proc.h>

#include "tokenizer_int.h"

int bert__cp_is_whitespace(int32_t c)
{
    /* Rust's char::is_whitespace is the Unicode White_Space property; utf8proc has no such flag,
     * and the list is short and stable. */
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0D);
    switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return 1;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

int bert__cp_is_control(int32_t c)
{
    /* HF counts \t \n \r as whitespace, and every "Other" category (Cc, Cf, Cn, Co, Cs) as control,
     * so zero-width joiners, soft hyphens, BOMs, private-use and unassigned code points vanish. */
    if (c == '\t' || c == '\n' || c == '\r')
        return 0;
    if (c < 0x20 || c == 0x7F)
        return 1;
    if (c < 0x80)
        return 0;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
        return 1;
    default:
        return 0;
    }
}

int bert__cp_is_punct(int32_t c)
{
    /* ASCII symbols such as $ + < = > ^ ` | ~ are not Unicode punctuation but BERT splits them. */
    if (c < 0x80)
        return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return 1;
    default:
        return 0;
    }
}

int bert__cp_is_cjk(int32_t c)
{
    /* The blocks of tokenizers' is_chinese_char. Note 0x2B920 (not 0x2B820 as in the Python
     * BasicTokenizer): the Rust table is what HF's fast tokenizers and our fixtures use. */
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static int32_t lower1(int32_t c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return utf8proc_tolower(c);
}

size_t bert__normalize_cp(int32_t c, int strip, int lower, int32_t *out)
{
    size_t n = 0;
    if (strip && c >= 0x80) {
        /* HF strips accents before lower-casing: NFD, then drop non-spacing marks. */
        utf8proc_int32_t dec[BERT__NORM_MAX];
        int last_boundclass = 0;
        utf8proc_ssize_t k = utf8proc_decompose_char(c, dec, BERT__NORM_MAX, UTF8PROC_DECOMPOSE, &last_boundclass);
        if (k <= 0 || k > BERT__NORM_MAX) {
            dec[0] = c;
            k = 1;
        }
        for (utf8proc_ssize_t i = 0; i < k; i++)
            if (utf8proc_category(dec[i]) != UTF8PROC_CATEGORY_MN)
                out[n++] = dec[i];
    } else {
        out[n++] = c;
    }
    if (lower) {
        size_t m = 0;
        int32_t tmp[BERT__NORM_MAX];
        for (size_t i = 0; i < n; i++) {
            /* Rust's char::to_lowercase is the full mapping: U+0130 is the one code point whose
             * lower case is two (i + combining dot above); utf8proc gives the simple mapping. */
            if (out[i] == 0x130) {
                tmp[m++] = 'i';
                if (m < BERT__NORM_MAX)
                    tmp[m++] = 0x307;
            } else {
                tmp[m++] = lower1(out[i]);
            }
            if (m >= BERT__NORM_MAX)
                break;
        }
        for (size_t i = 0; i < m; i++)
            out[i] = tmp[i];
        n = m;
    }
    return n;
}

size_t bert__utf8_decode(const unsigned char *s, size_t n, int32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2 || c > 0xF4)
        return 0; /* continuation byte, overlong lead (C0/C1) or beyond U+10FFFF */
    if (c < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80)
            return 0;
        *cp = ((int32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        int32_t v = ((int32_t)(c & 0x0F) << 12) | ((int32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        *cp = v;
        return 3;
    }
    if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
        return 0;
    int32_t v = ((int32_t)(c & 0x07) << 18) | ((int32_t)(s[1] & 0x3F) << 12) | ((int32_t)(s[2] & 0x3F) << 6) |
                (s[3] & 0x3F);
    if (v < 0x10000 || v > 0x10FFFF)
        return 0;
    *cp = v;
    return 4;
}

size_t bert__utf8_encode(int32_t cp, char *out)
{
    unsigned u = (unsigned)cp;
    if (u < 0x80) {
        out[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        out[0] = (char)(0xC0 | (u >> 6));
        out[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        out[0] = (char)(0xE0 | (u >> 12));
        out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
        out[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (u >> 18));
    out[1] = (char)(0x80 | ((u >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((u >> 6) & 0x3F));
    out[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}
