import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { attributeName, CONFIG_FLAGS, parseFlagValue } from '../../src/cli/config-flags.js';
import { configFromFlags, normaliseArgv, resolveConfig } from '../../src/cli/load-config.js';
import { configSchema, defaultConfig } from '../../src/config.js';
import { UserError } from '../../src/errors.js';

describe('config defaults', () => {
  it('are the original Config and ProgramsDatabaseConfig defaults', () => {
    expect(defaultConfig.programs_database).toMatchObject({
      functions_per_prompt: 2,
      num_islands: 10,
      reset_period: 4 * 60 * 60,
      cluster_sampling_temperature_init: 0.1,
      cluster_sampling_temperature_period: 30_000,
      score_reduction: 'last',
    });
    expect(defaultConfig).toMatchObject({
      report_dir: './reports',
      num_samplers: 15,
      num_evaluators: 140,
      samples_per_prompt: 4,
      docker_image: 'funsearch_evaluator:latest',
      total_llm_samples: 10,
    });
  });
});

describe('config flags', () => {
  it('cover every leaf field of the config schema', () => {
    const leaves: string[] = [];
    const walk = (value: Record<string, unknown>, prefix: string[]) => {
      for (const [key, child] of Object.entries(value)) {
        if (child !== null && typeof child === 'object' && !Array.isArray(child) && key !== 'params') {
          walk(child as Record<string, unknown>, [...prefix, key]);
        } else leaves.push([...prefix, key].join('.'));
      }
    };
    // Optional fields have no default: make them appear by setting them.
    walk(
      configSchema.parse({
        seed: 1,
        llm: { model: 'm', mock_responses: 'f' },
        budget: { duration: 1, max_tokens: 1, max_cost: 1, target_score: 1 },
      }),
      [],
    );
    const flagged = new Set(CONFIG_FLAGS.map((flag) => flag.path.join('.')));
    const unflagged = leaves.filter((leaf) => !flagged.has(leaf));
    expect(unflagged).toEqual([]);
  });

  it('land at their path, flags over the config file over defaults', () => {
    const fromFlags = configFromFlags({ numIslands: '4', timeout: '2.5', llm: 'mock' });
    const config = resolveConfig({
      fromFile: { num_samplers: 3, programs_database: { num_islands: 7, functions_per_prompt: 3 } },
      fromFlags,
    });
    expect(config.programs_database.num_islands).toBe(4);
    expect(config.programs_database.functions_per_prompt).toBe(3);
    expect(config.num_samplers).toBe(3);
    expect(config.timeout).toBe(2.5);
    expect(config.llm.provider).toBe('mock');
    expect(config.samples_per_prompt).toBe(4);
  });

  it('turn --skip-llm-check off and collect --llm-param pairs', () => {
    const config = resolveConfig({
      fromFlags: configFromFlags({
        skipLlmCheck: true,
        llmParam: ['temperature=0.5', 'stop=["\\n\\n"]', 'note=hi'],
      }),
    });
    expect(config.llm.check).toBe(false);
    expect(config.llm.params).toEqual({ temperature: 0.5, stop: ['\n\n'], note: 'hi' });
  });

  it('turn the evaluation cache off with --no-eval-cache, as commander parses it', () => {
    const parse = (argv: string[]) => {
      const command = new Command().exitOverride();
      command.addOption(new Option('--no-eval-cache')).addOption(new Option('--eval-cache-entries <n>'));
      return command.parse(argv, { from: 'user' }).opts();
    };
    const off = resolveConfig({ fromFlags: configFromFlags(parse(['--no-eval-cache'])) });
    expect(off.eval_cache.enabled).toBe(false);
    // Absent, the flag leaves a config file's setting alone.
    const absent = resolveConfig({
      fromFile: { eval_cache: { enabled: false } },
      fromFlags: configFromFlags(parse(['--eval-cache-entries', '7'])),
    });
    expect(absent.eval_cache).toEqual({ enabled: false, max_entries: 7 });
    expect(defaultConfig.eval_cache).toEqual({ enabled: true, max_entries: 50_000 });
  });

  it('reject a bad value naming the flag', () => {
    const numIslands = CONFIG_FLAGS.find((flag) => flag.flag === 'num-islands')!;
    expect(() => parseFlagValue(numIslands, 'four')).toThrow(
      new UserError('--num-islands: expected an integer, got `four`'),
    );
    const llm = CONFIG_FLAGS.find((flag) => flag.flag === 'llm')!;
    expect(() => parseFlagValue(llm, 'gpt')).toThrow(
      /--llm: expected one of replicate, openai, gemini, starcoder, mock/,
    );
  });

  it('report an invalid merged value as path: message', () => {
    expect(() => resolveConfig({ fromFlags: configFromFlags({ numIslands: '0' }) })).toThrow(
      /programs_database\.num_islands: /,
    );
    expect(() => resolveConfig({ fromFile: { nonsense: 1 }, fileName: 'c.json', fromFlags: {} })).toThrow(
      /c\.json.*nonsense/,
    );
  });

  it('accept the original snake_case spellings', () => {
    expect(
      normaliseArgv(['--num_islands', '4', '--specification_file=a_b.py', '-s', 'x_y.py', '--', '--a_b']),
    ).toEqual(['--num-islands', '4', '--specification-file=a_b.py', '-s', 'x_y.py', '--', '--a-b']);
  });

  it('map kebab flags to commander attribute names', () => {
    expect(attributeName('cluster-sampling-temperature-init')).toBe('clusterSamplingTemperatureInit');
    expect(attributeName('no-eval-cache')).toBe('evalCache');
  });
});

