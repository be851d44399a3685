#!/usr/bin/env bash
# Debian's chromium for the inventory page's browser tests (test/ui, driven by playwright-core).
#   start: installs the `chromium` package when missing, prints `export VK_CHROMIUM=…`
#   stop:  nothing (a package stays installed; no server runs)
# Logs go to stderr. Without apt-get, or when the install fails, it prints nothing and exits 0,
# and the browser suites skip.
set -euo pipefail
log() { echo "chromium: $*" >&2; }

find_chromium() { command -v chromium || command -v chromium-browser || true; }

start() {
  local bin
  bin=$(find_chromium)
  if [[ -z "$bin" ]]; then
    command -v apt-get >/dev/null || { log "apt-get not found; browser suites will skip"; exit 0; }
    local sudo=(); [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
    log "installing Debian's chromium package"
    { "${sudo[@]}" apt-get install -y --no-install-recommends chromium >&2 ||
      { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y --no-install-recommends chromium >&2; }; } ||
      { log "cannot install chromium; browser suites will skip"; exit 0; }
    bin=$(find_chromium)
    [[ -n "$bin" ]] || { log "chromium installed but not on PATH; browser suites will skip"; exit 0; }
  fi
  log "$("$bin" --version 2>/dev/null || echo "$bin")"
  echo "export VK_CHROMIUM=$bin"
}

stop() { :; }

case "${1:-start}" in start) start ;; stop) stop ;; *) echo "usage: $0 start|stop" >&2; exit 64 ;; esac
