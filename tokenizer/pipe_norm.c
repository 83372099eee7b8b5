/* tokenizer.json normalizers. Each one turns a piece into a list of (code point, change) pairs,
 * HF's NormalizedString::transform input (0: replaces the next original character, +1: inserted,
 * -N: replaces the next character and removes N more), and one function applies such a list with
 * HF's alignment rules, so every normalizer's offsets are HF's by construction. */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "pipe.h"

#ifdef BERT_TESTING
int bert__hf_nf_off;
#endif

const bert__nf_fix *bert__nf_fix_of(int kind, int32_t cp)
{
#ifdef BERT_TESTING
    if (bert__hf_nf_off)
        return NULL;
#endif
    size_t lo = 0, hi = bert__hf_nf_n_fixes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const bert__nf_fix *f = &bert__hf_nf_fixes[mid];
        if (f->kind < kind || (f->kind == kind && f->cp < (uint32_t)cp))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < bert__hf_nf_n_fixes && bert__hf_nf_fixes[lo].kind == kind && bert__hf_nf_fixes[lo].cp == (uint32_t)cp)
        return &bert__hf_nf_fixes[lo];
    return NULL;
}

int bert__hf_ccc(int32_t c)
{
    const int u = utf8proc_get_property(c)->combining_class;
    const bert__nf_fix *f = bert__nf_fix_of(BERT__FIX_CCC, c);
    if (!f)
        return u;
    return f->n == 0 ? 0 : u ? u : f->n == 1 ? 1 : 230;
}

/* utf8proc's grapheme rule, with the characters HF's tables join (or not) differently */
static int grapheme_break(int32_t prev, int32_t c, utf8proc_int32_t *state)
{
    const bert__nf_fix *f = bert__nf_fix_of(BERT__FIX_JOINS, c);
    if (f) {
        /* the table says how c joins a preceding letter (GB9); nothing joins a control (GB4) */
        const int bc = utf8proc_get_property(prev)->boundclass;
        *state = 0;
        if (bc == UTF8PROC_BOUNDCLASS_CONTROL || bc == UTF8PROC_BOUNDCLASS_CR || bc == UTF8PROC_BOUNDCLASS_LF)
            return 1;
        return !f->n;
    }
    return utf8proc_grapheme_break_stateful(prev, c, state);
}

static bert_status tr_push(bert__pwork *w, size_t *n, int32_t c, int32_t change)
{
    if (2 * (*n + 1) > w->cps_cap && bert__grow((void **)&w->cps, &w->cps_cap, 2 * (*n + 1), sizeof *w->cps))
        return BERT_E_NOMEM;
    w->cps[2 * *n] = c;
    w->cps[2 * *n + 1] = change;
    (*n)++;
    return BERT_OK;
}

/* The last pair also removes r more original characters: a replacing pair's change goes down by r;
 * an inserted one (+1) becomes 1 + r, "inserted, then r removed", which is what HF's separate
 * passes (decompose, then filter) compose to (the alignment stays the inserted one's). */
static void remove_after_last(bert__pwork *w, size_t n, size_t r)
{
    int32_t *ch = &w->cps[2 * (n - 1) + 1];
    *ch = *ch >= 1 ? *ch + (int32_t)r : *ch - (int32_t)r;
}

/* Decodes the character at s[i..n) (the arena holds valid UTF-8). */
static size_t next_cp(const char *s, size_t n, size_t i, int32_t *c)
{
    size_t k = bert__utf8_decode((const unsigned char *)s + i, n - i, c);
    return k ? k : 1;
}

/* Applies the n pairs in w->cps to piece pc of `in`, appending the result as a piece of `out`
 * (HF's transform_range over the whole piece). */
