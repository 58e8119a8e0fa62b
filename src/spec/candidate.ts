/**
 * A model's output as a runnable program (port of the originals' `_sample_to_program` and
 * `_calls_ancestor`). A candidate that cannot be used is returned as data with a reason.
 */
import { UserError } from '../errors.js';
import { normaliseSource } from './parse.js';
import { firstCodeIndent, getParser, syntaxProblem, withFragment } from './parser.js';
import { functionToString, type Program, type PyFunction } from './program.js';
import { callsAncestor, getFunctionsCalled, isVersionName, renameFunctionCalls } from './rename.js';
import { trimFunctionBody } from './trim.js';

export interface Candidate {
  /** The evolved function with the candidate's body. */
  fn: PyFunction;
  /** The whole program (the template with `fn` in place), ready for the sandbox. */
  program: string;
  /** The trimmed body, calls to the prompt's version renamed back to the evolved function. */
  body: string;
}

export interface CandidateFailure {
  error: 'empty' | 'syntax-error' | 'calls-ancestor';
  reason: string;
}

/** What building a candidate from a sample gives: the program to run, or why there is none. */
export type CandidateBuild = Candidate | CandidateFailure;

/**
 * The template with the evolved function's body replaced by the body trimmed out of `llmOutput`.
 * `versionGenerated` is the `k` of the prompt's `<name>_v<k>` header: calls to it are the function
 * calling itself, so they are renamed to `functionToEvolve`; a call to any other `<name>_v<digits>`
 * disqualifies the candidate (no such function exists in the program).
 */
export function buildCandidate(
  template: Program,
  functionToEvolve: string,
  llmOutput: string,
  versionGenerated?: number,
): CandidateBuild {
  const evolved = template.getFunction(functionToEvolve);
  let body = trimFunctionBody(llmOutput, {
    indent: evolved.indent,
    functionName: functionToEvolve,
    ...(versionGenerated === undefined ? {} : { version: versionGenerated }),
  });
  if (!body) {
    return {
      error: 'empty',
      reason: 'the model output holds no usable function body (nothing in it parses as Python)',
    };
  }
  if (versionGenerated !== undefined) {
    body = renameFunctionCalls(body, `${functionToEvolve}_v${versionGenerated}`, functionToEvolve);
  }
  const fn: PyFunction = { ...evolved, decorators: [...evolved.decorators], body };
  const problem = syntaxProblem(functionToString(fn));
  if (problem) {
    return {
      error: 'syntax-error',
      reason: `the candidate function does not parse: line ${problem.row + 1}: ${problem.message}`,
    };
  }
  if (callsAncestor(body, functionToEvolve)) {
    const called = [...getFunctionsCalled(body)]
      .filter((name) => isVersionName(name, functionToEvolve))
      .sort();
    return {
      error: 'calls-ancestor',
      reason: `the candidate calls ${called.map((n) => `\`${n}\``).join(', ')}, an earlier version that does not exist in the program`,
    };
  }
  return { fn, program: template.withFunction(functionToEvolve, fn).toString(), body };
}

export interface CandidateFileOptions {
  /** Named in error messages. */
  fileName?: string;
  /** The template function's indentation unit (default four spaces). */
  indent?: string;
  /** The evolved function's name, preferred when the file holds several functions. */
  functionName?: string;
}

/**
 * The body in a file written for `funsearch evaluate --candidate`: either a bare body or a whole
 * `def` (any name). Unlike model output, a file with a syntax error is a `UserError` (naming the
 * line), not silently cut short; a file without code gives the empty string.
 */
export function bodyFromCandidateFile(text: string, options: CandidateFileOptions = {}): string {
  getParser();
  const source = normaliseSource(text);
  if (!source.trim()) return '';
  const problem = withFragment(source, (parsed) => parsed.originalProblem());
  if (problem) {
    const where = `${options.fileName ?? 'the candidate file'}:${problem.row + 1}`;
    const shape = firstCodeIndent(source) ? 'an indented function body' : 'Python code';
    throw new UserError(
      `${where}: invalid Python: ${problem.message}; the file must hold ${shape} or a whole def`,
    );
  }
  return trimFunctionBody(source, {
    ...(options.indent === undefined ? {} : { indent: options.indent }),
    ...(options.functionName === undefined ? {} : { functionName: options.functionName }),
  });
}
