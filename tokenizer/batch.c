/* bert_batch: encodes inputs (singles or pairs) into padded rows with special tokens, truncation
 * and overflowing windows, the way HF's BertProcessing post-processor assembles them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pipe.h"
#include "truncate.h"

struct bert_batch {
    char errmsg[512];

    /* rows before padding, concatenated */
    int32_t *r_ids, *r_type, *r_seq, *r_word;
    uint8_t *r_special;
    bert_span *r_off;
    size_t *r_txt, *r_txt_len; /* a token's own text in txt, or SIZE_MAX: its vocabulary string */
    size_t r_n, r_cap;
    char *txt;
    size_t txt_len, txt_cap;
    const bert_tokenizer *tok; /* of the last encode */
    size_t *row_start, *row_len, *row_sample;
    uint8_t *row_trunc; /* the row lost tokens to truncation (overflow windows: always) */
    size_t n_rows, rows_cap;

    /* padded output [n_rows x seq_len] */
    int32_t *ids, *type_ids, *seq_ids, *word_ids;
    uint8_t *mask, *special;
    bert_span *offsets;
    size_t out_cap, seq_len;

    /* scratch */
    bert__seq sa, sb;
    bert__word word;
    size_t word_chars; /* max_input_chars_per_word the word buffer was sized for */
    bert__windows wa, wb;
    bert__pwork *pw; /* tokenizer.json pipelines' scratch, made on first use */
};

bert_encode_params bert_encode_default_params(void)
{
    bert_encode_params p;
    memset(&p, 0, sizeof p);
    p.add_special_tokens = 1;
    p.truncation = BERT_TRUNCATION_NONE;
    p.padding = BERT_PADDING_LONGEST;
    p.on_invalid_utf8 = BERT_INVALID_UTF8_ERROR;
    return p;
}

bert_status bert_batch_new(bert_batch **out, char *errbuf, size_t errbuf_size)
{
    if (!out)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_batch_new: out is NULL");
    *out = bert__calloc(1, sizeof **out);
    if (!*out)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "bert_batch_new: allocating the batch");
    return BERT_OK;
}

static void windows_free(bert__windows *w)
{
    bert__free(w->start);
    bert__free(w->stop);
    memset(w, 0, sizeof *w);
}

void bert_batch_free(bert_batch *b)
{
    if (!b)
        return;
    bert__free(b->r_ids);
    bert__free(b->r_type);
    bert__free(b->r_seq);
    bert__free(b->r_word);
    bert__free(b->r_special);
    bert__free(b->r_off);
    bert__free(b->r_txt);
    bert__free(b->r_txt_len);
    bert__free(b->txt);
    bert__free(b->row_start);
    bert__free(b->row_len);
    bert__free(b->row_sample);
    bert__free(b->row_trunc);
    bert__free(b->ids);
    bert__free(b->type_ids);
    bert__free(b->seq_ids);
    bert__free(b->word_ids);
    bert__free(b->mask);
    bert__free(b->special);
    bert__free(b->offsets);
    bert__seq_free(&b->sa);
    bert__seq_free(&b->sb);
    bert__word_free(&b->word);
    windows_free(&b->wa);
    windows_free(&b->wb);
    bert__pwork_free(b->pw);
    bert__free(b);
}

const char *bert_batch_errmsg(const bert_batch *b)
{
    return b ? b->errmsg : "bert_batch_errmsg: NULL batch";
}

static bert_status fail(bert_batch *b, bert_status st, const char *fmt, ...) BERT__PRINTF(3, 4);
static bert_status fail(bert_batch *b, bert_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->errmsg, sizeof b->errmsg, fmt, ap);
    va_end(ap);
    b->n_rows = 0;
    b->seq_len = 0;
    b->r_n = 0;
    return st;
}

