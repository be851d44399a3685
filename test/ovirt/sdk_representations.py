"""Reads the simulator's representations through the official oVirt SDK (XML into typed objects); prints JSON."""
import json
import sys

import ovirtsdk4 as sdk

url, user, password, name = sys.argv[1:5]
conn = sdk.Connection(url=url, username=user, password=password, insecure=True)
system = conn.system_service()
vms = system.vms_service()
vm = vms.list(search='name="%s"' % name, follow="nics,graphics_consoles,statistics")[0]
template = conn.follow_link(vm.template)
cluster = conn.follow_link(vm.cluster)
hosts = system.hosts_service().list()
sd = system.storage_domains_service().list()[0]
events = system.events_service().list(max=5)
out = {
    "display": vm.display.type.value,
    "bios": vm.bios.type.value,
    "ha": [vm.high_availability.enabled, vm.high_availability.priority],
    "migration": vm.migration.auto_converge.value,
    "os": vm.os.type,
    "memory": vm.memory,
    "start_time": vm.start_time is not None and vm.start_time.year > 2000,
    "template": [template.name, template.version.version_number],
    "cluster_dc": conn.follow_link(cluster.data_center).name,
    "cluster_version": [cluster.version.major, cluster.version.minor],
    "spm": sorted({h.spm.status.value for h in hosts}, reverse=True),
    "host_version": hosts[0].version.major,
    "storage": [sd.storage.type.value, isinstance(sd.available, int)],
    "nics": [n.name for n in vm.nics],
    "consoles": [c.protocol.value for c in vm.graphics_consoles],
    "statistics": any(s.name == "memory.installed" and s.values[0].datum == vm.memory for s in vm.statistics),
    "event_severity": all(e.severity is not None and isinstance(e.code, int) for e in events),
}
conn.close()
print(json.dumps(out))
