/**
 * A small schema builder for the built-in keyring configurations: JSON types, strict objects,
 * refinements, defaults. Its schemas are Standard Schemas, like zod's, so a provider may use
 * either; the built-ins use this one because it loads in well under a millisecond, where zod
 * costs ~60–90 ms per process (docs/architecture.md, "Start-up"). Only what the configuration
 * shapes need is here.
 *
 * @example
 * ```ts
 * const schema = s.object({ type: s.literal('raw-aes'), name: s.nonEmpty(), key: s.string().optional() });
 * parseAt(schema, { type: 'raw-aes', name: 'k1', nmae: 'x' }, 'keyring'); // throws "keyring.nmae: unknown field (did you mean "name"?)"
 * ```
 */
import type { StandardSchemaV1 } from './standard-schema.js';

type Path = readonly PropertyKey[];
type Issue = StandardSchemaV1.Issue;
const INVALID: unique symbol = Symbol('invalid');
type Invalid = typeof INVALID;

/** A schema whose parsed value has type `T`. */
export interface Schema<T> extends StandardSchemaV1<unknown, T> {
  /** Parses `value` at `path`, appending problems to `issues`. */
  readonly check: (value: unknown, path: Path, issues: Issue[]) => T | Invalid;
  /** Also accepts a missing value (undefined). */
  optional(): Schema<T | undefined>;
  /** A missing value becomes `value`. */
  default(value: T): Schema<T>;
  /** Adds a check; `message` is reported at this schema's path (or `at` below it). */
  refine(ok: (value: T) => boolean, message: string, at?: Path): Schema<T>;
}

/** The parsed type of a schema. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

function make<T>(check: Schema<T>['check']): Schema<T> {
  const self: Schema<T> = {
    check,
    '~standard': {
      version: 1,
      vendor: 'envelope',
      validate(value) {
        const issues: Issue[] = [];
        const out = check(value, [], issues);
        return issues.length > 0 || out === INVALID ? { issues } : { value: out };
      },
    },
    optional: () => make<T | undefined>((v, p, i) => (v === undefined ? undefined : check(v, p, i))),
    default: (d) => make<T>((v, p, i) => (v === undefined ? d : check(v, p, i))),
    refine: (ok, message, at = []) =>
      make<T>((v, p, i) => {
        const out = check(v, p, i);
        if (out === INVALID) return out;
        if (ok(out)) return out;
        i.push({ message, path: [...p, ...at] });
        return INVALID;
      }),
  };
  return self;
}

/** The JSON type of a value, for messages. */
function jsonType(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function typed<T>(name: string, is: (v: unknown) => v is T): Schema<T> {
  return make<T>((v, path, issues) => {
    if (is(v)) return v;
    issues.push({ message: `expected ${name}, got ${jsonType(v)}`, path });
    return INVALID;
  });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** Edit distance counting a swap of neighbours as one edit (the usual typo), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** "unknown field", with the closest known field when it is a likely typo. */
export function unknownField(field: string, known: readonly string[]): string {
  const near = known.filter((k) => distance(field.toLowerCase(), k.toLowerCase()) <= Math.max(1, Math.floor(k.length / 3)));
  return near.length === 1 ? `unknown field (did you mean ${JSON.stringify(near[0])}?)` : 'unknown field';
}

/** Schema builders (zod-like names; every object is strict). */
export const s = {
  unknown: (): Schema<unknown> => make((v) => v),
  string: (): Schema<string> => typed('string', (v): v is string => typeof v === 'string'),
  /** A string of at least one character. */
  nonEmpty: (message = 'expected a non-empty string'): Schema<string> => s.string().refine((v) => v.length > 0, message),
  boolean: (): Schema<boolean> => typed('boolean', (v): v is boolean => typeof v === 'boolean'),
  number: (): Schema<number> => typed('number', (v): v is number => typeof v === 'number' && Number.isFinite(v)),
  /** An integer in [min, max]. */
  int: (min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Schema<number> =>
    s
      .number()
      .refine(Number.isInteger, 'expected an integer')
      .refine(
        (v) => v >= min && v <= max,
        min === 1 && max === Number.MAX_SAFE_INTEGER ? 'expected a positive integer' : `expected an integer from ${min} to ${max}`,
      ),
  literal: <const L extends string | number | boolean>(value: L): Schema<L> =>
    make<L>((v, path, issues) => {
      if (v === value) return value;
      issues.push({ message: `expected ${JSON.stringify(value)}`, path });
      return INVALID;
    }),
  enumOf: <const E extends string>(values: readonly E[]): Schema<E> =>
    make<E>((v, path, issues) => {
      if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as E;
      issues.push({ message: `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, path });
      return INVALID;
    }),
  array: <T>(item: Schema<T>, o: { min?: number; minMessage?: string } = {}): Schema<T[]> =>
    make<T[]>((v, path, issues) => {
      if (!Array.isArray(v)) {
        issues.push({ message: `expected array, got ${jsonType(v)}`, path });
        return INVALID;
      }
      if (o.min !== undefined && v.length < o.min) {
        issues.push({ message: o.minMessage ?? `expected at least ${o.min} item(s)`, path });
        return INVALID;
      }
      const out: T[] = [];
      let ok = true;
      for (const [i, x] of v.entries()) {
        const r = item.check(x, [...path, i], issues);
        if (r === INVALID) ok = false;
        else out.push(r);
      }
      return ok ? out : INVALID;
    }),
  /** A strict object: a field not in `shape` is an error naming its path. */
  object: <S extends Shape>(shape: S): Schema<ObjectOf<S>> => {
    const known = Object.keys(shape);
    return make<ObjectOf<S>>((v, path, issues) => {
      if (!isPlainObject(v)) {
        issues.push({ message: `expected object, got ${jsonType(v)}`, path });
        return INVALID;
      }
      let ok = true;
      for (const k of Object.keys(v)) {
        if (!Object.hasOwn(shape, k)) {
          issues.push({ message: unknownField(k, known), path: [...path, k] });
          ok = false;
        }
      }
      const out: Record<string, unknown> = Object.create(null);
      for (const k of known) {
        const field = shape[k]!;
        const present = Object.hasOwn(v, k);
        const r = field.check(present ? v[k] : undefined, [...path, k], issues);
        if (r === INVALID) ok = false;
        else if (r !== undefined) out[k] = r;
      }
      return ok ? ({ ...out } as ObjectOf<S>) : INVALID;
    });
  },
  /** The first option that parses without issues; otherwise `message`. */
  union: <T>(options: readonly Schema<T>[], message: string): Schema<T> =>
    make<T>((v, path, issues) => {
      for (const o of options) {
        const mine: Issue[] = [];
        const r = o.check(v, path, mine);
        if (r !== INVALID && mine.length === 0) return r;
      }
      issues.push({ message, path });
      return INVALID;
    }),
};
