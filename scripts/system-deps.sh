#!/usr/bin/env bash
# Installs the system packages the project needs from Debian's registry: fonts for text rendering
# (serif, sans and mono families with bold and italic), and, with --bench, Tesseract 5 for the
# side-by-side benchmarks. Skips what is already there; needs root (or sudo) only to install.
set -euo pipefail
pkgs=(fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-freefont-ttf fonts-urw-base35)
[ "${1:-}" = "--bench" ] && pkgs+=(tesseract-ocr)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
