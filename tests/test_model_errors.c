/* Bad checkpoints are refused with precise messages, built by corrupting copies of the shared tiny
 * models in a temporary folder; renamed, re-spelled and sharded (but valid) checkpoints load and
 * give the original's outputs; bad run inputs are errors, not crashes; the causal mask is applied. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "encoder/encoder.h"
#include "support.h"

#define SRC "tiny-gelu-3labels" /* F32, 2 layers, H 32, with pooler and classifier */

static char *src_bytes;
static size_t src_len;
static char *src_config;
static size_t src_config_len;

static int setup(void **state)
{
    (void)state;
    char p[512], err[256];
    snprintf(p, sizeof p, "%s/models/%s/model.safetensors", test_shared_dir(), SRC);
    if (bert__read_file(p, &src_bytes, &src_len, err, sizeof err) != BERT_OK)
        return -1;
    snprintf(p, sizeof p, "%s/models/%s/config.json", test_shared_dir(), SRC);
    return bert__read_file(p, &src_config, &src_config_len, err, sizeof err) == BERT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bert__free(src_bytes);
    bert__free(src_config);
    return 0;
}

/* A fresh model folder named `name` with the given config text (NULL: the original). */
static const char *folder(const char *name, const char *config)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0700);
    test_write_file(dir, "config.json", config ? config : src_config, config ? strlen(config) : src_config_len);
    return dir;
}

/* Writes a valid safetensors file from the original's tensors: each may be renamed (rename returns
 * the new name, or NULL to drop the tensor). The data starts `skew` bytes past an 8-byte boundary
 * (the header's trailing spaces; writers other than HF's need not align it). */
typedef const char *(*rename_fn)(const char *name, char *buf, size_t n);
static void write_rebuilt_skewed(const char *dir, const char *file, rename_fn rename, int shard, int n_shards,
                                 size_t skew)
{
    bert__checkpoint ck;
    char err[256];
    memset(&ck, 0, sizeof ck);
    assert_int_equal(bert__safetensors_parse((const unsigned char *)src_bytes, src_len, "src", 0, &ck, err, sizeof err),
                     BERT_OK);
    json_t *hdr = json_object();
    size_t off = 0;
    static const char *const dt[] = {"F32", "F16", "BF16"};
    for (size_t i = 0; i < ck.n; i++) {
        char buf[256];
        const char *nm = rename ? rename(ck.tensors[i].name, buf, sizeof buf) : ck.tensors[i].name;
        if (!nm || (n_shards > 1 && (int)(i % (size_t)n_shards) != shard))
            continue;
        json_t *shape = json_array();
        for (size_t d = 0; d < ck.tensors[i].ndim; d++)
            json_array_append_new(shape, json_integer((json_int_t)ck.tensors[i].shape[d]));
        json_object_set_new(hdr, nm,
                            json_pack("{s:s, s:o, s:[I,I]}", "dtype", dt[ck.tensors[i].dtype], "shape", shape,
                                      "data_offsets", (json_int_t)off, (json_int_t)(off + ck.tensors[i].nbytes)));
        off += ck.tensors[i].nbytes;
    }
    char *h = json_dumps(hdr, JSON_COMPACT);
    size_t hl = strlen(h), padded = (hl + 7) / 8 * 8 + skew;
    char *out = malloc(8 + padded + off);
    for (int b = 0; b < 8; b++)
        out[b] = (char)((padded >> (8 * b)) & 0xFF);
    memcpy(out + 8, h, hl);
    memset(out + 8 + hl, ' ', padded - hl);
    size_t pos = 8 + padded;
    for (size_t i = 0; i < ck.n; i++) {
        char buf[256];
        const char *nm = rename ? rename(ck.tensors[i].name, buf, sizeof buf) : ck.tensors[i].name;
        if (!nm || (n_shards > 1 && (int)(i % (size_t)n_shards) != shard))
            continue;
        memcpy(out + pos, ck.tensors[i].data, ck.tensors[i].nbytes);
        pos += ck.tensors[i].nbytes;
    }
    test_write_file(dir, file, out, pos);
    free(out);
    free(h);
    json_decref(hdr);
    bert__checkpoint_close(&ck);
}

static void write_rebuilt(const char *dir, const char *file, rename_fn rename, int shard, int n_shards)
{
    write_rebuilt_skewed(dir, file, rename, shard, n_shards, 0);
}

/* Loads dir and expects status st with `part` in the message. */
static void expect_fail(const char *dir, bert_status st, const char *part)
{
    bert_model *m = (bert_model *)1;
    char err[1024] = "";
    bert_status got = bert_model_load(dir, NULL, &m, err, sizeof err);
    if (got != st || !strstr(err, part))
        fail_msg("%s: expected %s with \"%s\", got %s: %s", dir, bert_status_name(st), part, bert_status_name(got),
                 err);
    assert_null(m);
}

