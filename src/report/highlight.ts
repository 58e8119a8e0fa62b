/**
 * Python syntax highlighting done when the page is built (no highlighter shipped in the page): a
 * small tokenizer that knows comments, strings (triple-quoted across lines too), numbers,
 * keywords, builtins, decorators and the names after `def`/`class`. Output is escaped HTML.
 */

const KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from ' +
    'global if import in is lambda nonlocal not or pass raise return try while with yield match case'
  ).split(' '),
);

const BUILTINS = new Set(
  (
    'abs all any bin bool bytes callable chr dict divmod enumerate filter float format frozenset getattr ' +
    'hasattr hash hex int isinstance issubclass iter len list map max min next object oct ord pow print ' +
    'range repr reversed round set slice sorted str sum super tuple type zip self cls'
  ).split(' '),
);

const TOKEN = new RegExp(
  [
    '(?<comment>#[^\\n]*)',
    // Triple-quoted first; an unterminated one runs to the end of the text, as Python reads it.
    '(?<string>(?:[rRbBuUfF]{1,2})?(?:\'\'\'[\\s\\S]*?(?:\'\'\'|$(?![\\s\\S]))|"""[\\s\\S]*?(?:"""|$(?![\\s\\S]))|\'(?:[^\'\\\\\\n]|\\\\.)*\'?|"(?:[^"\\\\\\n]|\\\\.)*"?))',
    '(?<number>\\b0[xXoObB][0-9a-fA-F_]+\\b|(?:\\b\\d[\\d_]*(?:\\.[\\d_]*)?|\\.\\d[\\d_]*)(?:[eE][+-]?\\d+)?[jJ]?)',
    '(?<decorator>@[A-Za-z_][\\w.]*)',
    '(?<name>[A-Za-z_]\\w*)',
  ].join('|'),
  'gy',
);

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function span(kind: string, text: string): string {
  return `<span class="tok-${kind}">${escapeHtml(text)}</span>`;
}

export function highlightPython(code: string): string {
  let html = '';
  let plain = '';
  let previousName = '';
  let position = 0;
  const flush = () => {
    html += escapeHtml(plain);
    plain = '';
  };
  while (position < code.length) {
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(code);
    if (!match || match[0].length === 0) {
      plain += code[position];
      position++;
      continue;
    }
    const groups = match.groups!;
    const text = match[0];
    position += text.length;
    if (groups.name !== undefined) {
      const kind = KEYWORDS.has(text)
        ? 'keyword'
        : previousName === 'def'
          ? 'function'
          : previousName === 'class'
            ? 'class'
            : BUILTINS.has(text)
              ? 'builtin'
              : undefined;
      previousName = text;
      if (!kind) {
        plain += text;
        continue;
      }
      flush();
      html += span(kind, text);
      continue;
    }
    flush();
    const kind =
      groups.comment !== undefined
        ? 'comment'
        : groups.string !== undefined
          ? 'string'
          : groups.number !== undefined
            ? 'number'
            : 'decorator';
    html += span(kind, text);
  }
  flush();
  return html;
}
