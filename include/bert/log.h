/* Logging. The library prints nothing by itself: diagnostics go to one process-wide callback, which
 * is unset (silence) by default. Logs never replace a status; they add detail (a truncation warning,
 * a cache miss). */
#ifndef BERT_LOG_H
#define BERT_LOG_H

#include <bert/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bert_log_level {
    BERT_LOG_ERROR = 0,
    BERT_LOG_WARN = 1,
    BERT_LOG_INFO = 2,
    BERT_LOG_DEBUG = 3
} bert_log_level;

/* msg is NUL-terminated, has no trailing newline and is only valid during the call. */
typedef void (*bert_log_fn)(bert_log_level level, const char *msg, void *user);

/* Installs fn (NULL restores silence). Messages above max_level are not formatted at all.
 * Set it before other threads call into libbert: the swap itself is atomic, but a callback may
 * still be running in another thread right after the call returns. */
BERT_API void bert_log_set(bert_log_fn fn, void *user, bert_log_level max_level);
/* The name of a level ("error", "warn", "info", "debug"). */
BERT_API const char *bert_log_level_name(bert_log_level level);

#ifdef __cplusplus
}
#endif
#endif
