/* libFuzzer target: a whole checkpoint folder through bert_model_load, where config.json and the
 * weights are checked against each other. The input drives a small model's config (layers, sizes,
 * architecture, activation, one field made wrong or left out), the layout of its weights (one
 * model.safetensors, or two shards and a model.safetensors.index.json that may point a tensor to
 * the wrong shard or to a missing file) and each tensor: kept, dropped, renamed, given a wrong
 * shape, stored as F32, F16 or BF16 (converted at load) with values that may be NaN or infinite.
 * The folder is written under /dev/shm. Every refusal must carry a message and a documented status;
 * every model accepted must agree with its config and run one batch (BERT_OK, or BERT_E_NUMERIC
 * for non-finite results). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bert/bert.h>

#include "fuzz.h"

typedef struct in {
    const uint8_t *d;
    size_t n, at;
} in;

static uint8_t next(in *r)
{
    return r->n ? r->d[r->at++ % r->n] : 0;
}

typedef struct tensor {
    char name[96];
    size_t shape[2], ndim;
    int dtype; /* 0 F32, 1 F16, 2 BF16 */
    int shard;
    unsigned char *data;
    size_t nbytes;
} tensor;

enum { MAX_T = 64 };

static size_t n_t;
static tensor ts[MAX_T];

static void add(const char *prefix, const char *name, size_t rows, size_t cols)
{
    if (n_t >= MAX_T)
        return;
    tensor *t = &ts[n_t++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s%s", prefix, name);
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->ndim = cols ? 2 : 1;
}

static void add_linear(const char *prefix, const char *name, size_t out, size_t in_)
{
    char n[96];
    snprintf(n, sizeof n, "%s.weight", name);
    add(prefix, n, out, in_);
    snprintf(n, sizeof n, "%s.bias", name);
    add(prefix, n, out, 0);
}

static void add_ln(const char *prefix, const char *name, size_t h)
{
    char n[96];
    snprintf(n, sizeof n, "%s.LayerNorm.weight", name);
    add(prefix, n, h, 0);
    snprintf(n, sizeof n, "%s.LayerNorm.bias", name);
    add(prefix, n, h, 0);
}

/* A float's bits from the input: mostly small values, sometimes any bit pattern (NaN, inf). */
static void fill(tensor *t, in *r, int raw)
{
    const size_t n = t->shape[0] * (t->ndim == 2 ? t->shape[1] : 1);
    const size_t es = t->dtype == 0 ? 4 : 2;
    t->nbytes = n * es;
    t->data = malloc(t->nbytes ? t->nbytes : 1);
    if (!t->data)
        abort();
    for (size_t i = 0; i < n; i++) {
        const float v = (float)((int)next(r) - 128) / 256.0f;
        uint32_t bits;
        memcpy(&bits, &v, 4);
        if (raw && (next(r) & 7) == 0)
            bits = (uint32_t)next(r) << 24 | (uint32_t)next(r) << 16 | (uint32_t)next(r) << 8 | next(r);
        if (t->dtype == 0) {
            memcpy(t->data + 4 * i, &bits, 4);
        } else {
            /* F16 from the F32 bits (truncating: values stay small), BF16 the top half */
            uint16_t h;
            if (t->dtype == 2) {
                h = (uint16_t)(bits >> 16);
            } else {
                const uint32_t sign = bits >> 31, exp = (bits >> 23) & 0xff, man = bits & 0x7fffff;
                const int e = (int)exp - 127 + 15;
                h = (uint16_t)(sign << 15 | (exp == 0xff ? 0x7c00u | (man ? 0x200u : 0u)
                                             : e <= 0    ? 0u
                                             : e >= 31   ? 0x7c00u
                                                         : (uint32_t)e << 10 | man >> 13));
            }
            memcpy(t->data + 2 * i, &h, 2);
        }
    }
}

static const char *const dtypes[] = {"F32", "F16", "BF16"};

/* Writes the tensors of shard `shard` (-1: all) as a safetensors file. */
static int write_safetensors(const char *path, int shard)
{
    size_t cap = 64 + n_t * 200, len = 0, off = 0;
    char *h = malloc(cap);
    if (!h)
        abort();
    len += (size_t)snprintf(h + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (size_t i = 0; i < n_t; i++) {
        if (shard >= 0 && ts[i].shard != shard)
            continue;
        len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%zu", ts[i].name,
                                dtypes[ts[i].dtype], ts[i].shape[0]);
        if (ts[i].ndim == 2)
            len += (size_t)snprintf(h + len, cap - len, ",%zu", ts[i].shape[1]);
        len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%zu,%zu]}", off, off + ts[i].nbytes);
        off += ts[i].nbytes;
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    while (len % 8)
        h[len++] = ' ';
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(h);
        return -1;
    }
    const uint64_t hl = len;
    fwrite(&hl, 8, 1, f);
    fwrite(h, 1, len, f);
    for (size_t i = 0; i < n_t; i++)
        if (shard < 0 || ts[i].shard == shard)
            fwrite(ts[i].data, 1, ts[i].nbytes, f);
    free(h);
    return fclose(f);
}

