/* libFuzzer target: tokenizer.json. Byte 0 picks the mode. Even: the rest is a tokenizer.json,
 * loaded from memory (every component's reader, the merges, the charsmap parser, the template);
 * when it loads, a few fixed texts are encoded and decoded through it. Odd: the rest is text for
 * one of the shared real tokenizers (byte-level BPE, Unigram with a charsmap, WordPiece with
 * lstrip), with options from byte 1; every encoding must keep its invariants (ids in the
 * vocabulary, offsets inside the text and on character boundaries, a token string for every
 * position) and decode without error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bert/bert.h>

#include "fuzz.h"

static const char *const real[] = {
    "data/tokenizers/roberta-base/tokenizer.json", "data/tokenizers/t5-small/tokenizer.json",
    "models/tiny-albert-seqcls/tokenizer.json", "models/tiny-mpnet-seqcls/tokenizer.json"};
static bert_tokenizer *toks[4];

static int on_boundary(const char *s, size_t n, size_t at)
{
    return at == 0 || at == n || ((unsigned char)s[at] & 0xC0) != 0x80;
}

static void check(const bert_tokenizer *tok, bert_batch *b, const bert_text *t, int utf8_ok)
{
    bert_batch_view v = bert_batch_get(b);
    const size_t V = bert_tokenizer_vocab_size(tok);
    for (size_t r = 0; r < v.n_rows; r++) {
        for (size_t i = 0; i < v.lengths[r]; i++) {
            const size_t k = r * v.seq_len + i;
            size_t tl = 0;
            if (v.ids[k] < 0 || (size_t)v.ids[k] >= V || !bert_batch_token(b, r, i, &tl))
                abort();
            const bert_span o = v.offsets[k];
            const int32_t seq = v.sequence_ids[k];
            if (seq < 0)
                continue;
            const char *s = seq ? t->b : t->a;
            const size_t n = seq ? t->b_len : t->a_len;
            if (o.begin > o.end || o.end > n)
                abort();
            if (utf8_ok && (!on_boundary(s, n, o.begin) || !on_boundary(s, n, o.end)))
                abort();
        }
        char out[8192];
        size_t len = 0;
        bert_status st = bert_tokenizer_decode(tok, v.lengths[r] ? v.ids + r * v.seq_len : NULL, v.lengths[r], r & 1,
                                               out, sizeof out, &len);
        if (st != BERT_OK && st != BERT_E_BUFFER_TOO_SMALL)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 8192)
        return 0;
    const uint8_t mode = data[0], o = data[1];
    bert_batch *b = NULL;
    if (bert_batch_new(&b, NULL, 0) != BERT_OK)
        return 0;
    if (!(mode & 1)) {
        bert_tokenizer *tok = NULL;
        char err[512] = "";
        if (bert_tokenizer_new_from_json((const char *)data + 1, size - 1, "fuzz.json", &tok, err, sizeof err) ==
            BERT_OK) {
            static const char *const texts[] = {"Hello, world!", "  two  spaces\tand a tab ",
                                                "na\xc3\xafve caf\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87 <s> [CLS] <mask>",
                                                ""};
            for (size_t i = 0; i < 5; i++) {
                bert_text t = {texts[i], strlen(texts[i]), i == 1 ? texts[0] : NULL, i == 1 ? 13 : 0};
                if (bert_batch_encode(b, tok, &t, 1, NULL) == BERT_OK)
                    check(tok, b, &t, 1);
            }
            bert_tokenizer_free(tok);
        } else if (!err[0]) {
            abort(); /* a refusal always says why */
        }
        bert_batch_free(b);
        return 0;
    }
    const int which = (mode >> 1) & 3;
    if (!toks[which]) {
        char path[1024];
        const char *dir = getenv("BERT_SHARED_DIR");
        snprintf(path, sizeof path, "%s/%s", dir ? dir : FUZZ_SHARED, real[which]);
        if (bert_tokenizer_load_json(path, &toks[which], NULL, 0) != BERT_OK)
            abort();
    }
    bert_encode_params p = bert_encode_default_params();
    p.truncation = (bert_truncation)(o & 3);
    p.max_length = p.truncation ? (size_t)((o >> 2) % 24) + 8 : 0;
    p.return_overflowing = (o >> 7) & 1;
    p.stride = p.return_overflowing ? 2 : 0;
    data += 2;
    size -= 2;
    const size_t cut = (mode >> 3) && size ? (size_t)(mode >> 3) % (size + 1) : size;
    bert_text t = {(const char *)data, cut, (mode >> 3) ? (const char *)data + cut : NULL,
                   (mode >> 3) ? size - cut : 0};
    size_t bad = 0;
    const int utf8_ok =
        bert_utf8_check(t.a, t.a_len, &bad) == BERT_OK && (!t.b || bert_utf8_check(t.b, t.b_len, &bad) == BERT_OK);
    bert_status st = bert_batch_encode(b, toks[which], &t, 1, &p);
    if (st == BERT_OK)
        check(toks[which], b, &t, utf8_ok);
    else if (st != BERT_E_UTF8 && st != BERT_E_TRUNCATION && st != BERT_E_UNSUPPORTED)
        abort();
    bert_batch_free(b);
    return 0;
}
