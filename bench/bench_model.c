/* bert-bench make-model / model: the encoder workloads of docs/performance.md on our side only (the side-by-side
 * comparison with ONNX Runtime and PyTorch is not built yet). Timings are medians and minima of
 * repeated runs, never asserted by tests. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <bert/bert.h>

#include "bench.h"
#include "cli.h"

static const char *prog = "bert-bench";

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

typedef struct tensor_spec {
    char name[128];
    size_t rows, cols; /* cols 0: a vector */
    int ones;          /* LayerNorm weights start at 1 */
} tensor_spec;

/* Writes a random BertForSequenceClassification folder (F32, seeded): speed does not depend on the
 * values. The tokenizer files are copied from the default model. */
static size_t mm_layers = 12, mm_hidden = 768, mm_heads = 12, mm_inter = 3072;
static int mm_family;
static const char *const mm_families[] = {"bert", "roberta", "distilbert", NULL};

/* The tensor names of the families make-model writes (the registry's spellings, as transformers
 * saves a *ForSequenceClassification checkpoint): layer l's tensors are stem + l + tail. */
static const struct family_names {
    const char *prefix, *type, *stem, *q, *k, *v, *o, *ln1, *inter, *out, *ln2, *pool, *cls;
    const char *arch, *k_hidden, *k_layers, *k_heads, *k_inter, *act, *extra;
} mm_names[] = {
/* clang-format off */
#define BERT_LAYER_TAILS ".attention.self.query", ".attention.self.key", ".attention.self.value", \
    ".attention.output.dense", ".attention.output.LayerNorm", ".intermediate.dense", ".output.dense", ".output.LayerNorm"
#define BERT_KEYS "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act"
    {"bert.", "bert.embeddings.token_type_embeddings", "bert.encoder.layer.", BERT_LAYER_TAILS,
     "bert.pooler.dense", "classifier", "BertForSequenceClassification", BERT_KEYS,
     "\"type_vocab_size\": 2, \"layer_norm_eps\": 1e-12"},
    {"roberta.", "roberta.embeddings.token_type_embeddings", "roberta.encoder.layer.", BERT_LAYER_TAILS,
     "classifier.dense", "classifier.out_proj", "RobertaForSequenceClassification", BERT_KEYS,
     "\"type_vocab_size\": 1, \"layer_norm_eps\": 1e-5, \"pad_token_id\": 1"},
    {"distilbert.", NULL, "distilbert.transformer.layer.", ".attention.q_lin", ".attention.k_lin",
     ".attention.v_lin", ".attention.out_lin", ".sa_layer_norm", ".ffn.lin1", ".ffn.lin2", ".output_layer_norm",
     "pre_classifier", "classifier", "DistilBertForSequenceClassification", "dim", "n_layers", "n_heads",
     "hidden_dim", "activation", "\"sinusoidal_pos_embds\": false"},
#undef BERT_LAYER_TAILS
#undef BERT_KEYS
    /* clang-format on */
};

const cli_opt bench_make_model_opts[] = {
    {.names = "--layers",
     CLI_SIZE(&mm_layers),
     .metavar = "N",
     .min = 1,
     .max = 256,
     .help = "encoder layers, %r (default 12)"},
    {.names = "--hidden",
     CLI_SIZE(&mm_hidden),
     .metavar = "N",
     .min = 1,
     .max = 65536,
     .help = "hidden size, %r (default 768; divisible by --heads)"},
    {.names = "--heads",
     CLI_SIZE(&mm_heads),
     .metavar = "N",
     .min = 1,
     .max = 1024,
     .help = "attention heads, %r (default 12)"},
    {.names = "--intermediate",
     CLI_SIZE(&mm_inter),
     .metavar = "N",
     .min = 1,
     .max = 262144,
     .help = "feed-forward size, %r (default 3072)"},
    {.names = "--family",
     CLI_CHOICE(&mm_family),
     .metavar = "NAME",
     .choices = mm_families,
     .help = "the model family's tensor names and config: %r (default bert)"},
    CLI_OPT_END,
};

