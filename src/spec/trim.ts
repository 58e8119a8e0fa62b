/**
 * From a model's raw output to the body of one function (port of the originals'
 * `_trim_function_body`): the largest prefix that parses is kept, up to the end of the first
 * function. Beyond the original it reads Markdown fences, a repeated `def` header (with decorators
 * and docstring), output whose indentation was lost, and brings along the imports, constants and
 * helper functions the body uses, as local definitions.
 */
import type { Node } from 'web-tree-sitter';
import { normaliseSource } from './parse.js';
import {
  firstCodeIndent,
  getParser,
  lastCodeEnd,
  leadingWhitespace,
  type Parsed,
  stringInteriorRows,
  withModule,
  withWrapped,
} from './parser.js';
import { isVersionName } from './rename.js';

export interface TrimOptions {
  /** The indentation unit of the result (the template function's `indent`). Default: four spaces. */
  indent?: string;
  /** The evolved function's name: a repeated `def <name>` or `def <name>_v<k>` is the one taken. */
  functionName?: string;
  /** The version the prompt asked for: `def <name>_v<version>` is preferred above all. */
  version?: number;
}

const DEFAULT_INDENT = '    ';

/**
 * The body of the function the model wrote, its lines indented with `options.indent` per level and
 * no trailing newline; the empty string when nothing usable is left. Synchronous (needs `initParser()`).
 */
export function trimFunctionBody(llmOutput: string, options: TrimOptions = {}): string {
  const indent = options.indent ?? DEFAULT_INDENT;
  if (!indent || [...indent].some((c) => c !== ' ' && c !== '\t')) {
    throw new RangeError(`Expected \`indent\` to be spaces or tabs, got ${JSON.stringify(indent)}`);
  }
  getParser(); // fails the same way on every input when `initParser()` was not awaited
  const text = normaliseSource(llmOutput);
  if (!text.trim()) return '';
  for (const segment of markdownSegments(text)) {
    if (!segment.trim()) continue;
    const code = afterProse(segment);
    const lines = extract(segment, options) ?? (code === undefined ? undefined : extract(code, options));
    if (lines) return reindent(lines, indent);
  }
  return '';
}

/**
 * A chat answer without a fence may open with prose: the code from the first top-level `def` on,
 * with the imports and constants right above it; undefined when no `def` follows other text.
 */
function afterProse(segment: string): string | undefined {
  const lines = segment.split('\n');
  const defRow = withModule(segment, (parsed) => firstTopLevelDefinitionRow(parsed.root));
  if (defRow === undefined || defRow === 0) return undefined;
  let start = defRow;
  while (start > 0 && isPreamble(lines.slice(start - 1, defRow).join('\n'))) start--;
  return lines.slice(start).join('\n');
}

/** The row of the first unindented function, also where tree-sitter recovered from prose around it. */
function firstTopLevelDefinitionRow(root: Node): number | undefined {
  for (const child of root.namedChildren) {
    for (const node of child.isError ? child.namedChildren : [child]) {
      if (functionOf(node) && node.startPosition.column === 0) return node.startPosition.row;
    }
  }
  return undefined;
}

/** Valid Python holding only imports, `NAME = …` constants, comments and blank lines. */
function isPreamble(text: string): boolean {
  return withModule(
    text,
    (parsed) =>
      !parsed.problem &&
      parsed.root.namedChildren.every(
        (c) =>
          c.type === 'comment' ||
          IMPORTS.has(c.type) ||
          c.type === 'future_import_statement' ||
          assignedName(c) !== undefined,
      ),
  );
}

/**
 * The text before the first Markdown fence, then the content of each fenced block: a model continues
 * code (the text before a fence) or answers like a chat model (prose, then a fenced block).
 */
function markdownSegments(text: string): string[] {
  const parts: string[][] = [[]];
  for (const line of text.split('\n')) {
    const content = line.trimStart();
    if (content.startsWith('```') || content.startsWith('~~~')) parts.push([]);
    else parts[parts.length - 1]!.push(line);
  }
  // Odd parts are inside fences; even ones after the first are prose between blocks.
  return parts.filter((_, i) => i === 0 || i % 2 === 1).map((part) => part.join('\n'));
}

/** The body's lines at their own indentation (never empty), or undefined when nothing is usable. */
function extract(segment: string, options: TrimOptions): string[] | undefined {
  const indent = firstCodeIndent(segment);
  if (startsWithFunction(segment, indent, options)) {
    return extractFromFunction(dedent(segment, indent), options);
  }
  let best: { lines: string[]; kept: number } | undefined;
  for (const variant of continuationVariants(segment)) {
    const found = extractFromContinuation(variant, options);
    if (found && (!best || found.kept > best.kept)) best = found;
  }
  return best?.lines;
}

