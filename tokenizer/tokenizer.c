/* Building a bert_tokenizer: settings, vocabulary, special tokens and the added-token table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipe.h"

bert_tokenizer_config bert_tokenizer_default_config(void)
{
    /* BertTokenizer's defaults, which HF also uses when tokenizer_config.json is absent. */
    bert_tokenizer_config c;
    memset(&c, 0, sizeof c);
    c.do_lower_case = 1;
    c.strip_accents = -1;
    c.tokenize_chinese_chars = 1;
    c.clean_text = 1;
    c.max_input_chars_per_word = 100;
    c.model_max_length = 512;
    c.unk_token = "[UNK]";
    c.sep_token = "[SEP]";
    c.pad_token = "[PAD]";
    c.cls_token = "[CLS]";
    c.mask_token = "[MASK]";
    return c;
}

bert_tokenizer_config bert_tokenizer_get_config(const bert_tokenizer *tok)
{
    if (!tok)
        return bert_tokenizer_default_config();
    return tok->cfg;
}

void bert_tokenizer_free(bert_tokenizer *tok)
{
    if (!tok)
        return;
    bert__free(tok->strings);
    if (tok->never_split) {
        for (size_t i = 0; i < tok->cfg.n_never_split; i++)
            bert__free(tok->never_split[i]);
        bert__free(tok->never_split);
    }
    bert__free(tok->vocab);
    bert__free(tok->tok_off);
    bert__free(tok->tok_len);
    bert__free(tok->tok_hash);
    bert__free(tok->slots);
    bert__free(tok->added);
    bert__pipe_free(tok->pipe);
    bert__pipe_free(tok->plain);
    bert__free(tok);
}

static int added_cmp(const void *x, const void *y)
{
    const bert__added *a = x, *b = y;
    return (a->len < b->len) - (a->len > b->len);
}

/* Copies the config's strings into tok so the caller's may go away. */
static bert_status own_config(bert_tokenizer *tok, const bert_tokenizer_config *cfg, const char *name, char *errbuf,
                              size_t errbuf_size)
{
    tok->cfg = *cfg;
    tok->defaults = bert_encode_default_params();
    const char *src[BERT__N_SPECIAL] = {cfg->unk_token, cfg->sep_token, cfg->pad_token, cfg->cls_token,
                                        cfg->mask_token};
    size_t total = 0;
    for (int i = 0; i < BERT__N_SPECIAL; i++) {
        if (!src[i] || !src[i][0])
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "%s: special token %d is empty", name, i);
        total += strlen(src[i]) + 1;
    }
    tok->strings = bert__malloc(total);
    if (!tok->strings)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating special tokens", name);
    const char **dst[BERT__N_SPECIAL] = {&tok->cfg.unk_token, &tok->cfg.sep_token, &tok->cfg.pad_token,
                                         &tok->cfg.cls_token, &tok->cfg.mask_token};
    char *p = tok->strings;
    for (int i = 0; i < BERT__N_SPECIAL; i++) {
        size_t n = strlen(src[i]) + 1;
        memcpy(p, src[i], n);
        *dst[i] = p;
        p += n;
    }
    tok->cfg.never_split = NULL;
    tok->cfg.n_never_split = 0;
    if (cfg->n_never_split) {
        if (!cfg->never_split)
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "%s: never_split is NULL", name);
        tok->never_split = bert__calloc(cfg->n_never_split, sizeof *tok->never_split);
        if (!tok->never_split)
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating never_split", name);
        for (size_t i = 0; i < cfg->n_never_split; i++) {
            const char *s = cfg->never_split[i];
            if (!s || !s[0])
                return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "%s: never_split[%zu] is empty", name,
                                        i);
            tok->never_split[i] = bert__strndup(s, strlen(s));
            if (!tok->never_split[i])
                return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating never_split", name);
            tok->cfg.n_never_split = i + 1;
        }
        tok->cfg.never_split = (const char *const *)tok->never_split;
    }
    if (cfg->max_input_chars_per_word == 0 || cfg->max_input_chars_per_word > 1000000)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG,
                                "%s: max_input_chars_per_word %zu outside 1..1000000", name,
                                cfg->max_input_chars_per_word);
    if (cfg->strip_accents < -1 || cfg->strip_accents > 1)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "%s: strip_accents must be -1, 0 or 1", name);
    return BERT_OK;
}

/* HF matches special tokens (and, here, never_split entries) in the raw text before normalisation,
 * leftmost-longest. Strings missing from the vocabulary cannot become ids and are left to WordPiece,
 * except [UNK], which WordPiece itself needs. */
