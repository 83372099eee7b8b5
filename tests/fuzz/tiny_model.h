/* A small BERT checkpoint folder written for a fuzz target at start: random F32 weights (seeded),
 * so that a target can run the real model code on inputs it controls, thousands of times a second. */
#ifndef BERT_FUZZ_TINY_MODEL_H
#define BERT_FUZZ_TINY_MODEL_H
#include <stddef.h>
#include <stdint.h>

/* Writes dir/config.json and dir/model.safetensors for architecture arch (BertForTokenClassification,
 * BertLMHeadModel, ...) with vocab_size V, hidden size H (2 heads), L layers, 512 positions and the
 * id2label names in labels (NULL-terminated; NULL for none); copies vocab to dir/vocab.txt when
 * given. Creates dir. Returns 0, or -1 (errno says why). */
int fuzz_tiny_model(const char *dir, const char *arch, size_t V, size_t H, size_t L, const char *const *labels,
                    const char *vocab, uint64_t seed);
/* A folder of the process's own for it: /dev/shm/TARGET.PID where there is /dev/shm (memory),
 * else /tmp/TARGET.PID. Returns 0 or -1. */
int fuzz_tiny_dir(const char *target, char *dir, size_t cap);
/* Removes what fuzz_tiny_model wrote into dir, and dir. */
void fuzz_tiny_remove(const char *dir);
#endif
