// The controller instance in Kubernetes mode (issue 12, item 15): by default the cluster's own
// identity, the kube-system namespace UID, read from the real kube-apiserver; --instance wins.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { kubernetesInstance } from '../../controller/cli/instance.ts';
import { kubeRest, loadKubeConfig } from '../../controller/sources/kube-rest.ts';

const admin = process.env.VK_KUBECONFIG ?? '';

describe.skipIf(!admin)('controller instance from the cluster (real kube-apiserver)', () => {
  it('is derived from the kube-system namespace UID, and --instance overrides it', async () => {
    const rest = await kubeRest(loadKubeConfig(admin));
    const uid = (await promisify(execFile)('kubectl', ['--kubeconfig', admin, 'get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}'])).stdout.trim();
    expect(uid).not.toBe('');
    const derived = await kubernetesInstance(undefined, rest);
    expect(derived).toEqual({ instance: `k-${createHash('sha256').update(uid).digest('hex').slice(0, 10)}`, from: 'the kube-system namespace UID' });
    expect((await kubernetesInstance('prod-eu', rest)).instance).toBe('prod-eu');
    await expect(kubernetesInstance('no/slash', rest)).rejects.toThrow(/--instance/);
  });
});
