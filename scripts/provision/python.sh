#!/usr/bin/env bash
# Python clients that no one here wrote, to drive the simulators as real users do:
# proxmoxer (Proxmox) and the official oVirt Python SDK (XML). A venv in the cache, from PyPI
# wheels. start prints `export VK_PYTHON=…`; stop does nothing.
set -uo pipefail
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/virtkeeper/python-clients"
log() { echo "python: $*" >&2; }
case "${1:-start}" in
  start)
    command -v python3 >/dev/null || { log "python3 not found; client suites will skip"; exit 0; }
    if ! "$VENV/bin/python" -c 'import proxmoxer, ovirtsdk4' 2>/dev/null; then
      log "installing proxmoxer and ovirt-engine-sdk-python into $VENV"
      python3 -m venv "$VENV" >&2 && "$VENV/bin/pip" install -q 'proxmoxer==2.3.0' 'requests>=2.31' 'ovirt-engine-sdk-python==4.6.3' >&2 || { log "install failed; client suites will skip"; exit 0; }
    fi
    echo "export VK_PYTHON=$VENV/bin/python"
    ;;
  stop) ;;
  *) echo "usage: $0 start|stop" >&2; exit 64 ;;
esac
