// Resolves a Hypervisor's credentialsRef in Kubernetes mode: a Secret in the controller's
// namespace that carries the virtkeeper.io/credentials=true label. The controller may read
// every Secret there (RBAC cannot select by label), so the label is the operator's consent:
// without it a Hypervisor could send a service-account token or another tool's Secret to the
// endpoint it names. A service-account-token Secret is never used, labelled or not.
import type { V1Secret } from '@kubernetes/client-node';
import type { Hypervisor } from '../api/types.ts';
import type { Credentials } from '../core/provider.ts';
import { CredentialsError, type CredentialsResolver } from './credentials.ts';

export const CREDENTIALS_LABEL = 'virtkeeper.io/credentials';
const SERVICE_ACCOUNT_TOKEN = 'kubernetes.io/service-account-token';

export interface SecretCredentialsOptions {
  /** The controller's namespace: the only one whose Secrets it reads. */
  namespace: string;
  secrets: { get(name: string): V1Secret | undefined };
}

export function secretCredentials(o: SecretCredentialsOptions): CredentialsResolver {
  return async (hv: Hypervisor): Promise<Credentials> => {
    const ref = hv.spec.credentialsRef;
    const name = hv.metadata.name;
    if (!ref) return { none: true };
    if (!ref.name) throw new CredentialsError(`Hypervisor ${name}: credentialsRef env and file are for directory mode; in Kubernetes name a Secret (credentialsRef: {name: …}) in ${o.namespace}`);
    const where = `${o.namespace}/${ref.name}`;
    if ((ref.namespace ?? o.namespace) !== o.namespace) throw new CredentialsError(`Hypervisor ${name}: the Secret must be in ${o.namespace}, where the controller may read Secrets`);
    const secret = o.secrets.get(ref.name);
    if (!secret) throw new CredentialsError(`Hypervisor ${name}: Secret ${where} not found`);
    if (secret.type === SERVICE_ACCOUNT_TOKEN)
      throw new CredentialsError(
        `Hypervisor ${name}: Secret ${where} is a service-account token, which virtkeeper never sends to a hypervisor; create a Secret of its own for the hypervisor's credentials`,
      );
    if (secret.metadata?.labels?.[CREDENTIALS_LABEL] !== 'true') {
      throw new CredentialsError(
        `Hypervisor ${name}: Secret ${where} is not labelled for virtkeeper; if it holds this hypervisor's credentials, run: kubectl -n ${o.namespace} label secret ${ref.name} ${CREDENTIALS_LABEL}=true`,
      );
    }
    const d = (k: string) => (secret.data?.[k] ? Buffer.from(secret.data[k] ?? '', 'base64').toString('utf8') : secret.stringData?.[k]);
    const token = d('token');
    if (token) return { token };
    const username = d('username');
    const password = d('password');
    if (username && password) return { username, password };
    throw new CredentialsError(`Hypervisor ${name}: Secret ${where} needs keys username and password, or token`);
  };
}
