#!/usr/bin/env bash
# Builds BusyBox from Debian's source package with the archival options Alpine's own build enables
# (tar -X/-T/--exclude and archive autodetection, gzip -1..-9, find -delete), so that the sandbox's
# alpine and busybox containers run the tools the real image has. Debian's busybox packages leave
# those options out. The result is cached outside the repository; a second run only prints its path.
#
# Usage: buildAlpineBusybox.sh   (prints the path of the binary)
# Cache: $NKVM_BUSYBOX_CACHE, default /var/cache/nkvm-sandbox/busybox
set -euo pipefail

cache="${NKVM_BUSYBOX_CACHE:-/var/cache/nkvm-sandbox/busybox}"
# Keyed by the version of Debian's busybox package, known without the network, so a cached run is instant.
version="$(apt-cache policy busybox | sed -n 's/^ *Candidate: //p')"
case "$version" in ''|'(none)') echo "buildAlpineBusybox: apt knows no busybox package; run apt-get update first" >&2; exit 1 ;; esac
target="$cache/${version//:/_}-alpine"
if [ -x "$target/busybox" ]; then
  echo "$target/busybox"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A private apt configuration that reads Debian's source indexes, leaving the machine's own untouched.
mkdir -p "$work/lists/partial" "$work/parts"
for f in /etc/apt/sources.list.d/*.sources; do
  if [ -e "$f" ]; then sed 's/^Types: deb$/Types: deb-src/' "$f" > "$work/parts/$(basename "$f")"; fi
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  if [ -e "$f" ]; then sed -n 's/^deb \(.*debian.*\)$/deb-src \1/p' "$f" >> "$work/parts/debian-src.list"; fi
done
apt_src=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/parts" -o "Dir::State::Lists=$work/lists")
if ! apt-get "${apt_src[@]}" -qq update > "$work/apt.log" 2>&1; then
  cat "$work/apt.log" >&2
  echo "buildAlpineBusybox: cannot read Debian's source indexes" >&2
  exit 1
fi
if ! (cd "$work" && apt-get "${apt_src[@]}" -qq source --download-only busybox > "$work/apt.log" 2>&1); then
  cat "$work/apt.log" >&2
  echo "buildAlpineBusybox: cannot download Debian's busybox source package" >&2
  exit 1
fi
# The .dsc is fetched over apt's signed indexes; dpkg-source would only warn that it has no keyring for its own signature.
dpkg-source -x "$work"/busybox_*.dsc "$work/src" >/dev/null 2>&1
cd "$work/src"
cp debian/config/pkg/deb .config
set_option() {
  sed -i -e "/^CONFIG_$1=/d" -e "/^# CONFIG_$1 is not set/d" .config
  if [ "$2" = n ]; then echo "# CONFIG_$1 is not set" >> .config; else echo "CONFIG_$1=$2" >> .config; fi
}
for option in FEATURE_TAR_FROM FEATURE_TAR_AUTODETECT FEATURE_TAR_OLDGNU_COMPATIBILITY FEATURE_TAR_OLDSUN_COMPATIBILITY \
  FEATURE_GZIP_LEVELS FEATURE_FIND_DELETE; do
  set_option "$option" y
done
set_option FEATURE_TAR_TO_COMMAND n
build() { "$@" >> "$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; echo "buildAlpineBusybox: $* failed" >&2; exit 1; }; }
{ yes '' || true; } | build make oldconfig
build make -j"$(nproc)" busybox

mkdir -p "$cache"
rm -rf "$target.partial"
mkdir "$target.partial"
install -m 0755 busybox "$target.partial/busybox"
# Renamed into place, so a reader never meets a half-copied binary.
mv "$target.partial" "$target"
echo "$target/busybox"
