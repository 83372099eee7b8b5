/* A sentence-transformers folder: modules.json and the modules' own files (1_Pooling/config.json,
 * 2_Dense/, Normalize), sentence_bert_config.json (max_seq_length), config_sentence_transformers.json
 * (prompts), and a cross-encoder's activation in config.json. Read at load, next to the HF model
 * the folder holds; the embed and rerank heads apply them. Module types, pooling modes and
 * activations libbert does not implement are refused by name. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/json.h"
#include "encoder.h"

void bert__st_free(bert__st *st)
{
    for (size_t i = 0; i < st->n_dense; i++) {
        bert__free((void *)st->dense[i].lin.w);
        bert__free((void *)st->dense[i].lin.b);
    }
    for (size_t i = 0; i < st->n_prompts; i++) {
        bert__free(st->prompt_names[i]);
        bert__free(st->prompts[i]);
    }
    bert__free(st->prompt_names);
    bert__free(st->prompts);
    bert__free(st->default_prompt);
    memset(st, 0, sizeof *st);
}

/* dir/rel as a JSON object (a list for modules.json), or *root NULL when the file does not exist. */
static bert_status read_json(const char *dir, const char *rel, json_t **root, char *errbuf, size_t errbuf_size)
{
    const int any = !strcmp(rel, "modules.json");
    *root = NULL;
    char *path = bert__path_join(dir, rel);
    if (!path)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating a path", dir);
    bert_status st = BERT_OK;
    if (access(path, F_OK) == 0) {
        char *data = NULL;
        size_t len = 0;
        if ((st = bert__read_file(path, &data, &len, errbuf, errbuf_size)) == BERT_OK)
            st = (any ? bert__json_value : bert__json_object)(data, len, path, root, errbuf, errbuf_size);
        bert__free(data);
    }
    bert__free(path);
    return st;
}

/* torch.nn activation class names, as sentence-transformers stores them. */
static int activation_of(const char *name)
{
    static const struct {
        const char *suffix;
        int act;
    } acts[] = {{".Tanh", BERT__ST_TANH},
                {".Identity", BERT__ST_IDENTITY},
                {".ReLU", BERT__ST_RELU},
                {".GELU", BERT__ST_GELU},
                {".Sigmoid", BERT__ST_SIGMOID}};
    const size_t n = strlen(name);
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        const size_t k = strlen(acts[i].suffix);
        if (n >= k && !strcmp(name + n - k, acts[i].suffix))
            return acts[i].act;
    }
    return -1;
}

static bert_status pooling(const char *dir, const char *sub, bert__st *st, char *errbuf, size_t errbuf_size)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/config.json", sub);
    json_t *root;
    bert_status s = read_json(dir, rel, &root, errbuf, errbuf_size);
    if (s != BERT_OK)
        return s;
    if (!root)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s/%s: the Pooling module's config is missing",
                                dir, rel);
    static const struct {
        const char *key;
        unsigned mode;
    } modes[] = {{"pooling_mode_cls_token", BERT__ST_CLS},
                 {"pooling_mode_max_tokens", BERT__ST_MAX},
                 {"pooling_mode_mean_tokens", BERT__ST_MEAN},
                 {"pooling_mode_mean_sqrt_len_tokens", BERT__ST_MEAN_SQRT},
                 {"pooling_mode_weightedmean_tokens", BERT__ST_WEIGHTED},
                 {"pooling_mode_lasttoken", BERT__ST_LAST}};
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        size_t k;
        for (k = 0; k < sizeof modes / sizeof modes[0]; k++)
            if (!strcmp(key, modes[k].key))
                break;
        if (k < sizeof modes / sizeof modes[0]) {
            if (json_is_true(v))
                st->modes |= modes[k].mode;
        } else if (!strncmp(key, "pooling_mode", 12) && json_is_true(v)) {
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                 "%s/%s: pooling mode \"%s\" is not supported (cls, max, mean, mean_sqrt_len, "
                                 "weightedmean, lasttoken)",
                                 dir, rel, key + 13);
            goto done;
        } else if (!strcmp(key, "include_prompt") && json_is_false(v)) {
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                 "%s/%s: include_prompt false is not supported (prompt tokens are pooled)", dir, rel);
            goto done;
        }
    }
    if (!st->modes)
        s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s/%s: no pooling mode is true", dir, rel);
