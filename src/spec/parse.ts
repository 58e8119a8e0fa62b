/**
 * From Python text to the `Program` model (port of the originals' `text_to_program`,
 * `text_to_function`, `yield_decorated` and funsearch.py's marker lookup), with tree-sitter.
 * Unlike the originals nothing is dropped: top-level code after a function is its `trailer`, other
 * decorators are kept, and comments stay where they were (or move next to their function).
 */
import type { Node } from 'web-tree-sitter';
import { UserError } from '../errors.js';
import { lastCodeEnd, leadingWhitespace, type Parsed, withModule } from './parser.js';
import { Program, type PyFunction } from './program.js';

/** Python text that is not valid Python; `line` and `column` are 1-based. */
export class PythonSyntaxError extends Error {
  override readonly name = 'PythonSyntaxError';
  constructor(
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
  }
}

/** Strips a byte-order mark and turns CRLF/CR line ends into LF. */
export function normaliseSource(text: string): string {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return body.includes('\r') ? body.replaceAll('\r\n', '\n').replaceAll('\r', '\n') : body;
}

/** Parses a whole program; throws `PythonSyntaxError` when it is not valid Python. */
export function textToProgram(text: string): Program {
  return withModule(normaliseSource(text), (parsed) => {
    throwIfInvalid(parsed);
    return programFromParsed(parsed, () => true);
  });
}

/** Parses exactly one top-level function (with its decorators and trailer). */
export function textToFunction(text: string): PyFunction {
  const program = textToProgram(text);
  if (program.functions.length !== 1) {
    throw new Error(`Expected exactly one function, found ${program.functions.length}`);
  }
  if (program.preface) {
    throw new Error(
      `Expected the text to start with the function, found \`${firstLine(program.preface)}\` before it`,
    );
  }
  return program.functions[0]!;
}

/** Names of the top-level functions decorated `@module.name` or `@module.name(...)`, in order. */
export function yieldDecorated(code: string, module: string, name: string): string[] {
  return withModule(normaliseSource(code), (parsed) =>
    topLevelFunctions(parsed.root)
      .filter((d) => decoratorsOf(d.node).some((decorator) => isMarker(decorator, module, name)))
      .map((d) => d.fn.childForFieldName('name')!.text),
  );
}

export interface Spec {
  /** The spec without funsearch's decorators (other decorators kept). */
  program: Program;
  functionToEvolve: string;
  functionToRun: string;
  /**
   * The modules its top-level code imports (`import a.b`: `a.b`; `from a.b import c`: `a.b` and
   * `a.b.c`, in case `c` is a submodule), in order, each once; relative imports and `funsearch`
   * left out. The sandboxes import them once before forking candidates (their `preload` option),
   * so a candidate does not pay for them.
   */
  imports: string[];
}

/** Parses a spec file; every mistake is a `UserError` naming `fileName` and the line. */
export function parseSpec(text: string, fileName: string): Spec {
  return withModule(normaliseSource(text), (parsed) => {
    const problem = parsed.originalProblem();
    if (problem) {
      throw new UserError(`${fileName}:${problem.row + 1}: invalid Python: ${problem.message}`);
    }
    const functionToRun = findMarked(parsed.root, 'run', fileName);
    const functionToEvolve = findMarked(parsed.root, 'evolve', fileName);
    if (functionToRun.name === functionToEvolve.name) {
      throw new UserError(
        `${fileName}:${functionToRun.line}: \`${functionToRun.name}\` is decorated with both @funsearch.evolve and @funsearch.run; the function to evolve and the scoring function must differ`,
      );
    }
    for (const marked of [functionToEvolve, functionToRun]) {
      const rows = topLevelFunctions(parsed.root)
        .filter((d) => d.fn.childForFieldName('name')!.text === marked.name)
        .map((d) => d.node.startPosition.row + 1);
      if (rows.length > 1) {
        throw new UserError(
          `${fileName}:${rows[0]}: function \`${marked.name}\` is defined ${rows.length} times (also line ${rows.slice(1).join(', ')}); keep one definition`,
        );
      }
    }
    checkRunParameters(functionToRun, fileName);
    const program = programFromParsed(parsed, (decorator) => !isMarker(decorator, 'funsearch'));
    return {
      program,
      functionToEvolve: functionToEvolve.name,
      functionToRun: functionToRun.name,
      imports: topLevelImports(parsed.root),
    };
  });
}

