import { describe, expect, it } from 'vitest';
import {
  decodeHeader,
  frame,
  LibvirtError,
  MessageStatus,
  MessageType,
  PROC,
  PROGRAM,
  readDomain,
  readRemoteError,
  readTypedParam,
  TypedParamType,
  writeDomain,
  writeTypedParam,
  type TypedParam,
} from '../../providers/libvirt/rpc/protocol.ts';
import { parseLibvirtURI } from '../../providers/libvirt/rpc/uri.ts';
import { XdrReader, XdrWriter } from '../../providers/libvirt/rpc/xdr.ts';

describe('XDR', () => {
  it.each([
    ['int -1', (w: XdrWriter) => w.int(-1), 'ffffffff'],
    ['uint 1', (w: XdrWriter) => w.uint(1), '00000001'],
    ['hyper 2^33', (w: XdrWriter) => w.hyper(2n ** 33n), '0000000200000000'],
    ['string "abc" is padded to 4', (w: XdrWriter) => w.string('abc'), '0000000361626300'],
    ['string "abcd" needs no padding', (w: XdrWriter) => w.string('abcd'), '0000000461626364'],
    ['absent optional', (w: XdrWriter) => w.optional(undefined, () => undefined), '00000000'],
    ['present optional string', (w: XdrWriter) => w.optional('x', (x, v) => void x.string(v)), '000000010000000178000000'],
    ['array of two ints', (w: XdrWriter) => w.array([7, 8], (x, v) => void x.int(v)), '000000020000000700000008'],
  ])('%s encodes byte-exact', (_n, write, hex) => {
    const w = new XdrWriter();
    write(w);
    expect(w.bytes().toString('hex')).toBe(hex);
  });

  it('refuses to read past the end', () => {
    expect(() => new XdrReader(Buffer.from('000000', 'hex')).int()).toThrow(/need 4 bytes/);
  });
});

describe('libvirt messages', () => {
  it('frames a call: length, header, body', () => {
    const body = new XdrWriter().string('web-1').bytes();
    const f = frame({ prog: PROGRAM.REMOTE, vers: 1, proc: PROC.DOMAIN_LOOKUP_BY_NAME, type: MessageType.CALL, serial: 7, status: MessageStatus.OK }, body);
    expect(f.readUInt32BE(0)).toBe(f.length);
    expect(f.subarray(4, 28).toString('hex')).toBe('200080860000000100000017000000000000000700000000');
    const r = new XdrReader(f.subarray(4));
    expect(decodeHeader(r)).toEqual({ prog: PROGRAM.REMOTE, vers: 1, proc: 23, type: 0, serial: 7, status: 0 });
    expect(r.string()).toBe('web-1');
  });

  it('round-trips a domain', () => {
    const d = { name: 'vk-1', uuid: Buffer.from('00112233445566778899aabbccddeeff', 'hex'), id: -1 };
    const w = new XdrWriter();
    writeDomain(w, d);
    expect(readDomain(new XdrReader(w.bytes()))).toEqual(d);
  });

  it.each<TypedParam>([
    { field: 'state.state', type: TypedParamType.INT, value: 1 },
    { field: 'vcpu.current', type: TypedParamType.UINT, value: 4 },
    { field: 'balloon.current', type: TypedParamType.ULLONG, value: 1048576n },
    { field: 'cpu.time', type: TypedParamType.LLONG, value: -5n },
    { field: 'load', type: TypedParamType.DOUBLE, value: 0.25 },
    { field: 'live', type: TypedParamType.BOOLEAN, value: true },
    { field: 'migrate_uri', type: TypedParamType.STRING, value: 'tcp://127.0.0.1' },
  ])('round-trips a typed parameter $field', (p) => {
    const w = new XdrWriter();
    writeTypedParam(w, p);
    expect(readTypedParam(new XdrReader(w.bytes()))).toEqual(p);
  });

  it.each([
    [42, 'not-found'],
    [50, 'not-found'],
    [38, 'transient'],
    [45, 'auth'],
    [55, 'conflict'],
    [9, 'invalid'],
  ])('classifies libvirt error %d as %s', (code, kind) => {
    const w = new XdrWriter()
      .int(code)
      .int(10)
      .optional('boom', (x, v) => void x.string(v))
      .int(2);
    const e = new LibvirtError(readRemoteError(new XdrReader(w.bytes())));
    expect([e.kind, e.message, e.libvirtCode]).toEqual([kind, 'boom', code]);
  });
});

describe('libvirt URIs', () => {
  it.each([
    ['qemu:///system', { transport: 'unix', socket: '/var/run/libvirt/libvirt-sock', remoteName: 'qemu:///system' }],
    ['qemu+unix:///system?socket=/tmp/s', { transport: 'unix', socket: '/tmp/s' }],
    ['qemu+tcp://10.0.0.5/system', { transport: 'tcp', host: '10.0.0.5', port: 16509 }],
    ['qemu+tcp://127.0.0.1:16510/system', { transport: 'tcp', host: '127.0.0.1', port: 16510 }],
    ['qemu+tls://node2.example.org/system', { transport: 'tls', host: 'node2.example.org', port: 16514 }],
    ['qemu+ssh://root@node1/system', { transport: 'ssh', host: 'node1', user: 'root', port: 22 }],
  ])('%s', (uri, expected) => {
    expect(parseLibvirtURI(uri)).toMatchObject(expected);
  });
  it('rejects what is not a libvirt URI', () => expect(() => parseLibvirtURI('http://x')).toThrow(/not a libvirt URI/));
});
