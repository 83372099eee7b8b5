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
            return bert__errbuf_set(
                errbuf, errbuf_size, BERT_E_FORMAT,
                "%s: \"id2label\" must map \"0\"..\"%zu\" to strings; \"%s\" is missing or not a string", path, n - 1,
                key);
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

/* The task classes: architectures[0] is the family's class prefix and one of these. */
static const struct {
    const char *suffix;
    bert_arch arch;
    unsigned task;
} tasks[] = {
    {"Model", BERT_ARCH_BASE, BERT__TASK_BASE},
    {"ForSequenceClassification", BERT_ARCH_SEQUENCE_CLASSIFICATION, BERT__TASK_SEQ},
    {"ForTokenClassification", BERT_ARCH_TOKEN_CLASSIFICATION, BERT__TASK_TOKEN},
    {"ForMaskedLM", BERT_ARCH_MASKED_LM, BERT__TASK_MLM},
    {"ForPreTraining", BERT_ARCH_MASKED_LM, BERT__TASK_PRETRAIN},
    {"LMHeadModel", BERT_ARCH_CAUSAL_LM, BERT__TASK_CAUSAL},
    {"ForMultipleChoice", BERT_ARCH_MULTIPLE_CHOICE, BERT__TASK_CHOICE},
};

/* "BertModel, BertForSequenceClassification, ..." for the family's task classes. */
static void task_list(const bert__family *f, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0] && k < n; i++)
        if (f->tasks & tasks[i].task)
            k += (size_t)snprintf(out + k, n - k, "%s%s%s", k ? ", " : "", f->class_prefix, tasks[i].suffix);
}

static bert_status parse_activation(const char *path, const char *key, json_t *v, int *dst, char *errbuf,
                                    size_t errbuf_size)
{
    const char *a = json_string_value(v);
    if (!a)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"%s\" must be a string", path, key);
    if (!strcmp(a, "gelu"))
        *dst = BERT_ACT_GELU;
    else if (!strcmp(a, "gelu_new") || !strcmp(a, "gelu_pytorch_tanh"))
        *dst = BERT_ACT_GELU_TANH;
    else if (!strcmp(a, "relu"))
        *dst = BERT_ACT_RELU;
    else if (!strcmp(a, "silu") || !strcmp(a, "swish"))
        *dst = BERT_ACT_SILU;
    else if (!strcmp(a, "tanh"))
        *dst = BERT_ACT_TANH;
    else
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                "%s: %s \"%s\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu, silu, tanh)",
                                path, key, a);
    return BERT_OK;
}

static bert_status unsupported(const char *path, const char *key, json_t *v, const char *why, char *errbuf,
                               size_t errbuf_size)
{
    char *val = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    bert_status st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED, "%s: %s %s is not supported%s%s", path,
                                      key, val ? val : "?", why ? ": " : "", why ? why : "");
    free(val);
    return st;
}

