import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import type { $ZodIssue, $ZodType } from 'zod/v4/core';
import { ValidationError } from './errors.js';
import { LONE_SURROGATE } from './postgres-text.js';

/**
 * Request validation with Django REST framework's field semantics, so clients see PostHog's behaviour:
 *
 * - input is first coerced the way DRF fields coerce it (a CharField takes 5 as "5" and trims whitespace,
 *   an IntegerField takes "5", a BooleanField takes "true"/"1"/"on", form bodies follow QueryDict:
 *   a list field takes every value of a repeated key, any other field the last one);
 * - the zod schema then validates, and the first issue becomes DRF's code, message and attr.
 */

/** Marks a parsed form or multipart body so list fields can collect repeated keys as DRF's getlist does. */
export const FORM_BODY = Symbol('burrow.formBody');

const TRUE_VALUES = new Set<unknown>(['t', 'T', 'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON', '1', 1, true]);
const FALSE_VALUES = new Set<unknown>(['f', 'F', 'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF', '0', 0, 0.0, false]);

interface Def {
  type: string;
  innerType?: $ZodType;
  in?: $ZodType;
  element?: $ZodType;
  shape?: Record<string, $ZodType>;
  options?: $ZodType[];
}

const defOf = (schema: $ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Strips optional/nullable/default/pipe wrappers down to the schema that decides the value's type. */
function core(schema: $ZodType): Def {
  let def = defOf(schema);
  for (;;) {
    if (def.innerType && ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(def.type)) {
      def = defOf(def.innerType);
    } else if (def.type === 'pipe' && def.in) {
      def = defOf(def.in);
    } else {
      return def;
    }
  }
}

function coerce(schema: $ZodType, value: unknown, form: boolean): unknown {
  const def = core(schema);
  if (form && Array.isArray(value) && def.type !== 'array') value = value.at(-1);
  if (value === undefined || value === null) return value;
  switch (def.type) {
    case 'string':
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      return typeof value === 'string' ? value.trim() : value;
    case 'number':
      if (typeof value === 'string' && /^\s*[-+]?\d+(\.0*)?\s*$/.test(value)) return Number.parseInt(value, 10);
      return value;
    case 'boolean':
      if (TRUE_VALUES.has(value)) return true;
      if (FALSE_VALUES.has(value)) return false;
      return value;
    case 'array': {
      const list = form && !Array.isArray(value) ? [value] : value;
      return Array.isArray(list) && def.element ? list.map((item) => coerce(def.element!, item, false)) : list;
    }
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value) || !def.shape) return value;
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      for (const [key, field] of Object.entries(def.shape)) {
        if (key in out) out[key] = coerce(field, out[key], form);
      }
      return out;
    }
    default:
      return value;
  }
}

/** DRF's CharField validators: text Postgres cannot store (NUL, and lone UTF-16 surrogates) is refused. */
function unstorableTextError(text: string, path: readonly string[]): ValidationError | null {
  const attr = path.length === 0 ? null : path.join('__');
  if (text.includes('\u0000')) return new ValidationError('Null characters are not allowed.', attr, 'null_characters_not_allowed');
  const surrogate = LONE_SURROGATE.exec(text);
  if (surrogate) {
    const codePoint = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    return new ValidationError(`Surrogate characters are not allowed: U+${codePoint}.`, attr, 'surrogate_characters_not_allowed');
  }
  return null;
}

/**
 * The first string (value or key) anywhere in request input that Postgres could not store. JSON bodies nest at most
 * MAX_JSON_DEPTH levels (http/body-parsers.ts), query strings and forms not at all, so the walk stays shallow.
 */
function findUnstorableText(value: unknown, path: string[] = []): ValidationError | null {
  if (typeof value === 'string') return unstorableTextError(value, path);
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return null;
  for (const [key, item] of Object.entries(value)) {
    const found = unstorableTextError(key, path) ?? findUnstorableText(item, [...path, key]);
    if (found) return found;
  }
  return null;
}

export function normalizeInput(schema: $ZodType, data: unknown): unknown {
  const form = typeof data === 'object' && data !== null && FORM_BODY in data;
  return coerce(schema, data, form);
}

/** Python's type(x).__name__ for a JSON value, as DRF prints it in messages. */
function pythonType(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  switch (typeof value) {
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float';
    default:
      return 'dict';
  }
}

