/* The benchmarks of bert-bench, one file each. */
#ifndef BERT_BENCH_H
#define BERT_BENCH_H
int bench_make_model(int argc, char **argv);
int bench_model(int argc, char **argv);
#endif
