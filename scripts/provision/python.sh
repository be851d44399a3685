#!/usr/bin/env bash
# Python clients that no one here wrote, to drive the simulators as real users do:
# proxmoxer (Proxmox) and the official oVirt Python SDK (XML) in one venv; Ansible with the
# collections it bundles (ovirt.ovirt, community.proxmox) in a second venv beside it, so a
# failed Ansible install leaves the client suites running. Both from PyPI wheels, in the cache.
# start prints `export VK_PYTHON=…` and `export VK_ANSIBLE_PLAYBOOK=… VK_ANSIBLE_PYTHON=…`; stop
# does nothing. A venv is (re)built only when its check fails, so a warm cache costs well under a second.
set -uo pipefail
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/virtkeeper"
VENV="$CACHE/python-clients"
CLIENT_PINS=('proxmoxer==2.3.0' 'requests>=2.31' 'ovirt-engine-sdk-python==4.6.3')
# ansible 12.3.0 bundles ovirt.ovirt 3.2.1 and community.proxmox 1.4.0 (checked below).
ANSIBLE_PINS=('ansible==12.3.0' "${CLIENT_PINS[@]}")
AVENV="$CACHE/ansible-12.3.0"
log() { echo "python: $*" >&2; }
collection() { # prints the version of a bundled collection, e.g. `collection community/proxmox`
  "$AVENV/bin/python" -c 'import json, sys, ansible_collections as a; print(json.load(open(a.__path__[0] + "/" + sys.argv[1] + "/MANIFEST.json"))["collection_info"]["version"])' "$1" 2>/dev/null
}
ansible_ok() {
  [ -x "$AVENV/bin/ansible-playbook" ] && "$AVENV/bin/python" -c 'import proxmoxer, ovirtsdk4, requests' 2>/dev/null &&
    [[ "$(collection ovirt/ovirt)" == 3.2.* ]] && [[ "$(collection community/proxmox)" == 1.4.* ]]
}
case "${1:-start}" in
  start)
    command -v python3 >/dev/null || { log "python3 not found; client and Ansible suites will skip"; exit 0; }
    if ! "$VENV/bin/python" -c 'import proxmoxer, ovirtsdk4' 2>/dev/null; then
      log "installing proxmoxer and ovirt-engine-sdk-python into $VENV"
      python3 -m venv "$VENV" >&2 && "$VENV/bin/pip" install -q "${CLIENT_PINS[@]}" >&2 || { log "install failed; client suites will skip"; exit 0; }
    fi
    echo "export VK_PYTHON=$VENV/bin/python"
    if ! ansible_ok; then
      log "installing ${ANSIBLE_PINS[*]} into $AVENV (about two minutes)"
      rm -rf "$AVENV"
      if ! { python3 -m venv "$AVENV" >&2 && "$AVENV/bin/pip" install -q "${ANSIBLE_PINS[@]}" >&2 && ansible_ok; }; then
        log "Ansible install failed (or its bundled ovirt.ovirt/community.proxmox are not 3.2.x/1.4.x); Ansible suites will skip"
        exit 0
      fi
    fi
    echo "export VK_ANSIBLE_PLAYBOOK=$AVENV/bin/ansible-playbook"
    echo "export VK_ANSIBLE_PYTHON=$AVENV/bin/python"
    ;;
  stop) ;;
  *) echo "usage: $0 start|stop" >&2; exit 64 ;;
esac
