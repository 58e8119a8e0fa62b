/**
 * Chat models answer with prose around fenced code. A provider hands on the code only (the first
 * fenced block, or the whole answer when there is none); shaping that code into the body of the
 * next version (a repeated header, helper functions, indentation) belongs to src/spec/, the one
 * owner of Python text, which treats every provider's output alike.
 */

/** The system prompt of the chat providers (OpenAI chat endpoint, Gemini). */
export const CHAT_SYSTEM_PROMPT = [
  'You improve Python functions for an evolutionary program search.',
  'The user message is a Python program that ends with the header and docstring of a new version of a function.',
  'Write that new version, better than the previous versions.',
  'Reply with one ```python code block holding the whole new function (or only its body), without explanations;',
  'helper functions it calls may be defined in the same block.',
].join(' ');

/** The code of a chat answer: the first fenced block, or else the whole answer. */
export function chatAnswerCode(answer: string): string {
  return firstFencedBlock(answer) ?? answer;
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
