/* tokenizer.json pre-tokenizers: each piece is cut by a pattern into matches and gaps, which a
 * split behavior (HF's SplitDelimiterBehavior) turns into new pieces; ByteLevel and Metaspace also
 * rewrite the text of each piece, with HF's alignment rules. */
#include <string.h>

#include <utf8proc.h>

#include "pipe.h"

static size_t next_cp(const char *s, size_t n, size_t i, int32_t *c)
{
    size_t k = bert__utf8_decode((const unsigned char *)s + i, n - i, c);
    return k ? k : 1;
}

static bert_status ev_push(bert__pwork *w, size_t *n, size_t b, size_t e, size_t m)
{
    if (3 * (*n + 1) > w->ev_cap && bert__grow((void **)&w->ev, &w->ev_cap, 3 * (*n + 1), sizeof *w->ev))
        return BERT_E_NOMEM;
    w->ev[3 * *n] = b;
    w->ev[3 * *n + 1] = e;
    w->ev[3 * *n + 2] = m;
    (*n)++;
    return BERT_OK;
}

typedef int (*cp_pred)(int32_t c, const bert__pre *pt);

/* HF's Pattern for a char predicate: every matching character is a match of its own. */
static bert_status find_chars(bert__pwork *w, const char *s, size_t len, cp_pred f, const bert__pre *pt, size_t *n)
{
    size_t last = 0;
    bert_status st;
    for (size_t i = 0; i < len;) {
        int32_t c = 0;
        size_t k = next_cp(s, len, i, &c);
        if (f(c, pt)) {
            if (last < i && (st = ev_push(w, n, last, i, 0)) != BERT_OK)
                return st;
            if ((st = ev_push(w, n, i, i + k, 1)) != BERT_OK)
                return st;
            last = i + k;
        }
        i += k;
    }
    if (last < len)
        return ev_push(w, n, last, len, 0);
    return BERT_OK;
}

static bert_status find_pattern(bert__pwork *w, const char *s, size_t len, const bert__pattern *pat, size_t *n)
{
    size_t last = 0, b, e;
    bert_status st;
    while (bert__pattern_next(pat, s, len, last, &b, &e)) {
        if (last < b && (st = ev_push(w, n, last, b, 0)) != BERT_OK)
            return st;
        if ((st = ev_push(w, n, b, e, 1)) != BERT_OK)
            return st;
        last = e;
    }
    if (last < len)
        return ev_push(w, n, last, len, 0);
    return BERT_OK;
}

/* Applies the behavior to the n events in w->ev (HF's NormalizedString::split), in place:
 * afterwards each event is (begin, end, remove). Returns the new count. */
static size_t behave(bert__pwork *w, size_t n, bert__split_behavior bh, int invert)
{
    size_t *ev = w->ev;
    if (invert)
        for (size_t i = 0; i < n; i++)
            ev[3 * i + 2] = !ev[3 * i + 2];
    size_t m = 0;
    int prev = 0;
    switch (bh) {
    case BERT__SPLIT_REMOVED:
        return n;
    case BERT__SPLIT_ISOLATED:
        for (size_t i = 0; i < n; i++)
            ev[3 * i + 2] = 0;
        return n;
    case BERT__SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < n; i++) {
            int is = (int)ev[3 * i + 2];
            if (m && is == prev)
                ev[3 * (m - 1) + 1] = ev[3 * i + 1];
            else {
                ev[3 * m] = ev[3 * i];
                ev[3 * m + 1] = ev[3 * i + 1];
                ev[3 * m + 2] = 0;
                m++;
            }
            prev = is;
        }
        return m;
    case BERT__SPLIT_MERGED_PREV:
        for (size_t i = 0; i < n; i++) {
            int is = (int)ev[3 * i + 2];
            if (is && !prev && m)
                ev[3 * (m - 1) + 1] = ev[3 * i + 1];
            else {
                ev[3 * m] = ev[3 * i];
                ev[3 * m + 1] = ev[3 * i + 1];
                ev[3 * m + 2] = 0;
                m++;
            }
            prev = is;
        }
        return m;
    case BERT__SPLIT_MERGED_NEXT: {
        /* from the end: a match joins the piece after it */
        size_t top = n; /* results fill ev from the end, at [top, n) */
        for (size_t i = n; i-- > 0;) {
            int is = (int)ev[3 * i + 2];
            size_t b = ev[3 * i], e = ev[3 * i + 1];
            if (is && !prev && top < n)
                ev[3 * top] = b;
            else {
                top--;
                ev[3 * top] = b;
                ev[3 * top + 1] = e;
                ev[3 * top + 2] = 0;
            }
            prev = is;
        }
        memmove(ev, ev + 3 * top, 3 * (n - top) * sizeof *ev);
        return n - top;
    }
    }
    return n;
}

