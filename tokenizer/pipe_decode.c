/* tokenizer.json decoders: ids become token strings (added tokens by their content, special ones
 * skipped on request), the decoder chain rewrites the list of strings (HF's decode_chain), and the
 * result is their concatenation; without a decoder the tokens are joined by spaces, as HF does. */
#include <stdlib.h>
#include <string.h>

#include "pipe.h"

typedef struct strs {
    char **s;
    size_t *len;
    size_t n, cap;
} strs;

static void strs_free(strs *l)
{
    for (size_t i = 0; i < l->n; i++)
        bert__free(l->s[i]);
    bert__free(l->s);
    bert__free(l->len);
    memset(l, 0, sizeof *l);
}

/* Appends a copy of t[0..n) (takes nothing over). */
static bert_status strs_push(strs *l, const char *t, size_t n)
{
    if (l->n == l->cap) {
        size_t c1 = l->cap, c2 = l->cap;
        if (bert__grow((void **)&l->s, &c1, l->n + 1, sizeof *l->s) ||
            bert__grow((void **)&l->len, &c2, l->n + 1, sizeof *l->len))
            return BERT_E_NOMEM;
        l->cap = c1 < c2 ? c1 : c2;
    }
    char *c = bert__malloc(n + 1);
    if (!c)
        return BERT_E_NOMEM;
    memcpy(c, t, n);
    c[n] = '\0';
    l->s[l->n] = c;
    l->len[l->n++] = n;
    return BERT_OK;
}

/* A growable byte buffer for building one string. */
typedef struct buf {
    char *b;
    size_t n, cap;
} buf;

static bert_status put(buf *b, const void *s, size_t n)
{
    if (b->n + n + 1 > b->cap && bert__grow((void **)&b->b, &b->cap, b->n + n + 1, 1))
        return BERT_E_NOMEM;
    memcpy(b->b + b->n, s, n);
    b->n += n;
    b->b[b->n] = '\0';
    return BERT_OK;
}

static bert_status put_cp(buf *b, int32_t c)
{
    char t[4];
    return put(b, t, bert__utf8_encode(c, t));
}

static size_t next_cp(const char *s, size_t n, size_t i, int32_t *c)
{
    size_t k = bert__utf8_decode((const unsigned char *)s + i, n - i, c);
    if (!k) {
        *c = 0xFFFD;
        k = 1;
    }
    return k;
}

/* Replaces l's string i by b's contents (b is taken over). */
static void take(strs *l, size_t i, buf *b)
{
    bert__free(l->s[i]);
    if (!b->b) {
        b->b = bert__malloc(1);
        if (b->b)
            b->b[0] = '\0';
    }
    l->s[i] = b->b;
    l->len[i] = b->b ? b->n : 0;
    memset(b, 0, sizeof *b);
}

static int byte_of_char(int32_t c)
{
    /* the inverse of GPT-2's table: printable Latin-1 stands for itself, U+0100.. for the rest */
    if ((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF))
        return c;
    if (c < 256 || c >= 256 + 68)
        return -1;
    int k = c - 256;
    for (int b = 0; b < 256; b++) {
        if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
            continue;
        if (k-- == 0)
            return b;
    }
    return -1;
}

/* Bytes to text with each invalid sequence replaced by U+FFFD (Rust's from_utf8_lossy). */
static bert_status lossy(buf *out, const char *s, size_t n)
{
    bert_status st = BERT_OK;
    for (size_t i = 0; i < n && st == BERT_OK;) {
        int32_t c;
        size_t k = bert__utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (k) {
            st = put(out, s + i, k);
            i += k;
            continue;
        }
        /* a maximal invalid prefix becomes one U+FFFD, as Rust does */
        size_t j = i + 1;
        const unsigned char b0 = (unsigned char)s[i];
        size_t need = b0 >= 0xF0 && b0 <= 0xF4 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 && b0 <= 0xDF ? 2 : 1;
        while (j < n && j < i + need && ((unsigned char)s[j] & 0xC0) == 0x80) {
            /* stop where the prefix can no longer start a valid sequence */
            unsigned char b1 = (unsigned char)s[i + 1];
            if (j == i + 1 && ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 > 0x9F) || (b0 == 0xF0 && b1 < 0x90) ||
                               (b0 == 0xF4 && b1 > 0x8F)))
                break;
            j++;
        }
        st = put_cp(out, 0xFFFD);
        i = j;
    }
    return st;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Rust's u8::from_str_radix(h0 h1, 16): two hex digits, or '+' and one */