int bench_make_model(int argc, char **argv)
{
    size_t n_ops = 0;
    const int pr = cli_parse_args(prog, bench_make_model_opts, argc, argv, &n_ops, 0);
    if (pr != CLI_ARGS_OK)
        return pr == CLI_ARGS_HELP ? CLI_OK : CLI_ERR_USAGE;
    const char *dir = n_ops ? argv[1] : NULL;
    const struct family_names *fn = &mm_names[mm_family];
    const size_t L = mm_layers, H = mm_hidden, A = mm_heads, I = mm_inter, V = 30522;
    const size_t P = mm_family == 1 ? 514 : 512; /* RoBERTa counts positions from padding_idx + 1 */
    uint64_t seed = 1234;
    if (!dir || n_ops > 1 || H % A) {
        fprintf(stderr, "%s make-model: give DIR (and a hidden size divisible by the heads)\n", prog);
        return CLI_ERR_USAGE;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
        return CLI_ERR_INPUT;
    }
    size_t n = 0, cap = 16 + 16 * L;
    tensor_spec *t = calloc(cap, sizeof *t);
    if (!t)
        return CLI_ERR_RUNTIME;
#define ADD(r, c, one, ...)                                 \
    do {                                                    \
        snprintf(t[n].name, sizeof t[n].name, __VA_ARGS__); \
        t[n].rows = (r);                                    \
        t[n].cols = (c);                                    \
        t[n].ones = (one);                                  \
        n++;                                                \
    } while (0)
    ADD(V, H, 0, "%sembeddings.word_embeddings.weight", fn->prefix);
    ADD(P, H, 0, "%sembeddings.position_embeddings.weight", fn->prefix);
    if (fn->type)
        ADD(mm_family == 1 ? 1 : 2, H, 0, "%s.weight", fn->type);
    ADD(H, 0, 1, "%sembeddings.LayerNorm.weight", fn->prefix);
    ADD(H, 0, 0, "%sembeddings.LayerNorm.bias", fn->prefix);
    for (size_t l = 0; l < L; l++) {
        const char *lin[4] = {fn->q, fn->k, fn->v, fn->o};
        for (int k = 0; k < 4; k++) {
            ADD(H, H, 0, "%s%zu%s.weight", fn->stem, l, lin[k]);
            ADD(H, 0, 0, "%s%zu%s.bias", fn->stem, l, lin[k]);
        }
        ADD(H, 0, 1, "%s%zu%s.weight", fn->stem, l, fn->ln1);
        ADD(H, 0, 0, "%s%zu%s.bias", fn->stem, l, fn->ln1);
        ADD(I, H, 0, "%s%zu%s.weight", fn->stem, l, fn->inter);
        ADD(I, 0, 0, "%s%zu%s.bias", fn->stem, l, fn->inter);
        ADD(H, I, 0, "%s%zu%s.weight", fn->stem, l, fn->out);
        ADD(H, 0, 0, "%s%zu%s.bias", fn->stem, l, fn->out);
        ADD(H, 0, 1, "%s%zu%s.weight", fn->stem, l, fn->ln2);
        ADD(H, 0, 0, "%s%zu%s.bias", fn->stem, l, fn->ln2);
    }
    ADD(H, H, 0, "%s.weight", fn->pool);
    ADD(H, 0, 0, "%s.bias", fn->pool);
    ADD(2, H, 0, "%s.weight", fn->cls);
    ADD(2, 0, 0, "%s.bias", fn->cls);
#undef ADD
    /* header */
    size_t hcap = n * 200 + 64, hl = 0, off = 0;
    char *hdr = malloc(hcap);
    if (!hdr) {
        free(t);
        return CLI_ERR_RUNTIME;
    }
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (size_t i = 0; i < n; i++) {
        size_t bytes = t[i].rows * (t[i].cols ? t[i].cols : 1) * 4;
        if (t[i].cols)
            hl += (size_t)snprintf(hdr + hl, hcap - hl,
                                   ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%zu,%zu],\"data_offsets\":[%zu,%zu]}",
                                   t[i].name, t[i].rows, t[i].cols, off, off + bytes);
        else
            hl += (size_t)snprintf(hdr + hl, hcap - hl,
                                   ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}", t[i].name,
                                   t[i].rows, off, off + bytes);
        off += bytes;
    }
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "}");
    while (hl % 8)
        hdr[hl++] = ' ';
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "wb");
    int rc = CLI_OK;
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        rc = CLI_ERR_INPUT;
        goto done;
    }
    unsigned char len8[8];
    for (int b = 0; b < 8; b++)
        len8[b] = (unsigned char)((hl >> (8 * b)) & 0xFF);
    fwrite(len8, 1, 8, f);
    fwrite(hdr, 1, hl, f);
    float buf[4096];
    for (size_t i = 0; i < n && rc == CLI_OK; i++) {
        size_t left = t[i].rows * (t[i].cols ? t[i].cols : 1);
        while (left) {
            size_t k = left < 4096 ? left : 4096;
            for (size_t j = 0; j < k; j++)
                buf[j] = t[i].ones ? 1.f : (float)((double)(splitmix64(&seed) >> 40) / (double)(1 << 24) - 0.5) * 0.04f;
            if (fwrite(buf, sizeof(float), k, f) != k)
                rc = CLI_ERR_RUNTIME;
            left -= k;
        }
    }
    if (fclose(f) != 0)
        rc = CLI_ERR_RUNTIME;
    snprintf(path, sizeof path, "%s/config.json", dir);
    f = fopen(path, "w");
    if (!f) {
        rc = CLI_ERR_INPUT;
        goto done;
    }
    fprintf(f,
            "{\"architectures\": [\"%s\"], \"model_type\": \"%s\", \"%s\": \"gelu\",\n"
            " \"vocab_size\": %zu, \"%s\": %zu, \"%s\": %zu, \"%s\": %zu,\n"
            " \"%s\": %zu, \"max_position_embeddings\": %zu, %s,\n"
            " \"id2label\": {\"0\": \"LABEL_0\", \"1\": \"LABEL_1\"}, \"dtype\": \"float32\"}\n",
            fn->arch, mm_families[mm_family], fn->act, V, fn->k_hidden, H, fn->k_layers, L, fn->k_heads, A, fn->k_inter,
            I, P, fn->extra);
    fclose(f);
    /* the tokenizer of the default model (same 30522-token uncased vocabulary) */
    static const char *const files[2] = {"vocab.txt", "tokenizer_config.json"};
    for (int k = 0; k < 2; k++) {
        char src[4096];
        snprintf(src, sizeof src, "%s/%s", cli_default_model(), files[k]);
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        FILE *in = fopen(src, "rb"), *out = fopen(path, "wb");
        char copy[65536];
        size_t got;
        while (in && out && (got = fread(copy, 1, sizeof copy, in)) > 0)
            fwrite(copy, 1, got, out);
        if (!in || !out)
            rc = CLI_ERR_INPUT;
        if (in)
            fclose(in);
        if (out)
            fclose(out);
    }
    if (rc == CLI_OK)
        printf("%s: %s, L%zu H%zu A%zu I%zu, %.1f MB of F32 weights\n", dir, mm_families[mm_family], L, H, A, I,
               (double)off / 1e6);
