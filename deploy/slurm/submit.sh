#!/usr/bin/env bash
# Grade a class on a Slurm cluster: N array tasks, then the merge once all of them succeeded.
#   deploy/slurm/submit.sh 16        # from the folder that holds submissions/ and course.sif
set -euo pipefail
SHARDS=${1:-16}
here=$(dirname "$0")
mkdir -p logs
array=$(sbatch --parsable --array="1-$SHARDS" --export="ALL,SHARDS=$SHARDS" "$here/grade.sbatch")
sbatch --dependency="afterok:${array%%;*}" --export="ALL,SHARDS=$SHARDS" "$here/merge.sbatch"
