import { z } from 'zod';

import { SecretValue } from './secret-value.js';

/**
 * Where a secret comes from: written in the file (`{value: TEXT}`) or read
 * from an environment variable when the config loads (`{env: NAME}`), so a
 * secret need not sit in a file that is checked in.
 */
export const secretSourceSchema = z
  .union(
    [
      z.strictObject({ value: z.string().min(1, 'expected a non-empty secret') }),
      z.strictObject({ env: z.string().regex(/^\w+$/, 'expected an environment variable name') }),
    ],
    { error: 'expected {value: TEXT} or {env: VARIABLE_NAME}' },
  )
  // Read from the environment at load, so a missing variable stops the load
  // (or the reload) instead of failing at the first use.
  .superRefine((source, context) => {
    if (!('env' in source) || process.env[source.env]) return;

    context.addIssue({
      code: 'custom',
      path: ['env'],
      message: `environment variable ${source.env} is not set (or is empty)`,
    });
  });

/** A secret source as written in the file. */
export type SecretSource = z.output<typeof secretSourceSchema>;

/** The secret a source names, wrapped so that it never prints. */
export function readSecret(
  source: SecretSource,
  env: NodeJS.ProcessEnv = process.env,
): SecretValue {
  return new SecretValue('value' in source ? source.value : (env[source.env] ?? ''));
}
