#!/usr/bin/env bash
# The other browser engines the web app meets: Firefox (firefox-esr), WebKit (WebKitWebDriver and
# MiniBrowser from webkit2gtk-driver) and Xvfb (WebKitGTK has no headless mode; Firefox's WebGL
# needs a screen). Installed with apt when root; otherwise say exactly what to install. An engine
# still missing afterwards is reported unavailable by `harness runtimes`, never silently dropped,
# so this never fails the set-up.
set -u
missing=()
firefox_bin=""
for name in firefox-esr firefox; do
  if command -v "$name" >/dev/null 2>&1; then firefox_bin=$name; break; fi
done
[ -n "${HARNESS_FIREFOX:-}" ] && firefox_bin=$HARNESS_FIREFOX
[ -n "$firefox_bin" ] || missing+=(firefox-esr)
command -v WebKitWebDriver >/dev/null 2>&1 || missing+=(webkit2gtk-driver)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing ${missing[*]} with apt-get (Firefox, WebKit and Xvfb for the browser runtimes)" >&2
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1; then
    exit 0
  fi
  echo "setup: apt-get could not install ${missing[*]}; those engines will be reported unavailable" >&2
  exit 0
fi
echo "setup: note: ${missing[*]} not installed; install them (Debian: apt-get install -y ${missing[*]}) for the Firefox and WebKit runtimes; until then they are reported unavailable" >&2
exit 0
