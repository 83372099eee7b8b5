/* vocab.txt: one token per line, id = line number. Split on '\n' only, because the Chinese
 * vocabulary has U+2028 inside tokens, and a trailing '\r' is dropped so CRLF files work. */
#include <string.h>

#include "pipe.h"

uint64_t bert__fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = bert__fnv_step(h, (unsigned char)s[i]);
    return h;
}

int32_t bert__vocab_find(const bert_tokenizer *tok, uint64_t h, const char *prefix, size_t plen, const char *s,
                         size_t n)
{
    size_t i = (size_t)h & tok->slot_mask;
    for (;;) {
        uint32_t v = tok->slots[i];
        if (v == 0)
            return -1;
        uint32_t id = v - 1;
        if (tok->tok_hash[id] == h && tok->tok_len[id] == plen + n) {
            const char *t = tok->vocab + tok->tok_off[id];
            if (memcmp(t, prefix, plen) == 0 && memcmp(t + plen, s, n) == 0)
                return (int32_t)id;
        }
        i = (i + 1) & tok->slot_mask;
    }
}

/* The id -> string and string -> id tables for n tokens (the strings themselves aside). */
static bert_status alloc_tables(bert_tokenizer *tok, size_t n)
{
    tok->tok_off = bert__calloc(n, sizeof *tok->tok_off);
    tok->tok_len = bert__calloc(n, sizeof *tok->tok_len);
    tok->tok_hash = bert__calloc(n, sizeof *tok->tok_hash);
    size_t slots = 16;
    while (slots < 2 * n)
        slots *= 2;
    tok->slots = bert__calloc(slots, sizeof *tok->slots);
    if (!tok->tok_off || !tok->tok_len || !tok->tok_hash || !tok->slots)
        return BERT_E_NOMEM;
    tok->slot_mask = slots - 1;
    tok->n_tokens = n;
    return BERT_OK;
}

/* Enters token id, stored at tok->vocab[off .. off + tl), into the lookup table. A repeated string
 * takes over the lookup, as in HF (its Python dict and Rust HashMap keep the last id); the earlier
 * id still decodes. */
static void index_token(bert_tokenizer *tok, size_t id, size_t off, size_t tl)
{
    const char *t = tok->vocab + off;
    tok->tok_off[id] = (uint32_t)off;
    tok->tok_len[id] = (uint32_t)tl;
    uint64_t h = bert__fnv(BERT__FNV_OFFSET, t, tl);
    tok->tok_hash[id] = h;
    if (tl >= 2 && t[0] == '#' && t[1] == '#') {
        if (tl - 2 > tok->max_cont_bytes)
            tok->max_cont_bytes = tl - 2;
    } else if (tl > tok->max_word_bytes) {
        tok->max_word_bytes = tl;
    }
    size_t s = (size_t)h & tok->slot_mask;
    while (tok->slots[s]) {
        uint32_t o = tok->slots[s] - 1;
        if (tok->tok_hash[o] == h && tok->tok_len[o] == tl && memcmp(tok->vocab + tok->tok_off[o], t, tl) == 0)
            break;
        s = (s + 1) & tok->slot_mask;
    }
    tok->slots[s] = (uint32_t)id + 1;
}

