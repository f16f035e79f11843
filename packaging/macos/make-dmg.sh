#!/usr/bin/env bash
# Pack "dist/Desktop Chat.app" (from packaging/macos/build-app.sh) into a compressed disk image:
#
#     bash packaging/macos/make-dmg.sh [APP]     -> dist/desktop-chat-<version>-macos-<arch>.dmg
#
# The image shows the app next to a link to /Applications: drag one onto the other to install.
# Set CODESIGN_IDENTITY to sign the image too (notarise it afterwards with `xcrun notarytool`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

if [[ "$(uname -s)" != Darwin ]]; then
    echo "make-dmg.sh: hdiutil is macOS only" >&2
    exit 1
fi

APP="${1:-dist/Desktop Chat.app}"
VOLUME="Desktop Chat"
if [[ ! -d "$APP" ]]; then
    echo "make-dmg.sh: $APP is missing: run packaging/macos/build-app.sh first" >&2
    exit 1
fi
VERSION="$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$APP/Contents/Info.plist")"
DMG="dist/desktop-chat-$VERSION-macos-$(uname -m).dmg"

STAGING="$(mktemp -d "${TMPDIR:-/tmp}/desktop-chat-dmg.XXXXXX")"
trap 'rm -rf "$STAGING"' EXIT
ditto "$APP" "$STAGING/$(basename "$APP")"
ln -s /Applications "$STAGING/Applications"

rm -f "$DMG"
hdiutil create -volname "$VOLUME" -srcfolder "$STAGING" -fs HFS+ -format UDZO -imagekey zlib-level=9 \
    -ov "$DMG"
if [[ -n "${CODESIGN_IDENTITY:-}" ]]; then
    codesign --force --timestamp --sign "$CODESIGN_IDENTITY" "$DMG"
fi
hdiutil verify "$DMG"
echo "make-dmg.sh: wrote $DMG"
