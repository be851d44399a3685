"""Reads one VM back through the official oVirt SDK (XML); prints JSON. Args: url user password name."""
import json
import sys

import ovirtsdk4 as sdk

url, user, password, name = sys.argv[1:5]
conn = sdk.Connection(url=url, username=user, password=password, insecure=True)
vms = conn.system_service().vms_service()
found = vms.list(search='name="%s"' % name)
out = {"count": len(found)}
if found:
    vm = found[0]
    out.update({
        "status": str(vm.status.value),
        "memory": vm.memory,
        "max": vm.memory_policy.max,
        "cores": vm.cpu.topology.cores,
        "template": conn.follow_link(vm.template).name,
        "cluster": conn.follow_link(vm.cluster).name,
        "data_center": conn.follow_link(conn.follow_link(vm.cluster).data_center).name,
        "host": conn.follow_link(vm.host).name if vm.host else None,
        "disks": [a.disk.id is not None for a in vms.vm_service(vm.id).disk_attachments_service().list()],
    })
conn.close()
print(json.dumps(out))
