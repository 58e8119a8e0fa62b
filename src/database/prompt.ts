/**
 * The text sent to the model: the spec's preface, then the sampled versions of the evolved function
 * renamed `priority_v0 … priority_v{k-1}` in ascending score order, then the bare header of
 * `priority_v{k}` for the model to complete.
 */

import { textToFunction } from '../spec/parse.js';
import { functionToString, type Program, type PyFunction } from '../spec/program.js';
import { renameFunctionCalls } from '../spec/rename.js';

export interface Prompt {
  /** The prompt, ending with the header of the function to be completed. */
  code: string;
  /** The function to be completed is `<name>_v{versionGenerated}`: the header's own number. */
  versionGenerated: number;
  /** The island the versions came from; the completion goes back to it. */
  islandId: number;
  /** The island's generation when the prompt was made; a result for an older generation is dropped. */
  islandGeneration: number;
}

/**
 * `implementations` must be ordered by ascending score and be non-empty (the parser of
 * `src/spec/parser.js` must be initialised).
 */
export function buildPrompt(
  template: Program,
  functionToEvolve: string,
  implementations: readonly PyFunction[],
): { code: string; versionGenerated: number } {
  if (implementations.length === 0) throw new RangeError('Expected at least one implementation for a prompt');
  const versioned: PyFunction[] = implementations.map((implementation, i) => {
    const name = versionName(functionToEvolve, i);
    const renamed: PyFunction = {
      ...withoutTrailer(implementation),
      name,
      docstring: i >= 1 ? improvedDocstring(functionToEvolve, i) : implementation.docstring,
    };
    // A recursive version calls itself by its own versioned name, not by the evolved name.
    const text = renameFunctionCalls(functionToString(renamed), functionToEvolve, name);
    if (text === functionToString(renamed)) return renamed;
    try {
      return textToFunction(text);
    } catch {
      // Python ran this version, yet the parser cannot read it back: a prompt with its recursive
      // calls unrenamed beats a run that stops.
      return renamed;
    }
  });
  const versionGenerated = implementations.length;
  // The header copies the last version's signature (arguments, return type, decorators), as the original.
  const header: PyFunction = {
    ...withoutTrailer(implementations[implementations.length - 1]!),
    name: versionName(functionToEvolve, versionGenerated),
    docstring: improvedDocstring(functionToEvolve, versionGenerated),
    body: '',
  };
  versioned.push(header);
  return { code: template.withFunctions(versioned).toString(), versionGenerated };
}

export function versionName(functionToEvolve: string, version: number): string {
  return `${functionToEvolve}_v${version}`;
}

function improvedDocstring(functionToEvolve: string, version: number): string {
  return `Improved version of \`${versionName(functionToEvolve, version - 1)}\`.`;
}

/** Top-level code after the evolved function belongs to the program, not to a prompt's version of it. */
function withoutTrailer(fn: PyFunction): PyFunction {
  const { trailer: _trailer, ...rest } = fn;
  return { ...rest, decorators: [...fn.decorators] };
}