/* Grows all parallel arrays of the unpadded rows to hold need tokens. */
static bert_status reserve_tokens(bert_batch *b, size_t need)
{
    if (need <= b->r_cap)
        return BERT_OK;
    size_t c[8] = {b->r_cap, b->r_cap, b->r_cap, b->r_cap, b->r_cap, b->r_cap, b->r_cap, b->r_cap};
    if (bert__grow((void **)&b->r_ids, &c[0], need, sizeof *b->r_ids) ||
        bert__grow((void **)&b->r_type, &c[1], need, sizeof *b->r_type) ||
        bert__grow((void **)&b->r_seq, &c[2], need, sizeof *b->r_seq) ||
        bert__grow((void **)&b->r_word, &c[3], need, sizeof *b->r_word) ||
        bert__grow((void **)&b->r_special, &c[4], need, sizeof *b->r_special) ||
        bert__grow((void **)&b->r_off, &c[5], need, sizeof *b->r_off) ||
        bert__grow((void **)&b->r_txt, &c[6], need, sizeof *b->r_txt) ||
        bert__grow((void **)&b->r_txt_len, &c[7], need, sizeof *b->r_txt_len))
        return BERT_E_NOMEM;
    b->r_cap = c[0];
    return BERT_OK;
}

static bert_status reserve_rows(bert_batch *b, size_t need)
{
    if (need <= b->rows_cap)
        return BERT_OK;
    size_t c[4] = {b->rows_cap, b->rows_cap, b->rows_cap, b->rows_cap};
    if (bert__grow((void **)&b->row_start, &c[0], need, sizeof(size_t)) ||
        bert__grow((void **)&b->row_len, &c[1], need, sizeof(size_t)) ||
        bert__grow((void **)&b->row_sample, &c[2], need, sizeof(size_t)) ||
        bert__grow((void **)&b->row_trunc, &c[3], need, sizeof(uint8_t)))
        return BERT_E_NOMEM;
    b->rows_cap = c[0];
    return BERT_OK;
}

static bert_status reserve_windows(bert__windows *w, size_t need)
{
    if (need <= w->cap)
        return BERT_OK;
    size_t c1 = w->cap, c2 = w->cap;
    if (bert__grow((void **)&w->start, &c1, need, sizeof(size_t)) ||
        bert__grow((void **)&w->stop, &c2, need, sizeof(size_t)))
        return BERT_E_NOMEM;
    w->cap = c1;
    return BERT_OK;
}

/* Appends one token to the current row (capacity already reserved). */
static void put(bert_batch *b, int32_t id, int32_t type, int32_t seq, int32_t word, uint8_t special, bert_span off)
{
    size_t i = b->r_n++;
    b->r_ids[i] = id;
    b->r_type[i] = type;
    b->r_seq[i] = seq;
    b->r_word[i] = word;
    b->r_special[i] = special;
    b->r_off[i] = off;
    b->r_txt[i] = SIZE_MAX;
    b->r_txt_len[i] = 0;
}

/* Appends s's tokens [from, to) with their own texts. */
static bert_status put_seq(bert_batch *b, const bert__seq *s, size_t from, size_t to, int32_t type, int32_t seq)
{
    size_t k = 0;
    while (k < s->n_own && s->own[k].i < from)
        k++;
    for (size_t i = from; i < to; i++) {
        put(b, s->ids[i], type, seq, s->words[i], 0, s->offsets[i]);
        if (k < s->n_own && s->own[k].i == i) {
            const size_t len = s->own[k].len;
            if (b->txt_len + len > b->txt_cap && bert__grow((void **)&b->txt, &b->txt_cap, b->txt_len + len + 1, 1))
                return BERT_E_NOMEM;
            memcpy(b->txt + b->txt_len, s->own_txt + s->own[k].off, len);
            b->r_txt[b->r_n - 1] = b->txt_len;
            b->r_txt_len[b->r_n - 1] = len;
            b->txt_len += len;
            k++;
        }
    }
    return BERT_OK;
}

static size_t template_specials(const bert__template *t)
{
    size_t n = 0;
    for (int i = 0; i < t->n; i++)
        n += t->item[i].kind == BERT__TPL_SPECIAL;
    return n;
}