/** Module-level statements only (inside `if`/`try` too): an import in a function runs per call. */
function topLevelImports(root: Node): string[] {
  const modules = new Set<string>();
  const visit = (node: Node): void => {
    for (const child of node.namedChildren) {
      if (child.type === 'import_statement') {
        for (const name of importedNames(child)) modules.add(name);
      } else if (child.type === 'import_from_statement') {
        const module = child.childForFieldName('module_name');
        if (module?.type !== 'dotted_name') continue;
        const base = dottedText(module);
        modules.add(base);
        // `from scipy import optimize` loads the submodule scipy.optimize, which `scipy` alone does
        // not; a name that is no submodule (`from math import sqrt`) the harness skips.
        for (const name of importedNames(child)) modules.add(`${base}.${name}`);
      } else if (child.type === 'if_statement' && isTypeChecking(child.childForFieldName('condition'))) {
        // Imports for type checkers only: never run, so not worth loading (their else branch is).
        for (const other of child.namedChildren) if (other.type === 'else_clause') visit(other);
      } else if (!['function_definition', 'class_definition', 'decorated_definition'].includes(child.type)) {
        visit(child);
      }
    }
  };
  visit(root);
  // The markers' module: each candidate gets a no-op stand-in, so the real package (the Python
  // fork's, if installed) would only cost its import.
  return [...modules].filter((name) => name !== 'funsearch' && !name.startsWith('funsearch.'));
}

/** The dotted names an import statement names (`a.b as c` gives `a.b`). */
function importedNames(statement: Node): string[] {
  return statement.childrenForFieldName('name').flatMap((name) => {
    const dotted = name.type === 'aliased_import' ? name.childForFieldName('name') : name;
    return dotted?.type === 'dotted_name' ? [dottedText(dotted)] : [];
  });
}

/** `a . b` written with spaces is still `a.b`. */
function dottedText(node: Node): string {
  return node.text.replace(/\s+/g, '');
}

function isTypeChecking(condition: Node | null): boolean {
  return condition?.text === 'TYPE_CHECKING' || condition?.text === 'typing.TYPE_CHECKING';
}

function throwIfInvalid(parsed: Parsed): void {
  const problem = parsed.originalProblem();
  if (problem) throw new PythonSyntaxError(problem.row + 1, problem.column + 1, problem.message);
}

interface Marked {
  name: string;
  line: number;
  /** The marked definition. */
  node: Node | null;
}

function findMarked(root: Node, marker: 'run' | 'evolve', fileName: string): Marked {
  const found: (Marked & { topLevel: boolean; isClass: boolean })[] = [];
  for (const node of root.descendantsOfType('decorated_definition')) {
    for (const decorator of decoratorsOf(node)) {
      if (!isMarker(decorator, 'funsearch', marker)) continue;
      const definition = node.childForFieldName('definition');
      found.push({
        name: definition?.childForFieldName('name')?.text ?? '',
        line: decorator.startPosition.row + 1,
        node: definition,
        topLevel: node.parent?.type === 'module',
        isClass: definition?.type === 'class_definition',
      });
    }
  }
  const misplaced = found.find((f) => !f.topLevel || f.isClass);
  if (misplaced) {
    const where = misplaced.isClass ? 'a class' : 'a method/nested function';
    throw new UserError(
      `${fileName}:${misplaced.line}: @funsearch.${marker} is on ${where}; it must decorate a top-level function`,
    );
  }
  if (found.length === 0) {
    const commented = commentedMarker(root, marker);
    if (commented) {
      throw new UserError(
        `${fileName}:${commented.startPosition.row + 1}: @funsearch.${marker} is commented out (\`${commented.text.trim()}\`); remove the \`#\` so it marks the function below`,
      );
    }
    const what = marker === 'evolve' ? 'the function to evolve' : 'the function that scores a program';
    throw new UserError(
      `${fileName}: no function decorated with @funsearch.${marker}; mark ${what} with @funsearch.${marker}`,
    );
  }
  if (found.length > 1) {
    const others = found.slice(1).map((f) => f.line);
    throw new UserError(
      `${fileName}:${found[0]!.line}: expected exactly 1 function decorated with @funsearch.${marker}, found ${found.length} (also line${others.length > 1 ? 's' : ''} ${others.join(', ')})`,
    );
  }
  return found[0]!;
}

/**
 * A comment holding just the marker, as DeepMind's notebooks write it (`# @funsearch.run`, meant to
 * be uncommented when the spec is used).
 */
function commentedMarker(root: Node, marker: 'run' | 'evolve'): Node | undefined {
  const pattern = new RegExp(`^#+\\s*@funsearch\\.${marker}(\\(\\))?\\s*$`);
  return root.descendantsOfType('comment').find((comment) => pattern.test(comment.text));
}

/**
 * The sandbox calls the run function with each test input as its one argument, so a function with
 * more than one required parameter (DeepMind's `evaluate(n, w)` skeletons) or none at all would fail
 * on every input; it is refused here, where the line can be named.
 */
