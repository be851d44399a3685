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
# A floating disk: made, hot-plugged into the running VM, unplugged and detached (it stays),
# then removed.
disks = system.disks_service()
disk = disks.add(types.Disk(name="sdk-data", provisioned_size=2 * 2**30, format=types.DiskFormat.COW,
                            storage_domains=[types.StorageDomain(name="data1")], description="from the SDK"))
while disks.disk_service(disk.id).get().status != types.DiskStatus.OK:
    time.sleep(0.05)
atts = svc.disk_attachments_service()
att = atts.add(types.DiskAttachment(disk=types.Disk(id=disk.id), interface=types.DiskInterface.VIRTIO, active=True, bootable=False))
out["attached"] = sorted(a.disk.id == disk.id for a in atts.list())
atts.attachment_service(att.id).update(types.DiskAttachment(active=False))
atts.attachment_service(att.id).remove()
out["after_detach"] = [len(atts.list()), disks.disk_service(disk.id).get().description]
disks.disk_service(disk.id).remove()
out["disk_gone"] = not any(d.id == disk.id for d in disks.list())
try:
    svc.remove()
except sdk.Error as e:
    out["remove_running"] = [e.code, "VM is running" in str(e)]
svc.stop()
while svc.get().status != types.VmStatus.DOWN:
    time.sleep(0.05)
# A template from the stopped VM: locked while its disks copy, then OK.
templates = system.templates_service()
tpl = templates.add(types.Template(name="sdk-golden", vm=types.Vm(id=vm.id)))
while templates.template_service(tpl.id).get().status != types.TemplateStatus.OK:
    time.sleep(0.05)
out["template"] = [t.name for t in templates.list(search="name=sdk-*")]
out["template_disks"] = len(templates.template_service(tpl.id).disk_attachments_service().list())
svc.remove()
out["after_remove"] = sorted(v.name for v in vms.list(search="name=from-*"))
conn.close()
print(json.dumps(out))
