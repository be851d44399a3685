// The procedures of libvirt's remote program that virtkeeper uses, one method each: what goes
// in a call and what comes back (numbers and codecs in protocol.ts, packets in session.ts).
import {
  PROC,
  PROGRAM,
  QEMU_PROC,
  readDomain,
  readPool,
  readSnapshot,
  readTypedParam,
  readVol,
  writeDomain,
  writePool,
  writeSnapshot,
  writeTypedParam,
  writeVol,
  type Domain,
  type Network,
  type Snapshot,
  type StoragePool,
  type StorageVol,
  type TypedParam,
} from './protocol.ts';
import { openSession, RpcSession, type SessionOptions } from './session.ts';

export type { LifecycleEvent } from './session.ts';
export type ConnectOptions = SessionOptions;

export interface NodeInfo {
  model: string;
  memoryKiB: bigint;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface DomainStats {
  domain: Domain;
  params: Map<string, TypedParam['value']>;
}

export class LibvirtConnection extends RpcSession {
  static async connect(uri: string, o: ConnectOptions = {}): Promise<LibvirtConnection> {
    const { uri: u, stream } = await openSession(uri, o);
    const c = new LibvirtConnection(u, stream, o);
    await c.handshake();
    return c;
  }

  async hostname(): Promise<string> {
    return (await this.call(PROC.CONNECT_GET_HOSTNAME)).string();
  }
  async libVersion(): Promise<bigint> {
    return (await this.call(PROC.CONNECT_GET_LIB_VERSION)).uhyper();
  }
  async nodeInfo(): Promise<NodeInfo> {
    const r = await this.call(PROC.NODE_GET_INFO);
    // `char model[32]`: XDR sends each char as a 4-byte int.
    const model = Buffer.from(Array.from({ length: 32 }, () => r.int() & 0xff))
      .toString('utf8')
      .replace(/\0.*$/, '');
    return { model, memoryKiB: r.uhyper(), cpus: r.int(), mhz: r.int(), nodes: r.int(), sockets: r.int(), cores: r.int(), threads: r.int() };
  }
  async listAllDomains(flags = 0): Promise<Domain[]> {
    const r = await this.call(PROC.CONNECT_LIST_ALL_DOMAINS, (w) => w.int(1).uint(flags));
    const doms = r.array(readDomain);
    r.uint();
    return doms;
  }
  async lookupDomain(name: string): Promise<Domain> {
    return readDomain(await this.call(PROC.DOMAIN_LOOKUP_BY_NAME, (w) => w.string(name)));
  }
  async lookupDomainByUUID(uuid: Buffer): Promise<Domain> {
    return readDomain(await this.call(PROC.DOMAIN_LOOKUP_BY_UUID, (w) => w.fixedOpaque(uuid)));
  }
  async defineXML(xml: string, flags = 0): Promise<Domain> {
    return readDomain(await this.call(PROC.DOMAIN_DEFINE_XML_FLAGS, (w) => w.string(xml).uint(flags)));
  }
  async create(d: Domain): Promise<void> {
    await this.call(PROC.DOMAIN_CREATE, (w) => writeDomain(w, d));
  }
  async shutdown_(d: Domain): Promise<void> {
    await this.call(PROC.DOMAIN_SHUTDOWN, (w) => writeDomain(w, d));
  }
  async destroy(d: Domain): Promise<void> {
    await this.call(PROC.DOMAIN_DESTROY, (w) => writeDomain(w, d));
  }
  async reboot(d: Domain, flags = 0): Promise<void> {
    await this.call(PROC.DOMAIN_REBOOT, (w) => {
      writeDomain(w, d);
      w.uint(flags);
    });
  }
  async undefine(d: Domain, flags = 0): Promise<void> {
    await this.call(PROC.DOMAIN_UNDEFINE_FLAGS, (w) => {
      writeDomain(w, d);
      w.uint(flags);
    });
  }
  async xmlDesc(d: Domain, flags = 0): Promise<string> {
    return (
      await this.call(PROC.DOMAIN_GET_XML_DESC, (w) => {
        writeDomain(w, d);
        w.uint(flags);
      })
    ).string();
  }
  async state(d: Domain): Promise<{ state: number; reason: number }> {
    const r = await this.call(PROC.DOMAIN_GET_STATE, (w) => {
      writeDomain(w, d);
      w.uint(0);
    });
    return { state: r.int(), reason: r.int() };
  }
  async setVcpus(d: Domain, n: number, flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_SET_VCPUS_FLAGS, (w) => {
      writeDomain(w, d);
      w.uint(n).uint(flags);
    });
  }
  async setMemory(d: Domain, kib: number, flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_SET_MEMORY_FLAGS, (w) => {
      writeDomain(w, d);
      w.uhyper(kib).uint(flags);
    });
  }
  async blockResize(d: Domain, disk: string, bytes: number): Promise<void> {
    await this.call(PROC.DOMAIN_BLOCK_RESIZE, (w) => {
      writeDomain(w, d);
      w.string(disk).uhyper(bytes).uint(1);
    });
  }
  async attachDevice(d: Domain, xml: string, flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_ATTACH_DEVICE_FLAGS, (w) => {
      writeDomain(w, d);
      w.string(xml).uint(flags);
    });
  }
  async detachDevice(d: Domain, xml: string, flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_DETACH_DEVICE_FLAGS, (w) => {
      writeDomain(w, d);
      w.string(xml).uint(flags);
    });
  }
  /**
   * virDomainSetMetadata: sets (or, without xml, removes) the domain's <metadata> element of
   * namespace `uri` (type ELEMENT), or its description or title.
   */
  async setMetadata(d: Domain, m: { type: number; xml?: string; key?: string; uri?: string; flags: number }): Promise<void> {
    await this.call(PROC.DOMAIN_SET_METADATA, (w) => {
      writeDomain(w, d);
      w.int(m.type);
      for (const v of [m.xml, m.key, m.uri]) w.optional(v, (x, s) => void x.string(s));
      w.uint(m.flags);
    });
  }
  async setAutostart(d: Domain, on: boolean): Promise<void> {
    await this.call(PROC.DOMAIN_SET_AUTOSTART, (w) => {
      writeDomain(w, d);
      w.int(on ? 1 : 0);
    });
  }
  async getAutostart(d: Domain): Promise<boolean> {
    return (await this.call(PROC.DOMAIN_GET_AUTOSTART, (w) => writeDomain(w, d))).int() !== 0;
  }
  /** One call for every domain's stats (state, balloon, vcpu, block...). */
  async allDomainStats(stats: number, flags = 0): Promise<DomainStats[]> {
    const r = await this.call(PROC.CONNECT_GET_ALL_DOMAIN_STATS, (w) =>
      w
        .array([] as Domain[], writeDomain)
        .uint(stats)
        .uint(flags),
    );
    return r.array((x) => ({ domain: readDomain(x), params: new Map(x.array(readTypedParam).map((p) => [p.field, p.value])) }));
  }
  /** Peer-to-peer migration: the source daemon connects to `destURI` itself. */
  async migratePerform3Params(d: Domain, destURI: string, params: TypedParam[], flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_MIGRATE_PERFORM3_PARAMS, (w) => {
      writeDomain(w, d);
      w.optional(destURI, (x, v) => void x.string(v))
        .array(params, writeTypedParam)
        .opaque(Buffer.alloc(0))
        .uint(flags);
    });
  }
  async jobInfo(d: Domain): Promise<{ type: number; elapsedMs: bigint; dataTotal: bigint; dataProcessed: bigint; dataRemaining: bigint }> {
    const r = await this.call(PROC.DOMAIN_GET_JOB_INFO, (w) => writeDomain(w, d));
    const type = r.int();
    const elapsedMs = r.uhyper();
    r.uhyper();
    return { type, elapsedMs, dataTotal: r.uhyper(), dataProcessed: r.uhyper(), dataRemaining: r.uhyper() };
  }
  async abortJob(d: Domain): Promise<void> {
    await this.call(PROC.DOMAIN_ABORT_JOB, (w) => writeDomain(w, d));
  }
  async lookupPool(name: string): Promise<StoragePool> {
    return readPool(await this.call(PROC.STORAGE_POOL_LOOKUP_BY_NAME, (w) => w.string(name)));
  }
  async refreshPool(p: StoragePool): Promise<void> {
    await this.call(PROC.STORAGE_POOL_REFRESH, (w) => {
      writePool(w, p);
      w.uint(0);
    });
  }
  async createVolume(p: StoragePool, xml: string, flags = 0): Promise<StorageVol> {
    return readVol(
      await this.call(PROC.STORAGE_VOL_CREATE_XML, (w) => {
        writePool(w, p);
        w.string(xml).uint(flags);
      }),
    );
  }
  async lookupVolume(p: StoragePool, name: string): Promise<StorageVol> {
    return readVol(
      await this.call(PROC.STORAGE_VOL_LOOKUP_BY_NAME, (w) => {
        writePool(w, p);
        w.string(name);
      }),
    );
  }
  async volumeInfo(v: StorageVol): Promise<{ type: number; capacity: bigint; allocation: bigint }> {
    const r = await this.call(PROC.STORAGE_VOL_GET_INFO, (w) => writeVol(w, v));
    return { type: r.int(), capacity: r.uhyper(), allocation: r.uhyper() };
  }
  /** The volume's XML (its `<physical>` size is the bytes a download carries). */
  async volumeXml(v: StorageVol): Promise<string> {
    return (
      await this.call(PROC.STORAGE_VOL_GET_XML_DESC, (w) => {
        writeVol(w, v);
        w.uint(0);
      })
    ).string();
  }
  async volumePath(v: StorageVol): Promise<string> {
    return (await this.call(PROC.STORAGE_VOL_GET_PATH, (w) => writeVol(w, v))).string();
  }
  async deleteVolume(v: StorageVol): Promise<void> {
    await this.call(PROC.STORAGE_VOL_DELETE, (w) => {
      writeVol(w, v);
      w.uint(0);
    });
  }
  async resizeVolume(v: StorageVol, bytes: number): Promise<void> {
    await this.call(PROC.STORAGE_VOL_RESIZE, (w) => {
      writeVol(w, v);
      w.uhyper(bytes).uint(0);
    });
  }
  /** A new volume made as a full copy of another (virStorageVolCreateXMLFrom). */
  async cloneVolume(p: StoragePool, xml: string, from: StorageVol, flags = 0): Promise<StorageVol> {
    return readVol(
      await this.call(PROC.STORAGE_VOL_CREATE_XML_FROM, (w) => {
        writePool(w, p);
        w.string(xml);
        writeVol(w, from);
        w.uint(flags);
      }),
    );
  }
  async lookupNetwork(name: string): Promise<Network> {
    return readPool(await this.call(PROC.NETWORK_LOOKUP_BY_NAME, (w) => w.string(name)));
  }
  async defineNetwork(xml: string): Promise<Network> {
    return readPool(await this.call(PROC.NETWORK_DEFINE_XML, (w) => w.string(xml)));
  }
  async startNetwork(n: Network): Promise<void> {
    await this.call(PROC.NETWORK_CREATE, (w) => writePool(w, n));
  }
  async stopNetwork(n: Network): Promise<void> {
    await this.call(PROC.NETWORK_DESTROY, (w) => writePool(w, n));
  }
  async undefineNetwork(n: Network): Promise<void> {
    await this.call(PROC.NETWORK_UNDEFINE, (w) => writePool(w, n));
  }
  async networkXml(n: Network): Promise<string> {
    return (
      await this.call(PROC.NETWORK_GET_XML_DESC, (w) => {
        writePool(w, n);
        w.uint(0);
      })
    ).string();
  }
  async networkActive(n: Network): Promise<boolean> {
    return (await this.call(PROC.NETWORK_IS_ACTIVE, (w) => writePool(w, n))).int() === 1;
  }
  async networkAutostart(n: Network): Promise<boolean> {
    return (await this.call(PROC.NETWORK_GET_AUTOSTART, (w) => writePool(w, n))).int() === 1;
  }
  async setNetworkAutostart(n: Network, on: boolean): Promise<void> {
    await this.call(PROC.NETWORK_SET_AUTOSTART, (w) => {
      writePool(w, n);
      w.int(on ? 1 : 0);
    });
  }
  /** Uploads bytes into a volume through an RPC stream (the cloud-init seed, a small image). */
  async uploadVolume(v: StorageVol, data: Buffer): Promise<void> {
    await this.uploadStream(v, [data], data.length);
  }
  /** Streams `length` bytes into a volume (virStorageVolUpload). */
  uploadStream(v: StorageVol, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, length: number, onProgress?: (sent: number) => void): Promise<void> {
    return this.writeStream(PROC.STORAGE_VOL_UPLOAD, (w) => writeVol(w, v).uhyper(0).uhyper(length).uint(0), chunks, onProgress);
  }
  /** Reads `length` bytes of a volume (virStorageVolDownload); see readStream for why it wants a session of its own. */
  downloadVolume(v: StorageVol, length: number): AsyncGenerator<Buffer> {
    return this.readStream(PROC.STORAGE_VOL_DOWNLOAD, (w) => writeVol(w, v).uhyper(0).uhyper(length).uint(0), length);
  }
  /** virDomainUpdateDeviceFlags: changes a device in place (a graphics password, a CD-ROM's medium). */
  async updateDevice(d: Domain, xml: string, flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_UPDATE_DEVICE_FLAGS, (w) => {
      writeDomain(w, d);
      w.string(xml).uint(flags);
    });
  }
  async createSnapshot(d: Domain, xml: string, flags: number): Promise<Snapshot> {
    return readSnapshot(
      await this.call(PROC.DOMAIN_SNAPSHOT_CREATE_XML, (w) => {
        writeDomain(w, d);
        w.string(xml).uint(flags);
      }),
    );
  }
  async listSnapshots(d: Domain, flags = 0): Promise<Snapshot[]> {
    const r = await this.call(PROC.DOMAIN_LIST_ALL_SNAPSHOTS, (w) => {
      writeDomain(w, d);
      w.int(1).uint(flags);
    });
    const list = r.array(readSnapshot);
    r.int();
    return list;
  }
  async lookupSnapshot(d: Domain, name: string): Promise<Snapshot> {
    return readSnapshot(
      await this.call(PROC.DOMAIN_SNAPSHOT_LOOKUP_BY_NAME, (w) => {
        writeDomain(w, d);
        w.string(name).uint(0);
      }),
    );
  }
  async snapshotXml(s: Snapshot, flags = 0): Promise<string> {
    return (await this.call(PROC.DOMAIN_SNAPSHOT_GET_XML_DESC, (w) => writeSnapshot(w, s).uint(flags))).string();
  }
  async revertToSnapshot(s: Snapshot, flags = 0): Promise<void> {
    await this.call(PROC.DOMAIN_REVERT_TO_SNAPSHOT, (w) => writeSnapshot(w, s).uint(flags));
  }
  async deleteSnapshot(s: Snapshot, flags = 0): Promise<void> {
    await this.call(PROC.DOMAIN_SNAPSHOT_DELETE, (w) => writeSnapshot(w, s).uint(flags));
  }

  /** Subscribes to lifecycle events of every domain; they arrive as 'lifecycle' events. */
  async registerLifecycleEvents(): Promise<number> {
    return (await this.call(PROC.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, (w) => w.int(0).optional(undefined, () => undefined))).int();
  }
  /** A QEMU guest agent command (JSON), through the QEMU program. */
  async agentCommand(d: Domain, command: string, timeoutSec = 5): Promise<string | undefined> {
    const r = await this.call(
      QEMU_PROC.DOMAIN_AGENT_COMMAND,
      (w) => {
        writeDomain(w, d);
        w.string(command).int(timeoutSec).uint(0);
      },
      PROGRAM.QEMU,
    );
    return r.optional((x) => x.string());
  }
}