static bert_status apply(bert__pwork *w, size_t n_tr, size_t lead, const bert__arena *in, const bert__piece *pc,
                         bert__arena *out)
{
    const char *s = in->b + pc->off;
    const bert_span *al = in->al + pc->off;
    const size_t len = pc->len;
    size_t idx = 0, off = out->len;
    bert_status st;
    int32_t skip;
    /* HF's initial_offset: characters removed at the start (an inserted character right after them
     * still aligns with the last of them) */
    for (size_t r = 0; r < lead && idx < len; r++)
        idx += next_cp(s, len, idx, &skip);
    for (size_t t = 0; t < n_tr; t++) {
        const int32_t c = w->cps[2 * t], ch = w->cps[2 * t + 1];
        bert_span a;
        if (ch > 0) {
            /* inserted: the alignment of the byte before; 1 + r: then r characters removed */
            a = idx < 1 ? (bert_span){pc->shift, pc->shift} : al[idx - 1 < len ? idx - 1 : len - 1];
            int32_t dummy;
            for (int32_t r = 1; r < ch && idx < len; r++)
                idx += next_cp(s, len, idx, &dummy);
        } else {
            a = len ? al[idx < len ? idx : len - 1] : (bert_span){pc->shift, pc->shift};
            int32_t dummy;
            if (idx < len)
                idx += next_cp(s, len, idx, &dummy);
            for (int32_t r = 0; r < -ch && idx < len; r++)
                idx += next_cp(s, len, idx, &dummy);
        }
        if ((st = bert__arena_put_cp(out, c, a)) != BERT_OK)
            return st;
    }
    return bert__arena_piece(out, off, pc->shift, -1);
}

/* Copies a piece unchanged. */
static bert_status copy_piece(const bert__arena *in, const bert__piece *pc, bert__arena *out)
{
    size_t off = out->len;
    bert_status st;
    if ((st = bert__arena_copy(out, in->b + pc->off, in->al + pc->off, pc->len)) != BERT_OK)
        return st;
    if (pc->id < 0)
        return bert__arena_piece(out, off, pc->shift, -1);
    if (out->n == out->pc_cap && bert__grow((void **)&out->pc, &out->pc_cap, out->n + 1, sizeof *out->pc))
        return BERT_E_NOMEM;
    out->pc[out->n++] = (bert__piece){off, pc->len, pc->shift, pc->id};
    return BERT_OK;
}

/* One character mapped to k (0..) characters: the first replaces it, the rest are inserted; none
 * removes it (folded into the previous pair, as HF's filter does). */
static bert_status push_mapped(bert__pwork *w, size_t *n, const int32_t *m, size_t k, size_t *removed_lead)
{
    bert_status st;
    if (k == 0) {
        if (*n)
            remove_after_last(w, *n, 1);
        else
            (*removed_lead)++;
        return BERT_OK;
    }
    for (size_t j = 0; j < k; j++)
        if ((st = tr_push(w, n, m[j], j ? 1 : 0)) != BERT_OK)
            return st;
    return BERT_OK;
}

/* HF's precompiled replace(): the new characters replace one each; more than `old` of them are
 * inserted (+1 on the last ones), fewer remove the difference (on the last pair pushed). */
static bert_status push_replacement(bert__pwork *w, size_t *n, const char *r, size_t rl, size_t old)
{
    bert_status st;
    size_t cnt = 0;
    for (size_t j = 0; j < rl;) {
        int32_t c = 0;
        j += next_cp(r, rl, j, &c);
        if ((st = tr_push(w, n, c, 0)) != BERT_OK)
            return st;
        cnt++;
    }
    if (cnt > old) {
        for (size_t j = 0; j < cnt - old; j++)
            w->cps[2 * (*n - 1 - j) + 1] = 1;
    } else if (cnt<old && * n> 0) {
        w->cps[2 * (*n - 1) + 1] -= (int32_t)(old - cnt);
    }
    return BERT_OK;
}

/* Precompiled (SentencePiece's charsmap): graphemes under 6 bytes are looked up whole, the others
 * (and graphemes without an entry) character by character; a replacement with fewer characters
 * removes the rest, one with more inserts them (HF's Precompiled::normalize). */