done:
    free(hdr);
    free(t);
    return rc;
}

/* Forward FLOPs of one sequence of T tokens (matmuls only: projections, FFN, attention). */
static double flops(const bert_model_info *in, size_t T)
{
    const double H = (double)in->hidden_size, I = (double)in->intermediate_size, t = (double)T;
    const double per_layer = 2 * t * H * 3 * H + 2 * t * H * H + 2 * 2 * t * H * I + 2 * 2 * t * t * H;
    return per_layer * (double)in->n_layers;
}

/* What a cls_only run leaves out: the last layer's attention output and feed-forward on all rows
 * but the first. */
static double flops_cls_saved(const bert_model_info *in, size_t T)
{
    const double H = (double)in->hidden_size, I = (double)in->intermediate_size;
    return T ? 2 * (double)(T - 1) * (H * H + 2 * H * I) : 0;
}

/* DIR/NAME.bin from make_inputs.py: input_ids, attention_mask, token_type_ids, int64 LE [B, T] */
static int read_inputs(const char *dir, const char *name, size_t B, size_t T, int32_t *ids, uint8_t *mask,
                       int32_t *types)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s model: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    int ok = 1;
    for (int part = 0; part < 3 && ok; part++)
        for (size_t i = 0; i < B * T && ok; i++) {
            int64_t v;
            ok = fread(&v, sizeof v, 1, f) == 1 && v >= 0 && v <= INT32_MAX;
            if (part == 0)
                ids[i] = (int32_t)v;
            else if (part == 1)
                mask[i] = v != 0;
            else
                types[i] = (int32_t)v;
        }
    ok = ok && fgetc(f) == EOF;
    fclose(f);
    if (!ok)
        fprintf(stderr, "%s model: %s: expected 3 x %zu x %zu int64 values\n", prog, path, B, T);
    return ok ? 0 : -1;
}

