import { describe, expect, it } from 'vitest';
import { isFinalError } from '../../controller/core/errors.ts';
import { kubeError } from '../../controller/sources/kube-errors.ts';

describe('Kubernetes API errors have codes of their own', () => {
  it.each([
    [404, 'VK_KUBE_NOT_FOUND', 'not-found', false],
    [409, 'VK_KUBE_CONFLICT', 'conflict', false],
    [403, 'VK_KUBE_FORBIDDEN', 'auth', true],
    [401, 'VK_KUBE_FORBIDDEN', 'auth', true],
    [429, 'VK_KUBE_UNAVAILABLE', 'transient', false],
    [503, 'VK_KUBE_UNAVAILABLE', 'transient', false],
    [0, 'VK_KUBE_UNAVAILABLE', 'transient', false],
    [422, 'VK_KUBE', 'invalid', true],
  ] as const)('HTTP %i → %s (%s)', (status, code, kind, final) => {
    const e = kubeError(status, `PATCH /apis/x: ${status}`);
    expect([e.code, e.kind, e.status, isFinalError(e)]).toEqual([code, kind, status, final]);
  });
});
