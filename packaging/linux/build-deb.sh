#!/usr/bin/env bash
# Build dist/desktop-chat_<version>_<arch>.deb from the PyInstaller onedir build in dist/desktop-chat/.
#
#     bash packaging/linux/build-deb.sh        (after PyInstaller; `make package` runs both)
#
# Layout: the bundle in /opt/desktop-chat/, the launcher /usr/bin/desktop-chat (a symlink: PyInstaller's
# bootloader finds its _internal/ through the resolved executable), the desktop entry, hicolor icons
# (PNGs per size + the SVG as scalable) and the AppStream metainfo. No maintainer scripts: the icon
# cache and the desktop database are refreshed by dpkg triggers of gtk-update-icon-cache and
# desktop-file-utils where those are installed.
#
# Depends (packaging/linux/control.in) lists what the bundle loads from the system; this script checks
# that with ldd before building, and fails when a system library belongs to no listed package.
# Environment: PYTHON (default .venv/bin/python, for the version), DEB_MAINTAINER.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE=packaging/linux
PYTHON="${PYTHON:-.venv/bin/python}"
APP=dist/desktop-chat
MAINTAINER="${DEB_MAINTAINER:-desktop_chat developers <desktop-chat@example.invalid>}"

die() { echo "build-deb.sh: $*" >&2; exit 1; }

[[ -x "$APP/desktop-chat" ]] || die "$APP/desktop-chat is missing: run \`make package\` (PyInstaller) first"
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing (Debian/Ubuntu: apt-get install dpkg)"
VERSION="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("desktop_chat"))')"
ARCH="$(dpkg --print-architecture)"
METAINFO="$HERE/io.github.desktop_chat.metainfo.xml"
grep -q "<release version=\"$VERSION\"" "$METAINFO" \
    || die "$METAINFO has no <release version=\"$VERSION\">: add this release there first"
for size in 16 24 32 48 64 128 256 512; do
    [[ -f "resources/icons/desktop_chat-$size.png" ]] || die "resources/icons/desktop_chat-$size.png is missing: run $PYTHON packaging/render_icons.py"
done

# ---- the system libraries the bundle loads must come from Depends ----------------------------------
depends="$(sed -n 's/^Depends: //p' "$HERE/control.in")"
declare -A allowed=()
for dep in $(echo "$depends" | tr ',' '\n' | sed 's/(.*)//; s/|/ /g'); do
    allowed[$dep]=1
    # what a listed package pulls in itself (libgl1 -> libglx0 -> libglvnd0) is covered too
    for sub in $(dpkg-query -W -f='${Depends}\n' "$dep" 2>/dev/null | tr ',|' '\n\n' | sed 's/(.*)//; s/:any//'); do
        allowed[$sub]=1
        for subsub in $(dpkg-query -W -f='${Depends}\n' "$sub" 2>/dev/null | tr ',|' '\n\n' | sed 's/(.*)//; s/:any//'); do
            allowed[$subsub]=1
        done
    done
done
bundle="$(cd "$APP" && pwd)"
mapfile -t system_libs < <(
    find "$APP" -type f \( -name '*.so' -o -name '*.so.*' -o -name desktop-chat \) -print0 \
    | xargs -0 -n 50 env LD_LIBRARY_PATH="$bundle/_internal:$bundle/_internal/PySide6/Qt/lib" ldd 2>/dev/null \
    | awk -v b="$bundle" '$2 == "=>" && $3 ~ /^\// && index($3, b) != 1 {print $3}' | sort -u)
missing=()
for lib in "${system_libs[@]}"; do
    owner="$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1)" \
        || owner="$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)" || owner=""
    [[ -n "$owner" && -n "${allowed[$owner]:-}" ]] || missing+=("$lib (${owner:-no package})")
done
((${#missing[@]} == 0)) || die "the bundle loads system libraries Depends does not cover: ${missing[*]}"
not_found="$(find "$APP" -type f -name '*.so*' -print0 \
    | xargs -0 -n 50 env LD_LIBRARY_PATH="$bundle/_internal:$bundle/_internal/PySide6/Qt/lib" ldd 2>/dev/null \
    | grep -c 'not found' || true)"
((not_found == 0)) || die "ldd reports $not_found unresolved libraries in $APP (run ldd on its .so files)"
echo "build-deb.sh: system libraries (${#system_libs[@]}) all come from Depends: $depends"

# ---- stage the tree -------------------------------------------------------------------------------
STAGE="build/deb/desktop-chat_${VERSION}_${ARCH}"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
    "$STAGE/usr/share/metainfo" "$STAGE/usr/share/doc/desktop-chat" "$STAGE/usr/share/icons/hicolor/scalable/apps"
cp -a "$APP" "$STAGE/opt/desktop-chat"
ln -s /opt/desktop-chat/desktop-chat "$STAGE/usr/bin/desktop-chat"
install -m 644 "$HERE/desktop-chat.desktop" "$STAGE/usr/share/applications/desktop-chat.desktop"
install -m 644 "$METAINFO" "$STAGE/usr/share/metainfo/io.github.desktop_chat.metainfo.xml"
install -m 644 "$HERE/copyright" "$STAGE/usr/share/doc/desktop-chat/copyright"
for size in 16 24 32 48 64 128 256 512; do
    install -D -m 644 "resources/icons/desktop_chat-$size.png" \
        "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps/desktop-chat.png"
done
install -m 644 resources/icons/desktop_chat.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/desktop-chat.svg"
# Normal permissions whatever the umask or the build tree had: directories and ELF files 755, the rest 644.
find "$STAGE" -type d -exec chmod 755 {} +
find "$STAGE/opt" -type f -exec chmod 644 {} +
find "$STAGE/opt" -type f \( -name '*.so' -o -name '*.so.*' \) -exec chmod 755 {} +
chmod 755 "$STAGE/opt/desktop-chat/desktop-chat"

installed_kib="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
    -e "s|@INSTALLED_SIZE@|$installed_kib|" "$HERE/control.in" > "$STAGE/DEBIAN/control"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
    > "$STAGE/DEBIAN/md5sums"
chmod 644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/md5sums"

# ---- build ----------------------------------------------------------------------------------------
DEB="dist/desktop-chat_${VERSION}_${ARCH}.deb"
rm -f "$DEB"
dpkg-deb --root-owner-group -Zzstd --build "$STAGE" "$DEB" >/dev/null
echo "build-deb.sh: $DEB $(du -h "$DEB" | cut -f1) (installed: $((installed_kib / 1024)) MiB)"
dpkg-deb --info "$DEB" | sed -n '/Package:/,/Description:/p'