/* The keys only some families have: embedding sizes, shared layer groups, relative positions. */
static bert_status family_options(const char *path, json_t *root, bert__config *cfg, char *errbuf, size_t errbuf_size)
{
    const bert__family *f = cfg->fam;
    bert_model_info *in = &cfg->info;
    bert_status st;
    json_t *v;
    cfg->embedding_size = in->hidden_size;
    if (f->has_embedding_size) {
        if ((st = get_size(path, root, "embedding_size", &cfg->embedding_size, 0, 1, errbuf, errbuf_size)) != BERT_OK)
            return st;
        if (cfg->embedding_size > in->hidden_size)
            return unsupported(path, "embedding_size", json_object_get(root, "embedding_size"),
                               "libbert needs embedding_size <= hidden_size", errbuf, errbuf_size);
    }
    in->embedding_size = cfg->embedding_size;
    cfg->n_groups = in->n_layers;
    if (f->shared_groups) {
        cfg->n_groups = 1;
        size_t inner = 1;
        if ((st = get_size(path, root, "num_hidden_groups", &cfg->n_groups, 0, 1, errbuf, errbuf_size)) != BERT_OK ||
            (st = get_size(path, root, "inner_group_num", &inner, 0, 1, errbuf, errbuf_size)) != BERT_OK)
            return st;
        if (inner != 1)
            return unsupported(path, "inner_group_num", json_object_get(root, "inner_group_num"),
                               "only one layer per group (as every released ALBERT) is", errbuf, errbuf_size);
        if (cfg->n_groups > in->n_layers || in->n_layers % cfg->n_groups)
            return unsupported(path, "num_hidden_groups", json_object_get(root, "num_hidden_groups"),
                               "it must divide num_hidden_layers", errbuf, errbuf_size);
    }
    cfg->positions = f->positions;
    cfg->pos_offset = f->positions == BERT__POS_FROM_PAD ? cfg->pad_token_id + 1 : 0;
    in->max_sequence_length = in->max_positions - (f->positions == BERT__POS_FROM_PAD && cfg->pad_token_id >= 0
                                                        ? (size_t)cfg->pad_token_id + 1
                                                        : 0);
    if (f->positions == BERT__POS_FROM_PAD && (cfg->pad_token_id < 0 || (size_t)cfg->pos_offset >= in->max_positions))
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                "%s: pad_token_id %d leaves no positions below max_position_embeddings %zu", path,
                                (int)cfg->pad_token_id, in->max_positions);
    if (!strcmp(f->model_type, "distilbert")) {
        v = json_object_get(root, "sinusoidal_pos_embds");
        /* the sinusoids are written into position_embeddings.weight at init and saved with it */
        (void)v;
    }
    if (f->relative == BERT__REL_BUCKET_BIAS) {
        cfg->rel_buckets = 32;
        cfg->rel_max_distance = 128; /* fixed in MPNet's code */
        if ((st = get_size(path, root, "relative_attention_num_buckets", &cfg->rel_buckets, 0, 2, errbuf,
                           errbuf_size)) != BERT_OK)
            return st;
    }
    if (f->relative == BERT__REL_DISENTANGLED) {
        if (!json_is_true(json_object_get(root, "relative_attention")))
            return unsupported(path, "relative_attention", json_object_get(root, "relative_attention"),
                               "libbert runs DeBERTa with its relative attention (true)", errbuf, errbuf_size);
        v = json_object_get(root, "position_biased_input");
        if (!v || json_is_true(v))
            cfg->positions = BERT__POS_INDEX;
        v = json_object_get(root, "share_att_key");
        if (!json_is_true(v))
            return unsupported(path, "share_att_key", v ? v : json_false(),
                               "separate pos_key_proj/pos_query_proj weights are not implemented", errbuf, errbuf_size);
        v = json_object_get(root, "conv_kernel_size");
        if (v && !(json_is_integer(v) && json_integer_value(v) == 0))
            return unsupported(path, "conv_kernel_size", v, "DeBERTa's convolution layer is not implemented", errbuf,
                               errbuf_size);
        v = json_object_get(root, "embedding_size");
        if (v && !json_is_null(v) && !(json_is_integer(v) && (size_t)json_integer_value(v) == in->hidden_size))
            return unsupported(path, "embedding_size", v, "it must equal hidden_size", errbuf, errbuf_size);
        v = json_object_get(root, "pos_att_type");
        if (json_is_string(v)) { /* older configs: "p2c|c2p" */
            const char *s = json_string_value(v);
            cfg->c2p = strstr(s, "c2p") != NULL;
            cfg->p2c = strstr(s, "p2c") != NULL;
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                const char *s = json_string_value(e);
                if (s && !strcmp(s, "c2p"))
                    cfg->c2p = 1;
                else if (s && !strcmp(s, "p2c"))
                    cfg->p2c = 1;
                else
                    return unsupported(path, "pos_att_type", v, "only \"c2p\" and \"p2c\" are", errbuf, errbuf_size);
            }
        } else if (v && !json_is_null(v)) {
            return unsupported(path, "pos_att_type", v, "expected a list of \"c2p\" and \"p2c\"", errbuf, errbuf_size);
        }
        v = json_object_get(root, "norm_rel_ebd");
        if (json_is_string(v) && strstr(json_string_value(v), "layer_norm"))
            cfg->rel_ln = 1;
        else if (v && !json_is_null(v) && !(json_is_string(v) && !strcmp(json_string_value(v), "none")))
            return unsupported(path, "norm_rel_ebd", v, "\"layer_norm\" or \"none\"", errbuf, errbuf_size);
        json_int_t buckets = -1, maxrel = -1;
        v = json_object_get(root, "position_buckets");
        if (v && !json_is_integer(v))
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"position_buckets\" must be an integer",
                                    path);
        if (v)
            buckets = json_integer_value(v);
        v = json_object_get(root, "max_relative_positions");
        if (v && !json_is_integer(v))
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                    "%s: \"max_relative_positions\" must be an integer", path);
        if (v)
            maxrel = json_integer_value(v);
        if (maxrel < 1)
            maxrel = (json_int_t)in->max_positions;
        if (buckets > 1 << 20 || maxrel > 1 << 20)
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                    "%s: position_buckets / max_relative_positions are out of range", path);
        cfg->rel_max_pos = (size_t)maxrel;
        cfg->rel_log_buckets = buckets > 0 ? (size_t)buckets : 0;
        cfg->rel_span = buckets > 0 ? (size_t)buckets : (size_t)maxrel;
        if (buckets > 0 && buckets < 2)
            return unsupported(path, "position_buckets", json_object_get(root, "position_buckets"), "it must be >= 2",
                               errbuf, errbuf_size);
        v = json_object_get(root, "pooler_hidden_size");
        if (v && !(json_is_integer(v) && (size_t)json_integer_value(v) == in->hidden_size))
            return unsupported(path, "pooler_hidden_size", v, "it must equal hidden_size", errbuf, errbuf_size);
        cfg->pool_act = BERT__POST_GELU_ERF;
        v = json_object_get(root, "pooler_hidden_act");
        if (v) {
            int a;
            if ((st = parse_activation(path, "pooler_hidden_act", v, &a, errbuf, errbuf_size)) != BERT_OK)
                return st;
            cfg->pool_act = bert__activation((bert_activation)a);
        }
    }
    return BERT_OK;
}

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
    cfg->fam = bert__family_default();
    if (mt && !json_is_string(mt)) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"model_type\" must be a string", path);
        goto fail;
    }
    if (mt) {
        cfg->fam = bert__family_find(json_string_value(mt));
        if (!cfg->fam) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                  "%s: model_type \"%s\" is not supported (supported: %s)", path, json_string_value(mt),
                                  bert__family_list());
            goto fail;
        }
    }
    const bert__family *f = cfg->fam;
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", f->model_type);
    in->model_type = cfg->model_type;
    /* the family's config class defaults for the fields a config may leave out */
    in->vocab_size = f->def_vocab;
    in->hidden_size = f->def_hidden;
    in->n_layers = f->def_layers;
    in->n_heads = f->def_heads;
    in->intermediate_size = f->def_inter;
    in->max_positions = f->def_positions;
    in->type_vocab_size = f->def_types;
    in->layer_norm_eps = f->def_eps;
    in->activation = (bert_activation)f->def_act;
    cfg->tie_word_embeddings = 1;