/* The original file with bytes [at, at+n) replaced. */
static void write_patched(const char *dir, size_t at, const void *bytes, size_t n, size_t keep)
{
    char *c = malloc(src_len);
    memcpy(c, src_bytes, src_len);
    memcpy(c + at, bytes, n);
    test_write_file(dir, "model.safetensors", c, keep ? keep : src_len);
    free(c);
}

static size_t header_find(const char *needle)
{
    const char *h = memmem(src_bytes + 8, 4096, needle, strlen(needle));
    assert_non_null(h);
    return (size_t)(h - src_bytes);
}

static void test_truncated_and_bad_header_lengths(void **state)
{
    (void)state;
    const char *d = folder("trunc", NULL);
    write_patched(d, 0, "", 0, src_len / 2);
    expect_fail(d, BERT_E_FORMAT, "run past the data area");
    expect_fail(d, BERT_E_FORMAT, "truncated file?");
    d = folder("hdrpast", NULL);
    const unsigned char big[8] = {0x00, 0x00, 0x10, 0x01, 0, 0, 0, 0}; /* 17.8 MB: under the limit, past the end */
    write_patched(d, 0, big, 8, 0);
    expect_fail(d, BERT_E_FORMAT, "runs past the end of the file");
    d = folder("hdrhuge", NULL);
    const unsigned char huge[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    write_patched(d, 0, huge, 8, 0);
    expect_fail(d, BERT_E_FORMAT, "exceeds the 100 MB limit");
    d = folder("tiny", NULL);
    write_patched(d, 0, "", 0, 5);
    expect_fail(d, BERT_E_FORMAT, "too short for a safetensors header length");
}

static void test_corrupt_json_header_and_dtypes(void **state)
{
    (void)state;
    const char *d = folder("json", NULL);
    write_patched(d, header_find("\"dtype\""), "#", 1, 0);
    expect_fail(d, BERT_E_FORMAT, "header is not valid JSON at byte");
    d = folder("dtype", NULL);
    write_patched(d, header_find("\"F32\""), "\"F33\"", 5, 0);
    expect_fail(d, BERT_E_FORMAT, "unknown dtype \"F33\"");
    d = folder("intdtype", NULL);
    write_patched(d, header_find("\"F32\""), "\"I32\"", 5, 0);
    expect_fail(d, BERT_E_UNSUPPORTED, "is not a floating-point tensor");
}

/* The original data area under an edited header: edit(hdr, first, second, last) changes entries. */
typedef void (*header_edit)(json_t *hdr, const char *first, const char *second, const char *last);
static void write_edited(const char *dir, header_edit edit)
{
    size_t hl = 0;
    for (int b = 7; b >= 0; b--)
        hl = (hl << 8) | (unsigned char)src_bytes[b];
    json_error_t je;
    json_t *hdr = json_loadb(src_bytes + 8, hl, 0, &je);
    assert_non_null(hdr);
    /* the tensors in data order */
    const char *names[512];
    size_t begins[512], n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(hdr, key, v)
    {
        if (!strcmp(key, "__metadata__"))
            continue;
        size_t b0 = (size_t)json_integer_value(json_array_get(json_object_get(v, "data_offsets"), 0)), i = n++;
        while (i > 0 && begins[i - 1] > b0) {
            begins[i] = begins[i - 1];
            names[i] = names[i - 1];
            i--;
        }
        begins[i] = b0;
        names[i] = key;
    }
    edit(hdr, names[0], names[1], names[n - 1]);
    char *h = json_dumps(hdr, JSON_COMPACT);
    size_t nhl = strlen(h), data_len = src_len - 8 - hl;
    char *out = malloc(8 + nhl + data_len);
    for (int b = 0; b < 8; b++)
        out[b] = (char)((nhl >> (8 * b)) & 0xFF);
    memcpy(out + 8, h, nhl);
    memcpy(out + 8 + nhl, src_bytes + 8 + hl, data_len);
    test_write_file(dir, "model.safetensors", out, 8 + nhl + data_len);
    free(out);
    free(h);
    json_decref(hdr);
}

static void shift(json_t *hdr, const char *name, long long d0, long long d1)
{
    json_t *o = json_object_get(json_object_get(hdr, name), "data_offsets");
    json_array_set_new(o, 0, json_integer(json_integer_value(json_array_get(o, 0)) + d0));
    json_array_set_new(o, 1, json_integer(json_integer_value(json_array_get(o, 1)) + d1));
}
static void edit_overlap(json_t *h, const char *a, const char *b, const char *z)
{
    (void)a;
    (void)z;
    shift(h, b, -4, -4); /* the second tensor now starts inside the first */
}
static void edit_past_end(json_t *h, const char *a, const char *b, const char *z)
{
    (void)a;
    (void)b;
    shift(h, z, 8, 8);
}
static void edit_size(json_t *h, const char *a, const char *b, const char *z)
{
    (void)b;
    (void)z;
    shift(h, a, 0, -4);
}
static void edit_hole(json_t *h, const char *a, const char *b, const char *z)
{
    (void)a;
    (void)z;
    json_object_del(h, b);
}

static void test_offsets_overlapping_out_of_range_and_mismatched(void **state)
{
    (void)state;
    const char *d = folder("overlap", NULL);
    write_edited(d, edit_overlap);
    expect_fail(d, BERT_E_FORMAT, "overlaps the tensor before it");
    d = folder("pastend", NULL);
    write_edited(d, edit_past_end);
    expect_fail(d, BERT_E_FORMAT, "run past the data area");
    d = folder("size", NULL);
    write_edited(d, edit_size);
    expect_fail(d, BERT_E_FORMAT, "] of F32 needs "); /* the shape is written out */
    d = folder("hole", NULL);
    write_edited(d, edit_hole);
    expect_fail(d, BERT_E_FORMAT, "belong to no tensor");
}

static const char *drop_pooler_bias(const char *name, char *buf, size_t n)
{
    (void)buf;
    (void)n;
    return strcmp(name, "bert.pooler.dense.bias") ? name : NULL;
}

static void test_missing_tensor_wrong_shape_and_disagreement(void **state)
{
    (void)state;
    const char *d = folder("missing", NULL);
    write_rebuilt(d, "model.safetensors", drop_pooler_bias, 0, 1);
    expect_fail(d, BERT_E_FORMAT, "tensor 'pooler.dense.bias' (or 'bert.pooler.dense.bias') is missing");

    char *cfg = malloc(src_config_len + 1);
    memcpy(cfg, src_config, src_config_len);
    cfg[src_config_len] = '\0';
    char *at = strstr(cfg, "\"intermediate_size\": 64");
    assert_non_null(at);
    memcpy(at, "\"intermediate_size\": 48", 23);
    d = folder("shape", cfg);
    write_rebuilt(d, "model.safetensors", NULL, 0, 1);
    expect_fail(d, BERT_E_SHAPE, "intermediate.dense.weight' has shape [64,32], expected [48,32] from config.json");
    memcpy(at, "\"intermediate_size\": 64", 23);

    at = strstr(cfg, "\"num_hidden_layers\": 2");
    assert_non_null(at);
    memcpy(at, "\"num_hidden_layers\": 1", 22);
    d = folder("layers", cfg);
    write_rebuilt(d, "model.safetensors", NULL, 0, 1);
    expect_fail(d, BERT_E_SHAPE, "belongs to layer 1 but config.json says num_hidden_layers 1");
    free(cfg);
}

static void test_unsupported_and_broken_configs(void **state)
{
    (void)state;
    const char *d = folder("relkey", "{\"position_embedding_type\": \"relative_key\", \"hidden_size\": 32,"
                                     " \"num_attention_heads\": 4}");
    expect_fail(d, BERT_E_UNSUPPORTED, "position_embedding_type \"relative_key\" is not supported");
    d = folder("duplabels", "{\"architectures\": [\"BertForSequenceClassification\"],"
                            " \"id2label\": {\"0\": \"neg\", \"1\": \"pos\", \"2\": \"neg\"}}");
    expect_fail(d, BERT_E_FORMAT, "\"id2label\" names labels 0 and 2 both \"neg\"");
    d = folder("act", "{\"hidden_act\": \"mish\"}");
    expect_fail(d, BERT_E_UNSUPPORTED, "hidden_act \"mish\"");
    d = folder("gpt2", "{\"model_type\": \"gpt2\"}");
    expect_fail(d, BERT_E_UNSUPPORTED, "model_type \"gpt2\" is not supported (supported: bert, roberta");
    d = folder("arch", "{\"architectures\": [\"BertForQuestionAnswering\"]}");
    expect_fail(d, BERT_E_UNSUPPORTED, "architectures \"BertForQuestionAnswering\" is not supported for model_type");
    /* the task class must belong to the family, and an option a family may carry but libbert does
     * not implement is refused by key and value */
    d = folder("mixed", "{\"model_type\": \"roberta\", \"architectures\": [\"BertForSequenceClassification\"]}");
    expect_fail(d, BERT_E_UNSUPPORTED, "(RobertaModel, RobertaForSequenceClassification");
    d = folder("electra_qa", "{\"model_type\": \"electra\", \"architectures\": [\"ElectraForQuestionAnswering\"]}");
    expect_fail(d, BERT_E_UNSUPPORTED,
                "architectures \"ElectraForQuestionAnswering\" is not supported for model_type \"electra\" "
                "(ElectraModel, ElectraForSequenceClassification, ElectraForTokenClassification, ElectraForMaskedLM, "
                "ElectraForPreTraining)");
    d = folder("albert_inner", "{\"model_type\": \"albert\", \"inner_group_num\": 2, \"hidden_size\": 32,"
                               " \"num_attention_heads\": 4}");
    expect_fail(d, BERT_E_UNSUPPORTED, "inner_group_num 2 is not supported");
    d = folder("deberta_share",
               "{\"model_type\": \"deberta-v2\", \"relative_attention\": true, \"share_att_key\": false,"
               " \"hidden_size\": 32, \"num_attention_heads\": 4}");
    expect_fail(d, BERT_E_UNSUPPORTED, "share_att_key false is not supported");
    d = folder("deberta_conv", "{\"model_type\": \"deberta-v2\", \"relative_attention\": true, \"share_att_key\": true,"
                               " \"conv_kernel_size\": 3, \"hidden_size\": 32, \"num_attention_heads\": 4}");
    expect_fail(d, BERT_E_UNSUPPORTED, "conv_kernel_size 3 is not supported");
    d = folder("deberta_att", "{\"model_type\": \"deberta-v2\", \"relative_attention\": true, \"share_att_key\": true,"
                              " \"pos_att_type\": [\"p2p\"], \"hidden_size\": 32, \"num_attention_heads\": 4}");
    expect_fail(d, BERT_E_UNSUPPORTED, "pos_att_type [\"p2p\"] is not supported");
    d = folder("distil_act", "{\"model_type\": \"distilbert\", \"activation\": \"mish\", \"dim\": 32, \"n_heads\": 4}");
    expect_fail(d, BERT_E_UNSUPPORTED, "activation \"mish\" is not supported");
    d = folder("distil_heads", "{\"model_type\": \"distilbert\", \"dim\": 30, \"n_heads\": 4}");
    expect_fail(d, BERT_E_FORMAT, "dim 30 is not a multiple of n_heads 4");
    d = folder("badjson", "{\"hidden_size\": 32,\n \"x\": }");
    expect_fail(d, BERT_E_FORMAT, "config.json:2:");
    d = folder("heads", "{\"hidden_size\": 30, \"num_attention_heads\": 4}");
    expect_fail(d, BERT_E_FORMAT, "not a multiple of num_attention_heads");
    d = folder("pickle", NULL);
    test_write_file(d, "pytorch_model.bin", "PK", 2);
    expect_fail(d, BERT_E_UNSUPPORTED, "safe_serialization=True");
    d = folder("nothing", "{}");
    remove(strcat(strcpy((char[600]){0}, d), "/pytorch_model.bin"));
    expect_fail(d, BERT_E_IO, "no model.safetensors");
    expect_fail("/nonexistent-model-dir", BERT_E_IO, "/nonexistent-model-dir/config.json: cannot open");
}

/* Runs the model in dir, its weights held as `weights`, on the fixture-like input and returns the
 * logits' first values; returns the bytes it read in place. */
static size_t run_logits_as(const char *dir, bert_weights weights, float *out3)
{
    bert_model *m = NULL;
    char err[512];
    bert_model_params mp = bert_model_default_params();
    mp.weights = weights;
    if (bert_model_load(dir, &mp, &m, err, sizeof err) != BERT_OK)
        fail_msg("%s", err);
    bert_ctx *c = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &c, err, sizeof err), BERT_OK);
    const int32_t ids[6] = {101, 7592, 1010, 2088, 999, 102};
    assert_int_equal(bert_ctx_run(c, ids, NULL, NULL, 1, 6, NULL), BERT_OK);
    memcpy(out3, bert_ctx_logits(c), 3 * sizeof(float));
    const size_t mapped = bert_model_get_info(m).mapped_bytes;
    bert_ctx_free(c);
    bert_model_free(m);
    return mapped;
}

