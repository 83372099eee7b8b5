/* Shared by the fuzz targets and the corpus replay driver. */
#ifndef BERT_FUZZ_H
#define BERT_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#endif
