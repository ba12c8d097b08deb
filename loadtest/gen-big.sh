#!/usr/bin/env bash
# gen-big.sh BYTES OUT: the scenario d document (an object holding an array of small items) of about BYTES bytes.
# Used by loadtest/run.sh and scripts/profile.sh, so that both measure the same body.
set -euo pipefail
awk -v want="$1" 'BEGIN {
    printf "{\"kind\":\"catalog\",\"items\":["; n = 40; i = 0
    while (n < want - 120) {
        s = sprintf("%s{\"id\":%d,\"name\":\"item %d\",\"price\":%.2f,\"active\":%s,\"tags\":[\"a\",\"b\"]}", (i ? "," : ""), i, i, i * 0.37, (i % 2 ? "true" : "false"))
        printf "%s", s; n += length(s); i++
    }
    printf "],\"count\":%d}\n", i }' >"$2"
