#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

bert_status bert__read_file(const char *path, char **data, size_t *len, char *errbuf, size_t errbuf_size)
{
    bert_status st = BERT_OK;
    FILE *f = NULL;
    char *buf = NULL;
    struct stat sb;

    *data = NULL;
    *len = 0;
    f = fopen(path, "rb");
    if (!f)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_IO, "%s: not a regular file", path);
        goto fail;
    }
    size_t size = (size_t)sb.st_size;
    buf = bert__malloc(size + 1);
    if (!buf) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating %zu bytes", path, size + 1);
        goto fail;
    }
    size_t got = fread(buf, 1, size, f);
    if (got != size || ferror(f)) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_IO, "%s: short read (%zu of %zu bytes)", path, got, size);
        goto fail;
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    buf = NULL;
fail:
    if (f)
        fclose(f);
    bert__free(buf);
    return st;
}

char *bert__path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = bert__malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    size_t n = a;
    if (a && dir[a - 1] != '/')
        p[n++] = '/';
    memcpy(p + n, name, b + 1);
    return p;
}
