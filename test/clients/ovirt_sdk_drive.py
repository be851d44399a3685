"""Drives the oVirt engine simulator with the official Python SDK (it speaks XML); prints JSON."""
import json
import sys
import time

import ovirtsdk4 as sdk
import ovirtsdk4.types as types

url, user, password = sys.argv[1:4]
conn = sdk.Connection(url=url, username=user, password=password, insecure=True)
system = conn.system_service()
vms = system.vms_service()
vm = vms.add(types.Vm(name="from-sdk", cluster=types.Cluster(name="Default"), template=types.Template(name="centos-9"), memory=2 * 2**30))
svc = vms.vm_service(vm.id)
first_status = str(vm.status.value)
while svc.get().status == types.VmStatus.IMAGE_LOCKED:
    time.sleep(0.05)
svc.start()
while svc.get().status != types.VmStatus.UP:
    time.sleep(0.05)
got = svc.get()
out = {
    "first_status": first_status,
    "names": sorted(v.name for v in vms.list(search="name=from-*")),
    "status": str(got.status.value),
    "memory": got.memory,
    "sockets": got.cpu.topology.sockets,
    "hosts": sorted(h.name for h in system.hosts_service().list()),
    "disks": [a.disk.id is not None for a in svc.disk_attachments_service().list()],
}
try:
    svc.remove()
except sdk.Error as e:
    out["remove_running"] = [e.code, "VM is running" in str(e)]
svc.stop()
while svc.get().status != types.VmStatus.DOWN:
    time.sleep(0.05)
svc.remove()
out["after_remove"] = sorted(v.name for v in vms.list(search="name=from-*"))
conn.close()
print(json.dumps(out))
