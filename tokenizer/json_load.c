/* Reading a Hugging Face tokenizer.json (both the current serialization and the older "1.0" one,
 * whose model has no "type" and whose Metaspace has add_prefix_space) into a bert_tokenizer:
 * the vocabulary by id (the model's, then the added tokens'), the added tokens, the pipeline's
 * components, the post-processor's template. Anything not supported is refused with its JSON
 * path, never ignored. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pipe.h"

typedef struct ld {
    bert_tokenizer *tok;
    bert__pipe *p;
    const char *name;
    char *err;
    size_t err_size;
    char **ncontent; /* per added token: its normalized content (NULL: the content as it is) */
    size_t *nlen;
} ld;

/* ids a tokenizer.json may leave without a token, past as many as it has tokens */
#define BERT__VOCAB_MAX_HOLES 65536

static bert_status bad(ld *l, bert_status st, const char *fmt, ...) BERT__PRINTF(3, 4);
static bert_status bad(ld *l, bert_status st, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bert__errbuf_set(l->err, l->err_size, st, "%s: %s", l->name, msg);
}

static const char *str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int bool_of(json_t *o, const char *key, int def)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

/* ---- vocabulary ---- */

static bert_status set_token(ld *l, char **names, size_t *lens, size_t n, json_int_t id, const char *s, size_t sl,
                             const char *where)
{
    if (id < 0 || (size_t)id >= n)
        return bad(l, BERT_E_FORMAT, "%s: id %lld out of range", where, (long long)id);
    if (names[id] && (lens[id] != sl || memcmp(names[id], s, sl) != 0) && strcmp(where, "added_tokens") != 0)
        return bad(l, BERT_E_FORMAT, "%s: id %lld is given twice", where, (long long)id);
    if (names[id])
        return BERT_OK;
    names[id] = (char *)s;
    lens[id] = sl;
    return BERT_OK;
}

/* Builds the tokenizer's id <-> string table from the model's vocabulary and the added tokens. */
static bert_status build_vocab(ld *l, json_t *model, json_t *added, int unigram)
{
    json_t *vocab = json_object_get(model, "vocab");
    size_t n_model = unigram ? json_array_size(vocab) : json_object_size(vocab);
    if (unigram ? !json_is_array(vocab) : !json_is_object(vocab))
        return bad(l, BERT_E_FORMAT, "model.vocab: %s expected", unigram ? "an array" : "an object");
    size_t n = n_model;
    if (!unigram) {
        const char *k;
        json_t *v;
        json_object_foreach(vocab, k, v)
        {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= INT32_MAX)
                return bad(l, BERT_E_FORMAT, "model.vocab[\"%.80s\"]: not a token id", k);
            if ((size_t)json_integer_value(v) + 1 > n)
                n = (size_t)json_integer_value(v) + 1;
        }
        n_model = n; /* the model's ids are those below its largest (a vocabulary may have holes) */
    }
    size_t i;
    json_t *a;
    json_array_foreach(added, i, a)
    {
        json_t *id = json_object_get(a, "id");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= INT32_MAX ||
            !json_is_string(json_object_get(a, "content")))
            return bad(l, BERT_E_FORMAT, "added_tokens[%zu]: needs an integer \"id\" and a string \"content\"", i);
        if ((size_t)json_integer_value(id) + 1 > n)
            n = (size_t)json_integer_value(id) + 1;
    }
    if (n == 0)
        return bad(l, BERT_E_FORMAT, "model.vocab is empty");
    /* The id tables are dense (a model's embedding table is too): a few ids without a token are
     * fine, but ids far past the number of tokens would make a small file take gigabytes. */
    const size_t n_tokens = (unigram ? json_array_size(vocab) : json_object_size(vocab)) + json_array_size(added);
    if (n > 2 * n_tokens + BERT__VOCAB_MAX_HOLES)
        return bad(l, BERT_E_UNSUPPORTED,
                   "model.vocab: token ids reach %zu with %zu tokens: ids must run from 0 with at most %d missing "
                   "beyond as many as there are tokens",
                   n - 1, n_tokens, BERT__VOCAB_MAX_HOLES);
    char **names = bert__calloc(n, sizeof *names);
    size_t *lens = bert__calloc(n, sizeof *lens);
    bert_status st = BERT_OK;
    if (!names || !lens) {
        st = bad(l, BERT_E_NOMEM, "allocating a vocabulary of %zu tokens", n);
        goto done;
    }
    if (unigram) {
        json_array_foreach(vocab, i, a)
        {
            json_t *piece = json_array_get(a, 0), *score = json_array_get(a, 1);
            if (!json_is_string(piece) || !json_is_number(score)) {
                st = bad(l, BERT_E_FORMAT, "model.vocab[%zu]: [piece, score] expected", i);
                goto done;
            }
            if ((st = set_token(l, names, lens, n, (json_int_t)i, json_string_value(piece), json_string_length(piece),
                                "model.vocab")) != BERT_OK)
                goto done;
        }
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(vocab, k, v)
        {
            if ((st = set_token(l, names, lens, n, json_integer_value(v), k, strlen(k), "model.vocab")) != BERT_OK)
                goto done;
        }
    }
    json_array_foreach(added, i, a)
    {
        json_t *c = json_object_get(a, "content");
        if ((st = set_token(l, names, lens, n, json_integer_value(json_object_get(a, "id")), json_string_value(c),
                            json_string_length(c), "added_tokens")) != BERT_OK)
            goto done;
    }
    st = bert__vocab_build_list(l->tok, (const char *const *)names, lens, n, l->name, l->err, l->err_size);
    l->p->model.n_model = n_model;
done:
    bert__free(names);
    bert__free(lens);
    return st;
}

/* ---- components ---- */

static bert_status pattern_of(ld *l, json_t *o, const char *path, bert__pattern *pat)
{
    json_t *pt = json_object_get(o, "pattern");
    const char *s;
    int regex = 0;
    if ((s = str_of(pt, "String")) != NULL)
        regex = 0;
    else if ((s = str_of(pt, "Regex")) != NULL)
        regex = 1;
    else
        return bad(l, BERT_E_FORMAT, "%s.pattern: {\"String\": ...} or {\"Regex\": ...} expected", path);
    char msg[256];
    bert_status st = bert__pattern_compile(pat, s, strlen(s), regex, msg, sizeof msg);
    if (st != BERT_OK)
        return bad(l, st, "%s.pattern: %s", path, msg);
    return BERT_OK;
}

static bert_status behavior_of(ld *l, json_t *o, const char *path, bert__split_behavior *b)
{
    static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
    const char *s = str_of(o, "behavior");
    if (!s) {
        *b = BERT__SPLIT_ISOLATED;
        return BERT_OK;
    }
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *b = (bert__split_behavior)i;
            return BERT_OK;
        }
    return bad(l, BERT_E_UNSUPPORTED, "%s.behavior \"%.40s\" is not supported", path, s);
}

