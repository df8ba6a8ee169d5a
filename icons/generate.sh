#!/bin/sh
# Regenerates every icon raster from the two SVG sources:
#   icons/chatbell.svg -> app icons (hicolor PNGs, Tauri bundle PNGs, icon.ico, icon.icns)
#   icons/tray.svg     -> icons/tray/{normal,disconnected,badge}.png (64x64)
# Run from the repository root:  sh icons/generate.sh
# Needs only Debian tools: rsvg-convert (librsvg2-bin), convert (imagemagick),
# python3 (stdlib) and, for icon.icns, png2icns (icnsutils).
set -eu

cd "$(dirname "$0")"

need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "generate.sh: '$1' not found; install it with: apt-get install -y $2" >&2
        exit 1
    fi
}
need rsvg-convert librsvg2-bin
need convert imagemagick
need python3 python3
need png2icns icnsutils

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chatbell-icons.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# SVG -> 8-bit RGBA PNG without timestamps or other metadata (byte-stable).
render() { # svg size out.png
    rsvg-convert --width "$2" --height "$2" --keep-aspect-ratio "$1" --output "$tmp/raw.png"
    convert "$tmp/raw.png" -strip -define png:exclude-chunks=date,time,tIME "PNG32:$3"
}

# --- App icon -----------------------------------------------------------------------------
for size in 16 24 32 48 64 128 256 512; do
    render chatbell.svg "$size" "${size}x${size}.png"
done
render chatbell.svg 256 128x128@2x.png
render chatbell.svg 1024 icon.png

# Windows: one .ico with every size the shell asks for.
convert 16x16.png 24x24.png 32x32.png 48x48.png 64x64.png 256x256.png \
    -strip -define png:exclude-chunks=date,time,tIME icon.ico

# macOS: .icns from the sizes the format stores.
png2icns icon.icns 16x16.png 32x32.png 48x48.png 128x128.png 256x256.png 512x512.png icon.png >/dev/null

# --- Tray ---------------------------------------------------------------------------------
# The variants are tray.svg plus extra CSS and shapes appended just before </svg>.
python3 - tray.svg "$tmp" <<'PY'
import sys

src_path, out_dir = sys.argv[1], sys.argv[2]
src = open(src_path, encoding="utf-8").read()
end = src.rindex("</svg>")

def variant(name, extra):
    with open(f"{out_dir}/tray-{name}.svg", "w", encoding="utf-8") as f:
        f.write(src[:end] + extra + src[end:])

variant("normal", "")

# Not connected: the bell dimmed to grey at half strength, crossed by a slash that cuts a
# transparent gap through it so it stays legible at 16-22 px.
variant("disconnected", """
  <style>
    #bell { opacity: 0.5; mask: url(#slash-gap); }
    .body { fill: #c8c8c8; }
  </style>
  <mask id="slash-gap" maskUnits="userSpaceOnUse" x="0" y="0" width="64" height="64">
    <rect width="64" height="64" fill="#fff"/>
    <line x1="9" y1="8" x2="55" y2="58" stroke="#000" stroke-width="13" stroke-linecap="round"/>
  </mask>
  <line x1="9" y1="8" x2="55" y2="58" stroke="#2a2a2a" stroke-width="8" stroke-linecap="round"/>
  <line x1="9" y1="8" x2="55" y2="58" stroke="#ffffff" stroke-width="4" stroke-linecap="round"/>
""")

# Unread: a red dot in the top-right corner with a transparent gap around it.
variant("badge", """
  <style>
    #bell { mask: url(#badge-gap); }
  </style>
  <mask id="badge-gap" maskUnits="userSpaceOnUse" x="0" y="0" width="64" height="64">
    <rect width="64" height="64" fill="#fff"/>
    <circle cx="50" cy="14" r="15" fill="#000"/>
  </mask>
  <circle cx="50" cy="14" r="11.5" fill="#e53935"/>
""")
PY

mkdir -p tray
for name in normal disconnected badge; do
    render "$tmp/tray-$name.svg" 64 "tray/$name.png"
done

echo "icons regenerated in $(pwd)"
