/**
 * The tree-sitter Python parser, shared by every spec function. `initParser()` loads the grammar
 * once (WebAssembly, asynchronous); everything else here is synchronous so the programs database can
 * call it in hot paths. On top of tree-sitter's own ERROR/MISSING nodes, `findSyntaxProblem` adds
 * the checks tree-sitter is lenient about but Python is not (indentation, empty blocks, Python 2
 * `print`), so "parses" here means close to what `ast.parse` accepts.
 */
import { createRequire } from 'node:module';
import { Language, type Node, Parser, type Point, type Tree } from 'web-tree-sitter';

let parser: Parser | undefined;
let loading: Promise<void> | undefined;

/** Loads the Python grammar. Idempotent and memoised; a failed load may be retried. */
export function initParser(): Promise<void> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function load(): Promise<void> {
  await Parser.init();
  const wasm = createRequire(import.meta.url).resolve('tree-sitter-python/tree-sitter-python.wasm');
  const language = await Language.load(wasm);
  const instance = new Parser();
  instance.setLanguage(language);
  parser = instance;
}

export function isParserReady(): boolean {
  return parser !== undefined;
}

/** The shared parser; throws when `initParser()` has not completed. Trees it returns must be deleted. */
export function getParser(): Parser {
  if (!parser) {
    throw new Error(
      'The Python parser is not initialised: `await initParser()` before calling the spec functions',
    );
  }
  return parser;
}

/** A place where the text is not valid Python. Rows and columns are 0-based. */
export interface SyntaxProblem {
  /** Where to point the user: the start of the first construct that does not parse. */
  row: number;
  column: number;
  message: string;
  /**
   * The last row worth trying to keep: lines from here on cannot all be part of a valid prefix.
   * Later than `row` when tree-sitter's recovery wrapped good code into its error.
   */
  cutRow: number;
}

/** A parse whose tree is alive only inside the callback that receives it. */
export interface Parsed {
  /** The text tree-sitter saw: the input, maybe wrapped in a `def` or with continuation lines re-indented. */
  readonly text: string;
  readonly lines: readonly string[];
  /**
   * The same rows as `lines` before continuation lines were re-indented: build output from these, so
   * it reads as written (the repair exists only so tree-sitter can parse).
   */
  readonly sourceLines: readonly string[];
  /** The column in `sourceLines` of a position in the parsed text. */
  sourceColumn(position: Point): number;
  readonly root: Node;
  /** The first problem (in the parsed text's rows), or undefined when the text is valid. */
  readonly problem: SyntaxProblem | undefined;
  /** Rows added before the caller's text (1 when wrapped in `def _():`). */
  readonly rowOffset: number;
  /** The index in the caller's original text of a position in the parsed text. */
  toOriginal(position: Point): number;
  /** A problem in the caller's rows. */
  originalProblem(): SyntaxProblem | undefined;
}

const WRAPPER = 'def _():\n';

/**
 * Parses `text` as a module. When tree-sitter trips over a bracket continuation line indented less
 * than its block (valid Python that tree-sitter-python rejects), retries with such lines re-indented.
 */
export function withModule<T>(text: string, use: (parsed: Parsed) => T): T {
  return withBest([{ text, rowOffset: 0 }], use);
}

/**
 * Parses a function, a whole program or a body fragment: an indented fragment is parsed wrapped in
 * a `def` header. The first clean reading wins; if none is clean, the first reading is used as is.
 */
export function withFragment<T>(code: string, use: (parsed: Parsed) => T): T {
  const asIs = { text: code, rowOffset: 0 };
  const wrapped = { text: WRAPPER + code, rowOffset: 1 };
  return withBest(firstCodeIndent(code) ? [wrapped, asIs] : [asIs, wrapped], use);
}

/** Parses `code` as the body of a function: wrapped under a `def _():` header. */
export function withWrapped<T>(code: string, use: (parsed: Parsed) => T): T {
  return withBest([{ text: WRAPPER + code, rowOffset: 1 }], use);
}

/** Parses `text` and reports its first problem, or undefined when it is valid Python. */
export function syntaxProblem(text: string): SyntaxProblem | undefined {
  return withModule(text, (parsed) => parsed.problem);
}

