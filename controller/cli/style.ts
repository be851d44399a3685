// Colour only on a TTY, and never when NO_COLOR is set.
import { styleText } from 'node:util';

type Fmt = Parameters<typeof styleText>[0];

export interface Style {
  color: boolean;
  paint(fmt: Fmt, text: string): string;
}

export function styleFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style {
  const color = !!stream.isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
  return { color, paint: (fmt, text) => (color ? styleText(fmt, text, { validateStream: false }) : text) };
}
