import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

describe('the package main entry', () => {
  it('exports the parsing, spec, database and config building blocks by name', async () => {
    const api = (await import(`${ROOT}dist/index.js`)) as Record<string, unknown>;
    for (const name of [
      'textToProgram',
      'textToFunction',
      'renameFunctionCalls',
      'getFunctionsCalled',
      'yieldDecorated',
      'trimFunctionBody',
      'parseSpec',
      'ProgramsDatabase',
      'configSchema',
      'initParser',
    ]) {
      expect(api[name], name).toBeDefined();
    }
  });

  it('parses a spec once the parser is initialised', async () => {
    const api = (await import(`${ROOT}dist/index.js`)) as typeof import('../../src/index.js');
    await api.initParser();
    const spec = api.parseSpec(
      'import x\n\n@funsearch.run\ndef evaluate(n):\n  return priority(n)\n\n\n@funsearch.evolve()\ndef priority(n):\n  return 0.0\n',
      'spec.py',
    );
    expect(spec.functionToEvolve).toBe('priority');
    expect(spec.functionToRun).toBe('evaluate');
    expect(spec.program.toString()).not.toContain('@funsearch');
  });
});
