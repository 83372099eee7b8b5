/* The task table: every GLUE and SuperGLUE task, its files, layout, labels and submission file. */
#include <string.h>

#include "dataset.h"

static const char *const binary[] = {"0", "1"};
static const char *const nli3[] = {"entailment", "neutral", "contradiction"};
static const char *const nli2[] = {"entailment", "not_entailment"};
static const char *const boolean[] = {"false", "true"};
static const char *const none[] = {"value"};

#define NO_TSV {0, -1, -1, -1, -1, 0}

/* GLUE layouts as download_glue_data.py writes them (0-based columns). */
static const bert__task tasks[] = {
    {"CoLA", 0, BERT__K_CLASSIFY, binary, 2, "CoLA/dev.tsv", "CoLA/test.tsv", "CoLA.tsv",
     {0, 3, -1, 1, -1, 4}, {1, 1, -1, -1, 0, 2}, bert__glue_parse},
    {"SST-2", 0, BERT__K_CLASSIFY, binary, 2, "SST-2/dev.tsv", "SST-2/test.tsv", "SST-2.tsv",
     {1, 0, -1, 1, -1, 2}, {1, 1, -1, -1, 0, 2}, bert__glue_parse},
    {"MRPC", 0, BERT__K_CLASSIFY, binary, 2, "MRPC/dev.tsv", "MRPC/test.tsv", "MRPC.tsv",
     {1, 3, 4, 0, -1, 5}, {1, 3, 4, -1, 0, 5}, bert__glue_parse},
    {"STS-B", 0, BERT__K_REGRESS, none, 1, "STS-B/dev.tsv", "STS-B/test.tsv", "STS-B.tsv",
     {1, 7, 8, 9, -1, 10}, {1, 7, 8, -1, 0, 9}, bert__glue_parse},
    {"QQP", 0, BERT__K_CLASSIFY, binary, 2, "QQP/dev.tsv", "QQP/test.tsv", "QQP.tsv",
     {1, 3, 4, 5, -1, 6}, {1, 1, 2, -1, 0, 3}, bert__glue_parse},
    {"MNLI-m", 0, BERT__K_CLASSIFY, nli3, 3, "MNLI/dev_matched.tsv", "MNLI/test_matched.tsv", "MNLI-m.tsv",
     {1, 8, 9, -2, -1, 10}, {1, 8, 9, -1, 0, 10}, bert__glue_parse},
    {"MNLI-mm", 0, BERT__K_CLASSIFY, nli3, 3, "MNLI/dev_mismatched.tsv", "MNLI/test_mismatched.tsv", "MNLI-mm.tsv",
     {1, 8, 9, -2, -1, 10}, {1, 8, 9, -1, 0, 10}, bert__glue_parse},
    {"QNLI", 0, BERT__K_CLASSIFY, nli2, 2, "QNLI/dev.tsv", "QNLI/test.tsv", "QNLI.tsv",
     {1, 1, 2, 3, -1, 4}, {1, 1, 2, -1, 0, 3}, bert__glue_parse},
    {"RTE", 0, BERT__K_CLASSIFY, nli2, 2, "RTE/dev.tsv", "RTE/test.tsv", "RTE.tsv",
     {1, 1, 2, 3, -1, 4}, {1, 1, 2, -1, 0, 3}, bert__glue_parse},
    {"WNLI", 0, BERT__K_CLASSIFY, binary, 2, "WNLI/dev.tsv", "WNLI/test.tsv", "WNLI.tsv",
     {1, 1, 2, 3, -1, 4}, {1, 1, 2, -1, 0, 3}, bert__glue_parse},
    /* AX: the diagnostic set, scored with an MNLI model; its labelled copy serves as "dev" */
    {"AX", 0, BERT__K_CLASSIFY, nli3, 3, "diagnostic/diagnostic-full.tsv", "diagnostic/diagnostic.tsv", "AX.tsv",
     {1, 5, 6, 7, -1, 8}, {1, 1, 2, -1, 0, 3}, bert__glue_parse},

    {"BoolQ", 1, BERT__K_CLASSIFY, boolean, 2, "BoolQ/val.jsonl", "BoolQ/test.jsonl", "BoolQ.jsonl", NO_TSV, NO_TSV,
     bert__superglue_parse},
    {"CB", 1, BERT__K_CLASSIFY, nli3, 3, "CB/val.jsonl", "CB/test.jsonl", "CB.jsonl", NO_TSV, NO_TSV,
     bert__superglue_parse},
    {"COPA", 1, BERT__K_CHOICE, binary, 2, "COPA/val.jsonl", "COPA/test.jsonl", "COPA.jsonl", NO_TSV, NO_TSV,
     bert__superglue_parse},
    {"MultiRC", 1, BERT__K_ANSWER, binary, 2, "MultiRC/val.jsonl", "MultiRC/test.jsonl", "MultiRC.jsonl", NO_TSV,
     NO_TSV, bert__superglue_parse},
    {"ReCoRD", 1, BERT__K_CANDIDATE, binary, 2, "ReCoRD/val.jsonl", "ReCoRD/test.jsonl", "ReCoRD.jsonl", NO_TSV,
     NO_TSV, bert__superglue_parse},
    {"RTE-SG", 1, BERT__K_CLASSIFY, nli2, 2, "RTE/val.jsonl", "RTE/test.jsonl", "RTE.jsonl", NO_TSV, NO_TSV,
     bert__superglue_parse},
    {"WiC", 1, BERT__K_CLASSIFY, boolean, 2, "WiC/val.jsonl", "WiC/test.jsonl", "WiC.jsonl", NO_TSV, NO_TSV,
     bert__superglue_parse},
    {"WSC", 1, BERT__K_CLASSIFY, boolean, 2, "WSC/val.jsonl", "WSC/test.jsonl", "WSC.jsonl", NO_TSV, NO_TSV,
     bert__superglue_parse},
    /* the diagnostics carry labels in their only file: "dev" and "test" are the same file */
    {"AX-b", 1, BERT__K_CLASSIFY, nli2, 2, "AX-b/AX-b.jsonl", "AX-b/AX-b.jsonl", "AX-b.jsonl", NO_TSV, NO_TSV,
     bert__superglue_parse},
    {"AX-g", 1, BERT__K_CLASSIFY, nli2, 2, "AX-g/AX-g.jsonl", "AX-g/AX-g.jsonl", "AX-g.jsonl", NO_TSV, NO_TSV,
     bert__superglue_parse},
};