done:
    json_decref(root);
    return s;
}

/* A Dense module: sub/config.json and sub/model.safetensors ("linear.weight" [out, in],
 * "linear.bias"), the weights copied to F32. */
static bert_status dense(const char *dir, const char *sub, bert__st *st, char *errbuf, size_t errbuf_size)
{
    char rel[256];
    if (st->n_dense == BERT__ST_MAX_DENSE)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED, "%s/modules.json: more than %d Dense modules",
                                dir, BERT__ST_MAX_DENSE);
    snprintf(rel, sizeof rel, "%s/config.json", sub);
    json_t *root;
    bert_status s = read_json(dir, rel, &root, errbuf, errbuf_size);
    if (s != BERT_OK)
        return s;
    if (!root)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s/%s: the Dense module's config is missing", dir,
                                rel);
    bert__st_dense *d = &st->dense[st->n_dense];
    json_t *in = json_object_get(root, "in_features"), *out = json_object_get(root, "out_features");
    json_t *bias = json_object_get(root, "bias"), *act = json_object_get(root, "activation_function");
    bert__checkpoint ck;
    memset(&ck, 0, sizeof ck);
    char *subdir = NULL;
    if (!json_is_integer(in) || !json_is_integer(out) || json_integer_value(in) < 1 || json_integer_value(out) < 1 ||
        json_integer_value(in) > 1 << 20 || json_integer_value(out) > 1 << 20) {
        s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                             "%s/%s: in_features and out_features must be positive integers", dir, rel);
        goto done;
    }
    d->act = BERT__ST_TANH; /* sentence-transformers' default */
    if (act && !json_is_null(act)) {
        d->act = json_is_string(act) ? activation_of(json_string_value(act)) : -1;
        if (d->act < 0) {
            char *txt = json_dumps(act, JSON_ENCODE_ANY);
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                 "%s/%s: activation_function %s is not supported (Tanh, Identity, ReLU, GELU, Sigmoid)",
                                 dir, rel, txt ? txt : "?");
            free(txt);
            goto done;
        }
    }
    const size_t I = (size_t)json_integer_value(in), O = (size_t)json_integer_value(out);
    subdir = bert__path_join(dir, sub);
    if (!subdir) {
        s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating a path", dir);
        goto done;
    }
    /* sentence-transformers before 3.1 wrote pytorch_model.bin only: the message says so */
    if ((s = bert__checkpoint_open(subdir, &ck, errbuf, errbuf_size)) != BERT_OK)
        goto done;
    const bert__tensor *w = bert__checkpoint_find(&ck, "linear.weight"), *b = bert__checkpoint_find(&ck, "linear.bias");
    const int want_bias = !json_is_false(bias);
    if (!w || w->ndim != 2 || w->shape[0] != O || w->shape[1] != I ||
        (want_bias && (!b || b->ndim != 1 || b->shape[0] != O))) {
        s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_SHAPE,
                             "%s/model.safetensors: expected linear.weight [%zu, %zu]%s from %s", subdir, O, I,
                             want_bias ? " and linear.bias" : "", rel);
        goto done;
    }
    float *wf = bert__malloc(O * I * sizeof(float)), *bf = want_bias ? bert__malloc(O * sizeof(float)) : NULL;
    if (!wf || (want_bias && !bf)) {
        bert__free(wf);
        bert__free(bf);
        s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating the Dense weights", subdir);
        goto done;
    }
    const bert__tensor *ts[2] = {w, b};
    float *dst[2] = {wf, bf};
    for (int k = 0; k < 2; k++) {
        if (!dst[k])
            continue;
        const size_t n = ts[k]->nbytes / (ts[k]->dtype == BERT__F32 ? 4 : 2);
        if (ts[k]->dtype == BERT__F32)
            memcpy(dst[k], ts[k]->data, n * sizeof(float));
        else if (ts[k]->dtype == BERT__F16)
            bert__f16_to_f32((const uint16_t *)(const void *)ts[k]->data, dst[k], n);
        else
            bert__bf16_to_f32((const uint16_t *)(const void *)ts[k]->data, dst[k], n);
        if (bert__first_nonfinite(dst[k], n) < n) {
            bert__free(wf);
            bert__free(bf);
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s/model.safetensors: %s holds NaN or infinity",
                                 subdir, ts[k]->name);
            goto done;
        }
    }
    d->lin.w = wf;
    d->lin.b = bf;
    d->lin.in = I;
    d->lin.out = O;
    st->n_dense++;
