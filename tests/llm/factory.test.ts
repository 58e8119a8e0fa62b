import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { type CreateLanguageModelOptions, createLanguageModel } from '../../src/llm/index.js';
import { Random } from '../../src/random.js';

function create(options: Omit<CreateLanguageModelOptions, 'random'>) {
  return createLanguageModel({ random: new Random(1), ...options });
}

function userError(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}

describe('createLanguageModel', () => {
  it('builds each provider with its default model, without touching the network', () => {
    const env = {
      REPLICATE_API_TOKEN: 'r8',
      OPENAI_API_KEY: 'sk',
      GEMINI_API_KEY: 'AIza',
      HF_TOKEN: 'hf_x',
    };
    const ids = (['replicate', 'openai', 'gemini', 'starcoder', 'mock'] as const).map((llm) => {
      const model = create({ llm, env });
      return `${model.provider} ${model.modelId}`;
    });
    expect(ids).toEqual([
      'replicate meta/codellama-34b-python:e4cb69045bdb604862e80b5dd17ef39c9559ad3533e9fd3bd513cc68ff023656',
      'openai gpt-4o',
      'gemini gemini-2.5-flash',
      'starcoder bigcode/starcoder2-15b',
      'mock mock',
    ]);
    expect(create({ llm: 'openai', env, endpoint: 'completions' }).modelId).toBe('gpt-3.5-turbo-instruct');
    expect(create({ llm: 'openai', env, model: 'gpt-4.1' }).modelId).toBe('gpt-4.1');
  });

  it('a missing token is a UserError naming the variable and .env', () => {
    expect(userError(() => create({ llm: 'replicate', env: {} })).message).toBe(
      'Replicate needs REPLICATE_API_TOKEN: set it in the environment or .env',
    );
    expect(userError(() => create({ llm: 'openai', env: { OPENAI_API_KEY: '  ' } })).message).toBe(
      'OpenAI needs OPENAI_API_KEY: set it in the environment or .env (or set OPENAI_BASE_URL for a local OpenAI-compatible server)',
    );
    expect(userError(() => create({ llm: 'gemini', env: {} })).message).toMatch(/needs GEMINI_API_KEY/);
    expect(
      userError(() => create({ llm: 'gemini', env: { GOOGLE_GENAI_USE_VERTEXAI: 'true' } })).message,
    ).toMatch(/Vertex AI needs GOOGLE_CLOUD_PROJECT/);
  });

  it('reads tokens from the env record given, not from process.env', () => {
    const saved = process.env.REPLICATE_API_TOKEN;
    process.env.REPLICATE_API_TOKEN = 'from-process-env';
    try {
      expect(() => create({ llm: 'replicate', env: {} })).toThrow(UserError);
    } finally {
      if (saved === undefined) delete process.env.REPLICATE_API_TOKEN;
      else process.env.REPLICATE_API_TOKEN = saved;
    }
  });

  it('invalid options are UserErrors naming the option', () => {
    expect(
      userError(() => create({ llm: 'replicate', model: 'codellama', env: { REPLICATE_API_TOKEN: 'r8' } }))
        .message,
    ).toBe('Expected a Replicate model as `owner/name` or `owner/name:version`, got `codellama`');
    expect(userError(() => create({ llm: 'mock', env: {}, retry: { maxRetries: -2 } })).message).toMatch(
      /maxRetries/,
    );
    expect(userError(() => create({ llm: 'nope' as never, env: {} })).message).toMatch(
      /Unknown language model provider `nope`/,
    );
  });
});
