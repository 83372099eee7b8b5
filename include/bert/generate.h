/* Text generation with the causal decoder (a masking mode of the encoder stack) and its key/value
 * cache: greedy search or sampling with temperature, top-k and top-p, as transformers' generate.
 *
 *   bert_generate_params p = bert_generate_default_params();   // greedy, 20 new tokens
 *   int32_t out[64]; size_t n = 0;
 *   bert_generate(ctx, prompt_ids, n_prompt, &p, out, 64, &n, NULL, NULL);
 *   // out[0..n) = the prompt followed by the new tokens
 */
#ifndef BERT_GENERATE_H
#define BERT_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include <bert/export.h>
#include <bert/model.h>
#include <bert/status.h>
#include <bert/tokenizer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bert_generate_params {
    size_t max_new_tokens; /* default 20 (transformers' max_new_tokens default) */
    int do_sample;         /* 0: greedy (argmax); 1: sample */
    float temperature;     /* sampling: > 0, default 1 */
    size_t top_k;          /* sampling: keep the k most likely tokens; 0 = off; default 50 (HF) */
    float top_p;           /* sampling: nucleus in (0, 1]; 1 = off (default) */
    uint64_t seed;         /* sampling: the same seed gives the same tokens */
    int32_t eos_id;        /* stop after this token; -1 (default): the tokenizer's [SEP] if any */
    int use_cache;         /* 1 (default): one position per step; 0: re-run the whole prefix each step */
} bert_generate_params;

BERT_API bert_generate_params bert_generate_default_params(void);

/* Called with each new token as soon as it is chosen; return non-zero to stop. */
typedef int (*bert_token_fn)(int32_t id, void *user);

/* Generates from prompt[0..n_prompt) on ctx (whose model needs an LM head). out (capacity cap)
 * receives the prompt followed by the new tokens, *n_out their count; a cap below
 * n_prompt + max_new_tokens is BERT_E_BUFFER_TOO_SMALL with *n_out set to that size. Generation
 * stops at eos, after max_new_tokens, when fn returns non-zero, or at max_position_embeddings
 * (a stop, logged, never an overflow). Bad parameters (empty prompt, temperature <= 0 when
 * sampling, top_p outside (0, 1]) are BERT_E_INVALID_ARG with the reason in bert_ctx_errmsg(). */
BERT_API bert_status bert_generate(bert_ctx *ctx, const int32_t *prompt, size_t n_prompt,
                                   const bert_generate_params *params, int32_t *out, size_t cap, size_t *n_out,
                                   bert_token_fn fn, void *user);

/* Token ids back to text the way HF's decode does for BERT: WordPiece "##" pieces joined to the
 * previous token, other tokens separated by spaces, its clean-up of spaces before punctuation and
 * contractions; special tokens ([CLS], [SEP], [PAD], [UNK], [MASK]) left out when skip_special.
 * Writes a NUL-terminated string to out (cap bytes); *len gets the length needed (without the NUL):
 * BERT_E_BUFFER_TOO_SMALL when it does not fit. Ids out of range are BERT_E_INVALID_ARG. */
BERT_API bert_status bert_tokenizer_decode(const bert_tokenizer *tok, const int32_t *ids, size_t n, int skip_special,
                                           char *out, size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
