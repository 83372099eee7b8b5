/* Evaluates a model on a GLUE/SuperGLUE task: read the split, map the model's labels onto the
 * task's, run every instance, turn instance outputs into answers (argmax, value, best choice, per
 * answer, best candidate), score them and write the leaderboard / submission file. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, strtok */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bert/eval.h>

#include "../common/afile.h"
#include "../datasets/dataset.h"

const char *const *bert_eval_task_names(void)
{
    static const char *names[64];
    size_t i = 0;
    for (; bert__task_at(i) && i < 63; i++)
        names[i] = bert__task_at(i)->name;
    names[i] = NULL;
    return names;
}

bert_eval_params bert_eval_default_params(void)
{
    bert_eval_params p;
    memset(&p, 0, sizeof p);
    p.batch_size = 32;
    p.max_length = 128;
    return p;
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* task label i -> model label id, by name, else by position for two-label 0/1 or false/true tasks. */
static bert_status map_labels(const bert__task *t, const bert_model *m, int32_t *to_model, char *err, size_t n)
{
    const bert_model_info in = bert_model_get_info(m);
    int by_name = 1;
    for (size_t i = 0; i < t->n_labels; i++) {
        to_model[i] = -1;
        for (size_t k = 0; k < in.n_labels; k++)
            if (ieq(t->labels[i], bert_model_label(m, k)))
                to_model[i] = (int32_t)k;
        by_name &= to_model[i] >= 0;
    }
    if (by_name)
        return BERT_OK;
    const int binary = t->n_labels == 2 && (!strcmp(t->labels[0], "0") || !strcmp(t->labels[0], "false"));
    if (binary && in.n_labels == 2) {
        to_model[0] = 0;
        to_model[1] = 1;
        return BERT_OK;
    }
    char a[256] = "", b[256] = "";
    for (size_t i = 0; i < t->n_labels; i++)
        snprintf(a + strlen(a), sizeof a - strlen(a), "%s%s", i ? ", " : "", t->labels[i]);
    for (size_t k = 0; k < in.n_labels; k++)
        snprintf(b + strlen(b), sizeof b - strlen(b), "%s%s", k ? ", " : "", bert_model_label(m, k));
    return bert__errbuf_set(err, n, BERT_E_LABEL, "%s needs the labels {%s}; the model's id2label has {%s}", t->name, a,
                            b);
}

/* SQuAD-style answer normalisation of ReCoRD: lower-case, no punctuation, no articles, single spaces. */
static size_t normalize_answer(const char *s, char *out, size_t cap)
{
    char tmp[1024];
    size_t k = 0;
    for (; *s && k + 1 < sizeof tmp; s++)
        if (!ispunct((unsigned char)*s))
            tmp[k++] = (char)tolower((unsigned char)*s);
    tmp[k] = '\0';
    size_t o = 0;
    for (char *w = strtok(tmp, " \t\n"); w; w = strtok(NULL, " \t\n")) {
        if (!strcmp(w, "a") || !strcmp(w, "an") || !strcmp(w, "the"))
            continue;
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? " " : "", w);
    }
    if (o >= cap)
        o = cap - 1;
    out[o] = '\0';
    return o;
}

static double token_f1(const char *pred, const char *gold)
{
    char p[1024], g[1024];
    normalize_answer(pred, p, sizeof p);
    normalize_answer(gold, g, sizeof g);
    char *pt[256], *gt[256];
    size_t np = 0, ng = 0;
    for (char *w = strtok(p, " "); w && np < 256; w = strtok(NULL, " "))
        pt[np++] = w;
    for (char *w = strtok(g, " "); w && ng < 256; w = strtok(NULL, " "))
        gt[ng++] = w;
    int used[256] = {0};
    size_t common = 0;
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < ng; j++)
            if (!used[j] && !strcmp(pt[i], gt[j])) {
                used[j] = 1;
                common++;
                break;
            }
    if (common == 0)
        return 0.0;
    double prec = (double)common / (double)np, rec = (double)common / (double)ng;
    return 2 * prec * rec / (prec + rec);
}

static int answer_eq(const char *pred, const char *gold)
{
    char p[1024], g[1024];
    normalize_answer(pred, p, sizeof p);
    normalize_answer(gold, g, sizeof g);
    return !strcmp(p, g);
}