/* One row: the post-processor's template with a[a0..a1) and b[b0..b1) in it. */
static bert_status add_row(bert_batch *b, const bert_tokenizer *tok, const bert_encode_params *p, size_t sample,
                           size_t a0, size_t a1, const bert__seq *sb, size_t b0, size_t b1)
{
    const int specials = p->add_special_tokens;
    const bert__template *t = sb ? &tok->tpl_pair : &tok->tpl_single;
    size_t n = (a1 - a0) + (sb ? b1 - b0 : 0) + template_specials(t);
    if (reserve_tokens(b, b->r_n + n) != BERT_OK || reserve_rows(b, b->n_rows + 1) != BERT_OK)
        return BERT_E_NOMEM;
    const bert_span none = {0, 0};
    b->row_start[b->n_rows] = b->r_n;
    b->row_sample[b->n_rows] = sample;
    /* the tokenizer stops a sequence past the limit, so a cut one is always longer than its window */
    b->row_trunc[b->n_rows] = (uint8_t)(a1 - a0 < b->sa.n || (sb && b1 - b0 < sb->n));
    if (!specials) {
        /* the sequences alone, with the template's type ids */
        int32_t ta = 0, tb = 1;
        for (int i = 0; i < t->n; i++)
            if (t->item[i].kind == BERT__TPL_A)
                ta = t->item[i].type_id;
            else if (t->item[i].kind == BERT__TPL_B)
                tb = t->item[i].type_id;
        if (put_seq(b, &b->sa, a0, a1, ta, 0) != BERT_OK || (sb && put_seq(b, sb, b0, b1, tb, 1) != BERT_OK))
            return BERT_E_NOMEM;
    } else {
        for (int k = 0; k < t->n; k++) {
            const int32_t ty = t->item[k].type_id;
            if (t->item[k].kind == BERT__TPL_SPECIAL)
                put(b, t->item[k].id, ty, -1, -1, 1, none);
            else if (t->item[k].kind == BERT__TPL_A) {
                if (put_seq(b, &b->sa, a0, a1, ty, 0) != BERT_OK)
                    return BERT_E_NOMEM;
            } else if (sb && put_seq(b, sb, b0, b1, ty, 1) != BERT_OK)
                return BERT_E_NOMEM;
        }
    }
    b->row_len[b->n_rows] = b->r_n - b->row_start[b->n_rows];
    b->n_rows++;
    return BERT_OK;
}

static bert_status tokenize_one(bert_batch *b, const bert_tokenizer *tok, const bert_encode_params *p, size_t i,
                                const char *which, const char *text, size_t len, bert__seq *out)
{
    bert__tokenize_opts o = {p->on_invalid_utf8, p->truncation != BERT_TRUNCATION_NONE ? p->max_length : 0};
    size_t bad = 0;
    if (!text && len)
        return fail(b, BERT_E_INVALID_ARG, "input %zu: text %s is NULL with length %zu", i, which, len);
    bert_status st;
    if (tok->pipe) {
        if (!b->pw && !(b->pw = bert__calloc(1, sizeof *b->pw)))
            return fail(b, BERT_E_NOMEM, "input %zu: allocating the tokenizer's scratch", i);
        /* the pipeline reads valid UTF-8: check it first (or repair it into a copy) */
        if (bert_utf8_check(text ? text : "", len, &bad) != BERT_OK) {
            if (p->on_invalid_utf8 == BERT_INVALID_UTF8_ERROR)
                return fail(b, BERT_E_UTF8, "input %zu, text %s: malformed UTF-8 at byte %zu (byte 0x%02X)", i, which,
                            bad, (unsigned)(unsigned char)text[bad]);
            return fail(b, BERT_E_UNSUPPORTED,
                        "input %zu, text %s: malformed UTF-8 at byte %zu: replacing it is "
                        "not supported with a tokenizer.json pipeline yet",
                        i, which, bad);
        }
        st = bert__pipe_tokenize(tok, b->pw, text ? text : "", len, out);
    } else {
        st = bert__tokenize(tok, text ? text : "", len, &o, &b->word, out, &bad);
    }
    if (st == BERT_E_UTF8)
        return fail(b, st, "input %zu, text %s: malformed UTF-8 at byte %zu (byte 0x%02X)", i, which, bad,
                    (unsigned)(unsigned char)text[bad]);
    if (st != BERT_OK)
        return fail(b, st, "input %zu, text %s: %s", i, which, bert_status_str(st));
    return BERT_OK;
}

