import { Tokenizer, TokenParser, TokenType, type ParsedTokenInfo } from '@streamparser/json';

import { JsonTokenBounder } from './json-token-bounder.js';

/** Receives the kept leaves of one document, at their paths, when it is complete. */
export type DocumentHandler = (document: Record<string, unknown>) => void;

/** Why a {@link JsonUsageScanner} stopped. */
export type ScanFailure = 'invalid_json' | 'event_too_large';

// Containers nested deeper than this are checked for balance only, and stand
// as null before the validating parser, whose cost per value grows with depth.
const MAX_TRACKED_DEPTH = 64;

// Strings are shortened to this many bytes, and longer numbers are refused.
const MAX_TOKEN_BYTES = 4096;

interface PathNode {
  readonly path: readonly string[];
  readonly children: Map<string, PathNode>;
}

interface Frame {
  readonly isObject: boolean;
  readonly node: PathNode | undefined;
  readonly isRootArray: boolean;
  key: string | undefined;
  expectKey: boolean;
}

/**
 * Reads a JSON body of any size in chunks while holding only the leaves at
 * `paths` (`usage.prompt_tokens`, `model`, ...) and the path to the current
 * value, never the body. Each complete document (the top-level object, or each
 * object of a top-level array) is handed over as a small object holding just
 * those leaves, so that reading it gives what reading the whole document would.
 *
 * The bytes pass a {@link JsonTokenBounder} (4 KiB per token), the
 * @streamparser/json tokenizer, then this class, which tracks paths, and a
 * token parser that keeps nothing and only checks the grammar. A later
 * duplicate key replaces an earlier one, as in `JSON.parse`. Containers nested
 * deeper than 64 levels are checked for balance only, not for their grammar.
 */
export class JsonUsageScanner {
  private readonly bounder = new JsonTokenBounder(MAX_TOKEN_BYTES);
  private readonly tokenizer = new Tokenizer();
  private readonly validator = new TokenParser({ paths: [], keepStack: false });
  private readonly root: PathNode;
  private readonly frames: Frame[] = [];
  private deepDepth = 0;
  private document: Record<string, unknown> = {};
  private scanFailure: ScanFailure | undefined;

  constructor(
    paths: readonly string[],
    private readonly onDocument: DocumentHandler,
  ) {
    this.root = pathTree(paths);
    this.tokenizer.onToken = (token) => this.readToken(token);
    this.tokenizer.onError = () => this.fail('invalid_json');
    this.validator.onValue = () => undefined;
    this.validator.onError = () => this.fail('invalid_json');
  }

  /** Why scanning stopped, if it did. */
  get failure(): ScanFailure | undefined {
    return this.scanFailure;
  }

  /** Bytes held for the token being read. */
  get retainedBytes(): number {
    return this.bounder.tokenBytes;
  }

  /** Reads one chunk. */
  write(chunk: Uint8Array): void {
    if (this.scanFailure) return;

    const fits = this.bounder.write(chunk, (part) => {
      if (!this.scanFailure) this.tokenizer.write(part);
    });
    if (!fits) this.fail('event_too_large');
  }

  /** Ends the body: it fails with `invalid_json` unless it held exactly one whole JSON value. */
  end(): void {
    if (this.scanFailure) return;

    this.tokenizer.end();
    if (!this.scanFailure && !this.validator.isEnded) this.fail('invalid_json');
  }

  private fail(failure: ScanFailure): void {
    this.scanFailure ??= failure;
  }

  private readToken(info: ParsedTokenInfo): void {
    if (this.scanFailure) return;

    const forwarded = this.track(info);
    if (forwarded) this.validator.write(forwarded);
  }

  // Updates the path for one token; returns what the validator should see.
  private track(info: ParsedTokenInfo): ParsedTokenInfo | undefined {
    switch (info.token) {
      case TokenType.LEFT_BRACE:
      case TokenType.LEFT_BRACKET:
        return this.open(info);
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET:
        return this.close(info);
      default:
        if (this.deepDepth > 0) return undefined;
        this.readScalarOrPunctuation(info);
        return info;
    }
  }

  private open(info: ParsedTokenInfo): ParsedTokenInfo | undefined {
    if (this.deepDepth > 0 || this.frames.length >= MAX_TRACKED_DEPTH) {
      this.deepDepth += 1;
      return this.deepDepth === 1 ? { token: TokenType.NULL, value: null, offset: 0 } : undefined;
    }

    const isObject = info.token === TokenType.LEFT_BRACE;
    const node = this.valueNode();
    this.startValue(node, isObject ? {} : []);

    const isRootArray = this.frames.length === 0 && !isObject;
    this.frames.push({ isObject, node, isRootArray, key: undefined, expectKey: isObject });
    return info;
  }

  private close(info: ParsedTokenInfo): ParsedTokenInfo | undefined {
    if (this.deepDepth > 0) {
      this.deepDepth -= 1;
      return undefined;
    }

    const frame = this.frames.pop();
    const parent = this.frames.at(-1);
    const endsDocument = parent === undefined ? !frame?.isRootArray : parent.isRootArray;
    if (frame?.isObject && endsDocument) this.handOver();
    return info;
  }

  private readScalarOrPunctuation(info: ParsedTokenInfo): void {
    const frame = this.frames.at(-1);
    if (info.token === TokenType.COMMA) {
      if (frame?.isObject) frame.expectKey = true;
      return;
    }

    if (info.token === TokenType.COLON || info.token === TokenType.SEPARATOR) return;
    if (frame?.isObject && frame.expectKey && info.token === TokenType.STRING) {
      frame.key = info.value as string;
      frame.expectKey = false;
      return;
    }

    this.startValue(this.valueNode(), info.value);
  }

  // The path node of a value starting now, if it lies on a wanted path.
  private valueNode(): PathNode | undefined {
    const frame = this.frames.at(-1);
    if (frame === undefined || frame.isRootArray) return this.root;
    if (!frame.isObject || frame.key === undefined) return undefined;
    return frame.node?.children.get(frame.key);
  }

  // A value starting at a wanted leaf is kept (a container as an empty one, so
  // that reading it rejects it as a whole value would be); one starting on the
  // way to wanted leaves replaces whatever an earlier duplicate key left there.
  private startValue(node: PathNode | undefined, value: unknown): void {
    if (node === undefined || node === this.root) return;

    if (node.children.size === 0) setPath(this.document, node.path, value);
    else deletePath(this.document, node.path);
  }

  private handOver(): void {
    const document = this.document;
    this.document = {};
    this.onDocument(document);
  }
}

function pathTree(paths: readonly string[]): PathNode {
  const root: PathNode = { path: [], children: new Map() };
  for (const path of paths) {
    let node = root;
    for (const key of path.split('.')) {
      let child = node.children.get(key);
      if (!child) {
        child = { path: [...node.path, key], children: new Map() };
        node.children.set(key, child);
      }
      node = child;
    }
  }
  return root;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = target;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
      current = next as Record<string, unknown>;
    } else {
      const child: Record<string, unknown> = {};
      current[key] = child;
      current = child;
    }
  }
  current[path.at(-1) as string] = value;
}

function deletePath(target: Record<string, unknown>, path: readonly string[]): void {
  let current: unknown = target;
  for (const key of path.slice(0, -1)) {
    if (typeof current !== 'object' || current === null) return;
    current = (current as Record<string, unknown>)[key];
  }
  if (typeof current === 'object' && current !== null) {
    delete (current as Record<string, unknown>)[path.at(-1) as string];
  }
}