typedef struct run {
    const bert__task *t;
    const bert_model *m;
    bert__dataset ds;
    int32_t to_model[8];
    float *score;    /* [n_in]: logit (choice), positive probability (answer/candidate), value (regression) */
    int32_t *label;  /* [n_in] task label index (classification), or 0/1 (answer) */
    int32_t *pred;   /* [n_ex] predicted task label / choice / candidate instance */
    double *value;   /* [n_ex] regression prediction */
} run;

static bert_status infer(run *r, bert_ctx *ctx, const bert_eval_params *p, char *err, size_t n)
{
    const bert_tokenizer *tok = bert_model_tokenizer(r->m);
    const bert_model_info in = bert_model_get_info(r->m);
    const size_t nl = in.n_labels, B = p->batch_size;
    bert_batch *b = NULL;
    bert_text *texts = bert__calloc(B, sizeof *texts);
    bert_status st = bert_batch_new(&b, err, n);
    if (st == BERT_OK && !texts)
        st = bert__errbuf_set(err, n, BERT_E_NOMEM, "allocating a batch");
    bert_encode_params ep = bert_encode_default_params();
    ep.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    ep.max_length = p->max_length;
    int32_t pos_model = r->to_model[r->t->n_labels > 1 ? 1 : 0];
    /* only the sequence logits are read: the last layer may skip every row but [CLS] */
    bert_run_params rp = bert_run_default_params();
    rp.cls_only = in.arch == BERT_ARCH_SEQUENCE_CLASSIFICATION || in.arch == BERT_ARCH_MULTIPLE_CHOICE;
    for (size_t s = 0; st == BERT_OK && s < r->ds.n_in; s += B) {
        size_t k = r->ds.n_in - s < B ? r->ds.n_in - s : B;
        for (size_t i = 0; i < k; i++) {
            const bert__instance *x = &r->ds.in[s + i];
            texts[i] = (bert_text){x->a, strlen(x->a), x->b, x->b ? strlen(x->b) : 0};
        }
        if (bert_batch_encode(b, tok, texts, k, &ep) != BERT_OK) {
            st = bert__errbuf_set(err, n, BERT_E_INVALID_ARG, "%s: instance %zu: %s", r->t->name, s,
                                  bert_batch_errmsg(b));
            break;
        }
        if (bert_ctx_run_batch(ctx, b, &rp) != BERT_OK) {
            st = bert__errbuf_set(err, n, BERT_E_BACKEND, "%s: %s", r->t->name, bert_ctx_errmsg(ctx));
            break;
        }
        const float *lg = bert_ctx_logits(ctx);
        for (size_t i = 0; i < k; i++) {
            const float *l = lg + i * nl;
            size_t best = 0;
            for (size_t c = 1; c < nl; c++)
                if (l[c] > l[best])
                    best = c;
            r->label[s + i] = -1;
            for (size_t c = 0; c < r->t->n_labels; c++)
                if (r->to_model[c] == (int32_t)best)
                    r->label[s + i] = (int32_t)c;
            if (nl == 1) {
                r->score[s + i] = l[0];
            } else {
                double sum = 0;
                for (size_t c = 0; c < nl; c++)
                    sum += exp((double)l[c] - l[best]);
                r->score[s + i] = (float)(exp((double)l[pos_model] - l[best]) / sum);
            }
        }
        if (p->progress)
            p->progress(s + k, r->ds.n_in, p->user);
    }
    bert__free(texts);
    bert_batch_free(b);
    return st;
}

static void decide(run *r)
{
    for (size_t e = 0; e < r->ds.n_ex; e++) {
        const bert__example *x = &r->ds.ex[e];
        size_t best = x->first;
        for (size_t i = x->first; i < x->first + x->n; i++)
            if (r->score[i] > r->score[best])
                best = i;
        switch (r->t->kind) {
        case BERT__K_CLASSIFY:
            r->pred[e] = r->label[x->first];
            break;
        case BERT__K_REGRESS:
            r->value[e] = r->score[x->first];
            break;
        case BERT__K_CHOICE:
            r->pred[e] = (int32_t)(best - x->first);
            break;
        case BERT__K_CANDIDATE:
            r->pred[e] = x->n ? (int32_t)best : -1;
            break;
        case BERT__K_ANSWER:
            break;
        }
    }
}