const IMPORTS = new Set(['import_statement', 'import_from_statement']);

/** Whether the segment is a whole `def` (after imports and comments) rather than a continued body. */
function startsWithFunction(segment: string, indent: string, options: TrimOptions): boolean {
  return withModule(dedent(segment, indent), (parsed) => {
    for (const child of parsed.root.namedChildren) {
      if (child.type === 'comment' || IMPORTS.has(child.type) || child.type === 'future_import_statement')
        continue;
      if (indent === '' && assignedName(child)) continue; // a constant above the def
      const node = child.isError ? child.namedChildren.find((c) => c.type !== 'comment') : child;
      const fn = node && functionOf(node);
      if (!fn) return false;
      // An indented body may start with a local helper `def`; only the evolved function's own name says otherwise.
      if (indent === '') return true;
      const name = fn.childForFieldName('name')?.text ?? '';
      return options.functionName !== undefined && isEvolvedName(name, options.functionName);
    }
    return false;
  });
}

function isEvolvedName(name: string, functionName: string): boolean {
  return name === functionName || isVersionName(name, functionName);
}

function functionOf(node: Node): Node | undefined {
  if (node.type === 'function_definition') return node;
  if (node.type === 'decorated_definition') {
    const definition = node.childForFieldName('definition');
    if (definition?.type === 'function_definition') return definition;
  }
  return undefined;
}

function dedent(text: string, indent: string): string {
  if (!indent) return text;
  return text
    .split('\n')
    .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
    .join('\n');
}

/**
 * The output as written, and when its first line has no indentation: that line re-indented like the
 * following ones (a client stripped the leading whitespace), and every line indented one level (the
 * model wrote the body flush left).
 */
function continuationVariants(segment: string): string[] {
  const lines = segment.split('\n');
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first < 0 || leadingWhitespace(lines[first]!) !== '') return [segment];
  const variants = [segment];
  const laterIndents = lines
    .slice(first + 1)
    .filter((line) => line.trim() && !line.trimStart().startsWith('#'))
    .map(leadingWhitespace)
    .filter((ws) => ws !== '');
  if (laterIndents.length > 0) {
    const shortest = laterIndents.reduce((a, b) => (b.length < a.length ? b : a));
    const variant = [...lines];
    variant[first] = shortest + lines[first]!;
    variants.push(variant.join('\n'));
  }
  const inStrings = withModule(segment, (parsed) => stringInteriorRows(parsed.root));
  variants.push(
    lines.map((line, row) => (line.trim() && !inStrings.has(row) ? DEFAULT_INDENT + line : line)).join('\n'),
  );
  return variants;
}

/** The output continues a function body: it is parsed under a `def` header, as the original does. */
function extractFromContinuation(
  text: string,
  options: TrimOptions,
): { lines: string[]; kept: number } | undefined {
  return largestValidPrefix(text.split('\n'), true, (parsed) => {
    const wrapper = parsed.root.namedChildren.find((c) => c.type === 'function_definition');
    if (!wrapper) return undefined;
    const others = topLevelNodes(parsed.root).filter((n) => n !== wrapper);
    return assemble(parsed, wrapper, others, options);
  });
}

/** The output is a whole function (maybe with imports and helpers around it). */
function extractFromFunction(text: string, options: TrimOptions): string[] | undefined {
  return largestValidPrefix(text.split('\n'), false, (parsed) => {
    const nodes = topLevelNodes(parsed.root);
    const chosen = chooseFunction(nodes, options);
    if (!chosen) return undefined;
    return assemble(parsed, chosen, nodes, options)?.lines;
  });
}

function topLevelNodes(root: Node): Node[] {
  return root.namedChildren.filter((c) => c.type !== 'comment');
}

function chooseFunction(nodes: Node[], { functionName, version }: TrimOptions): Node | undefined {
  const defs = nodes.filter((n) => functionOf(n) !== undefined);
  const nameOf = (n: Node) => functionOf(n)!.childForFieldName('name')?.text ?? '';
  if (functionName !== undefined) {
    const wanted = version === undefined ? undefined : `${functionName}_v${version}`;
    const exact = defs.find((n) => nameOf(n) === wanted) ?? defs.find((n) => nameOf(n) === functionName);
    if (exact) return exact;
    const versions = defs.filter((n) => isVersionName(nameOf(n), functionName));
    if (versions.length > 0) return versions[versions.length - 1];
  }
  return defs[0];
}

/**
 * Calls `use` on the parse of the longest prefix of `lines` (whole lines) that is valid Python, as
 * the original drops lines from the end until `ast.parse` accepts the code. tree-sitter's first
 * problem row bounds the search, so this takes a few parses, not one per line.
 */