static bert_status precompiled(const bert__norm *nm, bert__pwork *w, const char *s, size_t len, size_t *n_tr)
{
    bert_status st;
    size_t i = 0;
    utf8proc_int32_t state = 0;
    while (i < len) {
        /* the grapheme [i, g) */
        int32_t c = 0, prev = 0;
        size_t g = i + next_cp(s, len, i, &prev);
        state = 0;
        while (g < len) {
            size_t k = next_cp(s, len, g, &c);
            if (grapheme_break(prev, c, &state))
                break;
            prev = c;
            g += k;
        }
        size_t rl = 0;
        const char *r = g - i < 6 ? bert__precompiled_find(&nm->pc, s + i, g - i, &rl) : NULL;
        /* as HF: the shortest key that is a prefix of the grapheme replaces the whole grapheme */
        if (r) {
            size_t old = 0;
            for (size_t j = i; j < g; j += next_cp(s, len, j, &c))
                old++;
            if ((st = push_replacement(w, n_tr, r, rl, old)) != BERT_OK)
                return st;
            i = g;
            continue;
        }
        while (i < g) {
            size_t k = next_cp(s, len, i, &c);
            r = bert__precompiled_find(&nm->pc, s + i, k, &rl);
            if (r) {
                if ((st = push_replacement(w, n_tr, r, rl, 1)) != BERT_OK)
                    return st;
            } else if ((st = tr_push(w, n_tr, c, 0)) != BERT_OK)
                return st;
            i += k;
        }
    }
    return BERT_OK;
}

/* Stable sort by HF's combining class inside each run of non-starters of pairs [from, n). */
static void reorder_marks(bert__pwork *w, size_t from, size_t n)
{
    for (size_t i = from + 1; i < n; i++) {
        int32_t c = w->cps[2 * i], ch = w->cps[2 * i + 1];
        int cc = bert__hf_ccc(c);
        if (!cc)
            continue;
        size_t j = i;
        while (j > from) {
            int pcc = bert__hf_ccc(w->cps[2 * (j - 1)]);
            if (!pcc || pcc <= cc)
                break;
            w->cps[2 * j] = w->cps[2 * (j - 1)];
            w->cps[2 * j + 1] = w->cps[2 * (j - 1) + 1];
            j--;
        }
        w->cps[2 * j] = c;
        w->cps[2 * j + 1] = ch;
    }
}

static bert_status compose_run(bert__pwork *w, size_t *n_tr, const char *s, size_t len, int opt)
{
    int32_t c;
    bert_status st;
    utf8proc_uint8_t *outp = NULL;
    utf8proc_ssize_t r =
        utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &outp, (utf8proc_option_t)opt);
    if (r < 0)
        return BERT_E_NOMEM;
    size_t n_in = 0;
    for (size_t i = 0; i < len; i += next_cp(s, len, i, &c))
        n_in++;
    size_t n_out = 0;
    for (utf8proc_ssize_t i = 0; i < r;) {
        i += (utf8proc_ssize_t)next_cp((const char *)outp, (size_t)r, (size_t)i, &c);
        if ((st = tr_push(w, n_tr, c, n_out < n_in ? 0 : 1)) != BERT_OK) {
            free(outp);
            return st;
        }
        n_out++;
    }
    if (n_out < n_in && *n_tr)
        remove_after_last(w, *n_tr, n_in - n_out);
    free(outp);
    return BERT_OK;
}

/* Whether c may compose with what precedes it: a combining mark, a character that is the second
 * of a canonical composition pair, a Hangul vowel or trailing consonant. */
static int joins_back(int32_t c)
{
    if (bert__hf_ccc(c) != 0 || (c >= 0x1161 && c <= 0x1175) || (c >= 0x11A8 && c <= 0x11C2))
        return 1;
    const utf8proc_uint16_t ci = utf8proc_get_property(c)->comb_index;
    return ci != 0xFFFF && (ci & 0x8000);
}