static void add_metric(bert_eval_result *o, const char *name, double v)
{
    if (o->n_metrics >= BERT_EVAL_MAX_METRICS)
        return;
    snprintf(o->metric_name[o->n_metrics], sizeof o->metric_name[0], "%s", name);
    o->metric[o->n_metrics++] = v;
}

static bert_status score(run *r, bert_eval_result *o)
{
    const bert__task *t = r->t;
    const size_t N = r->ds.n_ex;
    int32_t *gold = bert__calloc(N + 1, sizeof *gold);
    double *gv = bert__calloc(N + 1, sizeof *gv);
    if (!gold || !gv) {
        bert__free(gold);
        bert__free(gv);
        return BERT_E_NOMEM;
    }
    for (size_t e = 0; e < N; e++) {
        gold[e] = r->ds.ex[e].gold;
        gv[e] = r->ds.ex[e].gold_value;
    }
    const char *nm = t->name;
    bert_status st = BERT_OK;
    if (!strcmp(nm, "CoLA") || !strcmp(nm, "AX") || !strcmp(nm, "AX-b")) {
        add_metric(o, "mcc", bert_metric_mcc(r->pred, gold, N));
    } else if (!strcmp(nm, "MRPC") || !strcmp(nm, "QQP")) {
        add_metric(o, "f1", bert_metric_f1(r->pred, gold, N, 1));
        add_metric(o, "accuracy", bert_metric_accuracy(r->pred, gold, N));
    } else if (!strcmp(nm, "STS-B")) {
        double sp = 0;
        st = bert_metric_spearman(r->value, gv, N, &sp);
        add_metric(o, "pearson", bert_metric_pearson(r->value, gv, N));
        add_metric(o, "spearman", sp);
    } else if (!strcmp(nm, "CB")) {
        add_metric(o, "accuracy", bert_metric_accuracy(r->pred, gold, N));
        add_metric(o, "macro_f1", bert_metric_macro_f1(r->pred, gold, N, 3));
    } else if (!strcmp(nm, "MultiRC")) {
        /* F1a: binary F1 over every answer; EM: questions whose answers are all right */
        size_t nin = r->ds.n_in, q_total = 0, q_exact = 0;
        int32_t *ig = bert__calloc(nin + 1, sizeof *ig);
        if (!ig) {
            st = BERT_E_NOMEM;
        } else {
            for (size_t i = 0; i < nin; i++)
                ig[i] = r->ds.in[i].gold;
            add_metric(o, "f1a", bert_metric_f1(r->label, ig, nin, 1));
            for (size_t i = 0; i < nin;) {
                size_t j = i;
                int all = 1;
                while (j < nin && r->ds.in[j].example == r->ds.in[i].example && r->ds.in[j].q_idx == r->ds.in[i].q_idx) {
                    all &= r->label[j] == ig[j];
                    j++;
                }
                q_total++;
                q_exact += all;
                i = j;
            }
            add_metric(o, "exact_match", q_total ? (double)q_exact / (double)q_total : 0);
            bert__free(ig);
        }
    } else if (!strcmp(nm, "ReCoRD")) {
        double f1 = 0, em = 0;
        for (size_t e = 0; e < N; e++) {
            const char *pred = r->pred[e] >= 0 ? r->ds.in[r->pred[e]].candidate : "";
            double bf = 0, be = 0;
            char golds[4096];
            snprintf(golds, sizeof golds, "%s", r->ds.ex[e].group ? r->ds.ex[e].group : "");
            for (char *g = golds, *sep; g; g = sep ? sep + 1 : NULL) {
                sep = strchr(g, '\x1f');
                if (sep)
                    *sep = '\0';
                double f = token_f1(pred, g);
                bf = f > bf ? f : bf;
                be = answer_eq(pred, g) > be ? 1 : be;
            }
            f1 += bf;
            em += be;
        }
        add_metric(o, "f1", N ? f1 / (double)N : 0);
        add_metric(o, "exact_match", N ? em / (double)N : 0);
    } else if (!strcmp(nm, "AX-g")) {
        /* gender parity: AX-g lists each premise twice in a row, once per gender (pair_ids 2 apart,
         * same hypothesis): the share of such pairs given the same prediction */
        size_t pairs = 0, same = 0;
        for (size_t e = 0; e + 1 < N; e += 2) {
            pairs++;
            same += r->pred[e] == r->pred[e + 1];
        }
        add_metric(o, "gender_parity", pairs ? (double)same / (double)pairs : 0);
        add_metric(o, "accuracy", bert_metric_accuracy(r->pred, gold, N));
    } else {
        add_metric(o, "accuracy", bert_metric_accuracy(r->pred, gold, N));
    }
    bert__free(gold);
    bert__free(gv);
    return st;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static bert_status write_file(run *r, const char *dir, bert_eval_result *o, char *err, size_t n)
{
    const bert__task *t = r->t;
    snprintf(o->file, sizeof o->file, "%s/%s", dir, t->submission);
    bert__afile af;
    char why[4400];
    if (bert__afile_open(&af, o->file, why, sizeof why) != 0)
        return bert__errbuf_set(err, n, BERT_E_IO, "%s", why);
    FILE *f = af.f;
    if (!t->superglue) {
        fputs("index\tprediction\n", f);
        for (size_t e = 0; e < r->ds.n_ex; e++) {
            if (t->kind == BERT__K_REGRESS) {
                double v = r->value[e] < 0 ? 0 : r->value[e] > 5 ? 5 : r->value[e];
                fprintf(f, "%s\t%.3f\n", r->ds.ex[e].id, v);
            } else {
                fprintf(f, "%s\t%s\n", r->ds.ex[e].id, r->pred[e] >= 0 ? t->labels[r->pred[e]] : t->labels[0]);
            }
        }
    } else if (t->kind == BERT__K_ANSWER) {
        for (size_t e = 0; e < r->ds.n_ex; e++) {
            const bert__example *x = &r->ds.ex[e];
            fprintf(f, "{\"idx\": %s, \"passage\": {\"questions\": [", x->id);
            long q = -1;
            for (size_t i = x->first; i < x->first + x->n; i++) {
                const bert__instance *in = &r->ds.in[i];
                if (in->q_idx != q) {
                    fprintf(f, "%s{\"idx\": %ld, \"answers\": [", q == -1 ? "" : "]}, ", in->q_idx);
                    q = in->q_idx;
                } else {
                    fputs(", ", f);
                }
                fprintf(f, "{\"idx\": %ld, \"label\": %d}", in->a_idx, r->label[i] == 1);
            }
            fputs(x->n ? "]}]}}\n" : "]}}\n", f);
        }
    } else {
        for (size_t e = 0; e < r->ds.n_ex; e++) {
            fprintf(f, "{\"idx\": %s, \"label\": ", r->ds.ex[e].id);
            int32_t p = r->pred[e];
            if (t->kind == BERT__K_CHOICE)
                fprintf(f, "%d", p);
            else if (t->kind == BERT__K_CANDIDATE)
                json_str(f, p >= 0 ? r->ds.in[p].candidate : "");
            else if (!strcmp(t->name, "WSC"))
                fputs(p == 1 ? "\"True\"" : "\"False\"", f); /* WSC's submission spells booleans so */
            else
                json_str(f, t->labels[p >= 0 ? p : 0]);
            fputs("}\n", f);
        }
    }
    if (bert__afile_commit(&af, why, sizeof why) != 0)
        return bert__errbuf_set(err, n, BERT_E_IO, "%s", why);
    return BERT_OK;
}

static bert_status write_predictions(run *r, const char *dir, char *err, size_t n)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s.predictions.jsonl", dir, r->t->name);
    bert__afile af;
    char why[4400];
    if (bert__afile_open(&af, path, why, sizeof why) != 0)
        return bert__errbuf_set(err, n, BERT_E_IO, "%s", why);
    FILE *f = af.f;
    for (size_t e = 0; e < r->ds.n_ex; e++) {
        const bert__example *x = &r->ds.ex[e];
        fputs("{\"idx\": ", f);
        if (r->t->superglue)
            fputs(x->id, f);
        else
            json_str(f, x->id);
        fputs(", \"prediction\": ", f);
        if (r->t->kind == BERT__K_REGRESS)
            fprintf(f, "%.9g", r->value[e]);
        else if (r->t->kind == BERT__K_CHOICE)
            fprintf(f, "%d", r->pred[e]);
        else if (r->t->kind == BERT__K_CANDIDATE)
            json_str(f, r->pred[e] >= 0 ? r->ds.in[r->pred[e]].candidate : "");
        else if (r->t->kind == BERT__K_ANSWER) {
            fputc('[', f);
            for (size_t i = x->first; i < x->first + x->n; i++)
                fprintf(f, i > x->first ? ", %d" : "%d", r->label[i] == 1);
            fputc(']', f);
        } else
            json_str(f, r->t->labels[r->pred[e] >= 0 ? r->pred[e] : 0]);
        fputs("}\n", f);
    }
    if (bert__afile_commit(&af, why, sizeof why) != 0)
        return bert__errbuf_set(err, n, BERT_E_IO, "%s", why);
    return BERT_OK;
}