static int hex_byte(char h0, char h1)
{
    if (h0 == '+')
        return hexval(h1);
    return hexval(h0) < 0 || hexval(h1) < 0 ? -1 : hexval(h0) * 16 + hexval(h1);
}

static bert_status decode_one(const bert__decoder *d, strs *l)
{
    bert_status st = BERT_OK;
    switch (d->kind) {
    case BERT__D_BYTELEVEL: {
        buf bytes = {0}, out = {0};
        for (size_t i = 0; i < l->n && st == BERT_OK; i++)
            for (size_t j = 0; j < l->len[i] && st == BERT_OK;) {
                int32_t c;
                size_t k = next_cp(l->s[i], l->len[i], j, &c);
                int b = byte_of_char(c);
                unsigned char ub = (unsigned char)b;
                st = b >= 0 ? put(&bytes, &ub, 1) : put(&bytes, l->s[i] + j, k);
                j += k;
            }
        if (st == BERT_OK)
            st = lossy(&out, bytes.b ? bytes.b : "", bytes.n);
        bert__free(bytes.b);
        if (st == BERT_OK) {
            strs_free(l);
            st = strs_push(l, out.b ? out.b : "", out.n);
        }
        bert__free(out.b);
        return st;
    }
    case BERT__D_METASPACE:
        for (size_t i = 0; i < l->n && st == BERT_OK; i++) {
            buf b = {0};
            for (size_t j = 0; j < l->len[i] && st == BERT_OK;) {
                int32_t c;
                j += next_cp(l->s[i], l->len[i], j, &c);
                if (c == d->replacement) {
                    if (i == 0 && j == next_cp(l->s[i], l->len[i], 0, &c) && d->prepend != BERT__PREPEND_NEVER)
                        continue; /* the first token's leading replacement was the prefix space */
                    c = ' ';
                }
                st = put_cp(&b, c);
            }
            if (st == BERT_OK)
                take(l, i, &b);
            else
                bert__free(b.b);
        }
        return st;
    case BERT__D_WORDPIECE:
        for (size_t i = 0; i < l->n && st == BERT_OK; i++) {
            buf b = {0};
            const char *t = l->s[i];
            size_t tl = l->len[i];
            if (i) {
                if (tl >= d->str_len && memcmp(t, d->str, d->str_len) == 0) {
                    t += d->str_len;
                    tl -= d->str_len;
                } else {
                    st = put(&b, " ", 1);
                }
            }
            if (st == BERT_OK)
                st = put(&b, t, tl);
            if (st == BERT_OK && d->cleanup && b.b) {
                b.n = bert__wordpiece_cleanup(b.b, b.n);
                b.b[b.n] = '\0';
            }
            if (st == BERT_OK)
                take(l, i, &b);
            else
                bert__free(b.b);
        }
        return st;
    case BERT__D_BPE:
        for (size_t i = 0; i < l->n && st == BERT_OK; i++) {
            buf b = {0};
            for (size_t j = 0; j < l->len[i] && st == BERT_OK;) {
                if (d->str_len && l->len[i] - j >= d->str_len && memcmp(l->s[i] + j, d->str, d->str_len) == 0) {
                    if (i + 1 < l->n)
                        st = put(&b, " ", 1);
                    j += d->str_len;
                } else {
                    st = put(&b, l->s[i] + j, 1);
                    j++;
                }
            }
            if (st == BERT_OK)
                take(l, i, &b);
            else
                bert__free(b.b);
        }
        return st;
    case BERT__D_BYTE_FALLBACK: {
        strs out = {0};
        buf pend = {0};
        for (size_t i = 0; i <= l->n && st == BERT_OK; i++) {
            int byte = -1;
            if (i < l->n && l->len[i] == 6 && memcmp(l->s[i], "<0x", 3) == 0 && l->s[i][5] == '>')
                byte = hex_byte(l->s[i][3], l->s[i][4]);
            if (byte >= 0) {
                unsigned char ub = (unsigned char)byte;
                st = put(&pend, &ub, 1);
                continue;
            }
            if (pend.n) {
                size_t bad = 0;
                if (bert_utf8_check(pend.b, pend.n, &bad) == BERT_OK)
                    st = strs_push(&out, pend.b, pend.n);
                else
                    for (size_t k = 0; k < pend.n && st == BERT_OK; k++)
                        st = strs_push(&out, "\xEF\xBF\xBD", 3);
                pend.n = 0;
            }
            if (i < l->n && st == BERT_OK)
                st = strs_push(&out, l->s[i], l->len[i]);
        }
        bert__free(pend.b);
        if (st != BERT_OK) {
            strs_free(&out);
            return st;
        }
        strs_free(l);
        *l = out;
        return BERT_OK;
    }
    case BERT__D_FUSE: {
        buf b = {0};
        for (size_t i = 0; i < l->n && st == BERT_OK; i++)
            st = put(&b, l->s[i], l->len[i]);
        if (st != BERT_OK) {
            bert__free(b.b);
            return st;
        }
        strs_free(l);
        st = strs_push(l, b.b ? b.b : "", b.n);
        bert__free(b.b);
        return st;
    }
    case BERT__D_STRIP:
        for (size_t i = 0; i < l->n; i++) {
            /* up to `start` leading and `stop` trailing `content` characters go */
            const char *s = l->s[i];
            size_t n = l->len[i], b = 0, e = n, cut = 0;
            int32_t c;
            while (cut < d->start && b < e) {
                size_t k = next_cp(s, n, b, &c);
                if (c != d->replacement)
                    break;
                b += k;
                cut++;
            }
            cut = 0;
            while (cut < d->stop && e > b) {
                size_t k = e - 1;
                while (k > b && ((unsigned char)s[k] & 0xC0) == 0x80)
                    k--;
                next_cp(s, n, k, &c);
                if (c != d->replacement)
                    break;
                e = k;
                cut++;
            }
            memmove(l->s[i], s + b, e - b);
            l->s[i][e - b] = '\0';
            l->len[i] = e - b;
        }
        return BERT_OK;
    case BERT__D_REPLACE:
        for (size_t i = 0; i < l->n && st == BERT_OK; i++) {
            buf b = {0};
            size_t at = 0, mb, me;
            while (st == BERT_OK && bert__pattern_next(&d->pat, l->s[i], l->len[i], at, &mb, &me)) {
                if ((st = put(&b, l->s[i] + at, mb - at)) == BERT_OK)
                    st = put(&b, d->str, d->str_len);
                at = me;
            }
            if (st == BERT_OK)
                st = put(&b, l->s[i] + at, l->len[i] - at);
            if (st == BERT_OK)
                take(l, i, &b);
            else
                bert__free(b.b);
        }
        return st;
    }
    return BERT_E_INTERNAL;
}