/* Composes s[0..len) segment by segment (a segment: a character and those that may compose with
 * it), so each output character is attributed to the segment it comes from: the first replaces
 * the segment's first character, fewer remove the rest, more are inserted (HF's NFC alignments). */
static bert_status compose_segments(bert__pwork *w, size_t *n_tr, const char *s, size_t len, int opt)
{
    size_t seg = 0;
    int32_t c;
    bert_status st;
    for (size_t i = 0; i <= len;) {
        size_t k = 0;
        if (i < len) {
            k = next_cp(s, len, i, &c);
            if (i == seg || joins_back(c)) {
                i += k;
                continue;
            }
        }
        if ((st = compose_run(w, n_tr, s + seg, i - seg, opt)) != BERT_OK)
            return st;
        if (i >= len)
            break;
        seg = i;
    }
    return BERT_OK;
}

/* NFD/NFKD/NFC/NFKC of a whole piece, with utf8proc: each output character is attributed to the
 * input character it came from (a decomposition's first part replaces it, the rest are inserted;
 * a composition replaces its first input character and removes the others). */
static bert_status unicode_nf(const bert__norm *nm, bert__pwork *w, const char *s, size_t len, size_t *n_tr)
{
    int opt = UTF8PROC_STABLE;
    if (nm->kind == BERT__N_NFD || nm->kind == BERT__N_NFKD)
        opt |= UTF8PROC_DECOMPOSE;
    else
        opt |= UTF8PROC_COMPOSE;
    if (nm->kind == BERT__N_NFKD || nm->kind == BERT__N_NFKC)
        opt |= UTF8PROC_COMPAT;
    bert_status st;
    int32_t c;
    if (opt & UTF8PROC_DECOMPOSE) {
        /* per character, then canonical reordering of each run of combining marks */
        size_t start = *n_tr;
        for (size_t i = 0; i < len;) {
            i += next_cp(s, len, i, &c);
            utf8proc_int32_t d[32];
            int last = 0;
            const bert__nf_fix *fx = bert__nf_fix_of(opt & UTF8PROC_COMPAT ? BERT__FIX_NFKD : BERT__FIX_NFD, c);
            utf8proc_ssize_t k =
                fx ? (utf8proc_ssize_t)fx->n : utf8proc_decompose_char(c, d, 32, (utf8proc_option_t)opt, &last);
            for (utf8proc_ssize_t j = 0; fx && j < k; j++)
                d[j] = (utf8proc_int32_t)fx->to[j];
            if (k < 0 || k > 32) {
                d[0] = c;
                k = 1;
            }
            for (utf8proc_ssize_t j = 0; j < k; j++)
                if ((st = tr_push(w, n_tr, d[j], j ? 1 : 0)) != BERT_OK)
                    return st;
        }
        reorder_marks(w, start, *n_tr);
        return BERT_OK;
    }
    /* composition: utf8proc on each run between characters HF's tables map otherwise (those take
     * their fixed mapping); inside a run, output characters replace input characters one for one,
     * extra input characters are removed with the last, extra output characters inserted */
    const int fkind = opt & UTF8PROC_COMPAT ? BERT__FIX_NFKC : BERT__FIX_NFC;
    size_t run = 0;
    for (size_t i = 0; i <= len;) {
        const bert__nf_fix *fx = NULL;
        size_t k = 0;
        if (i < len) {
            k = next_cp(s, len, i, &c);
            fx = bert__nf_fix_of(fkind, c);
            if (!fx) {
                i += k;
                continue;
            }
        }
        if (i > run && (st = compose_segments(w, n_tr, s + run, i - run, opt)) != BERT_OK)
            return st;
        if (!fx)
            break;
        for (size_t j = 0; j < fx->n; j++)
            if ((st = tr_push(w, n_tr, (int32_t)fx->to[j], j ? 1 : 0)) != BERT_OK)
                return st;
        if (fx->n == 0) {
            if (*n_tr)
                remove_after_last(w, *n_tr, 1);
        }
        i += k;
        run = i;
    }
    return BERT_OK;
}