static int first_cp(const char *s, int32_t *c)
{
    return s && s[0] && bert__utf8_decode((const unsigned char *)s, strlen(s), c) == strlen(s);
}

static bert_status base64_decode(const char *in, size_t n, unsigned char **out, size_t *out_len)
{
    *out = bert__malloc(n / 4 * 3 + 3);
    if (!*out)
        return BERT_E_NOMEM;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i], v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == '=')
            break;
        else
            return BERT_E_FORMAT;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            (*out)[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out_len = o;
    return BERT_OK;
}

typedef bert_status (*add_fn)(ld *l, json_t *o, const char *path);

/* A component's type, checked present; a "Sequence" has each of its `key` entries added in turn
 * (*done set), named by their JSON paths. */
static bert_status type_or_sequence(ld *l, json_t *o, const char *path, const char *key, add_fn add, const char **type,
                                    int *done)
{
    *done = 0;
    *type = str_of(o, "type");
    if (!*type)
        return bad(l, BERT_E_FORMAT, "%s.type: missing", path);
    if (strcmp(*type, "Sequence") != 0)
        return BERT_OK;
    *done = 1;
    json_t *list = json_object_get(o, key);
    if (!json_is_array(list))
        return bad(l, BERT_E_FORMAT, "%s.%s: an array expected", path, key);
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        char sub[160];
        snprintf(sub, sizeof sub, "%s.%s[%zu]", path, key, i);
        bert_status st = add(l, x, sub);
        if (st != BERT_OK)
            return st;
    }
    return BERT_OK;
}

static bert_status add_norm(ld *l, json_t *o, const char *path)
{
    const char *type;
    int done;
    bert_status sq = type_or_sequence(l, o, path, "normalizers", add_norm, &type, &done);
    if (sq != BERT_OK || done)
        return sq;
    bert__pipe *p = l->p;
    bert__norm *nn = bert__reallocarray(p->norms, p->n_norms + 1, sizeof *nn);
    if (!nn)
        return bad(l, BERT_E_NOMEM, "allocating normalizers");
    p->norms = nn;
    bert__norm *nm = &nn[p->n_norms];
    memset(nm, 0, sizeof *nm);
    p->n_norms++;
    static const struct {
        const char *name;
        bert__norm_kind kind;
    } simple[] = {{"Lowercase", BERT__N_LOWERCASE}, {"NFD", BERT__N_NFD},
                  {"NFKD", BERT__N_NFKD},           {"NFC", BERT__N_NFC},
                  {"NFKC", BERT__N_NFKC},           {"StripAccents", BERT__N_STRIP_ACCENTS}};
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(type, simple[i].name) == 0) {
            nm->kind = simple[i].kind;
            return BERT_OK;
        }
    if (strcmp(type, "BertNormalizer") == 0) {
        nm->kind = BERT__N_BERT;
        nm->clean_text = bool_of(o, "clean_text", 1);
        nm->chinese = bool_of(o, "handle_chinese_chars", 1);
        nm->lowercase = bool_of(o, "lowercase", 1);
        json_t *sa = json_object_get(o, "strip_accents");
        nm->strip_accents = json_is_boolean(sa) ? json_is_true(sa) : -1;
        return BERT_OK;
    }
    if (strcmp(type, "Strip") == 0) {
        nm->kind = BERT__N_STRIP;
        nm->left = bool_of(o, "strip_left", 1);
        nm->right = bool_of(o, "strip_right", 1);
        return BERT_OK;
    }
    if (strcmp(type, "Replace") == 0 || strcmp(type, "Prepend") == 0) {
        const int rep = type[0] == 'R';
        nm->kind = rep ? BERT__N_REPLACE : BERT__N_PREPEND;
        const char *c = str_of(o, rep ? "content" : "prepend");
        if (!c)
            return bad(l, BERT_E_FORMAT, "%s.%s: a string expected", path, rep ? "content" : "prepend");
        nm->content = bert__strndup(c, strlen(c));
        nm->content_len = strlen(c);
        if (!nm->content)
            return bad(l, BERT_E_NOMEM, "allocating %s", path);
        return rep ? pattern_of(l, o, path, &nm->pat) : BERT_OK;
    }
    if (strcmp(type, "Precompiled") == 0) {
        nm->kind = BERT__N_PRECOMPILED;
        const char *b64 = str_of(o, "precompiled_charsmap");
        if (!b64)
            return bad(l, BERT_E_FORMAT, "%s.precompiled_charsmap: a base64 string expected", path);
        unsigned char *blob = NULL;
        size_t bl = 0;
        bert_status st = base64_decode(b64, strlen(b64), &blob, &bl);
        if (st != BERT_OK) {
            bert__free(blob);
            return bad(l, st, "%s.precompiled_charsmap: %s", path, st == BERT_E_NOMEM ? "out of memory" : "not base64");
        }
        char msg[200];
        st = bert__precompiled_parse(&nm->pc, blob, bl, msg, sizeof msg);
        bert__free(blob);
        for (int c = 0; st == BERT_OK && c < 128; c++) {
            const char ch = (char)c;
            size_t rl = 0;
            nm->ascii_keep[c] = c != '\r' && !bert__precompiled_find(&nm->pc, &ch, 1, &rl);
        }
        return st == BERT_OK ? BERT_OK : bad(l, st, "%s: %s", path, msg);
    }
    p->n_norms--;
    return bad(l, BERT_E_UNSUPPORTED, "%s.type \"%.60s\" is not supported", path, type);
}

/* HF's Whitespace pre-tokenizer keeps what this matches */
static const char ws_pattern[] = "\\w+|[^\\w\\s]+";

