/* bert-serve: an HTTP inference server on libmicrohttpd, with text-embeddings-inference's routes and
 * request/response shapes (so that TEI clients work unchanged), OpenAI's /v1/embeddings, Prometheus
 * /metrics, and dynamic batching over worker contexts (tools/serve/batcher.c). This file is the HTTP
 * side; the routes are tools/serve/api.c. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include <bert/bert.h>

#include "api.h"
#include "batcher.h"
#include "cli.h"
#include "opts.h"

static const char *prog = "bert-serve";

typedef struct conn {
    char *body;
    size_t len, cap;
    int too_large;
} conn;

static enum MHD_Result handle(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    serve_group *g = cls;
    const opts *o = g->s[0].o;
    conn *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        *con_cls = c;
        return MHD_YES;
    }
    if (*upload_size) {
        if (c->len + *upload_size > o->payload_limit) {
            c->too_large = 1;
        } else if (!c->too_large) {
            if (c->len + *upload_size + 1 > c->cap) {
                size_t cap = (c->len + *upload_size + 1) * 2;
                char *b = realloc(c->body, cap);
                if (!b)
                    return MHD_NO;
                c->body = b;
                c->cap = cap;
            }
            memcpy(c->body + c->len, upload, *upload_size);
            c->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    const double t0 = serve_now();
    reply r = {0, NULL, NULL};
    const char *auth = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization");
    if (o->api_key && strcmp(url, "/health") != 0 &&
        (!auth || strncmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, o->api_key) != 0))
        reply_error(&r, 401, "Unauthorized", "a valid \"Authorization: Bearer <key>\" header is needed");
    else
        serve_dispatch(g, url, method, MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "model"), c->body, c->len,
                       c->too_large, &r);
    if (!r.body) {
        r.status = 500;
        r.body = strdup("{\"error\":\"out of memory\",\"error_type\":\"Backend\"}");
        r.type = "application/json";
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(r.body ? strlen(r.body) : 0,
                                                                r.body ? r.body : (char *)"", MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r.body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", r.type);
    const enum MHD_Result ok = MHD_queue_response(mc, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    serve_count_request(url, r.status);
    if (!o->quiet)
        fprintf(stderr, "%s: %s %s %d %zu bytes in, %.1f ms\n", prog, method, url, r.status, c->len,
                (serve_now() - t0) * 1e3);
    return ok;
}

static void completed(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)mc, (void)toe;
    conn *c = *con_cls;
    if (c) {
        free(c->body);
        free(c);
    }
    *con_cls = NULL;
}

/* --model [NAME=]DIR, repeatable */
static int add_model(const char *p, const char *opt, const char *v, void *dest)
{
    opts *o = dest;
    if (o->n_models == SERVE_MAX_MODELS) {
        fprintf(stderr, "%s: %s: at most %d models\n", p, opt, SERVE_MAX_MODELS);
        return -1;
    }
    o->models[o->n_models++] = v;
    return 0;
}

static void usage(FILE *out, const cli_opt *table)
{
    fputs("NAME\n"
          "    bert-serve - an HTTP inference server with text-embeddings-inference's API\n"
          "\n"
          "SYNOPSIS\n"
          "    bert-serve [OPTIONS]\n"
          "\n"
          "DESCRIPTION\n"
          "    Serves one model over HTTP with the routes and JSON shapes of Hugging Face's\n"
          "    text-embeddings-inference (TEI), so that its clients work unchanged:\n"
          "      POST /embed          {\"inputs\", \"normalize\", \"truncate\", \"prompt_name\"} -> [[floats]]\n"
          "      POST /predict        {\"inputs\" (texts or [text, pair]), \"raw_scores\", \"truncate\"}\n"
          "      POST /rerank         {\"query\", \"texts\", \"raw_scores\", \"return_text\", \"truncate\"}\n"
          "      POST /tokenize       {\"inputs\", \"add_special_tokens\"}\n"
          "      POST /v1/embeddings  OpenAI's: {\"input\", \"model\", \"encoding_format\": float|base64}\n"
          "      GET  /info, /health, /metrics (Prometheus text format)\n"
          "    Requests wait in one queue; each worker takes as many as fit --max-batch-tokens and\n"
          "    --max-batch-requests and runs them as one padding-free batch. A full queue answers 429, a\n"
          "    body over --payload-limit 413, malformed JSON or a wrong field 422 naming it, an input over\n"
          "    the maximum length 413 unless the request says \"truncate\": true. SIGTERM or SIGINT stops\n"
          "    taking connections, finishes the requests in flight and exits 0. One log line per request\n"
          "    on stderr (-q: none).\n"
          "\n"
          "OPTIONS\n",
          out);
    cli_print_options(out, table);
    fputs("\nEXIT STATUS\n"
          "    0 stopped by a signal after draining; 2 bad usage; 4 the model cannot be loaded; 5 the\n"
          "    address cannot be bound or other failures\n"
          "\nEXAMPLES\n"
          "    bert-serve --model bge-small --port 8080 &\n"
          "    curl -s localhost:8080/embed -H 'Content-Type: application/json' -d '{\"inputs\": \"hello\"}'\n",
          out);
}

