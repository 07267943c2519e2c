// The engine reads time through this, so tests and benchmarks can drive it.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