bert_status bert__pipe_decode(const bert_tokenizer *tok, const int32_t *ids, size_t n, int skip_special, char **out,
                              size_t *out_len)
{
    const bert__pipe *p = tok->pipe;
    strs l = {0};
    bert_status st = BERT_OK;
    for (size_t i = 0; i < n && st == BERT_OK; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= tok->n_tokens) {
            st = BERT_E_INVALID_ARG;
            break;
        }
        int special = 0;
        for (size_t k = 0; k < p->n_added; k++)
            special |= p->added[k].id == ids[i] && p->added[k].special;
        if (skip_special && special)
            continue;
        size_t tl = 0;
        const char *t = bert_tokenizer_id_to_token(tok, ids[i], &tl);
        st = strs_push(&l, t ? t : "", tl);
    }
    for (size_t k = 0; k < p->n_decoders && st == BERT_OK; k++)
        st = decode_one(&p->decoders[k], &l);
    buf b = {0};
    for (size_t i = 0; i < l.n && st == BERT_OK; i++) {
        if (!p->n_decoders && i)
            st = put(&b, " ", 1);
        if (st == BERT_OK)
            st = put(&b, l.s[i], l.len[i]);
    }
    strs_free(&l);
    if (st != BERT_OK) {
        bert__free(b.b);
        return st;
    }
    if (!b.b && put(&b, "", 0) != BERT_OK)
        return BERT_E_NOMEM;
    *out = b.b;
    *out_len = b.n;
    return BERT_OK;
}
