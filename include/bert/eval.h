/* GLUE and SuperGLUE evaluation: the official metrics, and a runner that evaluates a model on a
 * task's dev split (metrics) or test split (leaderboard / submission file). */
#ifndef BERT_EVAL_H
#define BERT_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include <bert/export.h>
#include <bert/model.h>
#include <bert/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- metrics (pure functions; n == 0 gives 0) ---- */
BERT_API double bert_metric_accuracy(const int32_t *pred, const int32_t *gold, size_t n);
/* F1 of the class `positive` (GLUE: label 1). 0 when it is never predicted nor gold. */
BERT_API double bert_metric_f1(const int32_t *pred, const int32_t *gold, size_t n, int32_t positive);
/* Unweighted mean of the per-class F1 over classes 0..n_classes-1 (CB). */
BERT_API double bert_metric_macro_f1(const int32_t *pred, const int32_t *gold, size_t n, size_t n_classes);
/* Matthews correlation (sklearn's multi-class form); 0 when undefined (a constant column). */
BERT_API double bert_metric_mcc(const int32_t *pred, const int32_t *gold, size_t n);
/* Pearson correlation; NaN when either side is constant (as scipy). */
BERT_API double bert_metric_pearson(const double *x, const double *y, size_t n);
/* Spearman correlation: Pearson of the ranks, ties ranked by their average (as scipy). */
BERT_API bert_status bert_metric_spearman(const double *x, const double *y, size_t n, double *out);

/* ---- the runner ---- */
/* Task names: CoLA SST-2 MRPC STS-B QQP MNLI-m MNLI-mm QNLI RTE WNLI AX (GLUE, files under
 * data_dir = a glue/ folder), BoolQ CB COPA MultiRC ReCoRD RTE-SG WiC WSC AX-b AX-g (SuperGLUE,
 * under a superglue/ folder; RTE-SG is SuperGLUE's RTE, written to RTE.jsonl). NULL-terminated. */
BERT_API const char *const *bert_eval_task_names(void);

typedef void (*bert_eval_progress_fn)(size_t done, size_t total, void *user);

typedef struct bert_eval_params {
    const char *data_dir; /* the glue/ or superglue/ folder */
    int test;             /* 0: dev/val split, metrics; 1: test split, no metrics */
    const char *out_dir;  /* where to write the leaderboard/submission file (NULL: none) */
    int predictions;      /* 1: also write out_dir/<task>.predictions.jsonl, one {"idx", "prediction"}
                             per example at full precision (label string, value, or choice) */
    size_t batch_size;    /* default 32 */
    size_t max_length;    /* default 128, as the reference runs */
    bert_eval_progress_fn progress;
    void *user;
} bert_eval_params;

BERT_API bert_eval_params bert_eval_default_params(void);

#define BERT_EVAL_MAX_METRICS 4
typedef struct bert_eval_result {
    char task[16];
    size_t n_examples;
    size_t n_metrics;
    char metric_name[BERT_EVAL_MAX_METRICS][24];
    double metric[BERT_EVAL_MAX_METRICS];
    char file[1024]; /* the file written, or "" */
    double seconds;
} bert_eval_result;

/* Evaluates the model (through ctx) on one task. The model's id2label must cover the task's labels
 * (by name; binary 0/1 tasks also by position), else BERT_E_LABEL with both sets listed; COPA needs
 * a BertForMultipleChoice checkpoint, STS-B a regression one. Dataset errors name file and line. */
BERT_API bert_status bert_eval_task(const char *task, const bert_model *m, bert_ctx *ctx, const bert_eval_params *p,
                                    bert_eval_result *out, char *errbuf, size_t errbuf_size);

#ifdef __cplusplus
}
#endif
#endif
