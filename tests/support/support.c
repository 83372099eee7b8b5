#define _POSIX_C_SOURCE 200809L
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

const char *test_tmpdir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/bert-test-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "mkdtemp failed\n");
            exit(1);
        }
    }
    return dir;
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