function largestValidPrefix<T>(
  lines: string[],
  wrapped: boolean,
  use: (parsed: Parsed) => T | undefined,
): T | undefined {
  let count = lines.length;
  while (count > 0) {
    const prefix = lines.slice(0, count).join('\n');
    const outcome = (wrapped ? withWrapped : withModule)(prefix, (parsed) =>
      parsed.problem ? { problemRow: parsed.problem.cutRow - parsed.rowOffset } : { value: use(parsed) },
    );
    if ('value' in outcome) return outcome.value;
    count = Math.min(count - 1, Math.max(0, outcome.problemRow + 1));
  }
  return undefined;
}

/**
 * The chosen function's statements (without a repeated docstring), preceded by the top-level imports,
 * constants and helper functions it uses (transitively), re-indented under the body. Undefined when
 * the body holds nothing but names and strings (prose that happened to parse).
 */
function assemble(
  parsed: Parsed,
  chosenNode: Node,
  others: Node[],
  options: TrimOptions,
): { lines: string[]; kept: number } | undefined {
  const fn = functionOf(chosenNode)!;
  const lines = parsed.sourceLines;
  const block = fn.childForFieldName('body');
  if (!block) return undefined;
  let statements = block.namedChildren.filter((c) => c.type !== 'comment');
  const colonRow = fn.children.find((c) => c.type === ':')?.endPosition.row ?? fn.startPosition.row;
  let startRow = colonRow + 1;
  const first = statements[0];
  if (!first) return undefined;
  if (isDocstring(first, statements[1])) {
    statements = statements.slice(1);
    startRow = first.endPosition.row + 1;
  }
  if (!statements.some(isMeaningful)) return undefined;
  const endRow = lastCodeEnd(fn).row;
  let body: string[];
  if (statements[0]!.startPosition.row <= colonRow) {
    // `def f(x): return x` — the statements start on the header's line.
    const start = statements[0]!.startPosition;
    body = [
      DEFAULT_INDENT + lines[start.row]!.slice(parsed.sourceColumn(start)),
      ...lines.slice(start.row + 1, endRow + 1),
    ];
  } else {
    body = lines.slice(startRow, endRow + 1);
  }
  while (body.length > 0 && !body[0]!.trim()) body.shift();
  const kept = body.length;
  const base = leadingWhitespace(body.find((line) => line.trim() && !line.trimStart().startsWith('#')) ?? '');
  const locals = localDefinitions(fn, others, options);
  if (locals.length === 0) return { lines: body, kept };
  const inStrings = stringInteriorRows(parsed.root);
  const prefix: string[] = [];
  for (const node of locals) {
    for (let row = node.startPosition.row; row <= lastCodeEnd(node).row; row++) {
      const line = lines[row]!;
      prefix.push(line.trim() && !inStrings.has(row) ? base + line : line);
    }
  }
  return { lines: [...prefix, ...body], kept };
}

function isDocstring(statement: Node, next: Node | undefined): boolean {
  if (statement.type !== 'expression_statement' || statement.namedChildCount !== 1) return false;
  const value = statement.namedChild(0)!;
  if (value.type !== 'string' && value.type !== 'concatenated_string') return false;
  return !next || next.startPosition.row > statement.endPosition.row;
}

/** A statement that is more than a bare name, string or `...` (what a line of prose parses as). */
function isMeaningful(statement: Node): boolean {
  if (statement.type !== 'expression_statement' || statement.namedChildCount !== 1) return true;
  const value = statement.namedChild(0)!.type;
  return !['identifier', 'string', 'concatenated_string', 'ellipsis', 'attribute'].includes(value);
}

/**
 * Top-level imports, `NAME = …` constants and helper functions that the chosen function uses,
 * directly or through a helper, in source order. Versions of the evolved function are never taken.
 */
function localDefinitions(fn: Node, others: Node[], { functionName }: TrimOptions): Node[] {
  const parameters = new Set(
    (fn.childForFieldName('parameters')?.descendantsOfType('identifier') ?? []).map((id) => id.text),
  );
  const candidates = new Map<Node, string[]>();
  for (const node of others) {
    const helper = functionOf(node);
    let names: string[];
    if (helper) {
      if (helper.equals(fn)) continue;
      const name = helper.childForFieldName('name')?.text ?? '';
      if (functionName !== undefined && isEvolvedName(name, functionName)) continue;
      names = [name];
    } else if (node.startIndex > fn.startIndex) {
      continue; // imports and constants count only above the function; below them is test code
    } else if (IMPORTS.has(node.type)) {
      names = importedNames(node);
    } else {
      const assigned = assignedName(node);
      if (!assigned) continue;
      names = [assigned];
    }
    if (names.length > 0 && !names.some((n) => parameters.has(n))) candidates.set(node, names);
  }
  const chosen = new Set<Node>();
  const pending = [fn];
  while (pending.length > 0) {
    const used = new Set(
      pending
        .pop()!
        .descendantsOfType('identifier')
        .map((id) => id.text),
    );
    for (const [node, names] of candidates) {
      if (!chosen.has(node) && names.some((n) => used.has(n))) {
        chosen.add(node);
        pending.push(node);
      }
    }
  }
  return others.filter((node) => chosen.has(node));
}

