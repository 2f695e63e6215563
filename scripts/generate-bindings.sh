#!/usr/bin/env bash
# Regenerates the FFM bindings of include/bandlimit.h with jextract into
# java/lib/src/main/java/dev/bandlimit/internal/ffm (committed; never edited by hand) and
# records the header's SHA-256 there, so that a test fails when the bindings are stale.
#
# jextract is in no package registry: set $JEXTRACT to its launcher, or put it on the PATH
# (a JDK 25 build: ../shared/tools/jextract/bin/jextract; it needs Debian's libclang1-14 and
# libclang-common-14-dev). Nothing in the build or the tests needs jextract.
set -euo pipefail
cd "$(dirname "$0")/.."

jextract="${JEXTRACT:-$(command -v jextract || true)}"
if [ -z "$jextract" ] || [ ! -x "$jextract" ]; then
  echo "jextract not found: set JEXTRACT=/path/to/jextract or put it on the PATH" >&2
  echo "(a JDK 25 build of openjdk/jextract; see docs/NOTES.md)" >&2
  exit 1
fi

header=include/bandlimit.h
package=dev.bandlimit.internal.ffm
out=java/lib/src/main/java
pkgdir="$out/${package//.//}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Keep only the library's own declarations (not <stdint.h>'s typedefs and macros).
"$jextract" --dump-includes "$work/all.txt" "$header" >/dev/null
grep -E '\b(bl_|BL_)' "$work/all.txt" > "$work/includes.txt"

rm -rf "$pkgdir"
"$jextract" --target-package "$package" --header-class-name BandlimitH --output "$out" \
  @"$work/includes.txt" "$header"
sha256sum "$header" | cut -d' ' -f1 > "$pkgdir/HEADER_SHA256"
echo "generated $(ls "$pkgdir" | wc -l) files in $pkgdir from $header"