/* Writes the kept events of piece pc as new pieces of out. */
static bert_status emit(const bert__pwork *w, size_t n, const bert__arena *in, const bert__piece *pc, bert__arena *out)
{
    bert_status st;
    for (size_t i = 0; i < n; i++) {
        size_t b = w->ev[3 * i], e = w->ev[3 * i + 1];
        if (w->ev[3 * i + 2] || b == e)
            continue;
        size_t off = out->len;
        if ((st = bert__arena_copy(out, in->b + pc->off + b, in->al + pc->off + b, e - b)) != BERT_OK)
            return st;
        if ((st = bert__arena_piece(out, off, in->al[pc->off + b].begin, -1)) != BERT_OK)
            return st;
    }
    return BERT_OK;
}

static int p_ws(int32_t c, const bert__pre *pt)
{
    (void)pt;
    return bert__cp_is_whitespace(c);
}
static int p_punct(int32_t c, const bert__pre *pt)
{
    (void)pt;
    return bert__cp_is_punct(c);
}
static int p_digit(int32_t c, const bert__pre *pt)
{
    (void)pt;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}
static int p_delim(int32_t c, const bert__pre *pt)
{
    return c == pt->replacement;
}

/* HF's fixed_script: ' ' joins any script, U+30FC is Han (Hiragana and Katakana already are). */
static int script_of(int32_t c)
{
    if (c == ' ')
        return 0;
    if (c == 0x30FC)
        c = 0x4E00;
    size_t lo = 0, hi = bert__hf_scripts_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (bert__hf_scripts[mid].last < (uint32_t)c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < bert__hf_scripts_n && bert__hf_scripts[lo].first <= (uint32_t)c ? bert__hf_scripts[lo].script : 0;
}

/* UnicodeScripts: a piece starts where the script changes between two characters that have one
 * (characters without one join the piece they are in). As HF, the characters before the first
 * with a script are dropped. */
static bert_status find_scripts(bert__pwork *w, const char *s, size_t len, size_t *n)
{
    int last = -1;
    size_t start = SIZE_MAX;
    bert_status st;
    for (size_t i = 0; i < len;) {
        int32_t c = 0;
        size_t k = next_cp(s, len, i, &c);
        const int sc = script_of(c);
        if (sc != 0 && last != 0 && last != sc) {
            if (start != SIZE_MAX && (st = ev_push(w, n, start, i, 0)) != BERT_OK)
                return st;
            start = i;
        }
        if (sc != 0)
            last = sc;
        i += k;
    }
    if (start != SIZE_MAX)
        return ev_push(w, n, start, len, 0);
    return BERT_OK;
}

/* GPT-2's byte-to-character table: printable Latin-1 bytes stand for themselves, the other 68
 * take the code points from U+0100 on, in byte order. */
static int32_t byte_char(unsigned b)
{
    static int32_t t[256];
    static int ready;
    if (!ready) {
        int32_t next = 256;
        for (unsigned i = 0; i < 256; i++)
            t[i] =
                ((i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF)) ? (int32_t)i : next++;
        ready = 1; /* idempotent: racing threads write the same values */
    }
    return t[b];
}

/* Copies piece pc with ' ' (or the replacement) rewritten, as ByteLevel/Metaspace do it: a
 * replaced character keeps its alignment; prefix (if not 0) is prepended with HF's prepend(). */
/* Copies piece pc rewritten, as ByteLevel/Metaspace do it: ByteLevel maps each byte to its
 * character (a character's first byte replaces it, the others are inserted after it); Metaspace
 * replaces ' ' by its replacement, other characters stay as they are. prefix (if not 0) is
 * prepended with HF's prepend(): it takes the first character's alignment, and that character is
 * re-inserted (aligned as its last byte). */
static bert_status rewrite(const bert__pre *pt, const bert__arena *in, const bert__piece *pc, int32_t prefix,
                           bert__arena *out)
{
    const char *s = in->b + pc->off;
    const bert_span *al = in->al + pc->off;
    const size_t len = pc->len;
    bert_status st;
    size_t off = out->len;
    char rep[4];
    const size_t rep_len = bert__utf8_encode(pt->replacement, rep);
    if ((st = bert__arena_reserve(out, 2 * len + (rep_len > 2 ? rep_len : 2) * len + 8)) != BERT_OK)
        return st;
    char *ob = out->b;
    bert_span *oal = out->al;
    size_t o = out->len;
    for (size_t i = 0; i < len;) {
        const unsigned char b0 = (unsigned char)s[i];
        const size_t k = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4; /* the arena is valid UTF-8 */
        if (i == 0 && prefix) {
            char t[4];
            size_t pk = bert__utf8_encode(prefix, t);
            for (size_t j = 0; j < pk; j++)
                ob[o] = t[j], oal[o++] = al[0];
        }
        const bert_span a0 = (i == 0 && prefix) ? al[k - 1] : al[i];
        if (pt->kind == BERT__P_BYTELEVEL) {
            for (size_t j = 0; j < k; j++) {
                const int32_t c = byte_char((unsigned char)s[i + j]);
                const bert_span a = j ? al[i + k - 1] : a0;
                if (c < 0x80) {
                    ob[o] = (char)c, oal[o++] = a;
                } else {
                    ob[o] = (char)(0xC0 | (c >> 6)), oal[o++] = a;
                    ob[o] = (char)(0x80 | (c & 0x3F)), oal[o++] = a;
                }
            }
        } else if (b0 == ' ') {
            for (size_t j = 0; j < rep_len; j++)
                ob[o] = rep[j], oal[o++] = a0;
        } else {
            for (size_t j = 0; j < k; j++)
                ob[o] = s[i + j], oal[o++] = j ? al[i + j] : a0;
        }
        i += k;
    }
    out->len = o;
    return bert__arena_piece(out, off, pc->shift, -1);
}

static int starts_with_cp(const char *s, size_t n, int32_t c)
{
    int32_t d = -1;
    return n && bert__utf8_decode((const unsigned char *)s, n, &d) && d == c;
}

static bert_status one_pre(const bert__pre *pt, bert__pwork *w, const bert__arena *in, bert__arena *out)
{
    bert__arena *tmp = &w->t[0];
    bert_status st = BERT_OK;
    for (size_t k = 0; k < in->n; k++) {
        const bert__piece *pc = &in->pc[k];
        if (pc->id >= 0) {
            size_t off = out->len;
            if ((st = bert__arena_copy(out, in->b + pc->off, in->al + pc->off, pc->len)) != BERT_OK)
                return st;
            if (out->n == out->pc_cap && bert__grow((void **)&out->pc, &out->pc_cap, out->n + 1, sizeof *out->pc))
                return BERT_E_NOMEM;
            out->pc[out->n++] = (bert__piece){off, pc->len, pc->shift, pc->id};
            continue;
        }
        const char *s = in->b + pc->off;
        size_t n = 0;
        switch (pt->kind) {
        case BERT__P_WHITESPACE_SPLIT:
            if ((st = find_chars(w, s, pc->len, p_ws, pt, &n)) == BERT_OK)
                st = emit(w, behave(w, n, BERT__SPLIT_REMOVED, 0), in, pc, out);
            break;
        case BERT__P_PUNCTUATION:
            if ((st = find_chars(w, s, pc->len, p_punct, pt, &n)) == BERT_OK)
                st = emit(w, behave(w, n, pt->behavior, 0), in, pc, out);
            break;
        case BERT__P_DIGITS:
            if ((st = find_chars(w, s, pc->len, p_digit, pt, &n)) == BERT_OK)
                st = emit(w, behave(w, n, pt->individual_digits ? BERT__SPLIT_ISOLATED : BERT__SPLIT_CONTIGUOUS, 0), in,
                          pc, out);
            break;
        case BERT__P_CHAR_DELIMITER:
            if ((st = find_chars(w, s, pc->len, p_delim, pt, &n)) == BERT_OK)
                st = emit(w, behave(w, n, BERT__SPLIT_REMOVED, 0), in, pc, out);
            break;
        case BERT__P_UNICODE_SCRIPTS:
            if ((st = find_scripts(w, s, pc->len, &n)) == BERT_OK)
                st = emit(w, n, in, pc, out);
            break;
        case BERT__P_WHITESPACE:
        case BERT__P_SPLIT:
            if ((st = find_pattern(w, s, pc->len, &pt->pat, &n)) == BERT_OK)
                st = emit(w, behave(w, n, pt->behavior, pt->invert), in, pc, out);
            break;
        case BERT__P_BERT: {
            /* whitespace removed, then punctuation isolated */
            tmp->len = tmp->n = 0;
            if ((st = find_chars(w, s, pc->len, p_ws, pt, &n)) != BERT_OK ||
                (st = emit(w, behave(w, n, BERT__SPLIT_REMOVED, 0), in, pc, tmp)) != BERT_OK)
                return st;
            for (size_t j = 0; j < tmp->n && st == BERT_OK; j++) {
                n = 0;
                if ((st = find_chars(w, tmp->b + tmp->pc[j].off, tmp->pc[j].len, p_punct, pt, &n)) == BERT_OK)
                    st = emit(w, behave(w, n, BERT__SPLIT_ISOLATED, 0), tmp, &tmp->pc[j], out);
            }
            break;
        }
        case BERT__P_BYTELEVEL: {
            const int32_t prefix = pt->add_prefix_space && !starts_with_cp(s, pc->len, ' ') ? ' ' : 0;
            /* prepend first (as its own rewrite with no byte mapping), then split, then map each
             * split straight from where its text is */
            const bert__arena *src = in;
            bert__piece whole = *pc;
            if (prefix) {
                bert__pre plain = *pt;
                plain.kind = BERT__P_METASPACE;
                plain.replacement = ' ';
                tmp->len = tmp->n = 0;
                if ((st = rewrite(&plain, in, pc, prefix, tmp)) != BERT_OK)
                    return st;
                src = tmp;
                whole = tmp->pc[tmp->n - 1];
            }
            const char *ws = src->b + whole.off;
            for (size_t i = 0; i < whole.len && st == BERT_OK;) {
                const size_t e = pt->use_regex ? bert__gpt2_next(ws, whole.len, i) : whole.len;
                const bert__piece sub = {whole.off + i, e - i, src->al[whole.off + i].begin, -1};
                st = rewrite(pt, src, &sub, 0, out);
                i = e;
            }
            break;
        }
        case BERT__P_METASPACE: {
            int32_t prefix = 0;
            const int starts = starts_with_cp(s, pc->len, ' ') || starts_with_cp(s, pc->len, pt->replacement);
            if (!starts &&
                (pt->prepend == BERT__PREPEND_ALWAYS || (pt->prepend == BERT__PREPEND_FIRST && pc->shift == 0)))
                prefix = pt->replacement;
            tmp->len = tmp->n = 0;
            if ((st = rewrite(pt, in, pc, prefix, tmp)) != BERT_OK)
                return st;
            const bert__piece whole = tmp->pc[tmp->n - 1];
            if (pt->split) {
                if ((st = find_chars(w, tmp->b + whole.off, whole.len, p_delim, pt, &n)) != BERT_OK)
                    return st;
                st = emit(w, behave(w, n, BERT__SPLIT_MERGED_NEXT, 0), tmp, &whole, out);
            } else {
                if ((st = ev_push(w, &n, 0, whole.len, 0)) == BERT_OK)
                    st = emit(w, n, tmp, &whole, out);
            }
            break;
        }
        }
        if (st != BERT_OK)
            return st;
    }
    return BERT_OK;
}

bert_status bert__pretokenize_pieces(const bert__pipe *p, bert__pwork *w)
{
    bert_status st = BERT_OK;
    for (size_t k = 0; k < p->n_pres && st == BERT_OK; k++) {
        const bert__arena *in = &w->a[w->cur];
        bert__arena *out = &w->a[1 - w->cur];
        out->len = out->n = 0;
        st = one_pre(&p->pres[k], w, in, out);
        w->cur = 1 - w->cur;
    }
    return st;
}
