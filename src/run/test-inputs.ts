/**
 * The test-inputs file: one Python literal per line, passed verbatim as the argument of the
 * `@funsearch.run` function. Blank lines and lines starting with `#` are skipped; order is kept
 * (it defines the signature of a program and which input is `last`).
 */
import { UserError } from '../errors.js';
import { isPythonLiteral } from '../spec/literal.js';
import { readUserFile } from '../user-file.js';

export interface TestInput {
  /** The literal exactly as written (trimmed). */
  text: string;
  /** 1-based line in the inputs file, for messages. */
  line: number;
}

export function parseTestInputs(content: string, fileName: string): TestInput[] {
  const inputs: TestInput[] = [];
  const seen = new Map<string, number>();
  content.split(/\r?\n/).forEach((raw, index) => {
    const text = raw.trim();
    const line = index + 1;
    if (text === '' || text.startsWith('#')) return;
    if (!isPythonLiteral(text)) {
      throw new UserError(
        `${fileName}:${line}: \`${previewInput(text)}\` is not a Python literal; write one literal per line (e.g. 3, 'abc', (4, 2))`,
      );
    }
    const earlier = seen.get(text);
    if (earlier !== undefined) {
      throw new UserError(
        `${fileName}:${line}: \`${previewInput(text)}\` repeats line ${earlier}; list each test input once`,
      );
    }
    seen.set(text, line);
    inputs.push({ text, line });
  });
  if (inputs.length === 0) {
    throw new UserError(`${fileName}: no test inputs; write one Python literal per line (e.g. 3)`);
  }
  return inputs;
}

export async function readTestInputs(fileName: string): Promise<TestInput[]> {
  const content = await readUserFile({
    path: fileName,
    what: 'the test-inputs file',
    fix: 'check -t/--test-inputs-file',
  });
  return parseTestInputs(content, fileName);
}

/** An input short enough for a message or a report line: at most 60 characters. */
export function previewInput(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
