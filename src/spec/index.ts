/**
 * Python spec handling. Call `await initParser()` once; every other function is synchronous and
 * throws if the parser is not ready.
 */
export {
  bodyFromCandidateFile,
  buildCandidate,
  type Candidate,
  type CandidateBuild,
  type CandidateFailure,
  type CandidateFileOptions,
} from './candidate.js';
export { normaliseForCache } from './normalise.js';
export {
  normaliseSource,
  PythonSyntaxError,
  parseSpec,
  type Spec,
  textToFunction,
  textToProgram,
  yieldDecorated,
} from './parse.js';
export { initParser, isParserReady, type SyntaxProblem, syntaxProblem } from './parser.js';
export { functionToString, Program, type PyFunction } from './program.js';
export { callsAncestor, getFunctionsCalled, isVersionName, renameFunctionCalls } from './rename.js';
export { type TrimOptions, trimFunctionBody } from './trim.js';