/* GPT-2's pre-tokenization pattern, as HF's ByteLevel uses it */
static const char gpt2_pattern[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static bert_status add_pre(ld *l, json_t *o, const char *path)
{
    const char *type;
    int done;
    bert_status sq = type_or_sequence(l, o, path, "pretokenizers", add_pre, &type, &done);
    if (sq != BERT_OK || done)
        return sq;
    bert__pipe *p = l->p;
    bert__pre *nn = bert__reallocarray(p->pres, p->n_pres + 1, sizeof *nn);
    if (!nn)
        return bad(l, BERT_E_NOMEM, "allocating pre-tokenizers");
    p->pres = nn;
    bert__pre *pt = &nn[p->n_pres];
    memset(pt, 0, sizeof *pt);
    p->n_pres++;
    char msg[256];
    bert_status st;
    if (strcmp(type, "BertPreTokenizer") == 0) {
        pt->kind = BERT__P_BERT;
    } else if (strcmp(type, "UnicodeScripts") == 0) {
        pt->kind = BERT__P_UNICODE_SCRIPTS;
    } else if (strcmp(type, "WhitespaceSplit") == 0) {
        pt->kind = BERT__P_WHITESPACE_SPLIT;
    } else if (strcmp(type, "Whitespace") == 0) {
        pt->kind = BERT__P_WHITESPACE;
        pt->behavior = BERT__SPLIT_REMOVED;
        pt->invert = 1;
        if ((st = bert__pattern_compile(&pt->pat, ws_pattern, strlen(ws_pattern), 1, msg, sizeof msg)) != BERT_OK)
            return bad(l, st, "%s: %s", path, msg);
    } else if (strcmp(type, "Punctuation") == 0) {
        pt->kind = BERT__P_PUNCTUATION;
        if ((st = behavior_of(l, o, path, &pt->behavior)) != BERT_OK)
            return st;
    } else if (strcmp(type, "Digits") == 0) {
        pt->kind = BERT__P_DIGITS;
        pt->individual_digits = bool_of(o, "individual_digits", 0);
    } else if (strcmp(type, "CharDelimiterSplit") == 0) {
        pt->kind = BERT__P_CHAR_DELIMITER;
        if (!first_cp(str_of(o, "delimiter"), &pt->replacement))
            return bad(l, BERT_E_FORMAT, "%s.delimiter: one character expected", path);
    } else if (strcmp(type, "Split") == 0) {
        pt->kind = BERT__P_SPLIT;
        pt->invert = bool_of(o, "invert", 0);
        if ((st = behavior_of(l, o, path, &pt->behavior)) != BERT_OK || (st = pattern_of(l, o, path, &pt->pat)))
            return st;
    } else if (strcmp(type, "ByteLevel") == 0) {
        pt->kind = BERT__P_BYTELEVEL;
        pt->add_prefix_space = bool_of(o, "add_prefix_space", 1);
        pt->use_regex = bool_of(o, "use_regex", 1);
        if (pt->use_regex &&
            (st = bert__pattern_compile(&pt->pat, gpt2_pattern, strlen(gpt2_pattern), 1, msg, sizeof msg)) != BERT_OK)
            return bad(l, st, "%s: %s", path, msg);
    } else if (strcmp(type, "Metaspace") == 0) {
        pt->kind = BERT__P_METASPACE;
        if (!first_cp(str_of(o, "replacement"), &pt->replacement))
            return bad(l, BERT_E_FORMAT, "%s.replacement: one character expected", path);
        const char *ps = str_of(o, "prepend_scheme");
        if (ps) {
            if (strcmp(ps, "always") == 0)
                pt->prepend = BERT__PREPEND_ALWAYS;
            else if (strcmp(ps, "first") == 0)
                pt->prepend = BERT__PREPEND_FIRST;
            else if (strcmp(ps, "never") == 0)
                pt->prepend = BERT__PREPEND_NEVER;
            else
                return bad(l, BERT_E_UNSUPPORTED, "%s.prepend_scheme \"%.40s\" is not supported", path, ps);
        } else {
            pt->prepend = bool_of(o, "add_prefix_space", 1) ? BERT__PREPEND_ALWAYS : BERT__PREPEND_NEVER;
        }
        pt->split = bool_of(o, "split", 1);
    } else {
        p->n_pres--;
        return bad(l, BERT_E_UNSUPPORTED, "%s.type \"%.60s\" is not supported", path, type);
    }
    return BERT_OK;
}

static bert_status load_merges(ld *l, json_t *merges)
{
    bert__model *m = &l->p->model;
    const size_t n = json_array_size(merges);
    size_t slots = 16;
    while (slots < 2 * n + 2)
        slots *= 2;
    m->merges = bert__calloc(slots, sizeof *m->merges);
    if (!m->merges)
        return bad(l, BERT_E_NOMEM, "allocating %zu merges", n);
    m->merge_mask = slots - 1;
    size_t i;
    json_t *x;
    json_array_foreach(merges, i, x)
    {
        const char *a, *b;
        size_t al, bl;
        if (json_is_string(x)) {
            a = json_string_value(x);
            const char *sp = strchr(a, ' ');
            if (!sp || strchr(sp + 1, ' '))
                return bad(l, BERT_E_FORMAT, "model.merges[%zu]: \"a b\" expected", i);
            al = (size_t)(sp - a);
            b = sp + 1;
            bl = strlen(b);
        } else if (json_is_array(x) && json_array_size(x) == 2 && json_is_string(json_array_get(x, 0)) &&
                   json_is_string(json_array_get(x, 1))) {
            a = json_string_value(json_array_get(x, 0));
            al = json_string_length(json_array_get(x, 0));
            b = json_string_value(json_array_get(x, 1));
            bl = json_string_length(json_array_get(x, 1));
        } else {
            return bad(l, BERT_E_FORMAT, "model.merges[%zu]: \"a b\" or [\"a\", \"b\"] expected", i);
        }
        int32_t ia = bert_tokenizer_token_to_id(l->tok, a, al), ib = bert_tokenizer_token_to_id(l->tok, b, bl);
        /* the merged token drops the continuing prefix's length from the right part, as HF */
        size_t cut = m->prefix_len < bl ? m->prefix_len : bl;
        uint64_t h = bert__fnv(bert__fnv(BERT__FNV_OFFSET, a, al), b + cut, bl - cut);
        int32_t im = bert__vocab_find(l->tok, h, a, al, b + cut, bl - cut);
        if (ia < 0 || ib < 0 || im < 0)
            return bad(l, BERT_E_FORMAT, "model.merges[%zu]: \"%.40s\" + \"%.40s\" uses a token not in the vocabulary",
                       i, a, b);
        const uint64_t key = (((uint64_t)(uint32_t)ia << 32) | (uint32_t)ib) + 1;
        size_t s = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 20) & m->merge_mask;
        while (m->merges[s].key && m->merges[s].key != key)
            s = (s + 1) & m->merge_mask;
        if (m->merges[s].key)
            continue; /* a repeated merge keeps its first rank */
        m->merges[s].key = key;
        m->merges[s].rank = (uint32_t)i;
        m->merges[s].id = im;
    }
    return BERT_OK;
}

static bert_status set_affix(ld *l, json_t *model, const char *key, char **dst, size_t *len)
{
    const char *s = str_of(model, key);
    if (!s)
        s = "";
    if (strlen(s) > 16)
        return bad(l, BERT_E_UNSUPPORTED, "model.%s: over 16 bytes", key);
    *dst = bert__strndup(s, strlen(s));
    *len = strlen(s);
    return *dst ? BERT_OK : bad(l, BERT_E_NOMEM, "allocating model.%s", key);
}

