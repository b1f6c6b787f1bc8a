import { z } from 'zod';

/** A whole number between `min` and `max`, with one clear message for each way it can fail. */
export function wholeNumber(min: number, max: number) {
  return z
    .number({ error: 'expected a number' })
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .refine(Number.isInteger, 'expected a whole number');
}
