#!/usr/bin/env bash
# Debian packages p4p needs, installed only when missing:
#  libharfbuzz-subset0  weasyprint's fast font subsetter (without it a CJK page takes 2-15 s)
#  fonts-noto-cjk       Noto Sans CJK SC, with a real bold: the statements' font is cut from it
#  python3-fonttools    cuts it (scripts/subset_fonts.py, run with the system Python)
#  fonts-wqy-microhei   the payment lists' font, and the last fallback
#  libpango-1.0-0 libpangoft2-1.0-0  weasyprint's text layout
#  poppler-utils        pdftotext/pdffonts/pdftoppm used by the statement tests
# Then the font "P4P Sans SC" (Noto Sans CJK SC cut to GB 2312 and the symbols statements print,
# so a statement renders as fast as with WenQuanYi) goes to /usr/local/share/fonts/p4p, made
# again only when scripts/subset_fonts.py changes.
set -euo pipefail
PKGS="libharfbuzz-subset0 fonts-noto-cjk python3-fonttools fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0 poppler-utils"
FONT_DIR=/usr/local/share/fonts/p4p
SUBSET="$(cd "$(dirname "$0")" && pwd)/subset_fonts.py"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

want=$(sha256sum "$SUBSET" | cut -d' ' -f1)
have=$(cat "$FONT_DIR/.made-by-sha256" 2>/dev/null || true)
if [ "$want" != "$have" ] || [ ! -f "$FONT_DIR/P4PSansSC-Bold.otf" ]; then
  echo "making the font P4P Sans SC in $FONT_DIR (about a minute)"
  $SUDO /usr/bin/python3 "$SUBSET" "$FONT_DIR"
  echo "$want" | $SUDO tee "$FONT_DIR/.made-by-sha256" >/dev/null
  $SUDO fc-cache -f "$FONT_DIR"
fi
