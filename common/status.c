#include <stdio.h>
#include <string.h>

#include <bert/status.h>
#include <bert/version.h>

#include "common.h"

const char *bert_status_str(bert_status st)
{
    switch (st) {
#define BERT__STATUS_MSG(name, num, msg)                                                                              \
    case name:                                                                                                         \
        return msg;
        BERT_STATUS_LIST(BERT__STATUS_MSG)
#undef BERT__STATUS_MSG
    }
    return "unknown status";
}

const char *bert_status_name(bert_status st)
{
    switch (st) {
#define BERT__STATUS_NAME(name, num, msg)                                                                             \
    case name:                                                                                                         \
        return #name;
        BERT_STATUS_LIST(BERT__STATUS_NAME)
#undef BERT__STATUS_NAME
    }
    return "BERT_E_UNKNOWN";
}

unsigned bert_version_number(void)
{
    return BERT_VERSION_NUMBER;
}

const char *bert_version_string(void)
{
    return BERT_VERSION_STRING;
}

bert_status bert__errbuf_vset(char *errbuf, size_t errbuf_size, bert_status st, const char *fmt, va_list ap)
{
    if (errbuf && errbuf_size > 0)
        vsnprintf(errbuf, errbuf_size, fmt, ap);
    return st;
}

bert_status bert__errbuf_set(char *errbuf, size_t errbuf_size, bert_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bert__errbuf_vset(errbuf, errbuf_size, st, fmt, ap);
    va_end(ap);
    return st;
}