static void run_logits(const char *dir, float *out3)
{
    (void)run_logits_as(dir, BERT_WEIGHTS_PACKED, out3);
}

static const char *old_spelling(const char *name, char *buf, size_t n)
{
    /* no "bert." prefix and LayerNorm.gamma/beta, as older checkpoints wrote them */
    const char *s = strncmp(name, "bert.", 5) ? name : name + 5;
    snprintf(buf, n, "%s", s);
    char *ln = strstr(buf, "LayerNorm.");
    if (ln && !strcmp(ln, "LayerNorm.weight"))
        strcpy(ln, "LayerNorm.gamma");
    else if (ln && !strcmp(ln, "LayerNorm.bias"))
        strcpy(ln, "LayerNorm.beta");
    return buf;
}

static void test_respelled_sharded_and_unaligned_checkpoints_load_identically(void **state)
{
    (void)state;
    char dir[512];
    float want[3], got[3];
    snprintf(dir, sizeof dir, "%s/models/%s", test_shared_dir(), SRC);
    run_logits(dir, want);

    const char *d = folder("old", NULL);
    write_rebuilt(d, "model.safetensors", old_spelling, 0, 1);
    run_logits(d, got);
    assert_memory_equal(got, want, sizeof want);

    /* F32 data off its 4-byte alignment: its copies cannot start at the file bytes' offset within
     * a line (the floats must stay aligned) and it is never read in place; the same values, so
     * the same logits to the bit */
    d = folder("unaligned", NULL);
    write_rebuilt_skewed(d, "model.safetensors", NULL, 0, 1, 2);
    run_logits(d, got);
    assert_memory_equal(got, want, sizeof want);

    d = folder("sharded", NULL);
    write_rebuilt(d, "model-00001-of-00002.safetensors", NULL, 0, 2);
    write_rebuilt(d, "model-00002-of-00002.safetensors", NULL, 1, 2);
    bert__checkpoint ck;
    char err[256];
    memset(&ck, 0, sizeof ck);
    assert_int_equal(bert__safetensors_parse((const unsigned char *)src_bytes, src_len, "src", 0, &ck, err, sizeof err),
                     BERT_OK);
    json_t *wm = json_object();
    for (size_t i = 0; i < ck.n; i++)
        json_object_set_new(
            wm, ck.tensors[i].name,
            json_string(i % 2 ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors"));
    json_t *index = json_pack("{s:{}, s:o}", "metadata", "weight_map", wm);
    char *txt = json_dumps(index, 0);
    test_write_file(d, "model.safetensors.index.json", txt, strlen(txt));
    run_logits(d, got);
    assert_memory_equal(got, want, sizeof want);
    /* and with the weights read in place from the two mappings: the same within 1e-5 (another GEMM),
     * the layer weights of both shards in place beside the embedding tables */
    const size_t tables = run_logits_as(d, BERT_WEIGHTS_PACKED, got);
    const size_t mapped = run_logits_as(d, BERT_WEIGHTS_MAPPED, got);
    assert_true(mapped > tables);
    for (int i = 0; i < 3; i++)
        assert_float_equal(got[i], want[i], 1e-5);
    /* a shard that is missing is an I/O error naming it */
    char path[700];
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", d);
    remove(path);
    expect_fail(d, BERT_E_IO, "model-00002-of-00002.safetensors: cannot open");
    free(txt);
    json_decref(index);
    bert__checkpoint_close(&ck);
}

/* Where tensor `name` starts in src_bytes, and its column count (1 for a vector). */
static size_t tensor_at(const char *name, size_t *cols)
{
    uint64_t hlen;
    memcpy(&hlen, src_bytes, 8);
    json_error_t je;
    json_t *h = json_loadb(src_bytes + 8, (size_t)hlen, 0, &je), *t = json_object_get(h, name);
    assert_non_null(t);
    json_t *shape = json_object_get(t, "shape");
    *cols = json_array_size(shape) == 2 ? (size_t)json_integer_value(json_array_get(shape, 1)) : 1;
    const size_t at =
        8 + (size_t)hlen + (size_t)json_integer_value(json_array_get(json_object_get(t, "data_offsets"), 0));
    json_decref(h);
    return at;
}

/* A NaN or an infinity in any weight is refused at load, naming the tensor and the place: layer
 * weights (packed, and read in place with mapped weights), biases and LayerNorms, the pooler.
 * Before this check the model loaded and every score came out NaN. The embedding tables, read in
 * place and touched only where a token is looked up, are not scanned at load: a NaN row there is
 * BERT_E_NUMERIC from the run that uses it (test_overflowing_results_are_an_error). */
static void test_nonfinite_weights_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *tensor;
        size_t index;
        uint32_t bits;
        const char *what;
    } cases[] = {
        {"bert.encoder.layer.1.intermediate.dense.weight", 64 * 32 - 1, 0x7F800000u,
         "an infinity at index 2047 (row 63, column 31)"},
        {"bert.encoder.layer.0.attention.self.key.weight", 0, 0xFF800000u, "an infinity at index 0 (row 0, column 0)"},
        {"bert.encoder.layer.0.output.LayerNorm.bias", 3, 0x7FC00001u, "NaN at index 3"},
        {"bert.pooler.dense.weight", 100, 0xFFC00000u, "NaN at index 100 (row 3, column 4)"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t cols;
        const size_t at = tensor_at(cases[c].tensor, &cols) + cases[c].index * 4;
        char name[32], want[256];
        snprintf(name, sizeof name, "nonfinite%zu", c);
        const char *dir = folder(name, NULL);
        write_patched(dir, at, &cases[c].bits, 4, 0);
        snprintf(want, sizeof want, "tensor '%s' holds %s", cases[c].tensor, cases[c].what);
        expect_fail(dir, BERT_E_FORMAT, want);
        /* the same with the layer weights read in place from the file */
        bert_model *m = (bert_model *)1;
        char err[1024] = "";
        bert_model_params mp = bert_model_default_params();
        mp.weights = BERT_WEIGHTS_MAPPED;
        assert_int_equal(bert_model_load(dir, &mp, &m, err, sizeof err), BERT_E_FORMAT);
        assert_non_null(strstr(err, want));
        assert_null(m);
    }
}

/* Finite weights that overflow float arithmetic (a LayerNorm shift of 3e38) give an error from the
 * run, BERT_E_NUMERIC, never a NaN score; in every precision. An int8 product cannot carry a NaN
 * (its source is quantised to bytes), so the quantisation says so, naming it. Before, the NaN was
 * converted to a byte (undefined behaviour, found by fuzz_weights under UBSan) and the error came
 * only from the residual path carrying the NaN to the last hidden state. */
static void test_overflowing_results_are_an_error(void **state)
{
    (void)state;
    size_t cols;
    float big[32];
    for (int i = 0; i < 32; i++)
        big[i] = 3e38f;
    const uint32_t nan = 0x7FC00000u;
    const struct {
        const char *tensor;
        size_t index;
        const void *bytes;
        size_t n;
    } cases[2] = {{"bert.embeddings.LayerNorm.bias", 0, big, sizeof big},
                  {"bert.embeddings.word_embeddings.weight", 7592 * 32 + 5, &nan, 4}};
    static const bert_precision precs[3] = {BERT_PRECISION_F32, BERT_PRECISION_INT8, BERT_PRECISION_BF16};
    for (int k = 0; k < 2; k++) {
        const char *dir = folder(k ? "nan-embedding" : "overflow", NULL);
        write_patched(dir, tensor_at(cases[k].tensor, &cols) + cases[k].index * 4, cases[k].bytes, cases[k].n, 0);
        for (int p = 0; p < 3; p++) {
            bert_model *m = NULL;
            char err[512];
            bert_model_params mp = bert_model_default_params();
            mp.precision = precs[p];
            const bert_status ls = bert_model_load(dir, &mp, &m, err, sizeof err);
            if (ls == BERT_E_UNSUPPORTED && precs[p] == BERT_PRECISION_BF16)
                continue; /* no bf16 products on this CPU */
            if (ls != BERT_OK)
                fail_msg("%s", err);
            bert_ctx *c = NULL;
            assert_int_equal(bert_ctx_new(m, NULL, &c, err, sizeof err), BERT_OK);
            const int32_t ids[6] = {101, 7592, 1010, 2088, 999, 102}, other[3] = {101, 1010, 102};
            const bert_status rs = bert_ctx_run(c, ids, NULL, NULL, 1, 6, NULL);
            if (rs != BERT_E_NUMERIC)
                fail_msg("case %d, precision %d: %s, not BERT_E_NUMERIC", k, (int)precs[p], bert_status_name(rs));
            if (precs[p] == BERT_PRECISION_INT8)
                assert_non_null(strstr(bert_ctx_errmsg(c), "a NaN or infinity in the activations entering an int8"));
            else
                assert_non_null(strstr(bert_ctx_errmsg(c), "the last hidden state holds"));
            assert_null(bert_ctx_logits(c));
            /* the NaN embedding row is only reached by the token that has it */
            assert_int_equal(bert_ctx_run(c, other, NULL, NULL, 1, 3, NULL), k ? BERT_OK : BERT_E_NUMERIC);
            bert_ctx_free(c);
            bert_model_free(m);
        }
    }
}

/* The LM head's logits get the same check (fill-mask scores, the next token of a generation):
 * shifts of 3e38 in the transform's LayerNorm and the decoder's bias overflow the logits. */
static void test_overflowing_lm_logits_are_an_error(void **state)
{
    (void)state;
    char p[512], err[512];
    char *bytes = NULL, *cfg = NULL;
    size_t n = 0, n_cfg = 0;
    snprintf(p, sizeof p, "%s/models/tiny-causal/model.safetensors", test_shared_dir());
    assert_int_equal(bert__read_file(p, &bytes, &n, err, sizeof err), BERT_OK);
    snprintf(p, sizeof p, "%s/models/tiny-causal/config.json", test_shared_dir());
    assert_int_equal(bert__read_file(p, &cfg, &n_cfg, err, sizeof err), BERT_OK);
    uint64_t hlen;
    memcpy(&hlen, bytes, 8);
    json_error_t je;
    json_t *h = json_loadb(bytes + 8, (size_t)hlen, 0, &je);
    static const char *const shifted[2] = {"cls.predictions.transform.LayerNorm.bias", "cls.predictions.bias"};
    for (int k = 0; k < 2; k++) {
        json_t *t = json_object_get(h, shifted[k]);
        assert_non_null(t);
        json_t *offs = json_object_get(t, "data_offsets");
        const size_t at = 8 + (size_t)hlen + (size_t)json_integer_value(json_array_get(offs, 0));
        const size_t end = 8 + (size_t)hlen + (size_t)json_integer_value(json_array_get(offs, 1));
        for (size_t i = at; i + 4 <= end; i += 4) {
            const float big = 3e38f;
            memcpy(bytes + i, &big, 4);
        }
    }
    json_decref(h);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/lm-overflow", test_tmpdir());
    mkdir(dir, 0700);
    test_write_file(dir, "config.json", cfg, n_cfg);
    test_write_file(dir, "model.safetensors", bytes, n);
    bert__free(bytes);
    bert__free(cfg);
    bert_model *m = NULL;
    if (bert_model_load(dir, NULL, &m, err, sizeof err) != BERT_OK)
        fail_msg("%s", err);
    bert_ctx *c = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &c, err, sizeof err), BERT_OK);
    const int32_t ids[3] = {101, 7592, 1010};
    assert_int_equal(bert_ctx_prefill(c, ids, 3), BERT_E_NUMERIC);
    assert_non_null(strstr(bert_ctx_errmsg(c), "the LM head's logits hold"));
    assert_null(bert_ctx_next_logits(c));
    bert_ctx_free(c);
    bert_model_free(m);
}