static bert_status load_model(ld *l, json_t *model, json_t *added)
{
    bert__model *m = &l->p->model;
    const char *type = str_of(model, "type");
    json_t *vocab = json_object_get(model, "vocab");
    if (!type) /* the older serialization: told apart by its fields, as HF's untagged reader does */
        type = json_object_get(model, "merges")                     ? "BPE"
               : json_is_array(vocab)                               ? "Unigram"
               : json_object_get(model, "max_input_chars_per_word") ? "WordPiece"
                                                                    : "WordLevel";
    m->unk_id = -1;
    for (int i = 0; i < 256; i++)
        m->byte_ids[i] = -1;
    bert_status st;
    if (strcmp(type, "BPE") == 0) {
        m->kind = BERT__M_BPE;
        json_t *dropout = json_object_get(model, "dropout");
        if (json_is_number(dropout) && json_number_value(dropout) > 0)
            return bad(l, BERT_E_UNSUPPORTED, "model.dropout %g: BPE dropout is for training, not supported",
                       json_number_value(dropout));
        if ((st = build_vocab(l, model, added, 0)) != BERT_OK ||
            (st = set_affix(l, model, "continuing_subword_prefix", &m->prefix, &m->prefix_len)) != BERT_OK ||
            (st = set_affix(l, model, "end_of_word_suffix", &m->suffix, &m->suffix_len)) != BERT_OK)
            return st;
        m->byte_fallback = bool_of(model, "byte_fallback", 0);
        m->fuse_unk = bool_of(model, "fuse_unk", 0);
        m->ignore_merges = bool_of(model, "ignore_merges", 0);
        const char *unk = str_of(model, "unk_token");
        if (unk && (m->unk_id = bert_tokenizer_token_to_id(l->tok, unk, strlen(unk))) < 0)
            return bad(l, BERT_E_FORMAT, "model.unk_token \"%.40s\" is not in the vocabulary", unk);
        json_t *merges = json_object_get(model, "merges");
        if (!json_is_array(merges))
            return bad(l, BERT_E_FORMAT, "model.merges: an array expected");
        if ((st = load_merges(l, merges)) != BERT_OK)
            return st;
    } else if (strcmp(type, "Unigram") == 0) {
        m->kind = BERT__M_UNIGRAM;
        if ((st = build_vocab(l, model, added, 1)) != BERT_OK)
            return st;
        m->byte_fallback = bool_of(model, "byte_fallback", 0);
        json_t *unk = json_object_get(model, "unk_id");
        if (json_is_integer(unk)) {
            if (json_integer_value(unk) < 0 || (size_t)json_integer_value(unk) >= json_array_size(vocab))
                return bad(l, BERT_E_FORMAT, "model.unk_id %lld is not a piece", (long long)json_integer_value(unk));
            m->unk_id = (int32_t)json_integer_value(unk);
        }
        m->scores = bert__calloc(json_array_size(vocab) + 1, sizeof *m->scores);
        if (!m->scores)
            return bad(l, BERT_E_NOMEM, "allocating scores");
        double lo = 0;
        size_t i;
        json_t *x;
        json_array_foreach(vocab, i, x)
        {
            m->scores[i] = json_number_value(json_array_get(x, 1));
            if (i == 0 || m->scores[i] < lo)
                lo = m->scores[i];
            size_t pl = json_string_length(json_array_get(x, 0));
            if (pl > m->max_piece_bytes)
                m->max_piece_bytes = pl;
        }
        m->unk_score = lo - 10.0;
        /* the set of all pieces' prefixes lets the lattice stop extending a match early */
        size_t total = 0;
        json_array_foreach(vocab, i, x)
        {
            total += json_string_length(json_array_get(x, 0));
        }
        size_t slots = 16;
        while (slots < 2 * total + 2)
            slots *= 2;
        m->prefixes = bert__calloc(slots, sizeof *m->prefixes);
        if (!m->prefixes)
            return bad(l, BERT_E_NOMEM, "allocating the pieces' prefixes");
        m->prefix_mask = slots - 1;
        json_array_foreach(vocab, i, x)
        {
            const char *piece = json_string_value(json_array_get(x, 0));
            const size_t pl = json_string_length(json_array_get(x, 0));
            uint64_t h = BERT__FNV_OFFSET;
            for (size_t j = 0; j < pl; j++) {
                h = bert__fnv_step(h, (unsigned char)piece[j]);
                const uint32_t tag = (uint32_t)(h >> 32) | 1;
                size_t sl = (size_t)h & m->prefix_mask;
                while (m->prefixes[sl] && m->prefixes[sl] != tag)
                    sl = (sl + 1) & m->prefix_mask;
                m->prefixes[sl] = tag;
            }
        }
    } else if (strcmp(type, "WordPiece") == 0) {
        m->kind = BERT__M_WORDPIECE;
        if ((st = build_vocab(l, model, added, 0)) != BERT_OK)
            return st;
        const char *prefix = str_of(model, "continuing_subword_prefix");
        if (prefix && strcmp(prefix, "##") != 0)
            return bad(l, BERT_E_UNSUPPORTED, "model.continuing_subword_prefix \"%.20s\": only \"##\" is supported",
                       prefix);
        json_t *mx = json_object_get(model, "max_input_chars_per_word");
        if (mx && (!json_is_integer(mx) || json_integer_value(mx) < 1 || json_integer_value(mx) > 1000000))
            return bad(l, BERT_E_FORMAT, "model.max_input_chars_per_word: an integer from 1 to 1000000 expected");
        m->max_chars_per_word = mx ? (size_t)json_integer_value(mx) : 100;
        l->tok->cfg.max_input_chars_per_word = m->max_chars_per_word;
        const char *unk = str_of(model, "unk_token");
        if (!unk || (m->unk_id = bert_tokenizer_token_to_id(l->tok, unk, strlen(unk))) < 0)
            return bad(l, BERT_E_FORMAT, "model.unk_token \"%.40s\" is not in the vocabulary", unk ? unk : "");
    } else if (strcmp(type, "WordLevel") == 0) {
        m->kind = BERT__M_WORDLEVEL;
        if ((st = build_vocab(l, model, added, 0)) != BERT_OK)
            return st;
        const char *unk = str_of(model, "unk_token");
        if (!unk || (m->unk_id = bert_tokenizer_token_to_id(l->tok, unk, strlen(unk))) < 0)
            return bad(l, BERT_E_FORMAT, "model.unk_token \"%.40s\" is not in the vocabulary", unk ? unk : "");
    } else {
        return bad(l, BERT_E_UNSUPPORTED, "model.type \"%.40s\" is not supported", type);
    }
    for (int b = 0; b < 256; b++) {
        char t[8];
        snprintf(t, sizeof t, "<0x%02X>", b);
        int32_t id = bert_tokenizer_token_to_id(l->tok, t, 6);
        m->byte_ids[b] = id >= 0 && (size_t)id < m->n_model ? id : -1;
    }
    return BERT_OK;
}

