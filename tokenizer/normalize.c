/* Per-code-point rules of Hugging Face's BertNormalizer and BertPreTokenizer (tokenizers,
 * normalizers/bert.rs and pre_tokenizers/bert.rs). Control, punctuation, case and accents come from
 * the tables HF's own code answers (hf_unicode.c, generated): HF's crates carry Unicode tables of
 * their own, and the standard's (utf8proc's) differ from them on hundreds of thousands of code
 * points (unassigned ones above all, which HF keeps). */
#include "hf_unicode.h"
#include "tokenizer_int.h"

int bert__cp_is_whitespace(int32_t c)
{
    /* Rust's char::is_whitespace is the Unicode White_Space property: short, stable, and checked
     * against HF's answers by the table generator. */
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

static int in_ranges(const bert__cp_range *r, const uint16_t *page, uint32_t c)
{
    size_t lo = page[c >> 8], hi = page[(c >> 8) + 1] + 1; /* a range may run on from an earlier page */
    if (hi > page[BERT__HF_PAGES])
        hi = page[BERT__HF_PAGES];
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (c < r[mid].first)
            hi = mid;
        else if (c > r[mid].last)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static const bert__cp_map *find_map(const bert__cp_map *m, const uint16_t *page, uint32_t c)
{
    size_t lo = page[c >> 8], hi = page[(c >> 8) + 1];
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (c < m[mid].cp)
            hi = mid;
        else if (c > m[mid].cp)
            lo = mid + 1;
        else
            return &m[mid];
    }
    return NULL;
}

int bert__cp_is_control(int32_t c)
{
    /* what clean_text removes: NUL, U+FFFD and HF's control (Cc, Cf, Co; not \t \n \r) */
    if (c < 0x80)
        return c < 0x20 ? c != '\t' && c != '\n' && c != '\r' : c == 0x7F;
    return in_ranges(bert__hf_removed, bert__hf_removed_page, (uint32_t)c);
}

int bert__cp_is_punct(int32_t c)
{
    /* ASCII symbols such as $ + < = > ^ ` | ~ are not Unicode punctuation but BERT splits them. */
    if (c < 0x80)
        return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
    return in_ranges(bert__hf_punct, bert__hf_punct_page, (uint32_t)c);
}

int bert__cp_is_cjk(int32_t c)
{
    /* The blocks of tokenizers' is_chinese_char. Note 0x2B920 (not 0x2B820 as in the Python
     * BasicTokenizer): the Rust table is what HF's fast tokenizers and our fixtures use. */
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Appends what table m makes of c (c itself when it does not change) to out[*n..]. */
static void map_cp(const bert__cp_map *m, const uint16_t *page, int32_t c, int32_t *out, size_t *n)
{
    const bert__cp_map *e = find_map(m, page, (uint32_t)c); /* the tables hold ASCII's mappings too */
    if (!e) {
        if (*n < BERT__NORM_MAX)
            out[(*n)++] = c;
        return;
    }
    for (uint8_t i = 0; i < e->n && *n < BERT__NORM_MAX; i++)
        out[(*n)++] = (int32_t)e->to[i];
}

size_t bert__normalize_cp(int32_t c, int strip, int lower, int32_t *out)
{
    /* HF strips accents (NFD, then non-spacing marks dropped) before lower-casing. */
    int32_t mid[BERT__NORM_MAX];
    size_t n = 0;
    if (strip && c >= 0xAC00 && c <= 0xD7A3) {
        /* a Hangul syllable's canonical decomposition: leading, vowel and (if any) trailing jamo */
        const int32_t s = c - 0xAC00;
        mid[n++] = 0x1100 + s / 588;
        mid[n++] = 0x1161 + (s % 588) / 28;
        if (s % 28)
            mid[n++] = 0x11A7 + s % 28;
    } else if (strip) {
        map_cp(bert__hf_strip, bert__hf_strip_page, c, mid, &n);
    } else {
        mid[n++] = c;
    }
    if (!lower) {
        for (size_t i = 0; i < n; i++)
            out[i] = mid[i];
        return n;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        map_cp(bert__hf_lower, bert__hf_lower_page, mid[i], out, &m);
    return m;
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
    int32_t v =
        ((int32_t)(c & 0x07) << 18) | ((int32_t)(s[1] & 0x3F) << 12) | ((int32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
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
