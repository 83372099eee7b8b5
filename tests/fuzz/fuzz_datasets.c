/* libFuzzer target: the GLUE TSV and SuperGLUE JSONL readers (byte 0 picks the task and split). */
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n_tasks = 0;
    while (bert__task_at(n_tasks))
        n_tasks++;
    const bert__task *t = bert__task_at((data[0] >> 1) % n_tasks);
    const int test = data[0] & 1;
    bert__dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.task = t;
    ds.test = test;
    char err[512] = "";
    bert_status st =
        t->superglue
            ? bert__superglue_parse(t, (const char *)data + 1, size - 1, "fuzz.jsonl", test, &ds, err, sizeof err)
            : bert__glue_parse(t, (const char *)data + 1, size - 1, "fuzz.tsv", test, &ds, err, sizeof err);
    if (st == BERT_OK) {
        for (size_t i = 0; i < ds.n_ex; i++)
            if (ds.ex[i].gold >= (int32_t)t->n_labels || ds.ex[i].first + ds.ex[i].n > ds.n_in)
                abort();
    } else if (!err[0]) {
        abort();
    }
    bert__dataset_free(&ds);
    return 0;
}
