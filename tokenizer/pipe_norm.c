/* tokenizer.json normalizers. Each one turns a piece into a list of (code point, change) pairs,
 * HF's NormalizedString::transform input (0: replaces the next original character, +1: inserted,
 * -N: replaces the next character and removes N more), and one function applies such a list with
 * HF's alignment rules, so every normalizer's offsets are HF's by construction. */
#include <string.h>

#include <utf8proc.h>

#include "pipe.h"

typedef struct tr {
    int32_t c, change;
} tr;

static bert_status tr_push(bert__pwork *w, size_t *n, int32_t c, int32_t change)
{
    if (2 * (*n + 1) > w->cps_cap && bert__grow((void **)&w->cps, &w->cps_cap, 2 * (*n + 1), sizeof *w->cps))
        return BERT_E_NOMEM;
    w->cps[2 * *n] = c;
    w->cps[2 * *n + 1] = change;
    (*n)++;
    return BERT_OK;
}

/* Decodes the character at s[i..n) (the arena holds valid UTF-8). */
static size_t next_cp(const char *s, size_t n, size_t i, int32_t *c)
{
    size_t k = bert__utf8_decode((const unsigned char *)s + i, n - i, c);
    return k ? k : 1;
}

/* Applies the n pairs in w->cps to piece pc of `in`, appending the result as a piece of `out`
 * (HF's transform_range over the whole piece). */
static bert_status apply(bert__pwork *w, size_t n_tr, const bert__arena *in, const bert__piece *pc, bert__arena *out)
{
    const char *s = in->b + pc->off;
    const bert_span *al = in->al + pc->off;
    const size_t len = pc->len;
    size_t idx = 0, off = out->len;
    bert_status st;
    for (size_t t = 0; t < n_tr; t++) {
        const int32_t c = w->cps[2 * t], ch = w->cps[2 * t + 1];
        bert_span a;
        if (ch > 0) {
            a = idx < 1 ? (bert_span){pc->shift, pc->shift} : al[idx - 1 < len ? idx - 1 : len - 1];
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
    for (size_t j = 0; j < pc->len; j++)
        if ((st = bert__arena_put(out, in->b + pc->off + j, 1, in->al[pc->off + j])) != BERT_OK)
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
            w->cps[2 * (*n - 1) + 1] -= 1;
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
            if (utf8proc_grapheme_break_stateful(prev, c, &state))
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

/* HF's transform with an initial_offset: `lead` characters removed at the start. */
static bert_status apply_lead(bert__pwork *w, size_t n_tr, size_t lead, const bert__arena *in, const bert__piece *pc,
                              bert__arena *out)
{
    bert__piece p2 = *pc;
    int32_t c;
    for (size_t r = 0; r < lead && p2.len; r++) {
        size_t k = next_cp(in->b + p2.off, p2.len, 0, &c);
        p2.off += k;
        p2.len -= k;
    }
    return apply(w, n_tr, in, &p2, out);
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
            utf8proc_ssize_t k = utf8proc_decompose_char(c, d, 32, (utf8proc_option_t)opt, &last);
            if (k < 0 || k > 32) {
                d[0] = c;
                k = 1;
            }
            for (utf8proc_ssize_t j = 0; j < k; j++)
                if ((st = tr_push(w, n_tr, d[j], j ? 1 : 0)) != BERT_OK)
                    return st;
        }
        /* stable insertion sort by combining class inside runs of non-starters */
        for (size_t i = start + 1; i < *n_tr; i++) {
            int32_t pc_ = w->cps[2 * i], pch = w->cps[2 * i + 1];
            int cc = utf8proc_get_property(pc_)->combining_class;
            if (!cc)
                continue;
            size_t j = i;
            while (j > start) {
                int pcc = utf8proc_get_property(w->cps[2 * (j - 1)])->combining_class;
                if (!pcc || pcc <= cc)
                    break;
                w->cps[2 * j] = w->cps[2 * (j - 1)];
                w->cps[2 * j + 1] = w->cps[2 * (j - 1) + 1];
                j--;
            }
            w->cps[2 * j] = pc_;
            w->cps[2 * j + 1] = pch;
        }
        return BERT_OK;
    }
    /* composition: utf8proc on the whole piece, then each output character matched to the run of
     * input characters it stands for by decomposing both sides */
    utf8proc_uint8_t *outp = NULL;
    utf8proc_ssize_t r =
        utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &outp, (utf8proc_option_t)opt);
    if (r < 0)
        return BERT_E_NOMEM;
    /* simple attribution: output characters replace input characters one for one; extra input
     * characters are removed with the last, extra output characters inserted */
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
        w->cps[2 * (*n_tr - 1) + 1] -= (int32_t)(n_in - n_out);
    free(outp);
    return BERT_OK;
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
    case BERT__N_PRECOMPILED:
        st = precompiled(nm, w, s, len, &n);
        break;
    case BERT__N_LOWERCASE:
        for (size_t i = 0; i < len && st == BERT_OK;) {
            i += next_cp(s, len, i, &c);
            size_t k = bert__normalize_cp(c, 0, 1, m);
            st = push_mapped(w, &n, m, k, &lead);
        }
        break;
    case BERT__N_BERT: {
        const int strip = nm->strip_accents < 0 ? nm->lowercase : nm->strip_accents;
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
                if ((st = tr_push(w, &n, ' ', 0)) == BERT_OK && (st = tr_push(w, &n, c, 1)) == BERT_OK)
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
            const int mark = p->category == UTF8PROC_CATEGORY_MN || p->category == UTF8PROC_CATEGORY_MC ||
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
            w->cps[2 * (n - 1) + 1] -= (int32_t)ne;
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
                    w->cps[2 * (n - 1) + 1] -= (int32_t)removed;
                else
                    lead += removed;
            } else {
                /* the inserted characters take the alignment of the match's last byte: model
                 * that as replacing the match's last character and removing the ones before */
                if (removed > 1) {
                    if (n)
                        w->cps[2 * (n - 1) + 1] -= (int32_t)(removed - 1);
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
    return apply_lead(w, n, lead, in, pc, out);
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