describe('several models in one run', () => {
  const fromFlags = (...entries: string[]) => configFromFlags({ modelMix: entries });

  it('--model-mix PROVIDER[:MODEL][=WEIGHT], repeatable, lands in llm.models', () => {
    const config = resolveConfig({
      fromFlags: {
        ...fromFlags(
          'openai:gpt-4o-mini=3',
          'gemini:gemini-2.5-pro',
          'replicate:meta/codellama-34b-python:e4cb6904=0.5',
          'mock:answers/cheap.txt=2',
          'starcoder',
        ),
      },
    });
    expect(config.llm.models).toEqual([
      { provider: 'openai', model: 'gpt-4o-mini', weight: 3, params: {} },
      { provider: 'gemini', model: 'gemini-2.5-pro', weight: 1, params: {} },
      { provider: 'replicate', model: 'meta/codellama-34b-python:e4cb6904', weight: 0.5, params: {} },
      {
        provider: 'mock',
        model: 'answers/cheap.txt',
        mock_responses: 'answers/cheap.txt',
        weight: 2,
        params: {},
      },
      { provider: 'starcoder', weight: 1, params: {} },
    ]);
    expect(config.llm.model_selection).toBe('weighted');
  });

  it('one model stays the default and simplest case', () => {
    const config = resolveConfig({ fromFlags: configFromFlags({ llm: 'openai', model: 'gpt-4o' }) });
    expect(config.llm.models).toBeUndefined();
    expect(config.llm).toMatchObject({ provider: 'openai', model: 'gpt-4o', model_selection: 'weighted' });
  });

  it('reads a mix with params, prices and ucb from --config, flags replacing the list', () => {
    const fromFile = {
      llm: {
        model_selection: 'ucb',
        models: [
          { provider: 'openai', model: 'gpt-4o-mini', weight: 3, params: { temperature: 1 } },
          { provider: 'gemini', model: 'gemini-2.5-pro', price_per_million_tokens: { input: 1, output: 8 } },
        ],
      },
    };
    const config = resolveConfig({ fromFile, fileName: 'mix.json', fromFlags: {} });
    expect(config.llm.model_selection).toBe('ucb');
    expect(config.llm.models![0]).toEqual({
      provider: 'openai',
      model: 'gpt-4o-mini',
      weight: 3,
      params: { temperature: 1 },
    });
    const overridden = resolveConfig({ fromFile, fileName: 'mix.json', fromFlags: fromFlags('mock') });
    expect(overridden.llm.models).toEqual([{ provider: 'mock', weight: 1, params: {} }]);
  });

  it('refuses a bad --model-mix value in one line naming the flag and the form', () => {
    const flag = CONFIG_FLAGS.find((f) => f.flag === 'model-mix')!;
    const cases: [string, RegExp][] = [
      [
        'claude:opus',
        /^--model-mix: unknown provider `claude` \(one of replicate, openai, gemini, starcoder, mock\) in `claude:opus`; expected PROVIDER\[:MODEL\]\[=WEIGHT\]/,
      ],
      ['openai:gpt-4o=0', /^--model-mix: the weight must be a number > 0 in `openai:gpt-4o=0`/],
      ['openai:gpt-4o=lots', /^--model-mix: the weight must be a number > 0/],
      ['openai:=2', /^--model-mix: the model after `:` is empty in `openai:=2`/],
    ];
    for (const [raw, message] of cases) {
      let error: unknown;
      try {
        parseFlagValue(flag, raw);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('refuses single-model fields next to a mix, and a model listed twice', () => {
    expect(() =>
      resolveConfig({
        fromFlags: {
          ...fromFlags('openai', 'mock'),
          llm: { ...(fromFlags('openai', 'mock').llm as object), model: 'gpt-4o' },
        },
      }),
    ).toThrow(/llm\.model: applies to a run with one model; with llm\.models give each model its own model/);
    expect(() => resolveConfig({ fromFlags: fromFlags('openai:gpt-4o=1', 'openai:gpt-4o=2') })).toThrow(
      /llm\.models: `openai:gpt-4o` is listed twice/,
    );
    expect(() => resolveConfig({ fromFile: { llm: { models: [] } }, fromFlags: {} })).toThrow(
      /llm\.models: expected at least one model/,
    );
    expect(() => resolveConfig({ fromFlags: configFromFlags({ modelSelection: 'best' }) })).toThrow(
      /--model-selection: expected one of weighted, ucb/,
    );
  });
});
