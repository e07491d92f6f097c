#!/usr/bin/env bash
# Refresh the vendored front-end assets in static/vendor/ from the npm registry.
#
# The portal's users are in mainland China, so no page may load anything from
# a CDN: every third-party CSS/JS/font file is served from our own static files.
# This script is the only supported way to change them. Bump a version below,
# run `bash scripts/vendor_static.sh`, review `git diff static/vendor`, and
# update the version table in static/vendor/README.md.
#
# Needs: bash, npm (any recent version), tar, sed, grep. Nothing is installed
# into the repository: tarballs are fetched with `npm pack` into a temp dir.
set -euo pipefail

BOOTSTRAP_VERSION=5.3.8
BOOTSTRAP_ICONS_VERSION=1.13.2
HTMX_VERSION=2.0.11        # htmx 2.x on purpose; do not move to 4.x
ECHARTS_VERSION=6.1.0
# Only for their licence texts: both are bundled inside files copied below.
POPPER_VERSION=2.11.8      # inside bootstrap.bundle.min.js
ZRENDER_VERSION=6.1.0      # inside echarts.min.js (must equal echarts' dependency)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/static/vendor"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# fetch NAME VERSION -> unpacks the registry tarball into $TMP/NAME/package
fetch() {
    local name="$1" version="$2" dir tarball got
    dir="$TMP/${name//\//_}"
    mkdir -p "$dir"
    tarball="$(cd "$dir" && npm pack --silent "${name}@${version}" 2>/dev/null | tail -n 1)"
    tar -xzf "$dir/$tarball" -C "$dir"
    got="$(sed -n 's/^  "version": "\(.*\)",\{0,1\}$/\1/p' "$dir/package/package.json" | head -n 1)"
    if [[ "$got" != "$version" ]]; then
        echo "error: ${name}: wanted ${version}, npm gave ${got}" >&2
        exit 1
    fi
    echo "fetched ${name}@${version}" >&2
}

pkg() { echo "$TMP/${1//\//_}/package"; }

fetch bootstrap "$BOOTSTRAP_VERSION"
fetch bootstrap-icons "$BOOTSTRAP_ICONS_VERSION"
fetch htmx.org "$HTMX_VERSION"
fetch echarts "$ECHARTS_VERSION"
fetch @popperjs/core "$POPPER_VERSION"
fetch zrender "$ZRENDER_VERSION"

if ! grep -q "\"zrender\": \"${ZRENDER_VERSION}\"" "$(pkg echarts)/package.json"; then
    echo "error: echarts@${ECHARTS_VERSION} does not depend on zrender ${ZRENDER_VERSION}; update ZRENDER_VERSION" >&2
    exit 1
fi

# Start from empty package folders so removed upstream files do not linger.
# static/vendor/README.md is hand-written and kept.
rm -rf "$DEST/bootstrap" "$DEST/bootstrap-icons" "$DEST/htmx" "$DEST/echarts"
mkdir -p "$DEST/bootstrap" "$DEST/bootstrap-icons/fonts" "$DEST/htmx" "$DEST/echarts"

B="$(pkg bootstrap)"
cp "$B/dist/css/bootstrap.min.css" "$B/dist/js/bootstrap.bundle.min.js" "$B/LICENSE" "$DEST/bootstrap/"
cp "$(pkg @popperjs/core)/LICENSE.md" "$DEST/bootstrap/LICENSE-popper"

I="$(pkg bootstrap-icons)"
# The CSS refers to url("fonts/bootstrap-icons.woff2?...") relative to itself.
cp "$I/font/bootstrap-icons.min.css" "$I/LICENSE" "$DEST/bootstrap-icons/"
cp "$I/font/fonts/bootstrap-icons.woff2" "$I/font/fonts/bootstrap-icons.woff" "$DEST/bootstrap-icons/fonts/"

H="$(pkg htmx.org)"
cp "$H/dist/htmx.min.js" "$H/LICENSE" "$DEST/htmx/"

E="$(pkg echarts)"
cp "$E/dist/echarts.min.js" "$E/LICENSE" "$DEST/echarts/"
if [[ -f "$E/NOTICE" ]]; then cp "$E/NOTICE" "$DEST/echarts/"; fi
# echarts' LICENSE points at licenses/LICENSE-d3 for the d3 code it embeds.
if [[ -f "$E/licenses/LICENSE-d3" ]]; then cp "$E/licenses/LICENSE-d3" "$DEST/echarts/"; fi
cp "$(pkg zrender)/LICENSE" "$DEST/echarts/LICENSE-zrender"

# The .map files are not vendored, so drop the comments that point at them:
# Django's ManifestStaticFilesStorage (used by whitenoise) rewrites those
# references and fails collectstatic when the target file is missing.
# Only lines consisting solely of such a comment are deleted.
minified=(
    "$DEST/bootstrap/bootstrap.min.css"
    "$DEST/bootstrap/bootstrap.bundle.min.js"
    "$DEST/bootstrap-icons/bootstrap-icons.min.css"
    "$DEST/htmx/htmx.min.js"
    "$DEST/echarts/echarts.min.js"
)
sed -i -E \
    -e '/^[[:space:]]*\/\/[#@] sourceMappingURL=[^[:space:]]*[[:space:]]*$/d' \
    -e '/^[[:space:]]*\/\*[#@] sourceMappingURL=[^*]*\*\/[[:space:]]*$/d' \
    "${minified[@]}"
if grep -l sourceMappingURL "${minified[@]}"; then
    echo "error: sourceMappingURL left in the files above; strip it by hand and adjust this script" >&2
    exit 1
fi

echo "static/vendor refreshed:" >&2
(cd "$DEST" && find . -type f ! -name README.md | LC_ALL=C sort | xargs sha256sum) >&2
