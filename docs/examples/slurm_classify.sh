#!/bin/sh
# A Slurm job array classifying one big file: task I of N takes data lines I, I+N, ... (--shard),
# each on its node's cores; the parts merge by line number afterwards.
#   sbatch --array=0-15 slurm_classify.sh /shared/models/sst2 /shared/data/big.txt /shared/out
#   sort -n -k1,1 -s /shared/out/part.*.tsv | cut -f2- > big.tsv      (after the array finished)
# The model folder, the input and the output folder must be on a file system every node sees.
# (tests/cli/test_scale_out.sh runs this script with the variables Slurm sets, task by task.)
#SBATCH --job-name=bert-classify
#SBATCH --cpus-per-task=4
#SBATCH --mem=4G
#SBATCH --output=bert-classify.%A_%a.log
set -eu
model=$1
input=$2
out=$3
i=${SLURM_ARRAY_TASK_ID:?run me as a job array: sbatch --array=0-N}
n=${SLURM_ARRAY_TASK_COUNT:?}
# write under a temporary name: a failed or requeued task never leaves half a part behind
bert-classify -q --threads "${SLURM_CPUS_PER_TASK:-1}" --model "$model" --shard "$i/$n" "$input" \
    > "$out/part.$i.tsv.tmp"
mv "$out/part.$i.tsv.tmp" "$out/part.$i.tsv"
