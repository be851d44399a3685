"""Drives the oVirt simulator's day-2 surface with the official Python SDK (XML): snapshots,
restore, graphics consoles with tickets and the remote-viewer file, host maintenance and VM
statistics; prints JSON."""
import json
import sys
import time

import ovirtsdk4 as sdk
import ovirtsdk4.types as types

url, user, password = sys.argv[1:4]
conn = sdk.Connection(url=url, username=user, password=password, insecure=True)
system = conn.system_service()
vms = system.vms_service()
vm = vms.add(types.Vm(name="sdk-day2", cluster=types.Cluster(name="Default"), template=types.Template(name="centos-9")))
svc = vms.vm_service(vm.id)


def wait(cond):
    for _ in range(400):
        if cond():
            return
        time.sleep(0.02)
    raise RuntimeError("timed out")


wait(lambda: svc.get().status == types.VmStatus.DOWN)
svc.start()
wait(lambda: svc.get().status == types.VmStatus.UP)
out = {}
snaps = svc.snapshots_service()
made = snaps.add(types.Snapshot(description="from the sdk", persist_memorystate=True))
out["made"] = [made.description, str(made.snapshot_status.value), made.persist_memorystate]
wait(lambda: snaps.snapshot_service(made.id).get().snapshot_status == types.SnapshotStatus.OK)
out["listed"] = sorted([str(s.snapshot_type.value), s.description] for s in snaps.list())
try:
    snaps.snapshot_service(made.id).restore(restore_memory=True)
    out["restore_running"] = "accepted"
except sdk.Error as e:
    out["restore_running"] = [e.code, "At least one of the VMs is not down" in str(e)]
consoles = svc.graphics_consoles_service()
listed = consoles.list(current=True)
out["consoles"] = sorted(str(c.protocol.value) for c in listed)
spice = next(c for c in listed if c.protocol == types.GraphicsType.SPICE)
cs = consoles.console_service(spice.id)
ticket = cs.ticket(ticket=types.Ticket(expiry=90))
out["ticket_expiry"] = ticket.expiry
out["ticket_len"] = len(ticket.value) > 8
vv = cs.remote_viewer_connection_file()
out["vv_head"] = vv.splitlines()[0]
out["vv_type"] = [l for l in vv.splitlines() if l.startswith("type=")]
stats = svc.statistics_service().list()
out["stats"] = sorted(s.name for s in stats if s.name in ("cpu.current.total", "memory.used", "memory.installed"))
host_id = svc.get().host.id
hosts = system.hosts_service()
try:
    hosts.host_service(host_id).deactivate()
    out["deactivate_busy"] = "accepted"
except sdk.Error as e:
    out["deactivate_busy"] = [e.code, "non-migratable" in str(e)]
svc.stop()
wait(lambda: svc.get().status == types.VmStatus.DOWN)
snaps.snapshot_service(made.id).restore(restore_memory=True)
wait(lambda: snaps.snapshot_service(made.id).get().snapshot_status == types.SnapshotStatus.OK and svc.get().status == types.VmStatus.DOWN)
hosts.host_service(host_id).deactivate()
wait(lambda: hosts.host_service(host_id).get().status == types.HostStatus.MAINTENANCE)
out["host"] = str(hosts.host_service(host_id).get().status.value)
hosts.host_service(host_id).activate()
wait(lambda: hosts.host_service(host_id).get().status == types.HostStatus.UP)
snaps.snapshot_service(made.id).remove()
wait(lambda: all(s.snapshot_type == types.SnapshotType.ACTIVE for s in snaps.list()))
out["after_remove"] = [str(s.snapshot_type.value) for s in snaps.list()]
conn.close()
print(json.dumps(out))
