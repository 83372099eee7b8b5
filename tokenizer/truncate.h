/* Truncation windows (tokenizer/truncate.c). Internal. */
#ifndef BERT_TRUNCATE_H
#define BERT_TRUNCATE_H

#include "tokenizer_int.h"

/* Windows [start[i], stop[i]) over one sequence; window 0 is the main one, the rest overflow. */
typedef struct bert__windows {
    size_t *start;
    size_t *stop;
    size_t n, cap;
} bert__windows;

/* Upper bound on the windows a sequence of n tokens can be cut into. */
size_t bert__windows_needed(size_t n, size_t stride);

/* Cuts sequences of n1 and (when n2 is not NULL) *n2 tokens so that together they fit max_len
 * (special tokens already subtracted). w1/w2 must have room for bert__windows_needed() windows.
 * On BERT_E_TRUNCATION, msg says which rule failed, in HF's terms. */
bert_status bert__truncate(bert_truncation strategy, size_t max_len, size_t stride, size_t n1, const size_t *n2,
                           bert__windows *w1, bert__windows *w2, char *msg, size_t msg_size);

#endif
