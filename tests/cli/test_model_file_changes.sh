#!/bin/sh
# A checkpoint truncated under a running tool: its F32 tables are read in place from the file's
# mapping, so the next read of a lost page is SIGBUS. The tools turn it into exit 4 with a message
# naming the cause (cli_catch_sigbus), not the shell's "Bus error" (exit 135).
# Usage: test_model_file_changes.sh BIN_DIR
set -u
bin=$1
. "$(dirname "$0")/common.sh"
"$bin/bert-bench" make-model "$tmp/m" --layers 1 --hidden 32 --heads 2 --intermediate 64 > /dev/null 2>&1
check "a small F32 model" $?
# whether process $1 is blocked reading a pipe (the FIFO): its wait channel, or else its system call
loaded() {
    grep -q pipe_read "/proc/$1/wchan" 2> /dev/null && return 0
    for fd in /proc/"$1"/fd/*; do
        if [ "$(readlink "$fd")" = "$tmp/in" ]; then
            printf '0 0x%x ' "${fd##*/}" > "$tmp/want"
            head -c "$(wc -c < "$tmp/want")" "/proc/$1/syscall" 2> /dev/null | cmp -s - "$tmp/want" && return 0
        fi
    done
    return 1
}
for w in mapped packed; do
    cp -r "$tmp/m" "$tmp/m-$w"
    rm -f "$tmp/in"
    mkfifo "$tmp/in"
    "$bin/bert-classify" -q --weights "$w" --model "$tmp/m-$w" "$tmp/in" > "$tmp/out" 2> "$tmp/err" &
    pid=$!
    exec 3> "$tmp/in" # the tool's open of the FIFO returns; it loads the model, then reads a line
    # truncate once the load is over and the tool waits for its first line (a load that finds the
    # file short is another error, tested elsewhere): blocked reading the FIFO
    n=0
    while ! loaded $pid && [ $n -lt 400 ]; do
        sleep 0.05
        n=$((n + 1))
    done
    : > "$tmp/m-$w/model.safetensors"
    echo "a fine film" >&3
    exec 3>&-
    wait $pid
    rc=$?
    [ $rc -eq 4 ] && grep -q "model file was truncated or changed while in use (SIGBUS" "$tmp/err"
    check "--weights $w: truncated under the run -> exit 4 naming it (exit $rc)" $?
done
[ $fails -eq 0 ]
