/* Internal interface of the heads folder. Adding a head: one file that defines a bert__head_ops,
 * plus one line in the registry of heads/head.c. */
#ifndef BERT_HEAD_INT_H
#define BERT_HEAD_INT_H

#include <bert/heads.h>

#include "../common/common.h"

typedef struct bert__head_ops {
    const char *name;
    bert_task task;
    /* Checks that the model can serve this head; the message says what is missing. */
    bert_status (*check)(const bert_model *m, const bert_head_params *p, char *errbuf, size_t errbuf_size);
    /* Fills r from ctx's last run on b (the encoder has run already). */
    bert_status (*run)(const bert_head *h, bert_ctx *ctx, const bert_batch *b, const bert_text *texts, bert_result *r);
    int cls_only; /* reads only [CLS]-level outputs (pooled, sequence logits): bert_run_params.cls_only */
    int own_runs; /* runs the encoder itself (zero-shot: on pairs it makes): bert_head_run does not */
} bert__head_ops;

struct bert_head {
    const bert__head_ops *ops;
    const bert_model *m;
    bert_head_params p; /* labels and hypothesis_template point at the copies below */
    char **labels;
    char *hypothesis_template;
};

extern const bert__head_ops bert__head_classify;
extern const bert__head_ops bert__head_sentiment;
extern const bert__head_ops bert__head_ner;
extern const bert__head_ops bert__head_fill_mask;
extern const bert__head_ops bert__head_embed;
extern const bert__head_ops bert__head_rerank;
extern const bert__head_ops bert__head_zero_shot;

/* ---- result.c: the result container the heads fill ---- */
struct bert_result {
    char errmsg[512];
    size_t n_rows;
    float *scores; /* [n_rows, n_scores] (classify) or [n_rows, dim] (embed) */
    size_t n_scores, scores_cap;
    int32_t *labels;
    size_t labels_cap;
    bert_entity *ents; /* all rows' entities; row r owns [ent_start[r], ent_start[r+1]) */
    size_t n_ents, ents_cap;
    size_t *ent_start;
    bert_fill *fills;
    size_t n_fills, fills_cap;
    size_t *fill_start;
    size_t starts_cap;
    char *strings; /* words; entity/fill pointers are fixed up once the row is done */
    size_t strings_len, strings_cap;
};

/* Starts a run of n_rows rows with `per_row` floats each (classify/embed), clearing everything. */
bert_status bert__result_reset(bert_result *r, size_t n_rows, size_t per_row);
/* Appends an entity to the current row; word is copied. */
bert_status bert__result_add_entity(bert_result *r, const char *label, float score, int32_t index, const char *word,
                                    size_t word_len, bert_span bytes, bert_span chars);
bert_status bert__result_add_fill(bert_result *r, size_t position, int32_t token_id, const char *token,
                                  size_t token_len, float score);
/* Marks the start of row `row`'s entities/fills (call for rows in order, then once with n_rows). */
void bert__result_mark_row(bert_result *r, size_t row);
/* Turns stored word offsets into pointers (after the last row). */
void bert__result_finish(bert_result *r);
bert_status bert__result_fail(bert_result *r, bert_status st, const char *fmt, ...) BERT__PRINTF(3, 4);

/* ---- shared helpers ---- */
/* 1 when tok's model marks word continuations (WordPiece's "##", a BPE continuing_subword_prefix):
 * HF's pipelines then know subwords from the tokens; else they guess from spaces in the text. */
int bert__tokenizer_word_aware(const bert_tokenizer *tok);
/* HF's WordPiece decoder for a list of tokens: "##" pieces joined, others space-separated, and its
 * clean-up of spaces before . ? ! , per token. Writes to out (cap bytes), returns the length. */
size_t bert__wordpiece_join(const char *const *tokens, const size_t *lens, size_t n, char *out, size_t cap);

#endif
