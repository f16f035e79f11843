#!/usr/bin/env bash
# Build "dist/Desktop Chat.app" on macOS 11+ from the PyInstaller spec.
#
#     bash packaging/macos/build-app.sh            (from anywhere; PYTHON=... picks the interpreter)
#
# 1. builds dist/desktop-chat.icns from resources/icons/desktop_chat-<size>.png with iconutil;
# 2. runs PyInstaller on packaging/desktop_chat.spec: a spec with a BUNDLE section makes the .app itself
#    (dist/Desktop Chat.app or dist/desktop-chat.app); without one, the onedir build dist/desktop-chat/
#    is wrapped into an .app here (Contents/MacOS holds it);
# 3. writes packaging/macos/Info.plist into the bundle with the package version, and the .icns;
# 4. signs the bundle: ad hoc by default (enough to run on this Mac and on Apple silicon), or with
#    CODESIGN_IDENTITY="Developer ID Application: ..." and the hardened runtime for notarisation.
#
# Then packaging/macos/make-dmg.sh makes the disk image.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

if [[ "$(uname -s)" != Darwin ]]; then
    echo "build-app.sh: this builds a macOS app bundle and runs on macOS only" >&2
    exit 1
fi

PYTHON="${PYTHON:-.venv/bin/python}"
APP_NAME="Desktop Chat"
EXE_NAME="desktop-chat"
ICONS="resources/icons"
WORK="build/macos"
ICONSET="$WORK/$EXE_NAME.iconset"
ICNS="$WORK/$EXE_NAME.icns"
APP="dist/$APP_NAME.app"

VERSION="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("desktop-chat"))')"
echo "build-app.sh: Desktop Chat $VERSION"

if ! "$PYTHON" -m PyInstaller --version >/dev/null 2>&1; then
    echo "build-app.sh: PyInstaller is missing: $PYTHON -m pip install pyinstaller" >&2
    exit 1
fi

# ---- 1. the icon --------------------------------------------------------------------------------
if [[ ! -f "$ICONS/desktop_chat-512.png" ]]; then
    echo "build-app.sh: rendering the PNG icons from the SVG"
    "$PYTHON" packaging/render_icons.py
fi
rm -rf "$ICONSET"
mkdir -p "$ICONSET"
# iconutil's names: icon_<points>x<points>[@2x].png; the @2x image has twice the pixels.
add_icon() {  # add_icon PIXELS NAME
    local png="$ICONS/desktop_chat-$1.png"
    if [[ -f "$png" ]]; then
        cp "$png" "$ICONSET/$2"
    fi
}
add_icon 16 icon_16x16.png
add_icon 32 icon_16x16@2x.png
add_icon 32 icon_32x32.png
add_icon 64 icon_32x32@2x.png
add_icon 128 icon_128x128.png
add_icon 256 icon_128x128@2x.png
add_icon 256 icon_256x256.png
add_icon 512 icon_256x256@2x.png
add_icon 512 icon_512x512.png
add_icon 1024 icon_512x512@2x.png
iconutil --convert icns --output "$ICNS" "$ICONSET"
echo "build-app.sh: wrote $ICNS"

# ---- 2. PyInstaller -----------------------------------------------------------------------------
"$PYTHON" -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
    packaging/desktop_chat.spec

built=""
for candidate in "dist/$APP_NAME.app" "dist/$EXE_NAME.app"; do
    if [[ -d "$candidate" ]]; then
        built="$candidate"
        break
    fi
done
if [[ -n "$built" ]]; then
    if [[ "$built" != "$APP" ]]; then
        rm -rf "$APP"
        mv "$built" "$APP"
    fi
elif [[ -x "dist/$EXE_NAME/$EXE_NAME" ]]; then
    echo "build-app.sh: the spec has no BUNDLE section; wrapping dist/$EXE_NAME/ into $APP"
    rm -rf "$APP"
    mkdir -p "$APP/Contents/MacOS" "$APP/Contents/Resources"
    ditto "dist/$EXE_NAME" "$APP/Contents/MacOS"
else
    echo "build-app.sh: PyInstaller made neither an .app nor dist/$EXE_NAME/$EXE_NAME" >&2
    exit 1
fi
if [[ ! -x "$APP/Contents/MacOS/$EXE_NAME" ]]; then
    echo "build-app.sh: $APP/Contents/MacOS/$EXE_NAME is missing (CFBundleExecutable)" >&2
    exit 1
fi

# ---- 3. Info.plist and the icon -----------------------------------------------------------------
mkdir -p "$APP/Contents/Resources"
sed "s/@VERSION@/$VERSION/g" packaging/macos/Info.plist >"$APP/Contents/Info.plist"
plutil -lint "$APP/Contents/Info.plist"
cp "$ICNS" "$APP/Contents/Resources/$EXE_NAME.icns"
printf 'APPL????' >"$APP/Contents/PkgInfo"

# ---- 4. signing ---------------------------------------------------------------------------------
# Changing Info.plist invalidates PyInstaller's signature: sign the whole bundle again.
if [[ -n "${CODESIGN_IDENTITY:-}" ]]; then
    codesign --force --deep --timestamp --options runtime --sign "$CODESIGN_IDENTITY" "$APP"
else
    codesign --force --deep --sign - "$APP"
fi
codesign --verify --deep --strict "$APP"

# A quick check that the bundle starts: --version needs no window.
"$APP/Contents/MacOS/$EXE_NAME" --version
echo "build-app.sh: built $APP"
