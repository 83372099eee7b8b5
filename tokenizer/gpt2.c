/* GPT-2's pre-tokenization pattern, by hand:
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * Every character is a letter, a number, a space or "other", so the matches tile the text and the
 * leftmost match always starts where the previous one ended: each piece is decided by trying the
 * alternatives in order at its start. The classes are those of the Oniguruma inside HF tokenizers
 * (generated tables), which knows characters Debian's Oniguruma does not; and this is several
 * times faster than running the regex. */
#include "pipe.h"

static int in(const bert__cp_range *r, size_t n, uint32_t c)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r[mid].last < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && r[lo].first <= c;
}

int bert__gpt2_class(int32_t c, int which)
{
    if (c < 0x80) /* ASCII, the common case */
        return which == 0   ? ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
               : which == 1 ? (c >= '0' && c <= '9')
                            : (c == ' ' || (c >= '\t' && c <= '\r'));
    const uint32_t u = (uint32_t)c;
    return which == 0   ? in(bert__hf_gpt2_letter, bert__hf_gpt2_letter_n, u)
           : which == 1 ? in(bert__hf_gpt2_number, bert__hf_gpt2_number_n, u)
                        : in(bert__hf_gpt2_space, bert__hf_gpt2_space_n, u);
}

/* 0 letter, 1 number, 2 space, 3 other */
static int class_at(const char *s, size_t n, size_t i, size_t *k)
{
    int32_t c = 0;
    *k = bert__utf8_decode((const unsigned char *)s + i, n - i, &c);
    if (!*k) {
        *k = 1;
        return 3;
    }
    for (int w = 0; w < 3; w++)
        if (bert__gpt2_class(c, w))
            return w;
    return 3;
}

/* End of the run of class cls starting at i (i itself is of that class). */
static size_t run_end(const char *s, size_t n, size_t i, int cls)
{
    size_t k;
    while (i < n && class_at(s, n, i, &k) == cls)
        i += k;
    return i;
}

size_t bert__gpt2_next(const char *s, size_t n, size_t i)
{
    if (s[i] == '\'' && i + 1 < n) {
        static const char *const con[] = {"s", "t", "re", "ve", "m", "ll", "d"};
        for (int c = 0; c < 7; c++) {
            size_t l = con[c][1] ? 2 : 1;
            if (i + 1 + l <= n && s[i + 1] == con[c][0] && (l == 1 || s[i + 2] == con[c][1]))
                return i + 1 + l;
        }
    }
    size_t k0, k1 = 0;
    const int c0 = class_at(s, n, i, &k0);
    const int c1 = s[i] == ' ' && i + 1 < n ? class_at(s, n, i + 1, &k1) : -1;
    /* ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+', each with the space first */
    for (int cls = 0; cls < 4; cls++) {
        if (cls == 2)
            continue;
        if (c1 == cls)
            return run_end(s, n, i + 1, cls);
        if (c0 == cls)
            return run_end(s, n, i, cls);
    }
    /* a run of spaces: all of it at the end of the text, else all but its last character (which
     * then leads the next piece), unless that leaves nothing */
    size_t e = run_end(s, n, i, 2);
    if (e == n)
        return e;
    size_t last = e - 1;
    while (last > i && ((unsigned char)s[last] & 0xC0) == 0x80)
        last--;
    return last > i ? last : e;
}
