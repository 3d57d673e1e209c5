#!/bin/sh
# `make check`: replay every fuzz target over its seed corpus (a regression test of the parsers,
# under ASan/UBSan in the sanitizer build). With --enable-fuzzing the binaries are real libFuzzer
# targets, which fuzz a directory without end but run files once: so the files are what they get.
# The list is FUZZ_TARGETS of tests/fuzz/Makefile.am.
set -e
src=${KABAR_SRCDIR:-.}
build=${KABAR_BUILDDIR:-.}
targets=${KABAR_FUZZ_TARGETS:?run me through make check}
n=0
# a target written but left out of the list would never be replayed
for f in "$src"/tests/fuzz/fuzz_*.c; do
  t=$(basename "$f" .c)
  case " $targets " in *" $t "*) ;; *) echo "$t.c is not in FUZZ_TARGETS"; exit 1 ;; esac
done
for t in $targets; do
  corpus="$src/tests/fuzz/corpus/${t#fuzz_}"
  [ -d "$corpus" ] || { echo "no seed corpus for $t: $corpus"; exit 1; }
  "$build/tests/fuzz/$t" "$corpus"/* >/dev/null 2>&1 ||
    { echo "fuzz corpus replay failed: $t"; exit 1; }
  n=$((n + 1))
done
echo "fuzz corpora replayed: $n targets"