/* By first byte, then longest first: at a position only the tokens starting with its byte can
 * match, and the first that does is the longest (HF's leftmost-longest). */
static int added_cmp(const void *x, const void *y)
{
    const struct bert__added_tok *a = x, *b = y;
    const unsigned char fa = (unsigned char)a->s[0], fb = (unsigned char)b->s[0];
    if (fa != fb)
        return (fa > fb) - (fa < fb);
    return (a->len < b->len) - (a->len > b->len);
}

static bert_status load_added(ld *l, json_t *added)
{
    bert__pipe *p = l->p;
    const size_t n = json_array_size(added);
    p->added = bert__calloc(n + 1, sizeof *p->added);
    if (!p->added)
        return bad(l, BERT_E_NOMEM, "allocating added tokens");
    /* the raw set (normalized false, or no normalizer) first, then the normalized set */
    for (int pass = 0; pass < 2; pass++) {
        size_t i;
        json_t *a;
        const size_t first = p->n_added;
        json_array_foreach(added, i, a)
        {
            const int normalized = bool_of(a, "normalized", !bool_of(a, "special", 0)) && p->n_norms > 0;
            if (normalized != pass)
                continue;
            json_t *c = json_object_get(a, "content");
            if (json_string_length(c) == 0)
                return bad(l, BERT_E_FORMAT, "added_tokens[%zu].content is empty", i);
            struct bert__added_tok *t = &p->added[p->n_added];
            const char *cs = l->ncontent && l->ncontent[i] ? l->ncontent[i] : json_string_value(c);
            const size_t cl = l->ncontent && l->ncontent[i] ? l->nlen[i] : json_string_length(c);
            t->s = bert__strndup(cs, cl);
            if (!t->s)
                return bad(l, BERT_E_NOMEM, "allocating added tokens");
            t->len = cl;
            t->id = (int32_t)json_integer_value(json_object_get(a, "id"));
            t->lstrip = bool_of(a, "lstrip", 0);
            t->rstrip = bool_of(a, "rstrip", 0);
            t->single_word = bool_of(a, "single_word", 0);
            t->special = bool_of(a, "special", 0);
            p->n_added++;
        }
        qsort(p->added + first, p->n_added - first, sizeof *p->added, added_cmp);
        /* where each first byte's tokens start in this set */
        size_t k = first;
        for (int c = 0; c <= 256; c++) {
            while (c < 256 && k < p->n_added && (unsigned char)p->added[k].s[0] < c)
                k++;
            p->added_from[pass][c] = c < 256 ? k : p->n_added;
        }
        if (pass == 0)
            p->n_raw = p->n_added;
    }
    return BERT_OK;
}

/* ---- the post-processor: a template of specials and sequences ---- */

static bert_status special_id(ld *l, const char *tokname, const char *path, int32_t *id)
{
    *id = bert_tokenizer_token_to_id(l->tok, tokname, strlen(tokname));
    if (*id < 0)
        return bad(l, BERT_E_FORMAT, "%s: \"%.40s\" is not in the vocabulary", path, tokname);
    return BERT_OK;
}

static bert_status tpl_add(ld *l, bert__template *t, int kind, int32_t id, int32_t type_id, const char *path)
{
    if (t->n >= BERT__TEMPLATE_MAX)
        return bad(l, BERT_E_UNSUPPORTED, "%s: over %d items", path, BERT__TEMPLATE_MAX);
    t->item[t->n].kind = kind;
    t->item[t->n].id = id;
    t->item[t->n].type_id = type_id;
    t->n++;
    return BERT_OK;
}

static bert_status template_list(ld *l, json_t *list, json_t *specials, const char *path, bert__template *t)
{
    if (!json_is_array(list))
        return bad(l, BERT_E_FORMAT, "%s: an array expected", path);
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        json_t *sq = json_object_get(x, "Sequence"), *sp = json_object_get(x, "SpecialToken");
        int32_t type_id = (int32_t)json_integer_value(json_object_get(sq ? sq : sp, "type_id"));
        bert_status st;
        if (sq) {
            const char *id = str_of(sq, "id");
            if (!id || (strcmp(id, "A") && strcmp(id, "B")))
                return bad(l, BERT_E_FORMAT, "%s[%zu].Sequence.id: \"A\" or \"B\" expected", path, i);
            st = tpl_add(l, t, id[0] == 'A' ? BERT__TPL_A : BERT__TPL_B, -1, type_id, path);
        } else if (sp) {
            const char *id = str_of(sp, "id");
            json_t *ids = json_object_get(json_object_get(specials, id ? id : ""), "ids");
            if (!id || !json_is_array(ids) || json_array_size(ids) == 0)
                return bad(l, BERT_E_FORMAT, "%s[%zu].SpecialToken: \"%.40s\" has no ids in special_tokens", path, i,
                           id ? id : "");
            size_t k;
            json_t *v;
            st = BERT_OK;
            json_array_foreach(ids, k, v)
            {
                if (st == BERT_OK)
                    st = tpl_add(l, t, BERT__TPL_SPECIAL, (int32_t)json_integer_value(v), type_id, path);
            }
        } else {
            return bad(l, BERT_E_FORMAT, "%s[%zu]: {\"Sequence\"} or {\"SpecialToken\"} expected", path, i);
        }
        if (st != BERT_OK)
            return st;
    }
    return BERT_OK;
}

