/* Internal: benchmark tasks, their files and readers (datasets/), scored by eval/. */
#ifndef BERT_DATASET_H
#define BERT_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include <bert/status.h>

#include "../common/common.h"

/* How a task turns examples into model inputs and predictions back into answers. */
typedef enum bert__kind {
    BERT__K_CLASSIFY = 0,  /* one pair per example, one label */
    BERT__K_REGRESS = 1,   /* one pair, one value (STS-B) */
    BERT__K_CHOICE = 2,    /* one pair per choice, softmax over the choices (COPA) */
    BERT__K_ANSWER = 3,    /* one pair per answer, a binary label each (MultiRC) */
    BERT__K_CANDIDATE = 4  /* one pair per candidate entity, the best one wins (ReCoRD) */
} bert__kind;

typedef struct bert__instance {
    char *a, *b;       /* model input (b may be NULL) */
    size_t example;    /* the example it belongs to */
    char *candidate;   /* ReCoRD: the entity text */
    int32_t gold;      /* ANSWER: the answer's gold label index, -1 unknown */
    long q_idx, a_idx; /* MultiRC: question and answer idx */
} bert__instance;

typedef struct bert__example {
    char *id;         /* "index"/"idx", as the submission files want it */
    int32_t gold;     /* index into the task's labels; -1 unknown (test) */
    double gold_value; /* regression gold */
    size_t first, n;  /* its instances */
    char *group;      /* AX-g: pair_id; ReCoRD: gold answers separated by '\x1f' */
} bert__example;

typedef struct bert__dataset {
    const struct bert__task *task;
    int test;
    bert__example *ex;
    size_t n_ex, cap_ex;
    bert__instance *in;
    size_t n_in, cap_in;
} bert__dataset;

typedef struct bert__tsv {
    int header;                   /* the first line is a header */
    int a, b, label, idx;         /* 0-based columns; -1 none (dev index = the row number) */
    int ncols;                    /* columns a row must have at least */
} bert__tsv;

typedef struct bert__task {
    const char *name;
    int superglue;
    bert__kind kind;
    const char *const *labels; /* as written in the task's files and submissions */
    size_t n_labels;
    const char *dev, *test;    /* paths under the task collection's folder */
    const char *submission;    /* leaderboard / submission file name */
    bert__tsv dev_tsv, test_tsv; /* GLUE layouts */
    bert_status (*parse)(const struct bert__task *t, const char *data, size_t len, const char *path, int test,
                         bert__dataset *ds, char *err, size_t err_size);
} bert__task;

const bert__task *bert__task_find(const char *name);
const bert__task *bert__task_at(size_t i); /* NULL past the end */

/* Reads split (test = 0: dev/val, 1: test) from root (the glue/ or superglue/ folder). */
bert_status bert__dataset_read(const bert__task *t, const char *root, int test, bert__dataset *ds, char *err,
                               size_t err_size);
void bert__dataset_free(bert__dataset *ds);

/* the readers on bytes in memory (path only names them in messages); ds must be zeroed with its task set */
bert_status bert__glue_parse(const bert__task *t, const char *data, size_t len, const char *path, int test,
                             bert__dataset *ds, char *err, size_t err_size);
bert_status bert__superglue_parse(const bert__task *t, const char *data, size_t len, const char *path, int test,
                                  bert__dataset *ds, char *err, size_t err_size);
/* helpers for readers */
bert__example *bert__ds_add_example(bert__dataset *ds, const char *id, size_t id_len);
bert__instance *bert__ds_add_instance(bert__dataset *ds, const char *a, size_t a_len, const char *b, size_t b_len);
int32_t bert__task_label(const bert__task *t, const char *s, size_t n);

#endif