static bert_status check_model(const bert__task *t, const bert_model *m, int32_t *to_model, char *err, size_t n)
{
    const bert_model_info in = bert_model_get_info(m);
    if (!bert_model_tokenizer(m))
        return bert__errbuf_set(err, n, BERT_E_INVALID_ARG, "%s: the model folder has no vocab.txt", t->name);
    if (t->kind == BERT__K_CHOICE) {
        if (in.arch != BERT_ARCH_MULTIPLE_CHOICE)
            return bert__errbuf_set(err, n, BERT_E_UNSUPPORTED, "%s needs a BertForMultipleChoice checkpoint, not %s",
                                    t->name, in.arch_name);
        return BERT_OK;
    }
    if (in.arch != BERT_ARCH_SEQUENCE_CLASSIFICATION)
        return bert__errbuf_set(err, n, BERT_E_UNSUPPORTED, "%s needs a BertForSequenceClassification checkpoint, not %s",
                                t->name, in.arch_name);
    if (t->kind == BERT__K_REGRESS) {
        if (in.problem != BERT_PROBLEM_REGRESSION || in.n_labels != 1)
            return bert__errbuf_set(err, n, BERT_E_LABEL, "%s needs a regression model (num_labels 1), this one has %zu labels",
                                    t->name, in.n_labels);
        to_model[0] = 0;
        return BERT_OK;
    }
    return map_labels(t, m, to_model, err, n);
}

