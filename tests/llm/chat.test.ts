import { describe, expect, it } from 'vitest';
import { chatAnswerCode, firstFencedBlock } from '../../src/llm/chat.js';

describe('the code of a chat answer', () => {
  it('is the first fenced block, as the model wrote it (helpers, header and indentation kept)', () => {
    const code = [
      'def helper(x):',
      '    return x * 2',
      '',
      'def priority_v1(el, n):',
      '    return helper(n)',
    ];
    const answer = ['Sure! Here it is:', '', '```python', ...code, '```', '', '```python', 'print(1)', '```'];
    expect(chatAnswerCode(answer.join('\n'))).toBe(`${code.join('\n')}\n`);
  });

  it('is the whole answer when it has no fence', () => {
    expect(chatAnswerCode('    return 2.0\n')).toBe('    return 2.0\n');
    expect(chatAnswerCode('')).toBe('');
  });

  it('takes an unterminated block (answer cut by the token limit) to the end', () => {
    expect(firstFencedBlock('text\n```python\n  return 1.0\n  # cut')).toBe('  return 1.0\n  # cut');
  });

  it('reads tilde fences and longer backtick fences', () => {
    expect(firstFencedBlock('~~~py\nx = 1\n~~~\n')).toBe('x = 1\n');
    expect(firstFencedBlock('````python\n```\nx\n````')).toBe('```\nx\n');
  });
});