/* Families without absolute positions cannot continue a cached sequence: refused by name, as is
 * a RoBERTa input longer than its positions counted from padding_idx + 1 allow. */
static void test_family_run_limits(void **state)
{
    (void)state;
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/models/tiny-mpnet-seqcls", test_shared_dir());
    bert_model *m = NULL;
    assert_int_equal(bert_model_load(dir, NULL, &m, err, sizeof err), BERT_OK);
    bert_ctx *c = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &c, err, sizeof err), BERT_OK);
    const int32_t ids[3] = {0, 100, 2};
    assert_int_equal(bert_ctx_prefill(c, ids, 3), BERT_E_UNSUPPORTED);
    assert_non_null(strstr(bert_ctx_errmsg(c), "bert_ctx_prefill: incremental decoding is not implemented for "
                                               "relative positions (model_type \"mpnet\")"));
    bert_ctx_free(c);
    bert_model_free(m);
    snprintf(dir, sizeof dir, "%s/models/tiny-roberta-seqcls", test_shared_dir());
    assert_int_equal(bert_model_load(dir, NULL, &m, err, sizeof err), BERT_OK);
    assert_int_equal(bert_ctx_new(m, NULL, &c, err, sizeof err), BERT_OK);
    int32_t *many = calloc(513, sizeof *many);
    assert_non_null(many);
    for (size_t i = 0; i < 513; i++)
        many[i] = 100;
    assert_int_equal(bert_ctx_run(c, many, NULL, NULL, 1, 513, NULL), BERT_E_TOO_LONG);
    assert_non_null(strstr(bert_ctx_errmsg(c), "sequence length 513 exceeds 512 (max_position_embeddings 514, "
                                               "positions counted from padding_idx + 1)"));
    assert_int_equal(bert_ctx_run(c, many, NULL, NULL, 1, 512, NULL), BERT_OK);
    free(many);
    bert_ctx_free(c);
    bert_model_free(m);
}

