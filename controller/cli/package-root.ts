// Files the CLI reads at run time (examples/quickstart) sit at the package root: two folders up
// from this file in the sources (controller/cli/), three once compiled (dist/controller/cli/).
import { resolve } from 'node:path';

const compiled = import.meta.filename.endsWith('.js');

/** The package's root folder, from the TypeScript sources and from the compiled dist/ alike. */
export const PACKAGE_ROOT = resolve(import.meta.dirname, ...(compiled ? ['..', '..', '..'] : ['..', '..']));
