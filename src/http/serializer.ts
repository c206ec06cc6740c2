import type { FastifySerializerCompiler } from 'fastify';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { JsonText } from '../lib/json-text.js';

type Projection = (value: unknown) => unknown;

/** Values the schema leaves as they are: JSON.stringify prints them as zod's output would. */
const AS_IS: Projection = (value) => value;

const PASSED_AS_IS = new Set(['string', 'number', 'boolean', 'null', 'undefined', 'enum', 'literal', 'unknown', 'any', 'date', 'template_literal']);

/** A check that rewrites the value (trim(), toLowerCase(), overwrite()) rather than only testing it. */
function rewritesValue(def: z.core.$ZodTypeDef): boolean {
  return (def.checks ?? []).some((check) => (check._zod.def as { check: string }).check === 'overwrite');
}

/** Whether the object's own enumerable keys are exactly these, in this order. */
function hasExactly(source: Record<string, unknown>, keys: string[]): boolean {
  let i = 0;
  for (const key in source) {
    if (key !== keys[i]) return false;
    i++;
  }
  return i === keys.length;
}

const projections = new WeakMap<z.core.$ZodType, Projection | null>();

/**
 * What zod's encode does to a valid value of the schema, without checking it: the declared fields of each object in
 * the schema's order (unknown ones dropped), the rest as it is. Null for schemas whose output is more than that
 * (transforms, pipes and codecs, defaults, catches, lazy and intersection types, objects with a catchall) or depends
 * on which option validates (unions of objects): those stay with zod.
 */
function projectionOf(schema: z.core.$ZodType): Projection | null {
  if (projections.has(schema)) return projections.get(schema)!;
  const projection = buildProjection(schema);
  projections.set(schema, projection);
  return projection;
}

function buildProjection(schema: z.core.$ZodType): Projection | null {
  const def = schema._zod.def;
  if (rewritesValue(def)) return null;
  if (PASSED_AS_IS.has(def.type)) return AS_IS;
  switch (def.type) {
    case 'nullable':
    case 'optional':
    case 'readonly': {
      const inner = projectionOf((def as z.core.$ZodNullableDef).innerType);
      if (inner === null || inner === AS_IS) return inner;
      return (value) => (value === null || value === undefined ? value : inner(value));
    }
    case 'array': {
      const element = projectionOf((def as z.core.$ZodArrayDef).element);
      if (element === null || element === AS_IS) return element;
      return (value) => {
        const items = value as unknown[];
        let out: unknown[] | null = null;
        for (let i = 0; i < items.length; i++) {
          const projected = element(items[i]);
          if (projected !== items[i]) (out ??= items.slice())[i] = projected;
        }
        return out ?? items;
      };
    }
    case 'record': {
      const { keyType, valueType } = def as z.core.$ZodRecordDef;
      if (projectionOf(keyType) !== AS_IS) return null;
      const element = projectionOf(valueType);
      if (element === null || element === AS_IS) return element;
      return (value) => {
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value as Record<string, unknown>)) out[key] = element(item);
        return out;
      };
    }
    case 'union': {
      const options = (def as z.core.$ZodUnionDef).options;
      const projected = options.map(projectionOf);
      if (projected.every((option) => option === AS_IS)) return AS_IS;
      return unionOfObjects(schema, options, projected);
    }
    case 'object': {
      const { shape, catchall } = def as z.core.$ZodObjectDef;
      if (catchall !== undefined) return null;
      const fields: [string, Projection][] = [];
      for (const [key, field] of Object.entries(shape)) {
        const projection = projectionOf(field);
        if (projection === null) return null;
        fields.push([key, projection]);
      }
      const keys = fields.map(([key]) => key);
      const nested = fields.filter(([, projection]) => projection !== AS_IS);
      return (value) => {
        const source = value as Record<string, unknown>;
        // Services build their objects with the declared keys in the declared order: those print as they are.
        if (hasExactly(source, keys)) {
          let out: Record<string, unknown> | null = null;
          for (const [key, projection] of nested) {
            const item = source[key];
            if (item === undefined || item instanceof JsonText) continue;
            const projected = projection(item);
            if (projected !== item) (out ??= { ...source })[key] = projected;
          }
          return out ?? source;
        }
        const out: Record<string, unknown> = {};
        for (const [key, projection] of fields) {
          const item = source[key];
          if (item !== undefined) out[key] = projection === AS_IS || item instanceof JsonText ? item : projection(item);
        }
        return out;
      };
    }
    default:
      return null;
  }
}

/**
 * A union of objects whose options declare different keys (a list's page or its scroll-depth variant): a value with
 * exactly one option's keys, in order, is projected as that option; anything else is left to zod's encode.
 */
function unionOfObjects(schema: z.core.$ZodType, options: readonly z.core.$ZodType[], projected: (Projection | null)[]): Projection | null {
  const keyLists: string[][] = [];
  for (const [i, option] of options.entries()) {
    const def = option._zod.def;
    if (def.type !== 'object' || projected[i] === null) return null;
    keyLists.push(Object.keys((def as z.core.$ZodObjectDef).shape));
  }
  if (new Set(keyLists.map((keys) => keys.join(','))).size < keyLists.length) return null;
  return (value) => {
    if (value !== null && typeof value === 'object') {
      const i = keyLists.findIndex((keys) => hasExactly(value as Record<string, unknown>, keys));
      if (i >= 0) return projected[i]!(value);
    }
    return z.encode(schema, value);
  };
}

/** JSON.stringify, except that a JsonText, as the value or as a field of the value, prints as its text. */
function print(value: unknown): string {
  if (value instanceof JsonText) return value.text;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  const fields = Object.entries(value);
  if (!fields.some(([, item]) => item instanceof JsonText)) return JSON.stringify(value);
  const printed: string[] = [];
  for (const [key, item] of fields) {
    if (item !== undefined) printed.push(`${JSON.stringify(key)}:${print(item)}`);
  }
  return `{${printed.join(',')}}`;
}

/**
 * Fastify's response serializer for the routes' zod schemas. zod's encode checks and rebuilds every response, which
 * cost more CPU than the rest of a cached list request; the routes build their responses from typed rows, so a
 * projection onto the declared fields, then JSON.stringify, prints the same bytes. Schemas a projection cannot
 * reproduce keep zod's serializer. A JsonText in the response is printed as it is.
 */
export const serializerCompiler: FastifySerializerCompiler<z.core.$ZodType> = (route) => {
  const projection = route.schema && '_zod' in route.schema ? projectionOf(route.schema) : null;
  if (projection === null) return zodSerializerCompiler(route);
  return (data) => print(data instanceof JsonText ? data : projection(data));
};
