/* config.json: every BertConfig field that changes the computation. Unknown fields are ignored as
 * transformers ignores them; fields we cannot honour are refused with what to do instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/json.h"

#include "encoder.h"

void bert__config_free(bert__config *cfg)
{
    if (cfg->labels) {
        for (size_t i = 0; i < cfg->info.n_labels; i++)
            bert__free(cfg->labels[i]);
        bert__free(cfg->labels);
    }
    cfg->labels = NULL;
}

static bert_status get_size(const char *path, json_t *root, const char *key, size_t *dst, int required, size_t min,
                            char *errbuf, size_t errbuf_size)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        if (required)
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"%s\" is missing", path, key);
        return BERT_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min || json_integer_value(v) > (1LL << 40))
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"%s\" must be an integer >= %zu", path, key,
                                min);
    *dst = (size_t)json_integer_value(v);
    return BERT_OK;
}

static bert_status read_labels(const char *path, json_t *root, bert__config *cfg, char *errbuf, size_t errbuf_size)
{
    json_t *id2label = json_object_get(root, "id2label");
    json_t *num = json_object_get(root, "num_labels");
    size_t n = 0;
    if (json_is_object(id2label))
        n = json_object_size(id2label);
    else if (id2label && !json_is_null(id2label))
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"id2label\" must be an object", path);
    if (num) {
        if (!json_is_integer(num) || json_integer_value(num) < 0 || json_integer_value(num) > 1000000)
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"num_labels\" must be an integer >= 0",
                                    path);
        if (n && (size_t)json_integer_value(num) != n)
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                    "%s: \"num_labels\" is %lld but \"id2label\" has %zu entries", path,
                                    (long long)json_integer_value(num), n);
        n = (size_t)json_integer_value(num);
    }
    if (n == 0)
        n = 2; /* transformers' PretrainedConfig default */
    cfg->labels = bert__calloc(n, sizeof *cfg->labels);
    if (!cfg->labels)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating %zu labels", path, n);
    cfg->info.n_labels = n;
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%zu", i);
        json_t *v = json_is_object(id2label) ? json_object_get(id2label, key) : NULL;
        if (json_is_object(id2label) && !json_is_string(v))
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                    "%s: \"id2label\" must map \"0\"..\"%zu\" to strings; \"%s\" is missing or not a string",
                                    path, n - 1, key);
        char fallback[32];
        snprintf(fallback, sizeof fallback, "LABEL_%zu", i);
        const char *s = v ? json_string_value(v) : fallback;
        cfg->labels[i] = bert__strndup(s, strlen(s));
        if (!cfg->labels[i])
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating labels", path);
        /* labels are looked up and printed by name (JSONL keys, gold labels, GLUE's mapping) */
        for (size_t k = 0; k < i; k++)
            if (!strcmp(cfg->labels[k], cfg->labels[i]))
                return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                        "%s: \"id2label\" names labels %zu and %zu both \"%s\"; each label needs a "
                                        "name of its own",
                                        path, k, i, cfg->labels[i]);
    }
    return BERT_OK;
}

static const struct {
    const char *name;
    bert_arch arch;
} archs[] = {
    {"BertModel", BERT_ARCH_BASE},
    {"BertForSequenceClassification", BERT_ARCH_SEQUENCE_CLASSIFICATION},
    {"BertForTokenClassification", BERT_ARCH_TOKEN_CLASSIFICATION},
    {"BertForMaskedLM", BERT_ARCH_MASKED_LM},
    {"BertForPreTraining", BERT_ARCH_MASKED_LM},
    {"BertLMHeadModel", BERT_ARCH_CAUSAL_LM},
    {"BertForMultipleChoice", BERT_ARCH_MULTIPLE_CHOICE},
};

