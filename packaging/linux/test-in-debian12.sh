#!/usr/bin/env bash
# Install the .deb into a clean Debian 12 root with apt-get, then run the packaged smoke test inside it.
#
#     sudo bash packaging/linux/test-in-debian12.sh [dist/desktop-chat_<version>_amd64.deb]
#
# 1. debootstrap --variant=minbase bookworm into $BASE once (about 1-3 minutes; reused afterwards);
# 2. copies it to a fresh $ROOTFS for every run, mounts /proc, /sys, /dev and /dev/pts there;
# 3. `apt-get update && apt-get install -y ./desktop-chat_*.deb` inside the chroot (the Debian mirror is
#    needed for the dependencies);
# 4. starts the test server (tests/helpers/llm_server/) on the host's 127.0.0.1 - the chroot shares
#    the network namespace - and runs `desktop-chat --smoke` inside the chroot against it; the answer
#    must be the scripted text;
# 5. unmounts and removes $ROOTFS (KEEP=1 keeps it).
#
# Environment: BASE (default /var/tmp/desktop-chat-bookworm-base), ROOTFS (default /tmp/deb12root),
# MIRROR (default http://deb.debian.org/debian), PYTHON (default .venv/bin/python, runs the server),
# APT_OPTS (e.g. --no-install-recommends: only Depends, no recommended packages).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BASE="${BASE:-/var/tmp/desktop-chat-bookworm-base}"
ROOTFS="${ROOTFS:-/tmp/deb12root}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
PYTHON="${PYTHON:-.venv/bin/python}"
EXPECTED="Hello from the packaged app in Debian 12."

die() { echo "test-in-debian12.sh: $*" >&2; exit 1; }
say() { echo "test-in-debian12.sh: $*"; }

[[ "$(id -u)" -eq 0 ]] || die "needs root (debootstrap, mount, chroot): run it with sudo"
DEB="${1:-$(ls -t dist/desktop-chat_*_amd64.deb 2>/dev/null | head -1)}"
[[ -n "$DEB" && -f "$DEB" ]] || die "no .deb: run \`make package\` first, or pass its path"
DEB="$(readlink -f "$DEB")"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
[[ -x "$PYTHON" ]] || die "$PYTHON is missing (it runs the test server): run \`make test\` or set PYTHON"

# ---- 1. the base system, once ---------------------------------------------------------------------
if [[ ! -f "$BASE/etc/debian_version" ]]; then
    say "debootstrap --variant=minbase bookworm $BASE $MIRROR"
    rm -rf "$BASE"
    started=$SECONDS
    debootstrap --variant=minbase bookworm "$BASE" "$MIRROR" >"$BASE.log" 2>&1 \
        || die "debootstrap failed (see $BASE.log): $(tail -3 "$BASE.log")"
    say "base system ready in $((SECONDS - started)) s"
fi

# ---- 2. a fresh root for this run -----------------------------------------------------------------
SERVER_PID=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
    for m in dev/pts dev sys proc; do
        mountpoint -q "$ROOTFS/$m" && umount -l "$ROOTFS/$m" || true
    done
    if [[ "${KEEP:-0}" != 1 ]]; then
        rm -rf "$ROOTFS"
    else
        say "kept $ROOTFS"
    fi
}
trap cleanup EXIT
for m in dev/pts dev sys proc; do
    mountpoint -q "$ROOTFS/$m" 2>/dev/null && umount -l "$ROOTFS/$m"
done
rm -rf "$ROOTFS"
cp -a "$BASE" "$ROOTFS"
mount -t proc proc "$ROOTFS/proc"
mount -t sysfs sysfs "$ROOTFS/sys"
mount --bind /dev "$ROOTFS/dev"
mount --bind /dev/pts "$ROOTFS/dev/pts"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
cp "$DEB" "$ROOTFS/tmp/"
deb_name="$(basename "$DEB")"
in_root() { chroot "$ROOTFS" env -i HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

# ---- 3. install with apt-get ----------------------------------------------------------------------
say "apt-get install ./$deb_name into $ROOTFS (Debian $(cat "$ROOTFS/etc/debian_version"))"
started=$SECONDS
before="$(in_root dpkg-query -W -f='${Package}\n' | wc -l)"
in_root apt-get update -qq
in_root sh -c "cd /tmp && apt-get install -y -q ${APT_OPTS:-} ./$deb_name" >"$ROOTFS.apt.log" 2>&1 \
    || die "apt-get install failed: $(tail -20 "$ROOTFS.apt.log")"
after="$(in_root dpkg-query -W -f='${Package}\n' | wc -l)"
say "installed in $((SECONDS - started)) s: desktop-chat and $((after - before - 1)) dependencies ($before -> $after packages)"
in_root dpkg -s desktop-chat | grep -E '^(Status|Version|Installed-Size):' | sed 's/^/    /'
for f in /usr/bin/desktop-chat /usr/share/applications/desktop-chat.desktop \
         /usr/share/icons/hicolor/48x48/apps/desktop-chat.png /usr/share/icons/hicolor/scalable/apps/desktop-chat.svg \
         /usr/share/metainfo/io.github.desktop_chat.metainfo.xml; do
    in_root test -e "$f" || die "$f is missing after the install"
done
say "$(in_root desktop-chat --version)"

# ---- 4. the packaged smoke test, against a server on the host --------------------------------------
script="$(mktemp)"
"$PYTHON" -c "
import sys
from pathlib import Path
from tests.helpers.llm_server import text_script, write_script_file
write_script_file(Path(sys.argv[1]), text_script(sys.argv[2], model='test-model'))
" "$script" "$EXPECTED"
server_out="$(mktemp)"
"$PYTHON" -m tests.helpers.llm_server --host 127.0.0.1 --port 0 --script "$script" --models test-model \
    >"$server_out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    grep -q '^PORT ' "$server_out" && break
    sleep 0.1
done
port="$(awk '/^PORT /{print $2; exit}' "$server_out")"
[[ -n "$port" ]] || die "the test server did not start: $(cat "$server_out")"
started=$(date +%s.%N)
set +e
result="$(in_root timeout 120 desktop-chat --smoke --base-url "http://127.0.0.1:$port/v1" --model test-model \
    --prompt hi --temp-basedir 2>"$ROOTFS.smoke.err")"
rc=$?
set -e
elapsed="$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
json="$(printf '%s\n' "$result" | tail -1)"
say "smoke (exit $rc, ${elapsed} s): $json"
[[ $rc -eq 0 ]] || die "the smoke run failed ($rc): $(tail -20 "$ROOTFS.smoke.err")"
printf '%s' "$json" | "$PYTHON" -c "
import json, sys
result = json.load(sys.stdin)
assert result['status'] == 'done', result
assert result['text'] == sys.argv[1], result['text']
" "$EXPECTED" || die "unexpected smoke result"
if [[ -s "$ROOTFS.smoke.err" ]]; then
    say "stderr of the smoke run:"
    sed 's/^/    /' "$ROOTFS.smoke.err"
fi
rm -f "$script" "$server_out" "$ROOTFS.smoke.err"
say "OK: $deb_name installs with apt-get on a clean Debian 12 and answers the smoke test"