interface Reading {
  text: string;
  rowOffset: number;
}

function withBest<T>(readings: Reading[], use: (parsed: Parsed) => T): T {
  let fallback: { tree: Tree; parsed: Parsed } | undefined;
  try {
    for (const reading of readings) {
      const attempt = readWithRepair(reading);
      if (!attempt.parsed.problem) {
        try {
          return use(attempt.parsed);
        } finally {
          attempt.tree.delete();
        }
      }
      if (fallback) attempt.tree.delete();
      else fallback = attempt;
    }
    // Nothing is clean: the first reading, with its problem (tree-sitter's recovery is still useful).
    return use(fallback!.parsed);
  } finally {
    fallback?.tree.delete();
  }
}

function readWithRepair(reading: Reading): { tree: Tree; parsed: Parsed } {
  const tree = parseText(reading.text);
  const parsed = makeParsed(reading, reading.text, tree.rootNode, undefined);
  if (!parsed.problem) return { tree, parsed };
  const repaired = repairContinuationLines(reading.text, parsed.lines);
  if (!repaired) return { tree, parsed };
  const repairedTree = parseText(repaired.text);
  const fixed = makeParsed(
    { text: repaired.text, rowOffset: reading.rowOffset },
    reading.text,
    repairedTree.rootNode,
    repaired.shift,
  );
  // Still broken: keep the reading whose problem comes later (the repair removed a false one).
  if (!fixed.problem || fixed.problem.cutRow > parsed.problem.cutRow) {
    tree.delete();
    return { tree: repairedTree, parsed: fixed };
  }
  repairedTree.delete();
  return { tree, parsed };
}