static bert_status load_post(ld *l, json_t *o, const char *path)
{
    bert_tokenizer *tok = l->tok;
    bert__template *s = &tok->tpl_single, *pr = &tok->tpl_pair;
    s->n = pr->n = 0;
    if (!o || json_is_null(o)) {
        /* no post-processor: the sequences alone */
        tpl_add(l, s, BERT__TPL_A, -1, 0, path);
        tpl_add(l, pr, BERT__TPL_A, -1, 0, path);
        return tpl_add(l, pr, BERT__TPL_B, -1, 1, path);
    }
    const char *type = str_of(o, "type");
    if (!type)
        return bad(l, BERT_E_FORMAT, "%s.type: missing", path);
    bert_status st;
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0) {
        const int roberta = type[0] == 'R';
        json_t *cls = json_object_get(o, "cls"), *sep = json_object_get(o, "sep");
        if (!json_is_string(json_array_get(cls, 0)) || !json_is_string(json_array_get(sep, 0)))
            return bad(l, BERT_E_FORMAT, "%s: \"cls\" and \"sep\" [token, id] expected", path);
        int32_t c, e;
        if ((st = special_id(l, json_string_value(json_array_get(cls, 0)), path, &c)) != BERT_OK ||
            (st = special_id(l, json_string_value(json_array_get(sep, 0)), path, &e)) != BERT_OK)
            return st;
        tpl_add(l, s, BERT__TPL_SPECIAL, c, 0, path);
        tpl_add(l, s, BERT__TPL_A, -1, 0, path);
        tpl_add(l, s, BERT__TPL_SPECIAL, e, 0, path);
        tpl_add(l, pr, BERT__TPL_SPECIAL, c, 0, path);
        tpl_add(l, pr, BERT__TPL_A, -1, 0, path);
        tpl_add(l, pr, BERT__TPL_SPECIAL, e, 0, path);
        if (roberta) {
            /* RoBERTa: <s> A </s> </s> B </s>, every type id 0 */
            tpl_add(l, pr, BERT__TPL_SPECIAL, e, 0, path);
            tpl_add(l, pr, BERT__TPL_B, -1, 0, path);
            tpl_add(l, pr, BERT__TPL_SPECIAL, e, 0, path);
            l->p->post.trim_offsets = bool_of(o, "trim_offsets", 1);
            l->p->post.add_prefix_space = bool_of(o, "add_prefix_space", 1);
        } else {
            tpl_add(l, pr, BERT__TPL_B, -1, 1, path);
            tpl_add(l, pr, BERT__TPL_SPECIAL, e, 1, path);
        }
        return BERT_OK;
    }
    if (strcmp(type, "TemplateProcessing") == 0) {
        json_t *sp = json_object_get(o, "special_tokens");
        char sub[160];
        snprintf(sub, sizeof sub, "%s.single", path);
        if ((st = template_list(l, json_object_get(o, "single"), sp, sub, s)) != BERT_OK)
            return st;
        snprintf(sub, sizeof sub, "%s.pair", path);
        return template_list(l, json_object_get(o, "pair"), sp, sub, pr);
    }
    if (strcmp(type, "ByteLevel") == 0) {
        l->p->post.trim_offsets = bool_of(o, "trim_offsets", 1);
        l->p->post.add_prefix_space = bool_of(o, "add_prefix_space", 1);
        return load_post(l, NULL, path);
    }
    return bad(l, BERT_E_UNSUPPORTED, "%s.type \"%.60s\" is not supported", path, type);
}

static bert_status add_decoder(ld *l, json_t *o, const char *path)
{
    const char *type;
    int done;
    bert_status sq = type_or_sequence(l, o, path, "decoders", add_decoder, &type, &done);
    if (sq != BERT_OK || done)
        return sq;
    bert__pipe *p = l->p;
    bert__decoder *nn = bert__reallocarray(p->decoders, p->n_decoders + 1, sizeof *nn);
    if (!nn)
        return bad(l, BERT_E_NOMEM, "allocating decoders");
    p->decoders = nn;
    bert__decoder *d = &nn[p->n_decoders];
    memset(d, 0, sizeof *d);
    p->n_decoders++;
    const char *str = NULL;
    if (strcmp(type, "ByteLevel") == 0) {
        d->kind = BERT__D_BYTELEVEL;
    } else if (strcmp(type, "Metaspace") == 0) {
        d->kind = BERT__D_METASPACE;
        if (!first_cp(str_of(o, "replacement"), &d->replacement))
            return bad(l, BERT_E_FORMAT, "%s.replacement: one character expected", path);
        const char *ps = str_of(o, "prepend_scheme");
        d->prepend = ps ? (strcmp(ps, "never") == 0   ? BERT__PREPEND_NEVER
                           : strcmp(ps, "first") == 0 ? BERT__PREPEND_FIRST
                                                      : BERT__PREPEND_ALWAYS)
                        : (bool_of(o, "add_prefix_space", 1) ? BERT__PREPEND_ALWAYS : BERT__PREPEND_NEVER);
    } else if (strcmp(type, "WordPiece") == 0) {
        d->kind = BERT__D_WORDPIECE;
        str = str_of(o, "prefix");
        if (!str)
            str = "##";
        d->cleanup = bool_of(o, "cleanup", 1);
    } else if (strcmp(type, "BPEDecoder") == 0) {
        d->kind = BERT__D_BPE;
        str = str_of(o, "suffix");
        if (!str)
            str = "</w>";
    } else if (strcmp(type, "ByteFallback") == 0) {
        d->kind = BERT__D_BYTE_FALLBACK;
    } else if (strcmp(type, "Fuse") == 0) {
        d->kind = BERT__D_FUSE;
    } else if (strcmp(type, "Strip") == 0) {
        d->kind = BERT__D_STRIP;
        json_t *st = json_object_get(o, "start"), *sp = json_object_get(o, "stop");
        if (!first_cp(str_of(o, "content"), &d->replacement) || !json_is_integer(st) || !json_is_integer(sp) ||
            json_integer_value(st) < 0 || json_integer_value(sp) < 0)
            return bad(l, BERT_E_FORMAT, "%s: \"content\" (one character), \"start\" and \"stop\" expected", path);
        d->start = (size_t)json_integer_value(st);
        d->stop = (size_t)json_integer_value(sp);
    } else if (strcmp(type, "Replace") == 0) {
        d->kind = BERT__D_REPLACE;
        str = str_of(o, "content");
        if (!str)
            return bad(l, BERT_E_FORMAT, "%s.content: a string expected", path);
        bert_status st = pattern_of(l, o, path, &d->pat);
        if (st != BERT_OK)
            return st;
    } else {
        p->n_decoders--;
        return bad(l, BERT_E_UNSUPPORTED, "%s.type \"%.60s\" is not supported", path, type);
    }
    if (str) {
        d->str = bert__strndup(str, strlen(str));
        d->str_len = strlen(str);
        if (!d->str)
            return bad(l, BERT_E_NOMEM, "allocating %s", path);
    }
    return BERT_OK;
}

static int32_t first_present(const bert_tokenizer *tok, const char *const *names)
{
    for (; *names; names++) {
        int32_t id = bert_tokenizer_token_to_id(tok, *names, strlen(*names));
        if (id >= 0)
            return id;
    }
    return -1;
}

/* A tokenizer.json that is BERT's pipeline exactly (BertNormalizer, BertPreTokenizer, WordPiece
 * with "##", added tokens matched whole on the raw text) runs on the WordPiece fast path, which
 * streams and is faster; the fixtures check both paths give the same tokens. */