#define KEY(k, bert_name) (f->k ? f->k : bert_name)
    if ((st = get_size(path, root, "vocab_size", &in->vocab_size, 0, 1, errbuf, errbuf_size)) ||
        (st = get_size(path, root, KEY(key_hidden, "hidden_size"), &in->hidden_size, 0, 1, errbuf, errbuf_size)) ||
        (st = get_size(path, root, KEY(key_layers, "num_hidden_layers"), &in->n_layers, 0, 1, errbuf, errbuf_size)) ||
        (st = get_size(path, root, KEY(key_heads, "num_attention_heads"), &in->n_heads, 0, 1, errbuf, errbuf_size)) ||
        (st = get_size(path, root, KEY(key_inter, "intermediate_size"), &in->intermediate_size, 0, 1, errbuf,
                       errbuf_size)) ||
        (st = get_size(path, root, "max_position_embeddings", &in->max_positions, 0, 1, errbuf, errbuf_size)))
        goto fail;
    if (f->def_types && (st = get_size(path, root, "type_vocab_size", &in->type_vocab_size, 0, 1, errbuf, errbuf_size)))
        goto fail;
    if (f->relative == BERT__REL_DISENTANGLED &&
        (st = get_size(path, root, "type_vocab_size", &in->type_vocab_size, 0, 0, errbuf, errbuf_size)))
        goto fail;
    if (in->hidden_size % in->n_heads != 0) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: %s %zu is not a multiple of %s %zu", path,
                              KEY(key_hidden, "hidden_size"), in->hidden_size, KEY(key_heads, "num_attention_heads"),
                              in->n_heads);
        goto fail;
    }
    json_t *v = f->has_eps_key ? json_object_get(root, "layer_norm_eps") : NULL;
    if (v) {
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"layer_norm_eps\" must be in (0, 1]", path);
            goto fail;
        }
        in->layer_norm_eps = (float)json_number_value(v);
    }
    v = json_object_get(root, KEY(key_act, "hidden_act"));
    if (v) {
        int a;
        if ((st = parse_activation(path, KEY(key_act, "hidden_act"), v, &a, errbuf, errbuf_size)) != BERT_OK)
            goto fail;
        in->activation = (bert_activation)a;
    }