/* HF's NFD of one character (utf8proc's, with HF's own table's differences) into d[32]. */
static size_t hf_nfd(int32_t c, int32_t *d)
{
    const bert__nf_fix *fx = bert__nf_fix_of(BERT__FIX_NFD, c);
    if (fx) {
        for (size_t j = 0; j < fx->n; j++)
            d[j] = (int32_t)fx->to[j];
        return fx->n;
    }
    int last = 0;
    utf8proc_ssize_t k = utf8proc_decompose_char(c, (utf8proc_int32_t *)d, 32, UTF8PROC_DECOMPOSE, &last);
    if (k < 1 || k > 32) {
        d[0] = c;
        k = 1;
    }
    return (size_t)k;
}

/* BertNormalizer with accent stripping, as HF's passes over the whole string: clean text, CJK
 * padding, NFD (with canonical reordering of combining marks, alignments staying with the
 * positions), non-spacing marks dropped, lower-casing. */
static bert_status bert_strip(const bert__norm *nm, bert__pwork *w, const char *s, size_t len, size_t *n_out,
                              size_t *lead)
{
    bert_status st = BERT_OK;
    size_t n = 0;
    int32_t c, d[32], m[BERT__NORM_MAX];
    for (size_t i = 0; i < len && st == BERT_OK;) {
        i += next_cp(s, len, i, &c);
        if (nm->clean_text) {
            if (c == 0 || c == 0xFFFD || bert__cp_is_control(c)) {
                if (n)
                    remove_after_last(w, n, 1);
                else
                    (*lead)++;
                continue;
            }
            if (bert__cp_is_whitespace(c))
                c = ' ';
        }
        const int cjk = nm->chinese && bert__cp_is_cjk(c);
        if (cjk)
            st = tr_push(w, &n, ' ', 0);
        size_t k = hf_nfd(c, d);
        for (size_t j = 0; j < k && st == BERT_OK; j++)
            st = tr_push(w, &n, d[j], cjk || j ? 1 : 0);
        if (cjk && st == BERT_OK)
            st = tr_push(w, &n, ' ', 1);
    }
    if (st != BERT_OK)
        return st;
    reorder_marks(w, 0, n);
    int32_t *tmp = bert__malloc((2 * n + 1) * sizeof *tmp);
    if (!tmp)
        return BERT_E_NOMEM;
    if (n)
        memcpy(tmp, w->cps, 2 * n * sizeof *tmp);
    size_t out = 0;
    for (size_t t = 0; t < n && st == BERT_OK; t++) {
        const int32_t ch = tmp[2 * t + 1];
        c = tmp[2 * t];
        if (bert__normalize_cp(c, 1, 0, m) == 0) { /* a non-spacing mark: gone, and what it took */
            const size_t took = ch <= 0 ? (size_t)(1 - ch) : (size_t)(ch - 1);
            if (out)
                remove_after_last(w, out, took);
            else
                *lead += took;
            continue;
        }
        size_t k = nm->lowercase ? bert__normalize_cp(c, 0, 1, m) : (m[0] = c, 1);
        for (size_t j = 0; j < k && st == BERT_OK; j++)
            st = tr_push(w, &out, m[j], j ? 1 : ch);
    }
    bert__free(tmp);
    *n_out = out;
    return st;
}

