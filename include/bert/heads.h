/* Task heads: turn encoder outputs into answers, behind one interface.
 *
 *   bert_head *head = NULL;                     // NULL params: the head the checkpoint was trained for
 *   bert_head_new(model, NULL, &head, err, sizeof err);
 *   bert_result *res = NULL;                    // one per thread, reused across calls
 *   bert_result_new(&res, err, sizeof err);
 *   bert_head_run(head, ctx, batch, texts, res);   // runs the encoder, then the head
 *   const float *p = bert_result_scores(res, 0);   // classify: one score per label
 *
 * Heads (bert_head_params.name):
 *   "classify"   sequence classification: softmax (single-label), sigmoid (multi-label) or the raw
 *                value (regression), label names from id2label
 *   "sentiment"  "classify" on a model whose labels are negative/positive (the default model)
 *   "ner"        token classification with Hugging Face's entity aggregation (none, simple, first,
 *                average, max), entities with label, score, word and spans into the original text
 *   "fill-mask"  the masked-LM head: top-k tokens and probabilities for each [MASK]
 *   "embed"      sentence embeddings: [CLS], mean over the attention mask, or the pooler output;
 *                optionally L2-normalised
 * A bert_head is immutable and may be shared by threads; a bert_result belongs to one thread. */
#ifndef BERT_HEADS_H
#define BERT_HEADS_H

#include <stddef.h>
#include <stdint.h>

#include <bert/export.h>
#include <bert/model.h>
#include <bert/status.h>
#include <bert/tokenizer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bert_head bert_head;
typedef struct bert_result bert_result;

typedef enum bert_task {
    BERT_TASK_CLASSIFY = 0,
    BERT_TASK_NER = 1,
    BERT_TASK_FILL_MASK = 2,
    BERT_TASK_EMBED = 3
} bert_task;

/* HF token-classification pipeline's aggregation_strategy. */
typedef enum bert_aggregation {
    BERT_AGG_NONE = 0,
    BERT_AGG_SIMPLE = 1,
    BERT_AGG_FIRST = 2,
    BERT_AGG_AVERAGE = 3,
    BERT_AGG_MAX = 4
} bert_aggregation;

typedef enum bert_pooling {
    BERT_POOL_CLS = 0,    /* the last hidden state at [CLS] */
    BERT_POOL_MEAN = 1,   /* mean of the last hidden state over attended tokens */
    BERT_POOL_POOLER = 2  /* the pooler output (dense + tanh on [CLS]) */
} bert_pooling;

typedef struct bert_head_params {
    const char *name;             /* NULL: chosen from config.json "architectures" */
    size_t top_k;                 /* fill-mask: predictions per mask (default 5) */
    bert_aggregation aggregation; /* ner (default BERT_AGG_NONE, as HF's pipeline) */
    bert_pooling pooling;         /* embed (default BERT_POOL_MEAN) */
    int normalize;                /* embed: 1 = L2-normalise the vectors */
} bert_head_params;

BERT_API bert_head_params bert_head_default_params(void);

/* Binds a head to a model after checking they fit (a classifier for "classify", an LM head for
 * "fill-mask", ...). Unknown names and misfits are BERT_E_INVALID_ARG / BERT_E_UNSUPPORTED with a
 * message listing what would work. The head borrows the model: free it first. */
BERT_API bert_status bert_head_new(const bert_model *m, const bert_head_params *params, bert_head **out,
                                   char *errbuf, size_t errbuf_size);
BERT_API void bert_head_free(bert_head *h);
BERT_API const char *bert_head_name(const bert_head *h);
BERT_API bert_task bert_head_task(const bert_head *h);
/* The names of every registered head, NULL-terminated. */
BERT_API const char *const *bert_head_names(void);

BERT_API bert_status bert_result_new(bert_result **out, char *errbuf, size_t errbuf_size);
BERT_API void bert_result_free(bert_result *r);
BERT_API const char *bert_result_errmsg(const bert_result *r);

/* Runs ctx's encoder on the batch, then the head; one result row per batch row. texts are the
 * inputs the batch was encoded from (row i came from texts[sample_index[i]]); "ner" needs them for
 * words and character offsets, the other heads accept NULL. Errors are reported in r. */
BERT_API bert_status bert_head_run(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts,
                                   bert_result *r);

BERT_API size_t bert_result_n_rows(const bert_result *r);

/* classify / sentiment: n_labels scores per row (probabilities, or the raw regression value) and
 * the predicted label (argmax; 0 for regression). Pointers are valid until the next run on r. */
BERT_API size_t bert_result_n_scores(const bert_result *r);
BERT_API const float *bert_result_scores(const bert_result *r, size_t row);
BERT_API int32_t bert_result_label(const bert_result *r, size_t row);

/* embed: one vector of bert_result_dim() floats per row. */
BERT_API size_t bert_result_dim(const bert_result *r);
BERT_API const float *bert_result_vector(const bert_result *r, size_t row);

/* ner: the entities of a row, in text order. label is the entity ("B-PER") with BERT_AGG_NONE and
 * the entity group ("PER") otherwise; index is the token position (BERT_AGG_NONE only, else -1);
 * word is HF's word (the token, or the decoded word pieces); bytes/chars are spans into the text. */
typedef struct bert_entity {
    const char *label;
    float score;
    int32_t index;
    const char *word;
    bert_span bytes;
    bert_span chars;
} bert_entity;
BERT_API const bert_entity *bert_result_entities(const bert_result *r, size_t row, size_t *n);

/* fill-mask: for each [MASK] of a row (in position order) top_k predictions, best first. */
typedef struct bert_fill {
    size_t position; /* token position of the [MASK] */
    int32_t token_id;
    const char *token;
    float score;     /* softmax probability */
} bert_fill;
BERT_API const bert_fill *bert_result_fills(const bert_result *r, size_t row, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