static const char *bm_model, *bm_inputs;
static size_t bm_reps = 10, bm_threads, bm_round;
static int bm_all_rows, bm_prec, bm_weights;
static const char *const bm_workloads[] = {"b1_s128", "b8_s128", "b32_s64_var", "b1_s512", NULL};
static int bm_workload;

const cli_opt bench_model_opts[] = {
    {.names = "--model",
     CLI_STRING(&bm_model),
     .metavar = "DIR",
     .help = "the checkpoint (default: the embedded default model)"},
    CLI_OPT_THREADS(&bm_threads),
    {.names = "--reps",
     CLI_SIZE(&bm_reps),
     .metavar = "N",
     .min = 1,
     .max = 1000000,
     .help = "timed runs after the warm-up, %r (default 10)"},
    CLI_OPT_PRECISION(&bm_prec),
    CLI_OPT_WEIGHTS(&bm_weights),
    {.names = "--workload",
     CLI_CHOICE(&bm_workload),
     .metavar = "NAME",
     .choices = bm_workloads,
     .help = "only this one: %r (default: all)"},
    {.names = "--inputs",
     CLI_STRING(&bm_inputs),
     .metavar = "DIR",
     .help = "the peers' inputs (../shared/bench/make_inputs.py)"},
    {.names = "--round",
     CLI_SIZE(&bm_round),
     .metavar = "N",
     .min = 0,
     .max = 1000000,
     .help = "a number copied into the JSON (compare_peers.sh's rounds), %r"},
    {.names = "--all-rows",
     CLI_FLAG(&bm_all_rows),
     .value = 1,
     .help = "compute every row of the last layer (not only [CLS])"},
    CLI_OPT_END,
};

