# Sourced by the CLI test scripts: a temporary folder removed at exit, and check NAME STATUS, which
# prints "ok"/"FAIL" and counts failures in $fails (each script ends with: [ $fails -eq 0 ]).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # name, condition already evaluated as $?
    if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
