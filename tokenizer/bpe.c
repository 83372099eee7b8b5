/* The BPE model (HF's models/bpe): a word starts as one symbol per character (with the
 * continuing-subword prefix and end-of-word suffix where configured; unknown characters become
 * their "<0xXX>" bytes with byte_fallback, else [UNK], fused when fuse_unk), then the adjacent pair
 * with the lowest merge rank is merged, leftmost first, until no pair has a merge. */
#include <string.h>

#include "pipe.h"

static int32_t find(const bert_tokenizer *tok, const char *a, size_t an, const char *b, size_t bn)
{
    uint64_t h = bert__fnv(bert__fnv(BERT__FNV_OFFSET, a, an), b, bn);
    return bert__vocab_find(tok, h, a, an, b, bn);
}

static const bert__merge *merge_of(const bert__model *m, int32_t l, int32_t r)
{
    const uint64_t key = (((uint64_t)(uint32_t)l << 32) | (uint32_t)r) + 1;
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 20) & m->merge_mask;
    for (;;) {
        const bert__merge *e = &m->merges[i];
        if (e->key == 0)
            return NULL;
        if (e->key == key)
            return e;
        i = (i + 1) & m->merge_mask;
    }
}

/* The word's symbols after every merge, into w->sym_* (their count in *ns_out). */
static bert_status merge_word(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n, size_t *ns_out)
{
    const bert__model *m = &tok->pipe->model;
    bert_status st;
    size_t ns = 0;
    int32_t unk_pending = -1;
    size_t unk_off = 0, unk_len = 0;
    char buf[64];
    for (size_t i = 0; i < n;) {
        int32_t c = 0;
        size_t k = bert__utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (!k)
            k = 1;
        const int first = i == 0, last = i + k == n;
        /* the symbol's text: prefix? + char + suffix? */
        size_t tl = 0;
        char *t = buf;
        const size_t need = m->prefix_len + k + m->suffix_len;
        if (need > sizeof buf)
            return BERT_E_UNSUPPORTED; /* affixes over 50 bytes are refused at load */
        if (!first) {
            memcpy(t, m->prefix, m->prefix_len);
            tl = m->prefix_len;
        }
        memcpy(t + tl, s + i, k);
        tl += k;
        if (last) {
            memcpy(t + tl, m->suffix, m->suffix_len);
            tl += m->suffix_len;
        }
        int32_t id = find(tok, "", 0, t, tl);
        if (id >= 0 && (size_t)id < m->n_model) {
            if (unk_pending >= 0) {
                w->sym_id[ns] = unk_pending, w->sym_off[ns] = unk_off, w->sym_len[ns] = unk_len, ns++;
                unk_pending = -1;
            }
            w->sym_id[ns] = id, w->sym_off[ns] = i, w->sym_len[ns] = k, ns++;
            i += k;
            continue;
        }
        if (m->byte_fallback) {
            int all = 1;
            for (size_t j = 0; j < tl; j++)
                all &= m->byte_ids[(unsigned char)t[j]] >= 0;
            if (all) {
                if ((st = bert__scratch_grow(w, ns + tl + n + 1)) != BERT_OK)
                    return st;
                /* each byte symbol spans one byte from the character's start (HF adds them with
                 * length 1) */
                for (size_t j = 0; j < tl; j++) {
                    size_t o = i + j < n ? i + j : n - 1;
                    w->sym_id[ns] = m->byte_ids[(unsigned char)t[j]], w->sym_off[ns] = o, w->sym_len[ns] = 1, ns++;
                }
                i += k;
                continue;
            }
        }
        if (m->unk_id >= 0) {
            if (unk_pending >= 0 && m->fuse_unk) {
                unk_len += k;
            } else {
                if (unk_pending >= 0)
                    w->sym_id[ns] = unk_pending, w->sym_off[ns] = unk_off, w->sym_len[ns] = unk_len, ns++;
                unk_pending = m->unk_id;
                unk_off = i;
                unk_len = k;
            }
        }
        i += k;
    }
    if (unk_pending >= 0)
        w->sym_id[ns] = unk_pending, w->sym_off[ns] = unk_off, w->sym_len[ns] = unk_len, ns++;
    /* merges: the lowest rank first, the leftmost of equal ranks; each adjacent pair's merge is
     * looked up once, and again only where a merge changed a neighbour */
    uint32_t *rank = (uint32_t *)w->best_id; /* scratch: rank of pair (j, j+1), UINT32_MAX: none */
    int32_t *mid = (int32_t *)w->from;       /* scratch: the merged id */
    for (size_t j = 0; j + 1 < ns; j++) {
        const bert__merge *e = merge_of(m, w->sym_id[j], w->sym_id[j + 1]);
        rank[j] = e ? e->rank : UINT32_MAX;
        mid[j] = e ? e->id : -1;
    }
    while (ns > 1) {
        uint32_t best = UINT32_MAX;
        size_t at = 0;
        for (size_t j = 0; j + 1 < ns; j++)
            if (rank[j] < best) {
                best = rank[j];
                at = j;
            }
        if (best == UINT32_MAX)
            break;
        w->sym_id[at] = mid[at];
        w->sym_len[at] += w->sym_len[at + 1];
        const size_t tail = ns - at - 2;
        memmove(w->sym_id + at + 1, w->sym_id + at + 2, tail * sizeof *w->sym_id);
        memmove(w->sym_off + at + 1, w->sym_off + at + 2, tail * sizeof *w->sym_off);
        memmove(w->sym_len + at + 1, w->sym_len + at + 2, tail * sizeof *w->sym_len);
        memmove(rank + at + 1, rank + at + 2, (tail ? tail - 1 : 0) * sizeof *rank);
        memmove(mid + at + 1, mid + at + 2, (tail ? tail - 1 : 0) * sizeof *mid);
        ns--;
        for (size_t j = at ? at - 1 : 0; j <= at && j + 1 < ns; j++) {
            const bert__merge *e = merge_of(m, w->sym_id[j], w->sym_id[j + 1]);
            rank[j] = e ? e->rank : UINT32_MAX;
            mid[j] = e ? e->id : -1;
        }
    }
    *ns_out = ns;
    return BERT_OK;
}

bert_status bert__bpe(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n, const bert_span *al,
                      int32_t word, bert__seq *out)
{
    const bert__model *m = &tok->pipe->model;
    bert_status st;
    if (n == 0)
        return BERT_OK;
    if (m->ignore_merges) {
        int32_t id = find(tok, "", 0, s, n);
        if (id >= 0)
            return bert__seq_push(out, id, (bert_span){al[0].begin, al[n - 1].end}, word);
    }
    if ((st = bert__scratch_grow(w, n + 1)) != BERT_OK)
        return st;
    size_t ns = 0;
    if (bert__wcache_get(tok, w, s, n, &ns))
        return bert__emit_syms(w, ns, n, al, word, out);
    if ((st = merge_word(tok, w, s, n, &ns)) != BERT_OK)
        return st;
    if ((st = bert__wcache_put(tok, w, s, n, ns)) != BERT_OK)
        return st;
    return bert__emit_syms(w, ns, n, al, word, out);
}