static bert_status to_fast_path(ld *l)
{
    bert_tokenizer *tok = l->tok;
    bert__pipe *p = l->p;
    if (p->n_norms != 1 || p->norms[0].kind != BERT__N_BERT || p->n_pres != 1 || p->pres[0].kind != BERT__P_BERT ||
        p->model.kind != BERT__M_WORDPIECE || p->n_raw != p->n_added)
        return BERT_OK;
    for (size_t i = 0; i < p->n_added; i++)
        if (p->added[i].lstrip || p->added[i].rstrip || p->added[i].single_word)
            return BERT_OK;
    for (size_t i = 0; i < p->n_decoders; i++)
        if (p->decoders[i].kind != BERT__D_WORDPIECE || !p->decoders[i].cleanup || p->decoders[i].str_len != 2)
            return BERT_OK;
    const bert__norm *nm = &p->norms[0];
    tok->cfg.do_lower_case = nm->lowercase;
    tok->cfg.strip_accents = nm->strip_accents;
    tok->cfg.tokenize_chinese_chars = nm->chinese;
    tok->cfg.clean_text = nm->clean_text;
    tok->added = bert__calloc(p->n_added + 1, sizeof *tok->added);
    if (!tok->added)
        return bad(l, BERT_E_NOMEM, "allocating added tokens");
    for (size_t i = 0; i < p->n_added; i++) { /* already longest first */
        tok->added[i].s = p->added[i].s;
        tok->added[i].len = p->added[i].len;
        tok->added[i].id = p->added[i].id;
        tok->added_first[(unsigned char)p->added[i].s[0]] = 1;
    }
    tok->n_added = p->n_added;
    tok->plain = p;
    tok->pipe = NULL;
    return BERT_OK;
}

/* The file's truncation and padding, as the encoding defaults bert_tokenizer_encode_params gives. */
static bert_status load_defaults(ld *l, json_t *trunc, json_t *pad)
{
    bert_encode_params *e = &l->tok->defaults;
    *e = bert_encode_default_params();
    if (trunc && !json_is_null(trunc)) {
        const char *dir = str_of(trunc, "direction"), *strat = str_of(trunc, "strategy");
        json_t *ml = json_object_get(trunc, "max_length"), *stride = json_object_get(trunc, "stride");
        if (dir && strcmp(dir, "Right") != 0)
            return bad(l, BERT_E_UNSUPPORTED, "truncation.direction \"%.20s\" is not supported (Right is)", dir);
        if (!json_is_integer(ml) || json_integer_value(ml) < 1)
            return bad(l, BERT_E_FORMAT, "truncation.max_length: a positive integer expected");
        e->max_length = (size_t)json_integer_value(ml);
        e->stride = json_is_integer(stride) && json_integer_value(stride) > 0 ? (size_t)json_integer_value(stride) : 0;
        if (!strat || strcmp(strat, "LongestFirst") == 0)
            e->truncation = BERT_TRUNCATION_LONGEST_FIRST;
        else if (strcmp(strat, "OnlyFirst") == 0)
            e->truncation = BERT_TRUNCATION_ONLY_FIRST;
        else if (strcmp(strat, "OnlySecond") == 0)
            e->truncation = BERT_TRUNCATION_ONLY_SECOND;
        else
            return bad(l, BERT_E_UNSUPPORTED, "truncation.strategy \"%.20s\" is not supported", strat);
    }
    if (pad && !json_is_null(pad)) {
        const char *dir = str_of(pad, "direction");
        json_t *strat = json_object_get(pad, "strategy"), *multiple = json_object_get(pad, "pad_to_multiple_of"),
               *type_id = json_object_get(pad, "pad_type_id");
        if (dir && strcmp(dir, "Right") != 0)
            return bad(l, BERT_E_UNSUPPORTED, "padding.direction \"%.20s\" is not supported (Right is)", dir);
        if (multiple && !json_is_null(multiple))
            return bad(l, BERT_E_UNSUPPORTED, "padding.pad_to_multiple_of is not supported");
        if (json_is_integer(type_id) && json_integer_value(type_id) != 0)
            return bad(l, BERT_E_UNSUPPORTED, "padding.pad_type_id %lld: padding has type id 0",
                       (long long)json_integer_value(type_id));
        json_t *fixed = json_object_get(strat, "Fixed");
        if (json_is_integer(fixed) && json_integer_value(fixed) > 0) {
            const size_t n = (size_t)json_integer_value(fixed);
            if (e->max_length && e->max_length != n)
                return bad(l, BERT_E_UNSUPPORTED, "padding.strategy.Fixed %zu differs from truncation.max_length %zu",
                           n, e->max_length);
            e->max_length = n;
            e->padding = BERT_PADDING_MAX_LENGTH;
        } else if (!(json_is_string(strat) && strcmp(json_string_value(strat), "BatchLongest") == 0)) {
            return bad(l, BERT_E_UNSUPPORTED, "padding.strategy: BatchLongest or {\"Fixed\": N} expected");
        }
    }
    return BERT_OK;
}

/* HF matches an added token that is normalized by its content run through the normalizers, and
 * names its id so: those contents are computed once here. */
static bert_status normalize_added(ld *l, json_t *added)
{
    const size_t n = json_array_size(added);
    if (!l->p->n_norms || !n)
        return BERT_OK;
    l->ncontent = bert__calloc(n, sizeof *l->ncontent);
    l->nlen = bert__calloc(n, sizeof *l->nlen);
    if (!l->ncontent || !l->nlen)
        return bad(l, BERT_E_NOMEM, "allocating added tokens");
    size_t i;
    json_t *a;
    json_array_foreach(added, i, a)
    {
        json_t *c = json_object_get(a, "content");
        if (!json_is_string(c) || !bool_of(a, "normalized", !bool_of(a, "special", 0)))
            continue;
        char *cur = bert__strndup(json_string_value(c), json_string_length(c));
        size_t len = json_string_length(c);
        for (size_t k = 0; cur && k < l->p->n_norms; k++) {
            char *next = NULL;
            size_t nl = 0;
            if (bert__normalize_string(&l->p->norms[k], cur, len, &next, &nl) != BERT_OK) {
                bert__free(cur);
                cur = NULL;
                break;
            }
            bert__free(cur);
            cur = next;
            len = nl;
        }
        if (!cur)
            return bad(l, BERT_E_NOMEM, "normalizing added_tokens[%zu]", i);
        l->ncontent[i] = cur;
        l->nlen[i] = len;
    }
    return BERT_OK;
}

