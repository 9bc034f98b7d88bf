#!/bin/sh
# Puts axe-core's axe.min.js (pinned, integrity-checked) into tests/browser/vendor/ for the
# accessibility checks; the browser tests inject that file and never fetch anything themselves.
set -eu
VERSION=4.14.1
INTEGRITY=sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@$VERSION" >/dev/null)
actual="sha512-$(openssl dgst -sha512 -binary "$work/axe-core-$VERSION.tgz" | base64 -w0)"
[ "$actual" = "$INTEGRITY" ] || { echo "axe-core $VERSION: integrity mismatch ($actual)" >&2; exit 1; }
tar -xzf "$work/axe-core-$VERSION.tgz" -C "$work" package/axe.min.js
mkdir -p tests/browser/vendor
cp "$work/package/axe.min.js" tests/browser/vendor/axe.min.js
echo "$VERSION" > tests/browser/vendor/axe.version