function importedNames(node: Node): string[] {
  const names: string[] = [];
  for (const child of node.childrenForFieldName('name')) {
    if (child.type === 'aliased_import') {
      const alias = child.childForFieldName('alias');
      if (alias) names.push(alias.text);
    } else if (child.type === 'dotted_name') {
      const parts = child.namedChildren;
      // `import a.b` binds `a`; `from m import b` binds `b`.
      const part = node.type === 'import_statement' ? parts[0] : parts[parts.length - 1];
      if (part) names.push(part.text);
    }
  }
  return names;
}

function assignedName(node: Node): string | undefined {
  if (node.type !== 'expression_statement' || node.namedChildCount !== 1) return undefined;
  const assignment = node.namedChild(0)!;
  if (assignment.type !== 'assignment') return undefined;
  const left = assignment.childForFieldName('left');
  return left?.type === 'identifier' ? left.text : undefined;
}

/**
 * Re-indents a body so each block level is one `indent` (the template's unit): statement lines are
 * mapped level by level, continuation lines move with the base, lines inside strings stay as they
 * are. If the level mapping does not parse (irregular indentation), only the base is replaced.
 */
function reindent(body: string[], indent: string): string {
  const text = body.join('\n');
  const plan = withWrapped(text, (parsed) => {
    const strings = stringInteriorRows(parsed.root);
    const statementRows = new Set<number>();
    const wrapper = parsed.root.namedChildren.find((c) => c.type === 'function_definition');
    if (wrapper) collectStatementRows(wrapper.childForFieldName('body'), statementRows);
    // The rows as written (the repaired copy is only for parsing), minus the wrapper's header.
    return { lines: parsed.sourceLines.slice(1), strings, statementRows };
  });
  const { lines, strings, statementRows } = plan;
  const firstStatement = [...statementRows].sort((a, b) => a - b)[0];
  const base = leadingWhitespace(lines[(firstStatement ?? 1) - 1] ?? '');
  let unit = '';
  for (const row of [...statementRows].sort((a, b) => a - b)) {
    const ws = leadingWhitespace(lines[row - 1] ?? '');
    if (ws.length > base.length && ws.startsWith(base)) {
      unit = ws.slice(base.length);
      break;
    }
  }
  const shiftOnly = (line: string) => (line.startsWith(base) ? indent + line.slice(base.length) : line);
  const byLevel = lines.map((line, i) => {
    const row = i + 1;
    if (!line.trim() || strings.has(row)) return line;
    if (!statementRows.has(row)) return shiftOnly(line);
    const ws = leadingWhitespace(line);
    if (!ws.startsWith(base)) return line;
    const rest = ws.slice(base.length);
    const level = levelOf(rest, unit);
    return (level === undefined ? indent + rest : indent.repeat(level + 1)) + line.slice(ws.length);
  });
  const result = byLevel.join('\n').trimEnd();
  if (withWrapped(result, (parsed) => !parsed.problem)) return result;
  return lines
    .map((line, i) => (!line.trim() || strings.has(i + 1) ? line : shiftOnly(line)))
    .join('\n')
    .trimEnd();
}

function levelOf(rest: string, unit: string): number | undefined {
  if (rest === '') return 0;
  if (!unit || rest.length % unit.length !== 0) return undefined;
  const level = rest.length / unit.length;
  return unit.repeat(level) === rest ? level : undefined;
}

/** Rows where a statement or clause begins (their indentation carries meaning). */
function collectStatementRows(block: Node | null, rows: Set<number>): void {
  if (!block) return;
  for (const child of block.namedChildren) {
    rows.add(child.startPosition.row);
    if (child.type === 'decorated_definition') {
      for (const part of child.namedChildren) rows.add(part.startPosition.row);
    }
    visitCompound(
      child.type === 'decorated_definition' ? child.childForFieldName('definition') : child,
      rows,
    );
  }
}

function visitCompound(node: Node | null, rows: Set<number>): void {
  if (!node) return;
  for (const child of node.namedChildren) {
    if (child.type === 'block') collectStatementRows(child, rows);
    else if (child.type.endsWith('_clause') && child.type !== 'for_in_clause' && child.type !== 'if_clause') {
      rows.add(child.startPosition.row);
      visitCompound(child, rows);
    }
  }
}