function parseText(text: string): Tree {
  const tree = getParser().parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

/** `unrepaired` is the reading's text before continuation lines were re-indented: positions map to it. */
function makeParsed(
  reading: Reading,
  unrepaired: string,
  root: Node,
  shift: Map<number, number> | undefined,
): Parsed {
  const lines = reading.text.split('\n');
  const sourceLines = shift ? unrepaired.split('\n') : lines;
  const sourceColumn = (position: Point) => position.column - (shift?.get(position.row) ?? 0);
  const problem = findSyntaxProblem(root, lines);
  const originalStarts = lineStarts(unrepaired.slice(reading.rowOffset === 0 ? 0 : WRAPPER.length));
  return {
    text: reading.text,
    lines,
    sourceLines,
    sourceColumn,
    root,
    problem,
    rowOffset: reading.rowOffset,
    toOriginal(position: Point): number {
      const row = position.row - reading.rowOffset;
      const start = originalStarts[Math.max(0, Math.min(row, originalStarts.length - 1))] ?? 0;
      return start + sourceColumn(position);
    },
    originalProblem(): SyntaxProblem | undefined {
      if (!problem) return undefined;
      const row = Math.max(0, problem.row - reading.rowOffset);
      const cutRow = Math.max(0, problem.cutRow - reading.rowOffset);
      return {
        ...problem,
        row,
        cutRow,
        column: Math.max(0, sourceColumn(problem)),
      };
    },
  };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The leading whitespace of the first line that holds code (not blank, not a comment). */
export function firstCodeIndent(code: string): string {
  for (const line of code.split('\n')) {
    const content = line.trimStart();
    if (content && !content.startsWith('#')) return leadingWhitespace(line);
  }
  return '';
}

export function leadingWhitespace(line: string): string {
  let i = 0;
  while (i < line.length && (line[i] === ' ' || line[i] === '\t' || line[i] === '\f')) i++;
  return line.slice(0, i);
}

const CLAUSES = new Set([
  'elif_clause',
  'else_clause',
  'except_clause',
  'except_group_clause',
  'finally_clause',
]);
const PYTHON2 = new Set(['print_statement', 'exec_statement']);

/**
 * The first problem in the tree. tree-sitter's own errors come first (the structural checks below
 * would mostly report their consequences); without them, the rules tree-sitter does not enforce.
 */
export function findSyntaxProblem(root: Node, lines: readonly string[]): SyntaxProblem | undefined {
  if (root.hasError) return treeSitterProblem(root);
  let best: SyntaxProblem | undefined;
  const report = (position: Point, message: string) => {
    if (!best || position.row < best.row || (position.row === best.row && position.column < best.column)) {
      best = { row: position.row, column: position.column, message, cutRow: position.row };
    }
  };
  const visit = (node: Node) => {
    if (PYTHON2.has(node.type))
      report(node.startPosition, `a Python 2 \`${node.child(0)?.text ?? 'print'}\` statement`);
    if (node.type === 'module') checkModule(node, lines, report);
    else if (node.type === 'block') checkBlock(node, lines, report);
    else if (CLAUSES.has(node.type)) checkClause(node, lines, report);
    for (const child of node.children) {
      if (child.childCount > 0 || child.type === 'block') visit(child);
    }
  };
  visit(root);
  return best;
}

/**
 * The outermost ERROR/MISSING node that comes first points at the statement that does not parse; the
 * innermost ones bound how much of the text before them may still be kept.
 */
function treeSitterProblem(root: Node): SyntaxProblem {
  let first: Node | undefined;
  let cutRow = Number.POSITIVE_INFINITY;
  const visit = (node: Node, insideError: boolean) => {
    if (node.isMissing || node.isError) {
      if (!insideError && (!first || node.startIndex < first.startIndex)) first = node;
      const innermost = node.isMissing || !node.children.some((c) => c.hasError || c.isMissing);
      if (innermost) cutRow = Math.min(cutRow, node.startPosition.row);
    }
    for (const child of node.children) {
      if (child.hasError || child.isMissing) visit(child, insideError || node.isError);
    }
  };
  visit(root, false);
  const node = first ?? root;
  const message = node.isMissing ? `missing \`${node.type}\`` : `cannot parse \`${excerpt(node.text)}\``;
  return {
    row: node.startPosition.row,
    column: node.startPosition.column,
    message,
    cutRow: Math.max(cutRow, node.startPosition.row),
  };
}

type Report = (position: Point, message: string) => void;

function statementsOf(node: Node): Node[] {
  return node.namedChildren.filter((c) => c.type !== 'comment' && !c.isError);
}

function checkModule(node: Node, lines: readonly string[], report: Report): void {
  for (const statement of statementsOf(node)) {
    if (statement.startPosition.column !== 0 && isFirstOnRow(statement, lines)) {
      report(statement.startPosition, 'unexpected indent');
    }
  }
}

function checkBlock(block: Node, lines: readonly string[], report: Report): void {
  const owner = block.parent;
  const statements = statementsOf(block);
  const first = statements[0];
  if (!first) {
    report(owner?.startPosition ?? block.startPosition, 'expected an indented block');
    return;
  }
  const headerRow = owner?.startPosition.row ?? 0;
  const colonRow = headerEndRow(owner) ?? headerRow;
  if (first.startPosition.row === colonRow) {
    // `if x: y` — simple statements on the header's own line; a following indented line is an error.
    for (const s of statements) {
      if (s.startPosition.row !== colonRow) report(s.startPosition, 'unexpected indent');
    }
    return;
  }
  const parentIndent = leadingWhitespace(lines[headerRow] ?? '');
  const indent = leadingWhitespace(lines[first.startPosition.row] ?? '');
  if (
    !isFirstOnRow(first, lines) ||
    indent.length <= parentIndent.length ||
    !indent.startsWith(parentIndent)
  ) {
    report(first.startPosition, 'expected an indented block');
    return;
  }
  let previousEnd = first.endPosition.row;
  for (const s of statements.slice(1)) {
    const row = s.startPosition.row;
    if (row === previousEnd && !isFirstOnRow(s, lines)) {
      previousEnd = s.endPosition.row; // `a = 1; b = 2`
      continue;
    }
    const ws = leadingWhitespace(lines[row] ?? '');
    if (!isFirstOnRow(s, lines) || ws !== indent) {
      const deeper = ws.length > indent.length && ws.startsWith(indent);
      report(
        s.startPosition,
        deeper ? 'unexpected indent' : 'unindent does not match any outer indentation level',
      );
    }
    previousEnd = s.endPosition.row;
  }
}

/** The row of the `:` ending a compound statement's header. */
function headerEndRow(owner: Node | null): number | undefined {
  if (!owner) return undefined;
  for (const child of owner.children) {
    if (child.type === ':') return child.endPosition.row;
    if (child.type === 'block') break;
  }
  return undefined;
}

function checkClause(clause: Node, lines: readonly string[], report: Report): void {
  const owner = clause.parent;
  if (!owner) return;
  const expected = leadingWhitespace(lines[owner.startPosition.row] ?? '');
  if (!isFirstOnRow(clause, lines) || leadingWhitespace(lines[clause.startPosition.row] ?? '') !== expected) {
    report(
      clause.startPosition,
      `\`${clause.child(0)?.text ?? clause.type}\` is not aligned with its statement`,
    );
  }
}

function isFirstOnRow(node: Node, lines: readonly string[]): boolean {
  const line = lines[node.startPosition.row] ?? '';
  return leadingWhitespace(line).length === node.startPosition.column;
}

function excerpt(text: string): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line.length > 40 ? `${line.slice(0, 40)}…` : line;
}

/**
 * Rows whose start lies inside open brackets (not inside a string), each with the row of the
 * statement that opened the outermost bracket. A character scan, because it has to work on exactly
 * the text tree-sitter could not read; strings, comments and escapes are skipped.
 */
export function bracketContinuationRows(text: string): Map<number, number> {
  const rows = new Map<number, number>();
  const openers: number[] = [];
  let row = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length;
      while (i < text.length) {
        const s = text[i]!;
        if (s === '\\') {
          if (text[i + 1] === '\n') row++;
          i += 2;
          continue;
        }
        if (text.startsWith(quote, i)) {
          i += quote.length;
          break;
        }
        if (s === '\n') {
          row++;
          if (quote.length === 1) break; // unterminated one-line string
        }
        i++;
      }
      continue;
    }
    if (c === '(' || c === '[' || c === '{') openers.push(row);
    else if ((c === ')' || c === ']' || c === '}') && openers.length > 0) openers.pop();
    else if (c === '\n') {
      row++;
      if (openers.length > 0) rows.set(row, openers[0]!);
    }
    i++;
  }
  return rows;
}

