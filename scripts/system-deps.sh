#!/usr/bin/env bash
# The one list of system packages the test suite uses, installed from Debian/Ubuntu when
# missing: as root directly, with `sudo -n` where that works, otherwise the command to run
# is printed and the tests that need a missing package skip with that reason.
# Nothing is downloaded outside the package manager.
set -euo pipefail

PACKAGES=(
    chromium               # the end-to-end test in a real browser (/usr/bin/chromium)
    libreoffice-writer-nogui   # renders the Word export to PDF
    poppler-utils          # pdftoppm/pdftotext: the rendered pages
    postgresql             # the store and app tests against a real server
    fonts-dejavu-core      # fonts for the rendered pages
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: not a Debian/Ubuntu system; install by hand if you want every test:" \
         "${PACKAGES[*]} (tests that need them are skipped with a reason)"
    exit 0
fi

missing=()
for package in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
    run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    run=(sudo -n)
else
    echo "system-deps: missing ${missing[*]}; the tests that need them will be skipped."
    echo "system-deps: to run every test, run once: sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 0
fi

echo "system-deps: installing ${missing[*]} (a few minutes the first time)"
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