static bert_status one_piece(const bert__norm *nm, bert__pwork *w, const bert__arena *in, const bert__piece *pc,
                             bert__arena *out)
{
    const char *s = in->b + pc->off;
    const size_t len = pc->len;
    size_t n = 0, lead = 0;
    bert_status st = BERT_OK;
    int32_t c, m[BERT__NORM_MAX];
    switch (nm->kind) {
    case BERT__N_PRECOMPILED: {
        /* ASCII the charsmap leaves alone (most text): each character is its own grapheme and
         * stays, so the piece is copied as it is */
        size_t i = 0;
        while (i < len && (unsigned char)s[i] < 0x80 && nm->ascii_keep[(unsigned char)s[i]])
            i++;
        if (i == len)
            return copy_piece(in, pc, out);
        st = precompiled(nm, w, s, len, &n);
        break;
    }
    case BERT__N_LOWERCASE:
        for (size_t i = 0; i < len && st == BERT_OK;) {
            i += next_cp(s, len, i, &c);
            size_t k = bert__normalize_cp(c, 0, 1, m);
            st = push_mapped(w, &n, m, k, &lead);
        }
        break;
    case BERT__N_BERT: {
        const int strip = nm->strip_accents < 0 ? nm->lowercase : nm->strip_accents;
        if (strip) {
            st = bert_strip(nm, w, s, len, &n, &lead);
            break;
        }
        for (size_t i = 0; i < len && st == BERT_OK;) {
            i += next_cp(s, len, i, &c);
            if (nm->clean_text) {
                if (c == 0 || c == 0xFFFD || bert__cp_is_control(c)) {
                    st = push_mapped(w, &n, m, 0, &lead);
                    continue;
                }
                if (bert__cp_is_whitespace(c))
                    c = ' ';
            }
            if (nm->chinese && bert__cp_is_cjk(c)) {
                /* padded with spaces, then (as HF's later passes do to the whole string) its
                 * accent stripping and lower-casing: a compatibility ideograph decomposes */
                size_t k = bert__normalize_cp(c, strip, nm->lowercase, m);
                st = tr_push(w, &n, ' ', 0);
                for (size_t j = 0; j < k && st == BERT_OK; j++)
                    st = tr_push(w, &n, m[j], 1);
                if (st == BERT_OK)
                    st = tr_push(w, &n, ' ', 1);
                continue;
            }
            size_t k = bert__normalize_cp(c, strip, nm->lowercase, m);
            st = push_mapped(w, &n, m, k, &lead);
        }
        break;
    }
    case BERT__N_STRIP_ACCENTS:
        for (size_t i = 0; i < len && st == BERT_OK;) {
            i += next_cp(s, len, i, &c);
            const utf8proc_property_t *p = utf8proc_get_property(c);
            const bert__nf_fix *fx = bert__nf_fix_of(BERT__FIX_STRIP, c);
            const int mark = fx ? !fx->n
                                : p->category == UTF8PROC_CATEGORY_MN || p->category == UTF8PROC_CATEGORY_MC ||
                                      p->category == UTF8PROC_CATEGORY_ME;
            m[0] = c;
            st = push_mapped(w, &n, m, mark ? 0 : 1, &lead);
        }
        break;
    case BERT__N_NFD:
    case BERT__N_NFKD:
    case BERT__N_NFC:
    case BERT__N_NFKC:
        st = unicode_nf(nm, w, s, len, &n);
        break;
    case BERT__N_STRIP: {
        size_t b = 0, e = len, nb = 0, ne = 0;
        while (nm->left && b < e) {
            size_t k = next_cp(s, len, b, &c);
            if (!bert__cp_is_whitespace(c))
                break;
            b += k;
            nb++;
        }
        while (nm->right && e > b) {
            size_t k = e - 1;
            while (k > b && ((unsigned char)s[k] & 0xC0) == 0x80)
                k--;
            next_cp(s, len, k, &c);
            if (!bert__cp_is_whitespace(c))
                break;
            e = k;
            ne++;
        }
        lead = nb;
        for (size_t i = b; i < e && st == BERT_OK;) {
            i += next_cp(s, len, i, &c);
            st = tr_push(w, &n, c, 0);
        }
        if (n && ne)
            remove_after_last(w, n, ne);
        break;
    }
    case BERT__N_PREPEND:
        if (len) {
            for (size_t i = 0; i < nm->content_len && st == BERT_OK;) {
                size_t k = next_cp(nm->content, nm->content_len, i, &c);
                st = tr_push(w, &n, c, i ? 1 : 0);
                i += k;
            }
            size_t k = next_cp(s, len, 0, &c);
            if (st == BERT_OK)
                st = tr_push(w, &n, c, 1);
            for (size_t i = k; i < len && st == BERT_OK;) {
                i += next_cp(s, len, i, &c);
                st = tr_push(w, &n, c, 0);
            }
        }
        break;
    case BERT__N_REPLACE: {
        /* each match: its characters removed, the content inserted after them */
        size_t i = 0, mb, me;
        if (!bert__pattern_next(&nm->pat, s, len, 0, &mb, &me))
            return copy_piece(in, pc, out);
        while (st == BERT_OK && bert__pattern_next(&nm->pat, s, len, i, &mb, &me)) {
            for (; i < mb && st == BERT_OK;) {
                i += next_cp(s, len, i, &c);
                st = tr_push(w, &n, c, 0);
            }
            size_t removed = 0;
            for (size_t j = mb; j < me; j += next_cp(s, len, j, &c))
                removed++;
            /* HF: transform_range(match, content as +1 chars, initial_offset = removed) */
            if (nm->content_len == 0) {
                if (n)
                    remove_after_last(w, n, removed);
                else
                    lead += removed;
            } else {
                /* the inserted characters take the alignment of the match's last byte: model
                 * that as replacing the match's last character and removing the ones before */
                if (removed > 1) {
                    if (n)
                        remove_after_last(w, n, removed - 1);
                    else
                        lead += removed - 1;
                }
                for (size_t j = 0; j < nm->content_len && st == BERT_OK;) {
                    size_t k = next_cp(nm->content, nm->content_len, j, &c);
                    st = tr_push(w, &n, c, j ? 1 : 0);
                    j += k;
                }
            }
            i = me;
        }
        for (; i < len && st == BERT_OK;) {
            i += next_cp(s, len, i, &c);
            st = tr_push(w, &n, c, 0);
        }
        break;
    }
    }
    if (st != BERT_OK)
        return st;
    return apply(w, n, lead, in, pc, out);
}

