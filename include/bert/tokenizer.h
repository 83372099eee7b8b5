/* WordPiece tokenizer, identical to Hugging Face's BERT tokenizer (tokenizers 0.23 / transformers 5).
 *
 *   bert_tokenizer *tok = NULL;
 *   char err[256];
 *   if (bert_tokenizer_load("path/to/model", NULL, &tok, err, sizeof err) != BERT_OK) { puts(err); ... }
 *   bert_batch *b = NULL;
 *   bert_batch_new(&b, err, sizeof err);
 *   bert_text t = {"Hello, world!", 13, NULL, 0};
 *   bert_encode_params p = bert_encode_default_params();
 *   if (bert_batch_encode(b, tok, &t, 1, &p) != BERT_OK) puts(bert_batch_errmsg(b));
 *   bert_batch_view v = bert_batch_get(b);   // v.ids[row * v.seq_len + i] ...
 *   bert_batch_free(b);
 *   bert_tokenizer_free(tok);
 *
 * Thread safety: a bert_tokenizer is immutable after load and may be shared by any number of
 * threads; a bert_batch is mutable and belongs to one thread at a time.
 *
 * Text is always (pointer, byte length) and never needs a terminating NUL. */
#ifndef BERT_TOKENIZER_H
#define BERT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include <bert/export.h>
#include <bert/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bert_tokenizer bert_tokenizer;
typedef struct bert_batch bert_batch;

/* A half-open byte range [begin, end) into a text. */
typedef struct bert_span {
    size_t begin;
    size_t end;
} bert_span;

/* ------------------------------------------------------------------------------------------------
 * Loading
 * ---------------------------------------------------------------------------------------------- */

/* Tokenizer settings. Start from bert_tokenizer_default_config() (BERT's defaults: the same values
 * HF uses when tokenizer_config.json is missing), then change fields. Strings are borrowed for the
 * duration of the load call only. */
typedef struct bert_tokenizer_config {
    int do_lower_case;               /* 1: lower-case (full Unicode) */
    int strip_accents;               /* -1: follow do_lower_case (HF's null), 0: keep, 1: strip (NFD, drop Mn) */
    int tokenize_chinese_chars;      /* 1: put spaces around CJK ideographs */
    int clean_text;                  /* 1: drop NUL, U+FFFD and control characters, map whitespace to ' ' */
    size_t max_input_chars_per_word; /* longer words become [UNK]; HF: 100 */
    size_t model_max_length;         /* the model's limit, for callers that want it; HF default 512 */
    const char *unk_token;           /* "[UNK]" */
    const char *sep_token;           /* "[SEP]" */
    const char *pad_token;           /* "[PAD]" */
    const char *cls_token;           /* "[CLS]" */
    const char *mask_token;          /* "[MASK]" */
    const char *const *never_split;  /* extra strings kept whole (matched like special tokens) */
    size_t n_never_split;
} bert_tokenizer_config;

BERT_API bert_tokenizer_config bert_tokenizer_default_config(void);

/* Loads dir/vocab.txt and, when present, dir/tokenizer_config.json (do_lower_case, strip_accents,
 * tokenize_chinese_chars, model_max_length, the special tokens, never_split); a missing config
 * file means BERT's defaults. If overrides is not NULL, its values replace both the defaults and the
 * file's. On success *out owns a tokenizer to release with bert_tokenizer_free(). On failure *out
 * is NULL and errbuf (if not NULL) holds a message naming the file and the position.
 * Returns BERT_OK, BERT_E_INVALID_ARG, BERT_E_IO, BERT_E_FORMAT, BERT_E_NOMEM. */
BERT_API bert_status bert_tokenizer_load(const char *dir, const bert_tokenizer_config *overrides, bert_tokenizer **out,
                                         char *errbuf, size_t errbuf_size);

/* Loads a Hugging Face tokenizer.json (byte-level BPE as RoBERTa's, SentencePiece Unigram as
 * XLM-R's, ALBERT's, DeBERTa-v3's and T5's): its normalizers, pre-tokenizers, model, added tokens
 * and post-processor, token for token as HF tokenizers runs them. A component that is not
 * supported is BERT_E_UNSUPPORTED with its JSON path in the message; malformed JSON names the line
 * and column. bert_tokenizer_load() uses it for a folder that has no vocab.txt.
 * Returns BERT_OK, BERT_E_INVALID_ARG, BERT_E_IO, BERT_E_FORMAT, BERT_E_UNSUPPORTED, BERT_E_NOMEM. */
BERT_API bert_status bert_tokenizer_load_json(const char *path, bert_tokenizer **out, char *errbuf, size_t errbuf_size);

/* The same from tokenizer.json bytes held in memory (copied as needed); name is used in messages. */
BERT_API bert_status bert_tokenizer_new_from_json(const char *json, size_t len, const char *name, bert_tokenizer **out,
                                                  char *errbuf, size_t errbuf_size);

