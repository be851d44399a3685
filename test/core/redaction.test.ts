// Defence in depth: a URL with userinfo that reaches an error, a status or a log line is shown
// without it, whichever path made the message (a provider's, a library's).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ProviderTransientError, redactSecrets, safeError } from '../../controller/core/errors.ts';

describe('redactSecrets', () => {
  it.each([
    ['cannot reach Proxmox at https://admin:p@ss@pve.example:8006/api2/json: ECONNREFUSED', 'cannot reach Proxmox at https://pve.example:8006/api2/json: ECONNREFUSED'],
    ['qemu+ssh://root:pw@h1/system', 'qemu+ssh://h1/system'],
    ['GET https://u:tok@a/b and https://c/d', 'GET https://a/b and https://c/d'],
    ['login failed: password=hunter2&user=x', 'login failed: password=***&user=x'],
    ['no URL here, a@b', 'no URL here, a@b'],
  ])('%s', (input, shown) => expect(redactSecrets(input)).toBe(shown));
});

describe('every way a message is shown', () => {
  const url = 'https://admin:s3cret@pve.example:8006';
  it('a VkError is made without it, and safeError shows any error without it', () => {
    expect(new ProviderTransientError(`cannot reach Proxmox at ${url}: timeout`).message).not.toContain('s3cret');
    expect(safeError(new Error(`fetch ${url} failed`)).message).toBe('fetch https://pve.example:8006 failed');
  });
  it('the CLI logger drops it from the message and from fields', async () => {
    // makeLogger writes to fd 2; the same options on a stream show what it writes.
    let out = '';
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        out += c.toString();
        cb();
      },
    });
    const { logOptions } = await import('../../controller/cli/context.ts');
    const logger = pino(logOptions('info'), sink);
    logger.error({ err: `cannot reach ${url}` }, `failed at ${url}`);
    expect(out).toContain('pve.example:8006');
    expect(out).not.toContain('s3cret');
  });
});
