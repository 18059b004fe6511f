#!/usr/bin/env bash
# Debian packages the tests need beyond Python: Chromium for the browser tests and a CJK
# font so that Chinese renders in screenshots; Java 17 and Maven fetch and run Neo4j.
# Installs only what is missing; needs root (as on these machines) or sudo.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The PDF credit report embeds a TrueType CJK font (reportlab cannot embed Noto CJK's CFF outlines).
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
