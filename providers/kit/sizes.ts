// Sizes as hypervisors write them: `8G`, `512M`, `size=10.5G` in a property string.
export const KiB = 2 ** 10;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const TiB = 2 ** 40;

const UNIT: Record<string, number> = { '': 1, B: 1, K: KiB, M: MiB, G: GiB, T: TiB };

/** Whole GiB as `<n>G`, else whole MiB rounded up as `<n>M` (the form Proxmox and qemu-img take). */
export function sizeText(bytes: number): string {
  return bytes % GiB === 0 ? `${bytes / GiB}G` : `${Math.ceil(bytes / MiB)}M`;
}

/** `8G`, `1.5T`, `512` (bytes) → bytes; undefined when it is not a size. */
export function parseSizeText(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([BKMGT]?)$/i.exec(text.trim());
  return m ? Math.round(Number(m[1]) * (UNIT[(m[2] ?? '').toUpperCase()] ?? 1)) : undefined;
}

/** The `size=` part of a property string (`local-lvm:vm-1-disk-0,size=8G`) in bytes; 0 when absent. */
export function sizeProperty(entry: string): number {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?[BKMGT]?)(?:,|$)/i.exec(entry);
  return m?.[1] ? (parseSizeText(m[1]) ?? 0) : 0;
}

/** Bytes for people: `8 GiB`, `1.5 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', TiB],
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', KiB],
  ] as const) {
    if (Math.abs(bytes) >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} B`;
}
