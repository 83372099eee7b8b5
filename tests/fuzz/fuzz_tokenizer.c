/* libFuzzer target: the tokenizer on random bytes with random options. Byte 0 picks the settings,
 * byte 1 the split point of a pair; the invariants every encoding must keep are checked. */
#include <stdlib.h>
#include <string.h>

#include <bert/bert.h>

#include "fuzz.h"

static bert_tokenizer *toks[4];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t o = data[0], split = data[1];
    data += 2;
    size -= 2;
    const int which = o & 3;
    if (!toks[which]) {
        bert_tokenizer_config c = bert_tokenizer_default_config();
        c.do_lower_case = which & 1;
        c.tokenize_chinese_chars = !(which & 2);
        c.clean_text = !(which & 2);
        if (bert_tokenizer_load_vocab(FUZZ_VOCAB, &c, &toks[which], NULL, 0) != BERT_OK)
            abort();
    }
    bert_batch *b = NULL;
    if (bert_batch_new(&b, NULL, 0) != BERT_OK)
        return 0;
    bert_encode_params p = bert_encode_default_params();
    p.truncation = (bert_truncation)((o >> 2) & 3);
    p.max_length = p.truncation ? (size_t)(split % 40) + 1 : 0;
    p.stride = (o >> 4) & 3;
    p.return_overflowing = (o >> 6) & 1;
    p.on_invalid_utf8 = (bert_invalid_utf8)(o >> 7);
    size_t cut = size ? split % (size + 1) : 0;
    /* Overflowing windows of a pair are the cross product of both sequences' windows (as in HF):
     * bounded, since each side stops at max_length tokens, but up to ~10^4 rows for tiny windows.
     * Keep pairs' windows at 16 tokens or more so that the fuzzer spends its time on variety. */
    if ((o & 0x20) && p.return_overflowing && p.max_length < 16)
        p.max_length += 16;
    bert_text t = {(const char *)data, cut, (o & 0x20) ? (const char *)data + cut : NULL, size - cut};
    if (!t.b)
        t.a_len = size;
    bert_status st = bert_batch_encode(b, toks[which], &t, 1, &p);
    if (st == BERT_OK) {
        bert_batch_view v = bert_batch_get(b);
        for (size_t r = 0; r < v.n_rows; r++)
            for (size_t i = 0; i < v.lengths[r]; i++) {
                size_t k = r * v.seq_len + i;
                const size_t len = v.sequence_ids[k] == 1 ? t.b_len : t.a_len;
                if (v.ids[k] < 0 || (size_t)v.ids[k] >= bert_tokenizer_vocab_size(toks[which]) ||
                    v.offsets[k].begin > v.offsets[k].end || v.offsets[k].end > len)
                    abort();
            }
    } else if (st != BERT_E_UTF8 && st != BERT_E_TRUNCATION && st != BERT_E_INVALID_ARG) {
        abort();
    }
    bert_batch_free(b);
    return 0;
}