bert_status bert__config_parse(const char *data, size_t len, const char *path, bert__config *cfg, char *errbuf,
                               size_t errbuf_size)
{
    bert_status st = BERT_OK;
    json_t *root = NULL;
    bert_model_info *in = &cfg->info;

    memset(cfg, 0, sizeof *cfg);
    if ((st = bert__json_object(data, len, path, &root, errbuf, errbuf_size)) != BERT_OK)
        goto fail;
    json_t *mt = json_object_get(root, "model_type");
    if (json_is_string(mt) && strcmp(json_string_value(mt), "bert") != 0) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                              "%s: model_type \"%s\" is not supported; libbert runs BERT checkpoints (model_type \"bert\")",
                              path, json_string_value(mt));
        goto fail;
    }
    /* BertConfig's defaults (bert-base) for the fields a config may leave out. */
    in->vocab_size = 30522;
    in->hidden_size = 768;
    in->n_layers = 12;
    in->n_heads = 12;
    in->intermediate_size = 3072;
    in->max_positions = 512;
    in->type_vocab_size = 2;
    in->layer_norm_eps = 1e-12f;
    cfg->tie_word_embeddings = 1;
    if ((st = get_size(path, root, "vocab_size", &in->vocab_size, 0, 1, errbuf, errbuf_size)) ||
        (st = get_size(path, root, "hidden_size", &in->hidden_size, 0, 1, errbuf, errbuf_size)) ||
        (st = get_size(path, root, "num_hidden_layers", &in->n_layers, 0, 1, errbuf, errbuf_size)) ||
        (st = get_size(path, root, "num_attention_heads", &in->n_heads, 0, 1, errbuf, errbuf_size)) ||
        (st = get_size(path, root, "intermediate_size", &in->intermediate_size, 0, 1, errbuf, errbuf_size)) ||
        (st = get_size(path, root, "max_position_embeddings", &in->max_positions, 0, 1, errbuf, errbuf_size)) ||
        (st = get_size(path, root, "type_vocab_size", &in->type_vocab_size, 0, 1, errbuf, errbuf_size)))
        goto fail;
    if (in->hidden_size % in->n_heads != 0) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                              "%s: hidden_size %zu is not a multiple of num_attention_heads %zu", path, in->hidden_size,
                              in->n_heads);
        goto fail;
    }
    json_t *v = json_object_get(root, "layer_norm_eps");
    if (v) {
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"layer_norm_eps\" must be in (0, 1]", path);
            goto fail;
        }
        in->layer_norm_eps = (float)json_number_value(v);
    }
    v = json_object_get(root, "hidden_act");
    if (v) {
        const char *a = json_string_value(v);
        if (!a) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"hidden_act\" must be a string", path);
            goto fail;
        }
        if (!strcmp(a, "gelu"))
            in->activation = BERT_ACT_GELU;
        else if (!strcmp(a, "gelu_new") || !strcmp(a, "gelu_pytorch_tanh"))
            in->activation = BERT_ACT_GELU_TANH;
        else if (!strcmp(a, "relu"))
            in->activation = BERT_ACT_RELU;
        else if (!strcmp(a, "silu") || !strcmp(a, "swish"))
            in->activation = BERT_ACT_SILU;
        else {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                  "%s: hidden_act \"%s\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu, silu)",
                                  path, a);
            goto fail;
        }
    }
    v = json_object_get(root, "position_embedding_type");
    if (v && !json_is_null(v) && (!json_is_string(v) || strcmp(json_string_value(v), "absolute") != 0)) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                              "%s: position_embedding_type \"%s\" is not supported; only \"absolute\" positions are "
                              "(relative_key models must be run with transformers)",
                              path, json_is_string(v) ? json_string_value(v) : "?");
        goto fail;
    }
    if (json_is_true(json_object_get(root, "add_cross_attention"))) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                              "%s: add_cross_attention (encoder-decoder use) is not supported", path);
        goto fail;
    }
    in->is_decoder = json_is_true(json_object_get(root, "is_decoder"));
    v = json_object_get(root, "tie_word_embeddings");
    if (v)
        cfg->tie_word_embeddings = json_is_true(v);
    cfg->pad_token_id = 0;
    v = json_object_get(root, "pad_token_id");
    if (json_is_integer(v))
        cfg->pad_token_id = (int32_t)json_integer_value(v);

    snprintf(cfg->arch_name, sizeof cfg->arch_name, "BertModel");
    v = json_object_get(root, "architectures");
    if (json_is_array(v) && json_array_size(v) > 0 && json_is_string(json_array_get(v, 0)))
        snprintf(cfg->arch_name, sizeof cfg->arch_name, "%s", json_string_value(json_array_get(v, 0)));
    size_t k;
    for (k = 0; k < sizeof archs / sizeof archs[0]; k++)
        if (!strcmp(archs[k].name, cfg->arch_name))
            break;
    if (k == sizeof archs / sizeof archs[0]) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                              "%s: architecture \"%s\" is not supported (BertModel, BertForSequenceClassification, "
                              "BertForTokenClassification, BertForMaskedLM, BertLMHeadModel, BertForMultipleChoice)",
                              path, cfg->arch_name);
        goto fail;
    }
    in->arch = archs[k].arch;
    in->arch_name = cfg->arch_name;

    /* "dtype" (transformers 5) or the older "torch_dtype": informative; the file's dtypes rule. */
    v = json_object_get(root, "dtype");
    if (!v)
        v = json_object_get(root, "torch_dtype");
    snprintf(cfg->dtype, sizeof cfg->dtype, "F32");
    if (json_is_string(v)) {
        const char *d = json_string_value(v);
        if (!strcmp(d, "float16"))
            snprintf(cfg->dtype, sizeof cfg->dtype, "F16");
        else if (!strcmp(d, "bfloat16"))
            snprintf(cfg->dtype, sizeof cfg->dtype, "BF16");
        else if (strcmp(d, "float32") != 0) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                  "%s: dtype \"%s\" is not supported (float32, float16, bfloat16)", path, d);
            goto fail;
        }
    }
    in->dtype = cfg->dtype;

    if (in->arch == BERT_ARCH_SEQUENCE_CLASSIFICATION || in->arch == BERT_ARCH_TOKEN_CLASSIFICATION) {
        if ((st = read_labels(path, root, cfg, errbuf, errbuf_size)) != BERT_OK)
            goto fail;
        v = json_object_get(root, "problem_type");
        const char *pt = json_is_string(v) ? json_string_value(v) : NULL;
        if (!pt)
            in->problem = in->n_labels == 1 ? BERT_PROBLEM_REGRESSION : BERT_PROBLEM_SINGLE_LABEL;
        else if (!strcmp(pt, "single_label_classification"))
            in->problem = BERT_PROBLEM_SINGLE_LABEL;
        else if (!strcmp(pt, "multi_label_classification"))
            in->problem = BERT_PROBLEM_MULTI_LABEL;
        else if (!strcmp(pt, "regression"))
            in->problem = BERT_PROBLEM_REGRESSION;
        else {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED, "%s: problem_type \"%s\" is not supported",
                                  path, pt);
            goto fail;
        }
    } else if (in->arch == BERT_ARCH_MULTIPLE_CHOICE) {
        in->n_labels = 1;
        in->problem = BERT_PROBLEM_NONE;
    }
fail:
    json_decref(root);
    if (st != BERT_OK)
        bert__config_free(cfg);
    return st;
}

bert_status bert__config_read(const char *path, bert__config *cfg, char *errbuf, size_t errbuf_size)
{
    char *data = NULL;
    size_t len = 0;
    memset(cfg, 0, sizeof *cfg);
    bert_status st = bert__read_file(path, &data, &len, errbuf, errbuf_size);
    if (st == BERT_OK)
        st = bert__config_parse(data, len, path, cfg, errbuf, errbuf_size);
    bert__free(data);
    return st;
}
