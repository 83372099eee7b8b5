/* The tokenizer.json pipeline (HF tokenizers' Tokenizer): added tokens, normalizers,
 * pre-tokenizers, a model (BPE, Unigram, WordPiece, WordLevel) and the post-processor's offset
 * trimming. Text moves through it as "pieces" of normalized UTF-8 that keep, for every byte, the
 * span of the original text it came from (HF's NormalizedString alignments), so each token's
 * offsets come out exactly as HF computes them. Internal; never installed. */
#ifndef BERT_PIPE_H
#define BERT_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer_int.h"

typedef struct OnigRegexType *bert__onig; /* an Oniguruma regex_t */

/* ---- a pattern: a literal string or an Oniguruma regex ---- */
typedef struct bert__pattern {
    char *str; /* the literal (owned), or NULL */
    size_t len;
    bert__onig re; /* the compiled regex, or NULL */
} bert__pattern;

/* HF's SplitDelimiterBehavior */
typedef enum bert__split_behavior {
    BERT__SPLIT_REMOVED,
    BERT__SPLIT_ISOLATED,
    BERT__SPLIT_MERGED_PREV,
    BERT__SPLIT_MERGED_NEXT,
    BERT__SPLIT_CONTIGUOUS
} bert__split_behavior;

typedef enum bert__norm_kind {
    BERT__N_BERT,
    BERT__N_LOWERCASE,
    BERT__N_NFD,
    BERT__N_NFKD,
    BERT__N_NFC,
    BERT__N_NFKC,
    BERT__N_STRIP_ACCENTS,
    BERT__N_STRIP,
    BERT__N_REPLACE,
    BERT__N_PREPEND,
    BERT__N_PRECOMPILED
} bert__norm_kind;

typedef struct bert__precompiled {
    uint32_t *trie; /* darts-clone double array units */
    size_t n_units;
    char *norm; /* NUL-separated replacement strings */
    size_t norm_len;
} bert__precompiled;

typedef struct bert__norm {
    bert__norm_kind kind;
    int clean_text, chinese, strip_accents, lowercase; /* BertNormalizer (strip_accents -1: follow lowercase) */
    int left, right;                                   /* Strip */
    bert__pattern pat;                                 /* Replace */
    char *content;                                     /* Replace's content, Prepend's string (owned) */
    size_t content_len;
    bert__precompiled pc;
    uint8_t ascii_keep[128]; /* Precompiled: 1 where an ASCII character alone is not a key */
} bert__norm;

typedef enum bert__pre_kind {
    BERT__P_BERT,
    BERT__P_BYTELEVEL,
    BERT__P_METASPACE,
    BERT__P_WHITESPACE,
    BERT__P_WHITESPACE_SPLIT,
    BERT__P_PUNCTUATION,
    BERT__P_DIGITS,
    BERT__P_SPLIT,
    BERT__P_CHAR_DELIMITER,
    BERT__P_UNICODE_SCRIPTS
} bert__pre_kind;

typedef enum bert__prepend { BERT__PREPEND_ALWAYS, BERT__PREPEND_FIRST, BERT__PREPEND_NEVER } bert__prepend;

typedef struct bert__pre {
    bert__pre_kind kind;
    int add_prefix_space, use_regex; /* ByteLevel */
    int32_t replacement;             /* Metaspace's code point; CharDelimiterSplit's delimiter */
    bert__prepend prepend;           /* Metaspace */
    int split;                       /* Metaspace */
    int individual_digits;           /* Digits */
    bert__split_behavior behavior;   /* Split, Punctuation */
    int invert;                      /* Split */
    bert__pattern pat;               /* Split; ByteLevel's GPT-2 pattern */
} bert__pre;

typedef enum bert__model_kind { BERT__M_WORDPIECE, BERT__M_BPE, BERT__M_UNIGRAM, BERT__M_WORDLEVEL } bert__model_kind;

/* BPE merges: (left id, right id) -> (rank, merged id), open addressing */
typedef struct bert__merge {
    uint64_t key; /* (left << 32 | right) + 1; 0: empty */
    uint32_t rank;
    int32_t id;
} bert__merge;

typedef struct bert__model {
    bert__model_kind kind;
    size_t n_model;        /* ids below are the model's own (added tokens may follow) */
    int32_t unk_id;        /* -1: none */
    char *prefix, *suffix; /* continuing_subword_prefix, end_of_word_suffix (owned, "" if none) */
    size_t prefix_len, suffix_len;
    int byte_fallback, fuse_unk, ignore_merges;
    size_t max_chars_per_word; /* WordPiece */
    bert__merge *merges;
    size_t merge_mask;
    double *scores; /* Unigram: [n_tokens] */
    uint32_t *prefixes; /* Unigram: every prefix of every piece, as a 32-bit tag of its FNV hash in the
                         * slot of its low bits (0: empty); a tag shared by another string only
                         * costs a lookup more, the pieces themselves are found in the vocabulary */
    size_t prefix_mask;
    double unk_score;
    size_t max_piece_bytes;
    int32_t byte_ids[256]; /* "<0xXX>" ids for byte_fallback, -1 where missing */
} bert__model;