/* Loads s->model_id and starts its workers; a CLI exit code. */
static int open_model(server *s, const opts *o)
{
    char err[1024];
    s->o = o;
    bert_model_params mp = bert_model_default_params();
    mp.precision = o->precision;
    mp.weights = o->weights;
    if (bert_model_load(s->model_id, &mp, &s->m, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return CLI_ERR_MODEL;
    }
    s->tok = bert_model_tokenizer(s->m);
    if (!s->tok) {
        fprintf(stderr, "%s: %s: no tokenizer.json or vocab.txt: the folder needs its tokenizer files\n", prog,
                s->model_id);
        return CLI_ERR_MODEL;
    }
    const bert_model_info info = bert_model_get_info(s->m);
    s->classifier = info.arch == BERT_ARCH_SEQUENCE_CLASSIFICATION;
    size_t limit = bert_tokenizer_get_config(s->tok).model_max_length;
    limit = limit < info.max_sequence_length ? limit : info.max_sequence_length;
    if (bert_model_st_info(s->m).max_seq_length && bert_model_st_info(s->m).max_seq_length < limit)
        limit = bert_model_st_info(s->m).max_seq_length;
    s->max_input = o->max_input && o->max_input < limit ? o->max_input : limit;
    bert_encode_params ep = bert_encode_default_params();
    ep.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    ep.max_length = s->max_input;
    serve_limits lim = {o->workers,        o->threads,  o->max_batch_tokens, o->max_batch_requests,
                        o->max_concurrent, o->timeout_s};
    if (serve_batcher_new(&s->b, s->m, &lim, &ep, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, s->model_id, err);
        return CLI_ERR_RUNTIME;
    }
    return CLI_OK;
}

/* Stops the workers and frees the models, the one a failed open_model left too. */
static void close_models(serve_group *g)
{
    for (size_t i = 0; i <= g->n && i < SERVE_MAX_MODELS; i++) {
        serve_batcher_free(g->s[i].b);
        bert_model_free(g->s[i].m);
        g->s[i].b = NULL;
        g->s[i].m = NULL;
    }
}

int main(int argc, char **argv)
{
    opts o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.port = 8080;
    o.workers = 1;
    o.max_batch_tokens = 2048;
    o.max_batch_requests = 64;
    o.max_concurrent = 512;
    o.max_client_batch = 64;
    o.payload_limit = 2000000;
    int prec = 0, wts = 0;
    const cli_opt table[] = {
        {.names = "--model",
         .kind = CLI_OPT_CUSTOM,
         .dest = &o,
         .parse = add_model,
         .metavar = "[NAME=]DIR",
         .help = "a model folder, named NAME for the requests' \"model\" field\n(default: the folder's name); "
                 "repeat for several models,\nthe first is the default (without --model: the embedded\ndefault "
                 "model)"},
        {.names = "--host",
         CLI_STRING(&o.host),
         .metavar = "ADDR",
         .help = "IPv4 address to listen on (default 127.0.0.1; 0.0.0.0: all)"},
        {.names = "--port",
         CLI_SIZE(&o.port),
         .metavar = "N",
         .min = 0,
         .max = 65535,
         .help = "TCP port, %r (default 8080; 0: any free one, printed)"},
        {.names = "--workers",
         CLI_SIZE(&o.workers),
         .metavar = "N",
         .min = 1,
         .max = 256,
         .help = "worker contexts running batches, %r (default 1)"},
        CLI_OPT_THREADS(&o.threads),
        {.names = "--max-batch-tokens",
         CLI_SIZE(&o.max_batch_tokens),
         .metavar = "N",
         .min = 1,
         .max = 1 << 24,
         .help =
             "tokens per batch, %r (default 2048: on CPUs larger batches\nrun slower per token, docs/performance.md)"},
        {.names = "--max-batch-requests",
         CLI_SIZE(&o.max_batch_requests),
         .metavar = "N",
         .min = 1,
         .max = 4096,
         .help = "requests per batch, %r (default 64)"},
        {.names = "--max-concurrent-requests",
         CLI_SIZE(&o.max_concurrent),
         .metavar = "N",
         .min = 1,
         .max = 1 << 20,
         .help = "queued and running requests before 429, %r (default 512)"},
        {.names = "--max-client-batch-size",
         CLI_SIZE(&o.max_client_batch),
         .metavar = "N",
         .min = 1,
         .max = 1 << 16,
         .help = "inputs in one request, %r (default 64)"},
        {.names = "--max-input-length",
         CLI_SIZE(&o.max_input),
         .metavar = "N",
         .min = 2,
         .max = 1 << 20,
         .help = "tokens per input, %r (default: the model's)"},
        {.names = "--payload-limit",
         CLI_SIZE(&o.payload_limit),
         .metavar = "BYTES",
         .min = 1,
         .max = 1 << 30,
         .help = "request body size before 413, %r (default 2000000)"},
        {.names = "--request-timeout",
         CLI_REAL(&o.timeout_s),
         .metavar = "S",
         .lo = 0,
         .hi = 86400,
         .help = "seconds a request may wait in the queue before 503, %r\n(default 0: no limit; a started batch "
                 "always finishes)"},
        {.names = "--api-key",
         CLI_STRING(&o.api_key),
         .metavar = "KEY",
         .help = "require \"Authorization: Bearer KEY\" (not for /health)"},
        CLI_OPT_PRECISION(&prec),
        CLI_OPT_WEIGHTS(&wts),
        {.names = "--quiet|-q", CLI_FLAG(&o.quiet), .value = 1, .help = "no log line per request"},
        CLI_OPT_VERBOSE(&o.verbose),
        CLI_OPT_END,
    };
    size_t n_ops = 0;
    const int pr = cli_parse_args(prog, table, argc, argv, &n_ops, 0);
    if (pr == CLI_ARGS_HELP) {
        usage(stdout, table);
        return CLI_OK;
    }
    if (pr != CLI_ARGS_OK)
        return CLI_ERR_USAGE;
    if (n_ops) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, argv[1]);
        return CLI_ERR_USAGE;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)o.port);
    if (inet_pton(AF_INET, o.host, &addr.sin_addr) != 1) {
        fprintf(stderr, "%s: --host '%s' is not an IPv4 address\n", prog, o.host);
        return CLI_ERR_USAGE;
    }
    o.precision = (bert_precision)prec;
    o.weights = (bert_weights)wts;
    if (o.verbose)
        bert_log_set(cli_log_stderr, (void *)prog, BERT_LOG_DEBUG);
    else
        bert_log_set(cli_log_stderr, (void *)prog, BERT_LOG_WARN);
    /* signals are taken by sigwait in this thread only: every thread started below inherits the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (o.n_models == 0)
        o.models[o.n_models++] = cli_default_model();
    static server servers[SERVE_MAX_MODELS];
    serve_group g = {servers, 0};
    int rc = CLI_OK;
    for (size_t i = 0; i < o.n_models && rc == CLI_OK; i++) {
        server *s = &servers[g.n];
        const char *eq = strchr(o.models[i], '=');
        static char names[SERVE_MAX_MODELS][128];
        if (eq) {
            snprintf(names[i], sizeof names[i], "%.*s", (int)(eq - o.models[i]), o.models[i]);
            s->model_id = eq + 1;
        } else {
            const char *slash = strrchr(o.models[i], '/');
            s->model_id = o.models[i];
            snprintf(names[i], sizeof names[i], "%s", slash && slash[1] ? slash + 1 : o.models[i]);
        }
        s->name = names[i];
        for (size_t k = 0; k < g.n; k++)
            if (!strcmp(servers[k].name, s->name)) {
                fprintf(stderr, "%s: two models named '%s' (--model NAME=DIR names them)\n", prog, s->name);
                rc = CLI_ERR_USAGE;
            }
        if (rc != CLI_OK)
            break;
        rc = open_model(s, &o);
        if (rc == CLI_OK)
            g.n++;
    }
    if (rc != CLI_OK) {
        close_models(&g);
        return rc;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, handle, &g, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(o.max_concurrent + 64), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)120, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "%s: cannot listen on %s:%zu: %s\n", prog, o.host, o.port, strerror(errno));
        close_models(&g);
        return CLI_ERR_RUNTIME;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "%s: listening on http://%s:%u (", prog, o.host, di ? (unsigned)di->port : (unsigned)o.port);
    for (size_t i = 0; i < g.n; i++)
        fprintf(stderr, "%s%s=%s", i ? ", " : "", servers[i].name, servers[i].model_id);
    fprintf(stderr, "; %zu worker%s each)\n", o.workers, o.workers == 1 ? "" : "s");
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "%s: %s: finishing the requests in flight\n", prog, sig == SIGTERM ? "SIGTERM" : "SIGINT");
    MHD_quiesce_daemon(d);
    MHD_stop_daemon(d); /* joins every connection thread: their requests complete first */
    close_models(&g);
    return CLI_OK;
}
