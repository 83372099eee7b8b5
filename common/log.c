#include <stdarg.h>
#include <stdio.h>

#include "common.h"

/* One process-wide hook, read without a lock: installing it is expected before threads start
 * (documented in log.h); reads of a pointer-sized value are atomic on every target we build for. */
static bert_log_fn log_fn = NULL;
static void *log_user = NULL;
static bert_log_level log_max = BERT_LOG_WARN;

void bert_log_set(bert_log_fn fn, void *user, bert_log_level max_level)
{
    log_user = user;
    log_max = max_level;
    log_fn = fn;
}

const char *bert_log_level_name(bert_log_level level)
{
    switch (level) {
    case BERT_LOG_ERROR:
        return "error";
    case BERT_LOG_WARN:
        return "warn";
    case BERT_LOG_INFO:
        return "info";
    case BERT_LOG_DEBUG:
        return "debug";
    }
    return "unknown";
}

void bert__log(bert_log_level level, const char *fmt, ...)
{
    bert_log_fn fn = log_fn;
    if (!fn || level > log_max)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(level, msg, log_user);
}
