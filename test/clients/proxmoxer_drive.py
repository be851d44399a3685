"""Drives the Proxmox simulator with proxmoxer (a client no one here wrote); prints JSON."""
import json
import sys
import time

from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

host, user, password, token_name, token_value = sys.argv[1:6]
px = ProxmoxAPI(host, user=user, password=password, verify_ssl=False)
out = {"nodes": sorted(n["node"] for n in px.nodes.get()), "nextid": px.cluster.nextid.get()}
tpl = [r for r in px.cluster.resources.get(type="vm") if r["template"] == 1][0]
vmid = int(out["nextid"])
upid = px.nodes(tpl["node"]).qemu(tpl["vmid"]).clone.post(newid=vmid, name="from-proxmoxer", full=1)
while True:
    st = px.nodes(tpl["node"]).tasks(upid).status.get()
    if st["status"] == "stopped":
        break
    time.sleep(0.05)
out["clone_exit"] = st["exitstatus"]
vm = px.nodes(tpl["node"]).qemu(vmid)
cfg = vm.config.get()
out["name"] = cfg["name"]
vm.config.put(memory=2048, digest=cfg["digest"])
try:
    vm.config.put(memory=4096, digest=cfg["digest"])
except ResourceException as e:
    out["stale_digest"] = [e.status_code, e.content]
try:
    px.nodes(tpl["node"]).qemu(999).config.get()
except ResourceException as e:
    out["missing"] = [e.status_code, e.content]
token = ProxmoxAPI(host, user=user, token_name=token_name, token_value=token_value, verify_ssl=False)
out["memory_via_token"] = token.nodes(tpl["node"]).qemu(vmid).config.get()["memory"]
print(json.dumps(out))
