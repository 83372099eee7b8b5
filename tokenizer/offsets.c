/* Byte offsets to Unicode code-point offsets (what Python string indexes and HF's char offsets
 * count). Token spans come in increasing order, so one forward cursor serves them all; a span
 * before the cursor restarts the count from the beginning. */
#include "tokenizer_int.h"

bert_status bert_spans_to_codepoints(const char *text, size_t len, const bert_span *in, size_t n, bert_span *out)
{
    if ((!text && len) || (!in && n) || (!out && n))
        return BERT_E_INVALID_ARG;
    const unsigned char *s = (const unsigned char *)text;
    size_t pos = 0, cps = 0; /* the cursor: byte pos holds code point number cps */
    for (size_t i = 0; i < n; i++) {
        size_t ends[2] = {in[i].begin, in[i].end};
        size_t res[2];
        if (ends[0] > ends[1] || ends[1] > len)
            return BERT_E_INVALID_ARG;
        for (int k = 0; k < 2; k++) {
            size_t target = ends[k];
            if (target < pos) {
                pos = 0;
                cps = 0;
            }
            while (pos < target) {
                int32_t c;
                size_t m = bert__utf8_decode(s + pos, len - pos, &c);
                if (m == 0)
                    return BERT_E_UTF8;
                pos += m;
                cps++;
            }
            if (pos != target)
                return BERT_E_INVALID_ARG; /* target falls inside a character */
            res[k] = cps;
        }
        out[i].begin = res[0];
        out[i].end = res[1];
    }
    return BERT_OK;
}

bert_status bert_utf8_check(const char *text, size_t len, size_t *bad_offset)
{
    if (!text && len)
        return BERT_E_INVALID_ARG;
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        int32_t c;
        size_t m = bert__utf8_decode(s + i, len - i, &c);
        if (m == 0) {
            if (bad_offset)
                *bad_offset = i;
            return BERT_E_UTF8;
        }
        i += m;
    }
    return BERT_OK;
}