static bert_status build_added(bert_tokenizer *tok, const char *name, char *errbuf, size_t errbuf_size)
{
    const char *sp[BERT__N_SPECIAL] = {tok->cfg.unk_token, tok->cfg.sep_token, tok->cfg.pad_token, tok->cfg.cls_token,
                                       tok->cfg.mask_token};
    for (int i = 0; i < BERT__N_SPECIAL; i++)
        tok->special_ids[i] = bert_tokenizer_token_to_id(tok, sp[i], strlen(sp[i]));
    if (tok->special_ids[BERT_SPECIAL_UNK] < 0)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: unknown token '%s' is not in the vocabulary",
                                name, tok->cfg.unk_token);
    size_t n = BERT__N_SPECIAL + tok->cfg.n_never_split;
    tok->added = bert__calloc(n, sizeof *tok->added);
    if (!tok->added)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating added tokens", name);
    for (size_t i = 0; i < n; i++) {
        const char *s = i < BERT__N_SPECIAL ? sp[i] : tok->cfg.never_split[i - BERT__N_SPECIAL];
        size_t len = strlen(s);
        int32_t id = bert_tokenizer_token_to_id(tok, s, len);
        if (id < 0)
            continue;
        int dup = 0;
        for (size_t k = 0; k < tok->n_added; k++)
            dup |= tok->added[k].len == len && memcmp(tok->added[k].s, s, len) == 0;
        if (dup)
            continue;
        tok->added[tok->n_added].s = s;
        tok->added[tok->n_added].len = len;
        tok->added[tok->n_added].id = id;
        tok->added_first[(unsigned char)s[0]] = 1;
        tok->n_added++;
    }
    qsort(tok->added, tok->n_added, sizeof *tok->added, added_cmp);
    /* BertProcessing: [CLS] A [SEP] and [CLS] A [SEP] B [SEP], B's part with type id 1 */
    const int32_t cls = tok->special_ids[BERT_SPECIAL_CLS], sep = tok->special_ids[BERT_SPECIAL_SEP];
    bert__template *t = &tok->tpl_single;
    t->item[0].kind = BERT__TPL_SPECIAL, t->item[0].id = cls, t->item[0].type_id = 0;
    t->item[1].kind = BERT__TPL_A, t->item[1].id = -1, t->item[1].type_id = 0;
    t->item[2].kind = BERT__TPL_SPECIAL, t->item[2].id = sep, t->item[2].type_id = 0;
    t->n = 3;
    tok->tpl_pair = *t;
    t = &tok->tpl_pair;
    t->item[3].kind = BERT__TPL_B, t->item[3].id = -1, t->item[3].type_id = 1;
    t->item[4].kind = BERT__TPL_SPECIAL, t->item[4].id = sep, t->item[4].type_id = 1;
    t->n = 5;
    return BERT_OK;
}

bert_status bert_tokenizer_new_from_vocab(const char *vocab, size_t len, const char *name,
                                          const bert_tokenizer_config *config, bert_tokenizer **out, char *errbuf,
                                          size_t errbuf_size)
{
    bert_status st = BERT_OK;
    bert_tokenizer *tok = NULL;
    bert_tokenizer_config def = bert_tokenizer_default_config();

    if (!out)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_tokenizer_new_from_vocab: out is NULL");
    *out = NULL;
    if (!vocab && len)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG,
                                "bert_tokenizer_new_from_vocab: vocab is NULL");
    if (!name)
        name = "vocab";
    tok = bert__calloc(1, sizeof *tok);
    if (!tok)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating the tokenizer", name);
    if ((st = own_config(tok, config ? config : &def, name, errbuf, errbuf_size)) != BERT_OK)
        goto fail;
    if ((st = bert__vocab_build(tok, vocab, len, name, errbuf, errbuf_size)) != BERT_OK)
        goto fail;
    if ((st = build_added(tok, name, errbuf, errbuf_size)) != BERT_OK)
        goto fail;
    *out = tok;
    tok = NULL;
fail:
    bert_tokenizer_free(tok);
    return st;
}

bert_status bert_tokenizer_load_vocab(const char *vocab_path, const bert_tokenizer_config *config, bert_tokenizer **out,
                                      char *errbuf, size_t errbuf_size)
{
    char *data = NULL;
    size_t len = 0;
    if (!out || !vocab_path)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_tokenizer_load_vocab: NULL argument");
    *out = NULL;
    bert_status st = bert__read_file(vocab_path, &data, &len, errbuf, errbuf_size);
    if (st == BERT_OK)
        st = bert_tokenizer_new_from_vocab(data, len, vocab_path, config, out, errbuf, errbuf_size);
    bert__free(data);
    return st;
}

/* Fields of overrides that differ from the defaults win over the file's values. */
static void apply_overrides(bert_tokenizer_config *c, const bert_tokenizer_config *o)
{
    const bert_tokenizer_config d = bert_tokenizer_default_config();
    if (o->do_lower_case != d.do_lower_case)
        c->do_lower_case = o->do_lower_case;
    if (o->strip_accents != d.strip_accents)
        c->strip_accents = o->strip_accents;
    if (o->tokenize_chinese_chars != d.tokenize_chinese_chars)
        c->tokenize_chinese_chars = o->tokenize_chinese_chars;
    if (o->clean_text != d.clean_text)
        c->clean_text = o->clean_text;
    if (o->max_input_chars_per_word != d.max_input_chars_per_word)
        c->max_input_chars_per_word = o->max_input_chars_per_word;
    if (o->model_max_length != d.model_max_length)
        c->model_max_length = o->model_max_length;
    const char *const *os[BERT__N_SPECIAL] = {&o->unk_token, &o->sep_token, &o->pad_token, &o->cls_token,
                                              &o->mask_token};
    const char *const *ds[BERT__N_SPECIAL] = {&d.unk_token, &d.sep_token, &d.pad_token, &d.cls_token, &d.mask_token};
    const char **cs[BERT__N_SPECIAL] = {&c->unk_token, &c->sep_token, &c->pad_token, &c->cls_token, &c->mask_token};
    for (int i = 0; i < BERT__N_SPECIAL; i++)
        if (*os[i] && strcmp(*os[i], *ds[i]) != 0)
            *cs[i] = *os[i];
    if (o->n_never_split) {
        c->never_split = o->never_split;
        c->n_never_split = o->n_never_split;
    }
}