static bert_status encode_one(bert_batch *b, const bert_tokenizer *tok, const bert_text *t, size_t i,
                              const bert_encode_params *p)
{
    bert_status st;
    const int pair = t->b != NULL;
    if ((st = tokenize_one(b, tok, p, i, "a", t->a, t->a_len, &b->sa)) != BERT_OK)
        return st;
    if (pair && (st = tokenize_one(b, tok, p, i, "b", t->b, t->b_len, &b->sb)) != BERT_OK)
        return st;

    const size_t n_added = p->add_special_tokens ? template_specials(pair ? &tok->tpl_pair : &tok->tpl_single) : 0;
    size_t max_len = 0;
    if (p->truncation != BERT_TRUNCATION_NONE)
        max_len = p->max_length - n_added; /* max_length >= n_added checked by the caller */
    if (reserve_windows(&b->wa, bert__windows_needed(b->sa.n, p->stride)) != BERT_OK ||
        reserve_windows(&b->wb, bert__windows_needed(pair ? b->sb.n : 0, p->stride)) != BERT_OK)
        return fail(b, BERT_E_NOMEM, "input %zu: allocating truncation windows", i);
    char msg[384];
    st = bert__truncate(p->truncation, max_len, p->stride, b->sa.n, pair ? &b->sb.n : NULL, &b->wa, &b->wb, msg,
                        sizeof msg);
    if (st != BERT_OK)
        return fail(b, st, "input %zu: %s", i, st == BERT_E_INTERNAL ? "truncation windows overflowed" : msg);

    const bert__seq *sb = pair ? &b->sb : NULL;
    const bert__windows *wa = &b->wa, *wb = &b->wb;
    const size_t nb = pair ? wb->n : 1;
    if ((st = add_row(b, tok, p, i, wa->start[0], wa->stop[0], sb, pair ? wb->start[0] : 0, pair ? wb->stop[0] : 0)))
        goto nomem;
    if (!p->return_overflowing)
        return BERT_OK;
    /* HF's order: every overflowing window of A with each window of B, then the main A window
     * with each overflowing window of B. */
    for (size_t x = 1; x < wa->n; x++)
        for (size_t y = 0; y < nb; y++)
            if ((st = add_row(b, tok, p, i, wa->start[x], wa->stop[x], sb, pair ? wb->start[y] : 0,
                              pair ? wb->stop[y] : 0)))
                goto nomem;
    for (size_t y = 1; pair && y < wb->n; y++)
        if ((st = add_row(b, tok, p, i, wa->start[0], wa->stop[0], sb, wb->start[y], wb->stop[y])))
            goto nomem;
    return BERT_OK;
nomem:
    return fail(b, BERT_E_NOMEM, "input %zu: allocating %zu rows", i, b->n_rows + 1);
}

