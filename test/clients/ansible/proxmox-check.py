"""Reads the guests an Ansible playbook left, through proxmoxer (not Ansible); prints JSON."""
import json
import sys

from proxmoxer import ProxmoxAPI

host, user, password = sys.argv[1:4]
px = ProxmoxAPI(host, user=user, password=password, verify_ssl=False)
out = {}
for r in px.cluster.resources.get(type="vm"):
    if r["template"] == 1:
        continue
    vm = px.nodes(r["node"]).qemu(r["vmid"])
    cfg = vm.config.get()
    cur = vm.status.current.get()
    out[r["name"]] = {
        "vmid": r["vmid"], "node": r["node"], "status": cur["status"], "cpus": cur["cpus"],
        "memory": cfg["memory"], "cores": cfg["cores"], "scsi0": cfg["scsi0"].split(",")[0],
    }
print(json.dumps(out, sort_keys=True))