bert_status bert_tokenizer_new_from_json(const char *json, size_t len, const char *name, bert_tokenizer **out,
                                         char *errbuf, size_t errbuf_size)
{
    if (!out || (!json && len))
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_tokenizer_new_from_json: NULL argument");
    *out = NULL;
    if (!name)
        name = "tokenizer.json";
    bert_status st;
    bert_tokenizer *tok = bert__calloc(1, sizeof *tok);
    bert_tokenizer_config def = bert_tokenizer_default_config();
    if (!tok)
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating the tokenizer", name);
    else if ((st = own_config(tok, &def, name, errbuf, errbuf_size)) == BERT_OK)
        st = bert__tokenizer_json_parse(tok, json ? json : "", len, name, errbuf, errbuf_size);
    if (st != BERT_OK) {
        bert_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return BERT_OK;
}

bert_status bert_tokenizer_load_json(const char *path, bert_tokenizer **out, char *errbuf, size_t errbuf_size)
{
    char *data = NULL;
    size_t len = 0;
    if (!out || !path)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_tokenizer_load_json: NULL argument");
    *out = NULL;
    bert_status st = bert__read_file(path, &data, &len, errbuf, errbuf_size);
    if (st == BERT_OK)
        st = bert_tokenizer_new_from_json(data, len, path, out, errbuf, errbuf_size);
    bert__free(data);
    return st;
}

bert_status bert_tokenizer_load(const char *dir, const bert_tokenizer_config *overrides, bert_tokenizer **out,
                                char *errbuf, size_t errbuf_size)
{
    bert_status st = BERT_OK;
    char *vocab_path = NULL, *cfg_path = NULL;
    bert__config_strings owned;
    bert_tokenizer_config cfg = bert_tokenizer_default_config();

    memset(&owned, 0, sizeof owned);
    if (!out || !dir)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_tokenizer_load: NULL argument");
    *out = NULL;
    vocab_path = bert__path_join(dir, "vocab.txt");
    cfg_path = bert__path_join(dir, "tokenizer_config.json");
    if (!vocab_path || !cfg_path) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating paths", dir);
        goto fail;
    }
    /* tokenizer.json says how HF tokenizes; vocab.txt (+ tokenizer_config.json) is the fallback,
     * and the only source that overrides (do_lower_case, ...) apply to */
    FILE *vp = fopen(vocab_path, "rb");
    if (vp)
        fclose(vp);
    if (!vp || !overrides) {
        char *json_path = bert__path_join(dir, "tokenizer.json");
        if (!json_path) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating paths", dir);
            goto fail;
        }
        FILE *jp = fopen(json_path, "rb");
        if (jp) {
            fclose(jp);
            st = bert_tokenizer_load_json(json_path, out, errbuf, errbuf_size);
            bert__free(json_path);
            /* the model's length limit lives in tokenizer_config.json */
            FILE *cp = st == BERT_OK ? fopen(cfg_path, "rb") : NULL;
            if (cp) {
                fclose(cp);
                bert_tokenizer_config c2 = bert_tokenizer_default_config();
                if ((st = bert__tokenizer_config_read(cfg_path, &c2, &owned, errbuf, errbuf_size)) == BERT_OK)
                    (*out)->cfg.model_max_length = c2.model_max_length;
                else {
                    bert_tokenizer_free(*out);
                    *out = NULL;
                }
            }
            goto fail;
        }
        bert__free(json_path);
    }
    FILE *probe = fopen(cfg_path, "rb");
    if (probe) {
        fclose(probe);
        if ((st = bert__tokenizer_config_read(cfg_path, &cfg, &owned, errbuf, errbuf_size)) != BERT_OK)
            goto fail;
    } else {
        bert__log(BERT_LOG_INFO, "%s: not found, using BERT's tokenizer defaults", cfg_path);
    }
    if (overrides)
        apply_overrides(&cfg, overrides);
    st = bert_tokenizer_load_vocab(vocab_path, &cfg, out, errbuf, errbuf_size);
fail:
    bert__config_strings_free(&owned);
    bert__free(vocab_path);
    bert__free(cfg_path);
    return st;
}

bert_encode_params bert_tokenizer_encode_params(const bert_tokenizer *tok)
{
    return tok ? tok->defaults : bert_encode_default_params();
}
