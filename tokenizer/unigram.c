/* The Unigram model (HF's models/unigram, SentencePiece's): Viterbi over the character lattice,
 * each piece scoring its log-probability, a character no piece starts with scoring [UNK] (the
 * lowest score minus 10); consecutive unknowns are fused into one token, which becomes its
 * "<0xXX>" bytes with byte_fallback. Ties keep the first path found, as HF does. */
#include <string.h>

#include "pipe.h"

static int is_prefix(const bert__model *m, uint64_t h)
{
    const uint32_t tag = (uint32_t)(h >> 32) | 1;
    size_t sl = (size_t)h & m->prefix_mask;
    for (;;) {
        if (m->prefixes[sl] == tag)
            return 1;
        if (!m->prefixes[sl])
            return 0;
        sl = (sl + 1) & m->prefix_mask;
    }
}

static int32_t model_id(const bert_tokenizer *tok, uint64_t h, const char *s, size_t n)
{
    int32_t id = bert__vocab_find(tok, h, "", 0, s, n);
    return id >= 0 && (size_t)id < tok->pipe->model.n_model ? id : -1;
}

bert_status bert__unigram(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n, const bert_span *al,
                          int32_t word, bert__seq *out)
{
    const bert__model *m = &tok->pipe->model;
    bert_status st;
    if (n == 0)
        return BERT_OK;
    if ((st = bert__scratch_grow(w, n + 1)) != BERT_OK)
        return st;
    size_t ns = 0;
    if (bert__wcache_get(tok, w, s, n, &ns))
        return bert__emit_syms(w, ns, n, al, word, out);
    /* best[e]: the best score of a path over s[0..e); from[e] its last token's start (SIZE_MAX:
     * none yet) */
    for (size_t i = 0; i <= n; i++)
        w->from[i] = SIZE_MAX;
    w->best[0] = 0;
    w->from[0] = 0;
    for (size_t i = 0; i < n;) {
        int32_t c = 0;
        size_t k = bert__utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (!k)
            k = 1;
        const double base = w->best[i];
        int single = 0;
        uint64_t h = BERT__FNV_OFFSET;
        size_t lim = n - i < m->max_piece_bytes ? n - i : m->max_piece_bytes;
        for (size_t j = 0; j < lim; j++) {
            h = bert__fnv_step(h, (unsigned char)s[i + j]);
            if (!is_prefix(m, h))
                break; /* no piece starts with s[i..i+j] */
            size_t e = i + j + 1;
            if (e < n && ((unsigned char)s[e] & 0xC0) == 0x80)
                continue;
            int32_t id = model_id(tok, h, s + i, j + 1);
            if (id < 0)
                continue;
            double cand = base + m->scores[id];
            if (w->from[e] == SIZE_MAX || cand > w->best[e]) {
                w->best[e] = cand;
                w->from[e] = i;
                w->best_id[e] = id;
            }
            if (j + 1 == k)
                single = 1;
        }
        if (!single) {
            size_t e = i + k;
            double cand = base + m->unk_score;
            if (w->from[e] == SIZE_MAX || cand > w->best[e]) {
                w->best[e] = cand;
                w->from[e] = i;
                w->best_id[e] = m->unk_id;
            }
        }
        i += k;
    }
    /* back from the end; runs of [UNK] fuse into one token */
    size_t nt = 0;
    for (size_t e = n; e > 0;) {
        size_t b = w->from[e];
        if (b == SIZE_MAX || b >= e)
            return BERT_E_INTERNAL;
        int32_t id = w->best_id[e];
        if (id == m->unk_id && m->unk_id >= 0 && nt && w->sym_id[nt - 1] == m->unk_id && w->sym_len[nt - 1] == 1) {
            /* extend the unknown run (sym_len 1 marks a fusable run) */
            w->sym_off[nt - 1] = b;
        } else {
            w->sym_id[nt] = id;
            w->sym_off[nt] = b;
            w->sym_len[nt] = id == m->unk_id ? 1 : 0;
            nt++;
        }
        e = b;
    }
    int unknown = 0;
    for (size_t t = 0; t < nt; t++)
        unknown |= w->sym_id[t] == m->unk_id;
    if (!unknown) {
        /* the common case: pieces only, kept in text order for the cache */
        size_t end = n;
        for (size_t t = 0; t < nt; t++) {
            w->sym_len[t] = end - w->sym_off[t];
            end = w->sym_off[t];
        }
        for (size_t i = 0, j = nt - 1; i < j; i++, j--) {
            int32_t ti = w->sym_id[i];
            w->sym_id[i] = w->sym_id[j], w->sym_id[j] = ti;
            size_t to = w->sym_off[i];
            w->sym_off[i] = w->sym_off[j], w->sym_off[j] = to;
            size_t tl = w->sym_len[i];
            w->sym_len[i] = w->sym_len[j], w->sym_len[j] = tl;
        }
        if ((st = bert__wcache_put(tok, w, s, n, nt)) != BERT_OK)
            return st;
        return bert__emit_syms(w, nt, n, al, word, out);
    }
    if ((st = bert__seq_reserve(out, out->n + nt)) != BERT_OK)
        return st;
    /* tokens in text order: token t spans [sym_off[t], end) with end the next token's start */
    size_t end = n;
    size_t base_n = out->n;
    for (size_t t = 0; t < nt; t++) {
        size_t b = w->sym_off[t];
        int32_t id = w->sym_id[t];
        if (id == m->unk_id) {
            /* a fused unknown string may itself be a piece; else its bytes, else [UNK] */
            int32_t pid = model_id(tok, bert__fnv(BERT__FNV_OFFSET, s + b, end - b), s + b, end - b);
            if (pid >= 0)
                id = pid;
            else if (m->byte_fallback) {
                int all = 1;
                for (size_t j = b; j < end; j++)
                    all &= m->byte_ids[(unsigned char)s[j]] >= 0;
                if (all) {
                    /* pushed reversed like the rest; every byte token spans the whole string */
                    for (size_t j = end; j-- > b;)
                        if ((st = bert__seq_push(out, m->byte_ids[(unsigned char)s[j]],
                                                 (bert_span){al[b].begin, al[end - 1].end}, word)) != BERT_OK)
                            return st;
                    end = b;
                    continue;
                }
            }
            if (id == m->unk_id && m->unk_id < 0)
                return BERT_E_FORMAT;
        }
        if ((st = bert__seq_push(out, id, (bert_span){al[b].begin, al[end - 1].end}, word)) != BERT_OK)
            return st;
        if (id == m->unk_id && (st = bert__seq_own(out, s + b, end - b)) != BERT_OK)
            return st;
        end = b;
    }
    /* reverse what this word pushed (own texts recorded here point at reversed positions) */
    for (size_t k = out->n_own; k-- > 0 && out->own[k].i >= base_n;)
        out->own[k].i = base_n + (out->n - 1 - out->own[k].i);
    {
        /* restore token order among this word's own entries */
        size_t lo = out->n_own;
        while (lo > 0 && out->own[lo - 1].i >= base_n)
            lo--;
        for (size_t x = lo, y = out->n_own - 1; out->n_own && x < y; x++, y--) {
            struct bert__own t = out->own[x];
            out->own[x] = out->own[y], out->own[y] = t;
        }
    }
    for (size_t i = base_n, j = out->n - 1; i < j; i++, j--) {
        int32_t ti = out->ids[i];
        out->ids[i] = out->ids[j], out->ids[j] = ti;
        bert_span so = out->offsets[i];
        out->offsets[i] = out->offsets[j], out->offsets[j] = so;
    }
    return BERT_OK;
}
