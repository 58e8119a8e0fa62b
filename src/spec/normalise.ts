/**
 * The text by which the evaluation cache tells candidates apart. Two programs with the same
 * normalised text behave the same: only what Python's compiler ignores is dropped, found with the
 * parser (never by a text scan, so a `#` or a blank line inside a string is kept).
 *
 * Dropped: comments, blank lines, trailing whitespace, and string-literal statements that are not
 * docstrings (a bare `"""step 2: ..."""` in the middle of a body, which models write as comments;
 * Python evaluates such a constant and throws it away).
 *
 * Kept: docstrings. A docstring is a value the program can read (`f.__doc__`, `help`, `inspect`),
 * so two programs differing in one may behave differently. The evolved function's docstring comes
 * from the spec, not from the model (trimming drops the one a model repeats), so keeping them
 * costs nothing in practice. Also kept: indentation (its width is part of Python's syntax) and
 * encoding declarations (`# -*- coding: ... -*-` on line 1 or 2 changes how the file is read).
 */
import type { Node } from 'web-tree-sitter';
import { normaliseSource } from './parse.js';
import { withModule } from './parser.js';

/** Blocks whose first statement, if a string, is a docstring. */
const DOCSTRING_OWNERS = new Set(['function_definition', 'class_definition']);
/** Python's own test for an encoding declaration (PEP 263). */
const CODING = /^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+/;
const TRAILING = /[ \t\f]+$/;
const BLANK = /^[ \t\f]*$/;

/**
 * The program without comments, blank lines, trailing whitespace and non-docstring string
 * statements; `undefined` when it is not valid Python (such programs are compared by exact text).
 * Synchronous; needs `initParser()`.
 */
export function normaliseForCache(program: string): string | undefined {
  return withModule(normaliseSource(program), (parsed) => {
    if (parsed.problem) return undefined;
    const { text, root } = parsed;
    const inString = stringInteriors(root, text.length);
    const removed = [...comments(root, text, inString), ...noOpStrings(root)].sort((a, b) => a[0] - b[0]);
    // What is left, with each kept newline marked when it lies inside a string (its line's
    // trailing whitespace and the blank lines after it are string content).
    let kept = '';
    const protectedNewline: boolean[] = [];
    let at = 0;
    const keep = (end: number) => {
      for (let i = at; i < end; i++) if (text[i] === '\n') protectedNewline.push(inString[i] === 1);
      kept += text.slice(at, end);
    };
    for (const [start, end] of removed) {
      if (start < at) continue; // nested in a range already dropped
      keep(start);
      at = end;
    }
    keep(text.length);
    const out: string[] = [];
    for (const [row, line] of kept.split('\n').entries()) {
      const startsInString = row > 0 && protectedNewline[row - 1] === true;
      const endsInString = protectedNewline[row] === true;
      if (!startsInString && BLANK.test(line)) continue;
      out.push(endsInString ? line : line.replace(TRAILING, ''));
    }
    return out.join('\n');
  });
}

/** 1 at every index strictly inside a string literal (f-strings included). */
function stringInteriors(root: Node, length: number): Uint8Array {
  const marks = new Uint8Array(length);
  for (const s of root.descendantsOfType('string')) marks.fill(1, s.startIndex + 1, s.endIndex);
  return marks;
}

function comments(root: Node, text: string, inString: Uint8Array): [number, number][] {
  const ranges: [number, number][] = [];
  for (const comment of root.descendantsOfType('comment')) {
    if (inString[comment.startIndex] === 1) continue; // inside an f-string's braces: leave the string alone
    if (isEncodingDeclaration(comment, text)) continue;
    ranges.push([comment.startIndex, comment.endIndex]);
  }
  return ranges;
}

/** PEP 263: a comment line matching `coding[:=]` first, or second after a comment-only or blank line. */
function isEncodingDeclaration(comment: Node, text: string): boolean {
  const row = comment.startPosition.row;
  if (row > 1) return false;
  const [first = '', second = ''] = text.split('\n', 2);
  return row === 0 ? CODING.test(first) : /^[ \t\f]*(#.*)?$/.test(first) && CODING.test(second);
}

/**
 * Statements that are a plain string literal (no f-string field, which could run code) and not a
 * docstring. None when the program has a `from __future__` import: a string before one makes the
 * program a SyntaxError, which dropping it would hide.
 */
function noOpStrings(root: Node): [number, number][] {
  if (root.descendantsOfType('future_import_statement').length > 0) return [];
  const ranges: [number, number][] = [];
  for (const block of [root, ...root.descendantsOfType('block')]) {
    const statements = block.namedChildren.filter((c) => c.type !== 'comment');
    const owner = block.type === 'module' ? block : block.parent;
    const hasDocstring = owner?.type === 'module' || DOCSTRING_OWNERS.has(owner?.type ?? '');
    let dropped = statements.filter((s, i) => isNoOpString(s) && !(i === 0 && hasDocstring));
    // A block of nothing but such strings keeps its first, so the text stays valid Python.
    if (dropped.length === statements.length) dropped = dropped.slice(1);
    for (const s of dropped) ranges.push([s.startIndex, s.endIndex]);
  }
  return ranges;
}

function isNoOpString(statement: Node): boolean {
  if (statement.type !== 'expression_statement' || statement.namedChildCount !== 1) return false;
  const only = statement.namedChild(0)!;
  if (only.type !== 'string' && only.type !== 'concatenated_string') return false;
  return only.descendantsOfType('interpolation').length === 0;
}
