/* Greedy longest-match-first WordPiece, as HF's models/wordpiece: pieces after the first carry the
 * "##" prefix; a word with any unmatched piece, or over the character limit, is one [UNK] spanning
 * the whole word. */
#include "tokenizer_int.h"

#define CONT_PREFIX     "##"
#define CONT_PREFIX_LEN 2

bert_status bert__wordpiece(const bert_tokenizer *tok, const bert__word *w, int32_t word_id, bert__seq *out)
{
    const int32_t unk = tok->special_ids[BERT_SPECIAL_UNK];
    if (w->n_chars > tok->cfg.max_input_chars_per_word || w->len == 0)
        return bert__seq_push(out, unk, w->span, word_id);

    const size_t mark = out->n;
    /* FNV of every prefix of the remaining bytes, so each start costs one pass, not one per end. */
    uint64_t pre[512];
    size_t start = 0;
    while (start < w->len) {
        const int cont = start > 0;
        size_t maxb = cont ? tok->max_cont_bytes : tok->max_word_bytes;
        size_t lim = w->len - start;
        if (lim > maxb)
            lim = maxb;
        const uint64_t seed = cont ? bert__fnv(BERT__FNV_OFFSET, CONT_PREFIX, CONT_PREFIX_LEN) : BERT__FNV_OFFSET;
        /* Vocabularies with tokens over 512 bytes fall back to hashing each candidate. */
        const int cached = lim <= sizeof pre / sizeof pre[0];
        uint64_t h = seed;
        for (size_t i = 0; cached && i < lim; i++) {
            h = bert__fnv_step(h, (unsigned char)w->bytes[start + i]);
            pre[i] = h;
        }
        int32_t id = -1;
        size_t end = start + lim;
        for (; end > start; end--) {
            /* Only character boundaries are candidate ends, as HF shortens by whole chars. */
            if (end < w->len && ((unsigned char)w->bytes[end] & 0xC0) == 0x80)
                continue;
            uint64_t hc = cached ? pre[end - start - 1] : bert__fnv(seed, w->bytes + start, end - start);
            id = bert__vocab_find(tok, hc, cont ? CONT_PREFIX : "", cont ? CONT_PREFIX_LEN : 0,
                                  w->bytes + start, end - start);
            if (id >= 0)
                break;
        }
        if (id < 0) {
            out->n = mark;
            return bert__seq_push(out, unk, w->span, word_id);
        }
        bert_span sp = {w->orig_b[start], w->orig_e[end - 1]};
        bert_status st = bert__seq_push(out, id, sp, word_id);
        if (st != BERT_OK)
            return st;
        start = end;
    }
    return BERT_OK;
}
