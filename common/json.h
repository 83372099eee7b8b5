/* JSON helpers over jansson (internal). */
#ifndef BERT_JSON_H
#define BERT_JSON_H

#include <stddef.h>

#include <jansson.h>

#include <bert/status.h>

/* Parses data as one JSON object into *out (caller decrefs); errors name path and position. */
bert_status bert__json_object(const char *data, size_t len, const char *path, json_t **out, char *errbuf,
                              size_t errbuf_size);

/* The same for any JSON value (a list: sentence-transformers' modules.json). */
bert_status bert__json_value(const char *data, size_t len, const char *path, json_t **out, char *errbuf,
                             size_t errbuf_size);

#endif
