import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

import type { ConfigProblem } from './config-error.js';

/** The most alias expansions a file may make; stops "billion laughs" files. */
const MAX_ALIAS_COUNT = 100;

/** A parsed YAML document that can say on which line a path was written. */
export interface LocatedYaml {
  value: unknown;
  lineOf(path: readonly PropertyKey[], key?: string): number | undefined;
}

/** Result of parsing YAML text: the plain value and a line locator, or the problems. */
export type YamlParseResult =
  { ok: true; yaml: LocatedYaml } | { ok: false; problems: ConfigProblem[] };

/**
 * Parses YAML strictly: duplicate keys, syntax errors and alias bombs are
 * problems with line numbers, never exceptions.
 */
export function parseYaml(text: string): YamlParseResult {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema only: explicit 1.1 tags (!!omap, !!set, !!binary,
  // ...) would turn into Maps, Sets and Buffers that no config key expects,
  // so they stay unresolved and are reported. Merge keys (<<) are allowed.
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
    resolveKnownTags: false,
    merge: true,
  });

  const problems = [...doc.errors, ...doc.warnings].map((error) => ({
    path: '',
    line: lineCounter.linePos(error.pos[0]).line,
    message: operatorMessage(error.code, error.message),
  }));
  if (problems.length > 0) return { ok: false, problems };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, problems: [{ path: '', message: `cannot expand the file: ${message}` }] };
  }

  return { ok: true, yaml: { value, lineOf: (path, key) => lineOf(doc, lineCounter, path, key) } };
}

/** Turns zod issues into problems located in the YAML document. */
export function locateIssues(yaml: LocatedYaml, issues: readonly z.core.$ZodIssue[]) {
  const problems: ConfigProblem[] = [];

  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({
          path: dotted([...issue.path, key]),
          line: yaml.lineOf(issue.path, key),
          message: 'unknown key (check the spelling against the config reference)',
        });
      }
      continue;
    }

    problems.push({
      path: dotted(issue.path),
      line: yaml.lineOf(issue.path),
      message: issue.message,
    });
  }
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

function lineOf(
  doc: Document,
  counter: LineCounter,
  path: readonly PropertyKey[],
  key?: string,
): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    const offset =
      depth === path.length && key !== undefined ? keyOffset(node, key) : rangeOf(node);
    if (offset !== undefined) return counter.linePos(offset).line;
  }
  return undefined;
}

function keyOffset(node: unknown, key: string): number | undefined {
  if (!isMap(node)) return rangeOf(node);

  const pair = node.items.find(
    (item) => isPair(item) && isScalar(item.key) && item.key.value === key,
  );
  return rangeOf(pair?.key);
}

function rangeOf(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

function operatorMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'the file holds more than one YAML document; use one';
  if (code === 'TAG_RESOLVE_FAILED') return `${firstLine(message)}; remove the tag`;
  return firstLine(message);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
