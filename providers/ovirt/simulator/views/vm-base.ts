// What VMs and templates share on the wire (the API model's VmBase).
import type { EngineState } from '../model.ts';
import { fixedId, link } from './common.ts';

/** What VMs and templates share (the API model's VmBase), with its constant defaults. */
export function vmBase(s: EngineState, c: { memory: number; max_memory: number; sockets: number; cores: number; threads: number }, cluster: string | undefined, creation: number) {
  return {
    type: 'server',
    memory: c.memory,
    memory_policy: { guaranteed: c.memory, max: c.max_memory, ballooning: true, over_commit: { percent: 100 } },
    cpu: { architecture: 'x86_64', topology: { sockets: c.sockets, cores: c.cores, threads: c.threads } },
    cpu_shares: 0,
    bios: { boot_menu: { enabled: false }, type: 'q35_ovmf' },
    os: { type: 'other_linux', boot: { devices: { device: ['hd'] } } },
    creation_time: creation,
    origin: 'ovirt',
    stateless: false,
    high_availability: { enabled: false, priority: 0 },
    display: {
      type: 'vnc',
      monitors: 1,
      single_qxl_pci: false,
      allow_override: false,
      smartcard_enabled: false,
      file_transfer_enabled: true,
      copy_paste_enabled: true,
      disconnect_action: 'LOCK_SCREEN',
      disconnect_action_delay: 0,
      keyboard_layout: 'en-us',
    },
    sso: { methods: { method: [{ id: 'guest_agent' }] } },
    console: { enabled: false },
    usb: { enabled: false },
    soundcard_enabled: false,
    tunnel_migration: false,
    migration_downtime: -1,
    virtio_scsi: { enabled: true },
    start_paused: false,
    migration: { auto_converge: 'inherit', compressed: 'inherit', encrypted: 'inherit', parallel_migrations_policy: 'inherit' },
    io: { threads: 1 },
    time_zone: { name: 'Etc/GMT' },
    placement_policy: { affinity: 'migratable' },
    multi_queues_enabled: true,
    virtio_scsi_multi_queues_enabled: false,
    tpm_enabled: false,
    cpu_pinning_policy: 'none',
    storage_error_resume_behaviour: 'auto_resume',
    cluster: link('clusters', cluster),
    ...(cluster ? { cpu_profile: link('cpuprofiles', fixedId('c9000000', cluster)) } : {}),
    ...(s.datacenters[0] ? { quota: { id: fixedId('90000000', s.datacenters[0].id) } } : {}),
  };
}