static void test_run_rejects_bad_inputs(void **state)
{
    (void)state;
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/models/tiny-maxpos64-type1", test_shared_dir());
    bert_model *m = NULL;
    assert_int_equal(bert_model_load(dir, NULL, &m, err, sizeof err), BERT_OK);
    bert_ctx *c = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &c, err, sizeof err), BERT_OK);
    int32_t ids[2 * 65] = {0}, types[2 * 65] = {0};
    ids[3] = 30522;
    assert_int_equal(bert_ctx_run(c, ids, NULL, NULL, 2, 4, NULL), BERT_E_INVALID_ARG);
    assert_non_null(strstr(bert_ctx_errmsg(c), "row 0, position 3: token id 30522 is outside [0, 30522)"));
    ids[3] = -1;
    assert_int_equal(bert_ctx_run(c, ids, NULL, NULL, 2, 4, NULL), BERT_E_INVALID_ARG);
    ids[3] = 5;
    types[5] = 1; /* type_vocab_size is 1 here */
    assert_int_equal(bert_ctx_run(c, ids, types, NULL, 2, 4, NULL), BERT_E_INVALID_ARG);
    assert_non_null(strstr(bert_ctx_errmsg(c), "row 1, position 1: token type id 1 is outside [0, 1)"));
    assert_int_equal(bert_ctx_run(c, ids, NULL, NULL, 2, 65, NULL), BERT_E_TOO_LONG);
    assert_non_null(strstr(bert_ctx_errmsg(c), "exceeds 64 (max_position_embeddings 64)"));
    assert_null(bert_ctx_hidden(c, -1));
    assert_int_equal(bert_ctx_run(c, NULL, NULL, NULL, 1, 1, NULL), BERT_E_INVALID_ARG);
    assert_int_equal(bert_ctx_run(c, ids, NULL, NULL, 0, 4, NULL), BERT_E_INVALID_ARG);
    assert_int_equal(bert_ctx_run(c, ids, NULL, NULL, 2, 64, NULL), BERT_OK);
    assert_string_equal(bert_ctx_errmsg(c), "");
    assert_non_null(bert_ctx_hidden(c, -1));
    assert_null(bert_ctx_hidden(c, 0)); /* intermediate layers only when asked for */
    assert_int_equal(bert_ctx_batch(c), 2);
    bert_ctx_params bad = bert_ctx_default_params();
    bad.n_threads = -2;
    bert_ctx *c2 = (bert_ctx *)1;
    assert_int_equal(bert_ctx_new(m, &bad, &c2, err, sizeof err), BERT_E_INVALID_ARG);
    assert_null(c2);
    bert_ctx_free(c);
    bert_model_free(m);
}