/* What the post-processor does to offsets (RobertaProcessing / ByteLevel trim_offsets). */
typedef struct bert__post {
    int trim_offsets, add_prefix_space;
} bert__post;

typedef enum bert__decoder_kind {
    BERT__D_BYTELEVEL,
    BERT__D_METASPACE,
    BERT__D_WORDPIECE,
    BERT__D_BPE,
    BERT__D_BYTE_FALLBACK,
    BERT__D_FUSE,
    BERT__D_STRIP,
    BERT__D_REPLACE
} bert__decoder_kind;

typedef struct bert__decoder {
    bert__decoder_kind kind;
    int32_t replacement;   /* Metaspace's character; Strip's content */
    bert__prepend prepend; /* Metaspace */
    char *str;             /* WordPiece's prefix, BPEDecoder's suffix, Replace's content (owned) */
    size_t str_len;
    int cleanup;        /* WordPiece */
    size_t start, stop; /* Strip */
    bert__pattern pat;  /* Replace */
} bert__decoder;

typedef struct bert__pipe {
    bert__norm *norms;
    size_t n_norms;
    bert__pre *pres;
    size_t n_pres;
    bert__model model;
    bert__post post;
    bert__decoder *decoders;
    size_t n_decoders;
    /* added tokens: [0, n_raw) matched on the raw text, [n_raw, n) after normalization */
    struct bert__added_tok {
        char *s;
        size_t len;
        int32_t id;
        int lstrip, rstrip, single_word, special;
    } * added;
    size_t n_added, n_raw;
    size_t added_from[2][257]; /* per set (raw, normalized): the first token starting with byte c */
    uint8_t *trim_lead, *trim_trail; /* per id: its leading / trailing spaces, for trim_offsets */
    int32_t *added_of_id;            /* per id: its index in `added`, or -1 */
} bert__pipe;

/* Counts the space characters ('Ġ' or whitespace) t[0..len) starts and ends with. */
void bert__count_spaces(const char *t, size_t len, size_t *lead, size_t *trail);

/* ---- the pieces of one text ---- */
typedef struct bert__piece {
    size_t off, len; /* bytes in the arena */
    size_t shift;    /* original start of the piece: where chars inserted at its start align */
    int32_t id;      /* >= 0: an added token (final); -1: text */
} bert__piece;

typedef struct bert__arena {
    char *b;
    bert_span *al; /* per byte: the original span */
    size_t len, cap;
    bert__piece *pc;
    size_t n, pc_cap;
} bert__arena;

typedef struct bert__pwork {
    bert__arena a[2];
    int cur;
    bert__arena t[2]; /* pre-tokenizers' scratch */
    /* model scratch */
    int32_t *sym_id;
    size_t *sym_off, *sym_len;
    double *best;
    size_t *from;
    int32_t *best_id;
    size_t scratch_cap;
    int32_t *cps; /* normalizers: (code point, change) pairs */
    size_t cps_cap;
    size_t *ev; /* pre-tokenizers: (begin, end, is_match) triples */
    size_t ev_cap;
    bert__word word; /* WordPiece's word */
    struct bert__wcache_entry *wcache; /* recent words and their tokens (direct-mapped) */
    const bert_tokenizer *wcache_owner; /* the tokenizer they were made by */
} bert__pwork;

/* The model's tokens of a word depend on its bytes alone, and words repeat: a batch keeps the
 * tokens of recent short words (HF keeps such a cache too). get: 1 and w->sym_* filled (count in
 * *ns) on a hit; put: remembers w->sym_*[0..ns) for the word (when it fits). */
int bert__wcache_get(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n, size_t *ns);
bert_status bert__wcache_put(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n, size_t ns);

void bert__pipe_free(bert__pipe *p);
void bert__pwork_free(bert__pwork *w);

/* Parses tokenizer.json bytes into tok (vocabulary, special ids, and tok->pipe unless the file is
 * plain BERT, which the WordPiece fast path then runs). name names the file in messages. */
bert_status bert__tokenizer_json_parse(bert_tokenizer *tok, const char *data, size_t len, const char *name,
                                       char *errbuf, size_t errbuf_size);

/* Ids back to text with the pipeline's decoders (HF's decode); *out is NUL-terminated, bert__free
 * it. BERT_E_INVALID_ARG for an id out of range. */
bert_status bert__pipe_decode(const bert_tokenizer *tok, const int32_t *ids, size_t n, int skip_special, char **out,
                              size_t *out_len);

/* Tokenizes text[0..len) with tok->pipe into out (cleared first). */
bert_status bert__pipe_tokenize(const bert_tokenizer *tok, bert__pwork *w, const char *text, size_t len,
                                bert__seq *out);

