/* Internal interfaces of the tokenizer folder; never installed. */
#ifndef BERT_TOKENIZER_INT_H
#define BERT_TOKENIZER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <bert/tokenizer.h>

#include "../common/common.h"

#define BERT__N_SPECIAL 5

/* A string matched in the raw text before normalisation (HF's "added tokens": the special tokens,
 * and never_split entries), kept whole as one token. */
typedef struct bert__added {
    const char *s;
    size_t len;
    int32_t id;
} bert__added;

/* The post-processor as a template: special ids and the sequences, each with its type id. */
#define BERT__TEMPLATE_MAX 16
enum { BERT__TPL_SPECIAL, BERT__TPL_A, BERT__TPL_B };
typedef struct bert__template {
    struct {
        int kind;
        int32_t id, type_id;
    } item[BERT__TEMPLATE_MAX];
    int n;
} bert__template;

struct bert__pipe;

struct bert_tokenizer {
    bert_tokenizer_config cfg; /* string fields point into `strings` / `never_split` below */
    char *strings;             /* owned copies of the special-token strings */
    char **never_split;        /* owned copies */

    /* vocabulary: token i is vocab[tok_off[i] .. tok_off[i] + tok_len[i]) */
    char *vocab;
    size_t vocab_bytes;
    size_t n_tokens;
    uint32_t *tok_off;
    uint32_t *tok_len;
    uint64_t *tok_hash; /* FNV-1a of the whole token */

    /* open-addressing hash table of token ids + 1 (0: empty), power-of-two size */
    uint32_t *slots;
    size_t slot_mask;
    size_t max_word_bytes; /* longest token that does not start with "##" */
    size_t max_cont_bytes; /* longest "##" token, without the prefix */

    int32_t special_ids[BERT__N_SPECIAL];

    bert__added *added; /* sorted longest first, so the first hit is HF's leftmost-longest */
    size_t n_added;
    uint8_t added_first[256]; /* 1 where a byte can start an added token */

    bert__template tpl_single, tpl_pair; /* what add_special_tokens adds */
    bert_encode_params defaults;         /* a tokenizer.json's truncation and padding */
    struct bert__pipe *pipe;             /* a tokenizer.json pipeline; NULL: the WordPiece fast path */
    struct bert__pipe *plain;            /* a plain BERT tokenizer.json run by the fast path: owns the
                                          * strings `added` points to */
};

/* ---- vocab.c ---- */
#define BERT__FNV_OFFSET 14695981039346656037ULL
#define BERT__FNV_PRIME  1099511628211ULL
static inline uint64_t bert__fnv_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * BERT__FNV_PRIME;
}
uint64_t bert__fnv(uint64_t h, const char *s, size_t n);
/* Parses vocab bytes (copied) into tok; errors name `name` and the line. */
bert_status bert__vocab_build(bert_tokenizer *tok, const char *data, size_t len, const char *name, char *errbuf,
                              size_t errbuf_size);
/* The same from n strings by id (NULL: no token has that id). */
bert_status bert__vocab_build_list(bert_tokenizer *tok, const char *const *strs, const size_t *lens, size_t n,
                                   const char *name, char *errbuf, size_t errbuf_size);
/* Id of the token whose bytes are prefix ++ s where h = FNV of prefix ++ s; -1 if absent. */
int32_t bert__vocab_find(const bert_tokenizer *tok, uint64_t h, const char *prefix, size_t plen, const char *s,
                         size_t n);

/* ---- config.c ---- */
/* Reads tokenizer_config.json into cfg; strings are copied into *owned (freed by the caller with
 * bert__config_strings_free). */
typedef struct bert__config_strings {
    char *special[BERT__N_SPECIAL];
    char **never_split;
    size_t n_never_split;
} bert__config_strings;
bert_status bert__tokenizer_config_read(const char *path, bert_tokenizer_config *cfg, bert__config_strings *owned,
                                        char *errbuf, size_t errbuf_size);
void bert__config_strings_free(bert__config_strings *s);
/* The same on bytes in memory (path only names them in messages). */
bert_status bert__tokenizer_config_parse(const char *data, size_t len, const char *path, bert_tokenizer_config *cfg,
                                         bert__config_strings *owned, char *errbuf, size_t errbuf_size);