static void test_forced_causal_mask_changes_bidirectional_output(void **state)
{
    (void)state;
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/models/%s", test_shared_dir(), SRC);
    bert_model *m = NULL;
    assert_int_equal(bert_model_load(dir, NULL, &m, err, sizeof err), BERT_OK);
    bert_ctx *c = NULL;
    assert_int_equal(bert_ctx_new(m, NULL, &c, err, sizeof err), BERT_OK);
    const int32_t ids[5] = {101, 7592, 2088, 999, 102};
    const size_t H = bert_model_get_info(m).hidden_size;
    float bi[5 * 64], ca[5 * 64];
    bert_run_params rp = bert_run_default_params();
    assert_int_equal(bert_ctx_run(c, ids, NULL, NULL, 1, 5, &rp), BERT_OK);
    memcpy(bi, bert_ctx_hidden(c, -1), 5 * H * sizeof(float));
    rp.attn_mode = BERT_ATTN_CAUSAL;
    assert_int_equal(bert_ctx_run(c, ids, NULL, NULL, 1, 5, &rp), BERT_OK);
    memcpy(ca, bert_ctx_hidden(c, -1), 5 * H * sizeof(float));
    /* under the mask the first position sees only itself, so its output changes */
    double d_first = 0;
    for (size_t h = 0; h < H; h++)
        d_first += (bi[h] - ca[h]) * (bi[h] - ca[h]);
    assert_true(d_first > 1e-6);
    /* causal run of a prefix equals the prefix of the causal run: future tokens are invisible */
    assert_int_equal(bert_ctx_run(c, ids, NULL, NULL, 1, 3, &rp), BERT_OK);
    for (size_t i = 0; i < 3 * H; i++)
        assert_true(fabsf(bert_ctx_hidden(c, -1)[i] - ca[i]) < 1e-5f);
    bert_ctx_free(c);
    bert_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_and_bad_header_lengths),
        cmocka_unit_test(test_corrupt_json_header_and_dtypes),
        cmocka_unit_test(test_offsets_overlapping_out_of_range_and_mismatched),
        cmocka_unit_test(test_missing_tensor_wrong_shape_and_disagreement),
        cmocka_unit_test(test_unsupported_and_broken_configs),
        cmocka_unit_test(test_respelled_sharded_and_unaligned_checkpoints_load_identically),
        cmocka_unit_test(test_nonfinite_weights_are_refused),
        cmocka_unit_test(test_overflowing_results_are_an_error),
        cmocka_unit_test(test_overflowing_lm_logits_are_an_error),
        cmocka_unit_test(test_run_rejects_bad_inputs),
        cmocka_unit_test(test_family_run_limits),
        cmocka_unit_test(test_forced_causal_mask_changes_bidirectional_output),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
