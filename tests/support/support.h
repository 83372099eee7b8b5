/* Test helpers: where the shared fixtures live, and reading JSON/JSONL files with jansson. */
#ifndef BERT_TEST_SUPPORT_H
#define BERT_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <bert/bert.h>

/* $BERT_SHARED_DIR, else the compiled-in default (the source tree's ../shared). */
const char *test_shared_dir(void);
/* test_shared_dir() + "/" + rel, in a static buffer (one at a time). Fails the test (exit 1) when
 * the file does not exist, naming the path tried: a missing fixture never skips. */
const char *test_shared_path(const char *rel);
/* Reads a JSONL file into a JSON array (caller decrefs). Fails the test on any error. */
json_t *test_read_jsonl(const char *path);
json_t *test_read_json(const char *path);
/* Rows [start, start + n) of a reference JSONL array ("input_ids", "token_type_ids") as one
 * right-padded batch: ids, types and mask hold n x *T values (cap: the buffers' values); returns
 * -1 when a row is longer than cap / n allows. */
int test_fill_batch(json_t *rows, size_t start, size_t n, size_t cap, int32_t *ids, int32_t *types, uint8_t *mask,
                    size_t *T);
/* A temporary directory for this test process under $TMPDIR (default /tmp), created on the first
 * call and removed with its contents when the process exits (kept when $BERT_KEEP_TMP is set, to
 * look at what a failing test wrote). */
const char *test_tmpdir(void);
/* Writes len bytes to dir/name; returns the full path in a static buffer. */
const char *test_write_file(const char *dir, const char *name, const void *data, size_t len);

/* ../shared/models/NAME loaded with default params; exits 1 with the library's message when it
 * cannot be. */
bert_model *test_load_model(const char *name);

/* A context, batch and result for model m, and a head made with hp (NULL: none); exits 1 with the
 * library's message on a failure. test_run_close frees what test_run_open made. */
typedef struct test_run {
    bert_ctx *ctx;
    bert_batch *b;
    bert_result *res;
    bert_head *h;
} test_run;
void test_run_open(test_run *t, const bert_model *m, const bert_head_params *hp);
void test_run_close(test_run *t);

#endif
