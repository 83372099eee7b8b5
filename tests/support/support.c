#define _XOPEN_SOURCE 700 /* nftw */
#include "support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

const char *test_shared_dir(void)
{
    const char *e = getenv("BERT_SHARED_DIR");
    return e && *e ? e : BERT_TEST_SHARED_DIR;
}

const char *test_shared_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", test_shared_dir(), rel);
    if (access(buf, R_OK) != 0) {
        fprintf(stderr, "missing fixture: %s (set BERT_SHARED_DIR to the shared folder)\n", buf);
        exit(1);
    }
    return buf;
}

json_t *test_read_jsonl(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    json_t *arr = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t lineno = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        json_error_t err;
        json_t *v = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &err);
        if (!v) {
            fprintf(stderr, "%s:%zu: %s\n", path, lineno, err.text);
            exit(1);
        }
        json_array_append_new(arr, v);
    }
    free(line);
    fclose(f);
    return arr;
}

json_t *test_read_json(const char *path)
{
    json_error_t err;
    json_t *v = json_load_file(path, 0, &err);
    if (!v) {
        fprintf(stderr, "%s:%d: %s\n", path, err.line, err.text);
        exit(1);
    }
    return v;
}

static char tmp_dir[256];
static pid_t tmp_owner;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0)
        fprintf(stderr, "warning: cannot remove %s\n", path);
    return 0;
}

/* Every test process used to leave its directory behind: hundreds of them, gigabytes after a few
 * days of runs. Only the process that made it removes it (a child of popen never runs this, but a
 * forked one would). */
static void remove_tmpdir(void)
{
    if (tmp_dir[0] && getpid() == tmp_owner && !getenv("BERT_KEEP_TMP"))
        nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *test_tmpdir(void)
{
    if (!tmp_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(tmp_dir, sizeof tmp_dir, "%s/bert-test-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmp_dir)) {
            fprintf(stderr, "mkdtemp %s failed\n", tmp_dir);
            exit(1);
        }
        tmp_owner = getpid();
        if (atexit(remove_tmpdir) != 0) {
            fprintf(stderr, "atexit failed\n");
            exit(1);
        }
    }
    return tmp_dir;
}

const char *test_write_file(const char *dir, const char *name, const void *data, size_t len)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    return path;
}

int test_fill_batch(json_t *rows, size_t start, size_t n, size_t cap, int32_t *ids, int32_t *types, uint8_t *mask,
                    size_t *T)
{
    size_t t = 0;
    for (size_t r = 0; r < n; r++) {
        size_t len = json_array_size(json_object_get(json_array_get(rows, start + r), "input_ids"));
        t = len > t ? len : t;
    }
    if (n == 0 || t * n > cap)
        return -1;
    memset(ids, 0, cap * sizeof *ids);
    memset(types, 0, cap * sizeof *types);
    memset(mask, 0, cap);
    for (size_t r = 0; r < n; r++) {
        json_t *row = json_array_get(rows, start + r);
        json_t *ji = json_object_get(row, "input_ids"), *jt = json_object_get(row, "token_type_ids");
        for (size_t i = 0; i < json_array_size(ji); i++) {
            ids[r * t + i] = (int32_t)json_integer_value(json_array_get(ji, i));
            types[r * t + i] = jt ? (int32_t)json_integer_value(json_array_get(jt, i)) : 0;
            mask[r * t + i] = 1;
        }
    }
    *T = t;
    return 0;
}

bert_model *test_load_model(const char *name)
{
    char dir[1024], err[512];
    snprintf(dir, sizeof dir, "%s/models/%s", test_shared_dir(), name);
    bert_model *m = NULL;
    if (bert_model_load(dir, NULL, &m, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return m;
}

void test_run_open(test_run *t, const bert_model *m, const bert_head_params *hp)
{
    char err[512] = "";
    memset(t, 0, sizeof *t);
    if (bert_ctx_new(m, NULL, &t->ctx, err, sizeof err) != BERT_OK ||
        bert_batch_new(&t->b, err, sizeof err) != BERT_OK || bert_result_new(&t->res, err, sizeof err) != BERT_OK ||
        (hp && bert_head_new(m, hp, &t->h, err, sizeof err) != BERT_OK)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
}

void test_run_close(test_run *t)
{
    bert_head_free(t->h);
    bert_result_free(t->res);
    bert_batch_free(t->b);
    bert_ctx_free(t->ctx);
    memset(t, 0, sizeof *t);
}
