/* libbert: a BERT-style encoder and sequence-classification framework in C11.
 * This header includes the whole public API. */
#ifndef BERT_BERT_H
#define BERT_BERT_H

#include <bert/eval.h>
#include <bert/export.h>
#include <bert/generate.h>
#include <bert/heads.h>
#include <bert/log.h>
#include <bert/model.h>
#include <bert/status.h>
#include <bert/tokenizer.h>
#include <bert/version.h>

#endif