done:
    bert__checkpoint_close(&ck);
    bert__free(subdir);
    json_decref(root);
    return s;
}

static bert_status prompts(const char *dir, bert__st *st, char *errbuf, size_t errbuf_size)
{
    json_t *root;
    bert_status s = read_json(dir, "config_sentence_transformers.json", &root, errbuf, errbuf_size);
    if (s != BERT_OK || !root)
        return s;
    json_t *p = json_object_get(root, "prompts"), *def = json_object_get(root, "default_prompt_name");
    if (p && !json_is_object(p) && !json_is_null(p)) {
        s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                             "%s/config_sentence_transformers.json: \"prompts\" must be an object of strings", dir);
        goto done;
    }
    const size_t n = json_is_object(p) ? json_object_size(p) : 0;
    st->prompt_names = bert__calloc(n ? n : 1, sizeof *st->prompt_names);
    st->prompts = bert__calloc(n ? n : 1, sizeof *st->prompts);
    if (!st->prompt_names || !st->prompts) {
        s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating prompts", dir);
        goto done;
    }
    const char *key;
    json_t *v;
    if (n) {
        json_object_foreach(p, key, v)
        {
            if (!json_is_string(v)) {
                s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                     "%s/config_sentence_transformers.json: prompts.%s must be a string", dir, key);
                goto done;
            }
            st->prompt_names[st->n_prompts] = bert__strndup(key, strlen(key));
            st->prompts[st->n_prompts] = bert__strndup(json_string_value(v), json_string_length(v));
            if (!st->prompt_names[st->n_prompts] || !st->prompts[st->n_prompts++]) {
                s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating prompts", dir);
                goto done;
            }
        }
    }
    if (json_is_string(def)) {
        if (!bert__st_prompt(st, json_string_value(def))) {
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                 "%s/config_sentence_transformers.json: default_prompt_name \"%s\" is not in prompts",
                                 dir, json_string_value(def));
            goto done;
        }
        st->default_prompt = bert__strndup(json_string_value(def), json_string_length(def));
        if (!st->default_prompt)
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating prompts", dir);
    }
done:
    json_decref(root);
    return s;
}

const char *bert__st_prompt(const bert__st *st, const char *name)
{
    for (size_t i = 0; i < st->n_prompts; i++)
        if (!strcmp(st->prompt_names[i], name))
            return st->prompts[i];
    return NULL;
}

/* A cross-encoder's activation: sentence-transformers 2.x's "sbert_ce_default_activation_function"
 * or 3.x's "sentence_transformers": {"activation_fn": ...} in config.json; -1 when neither. */
static bert_status ce_activation(const char *dir, bert__st *st, char *errbuf, size_t errbuf_size)
{
    json_t *root;
    st->ce_act = -1;
    bert_status s = read_json(dir, "config.json", &root, errbuf, errbuf_size);
    if (s != BERT_OK || !root)
        return s;
    json_t *v = json_object_get(root, "sbert_ce_default_activation_function");
    const char *key = "sbert_ce_default_activation_function";
    if (!v) {
        v = json_object_get(json_object_get(root, "sentence_transformers"), "activation_fn");
        key = "sentence_transformers.activation_fn";
    }
    if (v && !json_is_null(v)) {
        st->ce_act = json_is_string(v) ? activation_of(json_string_value(v)) : -1;
        if (st->ce_act < 0) {
            char *txt = json_dumps(v, JSON_ENCODE_ANY);
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                 "%s/config.json: %s %s is not supported (Sigmoid, Identity, Tanh, ReLU, GELU)", dir,
                                 key, txt ? txt : "?");
            free(txt);
        }
    }
    json_decref(root);
    return s;
}

