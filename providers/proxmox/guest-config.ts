// A guest's configuration as its next boot will have it (current values with pending changes
// applied), read through `/pending`, which also says what is staged.
import type { ProxmoxClient } from './client.ts';
import { configFromPending, type PendingRow } from './mapping.ts';

export async function readGuestConfig(api: ProxmoxClient, node: string, vmid: number | undefined): Promise<Record<string, string>> {
  return configFromPending(await api.get<PendingRow[]>(`/nodes/${node}/qemu/${vmid}/pending`)).config;
}