function checkRunParameters(run: Marked, fileName: string): void {
  const parameters = run.node?.childForFieldName('parameters');
  if (!parameters) return;
  const required: string[] = [];
  let acceptsOne = false;
  let keywordOnly = false;
  for (const parameter of parameters.namedChildren) {
    const typed = parameter.type === 'typed_parameter';
    const inner = typed ? parameter.namedChild(0) : parameter;
    const kind = inner?.type ?? '';
    if (kind === 'identifier') {
      required.push(inner!.text);
      if (!keywordOnly) acceptsOne = true;
    } else if (kind === 'list_splat_pattern' || kind === 'keyword_separator') {
      if (kind === 'list_splat_pattern') acceptsOne = true;
      keywordOnly = true; // what follows can only be passed by name
    } else if (kind === 'default_parameter' || kind === 'typed_default_parameter') {
      if (!keywordOnly) acceptsOne = true;
    }
  }
  const where = `${fileName}:${run.node!.startPosition.row + 1}: @funsearch.run function \`${run.name}\``;
  if (required.length > 1) {
    const list = required.map((p) => `\`${p}\``).join(', ');
    const tuple = required.map((_, i) => i + 1).join(', ');
    throw new UserError(
      `${where} has ${required.length} required parameters (${list}), but each test input is passed to it as one argument; take one and unpack it, e.g. rename it \`${run.name}_args\` and mark \`def ${run.name}(t): return ${run.name}_args(*t)\` with @funsearch.run, with inputs like \`(${tuple})\``,
    );
  }
  if (!acceptsOne) {
    throw new UserError(
      `${where} takes no positional parameter, but each test input is passed to it as one argument; give it one parameter`,
    );
  }
}

/** `@module.name`, `@module.name(...)`; with `name` omitted, any attribute of `module`. */
function isMarker(decorator: Node, module: string, name?: string): boolean {
  let expression = decorator.namedChildren.find((c) => c.type !== 'comment') ?? null;
  if (expression?.type === 'call') expression = expression.childForFieldName('function');
  if (expression?.type !== 'attribute') return false;
  const object = expression.childForFieldName('object');
  const attribute = expression.childForFieldName('attribute');
  return (
    object?.type === 'identifier' &&
    object.text === module &&
    (name === undefined || attribute?.text === name)
  );
}

function decoratorsOf(node: Node): Node[] {
  return node.type === 'decorated_definition' ? node.namedChildren.filter((c) => c.type === 'decorator') : [];
}

interface TopLevel {
  /** The decorated definition, or the function itself. */
  node: Node;
  fn: Node;
}

function topLevelFunctions(root: Node): TopLevel[] {
  const result: TopLevel[] = [];
  for (const child of root.namedChildren) {
    if (child.type === 'function_definition') result.push({ node: child, fn: child });
    else if (child.type === 'decorated_definition') {
      const definition = child.childForFieldName('definition');
      if (definition?.type === 'function_definition') result.push({ node: child, fn: definition });
    }
  }
  return result;
}

/** Built from the source lines as written (the parse may have re-indented continuation lines). */
function programFromParsed(parsed: Parsed, keepDecorator: (decorator: Node) => boolean): Program {
  const { root, sourceLines: lines } = parsed;
  const text = lines.join('\n');
  const defs = topLevelFunctions(root);
  if (defs.length === 0) return new Program(text.trimEnd(), []);
  const unit = indentUnit(defs, lines);
  const functions = defs.map((def, i) => {
    const limitRow = defs[i + 1]?.node.startPosition.row ?? lines.length;
    return functionFrom(def, parsed, unit, limitRow, keepDecorator);
  });
  return new Program(text.slice(0, parsed.toOriginal(defs[0]!.node.startPosition)).trimEnd(), functions);
}

/** The indentation of the first function with an indented body; four spaces if there is none. */
function indentUnit(defs: TopLevel[], lines: readonly string[]): string {
  for (const { fn } of defs) {
    const first = statementsOf(fn.childForFieldName('body')!)[0];
    if (first && first.startPosition.row > colonOf(fn).row)
      return leadingWhitespace(lines[first.startPosition.row]!);
  }
  return '    ';
}