#undef KEY
    v = json_object_get(root, "position_embedding_type");
    if (v && !json_is_null(v) && (!json_is_string(v) || strcmp(json_string_value(v), "absolute") != 0)) {
        st = unsupported(path, "position_embedding_type", v,
                         "only \"absolute\" positions are (relative_key models must be run with transformers)", errbuf,
                         errbuf_size);
        goto fail;
    }
    if (json_is_true(json_object_get(root, "add_cross_attention"))) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                              "%s: add_cross_attention (encoder-decoder use) is not supported", path);
        goto fail;
    }
    in->is_decoder = json_is_true(json_object_get(root, "is_decoder"));
    if (in->is_decoder && !(f->tasks & BERT__TASK_CAUSAL)) {
        st = unsupported(path, "is_decoder", json_true(), "causal attention is implemented for model_type \"bert\"",
                         errbuf, errbuf_size);
        goto fail;
    }
    v = json_object_get(root, "tie_word_embeddings");
    if (v)
        cfg->tie_word_embeddings = json_is_true(v);
    cfg->pad_token_id = (int32_t)f->def_pad;
    v = json_object_get(root, "pad_token_id");
    if (json_is_integer(v) && json_integer_value(v) >= -1 && json_integer_value(v) < (json_int_t)in->vocab_size)
        cfg->pad_token_id = (int32_t)json_integer_value(v);
    cfg->pool_act = f->pool_act;
    cfg->lm_act = f->lm_act == BERT__ACT_CONFIG ? (int)bert__activation(in->activation) : f->lm_act;
    if ((st = family_options(path, root, cfg, errbuf, errbuf_size)) != BERT_OK)
        goto fail;

    snprintf(cfg->arch_name, sizeof cfg->arch_name, "%sModel", f->class_prefix);
    v = json_object_get(root, "architectures");
    if (json_is_array(v) && json_array_size(v) > 0 && json_is_string(json_array_get(v, 0)))
        snprintf(cfg->arch_name, sizeof cfg->arch_name, "%s", json_string_value(json_array_get(v, 0)));
    /* the task from the class name's suffix; its prefix must be the family's (model_type rules
     * the math, as transformers' Auto classes read it) */
    size_t k;
    const size_t plen = strlen(f->class_prefix);
    for (k = 0; k < sizeof tasks / sizeof tasks[0]; k++)
        if ((f->tasks & tasks[k].task) && !strncmp(cfg->arch_name, f->class_prefix, plen) &&
            !strcmp(cfg->arch_name + plen, tasks[k].suffix))
            break;
    if (k == sizeof tasks / sizeof tasks[0]) {
        char list[512];
        task_list(f, list, sizeof list);
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                              "%s: architectures \"%s\" is not supported for model_type \"%s\" (%s)", path,
                              cfg->arch_name, f->model_type, list);
        goto fail;
    }
    in->arch = tasks[k].arch;
    in->arch_name = cfg->arch_name;
    if (tasks[k].task == BERT__TASK_PRETRAIN && f->disc_dense) {
        /* ELECTRA's discriminator: a per-token logit, the probability (sigmoid) that the token was
         * replaced: token classification with one sigmoid label */
        in->arch = BERT_ARCH_TOKEN_CLASSIFICATION;
        cfg->discriminator = 1;
    }

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

    if (cfg->discriminator) {
        cfg->labels = bert__calloc(1, sizeof *cfg->labels);
        if (cfg->labels)
            cfg->labels[0] = bert__strndup("replaced", 8);
        if (!cfg->labels || !cfg->labels[0]) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating labels", path);
            goto fail;
        }
        in->n_labels = 1;
        in->problem = BERT_PROBLEM_MULTI_LABEL;
    } else if (in->arch == BERT_ARCH_SEQUENCE_CLASSIFICATION || in->arch == BERT_ARCH_TOKEN_CLASSIFICATION) {
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
