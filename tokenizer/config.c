/* tokenizer_config.json, read with jansson so that syntax errors come with line, column and byte
 * position. Only the fields that change tokenization are read; others are ignored like HF does. */
#include <string.h>

#include <jansson.h>

#include "../common/json.h"

#include "tokenizer_int.h"

static const char *const special_keys[BERT__N_SPECIAL] = {"unk_token", "sep_token", "pad_token", "cls_token",
                                                          "mask_token"};

void bert__config_strings_free(bert__config_strings *s)
{
    for (int i = 0; i < BERT__N_SPECIAL; i++)
        bert__free(s->special[i]);
    for (size_t i = 0; i < s->n_never_split; i++)
        bert__free(s->never_split[i]);
    bert__free(s->never_split);
    memset(s, 0, sizeof *s);
}

static bert_status read_bool(const char *path, json_t *root, const char *key, int *dst, int allow_null, char *errbuf,
                             size_t errbuf_size)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return BERT_OK;
    if (json_is_boolean(v)) {
        *dst = json_is_true(v);
        return BERT_OK;
    }
    if (allow_null && json_is_null(v)) {
        *dst = -1;
        return BERT_OK;
    }
    return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"%s\" must be %s", path, key,
                            allow_null ? "true, false or null" : "true or false");
}

/* HF writes a special token either as a string or as a serialised AddedToken {"content": ...}. */
static bert_status read_token(const char *path, json_t *root, const char *key, char **dst, char *errbuf,
                              size_t errbuf_size)
{
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v))
        return BERT_OK;
    if (json_is_object(v))
        v = json_object_get(v, "content");
    if (!json_is_string(v))
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                "%s: \"%s\" must be a string or an object with a \"content\" string", path, key);
    if (json_string_length(v) == 0)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"%s\" is empty", path, key);
    *dst = bert__strndup(json_string_value(v), json_string_length(v));
    if (!*dst)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating \"%s\"", path, key);
    return BERT_OK;
}

bert_status bert__tokenizer_config_parse(const char *data, size_t len, const char *path, bert_tokenizer_config *cfg,
                                         bert__config_strings *owned, char *errbuf, size_t errbuf_size)
{
    bert_status st = BERT_OK;
    json_t *root = NULL;

    memset(owned, 0, sizeof *owned);
    if ((st = bert__json_object(data, len, path, &root, errbuf, errbuf_size)) != BERT_OK)
        goto fail;
    if ((st = read_bool(path, root, "do_lower_case", &cfg->do_lower_case, 0, errbuf, errbuf_size)) != BERT_OK ||
        (st = read_bool(path, root, "strip_accents", &cfg->strip_accents, 1, errbuf, errbuf_size)) != BERT_OK ||
        (st = read_bool(path, root, "tokenize_chinese_chars", &cfg->tokenize_chinese_chars, 0, errbuf,
                        errbuf_size)) != BERT_OK)
        goto fail;

    json_t *v = json_object_get(root, "model_max_length");
    if (v) {
        /* HF stores "no limit" as the float 1e30; anything beyond size_t means no limit too. */
        if (json_is_integer(v) && json_integer_value(v) > 0) {
            cfg->model_max_length = (size_t)json_integer_value(v);
        } else if (json_is_real(v) && json_real_value(v) >= 1.0) {
            double d = json_real_value(v);
            cfg->model_max_length = d >= 1e18 ? SIZE_MAX : (size_t)d;
        } else {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"model_max_length\" must be a positive number",
                                  path);
            goto fail;
        }
    }
    for (int i = 0; i < BERT__N_SPECIAL; i++) {
        if ((st = read_token(path, root, special_keys[i], &owned->special[i], errbuf, errbuf_size)) != BERT_OK)
            goto fail;
    }
    v = json_object_get(root, "never_split");
    if (v && !json_is_null(v)) {
        if (!json_is_array(v)) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"never_split\" must be a list of strings",
                                  path);
            goto fail;
        }
        size_t n = json_array_size(v);
        owned->never_split = bert__calloc(n, sizeof *owned->never_split);
        if (!owned->never_split) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating never_split", path);
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(v, i);
            if (!json_is_string(e) || json_string_length(e) == 0) {
                st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                      "%s: \"never_split\"[%zu] must be a non-empty string", path, i);
                goto fail;
            }
            owned->never_split[i] = bert__strndup(json_string_value(e), json_string_length(e));
            if (!owned->never_split[i]) {
                st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating never_split", path);
                goto fail;
            }
            owned->n_never_split = i + 1;
        }
    }
    for (int i = 0; i < BERT__N_SPECIAL; i++) {
        if (owned->special[i]) {
            const char **slot[BERT__N_SPECIAL] = {&cfg->unk_token, &cfg->sep_token, &cfg->pad_token, &cfg->cls_token,
                                                  &cfg->mask_token};
            *slot[i] = owned->special[i];
        }
    }
    if (owned->n_never_split) {
        cfg->never_split = (const char *const *)owned->never_split;
        cfg->n_never_split = owned->n_never_split;
    }
fail:
    json_decref(root);
    if (st != BERT_OK)
        bert__config_strings_free(owned);
    return st;
}

bert_status bert__tokenizer_config_read(const char *path, bert_tokenizer_config *cfg, bert__config_strings *owned,
                                        char *errbuf, size_t errbuf_size)
{
    char *data = NULL;
    size_t len = 0;
    memset(owned, 0, sizeof *owned);
    bert_status st = bert__read_file(path, &data, &len, errbuf, errbuf_size);
    if (st == BERT_OK)
        st = bert__tokenizer_config_parse(data, len, path, cfg, owned, errbuf, errbuf_size);
    bert__free(data);
    return st;
}
