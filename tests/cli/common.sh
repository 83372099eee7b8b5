# Sourced by the CLI test scripts: a temporary folder removed at exit, and check NAME STATUS, which
# prints "ok"/"FAIL" and counts failures in $fails (each script ends with: [ $fails -eq 0 ]).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # name, condition already evaluated as $?
    if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
# same_rows A B N: two TSV files of N columns with the same rows, column N-1 (a score) within 1e-4
# (batches differ between runs, so the summation order may differ in the last bits)
same_rows() {
    [ "$(wc -l < "$1")" -eq "$(wc -l < "$2")" ] || return 1
    paste "$1" "$2" | awk -F'\t' -v n="$3" '{
        for (i = 1; i <= n; i++) {
            if (i == n - 1) { d = $i - $(i + n); if (d < 0) d = -d; if (d > 1e-4) exit 1 }
            else if ($i != $(i + n)) exit 1
        } }'
}
