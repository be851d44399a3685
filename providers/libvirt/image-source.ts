// An image to import, from a local path or an http(s) URL, read as a stream: its length, its
// format (a qcow2 header, else raw) and its bytes, without holding the whole image in memory.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ProviderInvalidError, ProviderNotFoundError } from '../../controller/core/errors.ts';
import { displayImage } from '../../controller/core/provider.ts';
import { MiB } from '../kit/index.ts';

export interface ImageStream {
  length: number;
  format: 'qcow2' | 'raw';
  chunks: AsyncIterable<Uint8Array>;
}

const QCOW2_MAGIC = 0x514649fb;
const formatOf = (head: Uint8Array): 'qcow2' | 'raw' => (head.length >= 4 && Buffer.from(head.buffer, head.byteOffset, 4).readUInt32BE(0) === QCOW2_MAGIC ? 'qcow2' : 'raw');

export const isURL = (image: string) => /^https?:\/\//i.test(image);

async function fromFile(path: string): Promise<ImageStream> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new ProviderNotFoundError(`image ${path} does not exist here`);
  const fh = await open(path, 'r');
  const head = Buffer.alloc(4);
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  return { length: info.size, format: formatOf(head), chunks: createReadStream(path, { highWaterMark: MiB }) };
}

async function fromURL(url: string): Promise<ImageStream> {
  const res = await fetch(url).catch((e: unknown) => {
    throw new ProviderNotFoundError(`cannot download ${displayImage(url)}: ${(e as Error).message.replaceAll(url, displayImage(url))}`);
  });
  if (!res.ok || !res.body) throw new ProviderNotFoundError(`cannot download ${displayImage(url)}: HTTP ${res.status}`);
  const length = Number(res.headers.get('content-length') ?? NaN);
  if (!Number.isFinite(length)) throw new ProviderInvalidError(`${displayImage(url)} sends no Content-Length; libvirt needs the size before the upload`);
  const it = (res.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? new Uint8Array() : first.value;
  async function* rest(): AsyncIterable<Uint8Array> {
    if (!first.done) yield first.value;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  return { length, format: formatOf(head), chunks: rest() };
}

export function openImage(image: string): Promise<ImageStream> {
  return isURL(image) ? fromURL(image) : fromFile(image);
}