bert_status bert__vocab_build(bert_tokenizer *tok, const char *data, size_t len, const char *name, char *errbuf,
                              size_t errbuf_size)
{
    if (len == 0)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: empty vocabulary", name);
    if (len > UINT32_MAX - 1)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_TOO_LONG, "%s: vocabulary of %zu bytes exceeds 4 GiB", name,
                                len);
    tok->vocab = bert__malloc(len);
    if (!tok->vocab)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating %zu bytes", name, len);
    memcpy(tok->vocab, data, len);
    tok->vocab_bytes = len;

    /* A final newline ends the last line; it does not start an empty token. */
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += data[i] == '\n';
    if (data[len - 1] != '\n')
        n++;
    if (n >= INT32_MAX)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_TOO_LONG, "%s: %zu tokens exceed the id range", name, n);
    if (alloc_tables(tok, n) != BERT_OK)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating the table of %zu tokens", name, n);

    size_t line = 0, start = 0;
    for (size_t i = 0; i <= len && line < n; i++) {
        if (i < len && data[i] != '\n')
            continue;
        size_t end = i;
        if (end > start && data[end - 1] == '\r')
            end--;
        size_t tl = end - start;
        if (memchr(data + start, '\0', tl))
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s:%zu: NUL byte inside a token", name,
                                    line + 1);
        size_t bad = 0;
        if (bert_utf8_check(data + start, tl, &bad) != BERT_OK)
            /* no text can produce such a token: a corrupt or mis-encoded (Latin-1) file */
            return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                    "%s:%zu: malformed UTF-8 at byte %zu of the token", name, line + 1, bad);
        index_token(tok, (size_t)line, start, tl);
        line++;
        start = i + 1;
    }
    return BERT_OK;
}

bert_status bert__vocab_build_list(bert_tokenizer *tok, const char *const *strs, const size_t *lens, size_t n,
                                   const char *name, char *errbuf, size_t errbuf_size)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strs[i] ? lens[i] : 0;
    if (total > UINT32_MAX - 1 || n >= INT32_MAX)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_TOO_LONG, "%s: vocabulary too large", name);
    tok->vocab = bert__malloc(total + 1);
    if (!tok->vocab || alloc_tables(tok, n) != BERT_OK)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating the table of %zu tokens", name, n);
    tok->vocab_bytes = total;
    size_t off = 0;
    for (size_t id = 0; id < n; id++) {
        if (!strs[id])
            continue; /* a hole: no string maps to it */
        const size_t tl = lens[id];
        memcpy(tok->vocab + off, strs[id], tl);
        index_token(tok, id, off, tl);
        off += tl;
    }
    return BERT_OK;
}

size_t bert_tokenizer_vocab_size(const bert_tokenizer *tok)
{
    return tok ? tok->n_tokens : 0;
}

int32_t bert_tokenizer_token_to_id(const bert_tokenizer *tok, const char *token, size_t len)
{
    if (!tok || (!token && len))
        return -1;
    return bert__vocab_find(tok, bert__fnv(BERT__FNV_OFFSET, token, len), "", 0, token, len);
}

const char *bert_tokenizer_id_to_token(const bert_tokenizer *tok, int32_t id, size_t *len)
{
    if (!tok || id < 0 || (size_t)id >= tok->n_tokens) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (tok->pipe && tok->pipe->added_of_id && tok->pipe->added_of_id[id] >= 0) {
        const struct bert__added_tok *a = &tok->pipe->added[tok->pipe->added_of_id[id]];
        if (len)
            *len = a->len;
        return a->s;
    }
    if (len)
        *len = tok->tok_len[id];
    return tok->vocab + tok->tok_off[id];
}

int32_t bert_tokenizer_special_id(const bert_tokenizer *tok, bert_special which)
{
    if (!tok || (int)which < 0 || (int)which >= BERT__N_SPECIAL)
        return -1;
    return tok->special_ids[which];
}

int bert_tokenizer_is_added(const bert_tokenizer *tok, int32_t id)
{
    if (!tok || id < 0)
        return 0;
    if (tok->pipe) {
        for (size_t i = 0; i < tok->pipe->n_added; i++)
            if (tok->pipe->added[i].id == id)
                return 1;
        return 0;
    }
    for (size_t i = 0; i < tok->n_added; i++)
        if (tok->added[i].id == id)
            return 1;
    return 0;
}

bert_tokenizer_source bert_tokenizer_get_source(const bert_tokenizer *tok)
{
    return tok && (tok->pipe || tok->plain) ? BERT_TOKENIZER_JSON : BERT_TOKENIZER_VOCAB_TXT;
}
