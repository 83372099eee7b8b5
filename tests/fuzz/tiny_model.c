/* See tiny_model.h. */
#define _POSIX_C_SOURCE 200809L
#include "tiny_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct spec {
    char name[96];
    size_t rows, cols; /* cols 0: a vector */
    int ones;          /* LayerNorm weights */
} spec;

enum { MAX_SPECS = 128 };

static size_t add(spec *s, size_t n, const char *name, size_t rows, size_t cols, int ones)
{
    if (n >= MAX_SPECS)
        return n;
    snprintf(s[n].name, sizeof s[n].name, "%s", name);
    s[n].rows = rows;
    s[n].cols = cols;
    s[n].ones = ones;
    return n + 1;
}

/* name.weight [out, in] and name.bias [out] */
static size_t linear(spec *s, size_t n, const char *name, size_t out, size_t in)
{
    char w[96], b[96];
    snprintf(w, sizeof w, "%s.weight", name);
    snprintf(b, sizeof b, "%s.bias", name);
    return add(s, add(s, n, w, out, in, 0), b, out, 0, 0);
}

static size_t layernorm(spec *s, size_t n, const char *name, size_t h)
{
    char w[96], b[96];
    snprintf(w, sizeof w, "%s.LayerNorm.weight", name);
    snprintf(b, sizeof b, "%s.LayerNorm.bias", name);
    return add(s, add(s, n, w, h, 0, 1), b, h, 0, 0);
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = a ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t k;
    int ok = a && b;
    while (ok && (k = fread(buf, 1, sizeof buf, a)) > 0)
        ok = fwrite(buf, 1, k, b) == k;
    if (a)
        fclose(a);
    if (b && fclose(b) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

int fuzz_tiny_model(const char *dir, const char *arch, size_t V, size_t H, size_t L, const char *const *labels,
                    const char *vocab, uint64_t seed)
{
    const size_t I = 2 * H, P = 512;
    size_t n_labels = 0;
    while (labels && labels[n_labels])
        n_labels++;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "{\"architectures\":[\"%s\"],\"model_type\":\"bert\",\"hidden_size\":%zu,\"num_hidden_layers\":%zu,"
            "\"num_attention_heads\":2,\"intermediate_size\":%zu,\"vocab_size\":%zu,\"max_position_embeddings\":%zu,"
            "\"type_vocab_size\":2,\"hidden_act\":\"gelu\",\"layer_norm_eps\":1e-12,\"is_decoder\":%s",
            arch, H, L, I, V, P, strstr(arch, "LMHead") ? "true" : "false");
    if (n_labels) {
        fputs(",\"id2label\":{", f);
        for (size_t i = 0; i < n_labels; i++)
            fprintf(f, "%s\"%zu\":\"%s\"", i ? "," : "", i, labels[i]);
        fputc('}', f);
    }
    fputs("}\n", f);
    if (fclose(f) != 0)
        return -1;

    static spec s[MAX_SPECS];
    const int lm = strstr(arch, "LM") != NULL, cls = strstr(arch, "Classification") != NULL;
    size_t n = 0;
    n = add(s, n, "bert.embeddings.word_embeddings.weight", V, H, 0);
    n = add(s, n, "bert.embeddings.position_embeddings.weight", P, H, 0);
    n = add(s, n, "bert.embeddings.token_type_embeddings.weight", 2, H, 0);
    n = layernorm(s, n, "bert.embeddings", H);
    for (size_t l = 0; l < L; l++) {
        char p[96];
        static const char *const qkv[] = {"query", "key", "value"};
        for (int k = 0; k < 3; k++) {
            snprintf(p, sizeof p, "bert.encoder.layer.%zu.attention.self.%s", l, qkv[k]);
            n = linear(s, n, p, H, H);
        }
        snprintf(p, sizeof p, "bert.encoder.layer.%zu.attention.output.dense", l);
        n = linear(s, n, p, H, H);
        snprintf(p, sizeof p, "bert.encoder.layer.%zu.attention.output", l);
        n = layernorm(s, n, p, H);
        snprintf(p, sizeof p, "bert.encoder.layer.%zu.intermediate.dense", l);
        n = linear(s, n, p, I, H);
        snprintf(p, sizeof p, "bert.encoder.layer.%zu.output.dense", l);
        n = linear(s, n, p, H, I);
        snprintf(p, sizeof p, "bert.encoder.layer.%zu.output", l);
        n = layernorm(s, n, p, H);
    }
    if (!lm)
        n = linear(s, n, "bert.pooler.dense", H, H);
    if (cls)
        n = linear(s, n, "classifier", n_labels, H);
    if (lm) {
        n = linear(s, n, "cls.predictions.transform.dense", H, H);
        n = layernorm(s, n, "cls.predictions.transform", H);
        n = add(s, n, "cls.predictions.bias", V, 0, 0);
    }

    /* the header, then the data in the same order */
    size_t cap = 256 + n * 160, len = 0, off = 0;
    char *h = malloc(cap);
    if (!h)
        return -1;
    len += (size_t)snprintf(h, cap, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (size_t i = 0; i < n; i++) {
        const size_t bytes = 4 * s[i].rows * (s[i].cols ? s[i].cols : 1);
        len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%zu", s[i].name, s[i].rows);
        if (s[i].cols)
            len += (size_t)snprintf(h + len, cap - len, ",%zu", s[i].cols);
        len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%zu,%zu]}", off, off + bytes);
        off += bytes;
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    while (len % 8)
        h[len++] = ' ';
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    f = fopen(path, "wb");
    if (!f) {
        free(h);
        return -1;
    }
    const uint64_t hl = len;
    int ok = fwrite(&hl, 8, 1, f) == 1 && fwrite(h, 1, len, f) == len;
    free(h);
    uint64_t x = seed;
    for (size_t i = 0; i < n && ok; i++) {
        const size_t count = s[i].rows * (s[i].cols ? s[i].cols : 1);
        for (size_t k = 0; k < count && ok; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            const float v = s[i].ones ? 1.f : (float)((double)(x >> 40) / (double)(1u << 24) - 0.5) * 0.5f;
            ok = fwrite(&v, 4, 1, f) == 1;
        }
    }
    if (fclose(f) != 0 || !ok)
        return -1;
    if (vocab) {
        snprintf(path, sizeof path, "%s/vocab.txt", dir);
        return copy_file(vocab, path);
    }
    return 0;
}

int fuzz_tiny_dir(const char *target, char *dir, size_t cap)
{
    snprintf(dir, cap, "/dev/shm/%s.%d", target, (int)getpid());
    if (mkdir(dir, 0700) == 0)
        return 0;
    snprintf(dir, cap, "/tmp/%s.%d", target, (int)getpid());
    return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

void fuzz_tiny_remove(const char *dir)
{
    static const char *const files[] = {"config.json", "model.safetensors", "vocab.txt"};
    char p[512];
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[k]);
        unlink(p);
    }
    rmdir(dir);
}