/* ---- normalize.c: per-code-point rules of HF's BertNormalizer and BertPreTokenizer ---- */
int bert__cp_is_whitespace(int32_t c); /* Unicode White_Space (Rust char::is_whitespace) */
int bert__cp_is_control(int32_t c);    /* what clean_text drops: HF's Cc/Cf/Co tables, not \t \n \r */
int bert__cp_is_punct(int32_t c);      /* ASCII punctuation or HF's P* table */
int bert__cp_is_cjk(int32_t c);        /* the CJK ideograph blocks of BertNormalizer */
#define BERT__NORM_MAX 32
/* NFD + drop Mn (when strip) then full lower-casing (when lower) of one code point; writes up to
 * BERT__NORM_MAX code points to out and returns how many (0 when everything was dropped). */
size_t bert__normalize_cp(int32_t c, int strip, int lower, int32_t *out);
/* Decodes one UTF-8 sequence at s[0..n) (n >= 1). Returns its length and sets *cp, or 0 when the
 * bytes are not a valid (shortest-form, non-surrogate, <= U+10FFFF) sequence. */
size_t bert__utf8_decode(const unsigned char *s, size_t n, int32_t *cp);
size_t bert__utf8_encode(int32_t cp, char *out);

/* ---- tokens of one sequence, before special tokens are added ---- */
typedef struct bert__seq {
    int32_t *ids;
    bert_span *offsets;
    int32_t *words;
    size_t n, cap;
    /* tokens whose text is not their vocabulary string (HF: an [UNK] piece, an added token's
     * split), in token order: token own[k].i has text own_txt[own[k].off ..][.. len] */
    struct bert__own {
        size_t i, off, len;
    } * own;
    size_t n_own, own_cap;
    char *own_txt;
    size_t own_len, own_txt_cap;
} bert__seq;
/* Gives the last pushed token its own text. */
bert_status bert__seq_own(bert__seq *s, const char *text, size_t len);
bert_status bert__seq_reserve(bert__seq *s, size_t need);
bert_status bert__seq_push(bert__seq *s, int32_t id, bert_span off, int32_t word);
void bert__seq_free(bert__seq *s);

/* ---- one pre-token word, normalised, with the original byte span of every normalised byte ---- */
typedef struct bert__word {
    char *bytes;     /* [cap] normalised UTF-8 */
    size_t *orig_b;  /* [cap] original begin of the character each byte belongs to */
    size_t *orig_e;  /* [cap] original end */
    size_t len, cap; /* bytes stored; bytes stop being stored past max_input_chars_per_word */
    size_t n_chars;  /* normalised characters, counted even when no longer stored */
    bert_span span;  /* original span of the whole word */
} bert__word;

/* ---- wordpiece.c ---- */
/* Appends the WordPiece tokens of w to out (one [UNK] for a word over the character limit or with
 * an unmatched piece). */
bert_status bert__wordpiece(const bert_tokenizer *tok, const bert__word *w, int32_t word_id, bert__seq *out);

/* ---- decode.c: the WordPiece decoder's cleanup (" ." -> ".", " n't" -> "n't", ...), in HF's order, in
 * place; returns the new length (never longer) ---- */
size_t bert__wordpiece_cleanup(char *s, size_t n);

/* ---- pretokenize.c: the streaming pass text -> words -> tokens ---- */
typedef struct bert__tokenize_opts {
    bert_invalid_utf8 on_invalid;
    size_t limit; /* stop after the word that brings the sequence to >= limit tokens (0: none) */
} bert__tokenize_opts;
/* Tokenizes text[0..len) into out (cleared first). On BERT_E_UTF8, *bad_at is the byte offset. */
bert_status bert__tokenize(const bert_tokenizer *tok, const char *text, size_t len, const bert__tokenize_opts *o,
                           bert__word *w, bert__seq *out, size_t *bad_at);
bert_status bert__word_init(bert__word *w, size_t max_chars);
void bert__word_free(bert__word *w);

/* 1 when the model marks word continuations ("##", a continuing_subword_prefix); heads/head.h. */
int bert__tokenizer_word_aware(const bert_tokenizer *tok);

#endif
