/* Ids to text: tokenizers' WordPiece decoder (prefix "##", cleanup on), token by token. */
#include <string.h>

#include <bert/generate.h>

#include "pipe.h"

size_t bert__wordpiece_cleanup(char *s, size_t n)
{
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " do not", " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m", " don't", "'s", "'ve", "'re"};
    for (size_t r = 0; r < sizeof from / sizeof from[0]; r++) {
        const size_t fl = strlen(from[r]), tl = strlen(to[r]);
        size_t i = 0;
        while (i + fl <= n) {
            if (memcmp(s + i, from[r], fl) == 0) {
                /* every replacement is no longer than its pattern: shrink in place */
                memcpy(s + i, to[r], tl);
                memmove(s + i + tl, s + i + fl, n - i - fl);
                n -= fl - tl;
                i += tl;
            } else {
                i++;
            }
        }
    }
    return n;
}

static int is_special(const bert_tokenizer *tok, int32_t id)
{
    for (int k = 0; k < BERT__N_SPECIAL; k++)
        if (tok->special_ids[k] == id)
            return 1;
    return 0;
}

bert_status bert_tokenizer_decode(const bert_tokenizer *tok, const int32_t *ids, size_t n, int skip_special, char *out,
                                  size_t cap, size_t *len)
{
    if (!tok || (!ids && n) || (!out && cap) || !len)
        return BERT_E_INVALID_ARG;
    if (tok->pipe) {
        char *s = NULL;
        size_t sl = 0;
        bert_status st = bert__pipe_decode(tok, ids, n, skip_special, &s, &sl);
        if (st != BERT_OK)
            return st;
        *len = sl;
        if (sl >= cap) {
            if (cap)
                out[0] = '\0';
            bert__free(s);
            return BERT_E_BUFFER_TOO_SMALL;
        }
        memcpy(out, s, sl + 1);
        bert__free(s);
        return BERT_OK;
    }
    size_t k = 0, emitted = 0;
    char piece[1024];
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= tok->n_tokens)
            return BERT_E_INVALID_ARG;
        if (skip_special && is_special(tok, ids[i]))
            continue;
        const char *t = tok->vocab + tok->tok_off[ids[i]];
        size_t tl = tok->tok_len[ids[i]], pl = 0;
        if (emitted++) {
            if (tl >= 2 && t[0] == '#' && t[1] == '#') {
                t += 2;
                tl -= 2;
            } else {
                piece[pl++] = ' ';
            }
        }
        if (tl > sizeof piece - pl)
            tl = sizeof piece - pl;
        memcpy(piece + pl, t, tl);
        pl = bert__wordpiece_cleanup(piece, pl + tl);
        if (k + pl < cap)
            memcpy(out + k, piece, pl);
        k += pl;
    }
    *len = k;
    if (k >= cap) {
        if (cap)
            out[0] = '\0';
        return BERT_E_BUFFER_TOO_SMALL;
    }
    out[k] = '\0';
    return BERT_OK;
}

int bert__tokenizer_word_aware(const bert_tokenizer *tok)
{
    /* HF's test: the model has a continuing_subword_prefix ("##") */
    return !tok->pipe || tok->pipe->model.prefix_len > 0;
}