bert_status bert__st_load(const char *dir, size_t hidden, bert__st *st, char *errbuf, size_t errbuf_size)
{
    memset(st, 0, sizeof *st);
    bert_status s = ce_activation(dir, st, errbuf, errbuf_size);
    json_t *mods = NULL, *cfg = NULL;
    if (s != BERT_OK || (s = read_json(dir, "modules.json", &mods, errbuf, errbuf_size)) != BERT_OK || !mods)
        goto done;
    st->present = 1;
    if (!json_is_array(mods)) {
        s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s/modules.json: expected a list of modules", dir);
        goto done;
    }
    size_t i;
    json_t *m;
    int seen_transformer = 0, seen_pooling = 0;
    json_array_foreach(mods, i, m)
    {
        const char *type = json_string_value(json_object_get(m, "type"));
        const char *path = json_string_value(json_object_get(m, "path"));
        if (!type || !path) {
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                 "%s/modules.json: module %zu needs string \"type\" and \"path\"", dir, i);
            goto done;
        }
        const char *cls = strrchr(type, '.') ? strrchr(type, '.') + 1 : type;
        if (!strcmp(cls, "Transformer")) {
            if (path[0] != '\0' || i != 0) {
                s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                     "%s/modules.json: the Transformer module must come first with path \"\" (the "
                                     "folder itself); this one is module %zu at \"%s\": load that folder instead",
                                     dir, i, path);
                goto done;
            }
            seen_transformer = 1;
        } else if (!strcmp(cls, "Pooling") && !seen_pooling) {
            if ((s = pooling(dir, path, st, errbuf, errbuf_size)) != BERT_OK)
                goto done;
            seen_pooling = 1;
        } else if (!strcmp(cls, "Dense") && seen_pooling) {
            if ((s = dense(dir, path, st, errbuf, errbuf_size)) != BERT_OK)
                goto done;
        } else if (!strcmp(cls, "Normalize") && seen_pooling) {
            st->normalize = 1;
        } else {
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                 "%s/modules.json: module %zu of type \"%s\" is not supported here (Transformer, then "
                                 "Pooling, then Dense and Normalize modules)",
                                 dir, i, type);
            goto done;
        }
    }
    if (!seen_transformer || !seen_pooling) {
        s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                             "%s/modules.json: a sentence-transformers folder needs a Transformer and a Pooling module",
                             dir);
        goto done;
    }
    /* each module's input is the previous one's output */
    size_t dim = 0;
    for (unsigned b = 1; b < BERT__ST_ALL; b <<= 1)
        dim += st->modes & b ? hidden : 0;
    for (size_t k = 0; k < st->n_dense; k++) {
        if (st->dense[k].lin.in != dim) {
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_SHAPE,
                                 "%s/modules.json: Dense module %zu takes in_features %zu but receives %zu", dir, k,
                                 st->dense[k].lin.in, dim);
            goto done;
        }
        dim = st->dense[k].lin.out;
    }
    st->dim = dim;
    if ((s = read_json(dir, "sentence_bert_config.json", &cfg, errbuf, errbuf_size)) != BERT_OK)
        goto done;
    if (cfg) {
        json_t *v = json_object_get(cfg, "max_seq_length");
        if (v && !json_is_null(v)) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1 << 24) {
                s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                     "%s/sentence_bert_config.json: max_seq_length must be a positive integer", dir);
                goto done;
            }
            st->max_seq_length = (size_t)json_integer_value(v);
        }
        if (json_is_true(json_object_get(cfg, "do_lower_case"))) {
            s = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                 "%s/sentence_bert_config.json: do_lower_case true is not supported (lower-case the "
                                 "texts before encoding)",
                                 dir);
            goto done;
        }
    }
    s = prompts(dir, st, errbuf, errbuf_size);
done:
    json_decref(mods);
    json_decref(cfg);
    if (s != BERT_OK)
        bert__st_free(st);
    return s;
}

void bert__st_act(int act, float *x, size_t n)
{
    switch (act) {
    case BERT__ST_TANH:
        bert__act(BERT__POST_TANH, x, n);
        return;
    case BERT__ST_RELU:
        bert__act(BERT__POST_RELU, x, n);
        return;
    case BERT__ST_GELU:
        bert__act(BERT__POST_GELU_ERF, x, n);
        return;
    case BERT__ST_SIGMOID:
        for (size_t i = 0; i < n; i++)
            x[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
        return;
    default:
        return;
    }
}
