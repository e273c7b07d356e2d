#!/usr/bin/env bash
# Debian packages p4p needs, installed only when missing:
#  libharfbuzz-subset0  weasyprint's fast font subsetter (without it a CJK page takes 2-15 s)
#  fonts-wqy-microhei   the CJK font embedded in statements (small, fast to subset)
#  libpango-1.0-0 libpangoft2-1.0-0  weasyprint's text layout
#  poppler-utils        pdftotext/pdffonts/pdftoppm used by the statement tests
set -euo pipefail
PKGS="libharfbuzz-subset0 fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0 poppler-utils"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