bert_status bert_eval_task(const char *task, const bert_model *m, bert_ctx *ctx, const bert_eval_params *params,
                           bert_eval_result *out, char *errbuf, size_t errbuf_size)
{
    const bert_eval_params def = bert_eval_default_params();
    const bert_eval_params *p = params ? params : &def;
    if (!task || !m || !ctx || !out || !p->data_dir || p->batch_size == 0 || p->max_length < 3)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "bert_eval_task: missing argument");
    memset(out, 0, sizeof *out);
    run r;
    memset(&r, 0, sizeof r);
    r.t = bert__task_find(task);
    r.m = m;
    if (!r.t)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_INVALID_ARG, "unknown task \"%s\"", task);
    snprintf(out->task, sizeof out->task, "%s", task);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bert_status st = check_model(r.t, m, r.to_model, errbuf, errbuf_size);
    if (st == BERT_OK)
        st = bert__dataset_read(r.t, p->data_dir, p->test, &r.ds, errbuf, errbuf_size);
    if (st != BERT_OK)
        return st;
    r.score = bert__calloc(r.ds.n_in + 1, sizeof *r.score);
    r.label = bert__calloc(r.ds.n_in + 1, sizeof *r.label);
    r.pred = bert__calloc(r.ds.n_ex + 1, sizeof *r.pred);
    r.value = bert__calloc(r.ds.n_ex + 1, sizeof *r.value);
    if (!r.score || !r.label || !r.pred || !r.value)
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating predictions", task);
    if (st == BERT_OK)
        st = infer(&r, ctx, p, errbuf, errbuf_size);
    if (st == BERT_OK) {
        decide(&r);
        out->n_examples = r.ds.n_ex;
        int labelled = r.ds.n_ex > 0 && (r.ds.ex[0].gold >= 0 || r.t->kind == BERT__K_ANSWER);
        if (r.t->kind == BERT__K_ANSWER)
            labelled = r.ds.n_in > 0 && r.ds.in[0].gold >= 0;
        if (!p->test || labelled)
            if (labelled && score(&r, out) != BERT_OK)
                st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: scoring", task);
    }
    if (st == BERT_OK && p->out_dir)
        st = write_file(&r, p->out_dir, out, errbuf, errbuf_size);
    if (st == BERT_OK && p->out_dir && p->predictions)
        st = write_predictions(&r, p->out_dir, errbuf, errbuf_size);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    bert__free(r.score);
    bert__free(r.label);
    bert__free(r.pred);
    bert__free(r.value);
    bert__dataset_free(&r.ds);
    return st;
}
