# A tool's --help text to its man page (roff, man macros), so that the two cannot drift apart: the
# build runs every tool's --help through this and installs the result as TOOL(1).
#
# The help texts share one layout (tools/common/opts.c prints the option tables):
#   a line starting at column 0         a section (NAME, SYNOPSIS, OPTIONS of model, ...)
#   "    term  description"             a two-column entry: an option, a task, a subcommand
#   "    --long-option ARG" alone        an option whose description is on the next lines
#                                       (nothing else on the line)
#   deeper-indented lines after one     the entry's description, continued
#   other lines indented by 4           running text; a blank line ends a paragraph
#   lines indented deeper elsewhere,    kept as they are (routes, command lines)
#   and SYNOPSIS and EXAMPLE(S)
# usage: awk -v name=bert-classify -v version=0.1.0 -f help2roff.awk < help.txt > bert-classify.1

function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    return s
}
function line(s) { # a text line: roff must not read a leading . or ' as a request
    if (s ~ /^[.']/) s = "\\&" s
    print s
}
function term(t,    n, w, i, x, comma, out) { # option names bold, their arguments italic
    n = split(t, w, " ")
    out = ""
    for (i = 1; i <= n; i++) {
        x = w[i]
        comma = ""
        if (x ~ /,$/) { comma = ","; x = substr(x, 1, length(x) - 1) }
        if (i == 1 || x ~ /^-/) out = out (i > 1 ? " " : "") "\\fB" esc(x) "\\fR" comma
        else out = out " \\fI" esc(x) "\\fR" comma
    }
    return out
}
function set_mode(m) {
    if (mode == "lit" && m != "lit") print ".fi"
    if (m == "lit" && mode != "lit") print ".nf"
    if (m == "para" && (mode == "tp" || gap)) print ".PP"
    if (m == "lit" && gap && mode != "") print ".PP"
    mode = m
    gap = 0
}
function indent(s) { match(s, /^ */); return RLENGTH }

BEGIN {
    printf ".TH %s 1 \"\" \"libbert %s\" \"libbert manual\"\n", toupper(esc(name)), version
    print ".\\\" generated from `" name " --help` by man/help2roff.awk"
    print ".nh"   # option names must not be hyphenated across lines
    print ".ad l" # ragged right: the texts hold long option names and paths
    mode = ""
}
/^[^ \t]/ { # a section
    set_mode("")
    printf ".SH \"%s\"\n", esc($0)
    sect = $0
    next
}
/^[ \t]*$/ { gap = 1; next }
sect == "NAME" {
    s = $0
    sub(/^ +/, "", s)
    i = index(s, " - ")
    if (i) print esc(substr(s, 1, i - 1)) " \\- " esc(substr(s, i + 3))
    else line(esc(s))
    next
}
sect ~ /^(SYNOPSIS|EXAMPLES?)$/ {
    set_mode("lit")
    line(esc(substr($0, 5)))
    next
}
{
    n = indent($0)
    text = substr($0, n + 1)
    if (n == 4 && match(text, /[^ ]  +[^ ]/)) { # term  description
        set_mode("tp")
        print ".TP"
        line(term(substr(text, 1, RSTART)))
        rest = substr(text, RSTART + 1)
        sub(/^ +/, "", rest)
        line(esc(rest))
    } else if (n == 4 && text ~ /^-[^ ]*( [^ ]+)?$/) { # an option alone; its description follows
        set_mode("tp")
        print ".TP"
        line(term(text))
    } else if (n == 4) {
        set_mode("para")
        line(esc(text))
    } else if (mode == "tp" && !gap) {
        line(esc(text))
    } else {
        set_mode("lit")
        line(esc(substr($0, 5)))
    }
}
END {
    set_mode("")
    print ".SH \"SEE ALSO\""
    n = split("bert-classify bert-glue bert-generate bert-tokenize bert-serve bert-bench", t, " ")
    s = ""
    for (i = 1; i <= n; i++) if (t[i] != name) s = s (s == "" ? "" : ",\n") ".BR " t[i] " (1)"
    print s ",\n.BR libbert (3)"
    print ".PP"
    print "The manual in the source tree's docs/ folder (docs/tools.md, docs/serve.md, docs/python.md)."
}
