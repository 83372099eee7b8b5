/* libbert version. CMake parses the three numbers below; keep their layout. */
#ifndef BERT_VERSION_H
#define BERT_VERSION_H

#include <bert/export.h>

#define BERT_VERSION_MAJOR  0
#define BERT_VERSION_MINOR  1
#define BERT_VERSION_PATCH  0
#define BERT_VERSION_NUMBER (BERT_VERSION_MAJOR * 10000 + BERT_VERSION_MINOR * 100 + BERT_VERSION_PATCH)
#define BERT_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* The version the library was built as (BERT_VERSION_NUMBER of the build), so a program can check
 * that the header it compiled against matches the shared object it runs with. Thread-safe. */
BERT_API unsigned bert_version_number(void);
/* "MAJOR.MINOR.PATCH" of the build; a static string. Thread-safe. */
BERT_API const char *bert_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