int bench_model(int argc, char **argv)
{
    size_t n_ops = 0;
    bm_workload = -1;
    const int pr = cli_parse_args(prog, bench_model_opts, argc, argv, &n_ops, 0);
    if (pr == CLI_ARGS_OK && n_ops)
        fprintf(stderr, "%s model: unexpected argument '%s'\n", prog, argv[1]);
    if (pr != CLI_ARGS_OK || n_ops)
        return pr == CLI_ARGS_HELP ? CLI_OK : CLI_ERR_USAGE;
    const char *model = bm_model, *only = bm_workload >= 0 ? bm_workloads[bm_workload] : NULL;
    const char *prec = cli_precisions[bm_prec], *inputs = bm_inputs, *weights = cli_weight_modes[bm_weights];
    const long round = (long)bm_round;
    const size_t reps = bm_reps, threads = bm_threads;
    const int all_rows = bm_all_rows;
    cli_catch_sigbus(prog);
    char err[1024];
    bert_model *m = NULL;
    bert_ctx *ctx = NULL;
    bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = (int)threads;
    bert_model_params mp = bert_model_default_params();
    if (cli_parse_precision(prog, "--precision", prec, &mp.precision) != 0 ||
        cli_parse_weights(prog, "--weights", weights, &mp.weights) != 0)
        return CLI_ERR_USAGE;
    if (bert_model_load(model ? model : cli_default_model(), &mp, &m, err, sizeof err) != BERT_OK ||
        bert_ctx_new(m, &cp, &ctx, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err);
        bert_model_free(m);
        return CLI_ERR_MODEL;
    }
    const bert_model_info in = bert_model_get_info(m);
    /* What the peers compute is the logits; for sequence-level models the last layer then needs the
     * [CLS] rows only (bert_run_params.cls_only, as bert-classify runs). --all-rows: every row. */
    const double fma_peak = bench_fma_peak(cp.n_threads); /* the hardware floor, once */
    bert_run_params rp = bert_run_default_params();
    rp.cls_only = !all_rows && (in.arch == BERT_ARCH_SEQUENCE_CLASSIFICATION || in.arch == BERT_ARCH_MULTIPLE_CHOICE);
    /* the workloads of ../shared/bench/workloads.json: (a) 1x128, (b) 8x128, (c) 32 sequences of
     * 16..64 real tokens padded to 64, (d) 1x512 (capped at max_position_embeddings) */
    static const struct {
        const char *name;
        size_t B, T;
        int varlen;
    } w[4] = {{"b1_s128", 1, 128, 0}, {"b8_s128", 8, 128, 0}, {"b32_s64_var", 32, 64, 1}, {"b1_s512", 1, 512, 0}};
    int rc = CLI_OK;
    double *times = calloc(reps, sizeof *times);
    for (int k = 0; k < 4 && rc == CLI_OK && times; k++) {
        if (only && strcmp(only, w[k].name))
            continue;
        size_t B = w[k].B, T = w[k].T < in.max_positions ? w[k].T : in.max_positions;
        int32_t *ids = calloc(B * T, sizeof *ids), *types = calloc(B * T, sizeof *types);
        uint8_t *mask = calloc(B * T, 1);
        size_t real = 0;
        double fl = 0, fl_real = 0;
        if (!ids || !types || !mask) {
            rc = CLI_ERR_RUNTIME;
            free(ids);
            free(types);
            free(mask);
            break;
        }
        if (inputs) {
            /* the peers' inputs (../shared/bench/make_inputs.py): ids, mask, types as int64 [B, T] */
            if (read_inputs(inputs, w[k].name, B, T, ids, mask, types) != 0) {
                rc = CLI_ERR_INPUT;
                free(ids);
                free(types);
                free(mask);
                break;
            }
        }
        for (size_t b = 0; b < B; b++) {
            size_t len = 0;
            if (inputs) {
                while (len < T && mask[b * T + len])
                    len++;
            } else {
                len = w[k].varlen ? 16 + (b * 48) / (B - 1) : T; /* 16..64 evenly */
                for (size_t i = 0; i < T; i++) {
                    ids[b * T + i] = i == 0 ? 101 : i + 1 == len ? 102 : (int32_t)(1000 + (b * 131 + i * 17) % 20000);
                    mask[b * T + i] = i < len;
                }
            }
            real += len;
            fl += flops(&in, T); /* padded: the work a padded batch does, as the peers count it */
            fl_real += flops(&in, len) - (rp.cls_only ? flops_cls_saved(&in, len) : 0); /* what the run computes */
        }
        for (size_t r = 0; r < reps + 1 && rc == CLI_OK; r++) {
            double t0 = cli_now();
            if (bert_ctx_run(ctx, ids, types, mask, B, T, &rp) != BERT_OK) {
                fprintf(stderr, "%s: %s\n", prog, bert_ctx_errmsg(ctx));
                rc = CLI_ERR_RUNTIME;
            }
            if (r > 0) /* the first run creates the primitives */
                times[r - 1] = cli_now() - t0;
        }
        if (rc == CLI_OK) {
            qsort(times, reps, sizeof *times, cli_cmp_double);
            /* the peak at this workload's row count, measured now (the machine's speed drifts) */
            const size_t rows = real < 2048 ? real : 2048;
            const double peak =
                bench_matmul_peak(cp.n_threads, mp.precision, rows, in.hidden_size, in.intermediate_size);
            double med = times[reps / 2], best = times[0];
            const char *mname = strrchr(model ? model : cli_default_model(), '/');
            mname = mname ? mname + 1 : model ? model : cli_default_model();
            printf(
                "{\"tool\":\"libbert\",\"bench\":\"model\",\"model\":\"%s\",\"workload\":\"%s\",\"batch\":%zu,\"seq\":%"
                "zu,"
                "\"real_tokens\":%zu,\"threads\":%d,\"precision\":\"%s\",\"weights\":\"%s\",\"round\":%ld,\"reps\":%zu,"
                "\"median_ms\":%.2f,\"min_ms\":%.2f,"
                "\"seq_per_s\":%.1f,\"tokens_per_s\":%.0f,\"gflop_per_s\":%.1f,\"real_gflop_per_s\":%.1f,"
                "\"matmul_peak_gflop_per_s\":%.1f,\"peak_share\":%.3f,\"fma_peak_gflop_per_s\":%.1f,\"fma_share\":%.3f,"
                "\"cls_only\":%d,\"isa\":\"%s\",\"kernels\":\"%s\"}\n",
                mname, w[k].name, B, T, real, cp.n_threads, prec, weights, round, reps, med * 1e3, best * 1e3,
                (double)B / med, (double)real / med, fl / med / 1e9, fl_real / med / 1e9, peak,
                peak > 0 ? fl_real / med / 1e9 / peak : 0.0, fma_peak,
                fma_peak > 0 ? fl_real / med / 1e9 / fma_peak : 0.0, rp.cls_only, bert_cpu_isa(),
                bert_ctx_kernels(ctx));
            fflush(stdout);
        }
        free(ids);
        free(types);
        free(mask);
    }
    free(times);
    bert_ctx_free(ctx);
    bert_model_free(m);
    return rc;
}