static bert_status pad(bert_batch *b, const bert_tokenizer *tok, const bert_encode_params *p)
{
    size_t T = 0;
    for (size_t r = 0; r < b->n_rows; r++)
        if (b->row_len[r] > T)
            T = b->row_len[r];
    if (p->padding == BERT_PADDING_MAX_LENGTH && p->max_length > T)
        T = p->max_length;
    if (b->n_rows && T > SIZE_MAX / b->n_rows)
        return fail(b, BERT_E_NOMEM, "batch of %zu rows x %zu tokens is too large", b->n_rows, T);
    size_t need = b->n_rows * T;
    if (need > b->out_cap) {
        size_t c[7] = {b->out_cap, b->out_cap, b->out_cap, b->out_cap, b->out_cap, b->out_cap, b->out_cap};
        if (bert__grow((void **)&b->ids, &c[0], need, sizeof *b->ids) ||
            bert__grow((void **)&b->type_ids, &c[1], need, sizeof *b->type_ids) ||
            bert__grow((void **)&b->seq_ids, &c[2], need, sizeof *b->seq_ids) ||
            bert__grow((void **)&b->word_ids, &c[3], need, sizeof *b->word_ids) ||
            bert__grow((void **)&b->mask, &c[4], need, sizeof *b->mask) ||
            bert__grow((void **)&b->special, &c[5], need, sizeof *b->special) ||
            bert__grow((void **)&b->offsets, &c[6], need, sizeof *b->offsets))
            return fail(b, BERT_E_NOMEM, "allocating a batch of %zu rows x %zu tokens", b->n_rows, T);
        b->out_cap = c[0];
    }
    const int32_t pad_id = tok->special_ids[BERT_SPECIAL_PAD] >= 0 ? tok->special_ids[BERT_SPECIAL_PAD] : 0;
    /* rows may all be empty (a tokenizer.json without special tokens, empty texts): nothing to copy,
     * and the arrays may not exist */
    for (size_t r = 0; T && r < b->n_rows; r++) {
        const size_t s = b->row_start[r], n = b->row_len[r], o = r * T;
        if (n) {
            memcpy(b->ids + o, b->r_ids + s, n * sizeof *b->ids);
            memcpy(b->type_ids + o, b->r_type + s, n * sizeof *b->type_ids);
            memcpy(b->seq_ids + o, b->r_seq + s, n * sizeof *b->seq_ids);
            memcpy(b->word_ids + o, b->r_word + s, n * sizeof *b->word_ids);
            memcpy(b->special + o, b->r_special + s, n);
            memcpy(b->offsets + o, b->r_off + s, n * sizeof *b->offsets);
            memset(b->mask + o, 1, n);
        }
        /* the padding, array by array (-1 is all bits set, so memset writes it) */
        const size_t np = T - n;
        for (size_t j = n; j < T; j++)
            b->ids[o + j] = pad_id;
        memset(b->type_ids + o + n, 0, np * sizeof *b->type_ids);
        memset(b->seq_ids + o + n, 0xFF, np * sizeof *b->seq_ids);
        memset(b->word_ids + o + n, 0xFF, np * sizeof *b->word_ids);
        memset(b->special + o + n, 1, np);
        memset(b->mask + o + n, 0, np);
        memset(b->offsets + o + n, 0, np * sizeof *b->offsets);
    }
    b->seq_len = T;
    return BERT_OK;
}

/* An empty batch about to be filled from tok. */
static void start(bert_batch *b, const bert_tokenizer *tok)
{
    b->errmsg[0] = '\0';
    b->n_rows = 0;
    b->r_n = 0;
    b->seq_len = 0;
    b->txt_len = 0;
    b->tok = tok;
}

bert_status bert_batch_encode(bert_batch *b, const bert_tokenizer *tok, const bert_text *texts, size_t n,
                              const bert_encode_params *params)
{
    if (!b)
        return BERT_E_INVALID_ARG;
    const bert_encode_params def = bert_encode_default_params();
    const bert_encode_params *p = params ? params : &def;
    start(b, tok);
    if (!tok || (!texts && n))
        return fail(b, BERT_E_INVALID_ARG, "bert_batch_encode: NULL tokenizer or texts");
    if ((unsigned)p->truncation > BERT_TRUNCATION_ONLY_SECOND || (unsigned)p->padding > BERT_PADDING_MAX_LENGTH ||
        (unsigned)p->on_invalid_utf8 > BERT_INVALID_UTF8_REPLACE)
        return fail(b, BERT_E_INVALID_ARG, "bert_batch_encode: truncation, padding or on_invalid_utf8 out of range");
    if (!tok->pipe && p->add_special_tokens &&
        (tok->special_ids[BERT_SPECIAL_CLS] < 0 || tok->special_ids[BERT_SPECIAL_SEP] < 0))
        return fail(b, BERT_E_INVALID_ARG, "special tokens '%s'/'%s' are not in the vocabulary", tok->cfg.cls_token,
                    tok->cfg.sep_token);
    if (p->truncation != BERT_TRUNCATION_NONE || p->padding == BERT_PADDING_MAX_LENGTH) {
        if (p->max_length == 0)
            return fail(b, BERT_E_INVALID_ARG, "truncation or padding to max_length needs max_length > 0");
    }
    if (b->word_chars != tok->cfg.max_input_chars_per_word || !b->word.bytes) {
        bert__word_free(&b->word);
        if (bert__word_init(&b->word, tok->cfg.max_input_chars_per_word) != BERT_OK)
            return fail(b, BERT_E_NOMEM, "allocating the word buffer");
        b->word_chars = tok->cfg.max_input_chars_per_word;
    }
    for (size_t i = 0; i < n; i++) {
        const size_t n_added =
            p->add_special_tokens ? template_specials(texts[i].b ? &tok->tpl_pair : &tok->tpl_single) : 0;
        /* HF silently skips truncation here (an unsigned subtraction wraps); we refuse instead. */
        if (p->truncation != BERT_TRUNCATION_NONE && p->max_length < n_added)
            return fail(b, BERT_E_TRUNCATION, "input %zu: max_length %zu is smaller than the %zu special tokens", i,
                        p->max_length, n_added);
        bert_status st = encode_one(b, tok, &texts[i], i, p);
        if (st != BERT_OK)
            return st;
    }
    return pad(b, tok, p);
}

