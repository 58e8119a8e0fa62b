/**
 * Calls in Python code, found on the tree-sitter tree: a call is a `call` node whose callee is a bare
 * identifier. So `obj.priority(x)`, `def priority(...)`, `priority` in strings or comments, keyword
 * arguments named `priority=` and bare references are never calls (the originals' tokenizer agrees,
 * except that it also counts the name of a `def` as a call).
 */
import type { Node } from 'web-tree-sitter';
import { getParser, type Parsed, withFragment } from './parser.js';

/** Renames every call `from(...)` to `to(...)`; all other text is kept byte for byte. */
export function renameFunctionCalls(code: string, from: string, to: string): string {
  getParser(); // fails the same way on every input when `initParser()` was not awaited
  if (from === to || !code.includes(from)) return code;
  return withFragment(code, (parsed) => {
    const starts = bareCallees(parsed)
      .filter((callee) => callee.text === from)
      .map((callee) => parsed.toOriginal(callee.startPosition))
      .sort((a, b) => a - b);
    let result = '';
    let copied = 0;
    for (const start of starts) {
      result += code.slice(copied, start) + to;
      copied = start + from.length;
    }
    return result + code.slice(copied);
  });
}

/** The names of the functions called by bare identifier in `code` (a program, a function or a body). */
export function getFunctionsCalled(code: string): Set<string> {
  return withFragment(code, (parsed) => new Set(bareCallees(parsed).map((callee) => callee.text)));
}

/**
 * Whether `code` calls an earlier version `<functionToEvolve>_v<digits>`. In a candidate the version
 * being generated was renamed back to `functionToEvolve`, so such a call could only reach a function
 * that does not exist in the program (the original disqualifies it).
 */
export function callsAncestor(code: string, functionToEvolve: string): boolean {
  getParser();
  if (!code.includes(`${functionToEvolve}_v`)) return false;
  for (const name of getFunctionsCalled(code)) if (isVersionName(name, functionToEvolve)) return true;
  return false;
}

/** `<functionToEvolve>_v<digits>`. */
export function isVersionName(name: string, functionToEvolve: string): boolean {
  const prefix = `${functionToEvolve}_v`;
  if (!name.startsWith(prefix) || name.length === prefix.length) return false;
  for (const c of name.slice(prefix.length)) if (c < '0' || c > '9') return false;
  return true;
}

function bareCallees(parsed: Parsed): Node[] {
  const callees: Node[] = [];
  for (const call of parsed.root.descendantsOfType('call')) {
    const callee = call.childForFieldName('function');
    // A wrapped fragment's `def _():` header is not part of the caller's code.
    if (callee?.type === 'identifier' && callee.startPosition.row >= parsed.rowOffset) callees.push(callee);
  }
  return callees;
}