/* Loads one vocab.txt with the given settings (NULL: defaults), ignoring any tokenizer_config.json.
 * The file is split on '\n' only (a trailing '\r' is dropped): line i is token id i. */
BERT_API bert_status bert_tokenizer_load_vocab(const char *vocab_path, const bert_tokenizer_config *config,
                                               bert_tokenizer **out, char *errbuf, size_t errbuf_size);

/* Builds a tokenizer from a vocabulary held in memory (same format as vocab.txt). The bytes are
 * copied. name is used in messages (e.g. "vocab.txt"). */
BERT_API bert_status bert_tokenizer_new_from_vocab(const char *vocab, size_t len, const char *name,
                                                   const bert_tokenizer_config *config, bert_tokenizer **out,
                                                   char *errbuf, size_t errbuf_size);

BERT_API void bert_tokenizer_free(bert_tokenizer *tok);

/* ------------------------------------------------------------------------------------------------
 * Vocabulary
 * ---------------------------------------------------------------------------------------------- */

BERT_API size_t bert_tokenizer_vocab_size(const bert_tokenizer *tok);
/* The settings in force (strings point into the tokenizer and live as long as it does). */
BERT_API bert_tokenizer_config bert_tokenizer_get_config(const bert_tokenizer *tok);
/* The token's id, or -1 when the exact string is not in the vocabulary. */
BERT_API int32_t bert_tokenizer_token_to_id(const bert_tokenizer *tok, const char *token, size_t len);
/* The token for id (not NUL-terminated; *len set), or NULL for an id out of range. The pointer lives
 * as long as the tokenizer. */
BERT_API const char *bert_tokenizer_id_to_token(const bert_tokenizer *tok, int32_t id, size_t *len);

typedef enum bert_special {
    BERT_SPECIAL_UNK = 0,
    BERT_SPECIAL_SEP = 1,
    BERT_SPECIAL_PAD = 2,
    BERT_SPECIAL_CLS = 3,
    BERT_SPECIAL_MASK = 4
} bert_special;
/* The id of a special token, or -1 when the vocabulary lacks it. */
BERT_API int32_t bert_tokenizer_special_id(const bert_tokenizer *tok, bert_special which);
/* Where the tokenizer's rules come from: a vocab.txt (BERT's WordPiece, [CLS] A [SEP] B [SEP]) or a
 * tokenizer.json pipeline (its own special tokens: bert_tokenizer_special_id may be -1 for those a
 * family does not have, such as T5's [CLS]). */
typedef enum bert_tokenizer_source { BERT_TOKENIZER_VOCAB_TXT = 0, BERT_TOKENIZER_JSON = 1 } bert_tokenizer_source;
BERT_API bert_tokenizer_source bert_tokenizer_get_source(const bert_tokenizer *tok);

/* 1 when id is an added token (tokenizer.json's added_tokens; for a vocab.txt tokenizer, the
 * special tokens and never_split entries), matched whole in the raw text; else 0. */
BERT_API int bert_tokenizer_is_added(const bert_tokenizer *tok, int32_t id);

/* ------------------------------------------------------------------------------------------------
 * Encoding
 * ---------------------------------------------------------------------------------------------- */

typedef enum bert_truncation {
    BERT_TRUNCATION_NONE = 0,
    BERT_TRUNCATION_LONGEST_FIRST = 1,
    BERT_TRUNCATION_ONLY_FIRST = 2,
    BERT_TRUNCATION_ONLY_SECOND = 3
} bert_truncation;

typedef enum bert_padding {
    BERT_PADDING_LONGEST = 0,   /* rows padded to the longest row of the batch */
    BERT_PADDING_MAX_LENGTH = 1 /* rows padded to max_length (requires max_length > 0) */
} bert_padding;

typedef enum bert_invalid_utf8 {
    BERT_INVALID_UTF8_ERROR = 0,  /* BERT_E_UTF8 naming the byte offset */
    BERT_INVALID_UTF8_REPLACE = 1 /* each bad byte becomes U+FFFD (which clean-text then drops) */
} bert_invalid_utf8;

typedef struct bert_encode_params {
    int add_special_tokens;     /* 1: [CLS] A [SEP] (B [SEP]) */
    bert_truncation truncation; /* NONE: no limit */
    size_t max_length;          /* with truncation: the total length including special tokens */
    size_t stride;              /* overlap between overflowing windows (HF's stride) */
    int return_overflowing;     /* 1: overflowing windows become extra rows of the batch */
    bert_padding padding;
    bert_invalid_utf8 on_invalid_utf8;
} bert_encode_params;

BERT_API bert_encode_params bert_encode_default_params(void);

/* The encoding parameters the tokenizer's own file asks for: a tokenizer.json's "truncation"
 * (max_length, stride, strategy) and "padding" (BatchLongest, or Fixed(N) as padding to max_length)
 * sections; otherwise bert_encode_default_params(). */
