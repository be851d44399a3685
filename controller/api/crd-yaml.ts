// The CRDs as YAML text, one file per kind: what `virtkeeper crds` prints and `crds/` holds.
import { stringify } from 'yaml';
import { allCrds } from './crd.ts';

export function crdFiles(): { file: string; text: string }[] {
  return allCrds().map((crd) => ({
    file: `${crd.metadata.name.split('.')[0]}.yaml`,
    text: `# Generated from controller/api by \`npm run gen:crds\`; do not edit.\n${stringify(crd, { lineWidth: 0 })}`,
  }));
}

export function crdsText(): string {
  return allCrds()
    .map((crd) => stringify(crd, { lineWidth: 0 }))
    .join('---\n');
}
