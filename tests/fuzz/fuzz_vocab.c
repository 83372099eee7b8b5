/* libFuzzer target: vocab.txt loading, then a tokenization with the vocabulary that was built. */
#include <stdlib.h>

#include <bert/bert.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bert_tokenizer *tok = NULL;
    char err[256] = "";
    if (bert_tokenizer_new_from_vocab((const char *)data, size, "vocab.txt", NULL, &tok, err, sizeof err) != BERT_OK) {
        if (!err[0] || tok)
            abort();
        return 0;
    }
    bert_batch *b = NULL;
    if (bert_batch_new(&b, NULL, 0) == BERT_OK) {
        bert_text t = {"Hello, [CLS] wor##ld \xe4\xb8\xad caf\xc3\xa9!", 24, NULL, 0};
        bert_encode_params p = bert_encode_default_params();
        p.add_special_tokens = 0; /* the fuzzed vocabulary may lack [CLS]/[SEP] */
        if (bert_batch_encode(b, tok, &t, 1, &p) == BERT_OK) {
            bert_batch_view v = bert_batch_get(b);
            for (size_t i = 0; i < v.lengths[0]; i++)
                if (v.ids[i] < 0 || (size_t)v.ids[i] >= bert_tokenizer_vocab_size(tok))
                    abort();
        }
        bert_batch_free(b);
    }
    bert_tokenizer_free(tok);
    return 0;
}