BERT_API bert_encode_params bert_tokenizer_encode_params(const bert_tokenizer *tok);

/* One input: a single text (b == NULL) or a pair. */
typedef struct bert_text {
    const char *a;
    size_t a_len;
    const char *b; /* NULL for a single text */
    size_t b_len;
} bert_text;

/* Creates an empty batch. Release with bert_batch_free(). */
BERT_API bert_status bert_batch_new(bert_batch **out, char *errbuf, size_t errbuf_size);
BERT_API void bert_batch_free(bert_batch *b);

/* Encodes n inputs into b, replacing what it held. Each input gives one row, plus one row per
 * overflowing window when params->return_overflowing is set (rows keep input order; a row's
 * sample_index says which input it came from). Rows are padded to a common length.
 *
 * Truncation follows Hugging Face tokenizers exactly: each sequence is tokenized word by word until
 * it holds at least max_length tokens, then longest_first / only_first / only_second truncation
 * cuts windows of (max_length - special tokens) with the given stride. Settings that cannot be met
 * return BERT_E_TRUNCATION with a message (HF's refusals: a sequence too short to remove enough
 * tokens, only_second without a pair, stride not below the window, and, where HF would silently
 * not truncate, max_length below the number of special tokens).
 *
 * Returns BERT_OK, BERT_E_INVALID_ARG, BERT_E_UTF8 (message names the input and byte offset),
 * BERT_E_TRUNCATION, BERT_E_NOMEM. On failure the batch is empty and bert_batch_errmsg() says why. */
BERT_API bert_status bert_batch_encode(bert_batch *b, const bert_tokenizer *tok, const bert_text *texts, size_t n,
                                       const bert_encode_params *params);

/* A read-only view of the encoded batch: row-major arrays of n_rows x seq_len. Pointers are valid
 * until the next call that changes b. Padding positions have id [PAD], type 0, attention 0,
 * special 1, offset {0,0}, sequence id -1 and word id -1. */
typedef struct bert_batch_view {
    size_t n_rows;
    size_t seq_len;
    const int32_t *ids;
    const int32_t *type_ids;
    const uint8_t *attention_mask;
    const uint8_t *special_tokens_mask;
    const bert_span *offsets;    /* bytes into the text the token came from; {0,0} for specials */
    const int32_t *sequence_ids; /* 0 (text a), 1 (text b), -1 (special or padding) */
    const int32_t *word_ids;     /* index of the word within its sequence, -1 for specials/padding */
    const size_t *lengths;       /* [n_rows] tokens before padding */
    const size_t *sample_index;  /* [n_rows] index of the input the row came from */
    const uint8_t *truncated;    /* [n_rows] 1 when the row holds less than its input: truncation
                                    cut it (every overflowing window is 1) */
} bert_batch_view;

BERT_API bert_batch_view bert_batch_get(const bert_batch *b);

/* Fills b with rows of token ids the caller already has (ids[i][0..lens[i]), taken as the whole
 * sequence: nothing is added or truncated), right-padded with tok's pad id: type ids 0, the ids of
 * tok's special tokens marked special, offsets {0, 0}. Ids outside tok's vocabulary and empty rows
 * are BERT_E_INVALID_ARG naming the input and position. */
BERT_API bert_status bert_batch_set_ids(bert_batch *b, const bert_tokenizer *tok, const int32_t *const *ids,
                                        const size_t *lens, size_t n);

/* HF's token string of row `row`, position i (before padding): the vocabulary string of its id,
 * except for an [UNK] of a Unigram model and an added token, whose string is the (normalized) text
 * they cover, as HF reports it. Not NUL-terminated (*len set); valid until b changes. NULL past
 * the row's length. */
BERT_API const char *bert_batch_token(const bert_batch *b, size_t row, size_t i, size_t *len);

/* The message of the last failed call on b; "" after a success. Valid until the next call on b. */
BERT_API const char *bert_batch_errmsg(const bert_batch *b);

/* Converts n byte spans into Unicode code-point spans of the same text (what Python's str indexes
 * count). Spans must lie inside text and on character boundaries; out may equal in.
 * Returns BERT_OK, BERT_E_INVALID_ARG (a span outside text), BERT_E_UTF8. */
BERT_API bert_status bert_spans_to_codepoints(const char *text, size_t len, const bert_span *in, size_t n,
                                              bert_span *out);

/* Checks that text[0..len) is valid UTF-8 (shortest forms, no surrogates, nothing above U+10FFFF).
 * Returns BERT_OK, or BERT_E_UTF8 with *bad_offset (if not NULL) set to the first bad byte. */
BERT_API bert_status bert_utf8_check(const char *text, size_t len, size_t *bad_offset);

#ifdef __cplusplus
}
#endif
#endif
