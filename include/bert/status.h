/* Status codes. Every fallible libbert call returns a bert_status. The numbers never change and new
 * codes are only appended. One X-macro list generates the enum, the names and the messages, so they
 * cannot drift apart. */
#ifndef BERT_STATUS_H
#define BERT_STATUS_H

#include <bert/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */
#define BERT_STATUS_LIST(X)                                                              \
    X(BERT_OK,                  0, "success")                                            \
    X(BERT_E_INVALID_ARG,       1, "invalid argument")                                   \
    X(BERT_E_NOMEM,             2, "out of memory")                                      \
    X(BERT_E_IO,                3, "input/output error")                                 \
    X(BERT_E_FORMAT,            4, "malformed or corrupt file")                          \
    X(BERT_E_UNSUPPORTED,       5, "unsupported feature")                                \
    X(BERT_E_SHAPE,             6, "shape mismatch")                                     \
    X(BERT_E_UTF8,              7, "malformed UTF-8")                                    \
    X(BERT_E_TOO_LONG,          8, "input too long")                                     \
    X(BERT_E_BUFFER_TOO_SMALL,  9, "buffer too small")                                   \
    X(BERT_E_LABEL,            10, "unknown or mismatched label")                        \
    X(BERT_E_BACKEND,          11, "oneDNN backend error")                               \
    X(BERT_E_STATE,            12, "call out of order")                                  \
    X(BERT_E_INTERNAL,         13, "internal error (a bug in libbert)")                  \
    X(BERT_E_TRUNCATION,       14, "truncation settings cannot be satisfied")            \
    X(BERT_E_NUMERIC,          15, "non-finite value (NaN or infinity) in a result")
/* clang-format on */

typedef enum bert_status {
#define BERT__STATUS_ENUM(name, num, msg) name = num,
    BERT_STATUS_LIST(BERT__STATUS_ENUM)
#undef BERT__STATUS_ENUM
} bert_status;

/* A short human message for st, never NULL ("unknown status" for values outside the list). */
BERT_API const char *bert_status_str(bert_status st);
/* The enum name as a string ("BERT_E_UTF8"), never NULL. */
BERT_API const char *bert_status_name(bert_status st);

#ifdef __cplusplus
}
#endif
#endif
