/* Symbol visibility for the public API. The library is built with -fvisibility=hidden and
 * BERT_BUILDING; only declarations marked BERT_API are exported. */
#ifndef BERT_EXPORT_H
#define BERT_EXPORT_H

#if defined(BERT_BUILDING) && defined(__GNUC__)
#define BERT_API __attribute__((visibility("default")))
#else
#define BERT_API
#endif

#endif