function functionFrom(
  { node, fn }: TopLevel,
  parsed: Parsed,
  unit: string,
  limitRow: number,
  keepDecorator: (decorator: Node) => boolean,
): PyFunction {
  const lines = parsed.sourceLines;
  const block = fn.childForFieldName('body')!;
  const statements = statementsOf(block);
  const colonEnd = colonOf(fn);
  const colon = { row: colonEnd.row, column: parsed.sourceColumn(colonEnd) };
  const codeEnd = lastCodeEnd(fn);
  const first = statements[0]!;
  let docstring: string | undefined;
  let indent: string;
  let body: string;
  let bodyEndRow: number;
  if (first.startPosition.row === colon.row) {
    // `def f(): return 1` — the body moves to its own line.
    indent = unit;
    bodyEndRow = codeEnd.row;
    const rest = [
      lines[colon.row]!.slice(parsed.sourceColumn(first.startPosition)),
      ...lines.slice(colon.row + 1, bodyEndRow + 1),
    ];
    body = indent + rest.join('\n').trimEnd();
  } else {
    indent = leadingWhitespace(lines[first.startPosition.row]!);
    // A comment after the header's colon would be lost; it becomes the body's first line.
    const headerComment = lines[colon.row]!.slice(colon.column).trim();
    let bodyStartRow = colon.row + 1;
    const content = docstringOf(first, parsed, colon.row);
    if (content !== undefined) {
      docstring = content;
      bodyStartRow = first.endPosition.row + 1;
    }
    bodyEndRow = extendOverIndentedComments(codeEnd.row, lines, limitRow);
    const bodyLines = lines.slice(bodyStartRow, bodyEndRow + 1);
    while (bodyLines.length > 0 && !bodyLines[0]!.trim()) bodyLines.shift();
    if (headerComment) bodyLines.unshift(indent + headerComment);
    body = bodyLines.join('\n').trimEnd();
  }
  const trailerLines = lines.slice(bodyEndRow + 1, limitRow);
  while (trailerLines.length > 0 && !trailerLines[0]!.trim()) trailerLines.shift();
  const trailer = trailerLines.join('\n').trimEnd();
  const returnType = fn.childForFieldName('return_type')?.text;
  const result: PyFunction = {
    name: fn.childForFieldName('name')!.text,
    args: fn.childForFieldName('parameters')!.text.slice(1, -1),
    body,
    indent,
    decorators: decoratorsOf(node)
      .filter(keepDecorator)
      .map((d) => (d.namedChildren.find((c) => c.type !== 'comment') ?? d).text),
  };
  if (returnType !== undefined) result.returnType = returnType;
  if (docstring !== undefined) result.docstring = docstring;
  if (fn.child(0)?.type === 'async') result.isAsync = true;
  if (trailer) result.trailer = trailer;
  return result;
}

function statementsOf(block: Node): Node[] {
  return block.namedChildren.filter((c) => c.type !== 'comment');
}

function colonOf(fn: Node): { row: number; column: number } {
  const colon = fn.children.find((c) => c.type === ':')!;
  return colon.endPosition;
}

/** Indented comments right after the last statement still belong to the function. */
function extendOverIndentedComments(lastCodeRow: number, lines: readonly string[], limitRow: number): number {
  let end = lastCodeRow;
  for (let row = lastCodeRow + 1; row < limitRow; row++) {
    const line = lines[row]!;
    const content = line.trimStart();
    if (!content) continue;
    if (content.startsWith('#') && leadingWhitespace(line)) end = row;
    else break;
  }
  return end;
}

/**
 * The docstring's content when `first` is a docstring the model can hold: a plain, `u` or (without
 * backslashes) `r` string alone on its lines, right under the header, whose content survives being
 * re-quoted by `functionToString`. Anything else stays in the body, as written.
 */
function docstringOf(first: Node, parsed: Parsed, colonRow: number): string | undefined {
  const lines = parsed.sourceLines;
  if (first.type !== 'expression_statement' || first.namedChildCount !== 1) return undefined;
  const string = first.namedChild(0)!;
  if (string.type !== 'string') return undefined;
  for (let row = colonRow + 1; row < first.startPosition.row; row++) if (lines[row]!.trim()) return undefined;
  if (lines[first.endPosition.row]!.slice(parsed.sourceColumn(first.endPosition)).trim()) return undefined;
  const start = string.child(0)!;
  const end = string.child(string.childCount - 1)!;
  if (start.type !== 'string_start' || end.type !== 'string_end') return undefined;
  let prefix = '';
  for (const c of start.text.toLowerCase()) if (c !== '"' && c !== "'") prefix += c;
  const content = string.text.slice(start.endIndex - string.startIndex, end.startIndex - string.startIndex);
  if (prefix !== '' && prefix !== 'u' && !(prefix === 'r' && !content.includes('\\'))) return undefined;
  const quote = content.includes('"""') || content.endsWith('"') ? "'''" : '"""';
  if (content.includes(quote) || content.endsWith(quote[0]!)) return undefined;
  return content;
}

function firstLine(text: string): string {
  const line = text.trim().split('\n', 1)[0]!;
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}