const FORMAT_MESSAGES: Record<string, string> = {
  email: 'Enter a valid email address.',
  uuid: 'Must be a valid UUID.',
  url: 'Enter a valid URL.',
  datetime: 'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].',
};

interface Drf {
  code: string;
  detail: string;
}

function describe(issue: $ZodIssue): Drf {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return { code: 'required', detail: 'This field is required.' };
      if (input === null) return { code: 'null', detail: 'This field may not be null.' };
      switch (issue.expected) {
        case 'string':
          return { code: 'invalid_input', detail: 'Not a valid string.' };
        case 'number':
        case 'int':
        case 'bigint':
          return { code: 'invalid_input', detail: 'A valid integer is required.' };
        case 'boolean':
          return { code: 'invalid_input', detail: 'Must be a valid boolean.' };
        case 'array':
          return { code: 'not_a_list', detail: `Expected a list of items but got type "${pythonType(input)}".` };
        case 'object':
          return { code: 'invalid_input', detail: `Invalid data. Expected a dictionary, but got ${pythonType(input)}.` };
        default:
          return { code: 'invalid_input', detail: 'Invalid input.' };
      }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') {
        return min <= 1
          ? { code: 'blank', detail: 'This field may not be blank.' }
          : { code: 'min_length', detail: `Ensure this field has at least ${min} characters.` };
      }
      if (issue.origin === 'array' || issue.origin === 'set') {
        return min <= 1
          ? { code: 'empty', detail: 'This list may not be empty.' }
          : { code: 'min_length', detail: `Ensure this field has at least ${min} elements.` };
      }
      return { code: 'min_value', detail: `Ensure this value is greater than or equal to ${min}.` };
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return { code: 'max_length', detail: `Ensure this field has no more than ${max} characters.` };
      if (issue.origin === 'array' || issue.origin === 'set') {
        return { code: 'max_length', detail: `Ensure this field has no more than ${max} elements.` };
      }
      return { code: 'max_value', detail: `Ensure this value is less than or equal to ${max}.` };
    }
    case 'invalid_value':
      if (input === undefined) return { code: 'required', detail: 'This field is required.' };
      if (input === null) return { code: 'null', detail: 'This field may not be null.' };
      return { code: 'invalid_choice', detail: `"${String(input)}" is not a valid choice.` };
    case 'invalid_format':
      return { code: 'invalid_input', detail: FORMAT_MESSAGES[issue.format] ?? issue.message };
    case 'custom': {
      const code = (issue.params as { code?: string } | undefined)?.code ?? 'invalid_input';
      return { code, detail: issue.message };
    }
    case 'invalid_union': {
      const first = issue.errors[0]?.[0];
      return first ? describe({ ...first, input } as $ZodIssue) : { code: 'invalid_input', detail: issue.message };
    }
    default:
      return { code: 'invalid_input', detail: issue.message };
  }
}

/** DRF/drf-exceptions-hog report only the first error; nested paths join with "__". */
export function toValidationError(issues: readonly $ZodIssue[]): ValidationError {
  const issue = issues[0];
  if (!issue) return new ValidationError('Invalid input.');
  const { code, detail } = describe(issue);
  const attr = issue.path.length === 0 ? null : issue.path.map(String).join('__');
  return new ValidationError(detail, attr, code);
}

/** Validates a value the way request bodies are validated, for services that parse input themselves. */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const unstorable = findUnstorableText(data);
  if (unstorable) throw unstorable;
  const result = (schema as unknown as z.ZodType).safeParse(normalizeInput(schema as unknown as $ZodType, data), {
    reportInput: true,
  });
  if (!result.success) throw toValidationError(result.error.issues as $ZodIssue[]);
  return result.data as z.output<S>;
}

export const validatorCompiler: FastifySchemaCompiler<$ZodType> =
  ({ schema }) =>
  (data) => {
    const unstorable = findUnstorableText(data);
    if (unstorable) return { error: unstorable };
    // DRF reads a request without a body as an empty form.
    const input = normalizeInput(schema, data ?? {});
    const result = (schema as unknown as z.ZodType).safeParse(input, { reportInput: true });
    return result.success ? { value: result.data } : { error: toValidationError(result.error.issues as $ZodIssue[]) };
  };