static char dir[64];
static const char *const files[] = {"config.json", "model.safetensors", "model.safetensors.index.json",
                                    "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};

static void path_in(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

static void remove_folder(void)
{
    char p[128];
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        path_in(p, sizeof p, files[k]);
        unlink(p);
    }
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > 4096)
        return 0;
    if (!dir[0]) { /* memory-backed where there is /dev/shm; removed at exit */
        snprintf(dir, sizeof dir, "/dev/shm/fuzz_weights.%d", (int)getpid());
        if (mkdir(dir, 0700) != 0) {
            snprintf(dir, sizeof dir, "/tmp/fuzz_weights.%d", (int)getpid());
            if (mkdir(dir, 0700) != 0)
                abort();
        }
        atexit(remove_folder);
    }
    in r = {data, size, 0};
    const uint8_t b0 = next(&r), b1 = next(&r), b2 = next(&r);
    const size_t L = 1 + (b0 & 1), H = b0 & 2 ? 8 : 4, A = b0 & 4 ? 2 : 1, I = b0 & 8 ? 16 : 8;
    const size_t V = 8 + (size_t)((b0 >> 4) & 7), P = 8, T = 2;
    static const char *const archs[] = {"BertModel", "BertForSequenceClassification", "BertForMaskedLM",
                                        "BertForTokenClassification"};
    const int arch = b1 & 3;
    const char *prefix = arch && (b1 & 4) ? "bert." : "";
    const int layout =
        (b1 >> 3) & 3; /* 0 one file; 1 two shards; 2 an index entry to the wrong shard; 3 a missing shard */
    const int raw = (b1 >> 5) & 1;
    const int prec = (b2 >> 4) % 3, mapped = (b2 >> 6) & 1;
    static const char *const acts[] = {"gelu", "relu", "gelu_new", "swish"};

    /* config.json, with one field made wrong or left out (b2 & 7) */
    const int cm = b2 & 7;
    char cfg[1024];
    int cl = snprintf(cfg, sizeof cfg, "{\"architectures\":[\"%s\"],\"model_type\":\"bert\"", archs[arch]);
#define FIELD(name, value, bad)                                                                          \
    do {                                                                                                 \
        if (cm != (bad) || (bad) == 0)                                                                   \
            cl += snprintf(cfg + cl, sizeof cfg - (size_t)cl, ",\"" name "\":%zu", (size_t)(value));     \
        else if (next(&r) & 1)                                                                           \
            cl += snprintf(cfg + cl, sizeof cfg - (size_t)cl, ",\"" name "\":%zu", (size_t)(value) + 1); \
    } while (0)
    FIELD("hidden_size", H, 1);
    FIELD("num_hidden_layers", L, 2);
    FIELD("vocab_size", V, 3);
    FIELD("num_attention_heads", cm == 4 ? 3 : A, 0);
    FIELD("intermediate_size", I, 5);
    FIELD("max_position_embeddings", P, 6);
    FIELD("type_vocab_size", T, 7);
#undef FIELD
    cl += snprintf(cfg + cl, sizeof cfg - (size_t)cl, ",\"hidden_act\":\"%s\",\"layer_norm_eps\":1e-12",
                   acts[(b2 >> 3) & 1 ? next(&r) % 4 : 0]);
    if (arch == 1 || arch == 3)
        cl += snprintf(cfg + cl, sizeof cfg - (size_t)cl, ",\"id2label\":{\"0\":\"A\",\"1\":\"B\"%s}",
                       arch == 3 ? ",\"2\":\"C\"" : "");
    snprintf(cfg + cl, sizeof cfg - (size_t)cl, "}");

    /* the tensors */
    n_t = 0;
    const char *bp = arch ? prefix : "";
    add(bp, "embeddings.word_embeddings.weight", V, H);
    add(bp, "embeddings.position_embeddings.weight", P, H);
    add(bp, "embeddings.token_type_embeddings.weight", T, H);
    add_ln(bp, "embeddings", H);
    for (size_t l = 0; l < L; l++) {
        char n[96];
        static const char *const qkv[] = {"query", "key", "value"};
        for (int k = 0; k < 3; k++) {
            snprintf(n, sizeof n, "encoder.layer.%zu.attention.self.%s", l, qkv[k]);
            add_linear(bp, n, H, H);
        }
        snprintf(n, sizeof n, "encoder.layer.%zu.attention.output.dense", l);
        add_linear(bp, n, H, H);
        snprintf(n, sizeof n, "encoder.layer.%zu.attention.output", l);
        add_ln(bp, n, H);
        snprintf(n, sizeof n, "encoder.layer.%zu.intermediate.dense", l);
        add_linear(bp, n, I, H);
        snprintf(n, sizeof n, "encoder.layer.%zu.output.dense", l);
        add_linear(bp, n, H, I);
        snprintf(n, sizeof n, "encoder.layer.%zu.output", l);
        add_ln(bp, n, H);
    }
    if (arch != 2)
        add_linear(bp, "pooler.dense", H, H);
    if (arch == 1)
        add_linear("", "classifier", 2, H);
    if (arch == 3)
        add_linear("", "classifier", 3, H);
    if (arch == 2) {
        add_linear("", "cls.predictions.transform.dense", H, H);
        add_ln("", "cls.predictions.transform", H);
        add("", "cls.predictions.bias", V, 0);
        if (next(&r) & 1)
            add("", "cls.predictions.decoder.weight", V, H);
    }
    /* each tensor's fate: kept (most), dropped, a wrong shape, renamed; its dtype and shard */
    for (size_t i = 0; i < n_t; i++) {
        const uint8_t m = next(&r);
        const int fate = (m & 15) < 13 ? 0 : (m & 15) - 12;
        if (fate == 1) {
            ts[i] = ts[--n_t];
            i--;
            continue;
        }
        if (fate == 2)
            ts[i].shape[ts[i].ndim - 1] += 1;
        if (fate == 3)
            strcat(ts[i].name, "_");
        ts[i].dtype = (m >> 4) % 3;
        ts[i].shard = (m >> 6) & 1;
        fill(&ts[i], &r, raw);
    }

    /* the folder */
    char p[128];
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        path_in(p, sizeof p, files[k]);
        unlink(p);
    }
    path_in(p, sizeof p, "config.json");
    FILE *f = fopen(p, "w");
    if (!f)
        abort();
    fputs(cfg, f);
    fclose(f);
    if (layout == 0) {
        path_in(p, sizeof p, "model.safetensors");
        write_safetensors(p, -1);
    } else {
        for (int s = 0; s < 2; s++) {
            if (layout == 3 && s == 1)
                continue;
            path_in(p, sizeof p, files[3 + s]);
            write_safetensors(p, s);
        }
        path_in(p, sizeof p, "model.safetensors.index.json");
        f = fopen(p, "w");
        if (!f)
            abort();
        fputs("{\"metadata\":{},\"weight_map\":{", f);
        for (size_t i = 0; i < n_t; i++) {
            const int s = layout == 2 && i == n_t / 2 ? !ts[i].shard : ts[i].shard;
            fprintf(f, "%s\"%s\":\"%s\"", i ? "," : "", ts[i].name, files[3 + s]);
        }
        fputs("}}", f);
        fclose(f);
    }
    for (size_t i = 0; i < n_t; i++)
        free(ts[i].data);

    /* the load: a refusal says why, with a documented status */
    bert_model_params mp = bert_model_default_params();
    mp.precision = (bert_precision)prec;
    mp.weights = mapped ? BERT_WEIGHTS_MAPPED : BERT_WEIGHTS_PACKED;
    bert_model *m = NULL;
    char err[1024] = "";
    const bert_status st = bert_model_load(dir, &mp, &m, err, sizeof err);
    if (getenv("FUZZ_WEIGHTS_DEBUG"))
        fprintf(stderr, "%s: %s\n", bert_status_name(st), err);
    if (st != BERT_OK) {
        if (m || !err[0])
            abort();
        if (st != BERT_E_FORMAT && st != BERT_E_SHAPE && st != BERT_E_IO && st != BERT_E_UNSUPPORTED &&
            st != BERT_E_NUMERIC && st != BERT_E_NOMEM && st != BERT_E_BACKEND)
            abort();
        return 0;
    }
    /* accepted: it agrees with its config, and runs */
    const bert_model_info info = bert_model_get_info(m);
    if (info.hidden_size != H || info.n_layers != L || info.vocab_size != V || info.n_heads != A ||
        info.intermediate_size != I)
        abort();
    bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = 1;
    bert_ctx *ctx = NULL;
    if (bert_ctx_new(m, &cp, &ctx, err, sizeof err) == BERT_OK) {
        const int32_t ids[4] = {1, (int32_t)(next(&r) % V), (int32_t)(next(&r) % V), 2};
        const int32_t types[4] = {0, 0, 1, 1};
        const bert_run_params rp = bert_run_default_params();
        const bert_status rs = bert_ctx_run(ctx, ids, types, NULL, 1, 4, &rp);
        if (rs != BERT_OK && rs != BERT_E_NUMERIC && rs != BERT_E_UNSUPPORTED)
            abort();
        if (rs == BERT_OK && !bert_ctx_hidden(ctx, -1))
            abort();
        bert_ctx_free(ctx);
    }
    bert_model_free(m);
    return 0;
}
