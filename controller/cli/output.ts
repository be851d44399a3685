// Structured output for `-o json|yaml`.
import { stringify } from 'yaml';

export type OutputFormat = 'json' | 'yaml' | 'wide' | 'text';

export function printStructured(value: unknown, format: 'json' | 'yaml'): void {
  process.stdout.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 }));
}