bert_status bert__normalize_pieces(const bert__pipe *p, bert__pwork *w)
{
    for (size_t k = 0; k < p->n_norms; k++) {
        const bert__arena *in = &w->a[w->cur];
        bert__arena *out = &w->a[1 - w->cur];
        out->len = out->n = 0;
        for (size_t i = 0; i < in->n; i++) {
            const bert__piece *pc = &in->pc[i];
            bert_status st = pc->id >= 0 ? copy_piece(in, pc, out) : one_piece(&p->norms[k], w, in, pc, out);
            if (st != BERT_OK)
                return st;
        }
        w->cur = 1 - w->cur;
    }
    return BERT_OK;
}

bert_status bert__normalize_string(const bert__norm *nm, const char *s, size_t n, char **out, size_t *out_len)
{
    bert__pwork *w = bert__calloc(1, sizeof *w);
    bert_status st = w ? BERT_OK : BERT_E_NOMEM;
    bert__arena *a = w ? &w->a[0] : NULL, *b = w ? &w->a[1] : NULL;
    for (size_t i = 0; st == BERT_OK && i < n;) {
        int32_t c;
        size_t k = next_cp(s, n, i, &c);
        st = bert__arena_put(a, s + i, k, (bert_span){i, i + k});
        i += k;
    }
    if (st == BERT_OK && (st = bert__arena_piece(a, 0, 0, -1)) == BERT_OK && a->n)
        st = one_piece(nm, w, a, &a->pc[0], b);
    if (st == BERT_OK) {
        *out = bert__malloc(b->len + 1);
        if (!*out)
            st = BERT_E_NOMEM;
        else {
            if (b->len)
                memcpy(*out, b->b, b->len);
            (*out)[b->len] = '\0';
            *out_len = b->len;
        }
    }
    bert__pwork_free(w);
    return st;
}
