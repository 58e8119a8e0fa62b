/**
 * Chat models answer with prose and fenced code, often the whole function; the evaluator wants what
 * a completion model would have written after the prompt: the indented body of the next version.
 * These helpers turn a chat answer into that.
 */

/** The system prompt of the chat providers (OpenAI chat endpoint, Gemini). */
export const CHAT_SYSTEM_PROMPT = [
  'You improve Python functions for an evolutionary program search.',
  'The user message is a Python program that ends with the header and docstring of a new version of a function.',
  'Write the body of that new version only: the statements that follow the docstring, better than the previous versions.',
  'Reply with one ```python code block holding the body, without the def line, without the docstring, and without explanations.',
].join(' ');

/**
 * The body of the next version from a chat answer: the first fenced block (or the whole answer),
 * reduced to the body of its first top-level `def` when it repeats the header, then re-indented so
 * its outer level matches the indentation of the prompt's last line (the new version's docstring).
 */
export function extractFunctionBody(answer: string, prompt: string): string {
  let code = firstFencedBlock(answer) ?? answer;
  code = bodyOfDef(code, lastDefName(prompt)) ?? code;
  return reindent(code, promptIndent(prompt));
}

/** Content of the first ``` block; an unterminated block (answer cut by the token limit) runs to the end. */
export function firstFencedBlock(text: string): string | undefined {
  const open = /^[ \t]*(`{3,}|~{3,})[^\n`]*\n/m.exec(text);
  if (!open) return undefined;
  const fence = open[1]!;
  const start = open.index + open[0].length;
  const closing = new RegExp(`^[ \\t]*${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`, 'm');
  const rest = text.slice(start);
  const close = closing.exec(rest);
  return close ? rest.slice(0, close.index) : rest;
}

/**
 * The lines after the header of the unindented `def` named `name` (or else the first one), up to the
 * next unindented statement; undefined when the code has no top-level def (it is a body already).
 */
function bodyOfDef(code: string, name: string | undefined): string | undefined {
  const lines = code.split('\n');
  const isDef = (line: string) => /^(async[ \t]+)?def[ \t]+\w+[ \t]*\(/.test(line);
  const named = name ? lines.findIndex((line) => isDef(line) && defName(line) === name) : -1;
  const start = named >= 0 ? named : lines.findIndex(isDef);
  if (start < 0) return undefined;
  // The header ends on the line that closes the parameter list.
  let headerEnd = start;
  let depth = 0;
  for (; headerEnd < lines.length; headerEnd++) {
    depth += bracketDelta(lines[headerEnd]!);
    if (depth <= 0) break;
  }
  const header = lines[headerEnd] ?? '';
  // A one-line function (`def f(x): return x`) keeps its statement.
  const inline = /\)[^:]*:[ \t]*(?!#)(\S.*)$/.exec(header);
  const body: string[] = inline ? [`  ${inline[1]}`] : [];
  for (let i = headerEnd + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() !== '' && !/^[ \t]/.test(line)) break;
    body.push(line);
  }
  return body.join('\n');
}

function defName(line: string): string | undefined {
  return /def[ \t]+(\w+)/.exec(line)?.[1];
}

/** The function the prompt asks for: its last `def`. */
function lastDefName(prompt: string): string | undefined {
  const names = [...prompt.matchAll(/^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)/gm)].map((m) => m[1]!);
  return names[names.length - 1];
}

function bracketDelta(line: string): number {
  let delta = 0;
  for (const char of line.replace(/#.*$/, '')) {
    if (char === '(' || char === '[' || char === '{') delta++;
    else if (char === ')' || char === ']' || char === '}') delta--;
  }
  return delta;
}

/** Leading whitespace of the prompt's last non-blank line (the docstring under the new header). */
export function promptIndent(prompt: string): string {
  const lines = prompt.split('\n').filter((line) => line.trim() !== '');
  const last = lines[lines.length - 1] ?? '';
  const indent = /^[ \t]*/.exec(last)![0];
  return indent || '    ';
}

/** Moves the block's outer level to `indent`, keeping relative indentation; trims blank edges. */
export function reindent(code: string, indent: string): string {
  const lines = code.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length && lines[0]!.trim() === '') lines.shift();
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  const nonBlank = lines.filter((line) => line.trim() !== '');
  if (!nonBlank.length) return '';
  const common = nonBlank
    .map((line) => /^[ \t]*/.exec(line)![0])
    .reduce((a, b) => {
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return a.slice(0, i);
    });
  return lines.map((line) => (line.trim() === '' ? '' : indent + line.slice(common.length))).join('\n');
}
