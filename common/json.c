/* The one way libbert reads a JSON file's top-level object: jansson, duplicate keys refused, and a
 * syntax error reported with the file, line, column and byte position. */
#include "json.h"

#include <jansson.h>

#include "common.h"

bert_status bert__json_value(const char *data, size_t len, const char *path, json_t **out, char *errbuf,
                             size_t errbuf_size)
{
    json_error_t jerr;
    *out = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*out)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s:%d:%d (byte %d): invalid JSON: %s", path,
                                jerr.line, jerr.column, jerr.position, jerr.text);
    return BERT_OK;
}

bert_status bert__json_object(const char *data, size_t len, const char *path, json_t **out, char *errbuf,
                              size_t errbuf_size)
{
    bert_status st = bert__json_value(data, len, path, out, errbuf, errbuf_size);
    if (st != BERT_OK)
        return st;
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: top level must be a JSON object", path);
    }
    return BERT_OK;
}