bert_status bert_batch_set_ids(bert_batch *b, const bert_tokenizer *tok, const int32_t *const *ids, const size_t *lens,
                               size_t n)
{
    if (!b)
        return BERT_E_INVALID_ARG;
    start(b, tok);
    if (!tok || (n && (!ids || !lens)))
        return fail(b, BERT_E_INVALID_ARG, "bert_batch_set_ids: NULL tokenizer, ids or lengths");
    const bert_span none = {0, 0};
    for (size_t i = 0; i < n; i++) {
        if (lens[i] == 0 || !ids[i])
            return fail(b, BERT_E_INVALID_ARG, "input %zu: no token ids", i);
        if (reserve_tokens(b, b->r_n + lens[i]) != BERT_OK || reserve_rows(b, b->n_rows + 1) != BERT_OK)
            return fail(b, BERT_E_NOMEM, "input %zu: allocating %zu tokens", i, lens[i]);
        b->row_start[b->n_rows] = b->r_n;
        b->row_sample[b->n_rows] = i;
        b->row_trunc[b->n_rows] = 0;
        for (size_t k = 0; k < lens[i]; k++) {
            const int32_t id = ids[i][k];
            if (id < 0 || (size_t)id >= tok->n_tokens)
                return fail(b, BERT_E_INVALID_ARG, "input %zu, token %zu: id %d is outside the vocabulary (%zu tokens)",
                            i, k, (int)id, tok->n_tokens);
            int special = 0;
            for (int s = 0; s < BERT__N_SPECIAL; s++)
                special |= tok->special_ids[s] == id;
            put(b, id, 0, special ? -1 : 0, -1, (uint8_t)special, none);
        }
        b->row_len[b->n_rows] = lens[i];
        b->n_rows++;
    }
    const bert_encode_params p = bert_encode_default_params();
    return pad(b, tok, &p);
}

bert_batch_view bert_batch_get(const bert_batch *b)
{
    bert_batch_view v;
    memset(&v, 0, sizeof v);
    if (!b)
        return v;
    v.n_rows = b->n_rows;
    v.seq_len = b->seq_len;
    v.ids = b->ids;
    v.type_ids = b->type_ids;
    v.attention_mask = b->mask;
    v.special_tokens_mask = b->special;
    v.offsets = b->offsets;
    v.sequence_ids = b->seq_ids;
    v.word_ids = b->word_ids;
    v.lengths = b->row_len;
    v.sample_index = b->row_sample;
    v.truncated = b->row_trunc;
    return v;
}

const char *bert_batch_token(const bert_batch *b, size_t row, size_t i, size_t *len)
{
    if (len)
        *len = 0;
    if (!b || !b->tok || row >= b->n_rows || i >= b->row_len[row])
        return NULL;
    const size_t r = b->row_start[row] + i;
    if (b->r_txt[r] != SIZE_MAX) {
        if (len)
            *len = b->r_txt_len[r];
        return b->txt + b->r_txt[r];
    }
    return bert_tokenizer_id_to_token(b->tok, b->r_ids[r], len);
}
