/**
 * The model of a Python program that FunSearch manipulates: a preface (imports, docstring,
 * constants before the first function) followed by top-level functions. Top-level code that comes
 * after a function (constants, classes, `if __name__ == '__main__':` blocks) travels with that
 * function as its `trailer`, so nothing in a spec is dropped (the originals lose it).
 */
export interface PyFunction {
  name: string;
  /** The text between the parentheses of the `def`, as written. */
  args: string;
  /** The annotation after `->`, as written, or undefined. */
  returnType?: string;
  /** The docstring's content without its quotes, or undefined. */
  docstring?: string;
  /**
   * The statements of the function after the docstring, each line with its original indentation,
   * without a trailing newline. Empty for a bare header.
   */
  body: string;
  /** The indentation unit of the body (two spaces, four spaces, a tab…); used for the docstring. */
  indent: string;
  /** Decorators other than funsearch's, each as written without the `@`, kept so the program runs as written. */
  decorators: string[];
  /** `async def` rather than `def`. */
  isAsync?: boolean;
  /** Top-level code between this function and the next (or the end of the file), as written. */
  trailer?: string;
}

export function functionToString(fn: PyFunction): string {
  let text = '';
  for (const decorator of fn.decorators) text += `@${decorator}\n`;
  const returnType = fn.returnType ? ` -> ${fn.returnType}` : '';
  text += `${fn.isAsync ? 'async ' : ''}def ${fn.name}(${fn.args})${returnType}:\n`;
  if (fn.docstring !== undefined) {
    text += `${fn.indent}${quoteDocstring(fn.docstring)}${fn.body ? '\n' : ''}`;
  }
  text += `${fn.body}\n\n`;
  if (fn.trailer) text += `${fn.trailer.replace(/\n*$/, '')}\n\n`;
  return text;
}

function quoteDocstring(content: string): string {
  // A docstring holding `"""` (or ending in a quote) keeps its content only under the other quotes.
  if (content.includes('"""') || content.endsWith('"')) return `'''${content}'''`;
  return `"""${content}"""`;
}

export class Program {
  constructor(
    readonly preface: string,
    readonly functions: readonly PyFunction[],
  ) {}

  toString(): string {
    const preface = this.preface.replace(/\n*$/, '');
    // Two blank lines before the first function, as PEP 8 and the originals' prompts.
    let text = preface ? `${preface}${this.functions.length ? '\n\n\n' : '\n\n'}` : '';
    text += this.functions.map(functionToString).join('\n');
    return text;
  }

  getFunction(name: string): PyFunction {
    const fn = this.functions.find((f) => f.name === name);
    if (!fn) throw new Error(`function \`${name}\` not found in the program`);
    return fn;
  }

  /** A copy with one function replaced (matched by name) by `fn`. */
  withFunction(name: string, fn: PyFunction): Program {
    const index = this.functions.findIndex((f) => f.name === name);
    if (index < 0) throw new Error(`function \`${name}\` not found in the program`);
    const functions = [...this.functions];
    functions[index] = fn;
    return new Program(this.preface, functions);
  }

  /** A copy with the given functions instead of this program's. */
  withFunctions(functions: readonly PyFunction[]): Program {
    return new Program(this.preface, functions);
  }
}
