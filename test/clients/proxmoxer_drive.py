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
def wait(node, upid):
    while px.nodes(node).tasks(upid).status.get()["status"] != "stopped":
        time.sleep(0.05)
    return px.nodes(node).tasks(upid).status.get()["exitstatus"]

# A volume allocated for the VM (pvesm alloc), attached, unplugged, reassigned to a second VM.
node = tpl["node"]
volid = px.nodes(node).storage("local-lvm").content.post(vmid=vmid, filename=f"vm-{vmid}-extra", size="1G")
wait(node, vm.config.post(scsi1=volid))
out["attached"] = vm.config.get()["scsi1"]
wait(node, vm.config.post(delete="scsi1"))
out["unused"] = vm.config.get()["unused0"]
other = vmid + 1
wait(node, px.nodes(node).qemu.post(vmid=other, name="other", memory=512))
out["reassign_exit"] = wait(node, vm.move_disk.post(disk="unused0", **{"target-vmid": other, "target-disk": "scsi1"}))
out["reassigned"] = px.nodes(node).qemu(other).config.get()["scsi1"]
out["content"] = sorted(v["volid"] for v in px.nodes(node).storage("local-lvm").content.get(vmid=other))
# The first VM converted into a template.
out["template_exit"] = wait(node, vm.template.post())
out["is_template"] = [r["template"] for r in px.cluster.resources.get(type="vm") if r["vmid"] == vmid]
token = ProxmoxAPI(host, user=user, token_name=token_name, token_value=token_value, verify_ssl=False)
out["memory_via_token"] = token.nodes(tpl["node"]).qemu(vmid).config.get()["memory"]
print(json.dumps(out))