/**
 * tree-sitter-python emits a dedent for a bracket continuation line indented less than its block
 * (after an operator, e.g. `return (1 +\n2)` inside a function). Python ignores indentation inside
 * brackets, so raising such lines to their statement's indentation changes nothing but lets
 * tree-sitter read them. Returns the new text and, per changed row, how many columns were added.
 */
function repairContinuationLines(
  text: string,
  lines: readonly string[],
): { text: string; shift: Map<number, number> } | undefined {
  const shift = new Map<number, number>();
  const out = [...lines];
  for (const [row, opener] of bracketContinuationRows(text)) {
    const line = lines[row];
    if (line === undefined || !line.trim()) continue;
    const target = leadingWhitespace(lines[opener] ?? '');
    const current = leadingWhitespace(line);
    if (width(current) < width(target)) {
      out[row] = target + line.slice(current.length);
      shift.set(row, target.length - current.length);
    }
  }
  if (shift.size === 0) return undefined;
  return { text: out.join('\n'), shift };
}

function width(whitespace: string): number {
  let w = 0;
  for (const c of whitespace) w = c === '\t' ? w + 8 - (w % 8) : w + 1;
  return w;
}

/** Rows that begin inside a multi-line string: their leading whitespace is string content. */
export function stringInteriorRows(root: Node): Set<number> {
  const rows = new Set<number>();
  for (const s of root.descendantsOfType('string')) {
    for (let r = s.startPosition.row + 1; r <= s.endPosition.row; r++) rows.add(r);
  }
  return rows;
}

/** The end of the last token of `node` that is not a comment (tree-sitter folds trailing comments into blocks). */
export function lastCodeEnd(node: Node): Point {
  let current = node;
  for (;;) {
    const children = current.children;
    let next: Node | undefined;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]!;
      if (child.type !== 'comment' && child.endIndex > child.startIndex) {
        next = child;
        break;
      }
    }
    if (!next) return current.endPosition;
    current = next;
  }
}
