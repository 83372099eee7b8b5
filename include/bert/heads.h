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
 *   "embed"      sentence embeddings: a sentence-transformers folder's own modules (Pooling, Dense,
 *                Normalize), or [CLS], mean, max, ... over the attention mask, or the pooler output;
 *                optionally L2-normalised
 *   "rerank"     a cross-encoder (sequence classifier) on (query, passage) pairs: each pair's score
 *                through sentence-transformers' CrossEncoder activation (sigmoid for one label,
 *                identity otherwise, or the one config.json names; softmax on request)
 *   "zero-shot"  an NLI model as HF's zero-shot-classification pipeline uses it: each text against
 *                "This example is {label}." for every candidate label, scores per label
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
    BERT_TASK_EMBED = 3,
    BERT_TASK_RERANK = 4,
    BERT_TASK_ZERO_SHOT = 5
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
    BERT_POOL_CLS = 0,           /* the last hidden state at the first token */
    BERT_POOL_MEAN = 1,          /* mean of the last hidden state over attended tokens */
    BERT_POOL_POOLER = 2,        /* the pooler output (dense + tanh on [CLS]) */
    BERT_POOL_MAX = 3,           /* per dimension, the maximum over attended tokens */
    BERT_POOL_MEAN_SQRT_LEN = 4, /* the sum over attended tokens / sqrt(their number) */
    BERT_POOL_WEIGHTED_MEAN = 5, /* the mean weighted by position (1, 2, ...) */
    BERT_POOL_LAST_TOKEN = 6,    /* the last attended token */
    BERT_POOL_AUTO = 7           /* default: the folder's sentence-transformers Pooling and the
                                    modules after it; mean without modules.json */
} bert_pooling;

typedef struct bert_head_params {
    const char *name;             /* NULL: chosen from config.json "architectures" */
    size_t top_k;                 /* fill-mask: predictions per mask (default 5) */
    bert_aggregation aggregation; /* ner (default BERT_AGG_NONE, as HF's pipeline) */
    bert_pooling pooling;         /* embed (default BERT_POOL_AUTO). Another mode replaces only the
                                     folder's Pooling: its Dense and Normalize modules still apply */
    int normalize;                /* embed: 1 = L2-normalise the vectors (also without Normalize) */
    int softmax;                  /* rerank: softmax over the labels instead of the activation */
    /* zero-shot: the candidate labels (copied by bert_head_new), multi_label (each label scored
     * alone, entailment against contradiction) and the hypothesis template ("{}" is the label;
     * NULL: "This example is {}.") */
    const char *const *labels;
    size_t n_labels;
    int multi_label;
    const char *hypothesis_template;
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
 * words and character offsets, the other heads accept NULL. "zero-shot" is different: it needs the
 * texts and makes its own (text, hypothesis) pairs, one result row per text (the batch says how
 * many: rows of sample_index 0 .. n-1), scores in the order of the candidate labels.
 * Errors are reported in r. */
BERT_API bert_status bert_head_run(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts,
                                   bert_result *r);

BERT_API size_t bert_result_n_rows(const bert_result *r);

/* classify / sentiment: n_labels scores per row (probabilities, or the raw regression value) and
 * the predicted label (argmax; 0 for regression); rerank: the pair's scores (one for a one-label
 * cross-encoder); zero-shot: one score per candidate label, in the order given, and the best.
 * Pointers are valid until the next run on r. */
BERT_API size_t bert_result_n_scores(const bert_result *r);
BERT_API const float *bert_result_scores(const bert_result *r, size_t row);
BERT_API int32_t bert_result_label(const bert_result *r, size_t row);

/* order[0..n) = the indices of scores[0..n) by descending score, ties as HF's pipelines break them
 * (numpy's argsort reversed: the later index first). */
BERT_API void bert_rank(const float *scores, size_t n, size_t *order);

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
