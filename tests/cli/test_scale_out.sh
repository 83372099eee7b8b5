#!/bin/sh
# docs/scale-out.md's recipes without a cluster: the Slurm job array script run task by task with the
# variables Slurm sets, and GNU parallel spreading the input over "machines" (--sshlogin, here the
# local one, ':'); each merged result must equal one bert-classify run over the whole file.
# usage: test_scale_out.sh BIN_DIR SRC_DIR SHARED_DIR
set -u
. "$(dirname "$0")/common.sh"
bin=$1
src=$2
shared=$3
PATH="$bin:$PATH"
export PATH
tail -n +2 "$shared/data/glue/SST-2/dev.tsv" | cut -f1 > "$tmp/big.txt"
bert-classify -q "$tmp/big.txt" > "$tmp/serial.tsv"
[ "$(wc -l < "$tmp/serial.tsv")" -eq 872 ]
check "the whole file at once: 872 rows" $?

mkdir "$tmp/out"
rc=0
for i in 0 1 2 3; do
    SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=4 SLURM_CPUS_PER_TASK=1 \
        sh "$src/docs/examples/slurm_classify.sh" "$src/models/mini-sst2" "$tmp/big.txt" "$tmp/out" || rc=1
done
sort -n -k1,1 -s "$tmp"/out/part.*.tsv | cut -f2- > "$tmp/slurm.tsv"
[ $rc -eq 0 ] && [ ! -e "$tmp/out/part.0.tsv.tmp" ] && same_rows "$tmp/serial.tsv" "$tmp/slurm.tsv" 3
check "Slurm array of 4 (docs/examples/slurm_classify.sh), merged = one run" $?
env -u SLURM_ARRAY_TASK_ID sh "$src/docs/examples/slurm_classify.sh" m i o 2> "$tmp/err"; rc=$?
[ $rc -ne 0 ] && grep -q "job array" "$tmp/err"
check "the Slurm script outside an array says how to run it" $?

parallel --will-cite --pipe -k -N 100 --sshlogin 2/: bert-classify -q --threads 1 < "$tmp/big.txt" > "$tmp/ssh.tsv"
rc=$?
[ $rc -eq 0 ] && same_rows "$tmp/serial.tsv" "$tmp/ssh.tsv" 3
check "GNU parallel --pipe -k --sshlogin 2/: output = one run" $?

[ "$fails" -eq 0 ]
