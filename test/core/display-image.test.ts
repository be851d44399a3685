// Image locations as shown in status, events and errors: no credentials from a URL.
import { describe, expect, it } from 'vitest';
import { displayImage } from '../../controller/core/provider.ts';

describe('displayImage', () => {
  it.each([
    ['/var/lib/images/debian.qcow2', '/var/lib/images/debian.qcow2'],
    ['https://mirror.example.org/debian.qcow2', 'https://mirror.example.org/debian.qcow2'],
    ['https://ops:s3cret@mirror.example.org/debian.qcow2', 'https://***@mirror.example.org/debian.qcow2'],
    ['https://objects.example.org/debian.qcow2?X-Amz-Signature=abc&token=xyz', 'https://objects.example.org/debian.qcow2?***'],
    ['http://[::1]:8080/a.raw', 'http://[::1]:8080/a.raw'],
  ])('%s → %s', (image, shown) => {
    expect(displayImage(image)).toBe(shown);
    expect(displayImage(image)).not.toMatch(/s3cret|Signature=abc|xyz/);
  });
});