bert_status bert__tokenizer_json_parse(bert_tokenizer *tok, const char *data, size_t len, const char *name,
                                       char *errbuf, size_t errbuf_size)
{
    ld l = {tok, NULL, name, errbuf, errbuf_size, NULL, NULL};
    json_error_t je;
    size_t n_added = 0;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: line %d, column %d: %s", name, je.line,
                                je.column, je.text);
    bert_status st = BERT_OK;
    tok->pipe = bert__calloc(1, sizeof *tok->pipe);
    if (!tok->pipe) {
        st = bad(&l, BERT_E_NOMEM, "allocating the pipeline");
        goto done;
    }
    l.p = tok->pipe;
    json_t *model = json_object_get(root, "model"), *added = json_object_get(root, "added_tokens");
    n_added = json_array_size(added);
    if (!json_is_object(model)) {
        st = bad(&l, BERT_E_FORMAT, "model: an object expected");
        goto done;
    }
    if (added && !json_is_array(added)) {
        st = bad(&l, BERT_E_FORMAT, "added_tokens: an array expected");
        goto done;
    }
    json_t *norm = json_object_get(root, "normalizer"), *pre = json_object_get(root, "pre_tokenizer");
    if (norm && !json_is_null(norm) && (st = add_norm(&l, norm, "normalizer")) != BERT_OK)
        goto done;
    if ((st = normalize_added(&l, added)) != BERT_OK)
        goto done;
    if ((st = load_model(&l, model, added)) != BERT_OK)
        goto done;
    if (pre && !json_is_null(pre) && (st = add_pre(&l, pre, "pre_tokenizer")) != BERT_OK)
        goto done;
    if ((st = load_added(&l, added)) != BERT_OK)
        goto done;
    /* an added token's name is its own (normalized, when it is matched after the normalizers),
     * even where the model has the id too: HF's id_to_token answers so */
    l.p->added_of_id = bert__malloc((tok->n_tokens + 1) * sizeof *l.p->added_of_id);
    if (!l.p->added_of_id) {
        st = bad(&l, BERT_E_NOMEM, "allocating added tokens");
        goto done;
    }
    for (size_t i = 0; i < tok->n_tokens; i++)
        l.p->added_of_id[i] = -1;
    for (size_t i = 0; i < l.p->n_added; i++)
        l.p->added_of_id[l.p->added[i].id] = (int32_t)i;
    if ((st = load_post(&l, json_object_get(root, "post_processor"), "post_processor")) != BERT_OK)
        goto done;
    json_t *dec = json_object_get(root, "decoder");
    if (dec && !json_is_null(dec) && (st = add_decoder(&l, dec, "decoder")) != BERT_OK)
        goto done;
    /* the special ids the library's heads and batches ask for, by the names the families use */
    static const char *const unk[] = {"<unk>", "[UNK]", NULL}, *const sep[] = {"</s>", "[SEP]", NULL},
                             *const pad[] = {"<pad>", "[PAD]", NULL}, *const cls[] = {"<s>", "[CLS]", NULL},
                             *const mask[] = {"<mask>", "[MASK]", NULL};
    tok->special_ids[BERT_SPECIAL_UNK] =
        tok->pipe->model.unk_id >= 0 ? tok->pipe->model.unk_id : first_present(tok, unk);
    tok->special_ids[BERT_SPECIAL_SEP] = first_present(tok, sep);
    tok->special_ids[BERT_SPECIAL_PAD] = first_present(tok, pad);
    tok->special_ids[BERT_SPECIAL_CLS] = first_present(tok, cls);
    tok->special_ids[BERT_SPECIAL_MASK] = first_present(tok, mask);
    if ((st = to_fast_path(&l)) != BERT_OK)
        goto done;
    if (tok->pipe && tok->pipe->post.trim_offsets) {
        bert__pipe *p = tok->pipe;
        p->trim_lead = bert__calloc(tok->n_tokens, 1);
        p->trim_trail = bert__calloc(tok->n_tokens, 1);
        if (!p->trim_lead || !p->trim_trail) {
            st = bad(&l, BERT_E_NOMEM, "allocating the tokens' spaces");
            goto done;
        }
        for (size_t id = 0; id < tok->n_tokens; id++) {
            size_t tl = 0, lead, trail;
            const char *t = bert_tokenizer_id_to_token(tok, (int32_t)id, &tl);
            bert__count_spaces(t, tl, &lead, &trail);
            p->trim_lead[id] = (uint8_t)(lead > 255 ? 255 : lead);
            p->trim_trail[id] = (uint8_t)(trail > 255 ? 255 : trail);
        }
    }
    if ((st = load_defaults(&l, json_object_get(root, "truncation"), json_object_get(root, "padding"))) != BERT_OK)
        goto done;
    json_t *padding = json_object_get(root, "padding");
    if (json_is_integer(json_object_get(padding, "pad_id")))
        tok->special_ids[BERT_SPECIAL_PAD] = (int32_t)json_integer_value(json_object_get(padding, "pad_id"));
done:
    for (size_t i = 0; l.ncontent && i < n_added; i++)
        bert__free(l.ncontent[i]);
    bert__free(l.ncontent);
    bert__free(l.nlen);
    json_decref(root);
    return st;
}

void bert__pipe_free(bert__pipe *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_norms; i++) {
        bert__pattern_free(&p->norms[i].pat);
        bert__free(p->norms[i].content);
        bert__free(p->norms[i].pc.trie);
        bert__free(p->norms[i].pc.norm);
    }
    bert__free(p->norms);
    for (size_t i = 0; i < p->n_pres; i++)
        bert__pattern_free(&p->pres[i].pat);
    bert__free(p->pres);
    for (size_t i = 0; i < p->n_decoders; i++) {
        bert__pattern_free(&p->decoders[i].pat);
        bert__free(p->decoders[i].str);
    }
    bert__free(p->decoders);
    bert__free(p->model.prefix);
    bert__free(p->model.suffix);
    bert__free(p->model.merges);
    bert__free(p->model.scores);
    bert__free(p->model.prefixes);
    bert__free(p->trim_lead);
    bert__free(p->added_of_id);
    bert__free(p->trim_trail);
    for (size_t i = 0; i < p->n_added; i++)
        bert__free(p->added[i].s);
    bert__free(p->added);
    bert__free(p);
}

static void arena_free(bert__arena *a)
{
    bert__free(a->b);
    bert__free(a->al);
    bert__free(a->pc);
}

void bert__pwork_free(bert__pwork *w)
{
    if (!w)
        return;
    for (int i = 0; i < 2; i++) {
        arena_free(&w->a[i]);
        arena_free(&w->t[i]);
    }
    bert__free(w->sym_id);
    bert__free(w->sym_off);
    bert__free(w->sym_len);
    bert__free(w->best);
    bert__free(w->from);
    bert__free(w->best_id);
    bert__free(w->cps);
    bert__free(w->ev);
    bert__word_free(&w->word);
    bert__free(w->wcache);
    bert__free(w);
}