const bert__task *bert__task_at(size_t i)
{
    return i < sizeof tasks / sizeof tasks[0] ? &tasks[i] : NULL;
}

const bert__task *bert__task_find(const char *name)
{
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++)
        if (!strcmp(tasks[i].name, name))
            return &tasks[i];
    return NULL;
}

int32_t bert__task_label(const bert__task *t, const char *s, size_t n)
{
    for (size_t i = 0; i < t->n_labels; i++)
        if (strlen(t->labels[i]) == n && !memcmp(t->labels[i], s, n))
            return (int32_t)i;
    return -1;
}

void bert__dataset_free(bert__dataset *ds)
{
    for (size_t i = 0; i < ds->n_ex; i++) {
        bert__free(ds->ex[i].id);
        bert__free(ds->ex[i].group);
    }
    for (size_t i = 0; i < ds->n_in; i++) {
        bert__free(ds->in[i].a);
        bert__free(ds->in[i].b);
        bert__free(ds->in[i].candidate);
    }
    bert__free(ds->ex);
    bert__free(ds->in);
    memset(ds, 0, sizeof *ds);
}

bert__example *bert__ds_add_example(bert__dataset *ds, const char *id, size_t id_len)
{
    if (bert__grow((void **)&ds->ex, &ds->cap_ex, ds->n_ex + 1, sizeof *ds->ex) != BERT_OK)
        return NULL;
    bert__example *e = &ds->ex[ds->n_ex];
    memset(e, 0, sizeof *e);
    e->gold = -1;
    e->first = ds->n_in;
    e->id = bert__strndup(id, id_len);
    if (!e->id)
        return NULL;
    ds->n_ex++;
    return e;
}

bert__instance *bert__ds_add_instance(bert__dataset *ds, const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (bert__grow((void **)&ds->in, &ds->cap_in, ds->n_in + 1, sizeof *ds->in) != BERT_OK)
        return NULL;
    bert__instance *x = &ds->in[ds->n_in];
    memset(x, 0, sizeof *x);
    x->gold = -1;
    x->example = ds->n_ex - 1;
    x->a = bert__strndup(a, a_len);
    x->b = b ? bert__strndup(b, b_len) : NULL;
    if (!x->a || (b && !x->b)) {
        bert__free(x->a);
        bert__free(x->b);
        return NULL;
    }
    ds->n_in++;
    ds->ex[ds->n_ex - 1].n++;
    return x;
}

bert_status bert__dataset_read(const bert__task *t, const char *root, int test, bert__dataset *ds, char *err,
                               size_t err_size)
{
    memset(ds, 0, sizeof *ds);
    ds->task = t;
    ds->test = test;
    char *path = bert__path_join(root, test ? t->test : t->dev);
    if (!path)
        return bert__errbuf_set(err, err_size, BERT_E_NOMEM, "allocating a path");
    char *data = NULL;
    size_t len = 0;
    bert_status st = bert__read_file(path, &data, &len, err, err_size);
    if (st == BERT_OK)
        st = t->parse(t, data, len, path, test, ds, err, err_size);
    /* a split with no example would print metrics of nothing or an empty leaderboard file */
    if (st == BERT_OK && ds->n_ex == 0)
        st = bert__errbuf_set(err, err_size, BERT_E_FORMAT, "%s: no examples (%s)", path,
                              len == 0 ? "the file is empty" : "no data rows");
    bert__free(data);
    bert__free(path);
    if (st != BERT_OK)
        bert__dataset_free(ds);
    return st;
}
