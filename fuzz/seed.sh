#!/usr/bin/env bash
# Seed the fuzz corpus with real Mach-O files: the committed markupsafe .so and, when the tests
# have run, the fixtures they linked (they live in $TMPDIR/helix-macho-fixtures-*).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/macho
cp ../tests/data/macho/real/*.so corpus/macho/
for f in "${TMPDIR:-/tmp}"/helix-macho-fixtures-*/*/libqemu-aarch64-softmmu.dylib; do
  [ -f "$f" ] && cp "$f" "corpus/macho/$(basename "$(dirname "$f")").dylib"
done
ls corpus/macho | wc -l
