/** The programs of one island that share a signature, i.e. behave alike on every test input. */
import type { Random } from '../random.js';
import { functionToString, type PyFunction } from '../spec/program.js';
import { softmax } from './sampling.js';
import type { Signature } from './scores.js';

export class Cluster {
  private readonly programs: PyFunction[] = [];
  private readonly lengths: number[] = [];

  constructor(
    readonly signature: Signature,
    /** The reduced score of the signature; every member has it. */
    readonly score: number,
    first: PyFunction,
  ) {
    this.register(first);
  }

  get size(): number {
    return this.programs.length;
  }

  /** Members in registration order. */
  get members(): readonly PyFunction[] {
    return this.programs;
  }

  register(program: PyFunction): void {
    this.programs.push(program);
    // Code points, as Python's `len(str(program))`.
    this.lengths.push([...functionToString(program)].length);
  }

  /** The probability of each member being sampled: shorter programs are likelier. */
  probabilities(): number[] {
    const min = Math.min(...this.lengths);
    const max = Math.max(...this.lengths);
    const normalized = this.lengths.map((length) => (length - min) / (max + 1e-6));
    return softmax(
      normalized.map((value) => -value),
      1.0,
    );
  }

  sample(random: Random): PyFunction {
    return this.programs[random.weightedIndex(this.probabilities())]!;
  }
}
