#!/bin/sh
# `make check`: replay every fuzz target over its seed corpus (a regression test of the parsers,
# under ASan/UBSan in the sanitizer build). With --enable-fuzzing the binaries are real libFuzzer
# targets and take the same arguments (-runs=0 replays without mutating).
set -e
src=${KABAR_SRCDIR:-.}
build=${KABAR_BUILDDIR:-.}
for t in form at_ussd at_end at_sms at_dlr hubtel msisdn kannel keyword cookie; do
  "$build/tests/fuzz/fuzz_$t" "$src/tests/fuzz/corpus/$t" >/dev/null 2>&1 ||
    { echo "fuzz corpus replay failed: $t"; exit 1; }
done
echo "fuzz corpora replayed: 10 targets"
