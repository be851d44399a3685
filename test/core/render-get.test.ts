// The JSONPath subset the printer columns use, evaluated as kubectl does.
import { describe, expect, it } from 'vitest';
import { evalPath } from '../../controller/cli/render-get.ts';

const obj = {
  status: {
    phase: 'Running',
    conditions: [
      { type: 'Synced', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'RequirementsNotMet' },
    ],
    availability: [{ node: 'host1', storage: 'default' }, { node: 'host2' }],
  },
};

describe('evalPath', () => {
  it.each([
    ['.status.phase', 'Running'],
    [".status.conditions[?(@.type=='Ready')].status", 'False'],
    [".status.conditions[?(@.type=='Ready')].reason", 'RequirementsNotMet'],
    [".status.conditions[?(@.type=='Missing')].status", undefined],
    ['.status.availability[*].node', 'host1,host2'],
    ['.status.availability[*].storage', 'default'],
    ['.status.nothing[*].node', undefined],
    ['.spec.absent', undefined],
  ])('%s → %s', (path, want) => expect(evalPath(obj, path)).toBe(want));
});