/* ---- arena helpers (pipe.c) ---- */
bert_status bert__arena_put(bert__arena *a, const char *s, size_t n, bert_span al);
bert_status bert__arena_put_cp(bert__arena *a, int32_t c, bert_span al);
/* The models' scratch arrays (w->sym_*, best, from, best_id) for need entries. */
bert_status bert__scratch_grow(bert__pwork *w, size_t need);
/* Room for extra more bytes. */
bert_status bert__arena_reserve(bert__arena *a, size_t extra);
/* Pushes the ns model tokens in w->sym_* (ids, byte offsets and lengths in the word s[0..n) whose
 * alignments are al) to out. */
bert_status bert__emit_syms(const bert__pwork *w, size_t ns, size_t n, const bert_span *al, int32_t word,
                            bert__seq *out);
/* Appends s[0..n) with its alignments al[0..n). */
bert_status bert__arena_copy(bert__arena *a, const char *s, const bert_span *al, size_t n);
bert_status bert__arena_piece(bert__arena *a, size_t off, size_t shift, int32_t id);

/* ---- normalizers and pre-tokenizers (pipe_norm.c, pipe_pretok.c): in -> out ---- */
bert_status bert__normalize_pieces(const bert__pipe *p, bert__pwork *w);
bert_status bert__pretokenize_pieces(const bert__pipe *p, bert__pwork *w);
/* One normalizer over a whole string into *out (NUL-terminated, bert__free it): for tests. */
bert_status bert__normalize_string(const bert__norm *nm, const char *s, size_t n, char **out, size_t *out_len);

/* ---- where HF's own Unicode tables differ from utf8proc's (generated into hf_nf.c) ---- */
enum { BERT__FIX_NFD, BERT__FIX_NFKD, BERT__FIX_NFC, BERT__FIX_NFKC, BERT__FIX_STRIP, BERT__FIX_JOINS, BERT__FIX_CCC };
typedef struct bert__nf_fix {
    uint8_t kind; /* BERT__FIX_* */
    uint32_t cp;
    uint8_t n; /* NFx: length of `to`; STRIP: 1 kept, 0 removed; JOINS: 1 joins a grapheme; CCC: the
                * combining class as HF's NFD knows it: 0, 1, or 2 (above 1) */
    uint32_t to[4];
} bert__nf_fix;
extern const bert__nf_fix bert__hf_nf_fixes[]; /* sorted by (kind, cp) */
extern const size_t bert__hf_nf_n_fixes;
const bert__nf_fix *bert__nf_fix_of(int kind, int32_t cp);
/* The canonical combining class HF's NFD reorders c by. */
int bert__hf_ccc(int32_t c);
#ifdef BERT_TESTING
extern int bert__hf_nf_off; /* 1: utf8proc's answers alone (for the table's generator) */
#endif

/* the character classes of GPT-2's pre-tokenization pattern as HF's Oniguruma has them (sorted
 * ranges, generated into hf_nf.c): 0 letter (\p{L}), 1 number (\p{N}), 2 space (\s) */
#include "hf_unicode.h"
extern const bert__cp_range bert__hf_gpt2_letter[], bert__hf_gpt2_number[], bert__hf_gpt2_space[];
extern const size_t bert__hf_gpt2_letter_n, bert__hf_gpt2_number_n, bert__hf_gpt2_space_n;
int bert__gpt2_class(int32_t c, int which);
/* The pieces of s[0..n) under GPT-2's pattern, hand-written with those classes: the end of the
 * piece that starts at i. */
size_t bert__gpt2_next(const char *s, size_t n, size_t i);

/* the script of each code point as HF's UnicodeScripts knows it (generated into hf_scripts.c):
 * sorted ranges; a code point in none is one HF's table lacks ("Any": it joins any script) */
typedef struct bert__script_range {
    uint32_t first, last;
    uint8_t script;
} bert__script_range;
extern const bert__script_range bert__hf_scripts[];
extern const size_t bert__hf_scripts_n;

/* ---- patterns (pattern.c) ---- */
bert_status bert__pattern_compile(bert__pattern *pat, const char *s, size_t n, int regex, char *err, size_t err_size);
void bert__pattern_free(bert__pattern *pat);
/* Finds the next match in s[from..n): sets *b, *e and returns 1, or 0 when there is none. */
int bert__pattern_next(const bert__pattern *pat, const char *s, size_t n, size_t from, size_t *b, size_t *e);

/* ---- models ---- */
bert_status bert__bpe(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n, const bert_span *al,
                      int32_t word, bert__seq *out);
bert_status bert__unigram(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n, const bert_span *al,
                          int32_t word, bert__seq *out);
bert_status bert__precompiled_parse(bert__precompiled *pc, const unsigned char *blob, size_t n, char *err,
                                    size_t err_size);
/* The replacement of the shortest key that is a prefix of s[0..n), or NULL. */
const char *bert__precompiled_find(const bert__precompiled *pc, const char *s, size_t n, size_t *out_len);

#endif
