/** Sample events of a run mixing two models, for the per-model figures and the report. */
export const CHEAP = 'openai:gpt-4o-mini';
export const STRONG = 'gemini:gemini-2.5-pro';

export const MIXED_EVENTS = [
  { model: CHEAP, outcome: 'ok', registered: true, inputTokens: 1000, outputTokens: 200, llmLatencyMs: 900 },
  { model: CHEAP, outcome: 'syntax-error', inputTokens: 1000, outputTokens: 100, llmLatencyMs: 1100 },
  { model: CHEAP, outcome: 'llm-error' },
  {
    model: STRONG,
    outcome: 'ok',
    registered: true,
    newBest: true,
    inputTokens: 2000,
    outputTokens: 1000,
    llmLatencyMs: 8000,
  },
  { model: CHEAP, outcome: 'timeout', inputTokens: 1000, outputTokens: 300, llmLatencyMs: 1000 },
  { model: STRONG, outcome: 'not-evaluated', inputTokens: 2000, outputTokens: 500, llmLatencyMs: 6000 },
  {
    model: CHEAP,
    outcome: 'ok',
    registered: true,
    newBest: true,
    inputTokens: 1000,
    outputTokens: 200,
    llmLatencyMs: 950,
  },
];
